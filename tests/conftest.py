"""Shared test fixtures. Tests needing a real counterpart skip, saying why, when it is absent."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator

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


PLUGIN_DISTS = os.path.join(os.path.dirname(__file__), "plugin_dists")


@pytest.fixture(scope="session")
def install_plugin_dist(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], str]:
    """``install_plugin_dist("hactl_acme")`` builds the third-party distribution kept in
    tests/plugin_dists/ and installs it into a private site directory (returned), as a
    vendor's package would be installed; the test puts that directory on the path."""
    import shutil
    import subprocess
    import sys

    sites: dict[str, str] = {}

    def install(name: str) -> str:
        if name not in sites:
            source = tmp_path_factory.mktemp("src") / name
            shutil.copytree(os.path.join(PLUGIN_DISTS, name), source)
            site = tmp_path_factory.mktemp("site")
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "--no-deps",
                    "--no-build-isolation",
                    "--target",
                    str(site),
                    str(source),
                ],
                check=True,
                capture_output=True,
            )
            sites[name] = str(site)
        return sites[name]

    return install


@pytest.fixture(autouse=True)
def _restore_environment() -> Iterator[None]:
    """Commands run in-process set process-wide variables (``-f`` sets CIB_file,
    ``--sandbox`` the socket and state directory); one test's must not reach the next
    test's daemons and agents."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
