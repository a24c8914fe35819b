"""Ordering rules Pacemaker applies to the graph's edges after actions are created.

Pure functions over a WorkingSet's actions: they move or drop edges, never create decisions.
"""

from __future__ import annotations

from hactl.core.scheduler.model import Action, Resource

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


def remap_collective_firsts(actions: list[Action], order: object) -> bool:
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
        order(replacement, then, flags)  # type: ignore[operator]
    return bool(moved)
