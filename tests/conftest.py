"""Shared test fixtures. Tests needing a real counterpart skip, saying why, when it is absent."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable

import pytest


def _find_tool(name: str) -> str:
    path = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/sbin/{name}") if os.path.exists(p)), None
    )
    if path is None:
        pytest.skip(f"{name} is not installed (.ci/run installs it)")
    return path


@pytest.fixture
def require_tool() -> Callable[[str], str]:
    """``require_tool("crm_verify")`` gives the program's path, or skips the test."""
    return _find_tool
