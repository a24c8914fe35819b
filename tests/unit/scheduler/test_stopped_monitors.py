"""A monitor for the Stopped role is scheduled on every node where the resource is not to
run, also where no action can run (an offline node): there it is unrunnable, left out of
the transition (Pacemaker's recurring_op_for_inactive)."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from hactl.core.scheduler import schedule

NOW = dt.datetime(2024, 5, 1, 12, 0, 0)
#: the digest of a Dummy's parameters when it has none (Pacemaker's, feature set 3.0.9)
DIGEST = "f2317cad3d54cec5d7d7aa7d0bf35cf8"

CIB = f"""
<cib validate-with="pacemaker-3.7" have-quorum="true" admin_epoch="0" epoch="1"
  num_updates="0">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>
    <resources>
      <primitive id="R" class="ocf" provider="pacemaker" type="Dummy">
        <operations>
          <op id="R-stopped" name="monitor" interval="300s" role="Stopped"/>
        </operations>
      </primitive>
    </resources>
    <constraints/>
  </configuration>
  <status>
    <node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member"
      expected="member"><lrm id="1"><lrm_resources>
      <lrm_resource id="R" class="ocf" provider="pacemaker" type="Dummy">
        <lrm_rsc_op id="R_last_0" operation_key="R_start_0" operation="start" call-id="1"
          rc-code="0" op-status="0" interval="0" transition-key="1:1:0:x" on_node="node1"
          crm_feature_set="3.0.9" op-digest="{DIGEST}"/>
      </lrm_resource></lrm_resources></lrm></node_state>
    <node_state id="2" uname="node2" in_ccm="false" crmd="offline" join="down"
      expected="down"/>
  </status>
</cib>"""


def test_a_stopped_role_monitor_on_an_offline_node_is_unrunnable() -> None:
    ws = schedule(etree.fromstring(CIB), NOW)
    monitors = {
        a.node.name: a
        for a in ws.actions
        if a.task == "monitor" and a.interval_ms == 300000 and a.node is not None
    }
    assert set(monitors) == {"node2"}, monitors
    assert not monitors["node2"].optional
    assert not monitors["node2"].runnable
    assert not monitors["node2"].in_graph
