"""What blocks a resource colocated with a clone, as Pacemaker decides it: a role in the
colocation counts only for a promotable clone, and a clone whose instances cannot run
because none of them has an instance to interleave with blocks none of its dependents
(Pacemaker unassigns such instances, which does not block colocation dependents). Also
what Pacemaker still does for an unmanaged resource: cancel the monitors no longer
configured."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from hactl.core.scheduler import output, schedule
from hactl.core.scheduler.model import WorkingSet

NOW = dt.datetime(2024, 5, 1, 12, 0, 0)
#: the digest of a Dummy's parameters when it has none (Pacemaker's, feature set 3.0.9)
DIGEST = "f2317cad3d54cec5d7d7aa7d0bf35cf8"


def _primitive(rsc: str) -> str:
    return f'<primitive id="{rsc}" class="ocf" provider="pacemaker" type="Dummy"/>'


def _clone(clone: str, rsc: str, interleave: bool = False) -> str:
    meta = (
        f'<meta_attributes id="{clone}-m"><nvpair id="{clone}-i" name="interleave" '
        'value="true"/></meta_attributes>'
        if interleave
        else ""
    )
    return f'<clone id="{clone}">{meta}{_primitive(rsc)}</clone>'


def _running(rsc: str, call: int) -> str:
    return (
        f'<lrm_resource id="{rsc}" class="ocf" provider="pacemaker" type="Dummy">'
        f'<lrm_rsc_op id="{rsc}_last_0" operation_key="{rsc}_start_0" operation="start" '
        f'call-id="{call}" rc-code="0" op-status="0" interval="0" '
        f'transition-key="{call}:1:0:x" on_node="node1" crm_feature_set="3.0.9" '
        f'op-digest="{DIGEST}"/></lrm_resource>'
    )


def _schedule(resources: str, constraints: str, history: str) -> WorkingSet:
    text = f"""
<cib validate-with="pacemaker-3.0" have-quorum="true" admin_epoch="0" epoch="1"
  num_updates="0">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/></nodes>
    <resources>{resources}</resources>
    <constraints>{constraints}</constraints>
  </configuration>
  <status>
    <node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member"
      expected="member"><lrm id="1"><lrm_resources>{history}</lrm_resources></lrm>
    </node_state>
  </status>
</cib>"""
    return schedule(etree.fromstring(text), NOW)


def _summary(ws: WorkingSet) -> list[str]:
    return [" ".join(line.split()) for line in output.transition_summary(ws)]


def test_a_promoted_role_is_ignored_for_a_clone_that_is_not_promotable() -> None:
    ws = _schedule(
        _primitive("ip") + _clone("web-clone", "web"),
        '<rsc_colocation id="ip-with-web" rsc="ip" rsc-role="Started" score="INFINITY" '
        'with-rsc="web-clone" with-rsc-role="Promoted"/>',
        _running("ip", 1) + _running("web", 2),
    )
    assert _summary(ws) == [], _summary(ws)


def test_instances_without_an_interleave_partner_block_no_dependent() -> None:
    """B's instances are unassigned for want of an A instance (A is banned), so B cannot
    start, yet C, which needs B, keeps running; D, ordered after B, cannot start. This is
    current Pacemaker's behaviour (the corpus case unrunnable-2 records it); the installed
    Pacemaker 2.1.5 still stops C here."""
    resources = (
        _clone("A-clone", "A")
        + _clone("B-clone", "B", interleave=True)
        + _clone("C-clone", "C")
        + _primitive("D")
    )
    constraints = (
        '<rsc_location id="a-off" rsc="A-clone" node="node1" score="-INFINITY"/>'
        '<rsc_order id="a-then-b" first="A-clone" then="B-clone"/>'
        '<rsc_colocation id="c-with-b" rsc="C-clone" score="INFINITY" with-rsc="B-clone"/>'
        '<rsc_order id="b-then-d" first="B-clone" then="D"/>'
    )
    ws = _schedule(resources, constraints, _running("C", 1))
    summary = _summary(ws)
    assert not any("C:0" in line for line in summary), summary
    assert summary == ["* Start D ( node1 ) due to unrunnable B-clone running (blocked)"], summary


def _running_with_monitor(rsc: str, call: int) -> str:
    return _running(rsc, call).replace(
        "</lrm_resource>",
        f'<lrm_rsc_op id="{rsc}_monitor_10000" operation_key="{rsc}_monitor_10000" '
        f'operation="monitor" call-id="{call + 10}" rc-code="0" op-status="0" '
        f'interval="10000" transition-key="{call + 10}:1:0:x" on_node="node1" '
        'crm_feature_set="3.0.9"/></lrm_resource>',
    )


def test_an_unmanaged_resource_has_its_removed_monitor_cancelled() -> None:
    """Its monitor is no longer configured: Pacemaker cancels it even for an unmanaged
    resource, which otherwise gets no action."""
    unmanaged = _primitive("U").replace(
        "/>",
        '><meta_attributes id="U-m"><nvpair id="U-um" name="is-managed" value="false"/>'
        "</meta_attributes></primitive>",
    )
    ws = _schedule(unmanaged, "", _running_with_monitor("U", 1))
    graphed = [(a.rsc.id, a.task, a.interval_ms) for a in ws.actions if a.in_graph and a.rsc]
    assert graphed == [("U", "cancel", 10000)], graphed
