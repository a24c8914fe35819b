"""What the DC writes into the CIB's status section: membership, fencing and operation
results, in the elements the executor's history builds (:mod:`hactl.core.executor.history`).
Pure: functions on the CIB's lxml root.

Per resource and node the history keeps ``<rsc>_last_0`` (the latest one-shot operation),
``<rsc>_last_failure_0`` (the latest failure) and ``<rsc>_<op>_<interval>`` per recurring
operation; a successful stop drops the recurring ones, as the executor does.
"""

from __future__ import annotations

import copy

from lxml import etree

from hactl.core.attrd.status import node_id
from hactl.core.executor.history import OperationRecord, ResourceAgent

Element = etree._Element
_ONLINE = {"in_ccm": "true", "crmd": "online", "join": "member", "expected": "member"}
_FENCED = {"in_ccm": "false", "crmd": "offline", "join": "down", "expected": "down"}


def node_state(root: Element, node: str) -> Element:
    ident = node_id(root, node)
    status = root.find("status")
    if status is None:
        status = etree.SubElement(root, "status")
    for state in status.iterfind("node_state"):
        if state.get("id") == ident:
            return state
    return etree.SubElement(status, "node_state", id=ident, uname=node)


def set_online(root: Element, node: str, online: bool) -> bool:
    """A node joined (member of the cluster, expected up) or left. A node that left while
    expected up is unclean to the scheduler: fenced when stonith is enabled. Returns
    whether anything changed."""
    state = node_state(root, node)
    wanted = _ONLINE if online else {"in_ccm": "false", "crmd": "offline"}
    changed = any(state.get(k) != v for k, v in wanted.items())
    for key, value in wanted.items():
        state.set(key, value)
    return changed


def record_fenced(root: Element, node: str) -> None:
    """A fenced node is cleanly down: nothing runs there any more, its transient
    attributes are gone with it."""
    state = node_state(root, node)
    for key, value in _FENCED.items():
        state.set(key, value)
    for child in list(state):
        if child.tag in ("lrm", "transient_attributes"):
            state.remove(child)


def replace_lrm(root: Element, node: str, lrm: Element) -> None:
    """Make the recorded ``<lrm>`` say what ``lrm`` (a node's own operation history)
    says, changing elements in place (by id) so that the patch to the replicas modifies,
    adds and removes records rather than moving whole sections."""
    state = node_state(root, node)
    current = state.find("lrm")
    if current is None:
        current = etree.SubElement(state, "lrm", id=state.get("id", ""))
    resources = current.find("lrm_resources")
    if resources is None:
        resources = etree.SubElement(current, "lrm_resources")
    wanted = lrm.find("lrm_resources")
    _same_children(resources, wanted if wanted is not None else etree.Element("lrm_resources"))


def _same_children(have: Element, want: Element) -> None:
    """``have``'s children become ``want``'s, matched by id, attributes set in place."""
    by_id = {child.get("id"): child for child in have}
    wanted_ids = {child.get("id") for child in want}
    for child in list(have):
        if child.get("id") not in wanted_ids:
            have.remove(child)
    for child in want:
        mine = by_id.get(child.get("id"))
        if mine is None:
            have.append(copy.deepcopy(child))
            continue
        for name in set(mine.attrib) - set(child.attrib):
            del mine.attrib[name]
        for name, value in child.attrib.items():
            if mine.get(name) != value:
                mine.set(name, value)
        _same_children(mine, child)


def _lrm_resource(state: Element, agent: ResourceAgent) -> Element:
    lrm = state.find("lrm")
    if lrm is None:
        lrm = etree.SubElement(state, "lrm", id=state.get("id", ""))
    resources = lrm.find("lrm_resources")
    if resources is None:
        resources = etree.SubElement(lrm, "lrm_resources")
    for element in resources.iterfind("lrm_resource"):
        if element.get("id") == agent.resource:
            return element
    element = etree.SubElement(resources, "lrm_resource", id=agent.resource)
    element.set("class", agent.standard)
    if agent.provider:
        element.set("provider", agent.provider)
    element.set("type", agent.agent_type)
    return element


def _put(history: Element, record: OperationRecord, record_id: str) -> None:
    # the executor reports a recurring result only when it changes, so the record's
    # last-rc-change is right as it is
    for old in history.iterfind("lrm_rsc_op"):
        if old.get("id") == record_id:
            history.remove(old)
            break
    history.append(record.to_xml(record_id))


def record_operation(
    root: Element, agent: ResourceAgent, record: OperationRecord, *, failure: bool
) -> None:
    """Record one operation's result on ``record.node``; ``failure`` also keeps it as the
    resource's last failure there."""
    history = _lrm_resource(node_state(root, record.node), agent)
    rsc = agent.resource
    if record.interval_ms:
        _put(history, record, f"{rsc}_{record.operation}_{record.interval_ms}")
    else:
        _put(history, record, f"{rsc}_last_0")
        if record.operation == "stop" and not record.failed:
            for old in list(history.iterfind("lrm_rsc_op")):
                if old.get("id") == f"{rsc}_{old.get('operation')}_{old.get('interval')}":
                    history.remove(old)  # a recurring record, not the last failure
    if failure:
        _put(history, record, f"{rsc}_last_failure_0")


def remove_recurring(
    root: Element, node: str, resource: str, operation: str, interval_ms: int
) -> None:
    """A cancelled recurring operation leaves the history."""
    record_id = f"{resource}_{operation}_{interval_ms}"
    for element in node_state(root, node).iterfind("lrm/lrm_resources/lrm_resource/lrm_rsc_op"):
        if element.get("id") == record_id:
            parent = element.getparent()
            assert parent is not None
            parent.remove(element)


def forget_resource(root: Element, node: str, resource_ids: set[str | None]) -> None:
    """A resource's whole operation history on ``node`` leaves the status section."""
    for element in node_state(root, node).iterfind("lrm/lrm_resources/lrm_resource"):
        if element.get("id") in resource_ids:
            parent = element.getparent()
            assert parent is not None
            parent.remove(element)
