"""What an operation's record carries (core/executor/digests.py) is what the scheduler
compares (core/scheduler/digests.py): the same definition matches, a reloadable change
reloads, any other change restarts, a secret-only change is seen only live."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from hactl.core.agentmeta import parse_metadata
from hactl.core.executor.digests import AgentParams, record_digests
from hactl.core.executor.history import OperationRecord
from hactl.core.scheduler import digests, unpack

NOW = dt.datetime(2024, 5, 1, 12, 0, 0)


def _metadata(version: str, actions: str, params: str) -> AgentParams:
    return AgentParams.from_metadata(
        parse_metadata(
            f'<resource-agent name="A"><version>{version}</version>'
            f"<parameters>{params}</parameters><actions>{actions}</actions></resource-agent>"
        )
    )


PARAMS = (
    '<parameter name="state" unique="1"/>'
    '<parameter name="fake" reloadable="1"/>'
    '<parameter name="secret" private="1"/>'
)
RELOADABLE = _metadata("1.1", '<action name="start"/><action name="reload-agent"/>', PARAMS)


def test_an_ocf_1_1_agent_with_reload_agent_records_what_a_reload_cannot_apply() -> None:
    params = {"state": "/a", "fake": "x", "secret": "s"}
    got = record_digests(params, interval_ms=0, timeout_ms=20000, agent=RELOADABLE)
    assert got.force_restart == " state secret "
    assert got.secure_params == " secret "
    assert got.restart_digest != got.digest and got.secure_digest != got.digest


def test_monitors_and_agents_without_reload_record_no_restart_digest() -> None:
    monitor = record_digests({"state": "/a"}, interval_ms=10000, timeout_ms=20000, agent=RELOADABLE)
    assert monitor.restart_digest is None and monitor.force_restart is None
    plain = _metadata("1.1", '<action name="start"/>', PARAMS)
    assert plain.reload_action is None
    assert record_digests({}, interval_ms=0, timeout_ms=20000, agent=plain).restart_digest is None


def test_an_older_agent_reloads_with_reload_and_restarts_for_unique_parameters() -> None:
    legacy = _metadata("1.0", '<action name="reload"/>', PARAMS)
    assert legacy.reload_action == "reload" and legacy.force_restart == ("state",)
    # reload-agent counts only from OCF 1.1 on
    assert _metadata("1.0", '<action name="reload-agent"/>', PARAMS).reload_action is None


def test_without_private_parameters_passwords_are_the_secrets() -> None:
    agent = _metadata("1.1", "", '<parameter name="password"/><parameter name="ip"/>')
    assert agent.secrets == ("password",)


def _cib(params: dict[str, str], history: str) -> etree._Element:
    pairs = "".join(
        f'<nvpair id="R-{name}" name="{name}" value="{value}"/>' for name, value in params.items()
    )
    return etree.fromstring(f"""
<cib validate-with="pacemaker-3.0" have-quorum="true" dc-uuid="1" crm_feature_set="3.19.0">
  <configuration>
    <crm_config/>
    <nodes><node id="1" uname="node1"/></nodes>
    <resources><primitive id="R" class="ocf" provider="hactl" type="Dummy">
      <instance_attributes id="R-i">{pairs}</instance_attributes>
    </primitive></resources>
  </configuration>
  <status><node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member"
    expected="member"><lrm id="1"><lrm_resources>
    <lrm_resource id="R" class="ocf" provider="hactl" type="Dummy">{history}</lrm_resource>
  </lrm_resources></lrm></node_state></status>
</cib>""")


def _compare(recorded_with: dict[str, str], now: dict[str, str]) -> digests.Comparison:
    got = record_digests(recorded_with, interval_ms=0, timeout_ms=20000, agent=RELOADABLE)
    record = OperationRecord(
        "R",
        "start",
        0,
        1,
        0,
        "done",
        "node1",
        1,
        transition_key="1:1:0:x",
        digest=got.digest,
        restart_digest=got.restart_digest,
        force_restart=got.force_restart,
        secure_digest=got.secure_digest,
        secure_params=got.secure_params,
    )
    op = record.to_xml("R_last_0")
    ws = unpack.unpack(_cib(now, etree.tostring(op).decode()), NOW)
    node = ws.nodes[0]
    return digests.compare(ws, ws.by_id["R"], node, op)


def test_the_scheduler_reads_the_records_as_the_executor_wrote_them() -> None:
    old = {"state": "/a", "fake": "x", "secret": "s"}
    assert _compare(old, old) is digests.Comparison.MATCH
    assert _compare(old, {**old, "fake": "y"}) is digests.Comparison.MISMATCH
    assert _compare(old, {**old, "state": "/b"}) is digests.Comparison.RESTART
    assert _compare(old, {**old, "secret": "t"}) is digests.Comparison.RESTART
