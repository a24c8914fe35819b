"""node-pending-timeout: a node that became a member (in_ccm holds since when) but has not
joined the process group within the timeout is fenced (Pacemaker's pending_too_long)."""

from __future__ import annotations

import calendar
import datetime as dt

from lxml import etree

from hactl.core.scheduler import output, schedule

NOW = dt.datetime(2024, 5, 1, 12, 0, 0)
EPOCH = calendar.timegm(NOW.timetuple())


def _summary(member_seconds_ago: int, timeout: str) -> list[str]:
    text = f"""
<cib validate-with="pacemaker-3.0" have-quorum="true" dc-uuid="1">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="node-pending-timeout" value="{timeout}"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>
    <resources><primitive id="fence" class="stonith" type="fence_xvm"/></resources>
    <constraints/>
  </configuration>
  <status>
    <node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member"
      expected="member"/>
    <node_state id="2" in_ccm="{EPOCH - member_seconds_ago}" crmd="0"/>
  </status>
</cib>"""
    ws = schedule(etree.fromstring(text), NOW)
    return [" ".join(line.split()) for line in output.transition_summary(ws)]


def test_a_node_pending_past_the_timeout_is_fenced() -> None:
    fence = "* Fence (reboot) node2 'peer pending timed out on joining the process group'"
    assert fence in _summary(member_seconds_ago=600, timeout="300s")


def test_a_node_still_within_the_timeout_or_without_one_waits() -> None:
    assert not any("Fence" in line for line in _summary(member_seconds_ago=60, timeout="300s"))
    assert not any("Fence" in line for line in _summary(member_seconds_ago=600, timeout="0"))
