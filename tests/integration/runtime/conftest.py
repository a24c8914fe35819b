"""Real daemons on loopback: one 3-node sandbox shared by the runtime tests.

Every daemon is a `hactl daemon` process (knet with crypto on 127.0.0.x, one free port);
nothing is a double. Forming a cluster costs seconds, so the tests share one
(``cluster``); before each test it is brought back to a known state: faults healed,
every node running (a node that was down starts with an empty HA_RSCTMP, as after a
reboot), the ring formed and quorate, the configuration the one it had when it formed
(resources a test made are stopped as orphans), and no operation history or fail count
of resources that are not configured. If it cannot be brought back, a new one is made.
A test that changes what cannot be undone (the nodelist) takes ``fresh_cluster``.
Daemons are killed by pid (their process groups: agents too) and directories removed at
the end, whatever happened.
"""

from __future__ import annotations

import datetime as dt
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
from lxml import etree

from hactl.core.cib.document import CibDocument
from hactl.core.cib.patch import diff, is_empty_patch
from hactl.core.daemon import client
from hactl.core.daemon.sandbox import Sandbox
from hactl.core.errors import HactlError

#: token 1000 ms + consensus 1200 ms (the sandbox's totem) + start-up and slack
FORM_TIMEOUT = 60.0
#: a test's resources stopped after the configuration is reset
RESET_TIMEOUT = 30.0


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
            n: v and {k: v.get(k) for k in ("members", "phase", "dc", "quorate")}
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
    # its daemons end with this process, unless they are kept to be looked at
    owner = None if os.environ.get("HACTL_KEEP_SANDBOX") else os.getpid()
    sandbox.create(count, owner_pid=owner)
    for name in sandbox.nodes():
        sandbox.start(name)
    return sandbox


def stop_cluster(sandbox: Sandbox) -> None:
    """Kill every daemon of the sandbox with its agents (a test's end needs no clean stop),
    by process group: each daemon leads its own session."""
    if os.environ.get("HACTL_KEEP_SANDBOX"):  # to look at a failure: `hactl sandbox down` it
        print(f"kept: HACTL_SANDBOX_DIR={sandbox.root}")
        return
    if sandbox.exists():
        sandbox.kill_all()
    shutil.rmtree(sandbox.root, ignore_errors=True)


def _wait(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except HactlError:
            pass
        time.sleep(0.05)
    return False


def _active_primitives(cib: etree._Element) -> list[str]:
    from hactl.core.scheduler import unpack

    ws = unpack.unpack(cib, dt.datetime.now())
    return [r.id for r in ws.all_resources() if r.is_primitive and r.running_on]


def _forget_unconfigured(doc: CibDocument) -> CibDocument:
    """``doc`` without the history and fail counts of resources it does not configure."""
    cleaned = doc.copy()
    root = cleaned.root
    configured = {e.get("id") for e in root.iterfind("configuration/resources//primitive")}
    for entry in root.iterfind("status/node_state/lrm/lrm_resources/lrm_resource"):
        if entry.get("id", "").split(":")[0] not in configured:
            entry.getparent().remove(entry)
    for nvpair in root.iterfind("status/node_state/transient_attributes//nvpair"):
        if nvpair.get("name", "").startswith(("fail-count-", "last-failure-")):
            nvpair.getparent().remove(nvpair)
    return cleaned


class SharedCluster:
    """One sandbox for the tests, restored before each of them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.generation = 0
        self.sandbox = self._new()

    def _new(self) -> Sandbox:
        self.generation += 1
        sandbox = start_cluster(self.root / f"sandbox{self.generation}", 3)
        try:
            if not _wait(lambda: sandbox.formed(sandbox.nodes()), FORM_TIMEOUT):
                pytest.fail("a new 3-node sandbox did not form")
            doc = CibDocument.from_bytes(sandbox.call("node1", "cib.get")["cib"].encode())
            self.configuration = etree.tostring(doc.configuration)
        except BaseException:
            stop_cluster(sandbox)
            raise
        return sandbox

    def restore(self) -> None:
        try:
            if self._restored():
                return
        except HactlError:
            pass
        print("the shared sandbox could not be restored: a new one is made")
        stop_cluster(self.sandbox)
        self.sandbox = self._new()

    def _restored(self) -> bool:
        sandbox = self.sandbox
        names = sandbox.nodes()
        for name in names:
            if not sandbox.alive(name):
                shutil.rmtree(sandbox.state_dir(name) / "rsctmp", ignore_errors=True)
                sandbox.start(name)
            else:
                sandbox.call(name, "fault", block=[])
        if not _wait(lambda: sandbox.formed(names), FORM_TIMEOUT):
            return False
        node = names[0]

        def fetch() -> CibDocument:
            return CibDocument.from_bytes(sandbox.call(node, "cib.get")["cib"].encode())

        def push(current: CibDocument, configuration: etree._Element) -> None:
            wanted = current.copy()
            wanted.root.replace(wanted.configuration, configuration)
            sandbox.call(
                node,
                "cib.push",
                cib=wanted.serialize(pretty=False).decode(),
                base=list(current.versions()[:2]),
            )

        def settled() -> bool:
            return not _active_primitives(fetch().root)

        current = fetch()
        if etree.tostring(current.configuration) != self.configuration:
            # the test's resources go first, under the test's cluster options: with fencing
            # enabled and no fence device (the baseline), nothing would stop them
            without_resources = etree.fromstring(self.configuration)
            without_resources.replace(
                without_resources.find("crm_config"), current.configuration.find("crm_config")
            )
            push(current, without_resources)
            if not _wait(settled, RESET_TIMEOUT):
                return False
            current = fetch()
            push(current, etree.fromstring(self.configuration))
        if not _wait(settled, RESET_TIMEOUT):
            return False
        current = fetch()
        patch = diff(current, _forget_unconfigured(current))
        if not is_empty_patch(patch):
            sandbox.call(node, "cib.patch", patch=etree.tostring(patch).decode())
        return _wait(lambda: len({sandbox.call(n, "cib.get")["cib"] for n in names}) == 1, 10.0)


@pytest.fixture(scope="session")
def shared_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedCluster]:
    shared = SharedCluster(tmp_path_factory.mktemp("shared-sandbox"))
    try:
        yield shared
    finally:
        stop_cluster(shared.sandbox)


@pytest.fixture
def cluster(shared_cluster: SharedCluster) -> Cluster:
    """The shared 3-node sandbox, formed, quorate and as it was when it formed."""
    shared_cluster.restore()
    return Cluster(shared_cluster.sandbox)


@pytest.fixture
def fresh_cluster(tmp_path: Path) -> Iterator[Cluster]:
    """A 3-node sandbox of the test's own (for changes no restore undoes)."""
    sandbox = start_cluster(tmp_path / "sandbox", 3)
    try:
        handle = Cluster(sandbox)
        handle.wait(lambda: handle.formed(sandbox.nodes()), FORM_TIMEOUT, "formed")
        yield handle
    finally:
        stop_cluster(sandbox)
