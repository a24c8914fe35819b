"""Edges of the transition graph (crm_simulate -D) on small CIBs, one Pacemaker rule a test."""

from __future__ import annotations

from lxml import etree

from hactl.core.cib.digest import op_digest
from hactl.core.scheduler import WorkingSet, execute, output, schedule

from .cib_text import NOW

NODE_STATE = (
    '<node_state id="{id}" uname="node{id}" in_ccm="true" crmd="online" join="member" '
    'expected="member">{lrm}</node_state>'
)


def cib(
    resources: str,
    constraints: str = "",
    status: dict[int, str] | None = None,
    *,
    nodes: int = 2,
    options: str = '<nvpair id="o1" name="stonith-enabled" value="false"/>',
    lost: tuple[int, ...] = (),
    attributes: dict[int, str] | None = None,
) -> str:
    """A CIB of `nodes` nodes (node1, node2, ...), the DC node1, without fencing unless
    `options` say otherwise; `status` maps a node number to the lrm_resource elements of its
    history, `attributes` to its transient nvpairs; `lost` nodes left the membership
    unexpectedly (so are unclean)."""
    status, attributes = status or {}, attributes or {}
    states = ""
    for n in range(1, nodes + 1):
        lrm = f'<lrm id="{n}"><lrm_resources>{status.get(n, "")}</lrm_resources></lrm>'
        if n in attributes:
            lrm += (
                f'<transient_attributes id="{n}"><instance_attributes id="ta{n}">'
                f"{attributes[n]}</instance_attributes></transient_attributes>"
            )
        state = NODE_STATE.format(id=n, lrm=lrm)
        if n in lost:
            state = state.replace('in_ccm="true" crmd="online"', 'in_ccm="false" crmd="offline"')
        states += state
    node_list = "".join(f'<node id="{n}" uname="node{n}"/>' for n in range(1, nodes + 1))
    return f"""
<cib validate-with="pacemaker-3.0" have-quorum="true" dc-uuid="1">
  <configuration>
    <crm_config><cluster_property_set id="o">{options}</cluster_property_set></crm_config>
    <nodes>{node_list}</nodes>
    <resources>{resources}</resources>
    <constraints>{constraints}</constraints>
  </configuration>
  <status>{states}</status>
</cib>"""


def history(rsc: str, *ops: tuple[str, int, int]) -> str:
    """An lrm_resource for a Dummy with (operation, interval ms, rc) entries in call order."""
    entries = "".join(
        f'<lrm_rsc_op id="{rsc}_{op}_{interval}" operation="{op}" interval="{interval}" '
        f'call-id="{call}" rc-code="{rc}" op-status="0" '
        # the digest of what the executor runs a Dummy here with (no parameters)
        f'op-digest="{op_digest({}, interval_ms=interval, timeout_ms=20000)}" '
        f'transition-key="{call}:0:0:00000000-0000-0000-0000-000000000000" '
        f'transition-magic="0:{rc};{call}:0:0:00000000-0000-0000-0000-000000000000"/>'
        for call, (op, interval, rc) in enumerate(ops, start=1)
    )
    return (
        f'<lrm_resource id="{rsc}" class="ocf" provider="pacemaker" type="Dummy">'
        f"{entries}</lrm_resource>"
    )


def dummy(rid: str, extra: str = "") -> str:
    agent = 'class="ocf" provider="pacemaker" type="Dummy"'
    return f'<primitive id="{rid}" {agent}>{extra}</primitive>'


def run(text: str) -> WorkingSet:
    return schedule(etree.fromstring(text), NOW)


def edges(ws: WorkingSet) -> set[tuple[str, str]]:
    out = set()
    for line in output.dot(ws).splitlines():
        if " -> " in line:
            first, _, rest = line.partition(" -> ")
            out.add((first.strip('"'), rest.split('"')[1]))
    return out


def test_clone_of_groups_is_running_once_each_group_is_running() -> None:
    ws = run(
        cib('<clone id="grp-clone"><group id="grp">' + dummy("a") + dummy("b") + "</group></clone>")
    )
    graph = edges(ws)
    assert ("grp:0_running_0", "grp-clone_running_0") in graph
    assert not any(f.startswith("grp:0_start_0") and t == "grp-clone_running_0" for f, t in graph)


def test_group_waits_for_a_whole_group_it_is_ordered_after() -> None:
    ws = run(
        cib(
            '<group id="g1">' + dummy("a") + dummy("b") + "</group>"
            '<group id="g2">' + dummy("c") + "</group>",
            '<rsc_order id="o" first="g1" then="g2"/>',
        )
    )
    graph = edges(ws)
    assert ("g1_running_0", "g2_start_0") in graph
    assert ("g1_start_0", "g2_start_0") not in graph


def test_promotable_clone_promoted_follows_only_instance_promotions() -> None:
    ws = run(
        cib(
            '<clone id="ms"><meta_attributes id="m">'
            '<nvpair id="m1" name="promotable" value="true"/>'
            '<nvpair id="m2" name="clone-max" value="1"/></meta_attributes>'
            + dummy("s")
            + "</clone>",
            '<rsc_location id="l" rsc="ms" node="node1" score="10" role="Promoted"/>',
        )
    )

    graph = edges(ws)
    assert ("ms_promote_0", "ms_promoted_0") not in graph
    assert ("s:0_promote_0 node1", "ms_promoted_0") in graph
    fired = [a.key for a in execute.run_graph(ws)]
    assert fired.index("ms_promoted_0") > fired.index("ms_promote_0")


FENCING = '<nvpair id="o1" name="stonith-enabled" value="true"/>'
#: with fencing enabled, Pacemaker manages resources only when a fence device is configured
FENCE_DEVICE = '<primitive id="fence" class="stonith" type="fence_xvm"/>'
RUNNING = ("start", 0, 0)


def test_recovery_elsewhere_waits_for_fencing_and_implied_stops_follow_it() -> None:
    ws = run(
        cib(
            FENCE_DEVICE + dummy("a") + '<clone id="c">' + dummy("p") + "</clone>",
            status={1: history("a", RUNNING) + history("p", RUNNING), 2: history("p", RUNNING)},
            nodes=3,
            options=FENCING,
            lost=(2,),
        )
    )
    graph = edges(ws)
    # a on node1 stays; p's instance on the lost node2 stops implicitly, after the fencing
    assert ("stonith 'reboot' node2", "c_stop_0") in graph
    assert any(f == "stonith 'reboot' node2" and t.endswith("_stop_0 node2") for f, t in graph)
    # a start anywhere of a resource that requires fencing waits for it
    starts = [t for f, t in graph if f == "stonith 'reboot' node2" and "_start_0" in t]
    assert starts, graph


def test_probes_precede_what_a_restart_would_stop() -> None:
    # b runs after a; a is unknown on node2, so b must not stop before a is probed there
    ws = run(
        cib(
            dummy("a") + dummy("b"),
            '<rsc_order id="o" first="a" then="b"/>'
            '<rsc_location id="l" rsc="b" node="node2" score="100"/>',
            status={
                1: history("a", RUNNING) + history("b", RUNNING),
                2: history("b", ("monitor", 0, 7)),
            },
        )
    )
    graph = edges(ws)
    assert ("a_monitor_0 node2", "b_stop_0 node1") in graph


def test_anti_colocated_probe_precedes_start_on_the_same_node_only() -> None:
    ws = run(
        cib(
            dummy("a") + dummy("b"),
            '<rsc_colocation id="c" rsc="a" with-rsc="b" score="-INFINITY"/>'
            '<rsc_location id="la" rsc="a" node="node2" score="10"/>'
            '<rsc_location id="lb" rsc="b" node="node1" score="10"/>',
        )
    )
    graph = edges(ws)
    assert ("a_monitor_0 node1", "b_start_0 node1") in graph
    assert ("b_monitor_0 node2", "a_start_0 node2") in graph
    assert ("a_monitor_0 node2", "b_start_0 node1") not in graph


def test_dc_shuts_down_after_the_other_nodes() -> None:
    shutdown = '<nvpair id="s{n}" name="shutdown" value="1234"/>'
    ws = run(
        cib(
            dummy("a"),
            nodes=3,
            attributes={1: shutdown.format(n=1), 2: shutdown.format(n=2)},
        )
    )
    graph = edges(ws)
    assert ("do_shutdown node2", "do_shutdown node1") in graph
    # probes on other nodes do not hold up a node's shutdown
    assert not any(f.endswith("node3") and t == "do_shutdown node2" for f, t in graph)


def test_fencing_is_concurrent_by_default_with_the_dc_last() -> None:
    ws = run(cib(FENCE_DEVICE + dummy("a"), nodes=4, options=FENCING, lost=(1, 2, 3)))
    graph = edges(ws)
    assert ("stonith 'reboot' node2", "stonith 'reboot' node1") in graph
    assert ("stonith 'reboot' node3", "stonith 'reboot' node1") in graph
    assert ("stonith 'reboot' node2", "stonith 'reboot' node3") not in graph


def test_start_blocked_without_quorum_stays_optional_but_is_announced() -> None:
    text = cib(dummy("a"), '<rsc_location id="l" rsc="a" node="node1" score="10"/>').replace(
        'have-quorum="true"', 'have-quorum="false"'
    )
    ws = run(text)
    start = next(a for a in ws.actions if a.key == "a_start_0")
    assert start.optional and not start.runnable
    assert "a_start_0 node1" not in output.dot(ws)  # Pacemaker shows required actions only
    summary = output.transition_summary(ws)
    assert [" ".join(line.split()) for line in summary] == [
        "* Start a ( node1 ) due to no quorum (blocked)"
    ]


def test_failed_resource_that_cannot_run_anywhere_only_stops() -> None:
    failed = history("a", RUNNING, ("monitor", 10000, 1))
    ws = run(
        cib(
            dummy("a"),
            '<rsc_location id="l1" rsc="a" node="node1" score="-INFINITY"/>'
            '<rsc_location id="l2" rsc="a" node="node2" score="-INFINITY"/>',
            status={1: failed},
        )
    )
    assert [a.name() for a in ws.actions if a.rsc is not None and a.task == "start"] == []
    assert "a_stop_0 node1" in output.dot(ws)


def test_ordering_before_a_clone_reaches_its_instances_only_through_the_clone() -> None:
    ws = run(
        cib(
            dummy("a") + '<clone id="c">' + dummy("p") + "</clone>",
            '<rsc_order id="o" first="a" then="c"/>',
        )
    )
    graph = edges(ws)
    assert any(f.startswith("a_start_0") and t == "c_start_0" for f, t in graph)
    assert not any(f.startswith("a_start_0") and t.startswith("p:") for f, t in graph)
    fired = [a.key for a in execute.run_graph(ws)]
    assert fired.index("a_start_0") < fired.index("c_start_0") < fired.index("p:0_start_0")


def test_promotable_clone_promotes_after_every_instance_stopped_and_starts_after_demotions() -> (
    None
):
    ws = run(
        cib(
            '<clone id="ms"><meta_attributes id="m">'
            '<nvpair id="m1" name="promotable" value="true"/></meta_attributes>'
            + dummy("s")
            + "</clone>"
        )
    )
    by_key = {a.key: a for a in ws.actions if a.rsc is not None and a.rsc.id == "ms"}

    def before(key: str) -> set[str]:
        return {a.key for a, _ in by_key[key].before}

    assert "ms_stopped_0" in before("ms_promote_0")
    assert "ms_demoted_0" in before("ms_start_0")
    assert "ms_demoted_0" in before("ms_stop_0")


def test_load_stopped_pseudo_actions_precede_every_resource_action() -> None:
    utilization = (
        '<utilization id="u-{0}"><nvpair id="u-{0}-cpu" name="cpu" value="1"/></utilization>'
    )
    ws = run(
        cib(
            dummy("a", utilization.format("a")) + dummy("b", utilization.format("b")),
            status={1: history("a", RUNNING)},
            options='<nvpair id="o1" name="stonith-enabled" value="false"/>'
            '<nvpair id="o2" name="placement-strategy" value="balanced"/>',
        )
    )
    loads = [a for a in ws.actions if a.task.startswith("load_stopped")]
    # made with the implicit constraints: a's current node first, then the allowed nodes
    assert [a.key for a in sorted(loads, key=lambda a: a.id)] == [
        "load_stopped_node1",
        "load_stopped_node2",
    ]
    assert max(a.id for a in loads) < min(a.id for a in ws.actions if a.rsc is not None)
