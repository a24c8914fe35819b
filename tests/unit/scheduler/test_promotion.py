"""Promotable clones as Pacemaker schedules them: which instance is promoted, how the
dependents of the promoted role weigh in, and which instance a node's history belongs to."""

from __future__ import annotations

from hactl.core.scheduler.actions import FIRST_IMPLIES_THEN
from hactl.core.scheduler.assign import Placer
from hactl.core.scheduler.model import Colocation, Role, WorkingSet
from hactl.core.scheduler.scores import INFINITY

from .cib_text import DIGEST, cib, node_state, scheduled, summary, transient

NODES = ("node1", "node2")
#: the same promotion score for st on both nodes
EQUAL_SCORES = {n: {"master-st": "10"} for n in NODES}


def _op(rsc: str, task: str, rc: int, call: int, interval: int = 0) -> str:
    return (
        f'<lrm_rsc_op id="{rsc}_{task}_{interval}" operation_key="{rsc}_{task}_{interval}" '
        f'operation="{task}" call-id="{call}" rc-code="{rc}" op-status="0" '
        f'interval="{interval}" op-digest="{DIGEST}" '
        f'transition-key="{call}:1:{rc}:x" transition-magic="0:{rc};{call}:1:{rc}:x"/>'
    )


def _failed_promoted_monitor(rsc: str) -> str:
    """A promoted instance whose promoted-role monitor later found it not running (the
    same call recorded twice: its first result, then the failure)."""

    def monitor(entry_id: str, rc: int, changed: int) -> str:
        return (
            f'<lrm_rsc_op id="{entry_id}" operation_key="{rsc}_monitor_10000" '
            f'operation="monitor" call-id="4" rc-code="{rc}" op-status="0" interval="10000" '
            f'last-rc-change="{changed}" op-digest="{DIGEST}" '
            f'transition-key="4:1:8:x" transition-magic="0:{rc};4:1:8:x"/>'
        )

    return (
        _op(rsc, "start", 0, 2)
        + _op(rsc, "promote", 0, 3)
        + monitor(f"{rsc}_monitor_10000", 8, 1000)
        + monitor(f"{rsc}_last_failure_0", 7, 2000)
    )


def _history(rsc: str, role: str, agent: str = "Stateful") -> str:
    """A resource's history on a node: `role` is stopped (probed), started, promoted,
    failed (started, then a recurring monitor failed), or promoted-failed."""
    ops = {
        "stopped": _op(rsc, "monitor", 7, 1),
        "started": _op(rsc, "start", 0, 2),
        "promoted": _op(rsc, "start", 0, 2) + _op(rsc, "promote", 0, 3),
        "failed": _op(rsc, "start", 0, 2) + _op(rsc, "monitor", 1, 3, 10000),
        "promoted-failed": _failed_promoted_monitor(rsc),
    }[role]
    return (
        f'<lrm_resource id="{rsc}" class="ocf" provider="pacemaker" type="{agent}">'
        f"{ops}</lrm_resource>"
    )


def _cib(
    resources: str,
    constraints: str = "",
    histories: dict[str, list[tuple[str, str]]] | None = None,
    attrs: dict[str, dict[str, str]] | None = None,
) -> WorkingSet:
    """Two nodes; `histories` maps a node to (resource id, role) in the order recorded."""
    states = ""
    for number, name in enumerate(NODES, start=1):
        lrm = "".join(_history(r, role) for r, role in (histories or {}).get(name, []))
        values = (attrs or {}).get(name, {})
        states += node_state(str(number), lrm, extra=transient(str(number), values))
    return scheduled(cib(resources, constraints, states))


def _promotable(clone: str = "ms", rsc: str = "st", clone_max: int = 2) -> str:
    return (
        f'<clone id="{clone}"><meta_attributes id="{clone}-m">'
        f'<nvpair id="{clone}-p" name="promotable" value="true"/>'
        f'<nvpair id="{clone}-max" name="clone-max" value="{clone_max}"/>'
        f'<nvpair id="{clone}-pmax" name="promoted-max" value="1"/>'
        f"</meta_attributes>"
        f'<primitive id="{rsc}" class="ocf" provider="pacemaker" type="Stateful"/></clone>'
    )


def _dummy(name: str) -> str:
    return f'<primitive id="{name}" class="ocf" provider="heartbeat" type="Dummy"/>'


def test_dependent_banned_where_promoted_moves_the_promotion() -> None:
    """A resource colocated with the promoted role but banned from the promoted instance's
    node leaves that node a promotion priority of 1, not its promotion score (Pacemaker
    merges dependents' scores nonnegatively: a node a dependent bans drops to 1), so the
    equally scored instance elsewhere is promoted."""
    constraints = (
        '<rsc_colocation id="c" rsc="ip" with-rsc="ms" with-rsc-role="Promoted" '
        'score="INFINITY"/><rsc_location id="l" rsc="ip" node="node1" score="-INFINITY"/>'
    )
    ws = _cib(
        _promotable() + _dummy("ip"),
        constraints,
        histories={"node1": [("st:0", "promoted")], "node2": [("st:1", "started")]},
        attrs=EQUAL_SCORES,
    )
    lines = summary(ws)
    assert "* Demote st:0 ( Promoted -> Unpromoted node1 )" in lines, lines
    assert "* Promote st:1 ( Unpromoted -> Promoted node2 )" in lines, lines
    assert "* Start ip ( node2 )" in lines, lines


def test_dependent_allowed_where_promoted_keeps_the_promotion() -> None:
    """The same without the ban: the promoted instance stays promoted (the tie goes to the
    instance whose current role is higher)."""
    constraints = (
        '<rsc_colocation id="c" rsc="ip" with-rsc="ms" with-rsc-role="Promoted" score="INFINITY"/>'
    )
    ws = _cib(
        _promotable() + _dummy("ip"),
        constraints,
        histories={"node1": [("st:0", "promoted")], "node2": [("st:1", "started")]},
        attrs=EQUAL_SCORES,
    )
    assert summary(ws) == ["* Start ip ( node1 )"]


def test_dependents_preferences_break_a_promotion_tie() -> None:
    """Promotion starts from the clone's node scores with its dependents' preferences in
    them (Pacemaker's pcmk__add_dependent_scores updates the clone's own scores): a
    resource colocated with the clone (any role) that prefers node2 tips the promotion
    there when the promotion scores are equal."""
    constraints = (
        '<rsc_colocation id="c" rsc="ip" with-rsc="ms" score="INFINITY"/>'
        '<rsc_location id="l" rsc="ip" node="node2" score="10"/>'
    )
    ws = _cib(
        _promotable() + _dummy("ip"),
        constraints,
        histories={"node1": [("st:0", "started")], "node2": [("st:1", "started")]},
        attrs=EQUAL_SCORES,
    )
    lines = summary(ws)
    assert "* Promote st:1 ( Unpromoted -> Promoted node2 )" in lines, lines
    assert "* Start ip ( node2 )" in lines, lines


def test_a_failed_instance_is_promoted_after_one_that_is_not() -> None:
    """Equal promotion priorities and roles: the instances are ordered as for assignment,
    where one that failed comes after one that did not (Pacemaker's pcmk__cmp_instance),
    so the healthy instance on node2 is promoted while node1's is recovered."""
    ws = _cib(
        _promotable(),
        histories={"node1": [("st:0", "failed")], "node2": [("st:1", "started")]},
        attrs=EQUAL_SCORES,
    )
    lines = summary(ws)
    assert "* Recover st:0 ( Unpromoted node1 )" in lines, lines
    assert "* Promote st:1 ( Unpromoted -> Promoted node2 )" in lines, lines


def test_a_cloned_group_is_promoted_only_if_all_its_members_will_be_active() -> None:
    """A promotable cloned group whose second member is to stay stopped stays unpromoted,
    although its first member has a promotion score (Pacemaker's node_to_be_promoted_on
    asks every member)."""
    resources = (
        '<clone id="ms"><meta_attributes id="ms-m">'
        '<nvpair id="ms-p" name="promotable" value="true"/>'
        '<nvpair id="ms-max" name="clone-max" value="1"/></meta_attributes>'
        '<group id="g"><primitive id="a" class="ocf" provider="pacemaker" type="Stateful"/>'
        '<primitive id="b" class="ocf" provider="pacemaker" type="Stateful">'
        '<meta_attributes id="b-m"><nvpair id="b-tr" name="target-role" value="Stopped"/>'
        "</meta_attributes></primitive></group></clone>"
    )
    ws = _cib(resources, attrs={n: {"master-a": "10"} for n in NODES})
    lines = summary(ws)
    assert lines == ["* Start a:0 ( node1 )"], lines


def _monitored_promotable(role: str) -> str:
    role_attr = f' role="{role}"' if role else ""
    return (
        '<clone id="ms"><meta_attributes id="ms-m">'
        '<nvpair id="ms-p" name="promotable" value="true"/></meta_attributes>'
        '<primitive id="st" class="ocf" provider="pacemaker" type="Stateful"><operations>'
        f'<op id="st-mon" name="monitor" interval="5s"{role_attr}/></operations></primitive>'
        "</clone>"
    )


def _recurring(ws: WorkingSet) -> list[str]:
    return sorted(
        f"{a.rsc.id}@{a.node.name}"
        for a in ws.actions
        if a.rsc is not None and a.node is not None and a.task == "monitor" and a.interval_ms
    )


def test_a_monitor_for_the_started_role_does_not_run_unpromoted() -> None:
    """A promotable clone's instances start Unpromoted, which is not Started: a monitor
    configured for role Started is not scheduled (Pacemaker's recurring_op_for_active
    matches the role exactly); one without a role is the Unpromoted role's."""
    assert _recurring(_cib(_monitored_promotable("Started"))) == []
    assert _recurring(_cib(_monitored_promotable(""))) == ["st:0@node1", "st:1@node2"]


DEMOTE_ON_FAIL = (
    '<clone id="ms"><meta_attributes id="ms-m">'
    '<nvpair id="ms-p" name="promotable" value="true"/></meta_attributes>'
    '<primitive id="st" class="ocf" provider="pacemaker" type="Stateful"><operations>'
    '<op id="st-pmon" name="monitor" interval="10s" role="Promoted" on-fail="demote"/>'
    '<op id="st-umon" name="monitor" interval="11s" role="Unpromoted"/>'
    "</operations></primitive></clone>"
)


def test_on_fail_demote_recovers_a_failed_promoted_instance_by_demoting() -> None:
    """A promoted-role monitor failure with on-fail=demote is recovered by a demotion, not
    by a stop and start (Pacemaker: failed, but not stop_if_failed)."""
    ws = _cib(
        DEMOTE_ON_FAIL,
        histories={"node1": [("st:0", "promoted-failed")], "node2": [("st:1", "started")]},
    )
    lines = summary(ws)
    assert lines == ["* Demote st:0 ( Promoted -> Unpromoted node1 )"], lines


def test_on_fail_demote_re_promotes_where_the_instance_stays_promoted() -> None:
    """Where the failed instance is still the one to promote, it is demoted and promoted
    again; the promotion does not make the promoted-role monitor required (Pacemaker orders
    the promotion before that monitor without implying it)."""
    ws = _cib(
        DEMOTE_ON_FAIL,
        histories={"node1": [("st:0", "promoted-failed")], "node2": [("st:1", "started")]},
        attrs={"node1": {"master-st": "10"}, "node2": {"master-st": "5"}},
    )
    lines = summary(ws)
    assert lines == ["* Re-promote st:0 ( Promoted node1 )"], lines
    monitor = next(a for a in ws.actions if a.task == "monitor" and a.interval_ms == 10000)
    promote = next(a for a in ws.actions if a.task == "promote" and a.node is not None)
    flags = [f for before, f in monitor.before if before is promote]
    assert flags and not flags[0] & FIRST_IMPLIES_THEN


def test_a_stop_required_by_an_ordering_demotes_first() -> None:
    """A promoted instance that stays where it is has an optional demotion all along, so
    when an ordering later requires its stop (what it starts after is stopping), the
    demotion is required too (Pacemaker's schedule_restart_actions and the promoted
    demote-then-stop ordering)."""
    first = (
        '<primitive id="B" class="ocf" provider="pacemaker" type="Stateful">'
        '<meta_attributes id="B-m"><nvpair id="B-tr" name="target-role" value="Stopped"/>'
        "</meta_attributes></primitive>"
    )
    ws = _cib(
        _promotable(clone_max=1) + first,
        '<rsc_order id="o" first="B" then="ms" then-action="start"/>',
        histories={"node1": [("st:0", "promoted")], "node2": [("B", "started")]},
        attrs={"node1": {"master-st": "10"}},
    )
    lines = summary(ws)
    assert "* Stop st:0 ( Promoted node1 ) due to required B start" in lines, lines
    demote = next(a for a in ws.actions if a.task == "demote" and a.node is not None)
    assert not demote.optional and demote.in_graph


def test_a_bundle_guest_node_takes_the_dependents_score_of_its_host() -> None:
    """What is colocated with a bundle's promoted role weighs in on the bundled clone's
    promotion, the scores of a guest node being those of its container's host (Pacemaker's
    pcmk__with_bundle_colocations and colocation node attributes of bundled resources):
    here the dependent is banned from the host, so the guest's promotion priority of 5
    drops to 1 (a nonnegative merge)."""
    ws = _cib(
        _promotable() + _dummy("ip"),
        '<rsc_location id="l" rsc="ip" node="node2" score="-INFINITY"/>',
    )
    placer = Placer(ws)
    placer.prepare()
    ip, clone = ws.by_id["ip"], ws.by_id["ms"]
    coloc = Colocation("c", ip, clone, INFINITY, primary_role=Role.PROMOTED)
    # each node stands for the other's guest here: node1's scores count at node2's host
    hosts = {"node1": "node2", "node2": "node1"}
    merged = placer.add_colocated(
        ip, clone, {"node1": 5, "node2": 5}, coloc, 1.0, True, {id(clone)}, hosts.__getitem__
    )
    assert merged == {"node1": 1, "node2": 5}
