"""A sandbox's daemons end with the process that owns it (hactl.core.daemon.owner), however
that process ended: here a helper that started the sandbox is killed with SIGKILL, which
no cleanup code of its own can answer."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hactl.core.daemon.owner import Owner, process_start
from hactl.core.daemon.sandbox import Sandbox
from hactl.core.errors import UsageError

#: what the helper runs: a 2-node sandbox it owns, then it waits to be killed
HELPER = """
import os, sys, time
from pathlib import Path
from hactl.core.daemon.sandbox import Sandbox
sandbox = Sandbox(Path(sys.argv[1]))
sandbox.create(2, owner_pid=os.getpid())
for name in sandbox.nodes():
    sandbox.start(name)
print("started", flush=True)
time.sleep(300)
"""


def _daemon_pids(sandbox: Sandbox) -> list[int]:
    return [entry["pid"] for entry in sandbox.record()["nodes"] if entry["pid"]]


def _running(pid: int) -> bool:
    return process_start(pid) is not None


def test_the_daemons_end_once_their_owner_is_killed(tmp_path: Path) -> None:
    sandbox = Sandbox(tmp_path / "sandbox")
    helper = subprocess.Popen(
        [sys.executable, "-c", HELPER, str(sandbox.root)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert helper.stdout is not None
        assert helper.stdout.readline().strip() == "started"
        pids = _daemon_pids(sandbox)
        assert len(pids) == 2
        assert sandbox.record()["owner"] == str(Owner.of(helper.pid))
        # the daemons run (and watch their owner) once their start-up checks passed
        deadline = time.monotonic() + 30
        while not all(sandbox.socket(n).exists() for n in sandbox.nodes()):
            assert time.monotonic() < deadline, "the daemons did not start"
            time.sleep(0.05)
        assert all(_running(pid) for pid in pids)

        os.kill(helper.pid, signal.SIGKILL)
        helper.wait(5)
        killed = time.monotonic()
        while any(_running(pid) for pid in pids):
            if time.monotonic() - killed > 5:
                pytest.fail(f"daemons still running 5 s after their owner died: {pids}")
            time.sleep(0.05)
        log = (sandbox.root / "node1" / "daemon.log").read_text()
        assert "the owner of this daemon" in log
    finally:
        if helper.poll() is None:
            helper.kill()
            helper.wait(5)
        if sandbox.exists():
            sandbox.kill_all()


def test_an_owner_that_is_not_running_is_refused(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(10)
    sandbox = Sandbox(tmp_path / "sandbox")
    with pytest.raises(UsageError, match="no process .* is running"):
        sandbox.create(1, owner_pid=dead.pid)
    assert not sandbox.exists()


def test_an_owner_is_its_pid_and_start_time() -> None:
    me = Owner.of(os.getpid())
    assert me.alive() and Owner.parse(str(me)) == me
    assert not Owner(me.pid, me.start + 1).alive()  # the pid taken by another process
