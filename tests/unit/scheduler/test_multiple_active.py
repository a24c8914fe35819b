"""multiple-active=stop_unexpected: a resource found active on several nodes stops only on
the nodes it is not to stay on, and its start where it stays is a pseudo-action (Pacemaker's
is_expected_node)."""

from __future__ import annotations

from .cib_text import cib, meta, node_state, primitive, running, scheduled, summary


def test_only_the_unexpected_copy_stops() -> None:
    text = cib(
        primitive("A", meta("A", multiple_active="stop_unexpected")),
        '<rsc_location id="a-on-1" rsc="A" node="node1" score="100"/>',
        node_state("1", running("A", 1)) + node_state("2", running("A", 1, "node2")),
    )
    ws = scheduled(text)
    graphed = {a.name(): a for a in ws.actions if a.in_graph}
    assert "A_stop_0 node2" in graphed
    assert graphed["A_stop_0 node2"].reason == "being multiply active"
    assert not any(a.task == "stop" and a.node is ws.node("node1") for a in ws.by_id["A"].actions)
    start = next(a for a in ws.by_id["A"].actions if a.task == "start")
    assert start.node is ws.node("node1") and start.pseudo
    lines = summary(ws)
    assert lines and lines[0].startswith("* Restart A ( node1 )"), lines
