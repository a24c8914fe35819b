"""Fixtures for the agent-class tests: the real agents installed here, test agents kept
beside this file (resource.d/broken), and a recorder standing in for cluster tools."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from hactl.core.drivers import AgentClass, OperationRequest, OperationResult
from hactl.plugins.agents.ocf import OcfAgentClass

TEST_AGENTS = Path(__file__).parent / "resource.d"
SYSTEM_OCF = Path("/usr/lib/ocf/resource.d")


def run(agent_class: AgentClass, request: OperationRequest) -> OperationResult:
    return asyncio.run(agent_class.execute(request))


@pytest.fixture
def ocf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> OcfAgentClass:
    """The ocf class with the test agents as an extra directory; agents' temporary state
    (HA_RSCTMP) goes to the test's own directory."""
    monkeypatch.setenv("HA_RSCTMP", str(tmp_path / "rsctmp"))
    (tmp_path / "rsctmp").mkdir()
    return OcfAgentClass(extra_dirs=[TEST_AGENTS])


def require_system_agent(provider: str, agent: str) -> None:
    if not os.access(SYSTEM_OCF / provider / agent, os.X_OK):
        pytest.skip(f"ocf:{provider}:{agent} is not installed (.ci/run installs it)")


@pytest.fixture
def tool_recorder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A test double for crm_attribute and attrd_updater (no cluster runs here): programs
    of those names, first on PATH and in HA_SBIN_DIR, that append their arguments to a
    log. Yields the log's path."""
    bindir = tmp_path / "sbin"
    bindir.mkdir()
    log = tmp_path / "tools.log"
    for name in ("crm_attribute", "attrd_updater"):
        tool = bindir / name
        tool.write_text(
            "#!/usr/bin/env python3\n"
            "import os, sys\n"
            f"with open({str(log)!r}, 'a') as out:\n"
            f"    out.write(' '.join([{name!r}, *sys.argv[1:]]) + ' instance='"
            " + os.environ.get('OCF_RESOURCE_INSTANCE', '') + '\\n')\n"
        )
        tool.chmod(tool.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    monkeypatch.setenv("HA_SBIN_DIR", str(bindir))
    log.touch()
    yield log
