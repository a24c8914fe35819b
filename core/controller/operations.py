"""From a transition graph's resource action to the operation a node's executor runs. Pure.

The scheduler's graph carries each action's parameters (the primitive's instance
attributes, evaluated for the node) and ``CRM_meta_*`` attributes (timeout, interval,
target rc, clone numbers and notification lists), as Pacemaker's does: the operation is
built from the graph alone, never from a second reading of the CIB, so what runs is
exactly what the scheduler decided on.
"""

from __future__ import annotations

from hactl.core.controller.transition import GraphAction
from hactl.core.drivers import OcfRc, OperationRequest
from hactl.core.errors import HactlError
from hactl.core.executor.executor import ScheduledOperation

DEFAULT_TIMEOUT_MS = 20_000
_META_PREFIX = "CRM_meta_"
#: graph attributes that describe the action, not parameters for the agent
_NOT_PARAMETERS = frozenset({"crm_feature_set"})


class ActionError(HactlError):
    """A graph action the controller cannot turn into an operation."""


def transition_key(transition_id: int, action_id: int, target_rc: int, dc_uuid: str) -> str:
    return f"{transition_id}:{action_id}:{target_rc}:{dc_uuid}"


def target_rc(action: GraphAction) -> int:
    """What the operation is run to get: the graph's CRM_meta_op_target_rc when given,
    else 7 for a probe, 0 otherwise."""
    given = action.attributes.get("CRM_meta_op_target_rc")
    if given is not None and given.lstrip("-").isdigit():
        return int(given)
    if action.operation == "monitor" and _interval_ms(action) == 0:
        return OcfRc.NOT_RUNNING
    return OcfRc.SUCCESS


def _interval_ms(action: GraphAction) -> int:
    value = action.attributes.get("CRM_meta_interval")
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
    action: GraphAction, transition_id: int, dc_uuid: str
) -> ScheduledOperation:
    """The executor's operation for a graph ``rsc_op`` (``cancel`` included: its request
    names the recurring operation to cancel, action ``cancel``)."""
    if action.node is None or "id" not in action.resource:
        raise ActionError(f"action {action.operation_key} names no resource or node", where="graph")
    params = {
        k: v
        for k, v in action.attributes.items()
        if not k.startswith(_META_PREFIX) and k not in _NOT_PARAMETERS
    }
    meta = {
        k[len(_META_PREFIX) :]: v
        for k, v in action.attributes.items()
        if k.startswith(_META_PREFIX)
    }
    timeout = meta.pop("timeout", "")
    spec = ":".join(
        part
        for part in (
            action.resource.get("class"),
            action.resource.get("provider"),
            action.resource.get("type"),
        )
        if part
    )
    expected = target_rc(action)
    request = OperationRequest(
        resource=_instance(action),
        agent=spec,
        action=action.operation,
        params=params,
        meta={k: v for k, v in meta.items() if k not in ("interval", "op_target_rc")},
        interval_ms=_interval_ms(action),
        timeout_ms=int(timeout) if timeout.isdigit() else DEFAULT_TIMEOUT_MS,
    )
    return ScheduledOperation(
        request,
        transition_key=transition_key(transition_id, action.action_id, expected, dc_uuid),
        expected_rc=expected,
    )
