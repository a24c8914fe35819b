"""Run `hactl` in-process (the real CLI entry point, argv as a user types it) and check
CIB files with the real crm_verify."""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from hactl.core.cli import main


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def hactl(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[[str], Result]:
    """``hactl("-f cib.xml resource create …")`` -> exit code, stdout, stderr."""

    def run(command: str) -> Result:
        monkeypatch.delenv("CIB_file", raising=False)
        code = 0
        try:
            main.run(shlex.split(command))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def crm_verify(
    require_tool: Callable[[str], str],
) -> Callable[[Path], subprocess.CompletedProcess[str]]:
    tool = require_tool("crm_verify")

    def verify(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [tool, "-x", str(path), "-V"],
            capture_output=True,
            text=True,
            timeout=60,
            env={
                "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
                "LC_ALL": "C",
                "CIB_shadow_dir": str(path.parent),
            },
            check=False,
        )

    return verify
