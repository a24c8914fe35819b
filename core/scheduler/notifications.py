"""Clone notifications (notify=true), as Pacemaker's pe_notif.c builds them.

Two phases, like Pacemaker's: the clone's notification pseudo-actions exist before ordering
flags are propagated (so a required clone action makes its post-notification required, and
orderings after the clone's action wait for its confirmed post-notification); the instances'
notify actions are made afterwards from the final flags: a notification is required when an
instance really does the action (required, runnable, on a node), and each instance is told
where it is or will be.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from hactl.core.scheduler.model import Action, Node, Resource, Role

if TYPE_CHECKING:
    from hactl.core.scheduler.actions import Builder

ORDERED = 1
FIRST_IMPLIES_THEN = 2

#: the pseudo-action a clone's action is complete with
_COMPLETE = {"start": "running", "stop": "stopped", "promote": "promoted", "demote": "demoted"}


@dataclass
class NotifyOps:
    """The four pseudo-actions around one clone action's notifications."""

    task: str
    pre: Action
    pre_done: Action
    post: Action
    post_done: Action


def create_pseudo_ops(builder: Builder, clone: Resource) -> dict[str, NotifyOps]:
    """Phase one: pre/post notification pseudo-actions around the clone's actions."""
    tasks = ["start", "stop"] + (["promote", "demote"] if clone.promotable else [])
    ops: dict[str, NotifyOps] = {}
    for task in tasks:
        action = _pseudo(clone, task)
        complete = _pseudo(clone, _COMPLETE[task])
        if action is None or complete is None:
            continue
        notify = NotifyOps(
            task,
            _notify_pseudo(builder, clone, "pre", task),
            _notify_pseudo(builder, clone, "confirmed-pre", task),
            _notify_pseudo(builder, clone, "post", complete.task),
            _notify_pseudo(builder, clone, "confirmed-post", complete.task),
        )
        builder.order(notify.pre, notify.pre_done, ORDERED)
        builder.order(notify.pre_done, action, ORDERED)
        builder.order(complete, notify.post, ORDERED | FIRST_IMPLIES_THEN)
        builder.order(notify.post, notify.post_done, ORDERED | FIRST_IMPLIES_THEN)
        builder.order(notify.pre_done, notify.post, ORDERED)
        ops[task] = notify
    for earlier, later in (
        ("stop", "start"),
        ("stop", "promote"),
        ("start", "promote"),
        ("demote", "promote"),
        ("demote", "start"),
        ("demote", "stop"),
    ):
        if earlier in ops and later in ops:
            builder.order(ops[earlier].post_done, ops[later].pre, ORDERED)
    return ops


def _notify_pseudo(builder: Builder, clone: Resource, kind: str, task: str) -> Action:
    """A clone's notification pseudo-action; the confirmations are "notified" ones."""
    return builder.action(
        clone,
        "notified" if kind.startswith("confirmed") else "notify",
        None,
        pseudo=True,
        optional=True,
        key=f"{clone.id}_{kind}_notify_{task}_0",
    )


def _pseudo(clone: Resource, task: str) -> Action | None:
    return next((a for a in clone.actions if a.task == task and a.pseudo), None)


def create_instance_notifications(
    builder: Builder, clone: Resource, ops: dict[str, NotifyOps]
) -> None:
    """Phase two: each instance's notify actions, from the final action flags."""
    for task, notify in ops.items():
        entries = _doing(clone, task)
        notify.post.runnable = notify.post_done.runnable = _complete_runnable(clone, task)
        if entries:
            for act in (notify.pre, notify.pre_done, notify.post, notify.post_done):
                act.optional = False
        for prim in clone.primitives():
            _instance(builder, prim, notify, bool(entries))


def _doing(clone: Resource, task: str) -> list[Action]:
    """Instance actions of this task that will really happen (a stop on an unclean node
    counts even if unrunnable: fencing does it)."""
    out: list[Action] = []
    for prim in clone.primitives():
        for act in prim.actions:
            if act.task != task or act.optional or act.node is None or act.interval_ms:
                continue
            if act.runnable or (task == "stop" and act.node.unclean):
                out.append(act)
    return out


def _complete_runnable(clone: Resource, task: str) -> bool:
    """Pacemaker makes a clone's running pseudo-action runnable only when an instance is
    active or starting; its other completions are runnable."""
    if task != "start":
        return True
    for prim in clone.primitives():
        if prim.running_on:
            return True
        if any(a.task == "start" and not a.optional and a.runnable for a in prim.actions):
            return True
    return False


def _instance(builder: Builder, prim: Resource, notify: NotifyOps, needed: bool) -> None:
    task = notify.task
    if task in ("start", "promote", "demote") and not needed:
        return  # the action does not happen: nobody is told
    if task in ("stop", "demote") and prim.role != Role.STOPPED and prim.running_on:
        stop = next((a for a in prim.actions if a.task == "stop" and not a.interval_ms), None)
        for node in prim.running_on:
            if stop is not None and stop.pseudo and node.unclean:
                continue  # fencing stops it: the node is not told
            _notify(builder, prim, node, notify.pre, notify.pre_done, "pre", task)
            if task == "demote" or stop is None or stop.optional:
                _post(builder, prim, node, notify)
    target = prim.assigned
    if task in ("start", "promote") and prim.next_role != Role.STOPPED and target is not None:
        start = next((a for a in prim.actions if a.task == "start" and not a.interval_ms), None)
        if task != "start" or start is None or start.optional:
            _notify(builder, prim, target, notify.pre, notify.pre_done, "pre", task)
        _post(builder, prim, target, notify)


def _post(builder: Builder, prim: Resource, node: Node, notify: NotifyOps) -> None:
    _notify(builder, prim, node, notify.post, notify.post_done, "post", notify.task)
    # recurring monitors wait for every post-notification
    for mon in prim.actions:
        if mon.task == "monitor" and mon.interval_ms:
            builder.order(notify.post_done, mon, ORDERED)


def _notify(
    builder: Builder,
    prim: Resource,
    node: Node,
    op: Action,
    done: Action,
    kind: str,
    task: str,
) -> None:
    if not node.online or not op.runnable:
        return
    act = builder.action(
        prim,
        "notify",
        node,
        optional=op.optional,
        key=f"{prim.history_id}_{kind}_notify_{task}_0",
    )
    builder.order(op, act, ORDERED)
    builder.order(act, done, ORDERED)
