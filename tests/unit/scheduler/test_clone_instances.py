"""Clone instances as Pacemaker makes them: how many, whether they are distinct, and which
instance a node's history belongs to."""

from __future__ import annotations

from hactl.core.scheduler.model import WorkingSet

from .cib_text import DIGEST, cib, node_state, nodes, scheduled, summary, transient


def _cib(
    resources: str,
    nodes_count: int = 2,
    lrm: dict[str, str] | None = None,
    attrs: dict[str, dict[str, str]] | None = None,
    pending: str = "",
    fencing: bool = False,
) -> WorkingSet:
    """`lrm`: node name -> its lrm_resource elements; `attrs`: node name -> attributes;
    `pending`: a node that is a member but has not joined yet (which takes fencing: without
    it, such a node is simply offline)."""
    names = [f"node{i}" for i in range(1, nodes_count + 1)]

    states = ""
    for i, name in enumerate(names, start=1):
        extra = transient(str(i), (attrs or {}).get(name, {}))
        state = node_state(str(i), (lrm or {}).get(name, ""), extra=extra)
        if name == pending:
            state = state.replace(
                'crmd="online" join="member" expected="member"',
                'crmd="offline" join="down" expected="down"',
            )
        states += state
    fence_device = '<primitive id="fence" class="stonith" type="fence_xvm"/>'
    text = cib(
        (fence_device if fencing else "") + resources,
        status=states,
        node_list=nodes(nodes_count),
        fencing=fencing,
    )
    return scheduled(text)


def _unique_clone(members: str, clone_max: int) -> str:
    return (
        '<clone id="c"><meta_attributes id="c-m">'
        '<nvpair id="c-u" name="globally-unique" value="true"/>'
        f'<nvpair id="c-max" name="clone-max" value="{clone_max}"/>'
        f"</meta_attributes>{members}</clone>"
    )


def _probes(ws: WorkingSet) -> list[str]:
    return sorted(
        f"{a.rsc.id}@{a.node.name}"
        for a in ws.actions
        if a.rsc is not None and a.node is not None and a.key.endswith("_monitor_0")
    )


def test_lsb_agent_makes_a_unique_clone_anonymous() -> None:
    """lsb agents cannot have distinct instances: globally-unique is ignored, and the clone
    gets at most one instance per node (Pacemaker's pe__force_anon), each node probed once
    for the anonymous resource (by the instance placed there), not once per instance."""
    ws = _cib(_unique_clone('<primitive id="svc" class="lsb" type="svc"/>', clone_max=5))
    clone = ws.by_id["c"]
    assert not clone.globally_unique
    assert (clone.clone_max, clone.clone_node_max) == (2, 1)
    lines = summary(ws)
    assert lines == ["* Start svc:0 ( node1 )", "* Start svc:1 ( node2 )"], lines
    assert _probes(ws) == ["svc:0@node1", "svc:1@node2"]


def test_one_lsb_member_makes_a_unique_cloned_group_anonymous() -> None:
    members = (
        '<group id="g"><primitive id="d" class="ocf" provider="heartbeat" type="Dummy"/>'
        '<primitive id="svc" class="lsb" type="svc"/></group>'
    )
    ws = _cib(_unique_clone(members, clone_max=2), nodes_count=3)
    clone = ws.by_id["c"]
    assert not clone.globally_unique
    assert len(clone.children) == 2


def test_ocf_agents_keep_a_unique_clone_unique() -> None:
    ws = _cib(_unique_clone('<primitive id="d" class="ocf" provider="heartbeat" type="Dummy"/>', 3))
    clone = ws.by_id["c"]
    assert clone.globally_unique
    assert len(clone.children) == 3


def _entry(rsc: str, task: str, rc: int, status: int = 0, call: int = 1) -> str:
    return (
        f'<lrm_resource id="{rsc}" class="ocf" provider="pacemaker" type="Stateful">'
        f'<lrm_rsc_op id="{rsc}_last_0" operation_key="{rsc}_{task}_0" operation="{task}" '
        f'call-id="{call}" rc-code="{rc}" op-status="{status}" interval="0" '
        f'op-digest="{DIGEST}" transition-key="1:1:{rc}:x" '
        f'transition-magic="{status}:{rc};1:1:{rc}:x"/>'
        "</lrm_resource>"
    )


PROMOTABLE = (
    '<clone id="ms"><meta_attributes id="ms-m">'
    '<nvpair id="ms-p" name="promotable" value="true"/></meta_attributes>'
    '<primitive id="st" class="ocf" provider="pacemaker" type="Stateful"/></clone>'
)


def test_promotion_scores_raise_an_instances_assignment_priority() -> None:
    """The probes on node1 and node2 belong to st:0, so its promotion score counts only
    there (where none is set); st:1 and st:2, with no history, count node3's score, which
    raises their priority (Pacemaker's pcmk__add_promotion_scores): they are placed first
    (node3, then node1), and st:0 takes the node left over."""
    probed = _entry("st", "monitor", 7)
    ws = _cib(
        PROMOTABLE,
        nodes_count=3,
        lrm={n: probed for n in ("node1", "node2")},
        attrs={"node3": {"master-st": "10"}},
    )
    placed = {i: ws.by_id[f"st:{i}"].assigned for i in range(3)}
    assert {i: n.name if n else None for i, n in placed.items()} == {
        0: "node2",
        1: "node3",
        2: "node1",
    }


def test_a_pending_start_is_in_the_graph_though_optional() -> None:
    """A start still in progress where the instance stays is represented by an optional
    start that is always in the graph (Pacemaker's create_pending_start); the summary does
    not announce it."""
    ws = _cib(PROMOTABLE, lrm={"node1": _entry("st", "start", 0, status=-1, call=-1)})
    start = next(
        a
        for a in ws.actions
        if a.task == "start" and a.node is not None and a.node.name == "node1" and a.rsc
    )
    assert start.optional and start.in_graph
    lines = summary(ws)
    assert not any("node1" in line for line in lines), lines


def test_an_unprobed_pending_node_blocks_starting_more_instances() -> None:
    """The clone runs on node1 and keeps running, but while the probe on node2 (joining)
    cannot run, no inactive instance starts: too many might (Pacemaker's
    add_start_orderings_for_probe)."""
    clone = (
        '<clone id="c"><primitive id="d" class="ocf" provider="pacemaker" type="Stateful"/></clone>'
    )
    ws = _cib(
        clone, nodes_count=3, lrm={"node1": _entry("d", "start", 0)}, pending="node2", fencing=True
    )
    assert ws.node("node2") is not None and ws.node("node2").pending  # type: ignore[union-attr]
    lines = summary(ws)
    starts = [line for line in lines if line.startswith("* Start d:")]
    assert len(starts) == 1 and "( node3 ) due to unrunnable" in starts[0], lines
    assert starts[0].endswith("monitor (blocked)"), lines


def _utilization(owner: str, cpu: int) -> str:
    return (
        f'<utilization id="{owner}-u"><nvpair id="{owner}-cpu" name="cpu" value="{cpu}"/>'
        "</utilization>"
    )


def _dummy(name: str, cpu: int) -> str:
    return (
        f'<primitive id="{name}" class="ocf" provider="pacemaker" type="Dummy">'
        f"{_utilization(name, cpu)}</primitive>"
    )


def test_room_for_what_follows_a_clone_instance_decides_its_node() -> None:
    """With a placement strategy, an instance of a cloned group needs room for itself and
    for what is colocated with its clone (group2 with clone2): 8 cpu, which only node3 has
    left, so group1:0 goes there. The first clone's instance, placed before, counts clone2
    by one instance's utilization only, not what follows clone2, so it is not pushed to
    node3 as well (Pacemaker's pcmk__colocated_resources and pcmk__clone_add_utilization)."""
    node_list = "".join(
        f'<node id="{n}" uname="{n}">{_utilization(n, cpu)}</node>'
        for n, cpu in (("node1", 4), ("node2", 8), ("node3", 10))
    )
    states = "".join(
        f'<node_state id="{n}" uname="{n}" in_ccm="true" crmd="online" join="member" '
        'expected="member"/>'
        for n in ("node1", "node2", "node3")
    )
    two = '<meta_attributes id="{0}-m"><nvpair id="{0}-max" name="clone-max" value="2"/>'
    resources = (
        f'<clone id="clone1">{two.format("clone1")}</meta_attributes>{_dummy("rsc1", 2)}'
        f'</clone><clone id="clone2">{two.format("clone2")}</meta_attributes>'
        f'<group id="group1">{_dummy("rsc2", 2)}{_dummy("rsc3", 2)}</group></clone>'
        f'<group id="group2">{_dummy("rsc4", 2)}{_dummy("rsc5", 2)}</group>'
    )
    constraints = (
        '<rsc_colocation id="c1" rsc="clone2" with-rsc="clone1" score="INFINITY"/>'
        '<rsc_colocation id="c2" rsc="group2" with-rsc="clone2" score="INFINITY"/>'
    )
    text = cib(
        resources,
        constraints,
        states,
        node_list,
        properties='<nvpair id="o2" name="placement-strategy" value="utilization"/>',
    )
    ws = scheduled(text)
    placed = {
        r.id: r.assigned.name if r.assigned else None for r in ws.all_resources() if r.is_primitive
    }
    assert placed == {
        "rsc1:0": "node2",
        "rsc1:1": "node3",
        "rsc2:0": "node3",
        "rsc3:0": "node3",
        "rsc2:1": "node2",
        "rsc3:1": "node2",
        "rsc4": "node3",
        "rsc5": "node3",
    }


def test_a_history_is_checked_against_the_resource_it_names() -> None:
    """node2's history of d:0 (a probe, by another agent) belongs to no instance (clone-max
    is 1 and d:0 runs on node1), yet the check for a changed agent finds it by the id it
    names, d:0, and cleans it up (Pacemaker's pcmk__rscs_matching_id)."""
    clone = (
        '<clone id="c"><meta_attributes id="c-m">'
        '<nvpair id="c-max" name="clone-max" value="1"/></meta_attributes>'
        '<primitive id="d" class="ocf" provider="pacemaker" type="Stateful"/></clone>'
    )
    other_agent = _entry("d:0", "monitor", 7).replace('type="Stateful"', 'type="Dummy"')
    ws = _cib(clone, lrm={"node1": _entry("d:0", "start", 0), "node2": other_agent})
    deletes = [
        (a.rsc.id, a.node.name)
        for a in ws.actions
        if a.task == "delete" and a.rsc is not None and a.node is not None
    ]
    assert deletes == [("d:0", "node2")]
