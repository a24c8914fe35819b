"""The cluster's fencing history in the CIB's status section: what the DC's fencer did and
what administrators confirmed, replicated to every node with the rest of the status.

Pacemaker keeps this history in its fencers' memory and syncs it between them; hactl keeps
it where every node already holds the cluster's state, so `hactl status` and
`hactl stonith history` on any node show the same, and a new DC starts from it. The
status section's schema accepts any element, so the CIB still passes crm_verify::

    <status>
      <fencing_history>
        <fence_event id="fence-node3-1763780000123" target="node3" action="reboot"
            state="success" delegate="node1" origin="node1" client="hactl-controller.812"
            completed="1763780000.123" devices="fence-node3" reason=""/>
      </fencing_history>
      <node_state …/>
    </status>

Pure: functions on the CIB's lxml root.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

from lxml import etree

from hactl.core.fencer.history import FenceHistoryEntry, HistoryRecord, newest_first

Element = etree._Element
HISTORY_TAG = "fencing_history"
EVENT_TAG = "fence_event"
#: events kept per cluster (Pacemaker's fencer keeps 500; the status section is replicated
#: with every change, so hactl keeps fewer)
KEEP = 100


def _section(root: Element, create: bool) -> Element | None:
    status = root.find("status")
    if status is None:
        if not create:
            return None
        status = etree.SubElement(root, "status")
    section = status.find(HISTORY_TAG)
    if section is None and create:
        section = etree.Element(HISTORY_TAG)
        status.insert(0, section)  # before the node_states, which are many
    return section


def record(root: Element, entry: FenceHistoryEntry, client: str) -> str:
    """Add one request, finished or pending (the oldest beyond KEEP go); its event id."""
    section = _section(root, create=True)
    assert section is not None
    completed = entry.completed if entry.completed is not None else 0.0
    stamp = int(completed * 1000)
    ident = f"fence-{entry.target}-{stamp}"
    taken = {e.get("id") for e in section}
    suffix = 1
    while ident in taken:
        suffix += 1
        ident = f"fence-{entry.target}-{stamp}-{suffix}"
    etree.SubElement(
        section,
        EVENT_TAG,
        id=ident,
        target=entry.target,
        action=entry.action,
        state=entry.state,
        delegate=entry.executioner,
        origin=entry.origin,
        client=client,
        completed=repr(completed),
        devices=",".join(entry.devices),
        reason=entry.reason,
    )
    events = list(section)
    for old in events[: max(0, len(events) - KEEP)]:
        section.remove(old)
    return ident


def forget(root: Element, ident: str) -> None:
    """Drop one event (a pending request, once its outcome is recorded)."""
    section = _section(root, create=False)
    if section is None:
        return
    for event in section.findall(EVENT_TAG):
        if event.get("id") == ident:
            section.remove(event)


def fail_pending(root: Element, reason: str, now: float) -> int:
    """Pending requests whose DC is gone (a new DC starts): failed, with ``reason``."""
    section = _section(root, create=False)
    stale = [] if section is None else list(section.iterfind(f"{EVENT_TAG}[@state='pending']"))
    for event in stale:
        event.set("state", "failed")
        event.set("reason", reason)
        event.set("completed", repr(now))
    return len(stale)


def carry_over(source: Element, target: Element) -> bool:
    """Put ``source``'s history into ``target`` in place of its own (a controller taking
    the replica's CIB keeps what it fenced); whether ``target`` changed."""
    mine = _section(source, create=False)
    theirs = _section(target, create=False)
    if mine is None or (theirs is not None and etree.tostring(mine) == etree.tostring(theirs)):
        return False
    if theirs is not None:
        parent = theirs.getparent()
        assert parent is not None
        parent.remove(theirs)
    status = target.find("status")
    if status is None:
        status = etree.SubElement(target, "status")
    status.insert(0, copy.deepcopy(mine))
    return True


def records(root: Element, target: str | None = None) -> list[HistoryRecord]:
    """The recorded events, oldest first (of ``target`` only, when given)."""
    section = _section(root, create=False)
    if section is None:
        return []
    found = []
    for event in section.iterfind(EVENT_TAG):
        if target is not None and event.get("target") != target:
            continue
        try:
            completed: float | None = float(event.get("completed", ""))
        except ValueError:
            completed = None
        entry = FenceHistoryEntry(
            target=event.get("target", ""),
            action=event.get("action", ""),
            origin=event.get("origin", ""),
            executioner=event.get("delegate", ""),
            state=event.get("state", ""),
            devices=[d for d in event.get("devices", "").split(",") if d],
            reason=event.get("reason", ""),
            completed=completed,
        )
        found.append(HistoryRecord(entry, event.get("client", "")))
    return found


def cleanup(root: Element, target: str | None = None) -> int:
    """Forget the events (of ``target`` only, when given); how many went."""
    section = _section(root, create=False)
    if section is None:
        return 0
    gone = [e for e in section if target is None or e.get("target") == target]
    for event in gone:
        section.remove(event)
    if not len(section):
        parent = section.getparent()
        assert parent is not None
        parent.remove(section)
    return len(gone)


def unresolved_failures(history: Iterable[HistoryRecord]) -> list[HistoryRecord]:
    """The failures crm_mon lists under "Failed Fencing Actions": per target and action the
    latest failure, unless the target was fenced (or confirmed down) after it."""
    ordered = newest_first(list(history))
    latest: dict[tuple[str, str], HistoryRecord] = {}
    for item in reversed(ordered):  # oldest first
        entry = item.entry
        if entry.state == "success":
            for key in [k for k in latest if k[0] == entry.target]:
                del latest[key]
        elif entry.state == "failed":
            latest[(entry.target, entry.action)] = item
    return newest_first(list(latest.values()))
