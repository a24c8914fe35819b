"""A group around an unmanaged or blocked member: Pacemaker schedules that member's stop,
unrunnable, so what the group orders with it cannot happen either (a later member's stop
before it, the start of an inactive member before it), and a restart whose stop cannot
run is blocked as a whole."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from hactl.core.scheduler import output, schedule
from hactl.core.scheduler.model import WorkingSet

NOW = dt.datetime(2024, 5, 1, 12, 0, 0)


#: the digest of a Dummy's parameters when it has none (Pacemaker's, feature set 3.0.9):
#: with it the recorded operations show no definition change
DIGEST = "f2317cad3d54cec5d7d7aa7d0bf35cf8"


def _op(rsc: str, call: int, task: str, rc: int = 0, interval: int = 0) -> str:
    return (
        f'<lrm_rsc_op id="{rsc}_{task}_{interval}" operation_key="{rsc}_{task}_{interval}" '
        f'operation="{task}" call-id="{call}" rc-code="{rc}" op-status="0" '
        f'interval="{interval}" transition-key="{call}:1:0:x" on_node="node1" '
        f'crm_feature_set="3.0.9" op-digest="{DIGEST}"/>'
    )


def _schedule(members: str, history: str) -> WorkingSet:
    text = f"""
<cib validate-with="pacemaker-3.0" have-quorum="true">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/></nodes>
    <resources><group id="G">{members}</group></resources>
    <constraints/>
  </configuration>
  <status>
    <node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member"
      expected="member"><lrm id="1"><lrm_resources>{history}</lrm_resources></lrm>
    </node_state>
  </status>
</cib>"""
    return schedule(etree.fromstring(text), NOW)


def _primitive(rsc: str, unmanaged: bool = False) -> str:
    meta = (
        f'<meta_attributes id="{rsc}-m"><nvpair id="{rsc}-mm" name="is-managed" '
        'value="false"/></meta_attributes>'
        if unmanaged
        else ""
    )
    return f'<primitive id="{rsc}" class="ocf" provider="pacemaker" type="Dummy">{meta}</primitive>'


def _history(rsc: str, *ops: str) -> str:
    return (
        f'<lrm_resource id="{rsc}" class="ocf" provider="pacemaker" type="Dummy">'
        f"{''.join(ops)}</lrm_resource>"
    )


def _summary(ws: WorkingSet) -> list[str]:
    return [" ".join(line.split()) for line in output.transition_summary(ws)]


def _executed(ws: WorkingSet) -> set[tuple[str, str]]:
    return {(a.rsc.id, a.task) for a in ws.actions if a.in_graph and a.rsc is not None}


def test_an_inactive_member_before_an_unmanaged_one_does_not_start() -> None:
    """A member added before an unmanaged, active one would start while that one runs:
    its start follows the unmanaged member's stop, which cannot happen."""
    members = _primitive("A") + _primitive("new") + _primitive("B", unmanaged=True)
    history = (
        _history("A", _op("A", 1, "start"))
        + _history("new", _op("new", 2, "monitor", rc=7))
        + _history("B", _op("B", 3, "start"))
    )
    ws = _schedule(members, history)
    assert "* Start new ( node1 ) due to unrunnable B stop (blocked)" in _summary(ws)
    assert ("new", "start") not in _executed(ws)


def test_a_restart_whose_stop_is_blocked_does_not_happen() -> None:
    """A stopped first member starts, so the members after it restart; the last one's stop
    failed (blocked), so the stops before it, and then the restart, cannot happen."""
    members = "".join(_primitive(r) for r in ("r1", "r2", "r3", "r4"))
    history = (
        _history("r1", _op("r1", 1, "monitor", rc=7))
        + _history("r2", _op("r2", 2, "start"))
        + _history("r3", _op("r3", 3, "start"))
        + _history(
            "r4",
            _op("r4", 4, "start"),
            _op("r4", 5, "monitor", rc=1, interval=10000),
            _op("r4", 6, "stop", rc=1),
        )
    )
    ws = _schedule(members, history)
    summary = _summary(ws)
    assert "* Start r1 ( node1 ) due to unrunnable r2 stop (blocked)" in summary, summary
    assert "* Stop r2 ( node1 ) due to unrunnable r3 stop (blocked)" in summary, summary
    assert "* Stop r3 ( node1 ) due to required r2 stop (blocked)" in summary, summary
    # only the group's pseudo-actions remain
    assert _executed(ws) == {("G", "start"), ("G", "stop")}, _executed(ws)


def test_a_cloned_group_with_a_disabled_member_is_never_running() -> None:
    """A group instance runs only when all its members start; a clone of such groups is
    running only if one instance is, so what is ordered after the clone is blocked while
    the members that can start do."""
    text = """
<cib validate-with="pacemaker-3.0" have-quorum="true">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/></nodes>
    <resources>
      <clone id="C"><group id="G">
        <primitive id="A" class="ocf" provider="pacemaker" type="Dummy"/>
        <primitive id="B" class="ocf" provider="pacemaker" type="Dummy">
          <meta_attributes id="B-m"><nvpair id="B-r" name="target-role" value="Stopped"/>
          </meta_attributes>
        </primitive>
      </group></clone>
      <primitive id="V" class="ocf" provider="pacemaker" type="Dummy"/>
    </resources>
    <constraints>
      <rsc_order id="o-c-v" first="C" then="V"/>
      <rsc_colocation id="v-with-c" rsc="V" with-rsc="C" score="INFINITY"/>
    </constraints>
  </configuration>
  <status>
    <node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member"
      expected="member"/>
  </status>
</cib>"""
    ws = schedule(etree.fromstring(text), NOW)
    summary = _summary(ws)
    assert "* Start A:0 ( node1 )" in summary, summary
    assert "* Start V ( node1 ) due to unrunnable C running (blocked)" in summary, summary
    assert ("A:0", "start") in _executed(ws)
    assert ("V", "start") not in _executed(ws)


def _restart_cib(order_kind: str) -> str:
    """P runs nowhere it may (banned from its only node), a clone of groups ordered after
    it runs on node1 with members a, b, c."""
    running = "".join(
        _history(r, _op(r, i, "start")) for i, r in enumerate(("P", "a", "b", "c"), start=1)
    )
    return f"""
<cib validate-with="pacemaker-3.0" have-quorum="true">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/></nodes>
    <resources>
      {_primitive("P")}
      <clone id="C"><group id="G">{_primitive("a")}{_primitive("b")}{_primitive("c")}</group>
      </clone>
    </resources>
    <constraints>
      <rsc_location id="no-p" rsc="P" node="node1" score="-INFINITY"/>
      <rsc_order id="p-then-c" first="P" then="C" kind="{order_kind}"/>
    </constraints>
  </configuration>
  <status>
    <node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member"
      expected="member"><lrm id="1"><lrm_resources>{running}</lrm_resources></lrm>
    </node_state>
  </status>
</cib>"""


def test_a_clone_of_groups_after_a_stopping_resource_stops_member_by_member() -> None:
    """An ordering on a clone of groups reaches each group member (Pacemaker's group
    update_ordered_actions): the first member's start is required by the ordering and cannot
    run, so it stops; the next member's stop is required by that stop, and the last one's
    restart by the start before it, depth-first as Pacemaker follows its orderings."""
    ws = schedule(etree.fromstring(_restart_cib("Mandatory")), NOW)
    summary = _summary(ws)
    assert "* Stop P ( node1 ) due to node availability" in summary, summary
    assert "* Stop a:0 ( node1 ) due to required P start" in summary, summary
    assert "* Stop b:0 ( node1 ) due to required a:0 stop" in summary, summary
    assert "* Stop c:0 ( node1 ) due to required b:0 start" in summary, summary
    stops = {r for r, t in _executed(ws) if t == "stop"}
    assert {"P", "a:0", "b:0", "c:0"} <= stops
