"""A group around an unmanaged or blocked member: Pacemaker schedules that member's stop,
unrunnable, so what the group orders with it cannot happen either (a later member's stop
before it, the start of an inactive member before it), and a restart whose stop cannot
run is blocked as a whole."""

from __future__ import annotations

from hactl.core.scheduler.model import WorkingSet

from .cib_text import (
    cib,
    lrm_op,
    lrm_resource,
    meta,
    node_state,
    nodes,
    primitive,
    scheduled,
    summary,
)


def _schedule(members: str, history: str) -> WorkingSet:
    """A group of `members` on one node, node1, whose history is `history`."""
    return scheduled(
        cib(f'<group id="G">{members}</group>', status=node_state("1", history), node_list=nodes(1))
    )


def _unmanaged(rsc: str) -> str:
    return primitive(rsc, meta(rsc, is_managed="false"))


def _history(rsc: str, *ops: str) -> str:
    return lrm_resource(rsc, "".join(ops))


def _executed(ws: WorkingSet) -> set[tuple[str, str]]:
    return {(a.rsc.id, a.task) for a in ws.actions if a.in_graph and a.rsc is not None}


def test_an_inactive_member_before_an_unmanaged_one_does_not_start() -> None:
    """A member added before an unmanaged, active one would start while that one runs:
    its start follows the unmanaged member's stop, which cannot happen."""
    members = primitive("A") + primitive("new") + _unmanaged("B")
    history = (
        _history("A", lrm_op("A", 1, "start"))
        + _history("new", lrm_op("new", 2, "monitor", rc=7))
        + _history("B", lrm_op("B", 3, "start"))
    )
    ws = _schedule(members, history)
    assert "* Start new ( node1 ) due to unrunnable B stop (blocked)" in summary(ws)
    assert ("new", "start") not in _executed(ws)


def test_a_restart_whose_stop_is_blocked_does_not_happen() -> None:
    """A stopped first member starts, so the members after it restart; the last one's stop
    failed (blocked), so the stops before it, and then the restart, cannot happen."""
    members = "".join(primitive(r) for r in ("r1", "r2", "r3", "r4"))
    history = (
        _history("r1", lrm_op("r1", 1, "monitor", rc=7))
        + _history("r2", lrm_op("r2", 2, "start"))
        + _history("r3", lrm_op("r3", 3, "start"))
        + _history(
            "r4",
            lrm_op("r4", 4, "start"),
            lrm_op("r4", 5, "monitor", rc=1, interval=10000),
            lrm_op("r4", 6, "stop", rc=1),
        )
    )
    ws = _schedule(members, history)
    lines = summary(ws)
    assert "* Start r1 ( node1 ) due to unrunnable r2 stop (blocked)" in lines, lines
    assert "* Stop r2 ( node1 ) due to unrunnable r3 stop (blocked)" in lines, lines
    assert "* Stop r3 ( node1 ) due to required r2 stop (blocked)" in lines, lines
    # only the group's pseudo-actions remain
    assert _executed(ws) == {("G", "start"), ("G", "stop")}, _executed(ws)


def test_a_cloned_group_with_a_disabled_member_is_never_running() -> None:
    """A group instance runs only when all its members start; a clone of such groups is
    running only if one instance is, so what is ordered after the clone is blocked while
    the members that can start do."""
    disabled = primitive("B", meta("B", target_role="Stopped"))
    text = cib(
        f'<clone id="C"><group id="G">{primitive("A")}{disabled}</group></clone>' + primitive("V"),
        '<rsc_order id="o-c-v" first="C" then="V"/>'
        '<rsc_colocation id="v-with-c" rsc="V" with-rsc="C" score="INFINITY"/>',
        node_state("1"),
        nodes(1),
    )
    ws = scheduled(text)
    lines = summary(ws)
    assert "* Start A:0 ( node1 )" in lines, lines
    assert "* Start V ( node1 ) due to unrunnable C running (blocked)" in lines, lines
    assert ("A:0", "start") in _executed(ws)
    assert ("V", "start") not in _executed(ws)


def _restart_cib(order_kind: str) -> str:
    """P runs nowhere it may (banned from its only node), a clone of groups ordered after
    it runs on node1 with members a, b, c."""
    running = "".join(
        _history(r, lrm_op(r, i, "start")) for i, r in enumerate(("P", "a", "b", "c"), start=1)
    )
    members = primitive("a") + primitive("b") + primitive("c")
    return cib(
        primitive("P") + f'<clone id="C"><group id="G">{members}</group></clone>',
        '<rsc_location id="no-p" rsc="P" node="node1" score="-INFINITY"/>'
        f'<rsc_order id="p-then-c" first="P" then="C" kind="{order_kind}"/>',
        node_state("1", running),
        nodes(1),
    )


def test_a_clone_of_groups_after_a_stopping_resource_stops_member_by_member() -> None:
    """An ordering on a clone of groups reaches each group member (Pacemaker's group
    update_ordered_actions): the first member's start is required by the ordering and cannot
    run, so it stops; the next member's stop is required by that stop, and the last one's
    restart by the start before it, depth-first as Pacemaker follows its orderings."""
    ws = scheduled(_restart_cib("Mandatory"))
    lines = summary(ws)
    assert "* Stop P ( node1 ) due to node availability" in lines, lines
    assert "* Stop a:0 ( node1 ) due to required P start" in lines, lines
    assert "* Stop b:0 ( node1 ) due to required a:0 stop" in lines, lines
    assert "* Stop c:0 ( node1 ) due to required b:0 start" in lines, lines
    stops = {r for r, t in _executed(ws) if t == "stop"}
    assert {"P", "a:0", "b:0", "c:0"} <= stops
