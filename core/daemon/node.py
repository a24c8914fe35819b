"""The node daemon: one asyncio process, the services of a node wired together.

What it carries and nothing more (decisions are made by the pure state machines):

* totem: datagrams between the transport and the ring (sealed and opened by the packet
  sealer), the ring's timers, the ring seq it asks to persist;
* the quorum provider: membership, its messages (channel ``Q`` of the ring's payloads),
  the sync barrier and its timers;
* the replicated CIB (hactl.core.controller.replica, channel ``C``): its broadcasts, the
  documents to persist (hactl.core.cib.store), the replies to waiting API clients;
* resources (hactl.core.daemon.resources, channel ``X``): every node's executor, and on
  the DC the cluster controller, which runs the scheduler after every change, sends each
  operation to its node over totem and records the results in the replicated CIB;
* the local API (hactl.core.daemon.api) and signals: SIGTERM is a clean stop (the DC
  records the node's shutdown first), SIGINT the same.

A fault switch for tests and the sandbox: ``fault`` in the API makes the node deaf to the
nodes listed (datagrams from them are dropped after opening), so a loopback cluster can
be partitioned without network namespaces: block each side on the other side's nodes.
(:class:`FaultSwitch` wraps the configured transport; totem's runner is unaware of it.)
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import logging
import os
import random
import signal
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from hactl.core.cib.document import CibDocument
from hactl.core.cib.patch import parse_patch
from hactl.core.cib.store import CibStore, atomic_write
from hactl.core.config.derived import effective_crypto, effective_totem
from hactl.core.config.model import ClusterConfig
from hactl.core.config.quorum import votequorum_settings
from hactl.core.config.reload import reload_findings
from hactl.core.config.rules import check
from hactl.core.controller.replica import (
    Broadcast,
    CibChanged,
    CibReplica,
    Output,
    Persist,
    Reply,
    SyncBarrier,
    Synced,
    decode_message,
    encode_message,
)
from hactl.core.daemon import startup
from hactl.core.daemon.api import ApiServer
from hactl.core.daemon.remote import RemoteApi, default_users_path
from hactl.core.daemon.resources import CHANNEL_EXECUTE, ResourceRuntime
from hactl.core.daemon.resources import decode as decode_execute
from hactl.core.daemon.resources import encode as encode_execute
from hactl.core.drivers import QuorumProvider, Transport
from hactl.core.errors import HactlError
from hactl.core.events import MembershipEvent, QuorumEvent
from hactl.core.fencer import cib_history
from hactl.core.plugins import PluginHost
from hactl.core.totem.crypto import CryptoConfig, PacketSealer, new_session
from hactl.core.totem.params import TotemParams
from hactl.core.totem.ring import ConfigChange, Delivery, Event, Ring
from hactl.core.totem.runner import TotemRunner

log = logging.getLogger("hactl")
log_totem = logging.getLogger("hactl.totem")
log_quorum = logging.getLogger("hactl.quorum")
log_cib = logging.getLogger("hactl.cib")
log_controller = logging.getLogger("hactl.controller")

#: how long a reloaded transport may wait for the old one's ports
REBIND_WAIT_S = 2.0
CHANNEL_QUORUM = b"Q"
#: how long an API caller waits to see its quorum change delivered on this node
QUORUM_CHANGE_WAIT_S = 2.0
CHANNEL_CIB = b"C"
#: how long a clean stop waits for the DC to move this node's resources away and release
#: it before leaving anyway (Pacemaker's shutdown-escalation, scaled to a daemon's stop)
SHUTDOWN_WAIT_S = 30.0
#: how often the DC looks whether a leaving node's resources have been moved away
RELEASE_CHECK_S = 0.1
#: how long a change may take to go through the DC before the client is told
CHANGE_TIMEOUT_S = 25.0
#: how long a change of the status alone may wait to be written to disk, with the ones
#: after it (Pacemaker writes only configuration changes; a lost status is rebuilt)
STATUS_WRITE_DELAY_S = 1.0


@dataclass(frozen=True)
class DaemonOptions:
    config_path: Path
    authkey_path: Path
    state_dir: Path
    socket_path: Path
    node: str | None = None
    #: the remote API's TCP port on ring0_addr; 0: no remote API
    remote_port: int = 0
    users_path: Path | None = None
    #: where the remote API listens (default: this node's ring0_addr)
    remote_address: str | None = None
    #: PID:START of the process the daemon ends with (hactl.core.daemon.owner)
    owner: str | None = None


class FaultSwitch(Transport):
    """Wraps a transport: datagrams from blocked nodes are dropped on arrival, datagrams to
    them are not sent (a broadcast still goes out; the other side drops it)."""

    def __init__(self, inner: Transport, addresses: dict[int, str]) -> None:
        self.inner = inner
        self.mtu = inner.mtu
        self.addresses = addresses  # nodeid -> ring0_addr
        self.blocked: set[int] = set()
        self._blocked_addresses: set[str] = set()
        self._receive: Callable[[str, bytes], None] | None = None
        self._reachability: Callable[[frozenset[int]], None] | None = None

    def block(self, nodes: set[int]) -> None:
        self.blocked = set(nodes)
        self._blocked_addresses = {self.addresses[n] for n in nodes if n in self.addresses}

    async def start(self, on_datagram: Callable[[str, bytes], None]) -> None:
        def filtered(source: str, data: bytes) -> None:
            if self._blocked_addresses and source.rsplit(":", 1)[0] in self._blocked_addresses:
                return
            on_datagram(source, data)

        self._receive = filtered
        await self.inner.start(filtered)

    async def replace(self, inner: Transport, addresses: dict[int, str]) -> None:
        """A reloaded nodelist: the configured transport is made again with it (the ports
        are the same: the old one is stopped first; totem retransmits what falls between)."""
        assert self._receive is not None, "replace() before start()"
        await self.inner.stop()
        self.inner, self.mtu, self.addresses = inner, inner.mtu, addresses
        self.block(self.blocked)
        if self._reachability is not None:
            inner.watch_reachability(self._reachability)
        deadline = time.monotonic() + REBIND_WAIT_S
        while True:
            try:
                await inner.start(self._receive)
                return
            except HactlError:
                # the old sockets close on the loop's next turns: their ports are busy until then
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.01)

    def send(self, data: bytes, to: int | None = None) -> None:
        if to is not None and to in self.blocked:
            return
        self.inner.send(data, to)

    async def stop(self) -> None:
        await self.inner.stop()

    def status(self) -> Mapping[str, object]:
        return {**self.inner.status(), "blocked": sorted(self.blocked)}

    def watch_reachability(self, on_change: Callable[[frozenset[int]], None]) -> None:
        self._reachability = on_change  # a reloaded transport is watched too
        self.inner.watch_reachability(on_change)


class NodeDaemon:
    def __init__(self, options: DaemonOptions, *, host: PluginHost | None = None) -> None:
        # Everything that can be wrong with the input is checked here, before any I/O.
        self.options = options
        self.config: ClusterConfig = startup.load_config(options.config_path)
        self.local = startup.local_node(self.config, options.node)
        self.names = startup.node_names(self.config)
        keyfile = startup.authkey_path(self.config, options.authkey_path)
        self.crypto = CryptoConfig(*effective_crypto(self.config))
        self.authkey = (
            startup.load_authkey(keyfile) if startup.crypto_enabled(self.config) else None
        )
        self.params = TotemParams.from_values(effective_totem(self.config))
        self.host = host or PluginHost()
        self.lock = startup.StateLock(options.state_dir)
        self.store = CibStore(options.state_dir / "cib")
        self._stopping = asyncio.Event()
        self._waiting: dict[str, asyncio.Future[Reply]] = {}
        self._quorum_timer: asyncio.TimerHandle | None = None
        self._quorate = False
        self.started_at = time.time()
        self._then_api_only = False
        self._placement_seen: tuple[tuple[int, int, int], dict[str, set[str]]] | None = None
        #: on the DC: leaving node -> what ran there when its request was seen
        self._moving: dict[int, set[str]] = {}
        self._status_write: asyncio.TimerHandle | None = None
        #: who fenced this node while it ran (it then leaves the cluster)
        self._fenced_by: str | None = None

    # ------------------------------------------------------------------ life cycle

    def _load_cib(self) -> CibDocument:
        return self.store.load() if self.store.exists() else CibDocument.new_empty()

    def _ring_seq_path(self) -> Path:
        return self.options.state_dir / "ringid"

    def _load_ring_seq(self) -> int:
        try:
            return int(self._ring_seq_path().read_text().strip() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    async def run(self) -> None:
        self.lock.acquire()
        try:
            await self._run_locked()
        finally:
            self.lock.release()
        if self._then_api_only:
            from hactl.core.daemon.standby import reexec

            reexec(self.options, api_only=True)  # `cluster stop`: the remote API stays

    async def _run_locked(self) -> None:
        loop = asyncio.get_running_loop()
        self.replica = CibReplica(self.local.nodeid, self._load_cib(), self.names)
        self.quorum: QuorumProvider = self.host.quorum_provider(
            (self.config.quorum.provider if self.config.quorum else None) or "votequorum",
            {
                "settings": votequorum_settings(self.config, self.local.nodeid),
                "nodeid": self.local.nodeid,
                "names": self.names,
            },
        )
        self.transport = FaultSwitch(self._new_transport(self.config), self._addresses(self.config))
        sealer = PacketSealer(
            cluster_name=self.config.totem.cluster_name or "",
            node_id=self.local.nodeid,
            session=new_session(int(time.time() * 1000), random.getrandbits(16)),
            authkey=self.authkey,
            config=self.crypto,
        )
        self.ring = Ring(
            self.local.nodeid,
            self.params,
            incarnation=int(time.time()),
            ring_seq=self._load_ring_seq(),
        )
        self.totem = TotemRunner(
            self.ring,
            self.transport,
            sealer,
            on_event=self._on_ring_event,
            persist_ring_seq=self._persist_ring_seq,
        )
        self.resources = ResourceRuntime(
            node_name=self.local.name,
            node_id=self.local.nodeid,
            names=self.names,
            host=self.host,
            send=lambda message: self._propose(encode_execute(message)),
            update_cib=self.update_cib,
            current_cib=lambda: self.replica.doc,
            quorate=lambda: self.quorum.quorate,
        )
        self.api = ApiServer(self.options.socket_path, self._api_handlers())
        self.remote: RemoteApi | None = None
        if self.options.remote_port:
            remote_ops = (
                *("ping", "status", "cib.get", "cib.push", "quorum", "members"),
                *("stop", "enable", "disable", "setup", "config.get", "config.set"),
            )
            handlers = self._api_handlers()
            self.remote = RemoteApi(
                address=self.options.remote_address or self.local.address,
                port=self.options.remote_port,
                users_path=self.options.users_path or default_users_path(),
                state_dir=self.options.state_dir,
                node_name=self.local.name,
                handlers={op: handlers[op] for op in remote_ops},
            )
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stopping.set)
        await self.api.start()
        if self.remote is not None:
            await self.remote.start()
        log.info(
            "node %s (id %d) started: cluster %s, transport %s, state %s",
            self.local.name,
            self.local.nodeid,
            self.config.totem.cluster_name,
            self.config.totem.transport or "knet",
            self.options.state_dir,
        )
        await self.totem.start()
        releaser = loop.create_task(self._release_leavers())
        await self._stopping.wait()
        await self._clean_stop()
        releaser.cancel()

    def _new_transport(self, config: ClusterConfig) -> Transport:
        totem = effective_totem(config)
        return self.host.transport(
            totem.transport,
            {
                "nodeid": self.local.nodeid,
                "nodelist": [
                    {"nodeid": n.nodeid, **{f"ring{k}_addr": a for k, a in n.ring_addrs.items()}}
                    for n in config.nodelist
                ],
                "mcastport": totem.links[0].mcastport if totem.links else 5405,
                "netmtu": totem.netmtu,
                "token": totem.token,  # knet's heartbeat timers derive from it
                "link_mode": totem.link_mode,
                "links": {link.linknumber: asdict(link) for link in totem.links},
            },
        )

    @staticmethod
    def _addresses(config: ClusterConfig) -> dict[int, str]:
        return {n.nodeid: n.ring_addrs.get(0, "") for n in config.nodelist if n.nodeid}

    async def _clean_stop(self) -> None:
        if self._fenced_by is not None:
            log.info("stopping: fenced by %s, nothing to hand over", self._fenced_by)
        elif len(self.replica.members) > 1 and self.replica.dc is not None:
            here = self.local.name
            recorded = {rsc for rsc, nodes in (self._placement() or {}).items() if here in nodes}
            active = sorted(recorded | set(self.resources.active_here()))
            log.info(
                "stopping: asking the DC (%s) to move this node's resources away (%s)",
                "this node" if self.replica.is_dc else self.replica.name_of(self.replica.dc),
                ", ".join(active) or "none active here",
            )
            self._run_replica(self.replica.request_shutdown(at=int(time.time())))
            deadline = time.monotonic() + SHUTDOWN_WAIT_S
            while not self.replica.shutdown_recorded and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            if self.replica.shutdown_recorded:
                self._log_handover(active)
            else:
                log.warning(
                    "the DC did not release this node within %gs; leaving anyway "
                    "(still active here: %s)",
                    SHUTDOWN_WAIT_S,
                    ", ".join(self.resources.active_here()) or "nothing",
                )
        else:
            log.info("stopping: no other member to hand over to")
        for message in self.quorum.leave():
            self._propose(CHANNEL_QUORUM + self.quorum.encode(message))
        deadline = time.monotonic() + 1.0
        while self.ring.pending and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        if self._quorum_timer is not None:
            self._quorum_timer.cancel()
        await self.api.stop()
        if self.remote is not None:
            await self.remote.stop()
        await self.totem.stop()
        await self.resources.stop()
        if self._status_write is not None:
            self._write_cib()
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(HactlError("the node is shutting down"))
        log.info("stopped cleanly")

    def _log_handover(self, moved: list[str]) -> None:
        """Where what ran here runs now, as the replicated CIB says."""
        ws = self._working_set()
        primitives = [r for r in ws.all_resources() if r.is_primitive] if ws is not None else []
        places = []
        for name in moved:
            nodes = sorted({n.name for r in primitives if r.id == name for n in r.running_on})
            places.append(f"{name} on {', '.join(nodes)}" if nodes else f"{name} stopped")
        log.info(
            "handover done, the DC released this node: %s",
            "; ".join(places) or "nothing ran here",
        )

    def _working_set(self) -> Any:
        from hactl.core.scheduler import unpack

        try:
            return unpack.unpack(copy.deepcopy(self.replica.doc.root), dt.datetime.now())
        except HactlError as exc:
            log_controller.warning("cannot read the CIB's status: %s", exc.message)
            return None

    def _placement(self) -> dict[str, set[str]] | None:
        """Primitive -> the nodes the replicated CIB shows it active on (read again only
        when the CIB's version moved: a large CIB takes a while to read)."""
        versions = self.replica.doc.versions()
        if self._placement_seen is not None and self._placement_seen[0] == versions:
            return self._placement_seen[1]
        ws = self._working_set()
        if ws is None:
            return None
        placement = {
            rsc.id: {n.name for n in rsc.running_on}
            for rsc in ws.all_resources()
            if rsc.is_primitive
        }
        self._placement_seen = (versions, placement)
        return placement

    def _handed_over(self, node_id: int, moving: set[str]) -> bool:
        """A leaving node may go: the controller saw its shutdown request, the replicated
        CIB shows nothing active on it any more, and what ran there (``moving``) runs
        elsewhere, or the controller is idle (what could not move stays stopped)."""
        controller = self.resources.controller
        if controller is None:
            return True  # no controller on this DC: nothing would move them
        name = self.replica.name_of(node_id)
        asked = controller.cib.root.xpath(
            "status/node_state[@id=$id]/transient_attributes//nvpair[@name='shutdown']",
            id=str(node_id),
        )
        placement = self._placement()
        if not asked or placement is None:
            return False
        if any(name in nodes for nodes in placement.values()):
            return False
        return controller.idle or all(placement.get(rsc) for rsc in moving)

    def _note_leavers(self) -> None:
        """On the DC: remember what runs on each newly leaving member. Called as soon as a
        shutdown request is delivered, before the controller can stop anything there:
        noted later, a fast stop would already be over and the leaver released before
        the start elsewhere."""
        if not self.replica.is_dc:
            self._moving.clear()
            return
        leaving = self.replica.leaving
        for node_id in set(self._moving) - set(leaving):
            del self._moving[node_id]
        for node_id in set(leaving) - set(self._moving):
            name = self.replica.name_of(node_id)
            placement = self._placement() or {}
            self._moving[node_id] = {rsc for rsc, nodes in placement.items() if name in nodes}

    async def _release_leavers(self) -> None:
        """On the DC: let each leaving member go once its resources were moved away."""
        while True:
            await asyncio.sleep(RELEASE_CHECK_S)
            self._note_leavers()  # a node that just became DC notes the leavers it knew of
            for node_id, moving in list(self._moving.items()):
                if self._handed_over(node_id, moving):
                    log_controller.info(
                        "%s may leave: its resources were moved away",
                        self.replica.name_of(node_id),
                    )
                    self._run_replica(self.replica.release(node_id))

    # ------------------------------------------------------------------ totem

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()  # the clock totem's runner uses

    def _persist_ring_seq(self, seq: int) -> None:
        atomic_write(self._ring_seq_path(), f"{seq}\n".encode())

    def _propose(self, payload: bytes, safe: bool = False) -> None:
        self.totem.propose(payload, safe=safe)

    def _on_ring_event(self, event: Event) -> None:
        if isinstance(event, ConfigChange):
            self._on_config_change(event)
        elif isinstance(event, Delivery):
            self._on_delivery(event)

    def _on_config_change(self, change: ConfigChange) -> None:
        ring = str(change.ring)  # rep.seq, as corosync-quorumtool prints a ring id
        self.host.emit(
            MembershipEvent(
                ring_id=ring,
                members=change.members,
                joined=change.joined,
                left=change.left,
                transitional=change.transitional,
            )
        )
        if change.transitional:
            log_totem.info("transitional membership %s", list(change.members))
            self.resources.came_along(change.members)
            return
        log_totem.info(
            "new membership %s (ring %s, joined %s, left %s)",
            list(change.members),
            ring,
            list(change.joined),
            list(change.left),
        )
        now_ms = self._now_ms()
        for message in self.quorum.membership_changed(ring, frozenset(change.members), now_ms):
            self._propose(CHANNEL_QUORUM + self.quorum.encode(message))
        self._after_quorum_input()
        self.resources.membership_changed(tuple(change.members))
        self._run_replica(self.replica.config_changed(ring, change.members))

    def _on_delivery(self, delivery: Delivery) -> None:
        channel, body = delivery.payload[:1], delivery.payload[1:]
        try:
            if channel == CHANNEL_QUORUM:
                message = self.quorum.decode(body)
                for reply in self.quorum.deliver(delivery.sender, message, self._now_ms()):
                    self._propose(CHANNEL_QUORUM + self.quorum.encode(reply))
                self._after_quorum_input()
            elif channel == CHANNEL_CIB:
                self._run_replica(self.replica.deliver(delivery.sender, decode_message(body)))
                self._note_leavers()
            elif channel == CHANNEL_EXECUTE:
                self.resources.deliver(delivery.sender, decode_execute(body))
        except HactlError as exc:
            log.warning("dropped a message from node %d: %s", delivery.sender, exc)

    # ------------------------------------------------------------------ quorum

    def _now_ms(self) -> int:
        return int(self._now() * 1000)

    def _after_quorum_input(self) -> None:
        quorate = self.quorum.quorate
        if quorate != self._quorate:
            self._quorate = quorate
            status = self.quorum.status()
            log_quorum.info(
                "%s (total votes %d, expected %d, quorum %d)",
                "quorate" if quorate else "NOT quorate",
                status.total_votes,
                status.expected_votes,
                status.quorum,
            )
            self.host.emit(
                QuorumEvent(
                    quorate=quorate,
                    total_votes=status.total_votes,
                    expected_votes=status.expected_votes,
                    quorum=status.quorum,
                    members=tuple(m.nodeid for m in status.members),
                    flags=status.flags,
                )
            )
            self._run_replica(self.replica.quorum_changed(quorate))
        self._arm_quorum_timer()

    def _arm_quorum_timer(self) -> None:
        if self._quorum_timer is not None:
            self._quorum_timer.cancel()
            self._quorum_timer = None
        deadline = self.quorum.next_deadline()
        if deadline is not None:
            delay = max(0.0, deadline / 1000 - self._now())
            self._quorum_timer = asyncio.get_running_loop().call_later(delay, self._on_quorum_timer)

    def _on_quorum_timer(self) -> None:
        self._quorum_timer = None
        for message in self.quorum.timer_expired(self._now_ms()):
            self._propose(CHANNEL_QUORUM + self.quorum.encode(message))
        self._after_quorum_input()

    # ------------------------------------------------------------------ CIB

    def _run_replica(self, outputs: list[Output]) -> None:
        for out in outputs:
            if isinstance(out, Broadcast):
                self._propose(CHANNEL_CIB + encode_message(out.message), safe=out.safe)
            elif isinstance(out, Persist):
                if not out.status_only:
                    self._write_cib()
                elif self._status_write is None:
                    self._status_write = asyncio.get_running_loop().call_later(
                        STATUS_WRITE_DELAY_S, self._write_cib
                    )
            elif isinstance(out, Reply):
                future = self._waiting.pop(out.request_id, None)
                if future is not None and not future.done():
                    future.set_result(out)
            elif isinstance(out, SyncBarrier):
                self.quorum.sync_completed(self._now_ms())
                self._after_quorum_input()
            elif isinstance(out, Synced):
                log_controller.info(
                    "synced ring %s: DC is %s, CIB %s from node %d",
                    out.ring,
                    self.replica.name_of(out.dc),
                    ".".join(map(str, self.replica.doc.versions())),
                    out.source,
                )
                self.resources.synced(out.dc, out.members)
                self._leave_if_fenced()
            elif isinstance(out, CibChanged):
                log_cib.debug("CIB now at %s", ".".join(map(str, out.versions)))
                if b"fence_event" in out.patch:
                    self._leave_if_fenced()
                if out.on_dc:
                    self.resources.cib_changed(out.request_id)

    def _leave_if_fenced(self) -> None:
        """A node whose fencing the history records as completed while it runs (an
        administrator's `stonith fence` of a running member, a fence device that did not
        cut its power, a partition that fenced it) leaves the cluster, as Pacemaker's
        controller exits when it learns it was fenced: the cluster counts it down and runs
        its resources elsewhere. Only the remote API stays (`hactl cluster start` brings it
        back). A fencing completed before this run started was of an earlier life (the
        nodes' clocks agree, as a cluster's do)."""
        if self._fenced_by is not None or self._stopping.is_set():
            return
        for record in cib_history.records(self.replica.doc.root, self.local.name):
            entry = record.entry
            if entry.succeeded and (entry.completed or 0.0) > self.started_at:
                self._fenced_by = entry.executioner
                log.critical(
                    "this node was fenced (%s by %s, asked by %s): it leaves the cluster",
                    entry.action,
                    entry.executioner,
                    entry.origin,
                )
                self._then_api_only = True
                self._stopping.set()
                return

    def _write_cib(self) -> None:
        """Store the replica's CIB as it is now (everything applied so far)."""
        if self._status_write is not None:
            self._status_write.cancel()
            self._status_write = None
        self.store.write(self.replica.doc)

    async def _submit(self, doc: CibDocument, base: tuple[int, int]) -> Reply:
        return await self._through_dc(lambda rid: self.replica.submit(rid, doc, base))

    async def update_cib(self, patch: etree._Element, request_id: str | None = None) -> Reply:
        """Apply a v2 patchset through the DC without a version check, and wait until it
        is held by every member: how the executor records operation results and the
        attribute manager node attributes (issue 9 and later). ``request_id`` names the
        request (unique; default a new one) for the caller to recognise its change."""
        return await self._through_dc(lambda rid: self.replica.submit_patch(rid, patch), request_id)

    async def _through_dc(
        self, submit: Callable[[str], list[Output]], request_id: str | None = None
    ) -> Reply:
        request_id = request_id or f"{self.local.nodeid}-{uuid.uuid4().hex[:12]}"
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        self._run_replica(submit(request_id))
        try:
            return await asyncio.wait_for(future, CHANGE_TIMEOUT_S)
        except TimeoutError:
            self._waiting.pop(request_id, None)
            raise HactlError(
                f"the change was not confirmed by the DC within {CHANGE_TIMEOUT_S:g}s",
                hint="the cluster may have no DC right now (see `hactl status`); "
                "check with `hactl cluster cib` before trying again",
            ) from None

    # ------------------------------------------------------------------ API

    def _api_handlers(self) -> dict[str, Callable[[dict[str, Any]], Any]]:
        return {
            "ping": self._api_ping,
            "attrd.update": self.resources.attribute_request,
            "fence.record": self.resources.fencing_request,
            "status": self._api_status,
            "cib.get": self._api_cib_get,
            "cib.push": self._api_cib_push,
            "cib.patch": self._api_cib_patch,
            "quorum": self._api_quorum,
            "members": self._api_members,
            "fault": self._api_fault,
            "stop": self._api_stop,
            "enable": self._api_enable,
            "disable": lambda request: self._api_enable({"enabled": False}),
            "setup": self._api_setup,
            "config.get": self._api_config_get,
            "config.set": self._api_config_set,
        }

    def _node_info(self) -> dict[str, Any]:
        return {"id": self.local.nodeid, "name": self.local.name, "pid": os.getpid()}

    async def _api_ping(self, request: dict[str, Any]) -> dict[str, Any]:
        return self._node_info()

    async def _api_status(self, request: dict[str, Any]) -> dict[str, Any]:
        replica = self.replica
        return {
            "node": self._node_info(),
            "cluster_name": self.config.totem.cluster_name,
            "ring": replica.ring,
            "members": list(replica.members),
            "phase": replica.phase.value,
            "dc": replica.dc,
            "dc_name": replica.name_of(replica.dc) if replica.dc is not None else None,
            "quorate": self.quorum.quorate,
            "quorum": asdict(self.quorum.status()),
            # what corosync-cmapctl shows as runtime.config.totem.*: the timeouts in use
            "totem": {"token": self.params.token, "consensus": self.params.consensus},
            "nodes": {str(k): v for k, v in self.names.items()},
            "cib": replica.doc.serialize(pretty=False).decode(),
            "versions": list(replica.doc.versions()),
            "last_transition": self._last_transition(),
            "started_at": self.started_at,
        }

    def _last_transition(self) -> dict[str, Any] | None:
        controller = self.resources.controller
        if controller is None or not controller.transitions:
            return None
        last = controller.transitions[-1]
        return {
            "number": last.transition_id,
            "actions": len(last.dispatched),
            "failed": len(last.failed),
            "aborted": last.abort_reason,
            "cib": ".".join(map(str, self.replica.doc.versions())),
        }

    async def _api_cib_get(self, request: dict[str, Any]) -> dict[str, Any]:
        doc = self.replica.doc
        return {"cib": doc.serialize().decode(), "versions": list(doc.versions())}

    async def _api_cib_push(self, request: dict[str, Any]) -> dict[str, Any]:
        doc = CibDocument.from_bytes(str(request["cib"]).encode(), source="pushed CIB")
        a, e = (int(x) for x in request["base"])
        reply = await self._submit(doc, (a, e))
        if reply.error is not None:
            raise HactlError(reply.error, where="CIB")
        return {"versions": list(reply.versions or self.replica.doc.versions())}

    async def _api_cib_patch(self, request: dict[str, Any]) -> dict[str, Any]:
        patch = parse_patch(str(request["patch"]).encode(), source="API request")
        reply = await self.update_cib(patch)
        if reply.error is not None:
            raise HactlError(reply.error, where="CIB")
        return {"versions": list(reply.versions or self.replica.doc.versions())}

    async def _api_quorum(self, request: dict[str, Any]) -> dict[str, Any]:
        """The quorum status; with ``change`` (``expected_votes`` with ``votes`` and
        ``force``, or ``unblock``) first a runtime change, as corosync-quorumtool -e and
        pcs quorum unblock make it: checked here, applied on every node when delivered."""
        change = request.get("change")
        if change is None:
            return asdict(self.quorum.status())
        before = self.quorum.status()
        try:
            if change == "expected_votes":
                messages = self.quorum.set_expected_votes(
                    int(request["votes"]), bool(request.get("force"))
                )
            elif change == "unblock":
                messages = self.quorum.cancel_wait_for_all()
            else:
                raise HactlError(f"unknown quorum change {change!r}", where="API quorum")
        except NotImplementedError as exc:
            raise HactlError(str(exc), where="quorum") from None
        for message in messages:
            self._propose(CHANNEL_QUORUM + self.quorum.encode(message))
        deadline = time.monotonic() + QUORUM_CHANGE_WAIT_S
        while self.quorum.status() == before and time.monotonic() < deadline:
            await asyncio.sleep(0.05)  # until the ring delivered the change here
        return asdict(self.quorum.status())

    async def _api_members(self, request: dict[str, Any]) -> dict[str, Any]:
        return {
            "ring": self.replica.ring,
            "members": list(self.replica.members),
            "names": {str(k): v for k, v in self.names.items()},
            "addresses": {
                str(n.nodeid): n.ring_addrs.get(0, "") for n in self.config.nodelist if n.nodeid
            },
            "local": self.local.nodeid,
            "transport": dict(self.transport.status()),
            "blocked": sorted(self.transport.blocked),
            "totem": dict(self.ring.stats),
        }

    async def _api_fault(self, request: dict[str, Any]) -> dict[str, Any]:
        self.transport.block({int(n) for n in request.get("block", [])})
        blocked = sorted(self.transport.blocked)
        log.warning("fault switch: deaf to nodes %s", blocked or "none")
        return {"blocked": blocked}

    async def _api_stop(self, request: dict[str, Any]) -> dict[str, Any]:
        """`cluster stop`: a clean stop of the cluster services; with a remote API the
        daemon stays (API only) so that `cluster start` can start them again."""
        self._then_api_only = bool(self.options.remote_port) and not request.get("exit")
        asyncio.get_running_loop().call_later(0.2, self._stopping.set)  # answer first
        return self._node_info()

    async def _api_enable(self, request: dict[str, Any]) -> dict[str, Any]:
        from hactl.core.daemon.standby import set_enabled

        set_enabled(self.options.state_dir, bool(request.get("enabled", True)))
        return {**self._node_info(), "enabled": bool(request.get("enabled", True))}

    async def _api_config_get(self, request: dict[str, Any]) -> dict[str, Any]:
        """The cluster configuration as this node runs it (no secrets: the authkey's path)."""
        return {
            "config": self.options.config_path.read_text(),
            "path": str(self.options.config_path),
            "authkey_path": str(startup.authkey_path(self.config, self.options.authkey_path)),
            "local": self.local.name,
            "nodeid": self.local.nodeid,
        }

    async def _api_config_set(self, request: dict[str, Any]) -> dict[str, Any]:
        """`cluster node add|remove` on this node: check the new configuration, write it
        and reload it (corosync-cfgtool -R): only the nodelist and what follows from it
        change live; what a reload cannot change is refused."""
        path = self.options.config_path
        text = str(request["config"])
        new = ClusterConfig.from_text(text, str(path))
        check(new).raise_errors(f"the configuration sent for {path}")
        problems = reload_findings(self.config, new)
        if problems:
            raise HactlError(problems[0].message, where=problems[0].where, hint=problems[0].hint)
        local = startup.local_node(new, self.options.node or self.local.name)
        if local.nodeid != self.local.nodeid:
            raise HactlError(
                f"this node's nodeid would change from {self.local.nodeid} to {local.nodeid}",
                where=str(path),
                hint="remove the node and add it back instead",
            )
        votequorum_settings(new, local.nodeid)  # refused here if votequorum would refuse
        atomic_write(path, text.encode())
        os.chmod(path, 0o644)
        await self._reload(new)
        return {**self._node_info(), "nodes": {str(k): v for k, v in self.names.items()}}

    async def _reload(self, new: ClusterConfig) -> None:
        before = set(self.names.values())
        self.config = new
        self.names = startup.node_names(new)
        log.info(
            "configuration reloaded: nodes %s (added %s, removed %s)",
            ", ".join(self.names.values()),
            ", ".join(sorted(set(self.names.values()) - before)) or "none",
            ", ".join(sorted(before - set(self.names.values()))) or "none",
        )
        self.resources.names.clear()
        self.resources.names.update(self.names)
        self._reload_totem(new)
        await self.transport.replace(self._new_transport(new), self._addresses(new))
        expected = votequorum_settings(new, self.local.nodeid).expected_votes
        if expected and expected != self.quorum.status().expected_votes:
            try:
                for message in self.quorum.set_expected_votes(expected, force=True):
                    self._propose(CHANNEL_QUORUM + self.quorum.encode(message))
            except (HactlError, NotImplementedError) as exc:
                log_quorum.warning("expected votes stay as they are: %s", exc)
        self._run_replica(self.replica.nodelist_changed(self.names))

    def _reload_totem(self, new: ClusterConfig) -> None:
        """Corosync's reload re-reads the totem timeouts (its "volatile" keys) and derives
        them again for the new node count: token grows by token_coefficient per node above
        two, and token_retransmit, hold and consensus follow it unless set. The ring uses
        them from its next timer on."""
        params = TotemParams.from_values(effective_totem(new))
        if params == self.params:
            return
        log.info(
            "totem timeouts for %d nodes: token %d ms (was %d), consensus %d ms (was %d)",
            len(new.nodelist),
            params.token,
            self.params.token,
            params.consensus,
            self.params.consensus,
        )
        self.params = params
        self.ring.params = params

    async def _api_setup(self, request: dict[str, Any]) -> dict[str, Any]:
        raise HactlError(
            f"this node already runs cluster {self.config.totem.cluster_name}",
            where=str(self.options.config_path),
            hint="stop and remove the old cluster on it first",
        )
