"""A resource whose recorded agent differs from its definition is cleaned up (its history
deleted, restarted where it runs) only on nodes that can run actions (Pacemaker checks
definitions on available nodes only)."""

from __future__ import annotations

from .cib_text import cib, node_state, primitive, running, scheduled


def _deletes(shutting_down: bool) -> list[str]:
    shutdown = (
        '<transient_attributes id="1"><instance_attributes id="t1">'
        '<nvpair id="t1-s" name="shutdown" value="1700000000"/>'
        "</instance_attributes></transient_attributes>"
        if shutting_down
        else ""
    )
    # recorded as a Dummy, now defined as a Stateful
    text = cib(
        primitive("A", agent="Stateful"),
        status=node_state("1", running("A", 1), extra=shutdown) + node_state("2"),
    )
    ws = scheduled(text)
    return sorted(a.name() for a in ws.actions if a.task == "delete" and a.in_graph)


def test_a_changed_agent_is_cleaned_up_where_actions_can_run() -> None:
    assert _deletes(shutting_down=False) == ["A_delete_0 node1"]


def test_not_on_a_node_shutting_down() -> None:
    assert _deletes(shutting_down=True) == []
