"""A clone's action is required for an ordering only through its instances' actions on the
node of what follows it (Pacemaker computes a clone's flags for an ordering with then's
node): a second instance promoted elsewhere does not restart what runs after the
promotion next to an instance promoted already."""

from __future__ import annotations

from .cib_text import (
    cib,
    lrm_op,
    lrm_resource,
    meta,
    node_state,
    primitive,
    running,
    scheduled,
    summary,
    transient,
)


def _state(node_id: str, history: str) -> str:
    """An online node with a promotion score of 10 for P."""
    return node_state(node_id, history, extra=transient(node_id, {"master-P": "10"}))


def test_a_promotion_elsewhere_does_not_restart_what_follows_the_promoted_instance() -> None:
    clone = (
        f'<clone id="P-clone">{meta("P", promotable="true", promoted_max="2")}'
        f"{primitive('P', agent='Stateful')}</clone>"
    )
    promoted = lrm_resource("P", lrm_op("P", 2, "promote"), "Stateful")
    text = cib(
        clone + primitive("X"),
        '<rsc_location id="x-on-1" rsc="X" node="node1" score="100"/>'
        '<rsc_order id="p-then-x" first="P-clone" first-action="promote" then="X" '
        'then-action="start"/>',
        _state("1", promoted + running("X", 3))
        + _state("2", running("P", 4, node="node2", agent="Stateful")),
    )
    ws = scheduled(text)
    lines = summary(ws)
    assert any(
        line.startswith("* Promote P:1 ( Unpromoted -> Promoted node2 )") for line in lines
    ), lines
    assert not any(" X " in line for line in lines), lines
