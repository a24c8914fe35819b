"""What blocks a resource colocated with a clone, as Pacemaker decides it: a role in the
colocation counts only for a promotable clone, and a clone whose instances cannot run
because none of them has an instance to interleave with blocks none of its dependents
(Pacemaker unassigns such instances, which does not block colocation dependents). Also
what Pacemaker still does for an unmanaged resource: cancel the monitors no longer
configured."""

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
    running,
    scheduled,
    summary,
)


def _clone(clone: str, rsc: str, interleave: bool = False) -> str:
    options = meta(clone, interleave="true") if interleave else ""
    return f'<clone id="{clone}">{options}{primitive(rsc)}</clone>'


def _schedule(resources: str, constraints: str, history: str) -> WorkingSet:
    """One node, node1, whose history is `history`."""
    return scheduled(cib(resources, constraints, node_state("1", history), nodes(1)))


def test_a_promoted_role_is_ignored_for_a_clone_that_is_not_promotable() -> None:
    ws = _schedule(
        primitive("ip") + _clone("web-clone", "web"),
        '<rsc_colocation id="ip-with-web" rsc="ip" rsc-role="Started" score="INFINITY" '
        'with-rsc="web-clone" with-rsc-role="Promoted"/>',
        running("ip", 1) + running("web", 2),
    )
    assert summary(ws) == [], summary(ws)


def test_instances_without_an_interleave_partner_block_no_dependent() -> None:
    """B's instances are unassigned for want of an A instance (A is banned), so B cannot
    start, yet C, which needs B, keeps running; D, ordered after B, cannot start. This is
    current Pacemaker's behaviour (the corpus case unrunnable-2 records it); the installed
    Pacemaker 2.1.5 still stops C here."""
    resources = (
        _clone("A-clone", "A")
        + _clone("B-clone", "B", interleave=True)
        + _clone("C-clone", "C")
        + primitive("D")
    )
    constraints = (
        '<rsc_location id="a-off" rsc="A-clone" node="node1" score="-INFINITY"/>'
        '<rsc_order id="a-then-b" first="A-clone" then="B-clone"/>'
        '<rsc_colocation id="c-with-b" rsc="C-clone" score="INFINITY" with-rsc="B-clone"/>'
        '<rsc_order id="b-then-d" first="B-clone" then="D"/>'
    )
    ws = _schedule(resources, constraints, running("C", 1))
    lines = summary(ws)
    assert not any("C:0" in line for line in lines), lines
    assert lines == ["* Start D ( node1 ) due to unrunnable B-clone running (blocked)"], lines


def test_an_unmanaged_resource_has_its_removed_monitor_cancelled() -> None:
    """Its monitor is no longer configured: Pacemaker cancels it even for an unmanaged
    resource, which otherwise gets no action."""
    unmanaged = primitive("U", meta("U", is_managed="false"))
    history = lrm_resource("U", lrm_op("U", 1) + lrm_op("U", 11, "monitor", interval=10000))
    ws = _schedule(unmanaged, "", history)
    graphed = [(a.rsc.id, a.task, a.interval_ms) for a in ws.actions if a.in_graph and a.rsc]
    assert graphed == [("U", "cancel", 10000)], graphed
