"""Operations of fence devices (stonith resources) where the scheduler placed them.

Pacemaker's executor registers a device with its node's fencer on start and then checks
that the device answers (a monitor); hactl's fencer reads its devices from the CIB, so a
start is that check, a stop has nothing to undo, and a monitor — the recurring one (60 s by
default, as Pacemaker's), or a probe of a device started here — asks the device again. A
probe of a device this node has not started finds it stopped. A device whose check fails
gets a failed operation in the status section: `hactl status` shows it, the scheduler
recovers it, and the fencer does not use it meanwhile (:func:`failed_devices`).

    runner = fence_device_runner(agent_runner(host.agent_class), host.fence_agent,
                                 started_here=lambda rsc: …)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from lxml import etree

from hactl.core.drivers import FenceAgent, OcfRc, OperationRequest, OperationResult
from hactl.core.errors import HactlError

Runner = Callable[[OperationRequest], Awaitable[OperationResult]]
STONITH_PREFIX = "stonith:"
#: what the CIB or the graph adds to a device's parameters that is not the agent's
_NOT_FOR_THE_AGENT = ("crm_feature_set",)


def agent_params(params: Mapping[str, str]) -> dict[str, str]:
    """A device's parameters as its fence agent takes them (the fencer's pcmk_* go)."""
    return {
        k: v for k, v in params.items() if not k.startswith("pcmk_") and k not in _NOT_FOR_THE_AGENT
    }


def fence_device_runner(
    inner: Runner,
    fence_agent_for: Callable[[str], FenceAgent],
    started_here: Callable[[str], bool],
) -> Runner:
    """``inner`` for every resource but fence devices, whose operations are run here.
    ``started_here(resource)``: whether this node's last operation on it started it."""

    async def run(request: OperationRequest) -> OperationResult:
        if not request.agent.startswith(STONITH_PREFIX):
            return await inner(request)
        return await _device_operation(request, fence_agent_for, started_here)

    return run


async def _device_operation(
    request: OperationRequest,
    fence_agent_for: Callable[[str], FenceAgent],
    started_here: Callable[[str], bool],
) -> OperationResult:
    if request.action == "stop":
        return OperationResult(rc=OcfRc.SUCCESS)
    if request.action not in ("start", "monitor"):
        return OperationResult(
            rc=OcfRc.ERR_UNIMPLEMENTED,
            exit_reason=f"fence devices have no {request.action!r} operation",
        )
    probe = request.action == "monitor" and not request.interval_ms
    if probe and not started_here(request.resource):
        return OperationResult(rc=OcfRc.NOT_RUNNING)
    try:
        agent = fence_agent_for(request.agent[len(STONITH_PREFIX) :])
        action = request.params.get("pcmk_monitor_action", "monitor")
        result = await agent.execute(action, agent_params(request.params), None, request.timeout_ms)
    except HactlError as exc:  # no such agent, parameters it refuses
        return OperationResult(rc=OcfRc.ERR_CONFIGURED, exit_reason=exc.message)
    if result.succeeded:
        return OperationResult(rc=OcfRc.SUCCESS, duration_ms=result.duration_ms)
    lines = result.output.strip().splitlines()  # the agent's output, secrets already masked
    return OperationResult(
        rc=OcfRc.ERR_GENERIC,
        duration_ms=result.duration_ms,
        exit_reason=lines[-1] if lines else f"{request.action} of the device failed",
    )


def failed_devices(root: etree._Element) -> set[str]:
    """Fence devices the status section shows failed: on some node their latest start or
    monitor could not reach the device (a stop after it does not undo that), and no node
    runs them healthy now. The fencer leaves them out until the scheduler recovered them
    on some node or an administrator cleaned the failure up."""
    healthy: set[str] = set()
    failed: set[str] = set()
    for state in root.iterfind("status/node_state"):
        if state.get("in_ccm") == "false" or state.get("crmd") == "offline":
            continue  # what was lost with a node that left (a start in flight) is no verdict
        for resource in state.iterfind("lrm/lrm_resources/lrm_resource"):
            _judge(resource, healthy, failed)
    return failed - healthy


def _judge(resource: etree._Element, healthy: set[str], failed: set[str]) -> None:
    """Sort one node's history of a fence device into healthy or failed (or neither)."""
    if resource.get("class") != "stonith":
        return
    device = str(resource.get("id"))
    ops = sorted(resource.iterfind("lrm_rsc_op"), key=lambda op: int(op.get("call-id") or 0))
    checks = [
        op for op in ops if op.get("operation") in ("start", "monitor") and not _found_stopped(op)
    ]
    if ops and ops[-1] in checks and _succeeded(ops[-1]):
        healthy.add(device)
    elif checks and not _succeeded(checks[-1]):
        failed.add(device)


def _found_stopped(op: etree._Element) -> bool:
    """A probe that found the device not started on that node: no verdict on it."""
    return (
        op.get("interval", "0") == "0"
        and op.get("operation") == "monitor"
        and (op.get("rc-code") == str(int(OcfRc.NOT_RUNNING)))
    )


def _succeeded(op: etree._Element) -> bool:
    return op.get("rc-code") == "0" and op.get("op-status", "0") == "0"
