"""Clone and ordering rules as Pacemaker applies them: ordering sets, require-all, clone-min,
symmetry, interleaving, notifications."""

from __future__ import annotations

from hactl.core.scheduler.model import Action, WorkingSet

from .cib_text import DIGEST, cib, scheduled, summary, transient


def _running(rsc: str, node: str) -> str:
    return (
        f'<lrm_resource id="{rsc}" class="ocf" provider="heartbeat" type="Dummy">'
        f'<lrm_rsc_op id="{rsc}_last_0" operation_key="{rsc}_start_0" operation="start" '
        f'call-id="1" rc-code="0" op-status="0" interval="0" op-digest="{DIGEST}" '
        f'transition-key="1:1:0:x" transition-magic="0:0;1:1:0:x"/></lrm_resource>'
    )


def _probed(rsc: str) -> str:
    return (
        f'<lrm_resource id="{rsc}" class="ocf" provider="heartbeat" type="Dummy">'
        f'<lrm_rsc_op id="{rsc}_last_0" operation_key="{rsc}_monitor_0" operation="monitor" '
        f'call-id="1" rc-code="7" op-status="0" interval="0" '
        f'transition-key="1:1:7:x" transition-magic="0:7;1:1:7:x"/></lrm_resource>'
    )


def _cib(
    resources: str,
    constraints: str,
    running: dict[str, str] | None = None,
    probed: dict[str, str] | None = None,
    attrs: dict[str, dict[str, str]] | None = None,
    lost: str = "",
) -> WorkingSet:
    """Two nodes; `running` maps resource -> node where its history says it runs, `probed`
    resource -> node where a probe found it stopped."""
    states = ""
    for node_id, name in (("1", "node1"), ("2", "node2")):
        lrm = "".join(_running(r, n) for r, n in (running or {}).items() if n == name)
        lrm += "".join(_probed(r) for r, n in (probed or {}).items() if n == name)
        attributes = transient(node_id, (attrs or {}).get(name, {}))
        membership = (
            'in_ccm="false" crmd="offline"' if name == lost else 'in_ccm="true" crmd="online"'
        )
        states += (
            f'<node_state id="{node_id}" uname="{name}" {membership} '
            f'join="member" expected="member">{attributes}<lrm id="{node_id}"><lrm_resources>'
            f"{lrm}</lrm_resources></lrm></node_state>"
        )
    # a lost node is fenced, which takes a fence device
    fence_device = '<primitive id="fence" class="stonith" type="fence_xvm"/>'
    resources = (fence_device if lost else "") + resources
    return scheduled(cib(resources, constraints, states, fencing=bool(lost)))


def _dummy(name: str, meta: str = "") -> str:
    attrs = f'<meta_attributes id="{name}-m">{meta}</meta_attributes>' if meta else ""
    return (
        f'<primitive id="{name}" class="ocf" provider="heartbeat" type="Dummy">{attrs}</primitive>'
    )


STOPPED = '<nvpair id="{0}-tr" name="target-role" value="Stopped"/>'


def _action(ws: WorkingSet, key: str) -> Action:
    return next(a for a in ws.actions if a.key == key and (a.node is None or a.node.name))


ONE_OR_MORE = """
<rsc_order id="o1">
  <resource_set id="s1"><resource_ref id="A"/></resource_set>
  <resource_set id="s2" sequential="false" require-all="false">
    <resource_ref id="B"/><resource_ref id="C"/>
  </resource_set>
  <resource_set id="s3"><resource_ref id="D"/></resource_set>
</rsc_order>"""


def test_require_all_false_set_lets_then_start_once_one_member_can() -> None:
    resources = _dummy("A") + _dummy("B", STOPPED.format("B")) + _dummy("C") + _dummy("D")
    ws = _cib(resources, ONE_OR_MORE)
    gate = _action(ws, "one-or-more:s2")
    assert gate.runnable and gate.in_graph
    assert "* Start D ( node1 )" in summary(ws) or "* Start D ( node2 )" in summary(ws)
    d_start = next(a for a in ws.actions if a.key == "D_start_0" and a.node is not None)
    assert (gate, gate.after[0][1]) in d_start.before


def test_require_all_false_set_blocks_then_when_no_member_can() -> None:
    resources = (
        _dummy("A") + _dummy("B", STOPPED.format("B")) + _dummy("C", STOPPED.format("C"))
    ) + _dummy("D")
    ws = _cib(resources, ONE_OR_MORE)
    assert not _action(ws, "one-or-more:s2").runnable
    lines = summary(ws)
    assert any(
        line.startswith("* Start D") and "due to unrunnable one-or-more:s2 (blocked)" in line
        for line in lines
    ), lines


def test_asymmetrical_ordering_leaves_a_running_then_alone() -> None:
    resources = _dummy("A", STOPPED.format("A")) + _dummy("B")
    order = '<rsc_order id="o1" first="A" then="B" symmetrical="false"/>'
    ws = _cib(resources, order, running={"A": "node1", "B": "node1"})
    assert summary(ws) == ["* Stop A ( node1 ) due to node availability"]


def test_symmetrical_ordering_stops_then_when_first_stops() -> None:
    resources = _dummy("A", STOPPED.format("A")) + _dummy("B")
    order = '<rsc_order id="o1" first="A" then="B"/>'
    ws = _cib(resources, order, running={"A": "node1", "B": "node1"})
    lines = summary(ws)
    assert lines[0] == "* Stop A ( node1 ) due to node availability"
    assert lines[1].startswith("* Stop B ( node1 ) due to")
    assert len(lines) == 2


def test_clone_min_blocks_then_until_enough_instances_can_start() -> None:
    clone = (
        '<clone id="AC"><meta_attributes id="AC-m">'
        '<nvpair id="AC-min" name="clone-min" value="3"/></meta_attributes>'
        + _dummy("A")
        + "</clone>"
    )
    ws = _cib(clone + _dummy("B"), '<rsc_order id="o1" first="AC" then="B"/>')
    gate = _action(ws, "clone-one-or-more:o1")
    assert not gate.runnable  # two nodes, so at most two instances
    assert any("Start B" in line and "(blocked)" in line for line in summary(ws))
    two = clone.replace('value="3"', 'value="2"')
    ws = _cib(two + _dummy("B"), '<rsc_order id="o1" first="AC" then="B"/>')
    assert _action(ws, "clone-one-or-more:o1").runnable


def test_sets_not_marked_sequential_order_every_member_pair() -> None:
    resources = "".join(_dummy(n) for n in "ABCD")
    order = """
<rsc_order id="o1" symmetrical="false">
  <resource_set id="s1"><resource_ref id="A"/><resource_ref id="B"/></resource_set>
  <resource_set id="s2"><resource_ref id="C"/><resource_ref id="D"/></resource_set>
</rsc_order>"""
    ws = _cib(resources, order)
    d_start = next(a for a in ws.actions if a.key == "D_start_0" and a.node is not None)
    firsts = {a.key for a, _ in d_start.before}
    assert {"A_start_0", "B_start_0", "C_start_0"} <= firsts
    marked = order.replace('<resource_set id="s1">', '<resource_set id="s1" sequential="true">')
    marked = marked.replace('<resource_set id="s2">', '<resource_set id="s2" sequential="true">')
    ws = _cib(resources, marked)
    d_start = next(a for a in ws.actions if a.key == "D_start_0" and a.node is not None)
    c_start = next(a for a in ws.actions if a.key == "C_start_0" and a.node is not None)
    assert {a.key for a, _ in d_start.before} & {"A_start_0", "B_start_0"} == set()
    assert "B_start_0" in {a.key for a, _ in c_start.before}
    assert "A_start_0" not in {a.key for a, _ in c_start.before}


def test_then_stopping_leaves_first_running() -> None:
    # the inverse ordering (B stop before A stop) does not make A stop
    resources = _dummy("A") + _dummy("B", STOPPED.format("B"))
    ws = _cib(
        resources, '<rsc_order id="o1" first="A" then="B"/>', running={"A": "node1", "B": "node1"}
    )
    assert summary(ws) == ["* Stop B ( node1 ) due to node availability"]


def test_clone_start_is_required_but_blocked_when_every_instance_stops() -> None:
    clone = (
        '<clone id="AC"><meta_attributes id="AC-m">'
        '<nvpair id="AC-min" name="clone-min" value="1"/></meta_attributes>'
        + _dummy("A", STOPPED.format("A"))
        + "</clone>"
    )
    ws = _cib(
        clone + _dummy("B"), '<rsc_order id="o1" first="AC" then="B"/>', running={"A": "node1"}
    )
    # the instance's stand-in start (on no node) is required by its stop, so the clone's
    # start and running are required too, and blocked: no instance can start
    for key in ("AC_start_0", "AC_running_0"):
        act = _action(ws, key)
        assert not act.optional and not act.runnable, key
    assert not _action(ws, "clone-one-or-more:o1").runnable


def test_interleaved_instance_without_a_first_instance_on_its_node_stays_stopped() -> None:
    def clone(name: str) -> str:
        return (
            f'<clone id="{name}C"><meta_attributes id="{name}C-m">'
            f'<nvpair id="{name}C-i" name="interleave" value="true"/></meta_attributes>'
            f"{_dummy(name)}</clone>"
        )

    constraints = (
        '<rsc_order id="o1" first="AC" then="BC"/>'
        '<rsc_location id="ban" rsc="AC" node="node1" score="-INFINITY"/>'
    )
    ws = _cib(clone("A") + clone("B"), constraints)
    lines = summary(ws)
    assert any(line.startswith("* Start A:0 ( node2 )") for line in lines), lines
    # B's instance for node1 has no A instance to follow: not started, not even blocked
    starts = [line for line in lines if line.startswith("* Start B")]
    assert len(starts) == 1 and starts[0].endswith("( node2 )"), lines


def _notifying_clone(meta: str = "") -> str:
    return (
        '<clone id="AC"><meta_attributes id="AC-m">'
        '<nvpair id="AC-n" name="notify" value="true"/>'
        f"{meta}</meta_attributes>{_dummy('A')}</clone>"
    )


def _notify_keys(ws: WorkingSet) -> set[str]:
    return {
        f"{a.key} {a.node.name}"
        for a in ws.actions
        if a.task == "notify" and a.node is not None and a.in_graph
    }


def test_notifications_tell_instances_where_they_are_and_will_be() -> None:
    ws = _cib(_notifying_clone(), "", running={"A": "node1"})
    # A:0 runs on node1, the other instance starts on node2: no pre-notification for an
    # instance that is starting, a post-notification for every instance that runs afterwards
    keys = _notify_keys(ws)
    assert any(k.endswith("_pre_notify_start_0 node1") for k in keys), keys
    assert not any(k.endswith("_pre_notify_start_0 node2") for k in keys), keys
    assert any(k.endswith("_post_notify_start_0 node1") for k in keys), keys
    assert any(k.endswith("_post_notify_start_0 node2") for k in keys), keys
    confirmed = _action(ws, "AC_confirmed-post_notify_running_0")
    assert confirmed.in_graph


def test_nothing_to_notify_when_the_clone_does_nothing() -> None:
    ws = _cib(
        _notifying_clone('<nvpair id="AC-max" name="clone-max" value="1"/>'),
        "",
        running={"A": "node1"},
    )
    assert _notify_keys(ws) == set()
    assert not _action(ws, "AC_pre_notify_start_0").in_graph


def test_ordering_after_a_notifying_clone_waits_for_its_confirmed_notifications() -> None:
    ws = _cib(_notifying_clone() + _dummy("B"), '<rsc_order id="o1" first="AC" then="B"/>')
    b_start = next(a for a in ws.actions if a.key == "B_start_0" and a.node is not None)
    assert "AC_confirmed-post_notify_running_0" in {a.key for a, _ in b_start.before}


def test_ticket_sets_each_name_the_role_that_needs_the_ticket() -> None:
    promotable = (
        '<clone id="P"><meta_attributes id="P-m">'
        '<nvpair id="P-p" name="promotable" value="true"/></meta_attributes>'
        '<primitive id="S" class="ocf" provider="pacemaker" type="Stateful"/></clone>'
    )
    ticket = """
<rsc_ticket id="t1" ticket="T" loss-policy="demote">
  <resource_set id="t1-0" role="Started"><resource_ref id="A"/></resource_set>
  <resource_set id="t1-1" role="Promoted"><resource_ref id="P"/></resource_set>
</rsc_ticket>"""
    ws = _cib(_dummy("A") + promotable, ticket)
    lines = summary(ws)
    # without the ticket A may not run; P runs, but no instance is promoted
    assert not any(" A " in line for line in lines), lines
    assert sum(line.startswith("* Start S:") for line in lines) == 2, lines
    assert not any("Promote" in line for line in lines), lines


def test_history_no_instance_can_take_belongs_to_a_removed_instance() -> None:
    # one instance, running on node1; node2's probe result is kept by an extra, removed
    # instance: node2 is known (not probed again) and nothing is deleted
    clone = (
        '<clone id="AC"><meta_attributes id="AC-m">'
        '<nvpair id="AC-max" name="clone-max" value="1"/></meta_attributes>'
        f"{_dummy('A')}</clone>"
    )
    ws = _cib(clone, "", running={"A": "node1"}, probed={"A": "node2"})
    tasks = {(a.task, a.node.name if a.node else None) for a in ws.actions if a.in_graph}
    assert ("monitor", "node2") not in tasks and ("delete", "node2") not in tasks, tasks
    assert summary(ws) == []


def test_promotion_ties_go_to_the_instance_with_the_higher_promotion_score() -> None:
    # two unique instances per node, one promoted per node: on node2 S:1 and S:3 tie on the
    # node's score, and S:3's own promotion score (20 > 10) decides
    clone = (
        '<clone id="P"><meta_attributes id="P-m">'
        '<nvpair id="P-p" name="promotable" value="true"/>'
        '<nvpair id="P-u" name="globally-unique" value="true"/>'
        '<nvpair id="P-cm" name="clone-max" value="4"/>'
        '<nvpair id="P-cnm" name="clone-node-max" value="2"/>'
        '<nvpair id="P-pm" name="promoted-max" value="2"/>'
        "</meta_attributes>"
        '<primitive id="S" class="ocf" provider="pacemaker" type="Stateful"/></clone>'
    )
    scores = {
        "node1": {"master-S:0": "20", "master-S:2": "10"},
        "node2": {"master-S:1": "10", "master-S:3": "20"},
    }
    ws = _cib(clone, "", attrs=scores)
    promoted = {
        r.id for r in ws.all_resources() if r.is_primitive and r.next_role.name == "PROMOTED"
    }
    assert promoted == {"S:0", "S:3"}


PROMOTABLE = (
    '<clone id="P"><meta_attributes id="P-m">'
    '<nvpair id="P-p" name="promotable" value="true"/></meta_attributes>'
    '<primitive id="S" class="ocf" provider="pacemaker" type="Stateful"/></clone>'
)


def test_promoted_role_colocation_promotes_the_instance_beside_its_primary() -> None:
    constraints = (
        '<rsc_location id="l" rsc="A" node="node2" score="100"/>'
        '<rsc_colocation id="c" rsc="P" rsc-role="Promoted" with-rsc="A" score="INFINITY"/>'
    )
    scores = {"node1": {"master-S": "50"}, "node2": {"master-S": "5"}}
    ws = _cib(_dummy("A") + PROMOTABLE, constraints, attrs=scores)
    promoted = [
        r.assigned.name
        for r in ws.all_resources()
        if r.is_primitive and r.next_role.name == "PROMOTED" and r.assigned is not None
    ]
    # node1's higher promotion score loses to the mandatory colocation with A on node2
    assert promoted == ["node2"]


def test_a_blocked_primary_blocks_its_mandatory_dependents() -> None:
    constraints = (
        '<rsc_order id="o" first="Z" then="A"/>'
        '<rsc_colocation id="c" rsc="B" with-rsc="A" score="INFINITY"/>'
    )
    # Z cannot run, so A's start is blocked, and so is B's, which must be with A
    ws = _cib(_dummy("Z", STOPPED.format("Z")) + _dummy("A") + _dummy("B"), constraints)
    lines = summary(ws)
    assert any(
        line.startswith("* Start B") and line.endswith("due to colocation with A (blocked)")
        for line in lines
    ), lines


def test_group_instances_of_a_promotable_clone_are_promoted_as_a_whole() -> None:
    clone = (
        '<clone id="P"><meta_attributes id="P-m">'
        '<nvpair id="P-p" name="promotable" value="true"/></meta_attributes>'
        '<group id="G">'
        '<primitive id="S1" class="ocf" provider="pacemaker" type="Stateful"/>'
        '<primitive id="S2" class="ocf" provider="pacemaker" type="Stateful"/>'
        "</group></clone>"
    )
    scores = {"node1": {"master-S1": "10", "master-S2": "10"}}
    ws = _cib(clone, "", attrs=scores)
    in_graph = {a.key for a in ws.actions if a.in_graph}
    group_promote = [k for k in in_graph if k.startswith("G:") and k.endswith("_promote_0")]
    group_promoted = [k for k in in_graph if k.startswith("G:") and k.endswith("_promoted_0")]
    assert len(group_promote) == 1 and len(group_promoted) == 1, in_graph
    instance = group_promote[0].split("_")[0].split(":")[1]
    second = next(a for a in ws.actions if a.key == f"S2:{instance}_promote_0")
    assert f"S1:{instance}_promote_0" in {a.key for a, _ in second.before}


def test_a_clone_none_of_whose_instances_can_start_blocks_what_follows_it() -> None:
    clone = (
        '<clone id="AC"><meta_attributes id="AC-m">'
        '<nvpair id="AC-tr" name="target-role" value="Stopped"/></meta_attributes>'
        f"{_dummy('A')}</clone>"
    )
    constraints = (
        '<rsc_order id="o" first="AC" then="B"/>'
        '<rsc_colocation id="c" rsc="C" with-rsc="B" score="INFINITY"/>'
    )
    ws = _cib(clone + _dummy("B") + _dummy("C"), constraints, running={"B": "node1", "C": "node1"})
    lines = summary(ws)
    assert "* Stop B ( node1 ) due to unrunnable AC running" in lines, lines
    assert "* Stop C ( node1 ) due to colocation with B" in lines, lines


def test_a_group_runs_only_if_every_member_can_start() -> None:
    groups = (
        f'<group id="G1">{_dummy("A", STOPPED.format("A"))}{_dummy("B")}</group>'
        f'<group id="G2">{_dummy("C")}</group>'
    )
    order = '<rsc_order id="o" first="G1" then="G2" symmetrical="false"/>'
    ws = _cib(groups, order)
    lines = summary(ws)
    # A will not start, so G1 is not running, and G2's member is blocked with that reason
    assert "* Start C ( node1 ) due to unrunnable G1 running (blocked)" in lines or (
        "* Start C ( node2 ) due to unrunnable G1 running (blocked)" in lines
    ), lines


def test_an_unordered_group_does_not_chain_its_members() -> None:
    def with_ordered(ordered: str) -> list[str]:
        group = (
            '<group id="G"><meta_attributes id="G-m">'
            f'<nvpair id="G-o" name="ordered" value="{ordered}"/></meta_attributes>'
            f"{_dummy('A')}{_dummy('B')}</group>"
        )
        zed = _dummy("Z", STOPPED.format("Z"))
        return summary(_cib(zed + group, '<rsc_order id="o" first="Z" then="G"/>'))

    # Z cannot start, so neither member can; unordered, B waits for Z alone, not for A
    assert any(
        line.startswith("* Start B") and "unrunnable Z start (blocked)" in line
        for line in with_ordered("false")
    ), with_ordered("false")
    assert any(
        line.startswith("* Start B") and "unrunnable A start (blocked)" in line
        for line in with_ordered("true")
    ), with_ordered("true")


def test_a_members_own_target_role_wins_over_its_groups() -> None:
    started = '<nvpair id="A-tr" name="target-role" value="Started"/>'
    group = (
        '<group id="G"><meta_attributes id="G-m">'
        '<nvpair id="G-tr" name="target-role" value="Stopped"/></meta_attributes>'
        f"{_dummy('A', started)}{_dummy('B')}</group>"
    )
    lines = summary(_cib(group, ""))
    assert len(lines) == 1 and lines[0].startswith("* Start A"), lines


def test_a_failed_group_member_is_banned_not_its_group() -> None:
    threshold = '<nvpair id="A-mt" name="migration-threshold" value="1"/>'
    group = f'<group id="G">{_dummy("A", threshold)}{_dummy("B")}</group>'
    ws = _cib(group, "", attrs={"node1": {"fail-count-A#monitor_10000": "1"}})
    assert (ws.by_id["A"].allowed or {})["node1"] == -1_000_000
    assert (ws.by_id["G"].allowed or {})["node1"] == 0
    assert ws.by_id["A"].assigned is not None and ws.by_id["A"].assigned.name == "node2"


def _colocations(ws: WorkingSet) -> set[tuple[str, str, int]]:
    return {(c.dependent.id, c.primary.id, c.score) for c in ws.colocations}


def test_colocation_sets_chain_members_and_tie_the_first_set_to_the_last_member_of_the_next() -> (
    None
):
    resources = "".join(_dummy(n) for n in "ABCDE")
    sets = """
<rsc_colocation id="c" score="INFINITY">
  <resource_set id="s1"><resource_ref id="A"/><resource_ref id="B"/></resource_set>
  <resource_set id="s2"><resource_ref id="C"/><resource_ref id="D"/></resource_set>
</rsc_colocation>
<rsc_colocation id="n" score="-INFINITY">
  <resource_set id="s3"><resource_ref id="A"/><resource_ref id="C"/><resource_ref id="E"/>
  </resource_set>
</rsc_colocation>"""
    found = _colocations(_cib(resources, sets))
    inf = 1_000_000
    assert {("B", "A", inf), ("D", "C", inf), ("A", "D", inf)} <= found
    # a negative set keeps every member from every member before it
    assert {("C", "A", -inf), ("E", "A", -inf), ("E", "C", -inf)} <= found
    assert ("C", "B", inf) not in found and ("C", "A", inf) not in found


def test_colocation_with_a_template_colocates_with_its_resources_as_a_set() -> None:
    resources = (
        '<template id="T" class="ocf" provider="heartbeat" type="Dummy"/>'
        + _dummy("A")
        + '<primitive id="R1" template="T"/><primitive id="R2" template="T"/>'
    )
    found = _colocations(
        _cib(resources, '<rsc_colocation id="c" rsc="A" with-rsc="T" score="INFINITY"/>')
    )
    inf = 1_000_000
    assert found == {("R2", "R1", inf), ("A", "R2", inf)}


def test_colocation_by_node_attribute_weighs_the_best_node_of_the_same_value() -> None:
    constraints = (
        '<rsc_location id="l1" rsc="A" node="node1" score="100"/>'
        '<rsc_location id="l2" rsc="B" node="node1" score="-INFINITY"/>'
        '<rsc_colocation id="c" rsc="B" with-rsc="A" score="INFINITY" node-attribute="site"/>'
    )
    ws = _cib(
        _dummy("A") + _dummy("B"),
        constraints,
        attrs={"node1": {"site": "x"}, "node2": {"site": "x"}},
    )
    # B cannot be on node1, but node2 shares its site: A keeps its preferred node1
    assert ws.by_id["A"].assigned is not None and ws.by_id["A"].assigned.name == "node1"
    assert ws.by_id["B"].assigned is not None and ws.by_id["B"].assigned.name == "node2"


def test_an_instance_needing_no_fencing_on_a_lost_node_frees_its_number() -> None:
    quorum_only = '<nvpair id="A-rq" name="requires" value="quorum"/>'
    clone = (
        '<clone id="AC"><meta_attributes id="AC-m">'
        '<nvpair id="AC-max" name="clone-max" value="1"/></meta_attributes>'
        f"{_dummy('A', quorum_only)}</clone>"
    )
    ws = _cib(clone, "", running={"A": "node2"}, lost="node2")
    lines = summary(ws)
    # the lost node's copy is a removed instance; the clone's one instance starts on node1
    assert "* Start A:0 ( node1 )" in lines, lines
    assert any(line.startswith("* Stop A:1 ( node2 )") for line in lines), lines


def test_a_start_that_cannot_happen_where_it_runs_is_required_at_once() -> None:
    resources = _dummy("Y", STOPPED.format("Y")) + _dummy("A")
    ws = _cib(resources, '<rsc_order id="o1" first="Y" then="A"/>', running={"A": "node1"})
    assert "* Stop A ( node1 ) due to unrunnable Y start" in summary(ws)
    start = next(a for a in ws.actions if a.key == "A_start_0" and a.node is not None)
    # the stop it forces makes the start required too (then blocked): a restart that
    # cannot complete, which is what later orderings see
    assert not start.optional and not start.runnable


def test_losing_an_interleave_partner_passes_down_a_chain_of_clones() -> None:
    def clone(name: str, meta: str = "") -> str:
        return (
            f'<clone id="{name}C"><meta_attributes id="{name}C-m">'
            f'<nvpair id="{name}C-i" name="interleave" value="true"/>{meta}'
            f"</meta_attributes>{_dummy(name)}</clone>"
        )

    stopped = '<nvpair id="AC-tr" name="target-role" value="Stopped"/>'
    # the later link of the chain is listed first
    orders = '<rsc_order id="o2" first="BC" then="CC"/><rsc_order id="o1" first="AC" then="BC"/>'
    lines = summary(_cib(clone("A", stopped) + clone("B") + clone("C"), orders))
    # no A instance anywhere: no B instance, hence no C instance, comes up (none even blocked)
    assert lines == [], lines


def test_a_second_history_of_an_instance_active_on_a_node_is_a_removed_instance() -> None:
    clone = f'<clone id="AC">{_dummy("A")}</clone>'
    ws = _cib(clone, "", running={"A:0": "node1"}, probed={"A:1": "node1"})
    clone_rsc = ws.by_id["AC"]
    active = [c for c in clone_rsc.children if any(p.running_on for p in c.primitives())]
    # the running history keeps its instance (and name); the probe belongs to an extra one
    assert [c.history_id for c in active] == ["A:0"]
    assert len(clone_rsc.children) == 3 and clone_rsc.children[-1].orphan
