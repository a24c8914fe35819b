"""The sans-I/O totem ring: one class, driven by ``start``, ``receive``, ``tick`` and
``propose``, each answering a :class:`Ready` (datagrams to send, deliveries and
configuration changes in order, the next timer deadline, the ring seq to persist).

See the package docstring for the protocol. Time is the ``now`` (seconds, any epoch) the
caller passes in; nothing here reads a clock, touches a socket or draws randomness.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from enum import Enum

from hactl.core.errors import HactlError
from hactl.core.totem.packets import (
    CHUNK_OVERHEAD,
    MAX_CHUNKS,
    MAX_RTR,
    MCAST_OVERHEAD,
    Chunk,
    CommitEntry,
    CommitToken,
    Join,
    Mcast,
    MergeDetect,
    Packet,
    PacketError,
    RingId,
    Token,
    decode,
    encode,
)
from hactl.core.totem.params import CRYPTO_RESERVE, TotemParams


class Backpressure(HactlError):
    """propose() was called while more than ``max_pending_bytes`` wait to be sent."""


class State(Enum):
    GATHER = "gather"
    COMMIT = "commit"
    RECOVERY = "recovery"
    OPERATIONAL = "operational"


class Timer(Enum):
    TOKEN_LOSS = "token_loss"
    TOKEN_RETRANSMIT = "token_retransmit"
    HOLD = "hold"
    JOIN = "join"
    CONSENSUS = "consensus"
    MERGE = "merge"


@dataclass(frozen=True)
class Send:
    """A datagram to transmit: ``to`` a node id, or to every node when None."""

    to: int | None
    data: bytes


@dataclass(frozen=True)
class Delivery:
    """An application message, delivered in the ring's agreed (or safe) order."""

    sender: int
    payload: bytes
    ring: RingId
    seq: int  # of its last fragment
    safe: bool = False


@dataclass(frozen=True)
class ConfigChange:
    """A transitional configuration (the members that came from this node's previous ring
    into ``ring``) or the regular configuration of ``ring``."""

    transitional: bool
    ring: RingId
    members: tuple[int, ...]
    joined: tuple[int, ...] = ()
    left: tuple[int, ...] = ()


Event = Delivery | ConfigChange


@dataclass
class Ready:
    """What one call produced. Send ``sends``, hand ``events`` to the application in
    order, persist ``persist_ring_seq`` when set, call ``tick`` at ``next_deadline``."""

    sends: list[Send] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    persist_ring_seq: int | None = None
    next_deadline: float | None = None

    @property
    def deliveries(self) -> list[Delivery]:
        return [e for e in self.events if isinstance(e, Delivery)]

    @property
    def config_changes(self) -> list[ConfigChange]:
        return [e for e in self.events if isinstance(e, ConfigChange)]


class RingLog:
    """The messages of one ring this node holds, and how far it got in them."""

    def __init__(self, ring: RingId, members: tuple[int, ...]) -> None:
        self.ring = ring
        self.members = members
        self.buffer: dict[int, Mcast] = {}
        self.aru = 0  # every seq up to here is held (or was, and was collected)
        self.high_seq = 0
        self.high_delivered = 0
        self.safe = 0  # every member holds every seq up to here
        self.floor = 0  # seqs up to here were garbage-collected

    def add(self, message: Mcast) -> bool:
        if message.seq <= self.floor or message.seq in self.buffer:
            return False
        self.buffer[message.seq] = message
        self.high_seq = max(self.high_seq, message.seq)
        while self.aru + 1 in self.buffer:
            self.aru += 1
        return True

    def missing(self, upto: int, limit: int) -> Iterator[int]:
        found = 0
        for seq in range(self.aru + 1, upto + 1):
            if found >= limit:
                return
            if seq not in self.buffer:
                found += 1
                yield seq

    def collect(self, upto: int) -> None:
        for seq in range(self.floor + 1, upto + 1):
            self.buffer.pop(seq, None)
        self.floor = max(self.floor, upto)


@dataclass
class _Outgoing:
    msg_id: int
    fragments: list[bytes]
    safe: bool
    next_fragment: int = 0

    @property
    def size(self) -> int:
        return sum(len(f) for f in self.fragments)


class Ring:
    """One node's totem protocol engine. Not thread-safe; one caller drives it."""

    def __init__(
        self, node_id: int, params: TotemParams, *, incarnation: int = 0, ring_seq: int = 0
    ) -> None:
        if not 0 < node_id <= 0xFFFFFFFF:
            raise HactlError(
                f"node id {node_id} is out of range",
                where="nodelist.node.nodeid",
                hint="1 .. 4294967295 (0 is reserved)",
            )
        self.me = node_id
        self.params = params
        self.incarnation = incarnation
        self.state = State.GATHER
        self.started = False
        self.now = 0.0
        self.max_ring_seq = ring_seq
        self.committed_seq = ring_seq
        self.fragment_size = 0
        self.rtr_limit = 0
        self.limit_mtu(params.netmtu)
        # ring logs: the current (committing or installed) ring, and the last installed
        # one while a new ring forms (a fictitious ring of our own before the first)
        self.log: RingLog | None = None
        self.old: RingLog | None = RingLog(RingId(0, node_id), (node_id,))
        self.members: tuple[int, ...] = (node_id,)
        # membership (gather) state
        self.proc: set[int] = {node_id}
        self.fail: set[int] = set()
        self.version = 0
        self.consensus: set[int] = set()
        self.seen_join: dict[int, tuple[int, int]] = {}
        self.commit_made_for = -1
        self.commit: CommitToken | None = None
        # early failure: what the transport cannot reach, when we last heard each node,
        # since when this membership round runs, and what the others' joins report
        self.unreachable: frozenset[int] = frozenset()
        self.heard_at: dict[int, float] = {}
        self.gather_since = 0.0
        self.reported_unreachable: dict[int, frozenset[int]] = {}
        # token state
        self.timers: dict[Timer, float] = {}
        self.last_token_seq = -1
        self.token_out: tuple[int, bytes] | None = None
        self.token_out_seq: int | None = None  # the seq a regular token we passed carried
        self.token_retries = 0
        self.held_token: Token | None = None
        self.my_last_fcc = 0
        self.my_last_backlog = 0
        self.last_forwarded_aru = 0
        self.idle_rotations = 0
        self.last_rotation_seq = -1
        self.rep_prev_clean = False
        self.rep_prev_seq = -1
        self.token_started = False
        # application data
        self.queue: deque[_Outgoing] = deque()
        self.pending_bytes = 0
        self.next_msg_id = 1
        self.recovery_queue: deque[Mcast] = deque()
        self.reassembly: dict[tuple[int, int], list[bytes]] = {}
        self.stats: dict[str, int] = {
            "malformed": 0,
            "token_retransmits": 0,
            "messages_retransmitted": 0,
            "rings_installed": 0,
            "token_losses": 0,
        }
        self._out = Ready()

    # ------------------------------------------------------------------ public API

    def start(self, now: float) -> Ready:
        """Begin: look for other nodes (a gather round)."""
        self.now = now
        if not self.started:
            self.started = True
            self.gather_since = now
            self._new_join_round()
        return self._finish()

    def receive(self, now: float, data: bytes) -> Ready:
        """A datagram arrived (already authenticated by the transport's sealer)."""
        self.now = now
        if self.started:
            try:
                sender, packet = decode(data)
            except PacketError:
                self.stats["malformed"] += 1
            else:
                self.heard_at[sender] = now
                self._dispatch(sender, packet)
        return self._finish()

    def tick(self, now: float) -> Ready:
        """Fire every timer due at ``now``."""
        self.now = now
        while True:
            due = [(deadline, t) for t, deadline in self.timers.items() if deadline <= now]
            if not due:
                break
            _, timer = min(due, key=lambda d: d[0])
            del self.timers[timer]
            self._fire(timer)
        return self._finish()

    def propose(self, now: float, payload: bytes, *, safe: bool = False) -> Ready:
        """Queue an application message for agreed (or, with ``safe``, safe) delivery."""
        self.now = now
        if self.pending_bytes + len(payload) > self.params.max_pending_bytes:
            raise Backpressure(
                f"{self.pending_bytes} bytes already wait to be sent",
                where="totem",
                hint="wait for deliveries before proposing more",
            )
        size = self.fragment_size - CHUNK_OVERHEAD
        fragments = [payload[i : i + size] for i in range(0, len(payload), size)] or [b""]
        self.queue.append(_Outgoing(self._take_msg_id(), fragments, safe))
        self.pending_bytes += len(payload)
        if self.held_token is not None:
            self.timers.pop(Timer.HOLD, None)
            self._release_held_token()
        return self._finish()

    def set_unreachable(self, now: float, nodes: frozenset[int]) -> Ready:
        """The transport's news: it cannot reach ``nodes`` now (all of a peer's links are
        down, or its port answers unreachable). Only a hint for the membership round:
        see :meth:`_fail_unreachable`."""
        self.now = now
        before = self._silent_unreachable()
        self.unreachable = frozenset(nodes) - {self.me}
        if self.state is State.GATHER and self._silent_unreachable() != before:
            self._multicast(self._join())  # the others weigh our report at once
        self._fail_unreachable()
        return self._finish()

    def limit_mtu(self, mtu: int) -> None:
        """Fit every datagram in ``mtu`` bytes when the transport carries less than
        ``netmtu`` (knet's netmtu is 65536, a UDP datagram at most 65507). Call it before
        proposing anything: queued messages keep the fragments they were cut into."""
        netmtu = min(self.params.netmtu, mtu)
        self.fragment_size = netmtu - CRYPTO_RESERVE - 2 * MCAST_OVERHEAD
        self.rtr_limit = min(MAX_RTR, (netmtu - CRYPTO_RESERVE - 128) // 8)

    @property
    def ring_id(self) -> RingId | None:
        """The installed ring, or None while none is (or before the first)."""
        return self.log.ring if self.state is State.OPERATIONAL and self.log else None

    @property
    def pending(self) -> int:
        """Application messages waiting for the token."""
        return len(self.queue)

    # ------------------------------------------------------------------ plumbing

    def _finish(self) -> Ready:
        out, self._out = self._out, Ready()
        out.next_deadline = min(self.timers.values()) if self.timers else None
        return out

    def _take_msg_id(self) -> int:
        msg_id = self.next_msg_id
        self.next_msg_id = (self.next_msg_id + 1) & 0xFFFFFFFF or 1
        return msg_id

    def _set_timer(self, timer: Timer, delay: float) -> None:
        self.timers[timer] = self.now + delay

    def _cancel(self, *timers: Timer) -> None:
        for timer in timers:
            self.timers.pop(timer, None)

    def _multicast(self, packet: Packet) -> None:
        self._out.sends.append(Send(None, encode(packet, self.me)))

    def _emit(self, event: Event) -> None:
        self._out.events.append(event)

    def _next_member(self, members: tuple[int, ...]) -> int:
        return members[(members.index(self.me) + 1) % len(members)]

    def _dispatch(self, sender: int, packet: Packet) -> None:
        if isinstance(packet, Mcast):
            self._on_mcast(packet)
        elif isinstance(packet, Token):
            self._on_token(packet)
        elif isinstance(packet, Join):
            self._on_join(packet)
        elif isinstance(packet, CommitToken):
            self._on_commit(packet)
        else:
            self._on_merge_detect(packet)

    def _fire(self, timer: Timer) -> None:
        if timer is Timer.TOKEN_LOSS:
            self.stats["token_losses"] += 1
            self._enter_gather()
        elif timer is Timer.TOKEN_RETRANSMIT:
            limit = self.params.token_retransmits_before_loss_const
            if self.token_out is not None and self.token_retries < limit:
                self.token_retries += 1
                self.stats["token_retransmits"] += 1
                self._out.sends.append(Send(*self.token_out))
                self._set_timer(Timer.TOKEN_RETRANSMIT, self.params.token_retransmit_s)
        elif timer is Timer.HOLD:
            self._release_held_token()
        elif timer is Timer.JOIN:
            if self.state is State.GATHER:
                self._multicast(self._join())
                self._set_timer(Timer.JOIN, self.params.join_s)
        elif timer is Timer.CONSENSUS:
            if self.state is State.GATHER:
                self._consensus_timeout()
        elif timer is Timer.MERGE:
            if self.state is State.OPERATIONAL and self.log is not None:
                self._multicast(MergeDetect(self.me, self.log.ring))
                self._set_timer(Timer.MERGE, self.params.merge_s)

    # ------------------------------------------------------------------ membership

    def _join(self) -> Join:
        return Join(
            self.me,
            self.incarnation,
            self.version,
            self.max_ring_seq,
            frozenset(self.proc),
            frozenset(self.fail),
            self._silent_unreachable(),
        )

    def _silent_unreachable(self) -> frozenset[int]:
        """What the transport cannot reach and we have not heard from this round."""
        return frozenset(
            n for n in self.unreachable if self.heard_at.get(n, -1.0) < self.gather_since
        )

    def _fail_unreachable(self) -> None:
        """Fail, without waiting for the consensus timeout, the processors that every
        other live member's transport and ours report unreachable and that nobody heard
        from since the round began. Corosync waits the timeout for any processor that
        sends no join; for these the wait could end no other way. A wrong report costs
        what a lost link costs anyway: the node is failed and merges back later."""
        if self.state is not State.GATHER:
            return
        alive = self.proc - self.fail
        suspects = (self._silent_unreachable() & alive) - self.consensus
        if not suspects:
            return
        others = alive - suspects - {self.me}
        agreed = {
            n
            for n in suspects
            if all(n in self.reported_unreachable.get(o, frozenset()) for o in others)
        }
        if agreed:
            self._change_sets(self.proc, self.fail | agreed)

    def _enter_gather(self, join: Join | None = None) -> None:
        """Start a membership round: on token loss, or because ``join`` (whose sets are
        merged first, so that we do not agree on a smaller ring in between) arrived."""
        if self.state is not State.GATHER:
            self.gather_since = self.now
            self.reported_unreachable = {}
        if self.state is State.OPERATIONAL:
            assert self.log is not None
            self.old = self.log
            self.proc = set(self.log.members) | {self.me}
            self.fail = set()
            self._restart_partial_message()
        self.log = None
        self.commit = None
        self.recovery_queue.clear()
        self.held_token = None
        self.token_out = None
        self.state = State.GATHER
        self._cancel(Timer.TOKEN_LOSS, Timer.TOKEN_RETRANSMIT, Timer.HOLD, Timer.MERGE)
        if join is not None:
            self.reported_unreachable[join.sender] = join.unreachable
            if join.sender not in self.fail:
                self.proc, self.fail = self._merged_sets(join)
        self._new_join_round()
        if join is not None:
            self._gather_join(join)
        self._fail_unreachable()

    def _restart_partial_message(self) -> None:
        """A message cut by a configuration change is sent again whole in the next ring:
        receivers drop incomplete reassemblies at every configuration change."""
        if self.queue and self.queue[0].next_fragment > 0:
            head = self.queue[0]
            head.next_fragment = 0
            head.msg_id = self._take_msg_id()

    def _new_join_round(self) -> None:
        self.version += 1
        self.consensus = {self.me}
        self._multicast(self._join())
        self._set_timer(Timer.JOIN, self.params.join_s)
        self._set_timer(Timer.CONSENSUS, self.params.consensus_s)
        self._check_consensus()

    def _change_sets(self, proc: set[int], fail: set[int]) -> None:
        self.proc, self.fail = proc, fail
        self._new_join_round()

    def _on_join(self, join: Join) -> None:
        if join.sender == self.me:
            return
        self.max_ring_seq = max(self.max_ring_seq, join.ring_seq)
        key = (join.incarnation, join.version)
        seen = self.seen_join.get(join.sender)
        if self.state is not State.GATHER:
            # Only a join newer than any we know starts a new membership round: copies
            # and late joins of the round that formed this ring are stale.
            if seen is not None and key <= seen:
                return
            self.seen_join[join.sender] = key
            if self.me in join.fail:
                # a round that excludes us: let it finish; merge detection joins us later
                return
            self._enter_gather(join)
            return
        if seen is not None and key < seen:
            return
        self.seen_join[join.sender] = key
        self.reported_unreachable[join.sender] = join.unreachable
        self._gather_join(join)
        self._fail_unreachable()

    def _gather_join(self, join: Join) -> None:
        if join.sender in self.fail:
            return
        if join.proc == self.proc and join.fail == self.fail:
            self.consensus.add(join.sender)
            self._check_consensus()
            return
        if join.proc <= self.proc and join.fail <= self.fail:
            return  # nothing we do not know; our periodic join will bring it up to date
        self._change_sets(*self._merged_sets(join))

    def _merged_sets(self, join: Join) -> tuple[set[int], set[int]]:
        fail = set(self.fail)
        if self.me in join.fail:
            fail.add(join.sender)  # it thinks we failed: part cleanly, merge later
        else:
            fail |= join.fail
        fail.discard(self.me)
        return self.proc | join.proc, fail

    def _consensus_timeout(self) -> None:
        missing = (self.proc - self.fail) - self.consensus
        if missing:
            self._change_sets(self.proc, self.fail | missing)
        else:
            self._new_join_round()  # we agreed but no commit token came: try again

    def _check_consensus(self) -> None:
        if self.state is not State.GATHER:
            return
        members = self.proc - self.fail
        if min(members) != self.me or not members <= self.consensus:
            return
        if self.commit_made_for == self.version:
            return
        self.commit_made_for = self.version
        ring = RingId(max(self.max_ring_seq, self.committed_seq) + 4, self.me)
        self._accept_commit(CommitToken(ring, 0, tuple(sorted(members))))

    def _on_merge_detect(self, packet: MergeDetect) -> None:
        if (
            self.state is State.OPERATIONAL
            and self.log is not None
            and packet.ring != self.log.ring
            and packet.sender not in self.log.members
        ):
            self._enter_gather()

    # ------------------------------------------------------------------ commit

    def _on_commit(self, token: CommitToken) -> None:
        n = len(token.members)
        if self.me not in token.members:
            return
        if self.state is State.GATHER:
            if (
                token.members == tuple(sorted(self.proc - self.fail))
                and token.ring.seq > self.committed_seq
                and len(token.entries) == token.members.index(self.me)
                and token.hop < n
            ):
                self._accept_commit(token)
        elif self.state is State.COMMIT:
            assert self.commit is not None
            if token.ring == self.commit.ring and len(token.entries) == n and n <= token.hop:
                self._enter_recovery(token)
                self._forward_commit(token)
        elif self.state is State.RECOVERY:
            assert self.log is not None
            if (
                token.ring == self.log.ring
                and self.me == token.members[0]
                and token.hop == 2 * n
                and not self.token_started
            ):
                self.token_started = True
                self._on_token(Token(token.ring, 0, 0, 0, 0, 0, 0, False, False))

    def _accept_commit(self, token: CommitToken) -> None:
        assert self.old is not None
        old = self.old
        entry = CommitEntry(
            self.me,
            old.ring,
            old.aru,
            old.high_delivered,
            old.high_seq,
            self.incarnation,
            self.version,
        )
        token = replace(token, entries=token.entries + (entry,))
        self.committed_seq = token.ring.seq
        self.max_ring_seq = max(self.max_ring_seq, token.ring.seq)
        self._out.persist_ring_seq = token.ring.seq
        self.state = State.COMMIT
        self.commit = token
        self._cancel(Timer.JOIN, Timer.CONSENSUS)
        self._set_timer(Timer.TOKEN_LOSS, self.params.token_s)
        self._forward_commit(token)

    def _forward_commit(self, token: CommitToken) -> None:
        token = replace(token, hop=token.hop + 1)
        nxt = self._next_member(token.members)
        if nxt == self.me:  # a ring of one: the token comes straight back
            self._on_commit(token)
            return
        self._send_token_packet(nxt, token)

    def _enter_recovery(self, token: CommitToken) -> None:
        assert self.old is not None
        old = self.old
        self.state = State.RECOVERY
        self.commit = token
        self.log = RingLog(token.ring, token.members)
        for entry in token.entries:  # their joins up to this version are stale now
            key = (entry.incarnation, entry.version)
            if entry.node != self.me and key > self.seen_join.get(entry.node, (-1, -1)):
                self.seen_join[entry.node] = key
        self.last_token_seq = -1
        self.my_last_fcc = self.my_last_backlog = self.last_forwarded_aru = 0
        self.rep_prev_clean, self.rep_prev_seq = False, -1
        self.idle_rotations, self.last_rotation_seq = 0, -1
        self.token_started = False
        self.recovery_queue.clear()
        movers = [e for e in token.entries if e.old_ring == old.ring]
        if len(movers) > 1:
            low = min(e.aru for e in movers)
            high = max(e.high_seq for e in movers)
            for seq in sorted(s for s in old.buffer if low < s <= high):
                holders = [e.node for e in movers if e.aru >= seq]
                # the lowest member known to hold it resends it; past every aru, all do
                if not holders or min(holders) == self.me:
                    self.recovery_queue.append(old.buffer[seq])
        self._set_timer(Timer.TOKEN_LOSS, self.params.token_s)

    def _enter_operational(self) -> None:
        assert self.log is not None and self.commit is not None and self.old is not None
        log, old = self.log, self.old
        came_along = tuple(e.node for e in self.commit.entries if e.old_ring == old.ring)
        self._emit(
            ConfigChange(
                True,
                log.ring,
                came_along,
                left=tuple(sorted(set(self.members) - set(came_along))),
            )
        )
        # The rest of the old ring, identical on every member that came along with us:
        # recovery gave each of them every message any of them held.
        for seq in sorted(s for s in old.buffer if s > old.high_delivered):
            old.high_delivered = seq
            self._deliver_one(old.buffer[seq])
        self.reassembly.clear()
        self._emit(
            ConfigChange(
                False,
                log.ring,
                log.members,
                joined=tuple(sorted(set(log.members) - set(came_along))),
            )
        )
        self.members = log.members
        self.old = None
        self.recovery_queue.clear()
        self.state = State.OPERATIONAL
        self.proc, self.fail = set(log.members), set()
        self.stats["rings_installed"] += 1
        if self.me == log.members[0]:
            self._set_timer(Timer.MERGE, self.params.merge_s)

    # ------------------------------------------------------------------ ordering

    def _on_mcast(self, message: Mcast) -> None:
        log, old = self.log, self.old
        if log is not None and message.ring == log.ring:
            if self.state not in (State.RECOVERY, State.OPERATIONAL):
                return
            if log.add(message) and message.recovered is not None and old is not None:
                if message.recovered.ring == old.ring:
                    old.add(message.recovered)
            out, out_seq = self.token_out, self.token_out_seq
            if out is not None and out_seq is not None and message.origin == out[0]:
                if message.seq > out_seq:  # our successor sent after our token: it has it
                    self.token_out = None
                    self._cancel(Timer.TOKEN_RETRANSMIT)
            if self.state is State.OPERATIONAL:
                self._deliver()
        elif (
            self.state is State.GATHER
            and old is not None
            and message.ring == old.ring
            and message.recovered is None
        ):
            # still filling the old ring: what we hold is frozen once we commit
            old.add(message)

    def _on_token(self, token: Token) -> None:
        log = self.log
        if (
            log is None
            or token.ring != log.ring
            or self.state not in (State.RECOVERY, State.OPERATIONAL)
            or token.token_seq <= self.last_token_seq
        ):
            return
        self.last_token_seq = token.token_seq
        self.token_out = None
        self._cancel(Timer.TOKEN_RETRANSMIT)
        self._set_timer(Timer.TOKEN_LOSS, self.params.token_s)
        if self.state is State.RECOVERY and token.install:
            self._enter_operational()
        is_rep = self.me == log.members[0]
        retrans_flag, install = token.retrans_flag, token.install
        if is_rep:
            if self.state is State.RECOVERY:
                clean = (
                    not token.retrans_flag
                    and token.aru == token.seq
                    and log.aru == token.seq
                    and not self.recovery_queue
                )
                if clean and self.rep_prev_clean and token.seq == self.rep_prev_seq:
                    install = True
                    self._enter_operational()
                self.rep_prev_clean, self.rep_prev_seq = clean, token.seq
            else:
                install = False
            retrans_flag = False

        window = self.params.window_size
        resent = 0
        rtr_left: list[int] = []
        for seq in token.rtr:
            held = log.buffer.get(seq)
            if held is not None and resent < window:
                self._multicast(held)
                resent += 1
            else:
                rtr_left.append(seq)
        self.stats["messages_retransmitted"] += resent
        fcc_others = max(0, token.fcc - self.my_last_fcc)
        budget = max(0, min(self.params.max_messages, window - fcc_others) - resent)
        seq = token.seq
        for message in self._take_messages(budget, log.ring, seq):
            seq = message.seq
            log.add(message)
            self._multicast(message)
        sent = seq - token.seq
        if self.state is State.RECOVERY and self.recovery_queue:
            retrans_flag = True
        my_backlog = len(self.queue) + len(self.recovery_queue)
        backlog = max(0, token.backlog - self.my_last_backlog) + my_backlog
        self.my_last_backlog = my_backlog
        self.my_last_fcc = sent + resent
        fcc = fcc_others + sent + resent

        rtr = rtr_left[: self.rtr_limit]
        wanted = set(rtr)
        for missing in log.missing(seq, self.rtr_limit - len(rtr)):
            if missing not in wanted:
                rtr.append(missing)
        aru, aru_node = token.aru, token.aru_node
        if log.aru < aru or aru_node in (self.me, 0):
            aru, aru_node = min(log.aru, seq), self.me
        if aru == seq:
            aru_node = 0
        # everything up to the lower of the aru we forwarded last time and the aru that
        # came back is held by every member (Totem's safe-delivery rule)
        log.safe = max(log.safe, min(token.aru, self.last_forwarded_aru))
        self.last_forwarded_aru = aru

        if self.state is State.OPERATIONAL:
            self._deliver()
            log.collect(min(log.safe, log.high_delivered))
        if is_rep:
            idle = self.state is State.OPERATIONAL and not rtr and not self.queue
            idle = idle and seq == self.last_rotation_seq
            self.idle_rotations = self.idle_rotations + 1 if idle else 0
            self.last_rotation_seq = seq
        forwarded = Token(
            log.ring,
            token.token_seq + 1,
            seq,
            aru,
            aru_node,
            fcc,
            backlog,
            retrans_flag,
            install,
            tuple(rtr),
        )
        self._pass_token(forwarded)

    def _take_messages(self, budget: int, ring: RingId, seq: int) -> Iterator[Mcast]:
        if self.state is State.RECOVERY:
            while budget > 0 and self.recovery_queue:
                seq += 1
                budget -= 1
                old = self.recovery_queue.popleft()
                yield Mcast(ring, seq, self.me, False, (), recovered=old)
            return
        while budget > 0 and self.queue:
            seq += 1
            budget -= 1
            head = self.queue[0]
            if len(head.fragments) > 1:  # a large message: one fragment per message
                index = head.next_fragment
                head.next_fragment += 1
                if head.next_fragment == len(head.fragments):
                    self.queue.popleft()
                    self.pending_bytes -= head.size
                chunk = Chunk(head.msg_id, index, len(head.fragments), head.fragments[index])
                yield Mcast(ring, seq, self.me, head.safe, (chunk,))
                continue
            yield Mcast(ring, seq, self.me, head.safe, self._pack_small(head.safe))

    def _pack_small(self, safe: bool) -> tuple[Chunk, ...]:
        """As many whole small messages (of one kind, agreed or safe) as fit in one."""
        chunks: list[Chunk] = []
        space = self.fragment_size
        while self.queue and len(chunks) < MAX_CHUNKS:
            head = self.queue[0]
            need = len(head.fragments[0]) + CHUNK_OVERHEAD
            if len(head.fragments) > 1 or head.safe != safe or (chunks and need > space):
                break
            chunks.append(Chunk(head.msg_id, 0, 1, head.fragments[0]))
            space -= need
            self.queue.popleft()
            self.pending_bytes -= head.size
        return tuple(chunks)

    def _pass_token(self, token: Token) -> None:
        assert self.log is not None
        members = self.log.members
        nxt = self._next_member(members)
        busy = bool(self.queue) or self.state is State.RECOVERY
        if nxt == self.me:  # a ring of one passes the token to itself through the timer
            self.held_token = token
            self._set_timer(Timer.HOLD, 0.0 if busy else self.params.hold_s)
            return
        if self.idle_rotations >= self.params.seqno_unchanged_const:
            # an idle ring: the representative holds the token instead of spinning it
            self.held_token = token
            self._set_timer(Timer.HOLD, self.params.hold_s)
            return
        self._send_token_packet(nxt, token)

    def _release_held_token(self) -> None:
        token, self.held_token = self.held_token, None
        if token is None or self.log is None or token.ring != self.log.ring:
            return
        nxt = self._next_member(self.log.members)
        if nxt == self.me:
            self._on_token(token)
        else:
            self.idle_rotations = 0
            self._send_token_packet(nxt, token)

    def _send_token_packet(self, to: int, token: Token | CommitToken) -> None:
        data = encode(token, self.me)
        self._out.sends.append(Send(to, data))
        self.token_out = (to, data)
        self.token_out_seq = token.seq if isinstance(token, Token) else None
        self.token_retries = 0
        self._set_timer(Timer.TOKEN_RETRANSMIT, self.params.token_retransmit_s)

    # ------------------------------------------------------------------ delivery

    def _deliver(self) -> None:
        log = self.log
        assert log is not None
        while True:
            seq = log.high_delivered + 1
            message = log.buffer.get(seq)
            if message is None or (message.safe and seq > log.safe):
                return
            log.high_delivered = seq
            self._deliver_one(message)

    def _deliver_one(self, message: Mcast) -> None:
        if message.recovered is not None:
            return  # recovery traffic carries the old ring's messages, not new ones
        for chunk in message.chunks:
            self._deliver_chunk(message, chunk)

    def _deliver_chunk(self, message: Mcast, chunk: Chunk) -> None:
        if chunk.frag_count == 1:
            self._emit(
                Delivery(message.origin, chunk.data, message.ring, message.seq, message.safe)
            )
            return
        key = (message.origin, chunk.msg_id)
        if chunk.frag_index == 0:
            self.reassembly[key] = [chunk.data]
        elif key in self.reassembly and len(self.reassembly[key]) == chunk.frag_index:
            self.reassembly[key].append(chunk.data)
        else:
            self.reassembly.pop(key, None)  # a fragment was lost with a ring: drop it all
            return
        if len(self.reassembly[key]) == chunk.frag_count:
            payload = b"".join(self.reassembly.pop(key))
            self._emit(Delivery(message.origin, payload, message.ring, message.seq, message.safe))
