"""The order resources are placed in under a utilization placement strategy: after priority
and the score where each runs, a higher score on the first node of the cluster's node order
goes first, where nodes that cannot run resources (standby) come last."""

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
)


def _cpu(owner: str, count: int) -> str:
    return (
        f'<utilization id="{owner}-u"><nvpair id="{owner}-cpu" name="cpu" value="{count}"/>'
        "</utilization>"
    )


def _online(*names: str) -> str:
    """Online states of nodes whose id is their name."""
    return "".join(node_state(n, name=n) for n in names)


UTILIZATION = '<nvpair id="o2" name="placement-strategy" value="utilization"/>'


def _nodes_with_cpus(node1: int, node2: int) -> str:
    """node1 and node2 (ids their names) with so many cpus each."""
    return "".join(
        f'<node id="{n}" uname="{n}">{_cpu(n, cpus)}</node>'
        for n, cpus in (("node1", node1), ("node2", node2))
    )


def test_a_resource_on_a_standby_node_is_placed_after_one_that_may_stay() -> None:
    nodes = "".join(
        f'<node id="{n}" uname="{n}">{_cpu(n, 1)}{extra}</node>'
        for n, extra in (
            (
                "node1",
                '<instance_attributes id="n1-a">'
                '<nvpair id="n1-s" name="standby" value="on"/></instance_attributes>',
            ),
            ("node2", ""),
        )
    )
    resources = "".join(primitive(r, _cpu(r, 1)) for r in ("rsc1", "rsc2"))
    states = "".join(
        node_state(n, running(r, 1, n), name=n) for n, r in (("node1", "rsc1"), ("node2", "rsc2"))
    )
    text = f"""
<cib validate-with="pacemaker-3.0" have-quorum="true">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
      <nvpair id="o2" name="placement-strategy" value="balanced"/>
    </cluster_property_set></crm_config>
    <nodes>{nodes}</nodes>
    <resources>{resources}</resources>
    <constraints/>
    <rsc_defaults><meta_attributes id="d">
      <nvpair id="d1" name="resource-stickiness" value="100"/>
    </meta_attributes></rsc_defaults>
  </configuration>
  <status>{states}</status>
</cib>"""
    ws = scheduled(text)
    # both weigh 100 where they run; on node2 (first in node order, node1 being standby)
    # rsc2 weighs more, so it keeps node2's only cpu and rsc1 has nowhere to go
    assert ws.by_id["rsc2"].assigned is not None
    assert ws.by_id["rsc2"].assigned.name == "node2"
    assert ws.by_id["rsc1"].assigned is None


def test_an_instance_active_where_it_may_no_longer_run_is_placed_after_the_others() -> None:
    """Pacemaker's pcmk__cmp_instance: the instance banned where it runs (its fail count
    reached the threshold) comes after an inactive one, which so takes the free node."""
    failed = (
        '<transient_attributes id="2"><instance_attributes id="ta2">'
        '<nvpair id="fc" name="fail-count-A#start_0" value="INFINITY"/>'
        "</instance_attributes></transient_attributes>"
    )
    states = node_state("1") + node_state("2", running("A", 1, "node2"), extra=failed)
    ws = scheduled(cib(f'<clone id="AC">{primitive("A")}</clone>', status=states))
    lines = summary(ws)
    assert "* Stop A:0 ( node2 ) due to node availability" in lines, lines
    assert "* Start A:1 ( node1 )" in lines, lines


def test_an_optional_anti_colocation_that_leaves_no_node_is_undone() -> None:
    """Pacemaker's apply_this_with: A avoids B (-5000) but may only run where B runs, so the
    anti-colocation is reverted and A runs beside B rather than nowhere."""
    text = cib(
        primitive("A") + primitive("B"),
        '<rsc_location id="b-on-2" rsc="B" node="node2" score="INFINITY"/>'
        '<rsc_location id="a-not-1" rsc="A" node="node1" score="-INFINITY"/>'
        '<rsc_colocation id="a-avoids-b" rsc="A" with-rsc="B" score="-5000"/>',
        node_state("1") + node_state("2"),
    )
    ws = scheduled(text)
    assert ws.by_id["B"].assigned is not None and ws.by_id["B"].assigned.name == "node2"
    assert ws.by_id["A"].assigned is not None and ws.by_id["A"].assigned.name == "node2"


def _with_group(score: str) -> dict[str, str | None]:
    """Group G of A and B (B stopped by its target-role) and C colocated with G."""
    stopped = primitive("B", meta("B", target_role="Stopped"))
    text = cib(
        f'<group id="G">{primitive("A")}{stopped}</group>{primitive("C")}',
        f'<rsc_colocation id="c-with-g" rsc="C" with-rsc="G" score="{score}"/>',
        node_state("1") + node_state("2"),
    )
    ws = scheduled(text)
    return {r: (n.name if (n := ws.by_id[r].assigned) else None) for r in ("A", "B", "C")}


def test_a_mandatory_colocation_with_a_group_needs_its_last_member() -> None:
    """Pacemaker's colocate_with_group: with INFINITY the whole group must be placed, so C
    follows the last member (stopped, so C cannot run); an optional colocation follows the
    first member."""
    mandatory = _with_group("INFINITY")
    assert mandatory["A"] is not None and mandatory["B"] is None
    assert mandatory["C"] is None
    optional = _with_group("100")
    assert optional["C"] is not None and optional["C"] == optional["A"]


def _a_with_b(a_meta: str, influence: str = "") -> dict[str, str | None]:
    """A (banned from node1 by a location) colocated with B; both run on node1."""
    text = cib(
        primitive("A", a_meta) + primitive("B"),
        '<rsc_location id="a-not-1" rsc="A" node="node1" score="-INFINITY"/>'
        f'<rsc_colocation id="a-with-b" rsc="A" with-rsc="B" score="INFINITY" {influence}/>',
        node_state("1", running("A", 1) + running("B", 2)) + node_state("2"),
    )
    ws = scheduled(text)
    return {r: (n.name if (n := ws.by_id[r].assigned) else None) for r in ("A", "B")}


def test_a_dependent_that_is_not_critical_does_not_pull_its_primary_along() -> None:
    """Pacemaker's unpack_influence: without an influence attribute, a colocation takes
    its dependent's critical meta attribute (default true)."""
    assert _a_with_b("") == {"A": "node2", "B": "node2"}
    not_critical = (
        '<meta_attributes id="a-m"><nvpair id="a-c" name="critical" value="false"/>'
        "</meta_attributes>"
    )
    assert _a_with_b(not_critical) == {"A": None, "B": "node1"}
    # an explicit influence wins over critical; an invalid one is ignored
    assert _a_with_b(not_critical, 'influence="true"') == {"A": "node2", "B": "node2"}
    assert _a_with_b(not_critical, 'influence="maybe"') == {"A": None, "B": "node1"}


def test_a_mandatory_colocation_with_a_clone_avoids_its_blocked_instances() -> None:
    """Pacemaker's pcmk__clone_apply_coloc_score: only unblocked instances host S."""

    def history(rsc: str, node: str, failed: bool) -> str:
        monitor = lrm_op(rsc, 2, "monitor", node, rc=1, interval=10000) if failed else ""
        return lrm_resource(rsc, lrm_op(rsc, 1, node=node) + monitor)

    states = node_state(
        "1", history("P", "node1", failed=True) + history("S", "node1", failed=False)
    ) + node_state("2", history("P", "node2", failed=False))
    blocking = primitive(
        "P", '<operations><op id="P-m" name="monitor" interval="10s" on-fail="block"/></operations>'
    )
    text = cib(
        f'<clone id="PC">{blocking}</clone>{primitive("S")}',
        '<rsc_colocation id="s-with-p" rsc="S" with-rsc="PC" score="INFINITY"/>',
        states,
    )
    ws = scheduled(text)
    assert ws.by_id["S"].assigned is not None and ws.by_id["S"].assigned.name == "node2"


def test_capacity_counts_only_the_nodes_a_resource_may_run_on() -> None:
    """Pacemaker's pcmk__ban_insufficient_capacity: rsc2 (4 cpus) must run with rsc1, which
    is banned from node1 (4 cpus); node2 (2 cpus) cannot hold both, so rsc1 is checked
    alone and runs there, while rsc2 finds no room."""
    text = cib(
        primitive("rsc1") + primitive("rsc2", _cpu("rsc2", 4)),
        '<rsc_location id="rsc1-not-1" rsc="rsc1" node="node1" score="-INFINITY"/>'
        '<rsc_colocation id="rsc2-with-rsc1" rsc="rsc2" with-rsc="rsc1" score="INFINITY"/>',
        _online("node1", "node2"),
        _nodes_with_cpus(4, 2),
        properties=UTILIZATION,
    )
    ws = scheduled(text)
    assert ws.by_id["rsc1"].assigned is not None and ws.by_id["rsc1"].assigned.name == "node2"
    assert ws.by_id["rsc2"].assigned is None


def test_a_clone_instance_makes_room_for_the_clones_colocated_with_it() -> None:
    """Pacemaker's pcmk__colocated_resources and pcmk__clone_add_utilization: an instance
    of C1 needs room for one instance of C2, which must run with it."""
    clones = "".join(
        f'<clone id="{clone}">{meta(clone, clone_max="1")}{primitive(rsc, _cpu(rsc, 2))}</clone>'
        for clone, rsc in (("C1", "R1"), ("C2", "R2"))
    )
    text = cib(
        clones,
        '<rsc_colocation id="c2-with-c1" rsc="C2" with-rsc="C1" score="INFINITY"/>',
        _online("node1", "node2"),
        _nodes_with_cpus(2, 8),
        properties=UTILIZATION,
    )
    ws = scheduled(text)
    placed = {r.id: (r.assigned.name if r.assigned else None) for r in ws.all_resources()}
    assert placed["R1:0"] == "node2" and placed["R2:0"] == "node2", placed
