"""rsc-pattern in a location constraint (Pacemaker's unpack_location): a regular expression
searched in resource names; a leading ! applies the constraint to the resources it does not
match; an invalid expression makes the constraint ignored."""

from __future__ import annotations

from .cib_text import cib, node_state, nodes, primitive, scheduled


def _placed(pattern: str) -> dict[str, str | None]:
    text = cib(
        "".join(primitive(r) for r in ("web1", "web2", "db1")),
        f'<rsc_location id="ban" rsc-pattern="{pattern}" node="node1" score="-INFINITY"/>',
        node_state("1"),
        nodes(1),
    )
    ws = scheduled(text)
    return {r: (n.name if (n := ws.by_id[r].assigned) else None) for r in ws.by_id}


def test_a_pattern_bans_what_it_matches() -> None:
    assert _placed("web") == {"web1": None, "web2": None, "db1": "node1"}


def test_a_negated_pattern_bans_what_it_does_not_match() -> None:
    assert _placed("!web") == {"web1": "node1", "web2": "node1", "db1": None}


def test_an_invalid_pattern_is_ignored() -> None:
    assert _placed("web(") == {"web1": "node1", "web2": "node1", "db1": "node1"}
