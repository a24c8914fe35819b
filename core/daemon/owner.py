"""An owner lease: a daemon started with ``--owner PID:START`` ends itself, with the agents
of its process group, once that process is gone.

For daemons that belong to a short-lived owner (a test session's sandbox, a benchmark): an
owner killed with SIGKILL cannot stop them, and they would run on. The owner is named by
its pid and its start time (field 22 of /proc/PID/stat, in clock ticks since boot), so a
pid the kernel gives to another process later is not taken for the owner; a zombie owner
counts as gone. PR_SET_PDEATHSIG would need the owner to be the daemon's parent (and
fires when the parent *thread* ends); the lease works for any owner, and survives the
daemon's re-execution (`cluster stop|start`), which keeps its command line.

The check runs in a thread of its own, so a busy event loop (a scheduler run over
thousands of resources) does not delay it.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from dataclasses import dataclass
from pathlib import Path

from hactl.core.errors import UsageError

log = logging.getLogger("hactl.daemon")

#: how often a daemon looks for its owner
CHECK_INTERVAL_S = 0.5


@dataclass(frozen=True)
class Owner:
    pid: int
    start: int  # clock ticks after boot when the process started

    @classmethod
    def parse(cls, text: str) -> Owner:
        """``PID:START`` as :meth:`__str__` writes it, or a bare ``PID`` of a live process."""
        pid_text, _, start_text = text.partition(":")
        try:
            pid = int(pid_text)
            start = int(start_text) if start_text else process_start(pid)
        except ValueError:
            raise UsageError(
                f"owner {text!r} is not PID or PID:START", where="--owner", hint="e.g. --owner $$"
            ) from None
        if start is None or pid <= 0:
            raise UsageError(f"no process {pid_text} is running", where="--owner")
        return cls(pid, start)

    @classmethod
    def of(cls, pid: int) -> Owner:
        """The running process ``pid`` as an owner."""
        return cls.parse(str(pid))

    def __str__(self) -> str:
        return f"{self.pid}:{self.start}"

    def alive(self) -> bool:
        return process_start(self.pid) == self.start


def proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (the state first, then the
    parent pid …); None when the process is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return None
    # the command name (in parentheses) may hold spaces: fields are counted after it
    return stat.rsplit(")", 1)[1].split()


def process_start(pid: int) -> int | None:
    """When ``pid`` started (clock ticks after boot); None when it is gone or a zombie."""
    fields = proc_stat(pid)
    if fields is None or fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def end_with(owner: Owner, interval_s: float = CHECK_INTERVAL_S) -> threading.Thread:
    """Watch ``owner`` from a thread; when it is gone, SIGKILL this process (and its
    process group, the agents it runs, when it leads one)."""

    def watch() -> None:
        stop = threading.Event()
        while owner.alive():
            stop.wait(interval_s)
        log.warning("the owner of this daemon (pid %d) is gone: the daemon ends", owner.pid)
        for handler in logging.getLogger().handlers:
            handler.flush()
        if os.getpgrp() == os.getpid():
            os.killpg(os.getpid(), signal.SIGKILL)
        os.kill(os.getpid(), signal.SIGKILL)

    thread = threading.Thread(target=watch, name="owner-lease", daemon=True)
    thread.start()
    return thread
