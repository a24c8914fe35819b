"""A third-party plugin distribution (tests/plugin_dists/hactl_acme) is built, installed
into a private site directory, and then discovered and used through entry points exactly
as a bundled plugin is; its deliberately broken plugins are reported without breaking it."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from hactl.core.drivers import OperationRequest
from hactl.core.errors import PluginError
from hactl.core.plugins import PluginHost


@pytest.fixture(scope="module")
def acme_site(install_plugin_dist: Callable[[str], str]) -> Path:
    return Path(install_plugin_dist("hactl_acme"))


@pytest.fixture
def acme_host(acme_site: Path, monkeypatch: pytest.MonkeyPatch) -> PluginHost:
    monkeypatch.syspath_prepend(str(acme_site))
    return PluginHost()


def _hactl(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run(
        [sys.executable, "-m", "hactl.core.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_plugins_list_shows_the_installed_distribution(acme_site: Path) -> None:
    result = _hactl(acme_site, "plugins", "list", "--output", "json")
    assert result.returncode == 0, result.stderr
    records = {(r["category"], r["name"]): r for r in json.loads(result.stdout)}
    fence = records[("fencing", "fence_acme")]
    assert (fence["distribution"], fence["version"], fence["status"]) == (
        "hactl-acme",
        "1.2.3",
        "loaded",
    )
    assert records[("agents", "acme")]["status"] == "loaded"


def test_broken_plugins_are_reported_by_name_with_reason(acme_site: Path) -> None:
    result = _hactl(acme_site, "plugins", "list", "--output", "json")
    records = {r["name"]: r for r in json.loads(result.stdout)}
    broken = records["acme-broken-import"]
    assert broken["status"] == "broken"
    assert "hactl_acme_missing_dependency" in broken["reason"]
    typo = records["acme-unknown-hook"]
    assert typo["status"] == "broken"
    assert "hactl_fence_agnet" in typo["reason"]


def test_plugins_list_text_names_the_broken_ones(acme_site: Path) -> None:
    result = _hactl(acme_site, "plugins", "list")
    assert result.returncode == 0
    line = next(ln for ln in result.stdout.splitlines() if "acme-broken-import" in ln)
    assert "broken" in line and "ModuleNotFoundError" in line


def test_third_party_fence_device_fences(acme_host: PluginHost, tmp_path: Path) -> None:
    agent = acme_host.fence_agent("fence_acme")
    params = {"state_dir": str(tmp_path)}
    off = asyncio.run(agent.execute("off", params, "node2", 5000))
    assert off.succeeded and off.power_state == "off"
    assert (tmp_path / "node2.power").read_text() == "off"
    assert asyncio.run(agent.execute("status", params, "node2", 5000)).power_state == "off"
    assert "fence_acme" in acme_host.list_fence_agents()


def test_third_party_agent_class_runs_an_agent(
    acme_host: PluginHost, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "websrv"
    script.write_text('#!/bin/sh\necho "acting: $1 on port $ACME_PORT"\n[ "$1" = start ]\n')
    script.chmod(0o755)
    monkeypatch.setenv("ACME_AGENT_DIR", str(tmp_path))
    agent_class = acme_host.agent_class("acme")
    request = OperationRequest("web", "acme:websrv", "start", params={"port": "8080"})
    result = asyncio.run(agent_class.execute(request))
    assert result.rc == 0 and "acting: start on port 8080" in result.stdout_tail
    failed = asyncio.run(agent_class.execute(OperationRequest("web", "acme:websrv", "stop")))
    assert failed.rc == 1
    assert "acme:websrv" in acme_host.list_agents()


def test_other_plugins_work_beside_a_broken_one(acme_host: PluginHost) -> None:
    records = {r.name: r for r in acme_host.load("hooks")}
    assert records["acme-broken-import"].status == "broken"
    assert acme_host.fence_agent("fence_acme").name == "fence_acme"


def test_a_disabled_plugin_is_not_loaded(acme_site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(acme_site))
    monkeypatch.setenv("HACTL_DISABLED_PLUGINS", "fencing:fence_acme")
    host = PluginHost()
    with pytest.raises(PluginError, match="fence_acme.*disabled"):
        host.fence_agent("fence_acme")
