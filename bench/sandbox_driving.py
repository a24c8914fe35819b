"""What the sandbox benchmarks share: waiting for a condition and running `hactl` against a
sandbox node (benchmarks run as `python bench/NAME.py`, so this module sits beside them)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable

from hactl.core.daemon.sandbox import Sandbox


def until(predicate: Callable[[], bool], timeout: float, what: str) -> float:
    """Seconds until ``predicate()`` held (polled every 10 ms); exits after ``timeout``."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            if predicate():
                return time.monotonic() - start
        except Exception:  # a node that does not answer yet
            pass
        time.sleep(0.01)
    raise SystemExit(f"timed out after {timeout}s waiting for {what}")


def hactl(sandbox: Sandbox, node: str, *args: str) -> None:
    """Run one hactl command on a sandbox node; exits with its error when it fails."""
    env = {**os.environ, "HACTL_SANDBOX_DIR": str(sandbox.root)}
    env.pop("CIB_file", None)  # the live cluster, never a file
    done = subprocess.run(
        [sys.executable, "-m", "hactl.core.cli.main", "--sandbox", node, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    if done.returncode:
        raise SystemExit(f"hactl {' '.join(args)}: {done.stderr.strip()}")
