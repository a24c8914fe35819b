"""Placement with placement-strategy=balanced: resources are placed in Pacemaker's order
(cmp_resources: priority, then the score on the current node with what the resource is
colocated with merged in, counting that only where resources can run), and a migration
waits for room on its target (load_stopped of the target, not of the source)."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from hactl.core.scheduler import execute, output, schedule

NOW = dt.datetime(2024, 5, 1, 12, 0, 0)
#: the digest of a Dummy's parameters when it has none (Pacemaker's, feature set 3.0.9)
DIGEST = "f2317cad3d54cec5d7d7aa7d0bf35cf8"


def _running(rsc: str, node: str, call: int) -> str:
    return (
        f'<lrm_resource id="{rsc}" class="ocf" provider="pacemaker" type="Dummy">'
        f'<lrm_rsc_op id="{rsc}_last_0" operation_key="{rsc}_start_0" operation="start" '
        f'call-id="{call}" rc-code="0" op-status="0" interval="0" '
        f'transition-key="{call}:1:0:x" on_node="{node}" crm_feature_set="3.0.9" '
        f'op-digest="{DIGEST}"/></lrm_resource>'
    )


def _vm(rsc: str) -> str:
    return (
        f'<primitive id="{rsc}" class="ocf" provider="pacemaker" type="Dummy">'
        f'<meta_attributes id="{rsc}-m"><nvpair id="{rsc}-am" name="allow-migrate" '
        'value="true"/></meta_attributes>'
        f'<utilization id="{rsc}-u"><nvpair id="{rsc}-cpu" name="cpu" value="2"/>'
        "</utilization></primitive>"
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


def _state(node_id: str, name: str, history: str) -> str:
    return (
        f'<node_state id="{node_id}" uname="{name}" in_ccm="true" crmd="online" '
        f'join="member" expected="member"><lrm id="{node_id}"><lrm_resources>{history}'
        "</lrm_resources></lrm></node_state>"
    )


def _cib(nodes: str, resources: str, constraints: str, states: str) -> etree._Element:
    return etree.fromstring(f"""
<cib validate-with="pacemaker-3.7" have-quorum="true" admin_epoch="0" epoch="1"
  num_updates="0">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
      <nvpair id="o2" name="placement-strategy" value="balanced"/>
    </cluster_property_set></crm_config>
    <nodes>{nodes}</nodes>
    <resources>{resources}</resources>
    <constraints>{constraints}</constraints>
  </configuration>
  <status>{states}</status>
</cib>""")


def _summary(ws: object) -> list[str]:
    return [" ".join(line.split()) for line in output.transition_summary(ws)]  # type: ignore[arg-type]


def test_a_migration_waits_for_room_on_its_target_only() -> None:
    cib = _cib(
        _node("1", "node1") + _node("2", "node2"),
        _vm("vm"),
        '<rsc_location id="vm-on-2" rsc="vm" node="node2" score="100"/>',
        _state("1", "node1", _running("vm", "node1", 1)) + _state("2", "node2", ""),
    )
    ws = schedule(cib, NOW)
    assert _summary(ws) == ["* Migrate vm ( node1 -> node2 )"], _summary(ws)
    migrate_to = next(a for a in ws.actions if a.task == "migrate_to")
    loads = sorted(a.task for a, _ in migrate_to.before if a.task.startswith("load_stopped"))
    assert loads == ["load_stopped_node2"], loads
    done = execute.run_graph(ws)
    assert len(done) == sum(1 for a in ws.actions if a.in_graph)


def test_a_preference_for_a_standby_node_does_not_place_a_resource_first() -> None:
    """b prefers its current node, node3, which is in standby; colocated with the clone
    there, that node counts as -INFINITY when resources are ordered, so a (configured
    first) is placed first and takes the roomiest node."""
    clone = (
        '<clone id="C"><primitive id="c" class="ocf" provider="pacemaker" type="Dummy"/></clone>'
    )
    constraints = (
        '<rsc_location id="b-on-3" rsc="b" node="node3" score="INFINITY"/>'
        '<rsc_colocation id="a-with-c" rsc="a" with-rsc="C" score="INFINITY"/>'
        '<rsc_colocation id="b-with-c" rsc="b" with-rsc="C" score="INFINITY"/>'
    )
    states = (
        _state("1", "node1", _running("c", "node1", 1))
        + _state("2", "node2", _running("c", "node2", 2))
        + _state("3", "node3", _running("a", "node3", 3) + _running("b", "node3", 4))
    )
    cib = _cib(
        _node("1", "node1") + _node("2", "node2") + _node("3", "node3", standby=True),
        clone + _vm("a") + _vm("b"),
        constraints,
        states,
    )
    summary = _summary(schedule(cib, NOW))
    assert "* Migrate a ( node3 -> node1 )" in summary, summary
    assert "* Migrate b ( node3 -> node2 )" in summary, summary


def test_two_resources_migrating_past_each_other_do_not_wait_on_each_other() -> None:
    """a moves node1 -> node2 and b node2 -> node1: each migrate_to would wait for room on
    its target, freed only by the other's migration; one of those waits is dropped."""
    cib = _cib(
        _node("1", "node1") + _node("2", "node2"),
        _vm("a") + _vm("b"),
        '<rsc_location id="a-on-2" rsc="a" node="node2" score="100"/>'
        '<rsc_location id="b-on-1" rsc="b" node="node1" score="100"/>',
        _state("1", "node1", _running("a", "node1", 1))
        + _state("2", "node2", _running("b", "node2", 2)),
    )
    ws = schedule(cib, NOW)
    assert sorted(_summary(ws)) == [
        "* Migrate a ( node1 -> node2 )",
        "* Migrate b ( node2 -> node1 )",
    ], _summary(ws)
    done = execute.run_graph(ws)
    assert len(done) == sum(1 for a in ws.actions if a.in_graph)
