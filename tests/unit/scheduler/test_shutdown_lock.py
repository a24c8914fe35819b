"""shutdown-lock: a resource stopped by its node's clean shutdown stays locked to that node
until the node returns or shutdown-lock-limit passes (Pacemaker's unpack_shutdown_lock and
pcmk__primitive_shutdown_lock)."""

from __future__ import annotations

import calendar

from lxml import etree

from hactl.core.cli import status_view
from hactl.core.scheduler import schedule
from hactl.core.scheduler.model import WorkingSet

from .cib_text import NOW, summary

EPOCH = calendar.timegm(NOW.timetuple())


def _schedule(locked_seconds_ago: int, limit: str = "5min") -> WorkingSet:
    lock = EPOCH - locked_seconds_ago
    text = f"""
<cib validate-with="pacemaker-3.0" have-quorum="true" dc-uuid="2">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
      <nvpair id="o2" name="shutdown-lock" value="true"/>
      <nvpair id="o3" name="shutdown-lock-limit" value="{limit}"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>
    <resources><primitive id="A" class="ocf" provider="pacemaker" type="Dummy"/></resources>
    <constraints/>
  </configuration>
  <status>
    <node_state id="1" uname="node1" in_ccm="false" crmd="offline" join="down"
      expected="down"><lrm id="1"><lrm_resources>
      <lrm_resource id="A" class="ocf" provider="pacemaker" type="Dummy" shutdown-lock="{lock}">
        <lrm_rsc_op id="A_last_0" operation="stop" call-id="2" rc-code="0" op-status="0"
          interval="0" transition-key="2:1:0:x" on_node="node1"/>
      </lrm_resource></lrm_resources></lrm></node_state>
    <node_state id="2" uname="node2" in_ccm="true" crmd="online" join="member"
      expected="member"/>
  </status>
</cib>"""
    return schedule(etree.fromstring(text), NOW)


def test_a_locked_resource_stays_stopped_on_its_node() -> None:
    ws = _schedule(locked_seconds_ago=60)
    assert ws.by_id["A"].lock_node is not None
    assert ws.by_id["A"].assigned is None
    line = next(x for x in status_view.render(ws) if x.strip().startswith("* A\t"))
    assert line.endswith("Stopped node1 (LOCKED)"), line


def test_an_expired_lock_frees_the_resource_and_clears_its_history() -> None:
    ws = _schedule(locked_seconds_ago=600)
    assert ws.by_id["A"].lock_node is None
    lines = summary(ws)
    assert "* Start A ( node2 )" in lines, lines
    graphed = {a.name() for a in ws.actions if a.in_graph}
    assert "A_lrm_delete_0 node1" in graphed


def test_without_a_limit_the_lock_holds() -> None:
    ws = _schedule(locked_seconds_ago=10**6, limit="0")
    assert ws.by_id["A"].assigned is None
