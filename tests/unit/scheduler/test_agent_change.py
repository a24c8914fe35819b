"""A resource whose recorded agent differs from its definition is cleaned up (its history
deleted, restarted where it runs) only on nodes that can run actions (Pacemaker checks
definitions on available nodes only)."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from hactl.core.scheduler import schedule

NOW = dt.datetime(2024, 5, 1, 12, 0, 0)


def _deletes(shutting_down: bool) -> list[str]:
    shutdown = (
        '<transient_attributes id="1"><instance_attributes id="t1">'
        '<nvpair id="t1-s" name="shutdown" value="1700000000"/>'
        "</instance_attributes></transient_attributes>"
        if shutting_down
        else ""
    )
    text = f"""
<cib validate-with="pacemaker-3.0" have-quorum="true" dc-uuid="2">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>
    <resources><primitive id="A" class="ocf" provider="pacemaker" type="Stateful"/></resources>
    <constraints/>
  </configuration>
  <status>
    <node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member"
      expected="member">{shutdown}<lrm id="1"><lrm_resources>
      <lrm_resource id="A" class="ocf" provider="pacemaker" type="Dummy">
        <lrm_rsc_op id="A_last_0" operation="start" call-id="1" rc-code="0" op-status="0"
          interval="0" transition-key="1:1:0:x" on_node="node1"/>
      </lrm_resource></lrm_resources></lrm></node_state>
    <node_state id="2" uname="node2" in_ccm="true" crmd="online" join="member"
      expected="member"/>
  </status>
</cib>"""
    ws = schedule(etree.fromstring(text), NOW)
    return sorted(a.name() for a in ws.actions if a.task == "delete" and a.in_graph)


def test_a_changed_agent_is_cleaned_up_where_actions_can_run() -> None:
    assert _deletes(shutting_down=False) == ["A_delete_0 node1"]


def test_not_on_a_node_shutting_down() -> None:
    assert _deletes(shutting_down=True) == []
