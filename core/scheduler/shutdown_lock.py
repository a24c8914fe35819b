"""Shutdown locks (cluster option shutdown-lock): a resource active on a node that shuts down
cleanly stays stopped there, locked to it, instead of being recovered elsewhere, until the
node comes back or shutdown-lock-limit passes since the shutdown.

The lock is recorded on the resource's history entry of the node (its shutdown-lock
attribute, the shutdown time); an expired lock has that history cleared (lrm_delete), and a
resource meanwhile active elsewhere loses its lock the same way (Pacemaker's
unpack_shutdown_lock and pcmk__primitive_shutdown_lock).
"""

from __future__ import annotations

from lxml import etree

from hactl.core.scheduler import scores
from hactl.core.scheduler.model import Location, Node, Resource, WorkingSet


def enabled(ws: WorkingSet) -> bool:
    return ws.options.get("shutdown-lock", "false").strip().lower() in (
        "true",
        "yes",
        "1",
        "on",
        "y",
    )


def limit_s(ws: WorkingSet) -> int:
    from hactl.core.scheduler.unpack import parse_interval_ms

    return parse_interval_ms(ws.options.get("shutdown-lock-limit")) // 1000


def unpack_lock(ws: WorkingSet, rsc: Resource, node: Node, history: etree._Element) -> None:
    """The lock a resource's history on a node records, unless it expired (then the history
    is to be cleared)."""
    text = history.get("shutdown-lock", "0")
    lock_time = int(text) if text.isdigit() else 0
    if not enabled(ws) or lock_time == 0:
        return
    limit = limit_s(ws)
    if limit > 0 and ws.epoch > lock_time + limit:
        ws.history_clears.append((rsc, node))
    else:
        rsc.lock_node = node


def apply(ws: WorkingSet) -> None:
    """Lock resources to the node they stay stopped on and ban them from the others."""
    if not enabled(ws):
        return
    for rsc in ws.all_resources():
        if not rsc.is_primitive or rsc.agent_class.lower() == "stonith":
            continue
        if rsc.is_remote_connection:
            continue
        if rsc.lock_node is not None:
            if rsc.running_on:
                # started elsewhere meanwhile: the lock is gone with its history
                ws.history_clears.append((rsc, rsc.lock_node))
                rsc.lock_node = None
        elif len(rsc.running_on) == 1:
            node = rsc.running_on[0]
            if node.shutdown and not node.unclean:
                rsc.lock_node = node
        if rsc.lock_node is None:
            continue
        others = {n.name: -scores.INFINITY for n in ws.nodes if n is not rsc.lock_node}
        ws.locations.append(Location(id="shutdown-lock", rsc=rsc, node_scores=others))
