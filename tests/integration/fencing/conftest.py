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


@pytest.fixture(autouse=True)
def private_metadata_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Fence-agent metadata is cached on disk: each test gets its own cache."""
    directory = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("HACTL_CACHE_DIR", str(directory))
    return directory
