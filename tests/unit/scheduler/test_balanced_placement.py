"""Placement with placement-strategy=balanced: resources are placed in Pacemaker's order
(cmp_resources: priority, then the score on the current node with what the resource is
colocated with merged in, counting that only where resources can run), and a migration
waits for room on its target (load_stopped of the target, not of the source)."""

from __future__ import annotations

from hactl.core.scheduler import execute

from .cib_text import cib, meta, node_state, primitive, running, scheduled, summary


def _vm(rsc: str) -> str:
    return primitive(
        rsc,
        meta(rsc, allow_migrate="true")
        + f'<utilization id="{rsc}-u"><nvpair id="{rsc}-cpu" name="cpu" value="2"/>'
        "</utilization>",
    )


def _node(node_id: str, name: str, standby: bool = False) -> str:
    attrs = (
        f'<instance_attributes id="{name}-a"><nvpair id="{name}-s" name="standby" '
        'value="on"/></instance_attributes>'
        if standby
        else ""
    )
    return (
        f'<node id="{node_id}" uname="{name}">{attrs}<utilization id="{name}-u">'
        f'<nvpair id="{name}-cpu" name="cpu" value="8"/></utilization></node>'
    )


def _cib(node_list: str, resources: str, constraints: str, states: str) -> str:
    return cib(
        resources,
        constraints,
        states,
        node_list,
        properties='<nvpair id="o2" name="placement-strategy" value="balanced"/>',
    )


def test_a_migration_waits_for_room_on_its_target_only() -> None:
    text = _cib(
        _node("1", "node1") + _node("2", "node2"),
        _vm("vm"),
        '<rsc_location id="vm-on-2" rsc="vm" node="node2" score="100"/>',
        node_state("1", running("vm", 1)) + node_state("2"),
    )
    ws = scheduled(text)
    assert summary(ws) == ["* Migrate vm ( node1 -> node2 )"], summary(ws)
    migrate_to = next(a for a in ws.actions if a.task == "migrate_to")
    loads = sorted(a.task for a, _ in migrate_to.before if a.task.startswith("load_stopped"))
    assert loads == ["load_stopped_node2"], loads
    done = execute.run_graph(ws)
    assert len(done) == sum(1 for a in ws.actions if a.in_graph)


def test_a_preference_for_a_standby_node_does_not_place_a_resource_first() -> None:
    """b prefers its current node, node3, which is in standby; colocated with the clone
    there, that node counts as -INFINITY when resources are ordered, so a (configured
    first) is placed first and takes the roomiest node."""
    clone = f'<clone id="C">{primitive("c")}</clone>'
    constraints = (
        '<rsc_location id="b-on-3" rsc="b" node="node3" score="INFINITY"/>'
        '<rsc_colocation id="a-with-c" rsc="a" with-rsc="C" score="INFINITY"/>'
        '<rsc_colocation id="b-with-c" rsc="b" with-rsc="C" score="INFINITY"/>'
    )
    states = (
        node_state("1", running("c", 1))
        + node_state("2", running("c", 2, "node2"))
        + node_state("3", running("a", 3, "node3") + running("b", 4, "node3"))
    )
    text = _cib(
        _node("1", "node1") + _node("2", "node2") + _node("3", "node3", standby=True),
        clone + _vm("a") + _vm("b"),
        constraints,
        states,
    )
    lines = summary(scheduled(text))
    assert "* Migrate a ( node3 -> node1 )" in lines, lines
    assert "* Migrate b ( node3 -> node2 )" in lines, lines


def test_two_resources_migrating_past_each_other_do_not_wait_on_each_other() -> None:
    """a moves node1 -> node2 and b node2 -> node1: each migrate_to would wait for room on
    its target, freed only by the other's migration; one of those waits is dropped."""
    text = _cib(
        _node("1", "node1") + _node("2", "node2"),
        _vm("a") + _vm("b"),
        '<rsc_location id="a-on-2" rsc="a" node="node2" score="100"/>'
        '<rsc_location id="b-on-1" rsc="b" node="node1" score="100"/>',
        node_state("1", running("a", 1)) + node_state("2", running("b", 2, "node2")),
    )
    ws = scheduled(text)
    assert sorted(summary(ws)) == [
        "* Migrate a ( node1 -> node2 )",
        "* Migrate b ( node2 -> node1 )",
    ], summary(ws)
    done = execute.run_graph(ws)
    assert len(done) == sum(1 for a in ws.actions if a.in_graph)
