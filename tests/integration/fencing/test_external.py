"""The ``external`` fence plugin: any fence-agents program through the stdin protocol,
with the real fence_dummy and with fence_recorder (a protocol-speaking test program)."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import pytest

from hactl.core.errors import PluginError, UsageError, ValidationError
from hactl.core.fencemeta import MASK
from hactl.core.plugins import PluginHost
from hactl.plugins.fencing.external import ExternalFenceAgent, installed_agents
from hactl.plugins.fencing.sbd import SbdFenceAgent


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_fence_dummy_powers_off_and_on(require_tool, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    require_tool("fence_dummy")
    agent = PluginHost().fence_agent("fence_dummy")
    assert isinstance(agent, ExternalFenceAgent)
    params = {"status_file": str(tmp_path / "power")}
    assert run(agent.execute("on", params, "node1", 20_000)).succeeded
    status = run(agent.execute("status", params, "node1", 20_000))
    assert (status.succeeded, status.power_state) == (True, "on")
    assert run(agent.execute("off", params, "node1", 20_000)).succeeded
    assert run(agent.execute("status", params, "node1", 20_000)).power_state == "off"
    assert (tmp_path / "power").read_text().strip() == "off"  # what fence_dummy keeps


def test_fence_dummy_metadata_and_parameter_check(require_tool) -> None:  # type: ignore[no-untyped-def]
    require_tool("fence_dummy")
    agent = PluginHost().fence_agent("fence_dummy")
    assert "fence_dummy" in agent.metadata()
    with pytest.raises(ValidationError) as caught:
        agent.validate({"status_fil": "/tmp/x", "random_sleep_range": "abc"})
    text = "\n".join(caught.value.lines())
    assert "no parameter 'status_fil'" in text and "did you mean 'status_file'" in text


def test_specific_plugins_win_over_the_program_of_the_same_name(require_tool) -> None:  # type: ignore[no-untyped-def]
    require_tool("fence_sbd")
    host = PluginHost()
    assert isinstance(host.fence_agent("fence_sbd"), SbdFenceAgent)
    assert "fence_dummy" in host.list_fence_agents() or not installed_agents()


def test_password_goes_on_stdin_never_in_argv(recorder_on_path: str, tmp_path: Path) -> None:
    agent = PluginHost().fence_agent(recorder_on_path)
    record = tmp_path / "request.json"
    params = {
        "state_file": str(tmp_path / "s"),
        "record": str(record),
        "username": "admin",
        "password": "correct horse",
        "pcmk_host_list": "node1",
    }
    result = run(agent.execute("off", params, "node1", 20_000))
    assert result.succeeded and result.power_state == "off"
    seen = json.loads(record.read_text())
    assert not any("correct horse" in arg for arg in seen["argv"])
    assert seen["stdin"]["password"] == "correct horse"
    assert seen["stdin"]["action"] == "off"
    assert seen["stdin"]["plug"] == "node1" and seen["stdin"]["nodename"] == "node1"
    assert "pcmk_host_list" not in seen["stdin"]  # the fencer's own parameters stay here


def test_an_explicit_plug_is_kept(recorder_on_path: str, tmp_path: Path) -> None:
    agent = PluginHost().fence_agent(recorder_on_path)
    record = tmp_path / "request.json"
    params = {"state_file": str(tmp_path / "s"), "record": str(record), "port": "7"}
    run(agent.execute("status", params, "node1", 20_000))
    sent = json.loads(record.read_text())["stdin"]
    assert sent["port"] == "7" and "plug" not in sent


def test_secrets_are_scrubbed_from_agent_output(recorder_on_path: str, tmp_path: Path) -> None:
    agent = PluginHost().fence_agent(recorder_on_path)
    params = {"state_file": str(tmp_path / "s"), "password": "hunter22", "leak": "1"}
    result = run(agent.execute("on", params, None, 20_000))
    assert "hunter22" not in result.output and MASK in result.output


def test_status_of_an_unreachable_device_fails(recorder_on_path: str, tmp_path: Path) -> None:
    agent = PluginHost().fence_agent(recorder_on_path)
    result = run(agent.execute("status", {"state_file": str(tmp_path / "none")}, None, 20_000))
    assert not result.succeeded and result.power_state is None


def test_list_gives_the_targets(recorder_on_path: str, tmp_path: Path) -> None:
    agent = PluginHost().fence_agent(recorder_on_path)
    result = run(agent.execute("list", {"state_file": str(tmp_path / "s")}, None, 20_000))
    assert result.targets == ("node1", "node2")


def test_a_hung_agent_is_killed_at_the_timeout(recorder_on_path: str, tmp_path: Path) -> None:
    agent = PluginHost().fence_agent(recorder_on_path)
    record = tmp_path / "request.json"
    params = {"state_file": str(tmp_path / "s"), "hang": "30", "record": str(record)}
    started = time.monotonic()
    result = run(agent.execute("off", params, None, 1500))
    assert not result.succeeded and "timed out after 1500 ms" in result.output
    assert time.monotonic() - started < 10
    assert not (tmp_path / "s").exists()  # killed before it acted


def test_unknown_action_and_program(recorder_on_path: str, tmp_path: Path) -> None:
    host = PluginHost()
    with pytest.raises(UsageError, match="no action 'dance'"):
        run(host.fence_agent(recorder_on_path).execute("dance", {"state_file": "x"}, None, 1000))
    with pytest.raises(PluginError, match="no fencing plugin provides 'fence_nonexistent'"):
        host.fence_agent("fence_nonexistent")
    with pytest.raises(PluginError):
        host.fence_agent("../fence_recorder")  # a path is not an agent name


def test_a_program_without_metadata_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = tmp_path / "fence_silent"
    program.write_text("#!/bin/sh\nexit 1\n")
    program.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    agent = PluginHost().fence_agent("fence_silent")
    with pytest.raises(PluginError, match="action=metadata. failed"):
        agent.metadata()


def test_metadata_is_cached_until_the_program_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, recorder_on_path: str
) -> None:
    source = (Path(__file__).parent / "fence_recorder").read_text()
    counter = tmp_path / "runs"
    program = tmp_path / "fence_counted"
    program.write_text(
        source.replace(
            "request = dict(",
            f"open({str(counter)!r}, 'a').write('x')\nrequest = dict(",
        )
    )
    program.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert "fence_recorder" in PluginHost().fence_agent("fence_counted").metadata()
    assert "fence_recorder" in PluginHost().fence_agent("fence_counted").metadata()
    assert counter.read_text() == "x"  # the second agent read the cache
    os.utime(program, ns=(0, 0))
    PluginHost().fence_agent("fence_counted").metadata()
    assert counter.read_text() == "xx"  # changed program: asked again
