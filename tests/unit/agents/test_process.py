"""Running agent programs: exit reasons as Pacemaker finds them, deadlines, signals."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from hactl.core.drivers import OperationStatus
from hactl.plugins.agents.process import ProgramOutcome, run_program_sync


def outcome(stderr: str) -> ProgramOutcome:
    return ProgramOutcome(exit_code=1, stdout="", stderr=stderr, duration_ms=1)


def test_exit_reason_is_the_last_one_anywhere_on_stderr() -> None:
    assert outcome("").exit_reason == ""
    assert outcome("ocf-exit-reason:disk full\n").exit_reason == "disk full"
    text = "ocf-exit-reason:first\nnoise ocf-exit-reason:second one\ntrailing\n"
    assert outcome(text).exit_reason == "second one"
    assert outcome("ocf-exit-reason:\n").exit_reason == ""


def script(tmp_path: Path, body: str) -> str:
    path = tmp_path / "prog"
    path.write_text(f"#!{sys.executable}\n{body}\n")
    path.chmod(0o755)
    return str(path)


def test_sync_runs_report_each_ending(tmp_path: Path) -> None:
    env = dict(os.environ)
    done = run_program_sync(
        [script(tmp_path, "print('hi'); raise SystemExit(7)")], env, 10_000, name="prog"
    )
    assert (done.exit_code, done.stdout, done.status) == (7, "hi\n", OperationStatus.DONE)
    hung = run_program_sync(
        [script(tmp_path, "import time; time.sleep(60)")], env, 300, name="prog"
    )
    assert hung.status == OperationStatus.TIMED_OUT and hung.exit_code is None
    assert hung.failure == "prog did not finish within 300 ms and was killed"
    killed = run_program_sync(
        [script(tmp_path, "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")],
        env,
        10_000,
        name="prog",
    )
    assert killed.status == OperationStatus.ERROR and "signal 11 SIGSEGV" in killed.failure
    bad = tmp_path / "bad"
    bad.write_text("#!/no/such/interpreter\n")
    bad.chmod(0o755)
    unrunnable = run_program_sync([str(bad)], env, 1000, name="bad")
    assert unrunnable.status == OperationStatus.ERROR and "cannot run" in unrunnable.failure
    missing = run_program_sync([str(tmp_path / "nothing")], env, 1000, name="x")
    assert missing.status == OperationStatus.NOT_INSTALLED and "does not exist" in missing.failure
