"""Fixtures of the fencing integration tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.fixture
def recorder_on_path(monkeypatch: pytest.MonkeyPatch) -> str:
    """Put tests/integration/fencing (holding the fence_recorder program) first on PATH."""
    monkeypatch.setenv("PATH", f"{HERE}{os.pathsep}{os.environ.get('PATH', '')}")
    return "fence_recorder"
