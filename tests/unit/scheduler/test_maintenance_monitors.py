"""No recurring monitor is scheduled for a resource in maintenance mode (Pacemaker's
pcmk__create_recurring_actions skips them), though it keeps running where it is."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from hactl.core.scheduler import schedule

NOW = dt.datetime(2024, 5, 1, 12, 0, 0)


def _cib(maintenance: str) -> str:
    return f"""
<cib validate-with="pacemaker-3.0" have-quorum="true" dc-uuid="1">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
      <nvpair id="o2" name="maintenance-mode" value="{maintenance}"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/></nodes>
    <resources>
      <primitive id="D" class="ocf" provider="heartbeat" type="Dummy">
        <operations><op id="D-m" name="monitor" interval="60s"/></operations>
      </primitive>
    </resources>
  </configuration>
  <status>
    <node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member" expected="member">
      <lrm id="1"><lrm_resources>
        <lrm_resource id="D" class="ocf" provider="heartbeat" type="Dummy">
          <lrm_rsc_op id="D_last" operation="start" call-id="1" rc-code="0" op-status="0"
            interval="0" transition-key="1:1:0:x" on_node="node1"/>
        </lrm_resource>
      </lrm_resources></lrm>
    </node_state>
  </status>
</cib>
"""


def _monitors(maintenance: str) -> list[str]:
    ws = schedule(etree.fromstring(_cib(maintenance)), NOW)
    return [a.name() for a in ws.actions if a.in_graph and a.task == "monitor" and a.interval_ms]


def test_monitor_is_scheduled_normally() -> None:
    assert _monitors("false") == ["D_monitor_60000 node1"]


def test_no_monitor_in_maintenance_mode() -> None:
    assert _monitors("true") == []
