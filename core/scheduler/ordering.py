"""Ordering rules Pacemaker applies to the graph's edges after actions are created.

Pure functions over a WorkingSet's actions: they move or drop edges, never create decisions.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from hactl.core.scheduler.model import Action, Colocation, Resource, Role
from hactl.core.scheduler.scores import INFINITY

#: adds an ordering edge: (first, then, relation flags)
Order = Callable[[Action, Action, int], None]

#: relation flag of an ordering that holds only when both actions are on the same node and
#: the first is required (Pacemaker's "if required on same node"); edges with only this flag
#: are dropped from the graph otherwise. Kept clear of the flags actions.py defines.
REQUIRED_ON_SAME_NODE = 1 << 10

#: a collective's action and the pseudo-action that marks it finished
_DONE = {"start": "running", "stop": "stopped", "promote": "promoted", "demote": "demoted"}


def _is_ancestor(ancestor: Resource, rsc: Resource) -> bool:
    parent = rsc.parent
    while parent is not None:
        if parent is ancestor:
            return True
        parent = parent.parent
    return False


def _finished(first: Action) -> Action | None:
    """The action that tells `first` (a collective's start/stop/promote/demote) is complete:
    its done pseudo-action, or for a clone with notifications the confirmation of the post
    notification, when that exists."""
    rsc = first.rsc
    done = _DONE.get(first.task)
    if rsc is None or done is None or first.interval_ms or not first.pseudo:
        return None
    if rsc.kind == "clone" and rsc.notify:
        key = f"{rsc.id}_confirmed-post_notify_{done}_0"
        confirmed = next((a for a in rsc.actions if a.key == key), None)
        if confirmed is not None:
            return confirmed
    return next((a for a in rsc.actions if a.task == done and a.pseudo), None)


def remap_collective_firsts(actions: list[Action], order: Order) -> bool:
    """Something outside a collective that waits for the collective's start (stop, promote,
    demote) waits for it to be finished: Pacemaker orders it after the collective's
    running (stopped, promoted, demoted) pseudo-action instead, and drops the original edge.
    `order(first, then, flags)` adds an edge. Returns whether any edge moved."""
    moved: list[tuple[Action, Action, Action, int]] = []
    for then in actions:
        for first, flags in then.before:
            rsc = first.rsc
            if rsc is None or rsc.is_primitive or then.rsc is None or then.rsc is rsc:
                continue
            if _is_ancestor(rsc, then.rsc):
                continue  # its own children wait for the collective's start, not its end
            replacement = _finished(first)
            if replacement is not None and replacement is not then:
                moved.append((first, then, replacement, flags))
    for first, then, replacement, flags in moved:
        then.before = [(a, f) for a, f in then.before if a is not first]
        first.after = [(a, f) for a, f in first.after if a is not then]
        order(replacement, then, flags)
    return bool(moved)


def _needs_fencing(rsc: Resource) -> bool:
    return rsc.requires in ("fencing", "unfencing")


def _known_on(rsc: Resource, node_name: str) -> bool:
    """Known there, or (an anonymous clone's instance) its clone is."""
    if node_name in rsc.known_on:
        return True
    parent = rsc.parent
    if parent is None or parent.kind != "clone" or parent.globally_unique:
        return False
    return any(node_name in sibling.known_on for sibling in parent.children)


def fencing_orderings(
    resources: list[Resource], fencing: list[Action], order: Order, ordered: int, blocks: int
) -> None:
    """Order each managed primitive's actions against each fencing action, as Pacemaker's
    pcmk__order_vs_fencing does:

    - a start or promote of a resource that requires fencing waits for every fencing;
      one that requires only quorum waits (and is blocked by it failing) only if it may
      run on the target and its state there is unknown;
    - stops and demotes made implicit by the fencing (pseudo-actions on the target) of a
      resource requiring fencing come after it, and so does its top-level parent's stop.

    `ordered` and `blocks` are the relation flags for "ordered" and "an unrunnable first
    blocks then"."""
    for fence in fencing:
        target = fence.node
        if target is None:
            continue
        for top in resources:
            for rsc in top.primitives():
                if not rsc.managed:
                    continue
                for act in list(rsc.actions):
                    if act.task not in ("start", "promote"):
                        continue
                    if _needs_fencing(rsc):
                        order(fence, act, ordered)
                    elif (
                        rsc.requires == "quorum"
                        and act.task == "start"
                        and target.name in (rsc.allowed or {})
                        and not _known_on(rsc, target.name)
                    ):
                        order(fence, act, ordered | blocks)
                implied = [
                    a
                    for a in rsc.actions
                    if a.task in ("stop", "demote") and a.node is target and a.pseudo
                ]
                if not implied or not _needs_fencing(rsc):
                    continue
                top_stop = next((a for a in reversed(top.actions) if a.task == "stop"), None)
                for act in implied:
                    order(fence, act, ordered)
                    if act.task == "stop" and top_stop is not None:
                        order(fence, top_stop, ordered)


def _probes(rsc: Resource) -> list[Action]:
    return [a for a in rsc.actions if a.task == "monitor" and a.interval_ms == 0]


def _finishes_parent(first: Action, then: Action) -> bool:
    """An instance's or member's action ordered before its parent's done pseudo-action:
    Pacemaker relates these with the "graphed" variant of first-implies-then only."""
    return (
        first.rsc is not None
        and then.rsc is not None
        and then.pseudo
        and then.task in _DONE.values()
        and _is_ancestor(then.rsc, first.rsc)
    )


def _compatible_instance(rsc: Resource, clone: Resource) -> Resource | None:
    """The instance of `clone` placed where `rsc` is (interleaving pairs these)."""
    node = rsc.assigned
    if node is None:
        return None
    return next(
        (i for i in clone.children if any(p.assigned is node for p in i.primitives())), None
    )


def probe_restart_orderings(
    resources: list[Resource], order: Order, ordered: int, implies_then: int
) -> None:
    """A probe comes before the stop (demote) of whatever would restart (re-promote) because
    of what the probe protects, as Pacemaker's add_restart_orderings_for_probe: follow the
    orderings from the probe through first-implies-then relations (and from a collective
    down to its members, an interleaved clone only to the instance on the probed resource's
    node); each start (promote) of another primitive reached puts the probe before that
    primitive's real stops (demotes). Runs on the constraint-level edges, before collective
    firsts are remapped to their done actions."""

    def follow(probed: Resource, after: Action, seen: set[int], found: list[Action]) -> None:
        """Collect in `found` the stops (demotes) the probe of `probed` goes before."""
        if after.id in seen:
            return
        seen.add(after.id)
        rsc = after.rsc
        if rsc is not None and rsc.is_primitive and rsc is not probed:
            undo = {"start": "stop", "promote": "demote"}.get(after.task)
            for then in rsc.actions:
                if then.task == undo and then.interval_ms == 0 and not then.pseudo:
                    found.append(then)
        compatible = None
        interleaved = rsc is not None and rsc.kind == "clone" and rsc.interleave
        if interleaved:
            assert rsc is not None
            compatible = _compatible_instance(probed, rsc)
        for nxt, flags in after.after:
            if not flags & implies_then or _finishes_parent(after, nxt):
                if rsc is None or rsc.is_primitive or probed.parent is rsc:
                    continue
                chained = nxt.rsc
                if chained is None or chained.kind == "clone" or chained.parent is not rsc:
                    continue
                if interleaved and compatible is not chained:
                    continue
            follow(probed, nxt, seen, found)

    for top in resources:
        for rsc in top.primitives():
            # the walk depends on the probed resource, not on which of its probes: each
            # starting action is walked once (the edges added go from probes, which the
            # walk never follows)
            found_from: dict[int, list[Action]] = {}
            for probe in _probes(rsc):
                for then, _flags in list(probe.after):
                    found = found_from.get(id(then))
                    if found is None:
                        found = found_from[id(then)] = []
                        follow(rsc, then, set(), found)
                    for stop in found:
                        order(probe, stop, ordered)


def probe_member_stop_orderings(resources: list[Resource], order: Order, ordered: int) -> None:
    """Probes of an instance or member come before its parent's stopped, and (in a group)
    before the stops of the members it stops ahead of, whether or not it stops itself:
    Pacemaker derives these from the collective's internal stop orderings, which exist even
    when the member has nothing to stop."""
    for top in resources:
        for rsc in top.primitives():
            parent = rsc.parent
            probes = _probes(rsc)
            if parent is None or not probes:
                continue
            thens = [a for a in parent.actions if a.task == "stopped" and a.pseudo]
            if parent.kind == "group":
                index = parent.children.index(rsc)
                if index > 0:
                    earlier = parent.children[index - 1]
                    thens += [a for a in earlier.actions if a.task == "stop" and not a.interval_ms]
            for probe in probes:
                for then in thens:
                    order(probe, then, ordered)


def _own(rsc: Resource, task: str) -> list[Action]:
    """rsc's own non-recurring actions for task (a collective's are its pseudo-actions)."""
    return [
        a
        for a in rsc.actions
        if a.task == task and a.interval_ms == 0 and (rsc.is_primitive or a.pseudo)
    ]


def anti_colocation_orderings(colocations: list[Colocation], order: Order) -> None:
    """Resources that must never share a node: whatever makes one leave its role on a node
    goes before whatever brings the other into its role, when both happen on the same node
    (Pacemaker's anti_colocation_order, both ways round). As for any ordering after a stop,
    the first resource's probes go before the other's actions too, even with nothing to
    stop."""
    for colocation in colocations:
        if colocation.score > -INFINITY:
            continue
        pairs = (
            (
                colocation.dependent,
                colocation.dependent_role,
                colocation.primary,
                colocation.primary_role,
            ),
            (
                colocation.primary,
                colocation.primary_role,
                colocation.dependent,
                colocation.dependent_role,
            ),
        )
        for first, first_role, then, then_role in pairs:
            if first_role == Role.PROMOTED:
                first_tasks = ["demote"]
            else:
                first_tasks = ["stop"] + (["promote"] if first_role == Role.UNPROMOTED else [])
            if then_role == Role.PROMOTED:
                then_tasks = ["promote"]
            else:
                then_tasks = ["start"] + (["demote"] if then_role == Role.UNPROMOTED else [])
            thens = [a for task in then_tasks for a in _own(then, task)]
            for task in first_tasks:
                firsts = _own(first, task)
                if task == "stop" and first.is_primitive:
                    firsts += _probes(first)
                for before in firsts:
                    for after in thens:
                        order(before, after, REQUIRED_ON_SAME_NODE)


def drop_unneeded_inputs(actions: list[Action]) -> None:
    """Drop edges that hold only on the same node when the actions are on different nodes
    or the first is optional, as Pacemaker does when it builds the graph."""
    for then in actions:
        for first, flags in list(then.before):
            if flags != REQUIRED_ON_SAME_NODE:
                continue
            elsewhere = (
                first.node is not None and then.node is not None and first.node is not then.node
            )
            if elsewhere or first.optional:
                then.before.remove((first, flags))
                first.after = [(a, f) for a, f in first.after if a is not then]


def drop_edges(actions: list[Action], pairs: set[tuple[int, int]]) -> None:
    """Remove the edges (first id, then id) in `pairs`."""
    if not pairs:
        return
    firsts = {first for first, _ in pairs}
    thens = {then for _, then in pairs}
    for act in actions:
        if act.id in thens:
            act.before = [(a, f) for a, f in act.before if (a.id, act.id) not in pairs]
        if act.id in firsts:
            act.after = [(a, f) for a, f in act.after if (act.id, a.id) not in pairs]


def node_name_key(name: str) -> list[object]:
    """Pacemaker's node name order: case-insensitive, digit runs compared as numbers."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]
