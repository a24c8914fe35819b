"""From a transition graph's resource action to the operation a node's executor runs. Pure.

Pacemaker's graph carries each action's parameters and ``CRM_meta_*`` attributes; while
hactl's scheduler leaves them out, :func:`scheduled_operation` derives what is missing from
the CIB (the primitive's instance attributes evaluated for the node, the meta attributes of
the resource and its parents over rsc_defaults, the op's timeout over op_defaults). What the
graph does carry always wins, so the derivation retires itself once the scheduler fills them.
"""

from __future__ import annotations

import datetime as dt

from lxml import etree

from hactl.core.controller.failures import base_id
from hactl.core.controller.transition import GraphAction
from hactl.core.drivers import OcfRc, OperationRequest
from hactl.core.errors import HactlError
from hactl.core.executor.executor import ScheduledOperation
from hactl.core.scheduler.unpack import nvpairs, parse_interval_ms

Element = etree._Element
DEFAULT_TIMEOUT_MS = 20_000
_PROMOTED_ROLES = ("Promoted", "Master")
_META_PREFIX = "CRM_meta_"


class ActionError(HactlError):
    """A graph action the controller cannot turn into an operation."""


def transition_key(transition_id: int, action_id: int, target_rc: int, dc_uuid: str) -> str:
    return f"{transition_id}:{action_id}:{target_rc}:{dc_uuid}"


def _primitive(root: Element, resource: str) -> Element:
    """The configured primitive; an orphan (deleted while it still runs, so the graph
    only stops it) is a bare one: no parameters, meta attributes or ops of its own."""
    ident = base_id(resource)
    for element in root.iterfind(".//configuration/resources//primitive"):
        if element.get("id") == ident:
            return element
    return etree.Element("primitive", id=ident)


def _node_attributes(root: Element, node: str, now: dt.datetime) -> dict[str, str]:
    attrs = {"#uname": node, "#kind": "cluster"}
    for entry in root.iterfind("configuration/nodes/node"):
        if entry.get("uname") == node:
            attrs["#id"] = entry.get("id", "")
            attrs.update(nvpairs(entry, "instance_attributes", attrs, now))
    return attrs


def _meta(
    root: Element, primitive: Element, attrs: dict[str, str], now: dt.datetime
) -> dict[str, str]:
    """Meta attributes: the primitive's over its parents' over rsc_defaults."""
    chain = [primitive]
    parent = primitive.getparent()
    while parent is not None and parent.tag in ("group", "clone", "master", "bundle"):
        chain.append(parent)
        parent = parent.getparent()
    meta: dict[str, str] = {}
    for holder in reversed(chain):
        meta.update(nvpairs(holder, "meta_attributes", attrs, now))
    for key, value in nvpairs(
        root.find("configuration/rsc_defaults"), "meta_attributes", attrs, now
    ).items():
        meta.setdefault(key, value)
    return meta


def _configured_op(primitive: Element, name: str, interval_ms: int) -> Element | None:
    for op in primitive.iterfind("operations/op"):
        if op.get("name") == name and parse_interval_ms(op.get("interval")) == interval_ms:
            return op
    return None


def _timeout_ms(root: Element, op: Element | None, attrs: dict[str, str], now: dt.datetime) -> int:
    if op is not None and op.get("timeout"):
        return parse_interval_ms(op.get("timeout"))
    defaults = nvpairs(root.find("configuration/op_defaults"), "meta_attributes", attrs, now)
    return parse_interval_ms(defaults.get("timeout")) or DEFAULT_TIMEOUT_MS


def target_rc(action: GraphAction, op: Element | None) -> int:
    """What the operation is run to get: the graph's CRM_meta_op_target_rc when given,
    else 7 for a probe, 8 for a monitor of the promoted role, 0 otherwise."""
    given = action.attributes.get("CRM_meta_op_target_rc")
    if given is not None and given.lstrip("-").isdigit():
        return int(given)
    if action.operation == "monitor":
        if action.attributes.get("probe") == "1" or _interval_ms(action) == 0:
            return OcfRc.NOT_RUNNING
        if op is not None and op.get("role") in _PROMOTED_ROLES:
            return OcfRc.RUNNING_PROMOTED
    return OcfRc.SUCCESS


def _interval_ms(action: GraphAction) -> int:
    for name in ("CRM_meta_interval", "interval"):
        value = action.attributes.get(name)
        if value is not None and value.isdigit():
            return int(value)
    tail = action.operation_key.rsplit("_", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _instance(action: GraphAction) -> str:
    """The name the node knows the resource by: a clone instance keeps the number it
    has in the node's history (the operation key's), whatever the graph numbers it."""
    operation = "monitor" if action.operation == "cancel" else action.operation
    suffix = f"_{operation}_{_interval_ms(action)}"
    if action.operation_key.endswith(suffix) and len(action.operation_key) > len(suffix):
        return action.operation_key[: -len(suffix)]
    return action.resource["id"]


def scheduled_operation(
    root: Element, action: GraphAction, transition_id: int, dc_uuid: str, now: dt.datetime
) -> ScheduledOperation:
    """The executor's operation for a graph ``rsc_op`` (``cancel`` included: its request
    names the recurring operation to cancel, action ``cancel``)."""
    if action.node is None or "id" not in action.resource:
        raise ActionError(f"action {action.operation_key} names no resource or node", where="graph")
    resource = _instance(action)
    primitive = _primitive(root, resource)
    attrs = _node_attributes(root, action.node, now)
    interval_ms = _interval_ms(action)
    operation = action.operation
    op_name = "monitor" if operation == "cancel" else operation
    op = _configured_op(primitive, op_name, interval_ms)
    given = {k: v for k, v in action.attributes.items() if not k.startswith(_META_PREFIX)}
    given.pop("probe", None)
    given.pop("interval", None)
    params = {**nvpairs(primitive, "instance_attributes", attrs, now), **given}
    meta = _meta(root, primitive, attrs, now)
    if ":" in resource:
        meta.setdefault("clone", resource.split(":", 1)[1])
    meta.update(
        {
            k[len(_META_PREFIX) :]: v
            for k, v in action.attributes.items()
            if k.startswith(_META_PREFIX)
        }
    )
    given_timeout = meta.pop("timeout", None)
    timeout_ms = (
        int(given_timeout)
        if given_timeout and given_timeout.isdigit()
        else _timeout_ms(root, op, attrs, now)
    )
    spec = ":".join(
        part
        for part in (
            action.resource.get("class"),
            action.resource.get("provider"),
            action.resource.get("type"),
        )
        if part
    )
    expected = target_rc(action, op)
    request = OperationRequest(
        resource=resource,
        agent=spec,
        action=operation,
        params=params,
        meta={k: v for k, v in meta.items() if k not in ("interval", "op_target_rc")},
        interval_ms=interval_ms,
        timeout_ms=timeout_ms,
    )
    return ScheduledOperation(
        request,
        transition_key=transition_key(transition_id, action.action_id, expected, dc_uuid),
        expected_rc=expected,
    )
