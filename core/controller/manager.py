"""The DC's cluster controller: keeps resources running (Pacemaker's controller on the DC).

    controller = ClusterController(cib, dc_uuid="1", dispatch=dispatch, fence=fence)
    runner = asyncio.create_task(controller.run())
    controller.set_membership({"n1", "n2"})      # and on every membership change
    await controller.settle()                    # until nothing is left to do

Each round runs the scheduler on the CIB it holds, walks the transition graph with the
:class:`TransitionEngine`, sends every ready resource action to its node through the
injected ``dispatch(node, scheduled_op) -> OperationRecord``, fences through the injected
``fence(target, action)``, and records every result in the status section (operation
history, fail counts). A result the transition did not expect aborts it: nothing new is
dispatched, the actions in flight are awaited, and the scheduler runs again on the new
status. It also runs again when asked (a CIB, membership or attribute change), when a
recurring monitor reports a failure, and at cluster-recheck-interval (``tick()`` against
the injected clock). Scheduling and recording are pure; this class is the asyncio shell.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace

from lxml import etree

from hactl.core.attrd.status import set_transient
from hactl.core.cib.document import CibDocument
from hactl.core.cib.patch import bump_num_updates
from hactl.core.controller import failures, node_status
from hactl.core.controller.operations import scheduled_operation
from hactl.core.controller.transition import GraphAction, TransitionEngine, TransitionGraph
from hactl.core.drivers import OcfRc, OperationStatus
from hactl.core.errors import HactlError
from hactl.core.executor.executor import Executor, ScheduledOperation
from hactl.core.executor.history import OperationRecord, ResourceAgent
from hactl.core.fencer import cib_history
from hactl.core.fencer.fencer import FenceHistoryEntry, Fencer, FenceRequest
from hactl.core.fencer.history import MANUAL
from hactl.core.scheduler import WorkingSet, schedule
from hactl.core.scheduler.output import graph_xml
from hactl.core.scheduler.unpack import is_true, nvpairs, parse_interval_ms

log = logging.getLogger("hactl.controller")

DEFAULT_RECHECK_S = 15 * 60
DEFAULT_STONITH_MAX_ATTEMPTS = 10
_PROBE_ANSWERS = (OcfRc.SUCCESS, OcfRc.NOT_RUNNING, OcfRc.RUNNING_PROMOTED)


class NodeUnreachable(HactlError):
    """``dispatch`` raises this when the node cannot be asked (it left, its link is down):
    the action is lost, not failed on the node, so no fail count is recorded."""


#: what ``fence`` returns: the fencer's outcome of one request
FenceResult = FenceHistoryEntry


Dispatch = Callable[[str, ScheduledOperation], Awaitable[OperationRecord]]
#: fence(target, action, priority_delay_ms): the delay is the scheduler's priority-fencing-delay
Fence = Callable[[str, str, int], Awaitable[FenceResult]]
CibListener = Callable[[CibDocument], None]


@dataclass(frozen=True)
class FenceRecord:
    target: str
    action: str
    succeeded: bool
    devices: tuple[str, ...]
    reason: str


@dataclass
class TransitionSummary:
    """One transition as it ran: what was dispatched, what failed, why it stopped."""

    transition_id: int
    dispatched: list[str] = field(default_factory=list)  # "<op key> on <node>"
    failed: list[str] = field(default_factory=list)
    abort_reason: str | None = None


async def perform_on_node(
    executor: Executor, op: ScheduledOperation, *, fence_devices_run: bool = False
) -> OperationRecord:
    """The node's side of ``dispatch``: run the operation on its executor. A recurring
    operation runs once now (its result confirms the action) and then at its interval;
    ``cancel`` stops the recurring monitor the request names. ``fence_devices_run``: the
    executor's runner runs fence devices' operations (hactl.core.fencer.device_runner, as
    the daemon's does), so they go through it like any other; otherwise a device's start
    and stop are only recorded."""
    request = op.request
    fence_device = request.agent.startswith("stonith:")
    if fence_device and not fence_devices_run and request.action in ("start", "stop", "monitor"):
        return _fence_device_operation(executor, op)
    if request.action == "cancel":
        executor.cancel_recurring(request.resource, "monitor", request.interval_ms)
        return OperationRecord(
            resource=request.resource,
            operation="cancel",
            interval_ms=request.interval_ms,
            call_id=executor.history.next_call_id(),
            rc=OcfRc.SUCCESS,
            status=OperationStatus.DONE,
            node=executor.history.node,
            last_rc_change=int(time.time()),
            transition_key=op.transition_key,
        )
    record = await executor.execute(op)
    if request.interval_ms:
        executor.start_recurring(op)
    return record


def _plan(root: etree._Element, now: dt.datetime) -> tuple[WorkingSet, TransitionGraph]:
    """The scheduler's run, in a worker thread: the event loop keeps answering totem and
    the transport's heartbeats while a large cluster is scheduled."""
    ws = schedule(root, now)
    return ws, TransitionGraph.from_xml(graph_xml(ws))


def fence_through(fencer_for: Callable[[], Fencer], origin: str) -> Fence:
    """The ``fence`` callback over hactl's fencer; ``fencer_for`` gives one that knows the
    current CIB's devices (e.g. ``lambda: Fencer(node, build_model(cib), host.fence_agent)``)."""

    async def fence(target: str, action: str, priority_delay_ms: int) -> FenceResult:
        request = FenceRequest(target, action, origin=origin, extra_delay_ms=priority_delay_ms)
        return await fencer_for().fence(request)

    return fence


def _fence_device_operation(executor: Executor, op: ScheduledOperation) -> OperationRecord:
    """A fence device "runs" where the scheduler placed it: Pacemaker's executor registers
    it with the node's fencer on start. hactl's fencer reads its devices from the CIB, so
    start and stop only change the device's recorded state, and monitor answers from it."""
    request = op.request
    history = executor.history
    known = history.resources.get(request.resource)
    last = known.last if known is not None else None
    active = last is not None and last.operation == "start" and not last.failed
    if request.action == "monitor":
        rc = OcfRc.SUCCESS if active else OcfRc.NOT_RUNNING
    else:
        rc = OcfRc.SUCCESS
    record = OperationRecord(
        resource=request.resource,
        operation=request.action,
        interval_ms=request.interval_ms,
        call_id=history.next_call_id(),
        rc=rc,
        status=OperationStatus.DONE,
        node=history.node,
        last_rc_change=int(time.time()),
        transition_key=op.transition_key,
        digest=op.digest,
        expected_rc=op.expected_rc,
    )
    agent = ResourceAgent.from_spec(request.resource, request.agent)
    history.for_resource(agent).record(record)
    return record


class ClusterController:
    def __init__(
        self,
        cib: CibDocument,
        *,
        dc_uuid: str,
        dispatch: Dispatch,
        fence: Fence,
        clock: Callable[[], float] = time.time,
        on_cib_change: CibListener | None = None,
        fence_client: str = "hactl-controller",
    ) -> None:
        self.cib = cib
        self.dc_uuid = dc_uuid
        self._dispatch = dispatch
        self._fence = fence
        self._clock = clock
        self._on_cib_change = on_cib_change
        self._wanted = asyncio.Event()
        self._idle = asyncio.Event()
        self._stopping = False
        self._transition_id = 0
        self._next_recheck = clock() + DEFAULT_RECHECK_S
        self._recorded: set[tuple[str, int]] = set()  # (node, call id) already in the status
        self._fence_failures: dict[str, int] = {}
        self._fence_client = fence_client  # the client name fencing history shows
        self._membership_known = False  # set_membership was called since the start
        self._fencing_deferred = False
        self.transitions: list[TransitionSummary] = []
        self.fence_history: list[FenceRecord] = []
        #: nodes fenced outside the DC's own attempts (an administrator's `stonith fence`
        #: or `stonith confirm`) -> when the DC learned it: that completes the attempts
        #: of the DC running then
        self._fenced_elsewhere: dict[str, float] = {}
        #: what changed in the status since take_changes(): (node, resource) operation
        #: histories, or None for anything (a diff of the whole CIB finds it)
        self._changed: set[tuple[str, str]] | None = None

    # ------------------------------------------------------------------ inputs

    def request_transition(self, reason: str) -> None:
        """Something changed: the scheduler runs again (after the current transition)."""
        log.debug("new transition wanted: %s", reason)
        self._idle.clear()
        self._wanted.set()

    def replace_cib(self, cib: CibDocument) -> None:
        """The CIB changed elsewhere (a configuration edit reached this node)."""
        self.cib = cib
        self._changed = None
        self.request_transition("CIB replaced")

    def take_changes(self) -> set[tuple[str, str]] | None:
        """What the status changes since the last call touched: the (node, resource)
        operation histories, or None when it may be anything. Status updates diff only
        those parts of a large CIB."""
        changed, self._changed = self._changed, set()
        return changed

    def set_membership(self, online: Iterable[str]) -> None:
        """The nodes currently in the membership (with their controller up)."""
        members = set(online)
        changed = not self._membership_known and self._fencing_deferred
        self._membership_known = True
        for node in failures.node_names(self.cib.root):
            up = node in members
            if up:
                self._fence_failures.pop(node, None)  # a node that came back starts afresh
            changed |= node_status.set_online(self.cib.root, node, up)
            if not up:
                self._recorded = {seen for seen in self._recorded if seen[0] != node}
        if changed:
            self._status_changed()
            self.request_transition("membership changed")

    def replace_node_history(self, node: str, lrm: etree._Element) -> None:
        """What ``node``'s executor says it ran (its ``<lrm>``, uploaded when it joins or
        a new DC takes over) replaces what the status recorded: empty after a restart,
        so its resources are probed again."""
        node_status.replace_lrm(self.cib.root, node, lrm)
        self._recorded = {seen for seen in self._recorded if seen[0] != node}
        self._status_changed()

    def set_quorum(self, quorate: bool) -> None:
        self.cib.root.set("have-quorum", "1" if quorate else "0")
        self._status_changed()
        self.request_transition("quorum changed")

    def set_attribute(self, node: str, name: str, value: str | None) -> None:
        """A transient node attribute changed (attrd, crm_attribute)."""
        if set_transient(self.cib.root, node, name, value):
            self._status_changed()
            self.request_transition(f"attribute {name} on {node} changed")

    def fenced_elsewhere(self, entry: FenceHistoryEntry, client: str) -> None:
        """An administrator fenced ``entry.target`` (``stonith fence``, run on some node) or
        confirmed it down (``stonith confirm``): recorded in the history as the DC learns
        it (a confirmation stamped now, as Pacemaker's fencer stamps a manual one), and a
        success marks the node fenced, as the DC's own fencing does: its resources are
        recovered, and a fencing attempt of the DC still running for it is completed by
        this (not recorded as one more failure), so the history's order by completion
        time lists nothing of the DC's for that node above this."""
        target = entry.target
        if entry.executioner == MANUAL:
            entry = replace(entry, completed=self._clock())
        cib_history.record(self.cib.root, entry, client)
        if entry.succeeded:
            self._fenced_elsewhere[target] = self._clock()
            self._fence_failures.pop(target, None)
            node_status.record_fenced(self.cib.root, target)
            self._recorded = {seen for seen in self._recorded if seen[0] != target}
        self._status_changed()
        if entry.succeeded:
            self.request_transition(f"{target} was fenced by {entry.executioner}")

    def operation_reported(self, record: OperationRecord) -> None:
        """A node's executor reported a result on its own: a recurring monitor's change.
        One-shot results arrive as ``dispatch``'s return value and are ignored here."""
        if not record.interval_ms or record.operation == "cancel":
            return
        if self._record(record, probe=False):
            self.request_transition(f"{record.key} on {record.node} failed")

    def tick(self) -> None:
        """Call regularly (the daemon: every second): runs the scheduler again once
        cluster-recheck-interval has passed (failure-timeout, time-based rules)."""
        if self._clock() >= self._next_recheck:
            self._next_recheck = self._clock() + self._recheck_s()
            self.request_transition("cluster-recheck-interval")

    # ------------------------------------------------------------------ the loop

    async def run(self) -> None:
        """Run transitions until :meth:`stop`."""
        if cib_history.fail_pending(self.cib.root, "the DC running it left", self._clock()):
            self._status_changed()  # a new DC: the old one's fencing in flight is lost
        self.request_transition("controller started")
        while not self._stopping:
            await self._wanted.wait()
            if self._stopping:
                break
            self._wanted.clear()
            try:
                await self._transition()
            except HactlError as exc:
                log.error("transition could not run: %s", exc.message)
            except Exception:  # a policy bug must not stop the cluster's controller
                log.exception("transition %d failed", self._transition_id)
            if not self._wanted.is_set():
                self._idle.set()

    def stop(self) -> None:
        self._stopping = True
        self._wanted.set()

    async def settle(self) -> None:
        """Wait until no transition runs and none is wanted."""
        while not (self._idle.is_set() and not self._wanted.is_set()):
            await self._idle.wait()

    @property
    def idle(self) -> bool:
        return self._idle.is_set() and not self._wanted.is_set()

    # ------------------------------------------------------------------ internals

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self._clock(), tz=dt.UTC)

    def _options(self) -> dict[str, str]:
        return nvpairs(
            self.cib.root.find("configuration/crm_config"), "cluster_property_set", {}, self._now()
        )

    def _recheck_s(self) -> float:
        text = self._options().get("cluster-recheck-interval")
        return parse_interval_ms(text) / 1000 if text else DEFAULT_RECHECK_S

    def _next_recheck_after(self, ws: WorkingSet) -> float:
        """cluster-recheck-interval from now, or sooner when a recorded failure expires
        (failure-timeout) before that, as Pacemaker's scheduler asks its controller."""
        timeouts = {
            rsc.id: rsc.failure_timeout
            for rsc in ws.all_resources()
            if rsc.is_primitive and rsc.failure_timeout
        }
        due = [self._clock() + self._recheck_s()]
        for entry in failures.fail_counts(self.cib.root):
            timeout = timeouts.get(entry.resource)
            if timeout and entry.last_failure:
                due.append(entry.last_failure + timeout + 1)
        return max(min(due), self._clock())

    def _status_changed(self, history: tuple[str, str] | None = None) -> None:
        """The status changed: only ``history`` (node, resource)'s operation history, or
        (None) anything."""
        if history is None:
            self._changed = None
        elif self._changed is not None:
            self._changed.add(history)
        bump_num_updates(self.cib.root)
        if self._on_cib_change is not None:
            self._on_cib_change(self.cib)

    def _fencing_exhausted(self, graph: TransitionGraph) -> list[str]:
        limit_text = self._options().get("stonith-max-attempts", "")
        limit = int(limit_text) if limit_text.isdigit() else DEFAULT_STONITH_MAX_ATTEMPTS
        return sorted(
            {
                str(s.action.node)
                for s in graph.synapses
                if s.action.kind == "crm_event" and s.action.operation == "stonith"
                if self._fence_failures.get(str(s.action.node), 0) >= limit
            }
        )

    async def _transition(self) -> None:
        self._transition_id += 1
        now = self._now()
        began = time.monotonic()
        ws, graph = await asyncio.to_thread(_plan, copy.deepcopy(self.cib.root), now)
        log.info(
            "transition %d: %d actions, scheduled in %.0f ms",
            self._transition_id,
            sum(1 for s in graph.synapses if not s.action.is_pseudo),
            (time.monotonic() - began) * 1000,
        )
        summary = TransitionSummary(self._transition_id)
        self.transitions.append(summary)
        self._next_recheck = self._next_recheck_after(ws)
        if not self._membership_known and any(
            s.action.operation == "stonith" for s in graph.synapses
        ):
            # A new DC starts from the CIB as the old membership left it (quorum included):
            # it fences only once it knows the current membership and quorum (a minority
            # partition must not fence the majority)
            self._fencing_deferred = True
            summary.abort_reason = "fencing waits until this DC knows the membership"
            log.info("not running transition %d: %s", self._transition_id, summary.abort_reason)
            return
        exhausted = self._fencing_exhausted(graph)
        if exhausted:
            # Pacemaker's controller gives up after stonith-max-attempts: nothing of this
            # transition runs (its actions depend on the fencing) until something changes
            summary.abort_reason = f"fencing of {', '.join(exhausted)} failed too often"
            log.error("not running transition %d: %s", self._transition_id, summary.abort_reason)
            return
        engine = TransitionEngine(graph)
        running: dict[asyncio.Task[tuple[bool, str]], GraphAction] = {}
        while True:
            if self._wanted.is_set():
                engine.abort("a change arrived during the transition")
            for action in engine.ready():
                log.info(
                    "transition %d: initiating %s on %s",
                    self._transition_id,
                    action.operation_key,
                    action.node,
                )
                summary.dispatched.append(f"{action.operation_key} on {action.node}")
                task = asyncio.create_task(self._perform(action))
                running[task] = action
            if not running:
                break
            done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                action = running.pop(task)
                succeeded, reason = task.result()
                if not succeeded:
                    summary.failed.append(f"{action.operation_key} on {action.node}")
                engine.completed(action.action_id, succeeded, reason)
        summary.abort_reason = engine.abort_reason
        if engine.aborted:
            self.request_transition(
                f"transition {self._transition_id} aborted: {engine.abort_reason}"
            )

    async def _perform(self, action: GraphAction) -> tuple[bool, str]:
        """Run one action; whether it gave what the transition expected, and why not."""
        try:
            if action.operation == "stonith":
                return await self._fence_node(action)
            if action.operation == "clear_failcount":
                self._clear_fail_count(action)
                return True, ""
            if action.operation == "delete":
                # the history of a removed (or re-typed) resource: forgotten, as the
                # executor has nothing left to run for it
                names = {action.resource.get("id"), action.resource.get("long-id")}
                node_status.forget_resource(self.cib.root, str(action.node), names)
                for name in names - {None}:
                    self._status_changed((str(action.node), str(name)))
                return True, ""
            if action.kind == "crm_event":
                return True, ""  # do_shutdown, lrm refresh: nothing for the DC to do
            op = scheduled_operation(action, self._transition_id, self.dc_uuid)
            record = await self._dispatch(str(action.node), op)
        except HactlError as exc:
            return False, f"{action.operation_key} on {action.node}: {exc.message}"
        if op.request.action == "cancel":
            if record.rc == OcfRc.SUCCESS:
                node_status.remove_recurring(
                    self.cib.root, record.node, record.resource, "monitor", op.request.interval_ms
                )
                self._status_changed((record.node, record.resource))
            return record.rc == OcfRc.SUCCESS, record.exit_reason
        probe = op.request.action == "monitor" and not op.request.interval_ms
        self._record(record, probe=probe)
        if record.failed:
            return False, f"{record.key} on {record.node} returned {record.rc} ({record.status})"
        return True, ""

    def _agent(self, resource: str, node: str) -> ResourceAgent:
        base = failures.base_id(resource)
        for element in self.cib.root.iterfind("configuration/resources//primitive"):
            if element.get("id") == base:
                return ResourceAgent(
                    resource,
                    element.get("class", ""),
                    element.get("type", ""),
                    element.get("provider"),
                )
        for element in node_status.node_state(self.cib.root, node).iterfind(
            "lrm/lrm_resources/lrm_resource"
        ):
            if element.get("id") == resource:
                return ResourceAgent(
                    resource,
                    element.get("class", ""),
                    element.get("type", ""),
                    element.get("provider"),
                )
        raise HactlError(f"resource {resource!r} is neither configured nor known on {node}")

    def _record(self, record: OperationRecord, *, probe: bool) -> bool:
        """Write a result into the status; count it when it is a failure. Returns whether
        it was a failure (a probe's finding is none, whatever it found)."""
        if (record.node, record.call_id) in self._recorded:
            return False
        self._recorded.add((record.node, record.call_id))
        failure = record.failed and not (
            probe and record.status == OperationStatus.DONE and record.rc in _PROBE_ANSWERS
        )
        root = self.cib.root
        node_status.record_operation(
            root, self._agent(record.resource, record.node), record, failure=failure
        )
        if failure:
            fatal = record.operation == "start" and is_true(
                self._options().get("start-failure-is-fatal"), True
            )
            failures.record_failure(
                root,
                record.node,
                record.resource,
                record.operation,
                record.interval_ms,
                int(self._clock()),
                fatal=fatal,
            )
        self._status_changed(None if failure else (record.node, record.resource))
        return failure

    def _clear_fail_count(self, action: GraphAction) -> None:
        resource = failures.base_id(action.resource.get("id", ""))
        entries = [
            entry
            for entry in failures.fail_counts(self.cib.root, node=action.node)
            if entry.resource == resource
        ]
        if failures.clear_entries(self.cib.root, entries):
            self._status_changed()

    def _fenced_since(self, target: str, since: float) -> bool:
        """Whether an administrator's fencing or confirmation of ``target`` reached this
        DC after ``since`` (a CIB this DC took over may hold an older DC's knowledge)."""
        if self._fenced_elsewhere.get(target, -1.0) >= since:
            return True
        return any(
            record.entry.executioner == MANUAL
            and record.entry.succeeded
            and (record.entry.completed or 0.0) >= since
            for record in cib_history.records(self.cib.root, target)
        )

    def _dc_name(self) -> str:
        for node in self.cib.root.iterfind("configuration/nodes/node"):
            if node.get("id") == self.dc_uuid:
                return str(node.get("uname"))
        return self.dc_uuid

    async def _fence_node(self, action: GraphAction) -> tuple[bool, str]:
        target = str(action.node)
        fence_action = action.attributes.get(
            "CRM_meta_stonith_action", action.attributes.get("stonith_action", "reboot")
        )
        pending = FenceHistoryEntry(target, fence_action, self._dc_name(), "", state="pending")
        pending_id = cib_history.record(self.cib.root, pending, self._fence_client)
        self._status_changed()  # crm_mon's "Pending Fencing Actions" while the fencer works
        asked_at = self._clock()
        delay_s = action.attributes.get("CRM_meta_priority_fencing_delay", "0")
        delay_ms = int(delay_s) * 1000 if delay_s.isdigit() else 0
        result = await self._fence(target, fence_action, delay_ms)
        cib_history.forget(self.cib.root, pending_id)
        if not result.succeeded and self._fenced_since(target, asked_at):
            # an administrator fenced or confirmed the node down meanwhile: that completes
            # the request
            log.warning("fencing %s failed, but it was fenced or confirmed meanwhile", target)
            self._fence_failures.pop(target, None)
            self._status_changed()
            return True, ""
        self.fence_history.append(
            FenceRecord(
                target, fence_action, result.succeeded, tuple(result.devices), result.reason
            )
        )
        cib_history.record(self.cib.root, result, self._fence_client)
        if not result.succeeded:
            self._fence_failures[target] = self._fence_failures.get(target, 0) + 1
            self._status_changed()
            return False, f"fencing {target} failed: {result.reason}"
        self._fence_failures.pop(target, None)
        if fence_action == "on":
            self._record_unfenced(target, action.attributes)
            return True, ""
        node_status.record_fenced(self.cib.root, target)
        self._recorded = {seen for seen in self._recorded if seen[0] != target}
        self._status_changed()
        return True, ""

    def _record_unfenced(self, target: str, attributes: dict[str, str]) -> None:
        """An unfencing ("on") leaves the node up: it is recorded, as Pacemaker's controller
        does, as when it happened and with the unfencing devices' digests, so that the
        scheduler unfences the node again only when a device's definition changes."""
        for name, value in (
            ("#node-unfenced", str(int(self._clock()))),
            ("#digests-all", attributes.get("CRM_meta_digests_all")),
            ("#digests-secure", attributes.get("CRM_meta_digests_secure")),
        ):
            if value is not None:
                self.set_attribute(target, name, value)
