"""multiple-active=stop_unexpected: a resource found active on several nodes stops only on
the nodes it is not to stay on, and its start where it stays is a pseudo-action (Pacemaker's
is_expected_node)."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from hactl.core.scheduler import output, schedule

NOW = dt.datetime(2024, 5, 1, 12, 0, 0)


def test_only_the_unexpected_copy_stops() -> None:
    history = (
        '<lrm id="{0}"><lrm_resources><lrm_resource id="A" class="ocf" provider="pacemaker" '
        'type="Dummy"><lrm_rsc_op id="A_start_{0}" operation="start" call-id="1" rc-code="0" '
        'op-status="0" interval="0" transition-key="1:1:0:x" on_node="node{0}"/>'
        "</lrm_resource></lrm_resources></lrm>"
    )
    states = "".join(
        f'<node_state id="{n}" uname="node{n}" in_ccm="true" crmd="online" join="member" '
        f'expected="member">{history.format(n)}</node_state>'
        for n in (1, 2)
    )
    text = f"""
<cib validate-with="pacemaker-3.0" have-quorum="true">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>
    <resources>
      <primitive id="A" class="ocf" provider="pacemaker" type="Dummy">
        <meta_attributes id="a-m">
          <nvpair id="a-ma" name="multiple-active" value="stop_unexpected"/>
        </meta_attributes>
      </primitive>
    </resources>
    <constraints><rsc_location id="a-on-1" rsc="A" node="node1" score="100"/></constraints>
  </configuration>
  <status>{states}</status>
</cib>"""
    ws = schedule(etree.fromstring(text), NOW)
    graphed = {a.name(): a for a in ws.actions if a.in_graph}
    assert "A_stop_0 node2" in graphed
    assert graphed["A_stop_0 node2"].reason == "being multiply active"
    assert not any(a.task == "stop" and a.node is ws.node("node1") for a in ws.by_id["A"].actions)
    start = next(a for a in ws.by_id["A"].actions if a.task == "start")
    assert start.node is ws.node("node1") and start.pseudo
    summary = [" ".join(line.split()) for line in output.transition_summary(ws)]
    assert summary and summary[0].startswith("* Restart A ( node1 )"), summary
