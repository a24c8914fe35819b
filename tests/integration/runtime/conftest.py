"""Real daemons on loopback: a sandbox cluster per test, torn down by pid afterwards.

Every daemon is a `hactl daemon` process (udpu on 127.0.0.x, one free port); nothing is a
double. The fixture stops what it started (SIGTERM, then SIGKILL by pid) and removes its
directory even when the test fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hactl.core.daemon import client
from hactl.core.daemon.sandbox import Sandbox

#: token 1000 ms + consensus 1200 ms (the sandbox's totem) + start-up and slack
FORM_TIMEOUT = 60.0


@dataclass
class Result:
    code: int
    out: str
    err: str


@dataclass
class Cluster:
    sandbox: Sandbox

    def hactl(self, *args: str, node: str | None = None, timeout: float = 60) -> Result:
        prefix = ["--sandbox", node] if node else []
        env = {**os.environ, "HACTL_SANDBOX_DIR": str(self.sandbox.root)}
        env.pop("CIB_file", None)
        done = subprocess.run(
            [sys.executable, "-m", "hactl.core.cli.main", *prefix, *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    def status(self, node: str) -> dict[str, Any]:
        result: dict[str, Any] = self.sandbox.call(node, "status")
        return result

    def wait(self, predicate: Any, timeout: float, what: str) -> float:
        """Seconds it took until ``predicate()`` held; fails the test after ``timeout``."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            try:
                if predicate():
                    return time.monotonic() - start
            except client.DaemonUnreachable:
                pass
            time.sleep(0.05)
        views = self.sandbox.views()
        summary = {
            n: v and {k: v[k] for k in ("members", "phase", "dc", "quorate")}
            for n, v in views.items()
        }
        pytest.fail(f"not {what} within {timeout}s: {summary}")

    def formed(self, names: list[str]) -> bool:
        return self.sandbox.formed(names)

    def members_seen(self, node: str) -> list[int]:
        members: list[int] = self.status(node)["members"]
        return members


def start_cluster(root: Path, count: int) -> Sandbox:
    sandbox = Sandbox(root)
    sandbox.create(count)
    for name in sandbox.nodes():
        sandbox.start(name)
    return sandbox


def stop_cluster(sandbox: Sandbox) -> None:
    if sandbox.exists():
        sandbox.down()  # every daemon of it, by pid, then its directory
    shutil.rmtree(sandbox.root, ignore_errors=True)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    sandbox = start_cluster(tmp_path / "sandbox", 3)
    try:
        handle = Cluster(sandbox)
        names = sandbox.nodes()
        handle.wait(lambda: handle.formed(names), FORM_TIMEOUT, "formed")
        yield handle
    finally:
        stop_cluster(sandbox)
