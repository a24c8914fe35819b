"""Running an agent program: no shell, a deadline, and a result a person can read.

Both OCF and LSB agents are programs run with one action argument; this module runs them
(async for the executor, sync for meta-data and the command line) and reports what
happened without ever raising for what the program did: a missing or non-executable
file, a hang or a signal becomes a :class:`ProgramOutcome` whose ``failure`` says so.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from hactl.core.drivers import OcfRc, OperationResult, OperationStatus
from hactl.core.errors import UsageError

#: how much of stdout and stderr a result keeps (the end: where agents say what failed)
TAIL_CHARS = 4096
#: the prefix of the stderr line an OCF agent uses to say why it failed
EXIT_REASON_PREFIX = "ocf-exit-reason:"


@dataclass(frozen=True)
class ProgramOutcome:
    """How one run of an agent program ended."""

    exit_code: int | None  # None when it did not exit by itself (timeout, not runnable)
    stdout: str
    stderr: str
    duration_ms: int
    status: OperationStatus = OperationStatus.DONE
    failure: str = ""  # why the program did not answer, for people

    @property
    def exit_reason(self) -> str:
        """What follows the last ``ocf-exit-reason:`` on stderr, to the end of its line
        (where Pacemaker looks for it: anywhere, the last one winning)."""
        found = self.stderr.rfind(EXIT_REASON_PREFIX)
        if found < 0:
            return ""
        return self.stderr[found + len(EXIT_REASON_PREFIX) :].split("\n", 1)[0].strip()

    def to_result(self, rc: int, reason: str = "", *, agent_reason: bool = True) -> OperationResult:
        """The OperationResult with OCF code ``rc``; ``reason`` overrides the agent's own
        exit reason, which only OCF agents give (``agent_reason``)."""
        return OperationResult(
            rc=rc,
            status=self.status,
            stdout_tail=self.stdout[-TAIL_CHARS:],
            stderr_tail=self.stderr[-TAIL_CHARS:],
            duration_ms=self.duration_ms,
            exit_reason=reason or self.failure or (self.exit_reason if agent_reason else ""),
        )


def unrunnable(program: Path, name: str) -> ProgramOutcome | None:
    """The outcome for a program that cannot be run at all, or None when it can."""
    if not program.exists():
        return ProgramOutcome(
            None, "", "", 0, OperationStatus.NOT_INSTALLED, f"{name}: {program} does not exist"
        )
    if not program.is_file():
        return ProgramOutcome(
            None, "", "", 0, OperationStatus.NOT_INSTALLED, f"{name}: {program} is not a file"
        )
    if not os.access(program, os.X_OK):
        return ProgramOutcome(
            None,
            "",
            "",
            0,
            OperationStatus.ERROR,
            f"{name}: {program} is not executable (chmod +x it)",
        )
    return None


def invalid_agent_result(error: UsageError) -> OperationResult:
    """The result for a request whose agent name cannot name an agent at all."""
    return OperationResult(
        rc=OcfRc.ERR_INSTALLED, status=OperationStatus.NOT_INSTALLED, exit_reason=error.message
    )


def not_run_result(outcome: ProgramOutcome) -> OperationResult:
    """The OCF result of a program that could not be run, as Pacemaker reports it."""
    rc = (
        OcfRc.ERR_INSTALLED
        if outcome.status == OperationStatus.NOT_INSTALLED
        else (OcfRc.ERR_PERM if "not executable" in outcome.failure else OcfRc.ERR_GENERIC)
    )
    return outcome.to_result(rc)


def _read(capture: IO[bytes]) -> str:
    capture.seek(0)
    return capture.read().decode("utf-8", errors="replace")


def _finish(
    name: str,
    exit_code: int | None,
    captures: tuple[IO[bytes], IO[bytes]],
    started: float,
    timeout_ms: int,
) -> ProgramOutcome:
    duration_ms = int((time.monotonic() - started) * 1000)
    stdout, stderr = _read(captures[0]), _read(captures[1])
    if exit_code is None:
        return ProgramOutcome(
            None,
            stdout,
            stderr,
            duration_ms,
            OperationStatus.TIMED_OUT,
            f"{name} did not finish within {timeout_ms} ms and was killed",
        )
    if exit_code < 0:
        signame = signal.Signals(-exit_code).name if -exit_code in signal.valid_signals() else ""
        return ProgramOutcome(
            None,
            stdout,
            stderr,
            duration_ms,
            OperationStatus.ERROR,
            f"{name} was killed by signal {-exit_code} {signame}".rstrip(),
        )
    return ProgramOutcome(exit_code, stdout, stderr, duration_ms)


def _kill_group(pid: int) -> None:
    """As Pacemaker on a timeout: SIGKILL to the agent's whole process group at once."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _cannot_start(name: str, program: Path, exc: OSError) -> ProgramOutcome:
    # a bad interpreter line, ENOEXEC, …
    return ProgramOutcome(
        None, "", "", 0, OperationStatus.ERROR, f"{name}: cannot run {program}: {exc.strerror}"
    )


# Output goes to temporary files, not pipes: a daemon the agent starts may keep its
# inherited stdout open for ever, and the action is over when the agent exits (as in
# Pacemaker), not when every holder of the pipe has closed it.


async def run_program(
    argv: Sequence[str], env: Mapping[str, str], timeout_ms: int, *, name: str
) -> ProgramOutcome:
    """Run ``argv`` (never through a shell) and wait at most ``timeout_ms``; on timeout the
    program's whole process group is killed with SIGKILL (its helpers die with it)."""
    import asyncio

    program = Path(argv[0])
    blocked = unrunnable(program, name)
    if blocked is not None:
        return blocked
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        except OSError as exc:
            return _cannot_start(name, program, exc)
        try:
            exit_code: int | None = await asyncio.wait_for(process.wait(), timeout_ms / 1000)
        except TimeoutError:
            _kill_group(process.pid)
            await process.wait()
            exit_code = None
        return _finish(name, exit_code, (out, err), started, timeout_ms)


def run_program_sync(
    argv: Sequence[str], env: Mapping[str, str], timeout_ms: int, *, name: str
) -> ProgramOutcome:
    """:func:`run_program` for callers without an event loop (meta-data, the CLI)."""
    program = Path(argv[0])
    blocked = unrunnable(program, name)
    if blocked is not None:
        return blocked
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        try:
            process = subprocess.Popen(
                list(argv),
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        except OSError as exc:
            return _cannot_start(name, program, exc)
        exit_code: int | None
        try:
            exit_code = process.wait(timeout=timeout_ms / 1000)
        except subprocess.TimeoutExpired:
            _kill_group(process.pid)
            process.wait()
            exit_code = None
        return _finish(name, exit_code, (out, err), started, timeout_ms)
