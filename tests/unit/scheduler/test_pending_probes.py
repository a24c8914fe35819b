"""A node still joining (pending) gets probes that cannot run yet; a resource active
nowhere cannot start until it is probed there (Pacemaker's pcmk__probe_rsc_on_node)."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from hactl.core.scheduler import output, schedule
from hactl.core.scheduler.model import WorkingSet

NOW = dt.datetime(2024, 5, 1, 12, 0, 0)


def _schedule(node2_running: bool) -> WorkingSet:
    lrm = (
        '<lrm id="2"><lrm_resources><lrm_resource id="A" class="ocf" provider="pacemaker" '
        'type="Dummy"><lrm_rsc_op id="A_start" operation="start" call-id="1" rc-code="0" '
        'op-status="0" interval="0" transition-key="1:1:0:x" on_node="node2"/>'
        "</lrm_resource></lrm_resources></lrm>"
    )
    text = f"""
<cib validate-with="pacemaker-3.0" have-quorum="true" dc-uuid="1">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="true"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/><node id="2" uname="node2"/>
      <node id="3" uname="node3"/></nodes>
    <resources><primitive id="A" class="ocf" provider="pacemaker" type="Dummy"/>
      <primitive id="fence" class="stonith" type="fence_xvm"/></resources>
    <constraints>
      <rsc_location id="a-not-3" rsc="A" node="node3" score="-INFINITY"/>
      <rsc_location id="a-not-2" rsc="A" node="node2" score="-INFINITY"/>
    </constraints>
  </configuration>
  <status>
    <node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member"
      expected="member"/>
    <node_state id="2" uname="node2" in_ccm="true" crmd="online" join="member"
      expected="member">{lrm if node2_running else ""}</node_state>
    <node_state id="3" uname="node3" in_ccm="true" crmd="online" join="down"/>
  </status>
</cib>"""
    return schedule(etree.fromstring(text), NOW)


def test_a_resource_active_nowhere_waits_for_its_probe_on_a_pending_node() -> None:
    ws = _schedule(node2_running=False)
    assert ws.node("node3") is not None and ws.node("node3").pending  # type: ignore[union-attr]
    probe = next(a for a in ws.actions if a.name() == "A_monitor_0 node3")
    assert not probe.runnable and not probe.in_graph
    summary = [" ".join(line.split()) for line in output.transition_summary(ws)]
    # blocked by its own probe: no reason is given, as Pacemaker gives none
    assert "* Start A ( node1 ) blocked" in summary, summary


def test_a_resource_running_elsewhere_is_not_held_up() -> None:
    ws = _schedule(node2_running=True)  # it moves from node2 to node1
    summary = [" ".join(line.split()) for line in output.transition_summary(ws)]
    # (the history has no digest, so it also counts as a definition change)
    assert any(line.startswith("* Move A ( node2 -> node1 )") for line in summary), summary
    assert not any(
        a.task == "start" and a.rsc is ws.by_id["A"] and not a.runnable for a in ws.actions
    )
