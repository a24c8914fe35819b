"""hactl's crm_attribute and attrd_updater: run as agents run them (found through
HA_SBIN_DIR and PATH by real Pacemaker agents executed by hactl's executor), on a CIB file
(CIB_file, as with Pacemaker's tools), and checked by the real crm_verify."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from hactl.core.attrd import SBIN_DIR
from hactl.core.attrd.status import transient_value, transient_values
from hactl.core.attrd.tools import parse_attrd_updater, parse_crm_attribute
from hactl.core.cib.document import CibDocument, IdProvider
from hactl.core.cib.edit import set_cluster_option
from hactl.core.drivers import OperationRequest
from hactl.core.errors import UsageError
from hactl.core.executor.executor import Executor, ScheduledOperation, agent_runner
from hactl.core.plugins import PluginHost

PACEMAKER_AGENTS = Path("/usr/lib/ocf/resource.d/pacemaker")


@pytest.fixture
def cib_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A CIB with nodes node1 and node2, offered to the tools as CIB_file."""
    doc = CibDocument.new_empty()
    set_cluster_option(doc, "stonith-enabled", "false", IdProvider(doc))
    nodes = doc.section("nodes", create=True)
    for number in (1, 2):
        etree.SubElement(nodes, "node", id=str(number), uname=f"node{number}")
    path = tmp_path / "cib.xml"
    path.write_bytes(doc.serialize())
    monkeypatch.setenv("CIB_file", str(path))
    monkeypatch.setenv("HACTL_NODE_NAME", "node1")
    return path


def tool(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HACTL_PYTHON": sys.executable}
    return subprocess.run(
        [str(SBIN_DIR / name), *args], capture_output=True, text=True, env=env, check=False
    )


def root_of(path: Path) -> etree._Element:
    return etree.parse(str(path)).getroot()


def test_crm_attribute_promotion_names_the_clone_not_the_instance(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OCF_RESOURCE_INSTANCE", "db:1")
    monkeypatch.setenv("OCF_RESKEY_CRM_meta_on_node", "node2")
    request = parse_crm_attribute(["--promotion", "-v", "10"])
    assert (request.name, request.node, request.transient, request.value) == (
        "master-db",
        "node2",
        True,
        "10",
    )
    assert parse_crm_attribute(["-N", "n1", "-n", "site", "-v", "a"]).transient is False
    assert parse_crm_attribute(["-N", "n1", "-n", "x", "-l", "reboot", "-G"]).action == "query"
    assert parse_attrd_updater(["-n", "pingd", "-v", "1000", "-d", "5s"]).value == "1000"


@pytest.mark.parametrize(
    "tool_name, argv, message",
    [
        ("crm_attribute", ["-v", "1"], "a name is required"),
        ("crm_attribute", ["-n", "x", "-v", "1", "-D", "-N", "n"], "not allowed with"),
        ("attrd_updater", ["-n", "x", "-B", "1"], "need -d/--delay"),
        ("attrd_updater", ["-U", "1"], "required: -n/--name"),
        ("attrd_updater", ["-n", "x", "-U", "1", "--bogus"], "unrecognized arguments"),
    ],
)
def test_bad_arguments_are_one_line_usage_errors(
    tool_name: str, argv: list[str], message: str
) -> None:
    parse = parse_crm_attribute if tool_name == "crm_attribute" else parse_attrd_updater
    with pytest.raises(UsageError, match=message):
        parse(argv)


def test_tools_on_a_cib_file(cib_file: Path, require_tool: Callable[[str], str]) -> None:
    assert tool("crm_attribute", "-N", "node2", "-n", "site", "-v", "paris").returncode == 0
    assert tool("attrd_updater", "-n", "#health-cpu", "-U", "green").returncode == 0
    assert (
        tool("crm_attribute", "-N", "node1", "-l", "reboot", "-n", "x", "-v", "1").returncode == 0
    )
    query = tool("crm_attribute", "-N", "node2", "-n", "site", "-G")
    assert query.stdout == "scope=nodes  name=site value=paris\n"
    assert tool("crm_attribute", "-N", "node2", "-n", "site", "-G", "-q").stdout == "paris\n"
    both = tool("attrd_updater", "-n", "#health-cpu", "-Q", "-A")
    assert both.stdout == 'name="#health-cpu" host="node1" value="green"\n'
    root = root_of(cib_file)
    assert transient_values(root, "node1") == {"#health-cpu": "green", "x": "1"}
    verify = subprocess.run(
        [require_tool("crm_verify"), "-x", str(cib_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verify.returncode == 0, verify.stderr
    assert tool("attrd_updater", "-n", "#health-cpu", "-D").returncode == 0
    missing = tool("attrd_updater", "-n", "#health-cpu", "-Q")
    assert missing.returncode == 105 and missing.stderr.count("\n") == 1
    assert "not set on node1" in missing.stderr
    unknown = tool("crm_attribute", "-N", "node9", "-n", "a", "-v", "b")
    assert unknown.returncode == 1 and "node 'node9' is not in the CIB" in unknown.stderr
    assert tool("crm_attribute", "-N", "node2", "-n", "a", "-G", "-d", "dflt").stdout.endswith(
        "value=dflt\n"
    )


def run_agent(agent: str, action: str, **params: str) -> int:
    async def run() -> int:
        executor = Executor("node1", agent_runner(PluginHost().agent_class))
        request = OperationRequest("stateful:0", agent, action, params=params, timeout_ms=20000)
        record = await executor.execute(ScheduledOperation(request))
        await executor.close()
        return record.rc

    return asyncio.run(run())


@pytest.mark.skipif(
    not (PACEMAKER_AGENTS / "Stateful").exists(),
    reason="pacemaker-resource-agents is not installed (.ci/run installs it)",
)
def test_pacemakers_stateful_sets_its_promotion_score_through_hactl(
    cib_file: Path, tmp_path: Path
) -> None:
    state = str(tmp_path / "stateful.state")
    assert run_agent("ocf:pacemaker:Stateful", "start", state=state) == 0
    assert transient_value(root_of(cib_file), "node1", "master-stateful") == "5"
    assert run_agent("ocf:pacemaker:Stateful", "promote", state=state) == 0
    assert transient_value(root_of(cib_file), "node1", "master-stateful") == "10"
    assert run_agent("ocf:pacemaker:Stateful", "demote", state=state) == 0
    assert transient_value(root_of(cib_file), "node1", "master-stateful") == "5"
    assert run_agent("ocf:pacemaker:Stateful", "stop", state=state) == 0
    assert transient_value(root_of(cib_file), "node1", "master-stateful") is None


@pytest.mark.skipif(
    not (PACEMAKER_AGENTS / "HealthCPU").exists(),
    reason="pacemaker-resource-agents is not installed (.ci/run installs it)",
)
def test_pacemakers_health_agent_sets_a_health_attribute(cib_file: Path, tmp_path: Path) -> None:
    state = str(tmp_path / "health.state")
    assert run_agent("ocf:pacemaker:HealthCPU", "start", state=state) == 0
    assert run_agent("ocf:pacemaker:HealthCPU", "monitor", state=state) == 0
    colour = transient_value(root_of(cib_file), "node1", "#health-cpu")
    assert colour in ("green", "yellow", "red")


def test_bundled_stateful_uses_the_same_tool(cib_file: Path, tmp_path: Path) -> None:
    state = str(tmp_path / "hactl-stateful.state")
    assert run_agent("ocf:hactl:Stateful", "start", state=state) == 0
    assert transient_value(root_of(cib_file), "node1", "master-stateful") is not None
