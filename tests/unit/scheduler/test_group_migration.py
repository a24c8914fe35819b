"""Live migration inside a group: a member stops before the member before it, so it can
migrate only if that one migrates too; the first member is held up by no one."""

from __future__ import annotations

from .cib_text import cib, meta, node_state, primitive, running, scheduled, summary


def test_a_member_after_an_unmigratable_one_moves_instead() -> None:
    members = (
        primitive("A", meta("A", allow_migrate="true"))
        + primitive("B")
        + primitive("C", meta("C", allow_migrate="true"))
    )
    history = "".join(running(r, i) for i, r in enumerate(("A", "B", "C"), start=1))
    text = cib(
        f'<group id="G">{members}</group>',
        '<rsc_location id="g-on-2" rsc="G" node="node2" score="INFINITY"/>',
        node_state("1", history) + node_state("2"),
    )
    lines = summary(scheduled(text))
    assert any(line.startswith("* Migrate A ( node1 -> node2 )") for line in lines), lines
    assert any(line.startswith("* Move B ( node1 -> node2 )") for line in lines), lines
    assert "* Move C ( node1 -> node2 ) due to unmigrateable B stop" in lines, lines
