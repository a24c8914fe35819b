"""A migratable group ordered after a resource that moves by a restart: the ordering is
the group's, so its members still migrate (the group's stop, not its members', becomes
unmigratable), and no member's migrate_to waits for that resource's start (the group
has no migrate_to to order: Pacemaker's pcmk__order_migration_equivalents)."""

from __future__ import annotations

from hactl.core.scheduler import execute

from .cib_text import cib, meta, node_state, primitive, running, scheduled, summary

CIB = cib(
    primitive("F")
    + f'<group id="G">{meta("G", allow_migrate="true")}{primitive("a")}{primitive("b")}</group>',
    '<rsc_location id="f-on-2" rsc="F" node="node2" score="100"/>'
    '<rsc_order id="f-then-g" first="F" then="G"/>'
    '<rsc_colocation id="g-with-f" rsc="G" with-rsc="F" score="INFINITY"/>',
    node_state("1", running("F", 1) + running("a", 2) + running("b", 3)) + node_state("2"),
)


def test_members_of_a_migratable_group_migrate_after_a_moved_primary() -> None:
    ws = scheduled(CIB)
    assert summary(ws) == [
        "* Move F ( node1 -> node2 )",
        "* Migrate a ( node1 -> node2 )",
        "* Migrate b ( node1 -> node2 )",
    ], summary(ws)
    # the whole transition can run (no member's migrate_to waits on F's start)
    done = execute.run_graph(ws)
    assert len(done) == sum(1 for a in ws.actions if a.in_graph)
