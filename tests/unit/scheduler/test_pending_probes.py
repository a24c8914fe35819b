"""A node still joining (pending) gets probes that cannot run yet; a resource active
nowhere cannot start until it is probed there (Pacemaker's pcmk__probe_rsc_on_node)."""

from __future__ import annotations

from hactl.core.scheduler.model import WorkingSet

from .cib_text import cib, node_state, nodes, primitive, running, scheduled, summary


def _schedule(node2_running: bool) -> WorkingSet:
    joining = '<node_state id="3" uname="node3" in_ccm="true" crmd="online" join="down"/>'
    text = cib(
        primitive("A") + '<primitive id="fence" class="stonith" type="fence_xvm"/>',
        '<rsc_location id="a-not-3" rsc="A" node="node3" score="-INFINITY"/>'
        '<rsc_location id="a-not-2" rsc="A" node="node2" score="-INFINITY"/>',
        node_state("1")
        + node_state("2", running("A", 1, "node2") if node2_running else "")
        + joining,
        nodes(3),
        fencing=True,
    )
    return scheduled(text)


def test_a_resource_active_nowhere_waits_for_its_probe_on_a_pending_node() -> None:
    ws = _schedule(node2_running=False)
    assert ws.node("node3") is not None and ws.node("node3").pending  # type: ignore[union-attr]
    probe = next(a for a in ws.actions if a.name() == "A_monitor_0 node3")
    assert not probe.runnable and not probe.in_graph
    lines = summary(ws)
    # blocked by its own probe: no reason is given, as Pacemaker gives none
    assert "* Start A ( node1 ) blocked" in lines, lines


def test_a_resource_running_elsewhere_is_not_held_up() -> None:
    ws = _schedule(node2_running=True)  # it moves from node2 to node1
    lines = summary(ws)
    assert any(line.startswith("* Move A ( node2 -> node1 )") for line in lines), lines
    assert not any(
        a.task == "start" and a.rsc is ws.by_id["A"] and not a.runnable for a in ws.actions
    )
