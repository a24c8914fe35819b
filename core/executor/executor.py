"""The asyncio executor of one node.

Operations on one resource run one after the other (an agent is never asked to start and
stop the same resource at once); at most ``max_parallel`` run on the node at a time.
Recurring operations (monitors) run at their interval, anchored at ``interval_origin``
when given, and report only changes of their result. A runner that fails or overruns
its timeout becomes a recorded failure, never an exception out of the executor.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace

from hactl.core.attrd import SBIN_DIR
from hactl.core.cib.digest import op_digest
from hactl.core.drivers import OcfRc, OperationRequest, OperationResult, OperationStatus
from hactl.core.executor.digests import AgentParams, record_digests
from hactl.core.executor.history import NodeHistory, OperationRecord, ResourceAgent

log = logging.getLogger("hactl.executor")

Runner = Callable[[OperationRequest], Awaitable[OperationResult]]
ResultListener = Callable[[OperationRecord], None]
#: an agent spec -> what its meta-data says about its parameters (None: nothing known)
AgentParamsReader = Callable[[str], AgentParams | None]
#: the actions that reload an agent; a reload is recorded as the start it stands for
RELOAD_ACTIONS = ("reload-agent", "reload")

#: beyond its timeout an operation gets this long to report before the executor gives up
#: on it; the agent classes kill the agent's process group at the timeout itself
RUNNER_GRACE_S = 5.0


@dataclass(frozen=True)
class ScheduledOperation:
    """An operation as the controller asks for it."""

    request: OperationRequest
    transition_key: str = ""
    expected_rc: int = OcfRc.SUCCESS
    interval_origin_s: float | None = None  # epoch seconds a recurring op is anchored to

    @property
    def recurring_key(self) -> tuple[str, str, int]:
        return (self.request.resource, self.request.action, self.request.interval_ms)

    @property
    def digest(self) -> str:
        request = self.request
        return op_digest(
            request.params, interval_ms=request.interval_ms, timeout_ms=request.timeout_ms
        )


def agent_environment(node: str) -> dict[str, str]:
    """What every agent run gets on this node: hactl's crm_attribute and attrd_updater
    first (HA_SBIN_DIR, then PATH, as agents written for Pacemaker look for them)."""
    return {
        "HA_SBIN_DIR": str(SBIN_DIR),
        "PATH": os.pathsep.join([str(SBIN_DIR), os.environ.get("PATH", os.defpath)]),
        "HACTL_PYTHON": sys.executable,
        "HACTL_NODE_NAME": node,
    }


def agent_runner(agent_class_for: Callable[[str], object]) -> Runner:
    """A runner that hands each request to the agent class of its standard (in the daemon:
    ``agent_runner(plugin_host.agent_class)``)."""

    async def run(request: OperationRequest) -> OperationResult:
        agent_class = agent_class_for(request.agent.split(":", 1)[0])
        result: OperationResult = await agent_class.execute(request)  # type: ignore[attr-defined]
        return result

    return run


class Executor:
    def __init__(
        self,
        node: str,
        runner: Runner,
        *,
        node_id: str | None = None,
        max_parallel: int = 4,
        on_result: ResultListener | None = None,
        clock: Callable[[], float] = time.time,
        agent_params: AgentParamsReader | None = None,
    ) -> None:
        self.history = NodeHistory(node, node_id)
        self._agent_params = agent_params
        self._agent_params_cache: dict[str, AgentParams | None] = {}
        self._runner = runner
        self._slots = asyncio.Semaphore(max_parallel)
        self._resource_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._recurring: dict[tuple[str, str, int], tuple[str, asyncio.Task[None]]] = {}
        self._on_result = on_result
        self._clock = clock
        self._environment: Mapping[str, str] = agent_environment(node)

    # ------------------------------------------------------------------ one-shot

    async def execute(self, op: ScheduledOperation) -> OperationRecord:
        """Run one operation, record it in the history, tell the listener, return it."""
        record = await self._run(op)
        log.info(
            "%s: rc %d (%s) after %d ms",
            record.key,
            record.rc,
            record.status,
            record.exec_ms,
        )
        self._record(op, record)
        self._notify(record)
        if op.request.action == "stop" and not record.failed:
            self.cancel_recurring(op.request.resource)
        return record

    def _prepared(self, request: OperationRequest) -> OperationRequest:
        """The request as this node runs it: where it runs, and with which tools."""
        return replace(
            request,
            meta={"on_node": self.history.node, **request.meta},
            environment={**self._environment, **request.environment},
        )

    async def _params_of(self, agent: str) -> AgentParams | None:
        """The agent's parameters per its meta-data, read once (in a thread: the agent
        runs) and kept, as Pacemaker's controller caches meta-data."""
        if self._agent_params is None:
            return None
        if agent not in self._agent_params_cache:
            try:
                found = await asyncio.to_thread(self._agent_params, agent)
            except Exception:  # a broken plugin costs the extra digests, not the operation
                log.exception("reading the meta-data of %s failed", agent)
                found = None
            self._agent_params_cache[agent] = found
        return self._agent_params_cache[agent]

    async def _run(self, op: ScheduledOperation) -> OperationRecord:
        request = self._prepared(op.request)
        agent = await self._params_of(request.agent)
        operation = request.action
        if operation in RELOAD_ACTIONS:
            # the scheduler asks for reload-agent; an older agent knows only reload
            legacy = agent is not None and agent.reload_action == "reload"
            request = replace(request, action="reload" if legacy else "reload-agent")
        queued = time.monotonic()
        async with self._resource_locks[request.resource], self._slots:
            started = time.monotonic()
            result = await self._guarded(request)
        if operation in RELOAD_ACTIONS:
            # recorded as a start (it applied the new definition) or, failed, as a monitor
            # that found it broken (Pacemaker's pcmk__create_history_xml)
            operation = "start" if result.status == OperationStatus.DONE else "monitor"
        digests = record_digests(
            request.params,
            interval_ms=request.interval_ms,
            timeout_ms=request.timeout_ms,
            agent=agent,
        )
        return OperationRecord(
            resource=request.resource,
            operation=operation,
            interval_ms=request.interval_ms,
            call_id=self.history.next_call_id(),
            rc=result.rc,
            status=result.status,
            node=self.history.node,
            last_rc_change=int(self._clock()),
            exec_ms=result.duration_ms or int((time.monotonic() - started) * 1000),
            queue_ms=int((started - queued) * 1000),
            transition_key=op.transition_key,
            digest=digests.digest,
            exit_reason=result.exit_reason,
            expected_rc=op.expected_rc,
            restart_digest=digests.restart_digest,
            force_restart=digests.force_restart,
            secure_digest=digests.secure_digest,
            secure_params=digests.secure_params,
        )

    async def _guarded(self, request: OperationRequest) -> OperationResult:
        try:
            return await asyncio.wait_for(
                self._runner(request), request.timeout_ms / 1000 + RUNNER_GRACE_S
            )
        except TimeoutError:
            return OperationResult(
                rc=OcfRc.ERR_GENERIC,
                status=OperationStatus.TIMED_OUT,
                exit_reason=f"no answer {RUNNER_GRACE_S:g}s after the {request.timeout_ms} ms "
                "timeout",
            )
        except Exception as exc:  # a broken plugin must not take the executor down
            log.exception("running %s %s failed", request.resource, request.action)
            return OperationResult(
                rc=OcfRc.ERR_GENERIC,
                status=OperationStatus.ERROR,
                exit_reason=f"{request.agent} could not be run: {type(exc).__name__}: {exc}",
            )

    def _record(self, op: ScheduledOperation, record: OperationRecord) -> None:
        agent = ResourceAgent.from_spec(op.request.resource, op.request.agent)
        self.history.for_resource(agent).record(record)

    def _notify(self, record: OperationRecord) -> None:
        if self._on_result is None:
            return
        try:
            self._on_result(record)
        except Exception:
            log.exception("result listener failed for %s", record.key)

    # ------------------------------------------------------------------ recurring

    def start_recurring(self, op: ScheduledOperation) -> None:
        """Start a recurring operation; one already running with the same parameters is
        left alone, one with other parameters is cancelled and re-created."""
        if op.request.interval_ms <= 0:
            raise ValueError("a recurring operation needs an interval")
        key = op.recurring_key
        current = self._recurring.get(key)
        if current is not None:
            if current[0] == op.digest:
                return
            current[1].cancel()
        task = asyncio.get_running_loop().create_task(self._repeat(op))
        self._recurring[key] = (op.digest, task)

    def _first_delay_s(self, op: ScheduledOperation) -> float:
        interval_s = op.request.interval_ms / 1000
        if op.interval_origin_s is None:
            return interval_s
        now = self._clock()
        periods = math.floor((now - op.interval_origin_s) / interval_s) + 1
        return op.interval_origin_s + periods * interval_s - now

    async def _repeat(self, op: ScheduledOperation) -> None:
        delay = self._first_delay_s(op)
        previous: tuple[int, str] | None = None
        while True:
            await asyncio.sleep(delay)
            record = await self._run(op)
            self._record(op, record)
            if (record.rc, record.status) != previous:
                self._notify(record)
                previous = (record.rc, record.status)
            delay = op.request.interval_ms / 1000

    def recurring(self) -> list[tuple[str, str, int]]:
        return sorted(self._recurring)

    def cancel_recurring(
        self, resource: str, action: str | None = None, interval_ms: int | None = None
    ) -> int:
        """Cancel a resource's recurring operations (those matching action/interval)."""
        cancelled = 0
        for key in list(self._recurring):
            rsc, act, interval = key
            if rsc == resource and action in (None, act) and interval_ms in (None, interval):
                self._recurring.pop(key)[1].cancel()
                history = self.history.resources.get(rsc)
                if history is not None:
                    history.forget_recurring(act, interval)
                cancelled += 1
        return cancelled

    async def close(self) -> None:
        tasks = [task for _, task in self._recurring.values()]
        self._recurring.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
