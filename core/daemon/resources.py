"""Resources on a running node: the executor of every node, the DC's cluster controller.

Every node runs one :class:`Executor`. The DC runs a :class:`ClusterController` on a copy
of the replicated CIB; what the controller decides reaches the nodes over totem (channel
``X`` of the ring's payloads), one JSON message each:

* ``execute`` (DC to a node, with a request id): run this operation;
* ``result`` (node to the DC): the :class:`OperationRecord` of that request, or an error;
* ``report`` (node to the DC): a recurring monitor's result changed;
* ``lrm`` (node to the DC, after every sync): the node's operation history as its
  executor holds it (Pacemaker's join: the DC takes each joining node's LRM state).

What the status says of a node is only trusted while one DC saw it all happen. So the DC
waits, before it schedules, for the history of every node that joined its membership (all
of them when it just became DC) and puts it in place of the recorded one: a node whose
daemon restarted has an empty history, so its resources are probed, and results a dead DC
never recorded are not lost.

The controller's status changes (operation history, fail counts, membership) go back into
the replicated CIB as v2 patches through the DC's replica (``update_cib``), so every node
holds the operation history and a new DC starts from it without restarting what runs.
The controller's copy follows the replica: after a change that is not its own echo it is
replaced, but only once none of its own patches is in flight (otherwise its newest
results would be lost from its copy for a moment and the scheduler would act on that).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict
from typing import Any

from lxml import etree

from hactl.core.attrd.manager import AttributeManager
from hactl.core.attrd.status import set_transient
from hactl.core.cib.document import CibDocument
from hactl.core.cib.model import build_model
from hactl.core.cib.patch import Step, apply_patch, diff, diff_parts, is_empty_patch, same_tree
from hactl.core.controller.manager import (
    ClusterController,
    NodeUnreachable,
    fence_through,
    perform_on_node,
)
from hactl.core.controller.replica import Reply
from hactl.core.drivers import OcfRc, OperationRequest
from hactl.core.errors import HactlError
from hactl.core.executor.digests import host_agent_params
from hactl.core.executor.executor import Executor, ScheduledOperation, agent_runner
from hactl.core.executor.history import OperationRecord
from hactl.core.fencer import cib_history
from hactl.core.fencer.device_runner import failed_devices, fence_device_runner
from hactl.core.fencer.fencer import FenceHistoryEntry, Fencer
from hactl.core.plugins import PluginHost

log = logging.getLogger("hactl.controller")

CHANNEL_EXECUTE = b"X"
#: root attributes that only count versions or say who wrote last: not a change to act on
_BOOKKEEPING = frozenset(
    {"epoch", "num_updates", "admin_epoch", "cib-last-written", "update-origin", "update-client"}
    | {"update-user", "crm_feature_set", "validate-with"}
)
#: how often the controller is told the time (cluster-recheck-interval, failure-timeout)
TICK_S = 1.0
#: how long the DC waits for a member's operation history before scheduling without it
HISTORY_WAIT_S = 2.0
#: how long an administrator's fencing outcome may take to reach the DC and be taken
FENCING_ANSWER_S = 10.0

Send = Callable[[dict[str, Any]], None]
#: update_cib(patch, request_id): a status patch through the DC, the request named
UpdateCib = Callable[[etree._Element, str | None], Awaitable[Reply]]
#: the root attributes that count versions: the DC's replica bumps them, not the patch
_COUNTERS = ("admin_epoch", "epoch", "num_updates")


def encode(message: Mapping[str, Any]) -> bytes:
    return CHANNEL_EXECUTE + json.dumps(message, separators=(",", ":")).encode()


def decode(body: bytes) -> dict[str, Any]:
    try:
        message = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise HactlError(f"malformed execute-channel message: {exc}") from None
    if not isinstance(message, dict):
        raise HactlError("malformed execute-channel message: not an object")
    return message


def operation_to_wire(op: ScheduledOperation) -> dict[str, Any]:
    request = asdict(op.request)
    return {**asdict(op), "request": {k: v for k, v in request.items() if k != "environment"}}


def operation_from_wire(data: Mapping[str, Any]) -> ScheduledOperation:
    request = OperationRequest(**data["request"])
    return ScheduledOperation(**{**data, "request": request})


def record_to_wire(record: OperationRecord) -> dict[str, Any]:
    return asdict(record)


def record_from_wire(data: Mapping[str, Any]) -> OperationRecord:
    return OperationRecord(**data)


def same_cib(a: CibDocument, b: CibDocument) -> bool:
    """Equal but for version counters and who wrote last."""
    attrs_a = {k: v for k, v in a.root.attrib.items() if k not in _BOOKKEEPING}
    attrs_b = {k: v for k, v in b.root.attrib.items() if k not in _BOOKKEEPING}
    if attrs_a != attrs_b or len(a.root) != len(b.root):
        return False
    return all(same_tree(x, y) for x, y in zip(a.root, b.root, strict=True))


def status_patch(
    baseline: CibDocument,
    current: CibDocument,
    histories: set[tuple[str, str]] | None = None,
) -> etree._Element:
    """The controller's changes since ``baseline`` as a patch, version counters left to
    the DC's replica (it bumps them when it applies the patch). With ``histories`` (the
    (node, resource) operation histories that alone changed, besides the root's
    attributes) only those are compared: 500 resources' results do not diff the whole
    CIB each time."""
    counters = {name: current.root.get(name) for name in _COUNTERS}
    for name in _COUNTERS:  # for the comparison only: put back below
        value = baseline.root.get(name)
        if value is not None:
            current.root.set(name, value)
    try:
        parts = _history_parts(current, histories) if histories is not None else None
        patch = diff_parts(baseline, current, parts) if parts is not None else None
        return patch if patch is not None else diff(baseline, current)
    finally:
        for name, value in counters.items():
            if value is not None:
                current.root.set(name, value)
            elif name in current.root.attrib:
                del current.root.attrib[name]


def _history_parts(
    cib: CibDocument, histories: set[tuple[str, str]]
) -> list[tuple[Step, ...]] | None:
    """Where each (node, resource) operation history lives; None for a node the CIB
    does not know (the whole CIB is compared then)."""
    ids = {
        str(entry.get("uname")): str(entry.get("id"))
        for entry in cib.root.iterfind("configuration/nodes/node")
    }
    parts: list[tuple[Step, ...]] = []
    for node, resource in sorted(histories):
        if node not in ids:
            return None
        parts.append(
            (
                ("status", None),
                ("node_state", ids[node]),
                ("lrm", None),
                ("lrm_resources", None),
                ("lrm_resource", resource),
            )
        )
    return parts


class ResourceRuntime:
    """The node's side of resources (always) and the DC's controller (while DC)."""

    def __init__(
        self,
        *,
        node_name: str,
        node_id: int,
        names: Mapping[int, str],
        host: PluginHost,
        send: Send,
        update_cib: UpdateCib,
        current_cib: Callable[[], CibDocument],
        quorate: Callable[[], bool] | None = None,
    ) -> None:
        self.node_name = node_name
        self.node_id = node_id
        self.names = dict(names)
        self.host = host
        self._send = send
        self._update_cib = update_cib
        self._current_cib = current_cib
        self._quorate = quorate
        self.executor = Executor(
            node_name,
            fence_device_runner(agent_runner(host.agent_class), host.fence_agent, self._started),
            node_id=str(node_id),
            on_result=self._on_local_result,
            agent_params=host_agent_params(host),
        )
        self.dc: int | None = None
        self.members: tuple[int, ...] = ()
        self.controller: ClusterController | None = None
        self._controller_task: asyncio.Task[None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        #: the DC's requests awaiting a node's answer: id -> (target node id, future)
        self._pending: dict[str, tuple[int, asyncio.Future[OperationRecord]]] = {}
        #: this node's fencing outcomes awaiting the DC's answer: id -> (DC, future)
        self._fencing_told: dict[str, tuple[int, asyncio.Future[None]]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        #: the controller's CIB as last sent to (or taken from) the replica
        self._baseline: CibDocument | None = None
        #: the controller's status updates whose patch this node has not applied yet
        self._own_updates: set[str] = set()
        self._updates_in_flight = 0
        self._replica_moved = False
        #: the controller changed its status since the last update was sent
        self._status_dirty = False
        #: a new membership the controller has not been told yet
        self._membership_news = False
        #: on the DC: members whose operation history is awaited, and those that came
        self._awaiting_history: set[int] = set()
        self._histories: dict[int, etree._Element] = {}
        self._history_timer: asyncio.TimerHandle | None = None
        #: on the DC: the members of the last ring it synced as DC
        self._dc_members: set[int] = set()
        #: the members that came from this node's previous ring into the new one with it
        self._came_along: set[int] = set()
        #: transient attributes with dampening (attrd_updater through the local API)
        self.attributes = AttributeManager(self._write_attribute)

    # ------------------------------------------------------------------ inputs (daemon)

    def synced(self, dc: int, members: tuple[int, ...]) -> None:
        """The ring has one CIB and one DC: send the DC this node's history; on the DC,
        start the controller (or tell it the membership) once the histories it needs came."""
        self.dc = dc
        self.members = members
        if dc != self.node_id:
            self._stop_controller()
            self._send({"t": "lrm", "to": dc, "lrm": self._own_history()})
            return
        self._membership_news = True
        # a member that was elsewhere meanwhile (a partition, a restart) may have run
        # operations this DC never heard of: its history is taken again
        trusted = self._dc_members & self._came_along if self.controller is not None else set()
        self._dc_members = set(members)
        self._awaiting_history = set(members) - trusted
        self._histories = {}
        if self._history_timer is not None:
            self._history_timer.cancel()
        self._history_timer = None
        if not self._awaiting_history:
            self._histories_complete()
            return
        self._history_timer = asyncio.get_running_loop().call_later(
            HISTORY_WAIT_S, self._histories_late
        )
        self._history_arrived(self.node_id, etree.fromstring(self._own_history()))

    def _own_history(self) -> str:
        return etree.tostring(self.executor.history.to_xml()).decode()

    def _history_arrived(self, node: int, lrm: etree._Element) -> None:
        if node not in self._awaiting_history:
            return  # a member the DC saw all along: its recorded history is right
        self._awaiting_history.discard(node)
        self._histories[node] = lrm
        if not self._awaiting_history:
            self._histories_complete()

    def _histories_late(self) -> None:
        self._history_timer = None
        if self._awaiting_history and self.dc == self.node_id:
            log.warning(
                "no operation history from %s: scheduling with what the CIB recorded",
                ", ".join(self._name(n) for n in sorted(self._awaiting_history)),
            )
            self._awaiting_history.clear()
            self._histories_complete()

    def _histories_complete(self) -> None:
        if self._history_timer is not None:
            self._history_timer.cancel()
            self._history_timer = None
        if self.controller is None:
            self._start_controller()
        elif self._updates_in_flight or self._status_dirty:
            self._replica_moved = True  # followed once the controller's own are through
        else:
            self._follow_replica(tell=False)
        assert self.controller is not None
        for node, lrm in sorted(self._histories.items()):
            self.controller.replace_node_history(self._name(node), lrm)
        self._histories = {}
        self._tell_membership()

    def came_along(self, members: tuple[int, ...]) -> None:
        """A transitional configuration: the members that moved from this node's old ring
        into the new one with it. They got every request sent in the old ring and their
        answers reached us (extended virtual synchrony); of the others nothing is sure."""
        self._came_along = set(members)

    def membership_changed(self, members: tuple[int, ...]) -> None:
        """A new ring: requests to nodes that left, or that did not come along from the
        old ring, may never be answered."""
        self.members = members
        for request_id, (target, future) in list(self._pending.items()):
            if target not in members or target not in self._came_along:
                self._pending.pop(request_id, None)
                if not future.done():
                    future.set_exception(
                        NodeUnreachable(f"{self._name(target)} was out of reach in the new ring")
                    )
        for request_id, (dc, told) in list(self._fencing_told.items()):
            if dc not in members or dc not in self._came_along:
                self._fencing_told.pop(request_id, None)
                if not told.done():
                    told.set_exception(NodeUnreachable("the DC changed before it answered"))

    def cib_changed(self, request_id: str | None = None) -> None:
        """The replica applied a patch (on the DC: maybe not the controller's own): the
        controller follows it, unless it was the controller's own update (the replica
        then holds what the controller already has)."""
        if request_id is not None and request_id in self._own_updates:
            self._own_updates.discard(request_id)
            return
        if self.controller is None:
            return
        if self._updates_in_flight or self._status_dirty or self._awaiting_history:
            self._replica_moved = True
        else:
            self._follow_replica()

    def deliver(self, sender: int, message: Mapping[str, Any]) -> None:
        kind = message.get("t")
        if message.get("to") != self.node_id:
            return
        if kind == "execute":
            self._spawn(self._execute(sender, str(message["id"]), message["op"]))
        elif kind == "result":
            entry = self._pending.pop(str(message["id"]), None)
            if entry is None or entry[1].done():
                return
            future = entry[1]
            if message.get("error"):
                future.set_exception(HactlError(str(message["error"]), where=self._name(sender)))
            else:
                future.set_result(record_from_wire(message["record"]))
        elif kind == "report" and self.controller is not None:
            self.controller.operation_reported(record_from_wire(message["record"]))
        elif kind == "lrm" and self.dc == self.node_id:
            self._history_arrived(sender, etree.fromstring(str(message["lrm"]).encode()))
        elif kind == "fenced":
            taken: dict[str, Any] = {"t": "fenced-answer", "id": message["id"], "to": sender}
            if self.controller is None:
                taken["error"] = "this node is not the DC (any more)"
            else:
                outcome = FenceHistoryEntry(**message["entry"])
                self.controller.fenced_elsewhere(outcome, str(message["client"]))
            self._send(taken)
        elif kind == "fenced-answer":
            waiting = self._fencing_told.pop(str(message["id"]), None)
            if waiting is not None and not waiting[1].done():
                if message.get("error"):
                    waiting[1].set_exception(NodeUnreachable(str(message["error"])))
                else:
                    waiting[1].set_result(None)

    def active_here(self) -> list[str]:
        """Resources this node's executor last left running (or in an unknown state: a
        failed operation other than a stop's is for the DC to clean up)."""
        active = []
        for name, history in self.executor.history.resources.items():
            last = history.last
            if last is None:
                continue
            stopped = last.operation == "stop" and not last.failed
            found_stopped = last.operation == "monitor" and last.rc == OcfRc.NOT_RUNNING
            if not (stopped or found_stopped):
                active.append(name)
        return sorted(active)

    async def attribute_request(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """The API's ``attrd.update``: ``node``, ``name``, ``value`` (absent: delete;
        with ``delay_only`` only the delay changes) and ``delay`` in seconds."""
        delay = request.get("delay")
        try:
            delay_s = float(delay) if delay is not None else None
        except (TypeError, ValueError):
            raise HactlError(f"delay {delay!r} is not a number of seconds", where="attrd") from None
        node, name = str(request["node"]), str(request["name"])
        value = request.get("value")
        dampened = self.attributes.update(
            node,
            name,
            None if value is None else str(value),
            delay_s=delay_s,
            change_value=not request.get("delay_only"),
        )
        return {"node": node, "name": name, "dampened": dampened}

    async def fencing_request(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """The API's ``fence.record``: an administrator's fencing outcome or confirmation
        (``entry``: a FenceHistoryEntry's fields, ``client``), told to the DC's controller,
        which records it and, for a success, marks the node fenced (its resources are
        recovered elsewhere), as it does after its own fencing."""
        try:
            entry = FenceHistoryEntry(**dict(request["entry"]))
        except (KeyError, TypeError) as exc:
            raise HactlError(
                f"a fencing outcome is malformed: {exc}", where="fence.record"
            ) from None
        if self.dc is None:
            raise HactlError(
                "the cluster has no DC right now to take the fencing outcome",
                hint="wait until `hactl status` shows a DC (the partition needs quorum)",
            )
        request_id = f"{self.node_id}-fenced-{uuid.uuid4().hex[:12]}"
        told: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._fencing_told[request_id] = (self.dc, told)
        message = {"t": "fenced", "id": request_id, "to": self.dc}
        self._send({**message, "entry": asdict(entry), "client": str(request["client"])})
        try:
            await asyncio.wait_for(told, FENCING_ANSWER_S)
        except TimeoutError:
            raise HactlError(
                f"the DC did not take the fencing outcome within {FENCING_ANSWER_S:g}s",
                hint="`hactl stonith history` shows whether it was recorded",
            ) from None
        finally:
            self._fencing_told.pop(request_id, None)
        return {"target": entry.target, "dc": self._name(self.dc)}

    async def _write_attribute(self, node: str, name: str, value: str | None) -> None:
        before = self._current_cib()
        after = before.copy()
        if not set_transient(after.root, node, name, value):
            return
        reply = await self._update_cib(diff(before, after), None)
        if reply.error is not None:
            raise HactlError(reply.error, where=f"attribute {name} on {node}")

    async def stop(self) -> None:
        """Recurring monitors end with the daemon; the resources themselves keep running
        (the DC finds them in the replicated history or by a probe)."""
        self.attributes.close()
        self._stop_controller()
        await self.executor.close()
        for task in list(self._tasks):
            task.cancel()

    # ------------------------------------------------------------------ the DC

    def _name(self, node_id: int) -> str:
        return self.names.get(node_id) or f"node{node_id}"

    def _start_controller(self) -> None:
        cib = self._current_cib().copy()
        if self._quorate is not None:
            # the CIB may be this node's copy from before a crash, quorate then; the
            # replica records the truth later, but the first transition must not wait
            cib.root.set("have-quorum", "1" if self._quorate() else "0")
        controller = ClusterController(
            cib,
            dc_uuid=str(self.node_id),
            dispatch=self._dispatch,
            fence=fence_through(self._fencer, origin=self.node_name),
            on_cib_change=self._controller_changed_cib,
        )
        self._baseline = cib.copy()
        self.controller = controller
        self._controller_task = asyncio.get_running_loop().create_task(controller.run())
        self._ticker = asyncio.get_running_loop().create_task(self._tick())
        log.info("this node is DC: the cluster controller runs")

    def _stop_controller(self) -> None:
        self._awaiting_history.clear()
        self._status_dirty = False
        self._dc_members = set()
        if self._history_timer is not None:
            self._history_timer.cancel()
            self._history_timer = None
        if self.controller is None:
            return
        log.info("this node is no longer DC: the cluster controller stops")
        self.controller.stop()
        for task in (self._controller_task, self._ticker):
            if task is not None:
                task.cancel()
        self.controller = None
        self._controller_task = self._ticker = None
        for _, future in self._pending.values():
            if not future.done():
                future.set_exception(NodeUnreachable("this node is no longer DC"))
        self._pending.clear()

    async def _tick(self) -> None:
        while self.controller is not None:
            await asyncio.sleep(TICK_S)
            if self.controller is not None:
                self.controller.tick()

    def _fencer(self) -> Fencer:
        assert self.controller is not None
        cib = self.controller.cib
        return Fencer(
            self.node_name,
            build_model(cib),
            self.host.fence_agent,
            failed=failed_devices(cib.root),
        )

    def _started(self, resource: str) -> bool:
        """Whether this node's executor last left ``resource`` started (a fence device's
        probe asks)."""
        history = self.executor.history.resources.get(resource)
        last = history.last if history is not None else None
        return last is not None and last.operation in ("start", "monitor") and not last.failed

    def _follow_replica(self, *, tell: bool = True) -> None:
        """Take the replica's CIB when it holds something the controller has not seen."""
        assert self.controller is not None
        self._replica_moved = False
        replica = self._current_cib()
        if not same_cib(replica, self.controller.cib):
            self.controller.replace_cib(replica.copy())
            self._baseline = self.controller.cib.copy()
        if tell:
            self._tell_membership()

    def _tell_membership(self) -> None:
        """The controller learns a new membership once the replica recorded a node_state
        for every node (it writes the members' own): the controller would otherwise create
        missing ones too, and a node written by both at once gets two."""
        assert self.controller is not None
        if not self._membership_news or self._awaiting_history:
            return
        root = self.controller.cib.root
        recorded = {state.get("id") for state in root.iterfind("status/node_state")}
        configured = {node.get("id") for node in root.iterfind("configuration/nodes/node")}
        if not (configured | {str(n) for n in self.members}) <= recorded:
            return
        self._membership_news = False
        self.controller.set_membership(self._name(n) for n in self.members)

    def _controller_changed_cib(self, cib: CibDocument) -> None:
        """Status changes go to the replica in batches: one update in flight at a time,
        the next holding everything that changed meanwhile (500 results are not 500
        patches, each diffed, broadcast and persisted by every node)."""
        if not self._status_dirty and not self._updates_in_flight:
            asyncio.get_running_loop().call_soon(self._send_status)
        self._status_dirty = True

    def _send_status(self) -> None:
        if self.controller is None or self._updates_in_flight or not self._status_dirty:
            return
        assert self._baseline is not None
        self._status_dirty = False
        patch = status_patch(self._baseline, self.controller.cib, self.controller.take_changes())
        try:
            apply_patch(self._baseline, patch, check_versions=False)  # what was sent
        except HactlError:
            self._baseline = self.controller.cib.copy()
        if is_empty_patch(patch):
            self._after_update()
            return
        self._updates_in_flight += 1
        self._spawn(self._persist(patch))

    async def _persist(self, patch: etree._Element) -> None:
        lost: str | None = None
        request_id = f"{self.node_id}-status-{uuid.uuid4().hex[:12]}"
        self._own_updates.add(request_id)
        try:
            reply = await self._update_cib(patch, request_id)
            lost = reply.error
        except HactlError as exc:
            lost = exc.message
        finally:
            self._updates_in_flight -= 1
            self._own_updates.discard(request_id)
        if lost is not None and self.controller is not None:
            log.error("the controller's status update was lost (%s): sending its history", lost)
            self._rebase()
        self._after_update()

    def _rebase(self) -> None:
        """After a lost update the replica and the controller's baseline differ: take the
        replica's CIB with the controller's operation history in it, and send that."""
        assert self.controller is not None
        mine = self.controller.cib.copy()
        self.controller.replace_cib(self._current_cib().copy())
        self._baseline = self.controller.cib.copy()
        for state in mine.root.iterfind("status/node_state"):
            lrm = state.find("lrm")
            uname = state.get("uname")
            if lrm is not None and uname:
                self.controller.replace_node_history(uname, lrm)
        if cib_history.carry_over(mine.root, self.controller.cib.root):
            self._controller_changed_cib(self.controller.cib)  # what it fenced, sent again

    def _after_update(self) -> None:
        """The next batch, or, with nothing left to send, the replica's newer CIB."""
        if self.controller is None or self._updates_in_flight:
            return
        if self._status_dirty:
            self._send_status()
        elif self._replica_moved and not self._awaiting_history:
            self._follow_replica()

    async def _dispatch(self, node: str, op: ScheduledOperation) -> OperationRecord:
        if node == self.node_name:
            return await perform_on_node(self.executor, op, fence_devices_run=True)
        target = next((i for i, n in self.names.items() if n == node), None)
        if target is None or target not in self.members:
            raise NodeUnreachable(f"{node} is not a member of the ring")
        request_id = f"{self.node_id}-{uuid.uuid4().hex[:12]}"
        future: asyncio.Future[OperationRecord] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = (target, future)
        self._send({"t": "execute", "id": request_id, "to": target, "op": operation_to_wire(op)})
        return await future

    # ------------------------------------------------------------------ every node

    async def _execute(self, dc: int, request_id: str, op_data: Mapping[str, Any]) -> None:
        answer: dict[str, Any] = {"t": "result", "id": request_id, "to": dc}
        try:
            record = await perform_on_node(
                self.executor, operation_from_wire(op_data), fence_devices_run=True
            )
            answer["record"] = record_to_wire(record)
        except (HactlError, TypeError, KeyError, ValueError) as exc:
            answer["error"] = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        self._send(answer)

    def _on_local_result(self, record: OperationRecord) -> None:
        """Recurring results go to the DC (one-shot ones travel as ``result``)."""
        if not record.interval_ms or self.dc is None:
            return
        if self.dc == self.node_id:
            if self.controller is not None:
                self.controller.operation_reported(record)
            return
        self._send({"t": "report", "to": self.dc, "record": record_to_wire(record)})

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
