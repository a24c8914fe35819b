"""History entries with one call id (an operation and its last failure) are read in the
order of their last change (Pacemaker's pe__is_newer_op): a monitor that failed and has
since succeeded clears its on-fail=block."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from hactl.core.scheduler import schedule

NOW = dt.datetime(2024, 5, 1, 12, 0, 0)


def _op(ident: str, task: str, call: int, rc: int, interval: int, changed: int) -> str:
    return (
        f'<lrm_rsc_op id="{ident}" operation="{task}" call-id="{call}" rc-code="{rc}" '
        f'op-status="0" interval="{interval}" last-rc-change="{changed}" '
        f'transition-key="{call}:1:0:x" transition-magic="0:{rc};{call}:1:0:x" on_node="node1"/>'
    )


def _blocked(failure_changed: int) -> bool:
    history = (
        _op("A_last_0", "start", 1, 0, 0, 100)
        + _op("A_monitor_10000", "monitor", 2, 0, 10000, 300)
        + _op("A_last_failure_0", "monitor", 2, 1, 10000, failure_changed)
    )
    text = f"""
<cib validate-with="pacemaker-3.0" have-quorum="true">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/></nodes>
    <resources><primitive id="A" class="ocf" provider="pacemaker" type="Dummy">
      <operations><op id="A-mon" name="monitor" interval="10s" on-fail="block"/></operations>
    </primitive></resources>
    <constraints/>
  </configuration>
  <status><node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member"
    expected="member"><lrm id="1"><lrm_resources>
    <lrm_resource id="A" class="ocf" provider="pacemaker" type="Dummy">{history}</lrm_resource>
  </lrm_resources></lrm></node_state></status>
</cib>"""
    return schedule(etree.fromstring(text), NOW).by_id["A"].blocked


def test_a_failure_followed_by_a_success_of_the_same_monitor_is_cleared() -> None:
    assert not _blocked(failure_changed=200)  # failed at 200, succeeded at 300


def test_a_failure_after_the_last_success_still_blocks() -> None:
    assert _blocked(failure_changed=400)
