"""Unfencing on small CIBs: a fence device that provides unfencing (fence_scsi) lets each
node back in ("on") before it probes or starts anything that needs it, once per node."""

from __future__ import annotations

import re

from lxml import etree

from hactl.core.scheduler import execute, output, schedule, unfencing
from hactl.core.scheduler.model import Action, WorkingSet

from .cib_text import NOW, summary

SCSI = (
    '<primitive id="scsi" class="stonith" type="fence_scsi"><meta_attributes id="scsi-m">'
    '<nvpair id="scsi-p" name="provides" value="unfencing"/></meta_attributes></primitive>'
)
DUMMY = '<primitive id="{0}" class="ocf" provider="pacemaker" type="Dummy">{1}</primitive>'
REQUIRES_QUORUM = (
    '<meta_attributes id="q-m"><nvpair id="q-r" name="requires" value="quorum"/></meta_attributes>'
)
UNFENCED = (
    '<transient_attributes id="{0}"><instance_attributes id="ta{0}">'
    '<nvpair id="u{0}" name="#node-unfenced" value="1700000000"/>'
    "</instance_attributes></transient_attributes>"
)


def _cib(resources: str, unfenced: tuple[int, ...] = (), constraints: str = "") -> etree._Element:
    """Two online nodes; the `unfenced` ones were unfenced before."""
    states = "".join(
        f'<node_state id="{n}" uname="node{n}" in_ccm="true" crmd="online" join="member" '
        f'expected="member">{UNFENCED.format(n) if n in unfenced else ""}</node_state>'
        for n in (1, 2)
    )
    text = f"""
<cib validate-with="pacemaker-3.0" have-quorum="true" dc-uuid="1">
  <configuration>
    <crm_config/>
    <nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>
    <resources>{resources}</resources>
    <constraints>{constraints}</constraints>
  </configuration>
  <status>{states}</status>
</cib>"""
    return etree.fromstring(text)


def _schedule(resources: str, unfenced: tuple[int, ...] = (), constraints: str = "") -> WorkingSet:
    return schedule(_cib(resources, unfenced, constraints), NOW)


def _act(ws: WorkingSet, name: str) -> Action:
    return next(a for a in ws.actions if a.name() == name)


def test_a_device_providing_unfencing_unfences_each_node_before_probing_there() -> None:
    ws = _schedule(SCSI)
    for node in ("node1", "node2"):
        unfence = _act(ws, f"stonith 'on' {node}")
        assert not unfence.optional and unfence.in_graph
        assert unfence.reason == "required by scsi monitor"
        probe = _act(ws, f"scsi_monitor_0 {node}")
        assert any(first is unfence for first, _ in probe.before)
    start = next(a for a in ws.actions if a.key == "scsi_start_0")
    assert start.node is not None
    assert any(f.name() == f"stonith 'on' {start.node.name}" for f, _ in start.before)
    lines = summary(ws)
    assert "* Fence (on) node2 'required by scsi monitor'" in lines, lines
    assert "* Fence (on) node1 'required by scsi monitor'" in lines, lines
    # the graph carries the action Pacemaker's controller sends to the fencer
    graph = etree.fromstring(output.graph_xml(ws).encode())
    event = graph.find(".//crm_event[@operation_key='stonith-node1-on']/attributes")
    assert event is not None and event.get("CRM_meta_stonith_action") == "on"
    # with the device's definition digests, which the controller records once unfenced
    assert re.fullmatch(r"scsi:fence_scsi:[0-9a-f]{32},", event.get("CRM_meta_digests_all", ""))
    assert re.fullmatch(r"scsi:fence_scsi:[0-9a-f]{32},", event.get("CRM_meta_digests_secure", ""))


def test_a_node_unfenced_before_is_not_unfenced_again() -> None:
    ws = _schedule(SCSI, unfenced=(1, 2))
    assert not any(a.task == "stonith" and a.in_graph for a in ws.actions)
    assert not any("Fence" in line for line in summary(ws))
    ws = _schedule(SCSI, unfenced=(1,))
    assert not _act(ws, "stonith 'on' node1").in_graph
    assert _act(ws, "stonith 'on' node2").in_graph


def test_resources_require_unfencing_by_default_once_it_is_in_use() -> None:
    ws = _schedule(
        SCSI + DUMMY.format("a", "") + DUMMY.format("b", REQUIRES_QUORUM),
        unfenced=(1,),
        constraints='<rsc_location id="la" rsc="a" node="node2" score="100"/>'
        '<rsc_location id="lb" rsc="b" node="node2" score="100"/>',
    )
    assert ws.by_id["a"].requires == "unfencing"
    assert ws.by_id["b"].requires == "quorum"
    assert ws.by_id["scsi"].requires == "quorum"
    unfence = _act(ws, "stonith 'on' node2")
    # a's start needs node2 unfenced (and so is required with it); b's does not wait
    assert any(first is unfence for first, _ in _act(ws, "a_start_0 node2").before)
    assert not any(first is unfence for first, _ in _act(ws, "b_start_0 node2").before)
    # a's probe waits for unfencing too; b's only runs
    assert any(first is unfence for first, _ in _act(ws, "a_monitor_0 node2").before)
    assert not any(first is unfence for first, _ in _act(ws, "b_monitor_0 node2").before)


def test_without_unfencing_devices_nothing_changes() -> None:
    fence = '<primitive id="fence" class="stonith" type="fence_xvm"/>'
    ws = _schedule(fence + DUMMY.format("a", ""))
    assert not ws.unfencing_enabled
    assert ws.by_id["a"].requires == "fencing"
    assert not any(a.task == "stonith" for a in ws.actions)


def test_requires_falls_back_to_quorum_where_unfencing_cannot_apply() -> None:
    ws = _schedule(SCSI + DUMMY.format("a", ""))
    device, rsc = ws.by_id["scsi"], ws.by_id["a"]
    assert unfencing.requires(ws, device, "unfencing") == "quorum"
    assert unfencing.requires(ws, rsc, "unfencing") == "unfencing"
    assert unfencing.requires(ws, rsc, "bogus") == "unfencing"  # an invalid value: default
    ws.fencing_enabled = False
    assert unfencing.requires(ws, rsc, "unfencing") == "quorum"


def test_a_simulated_unfencing_leaves_the_node_up() -> None:
    cib = _cib(SCSI)
    ws = schedule(cib, NOW)
    fired = execute.run_graph(ws)
    assert any(a.name() == "stonith 'on' node1" for a in fired)
    revised = execute.apply_transition(cib, ws, fired)
    state = revised.find("status/node_state[@uname='node1']")
    assert state is not None and state.get("crmd") == "online"
    assert state.find("lrm") is not None  # the probe and start it ran are recorded
