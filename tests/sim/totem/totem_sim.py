"""Deterministic simulation of totem rings over the memory transport.

One seed decides everything: the number of nodes, the schedule of faults (loss,
duplication, reordering through jitter, crashes, restarts, partitions, merges), the
proposals. The :class:`Checker` sees every delivery and configuration change as it happens
and raises :class:`Violation` at the first step that breaks an invariant:

* agreed order: any two nodes deliver the messages they both deliver in the same order;
* no message is delivered twice by a node (incarnation) or invented;
* extended virtual synchrony: nodes that move together from one regular configuration to
  the next delivered the same set of messages in the first, and each is in the other's
  transitional configuration.

After the faults stop, :func:`run_schedule` measures how long until every live node is in
one ring with exactly the live nodes, and checks messages still flow.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from hactl.core.totem.packets import RingId
from hactl.core.totem.params import TotemParams
from hactl.core.totem.ring import ConfigChange, Delivery, Ready, Ring, State
from hactl.plugins.transports.memory import Faults, MemoryNetwork

#: the params every simulation runs with (the timers of Corosync's documentation)
SIM_PARAMS = TotemParams(token=1000, consensus=1200, join=50, merge=200, hold=180)
#: after the last fault, one ring of all live nodes forms within this (virtual) time:
#: token loss detection + a failed round + a consensus round + a merge round, with margin
CONVERGENCE_BOUND_S = float(
    os.environ.get("TT_BOUND", 2 * (SIM_PARAMS.token_s + SIM_PARAMS.consensus_s) + 1.0)
)

Key = tuple[int, int]  # (node id, incarnation)


class Violation(AssertionError):
    """An invariant broke; the message says which, where and when."""


@dataclass
class Checker:
    proposed: dict[bytes, int] = field(default_factory=dict)
    delivered: dict[Key, list[bytes]] = field(default_factory=dict)
    index: dict[Key, dict[bytes, int]] = field(default_factory=dict)
    common_max: dict[tuple[Key, Key], int] = field(default_factory=dict)
    holders: dict[bytes, list[Key]] = field(default_factory=dict)
    config: dict[Key, RingId | None] = field(default_factory=dict)
    in_config: dict[Key, set[bytes]] = field(default_factory=dict)
    transitional: dict[Key, tuple[int, ...]] = field(default_factory=dict)
    moves: dict[tuple[RingId, RingId], list[tuple[Key, frozenset[bytes], tuple[int, ...]]]] = field(
        default_factory=dict
    )
    deliveries: int = 0
    now: float = 0.0

    def propose(self, origin: int, payload: bytes) -> None:
        self.proposed[payload] = origin

    def observe(self, key: Key, event: Delivery | ConfigChange) -> None:
        if isinstance(event, Delivery):
            self._delivery(key, event)
        elif event.transitional:
            if key[0] not in event.members:
                self._fail(f"node {key} is not in its own transitional configuration {event}")
            self.transitional[key] = event.members
        else:
            self._regular(key, event)

    def _fail(self, what: str) -> None:
        raise Violation(f"t={self.now:.4f}s: {what}")

    def _delivery(self, key: Key, event: Delivery) -> None:
        payload = event.payload
        self.deliveries += 1
        if self.proposed.get(payload) != event.sender:
            self._fail(f"node {key} delivered a message nobody proposed: {payload[:40]!r}")
        mine = self.index.setdefault(key, {})
        if payload in mine:
            self._fail(f"node {key} delivered {payload[:40]!r} twice")
        if self.config.get(key) is None:
            self._fail(f"node {key} delivered {payload[:40]!r} before any configuration")
        position = len(mine)
        for other in self.holders.get(payload, []):
            their_position = self.index[other][payload]
            if their_position <= self.common_max.get((key, other), -1):
                self._fail(
                    f"order differs: {key} and {other} both delivered {payload[:40]!r} but "
                    f"{other} delivered it before a message both delivered earlier"
                )
            self.common_max[(key, other)] = their_position
            self.common_max[(other, key)] = max(self.common_max.get((other, key), -1), position)
        mine[payload] = position
        self.delivered.setdefault(key, []).append(payload)
        self.holders.setdefault(payload, []).append(key)
        self.in_config.setdefault(key, set()).add(payload)

    def _regular(self, key: Key, event: ConfigChange) -> None:
        if key[0] not in event.members:
            self._fail(f"node {key} installed ring {event.ring} without itself")
        previous = self.config.get(key)
        if previous is not None and event.ring <= previous:
            self._fail(f"node {key} went from ring {previous} back to {event.ring}")
        if previous is not None:
            messages = frozenset(self.in_config.get(key, set()))
            trans = self.transitional.get(key, (key[0],))
            for other, their_messages, their_trans in self.moves.get((previous, event.ring), []):
                if their_messages != messages:
                    extra = sorted(messages ^ their_messages)[:3]
                    self._fail(
                        f"virtual synchrony: {key} and {other} moved together from ring "
                        f"{previous} to {event.ring} but delivered different messages in "
                        f"{previous} (e.g. {extra})"
                    )
                if other[0] not in trans or key[0] not in their_trans:
                    self._fail(
                        f"virtual synchrony: {key} and {other} moved together from {previous} "
                        f"to {event.ring} but transitional configurations {trans} and "
                        f"{their_trans} do not list each other"
                    )
            self.moves.setdefault((previous, event.ring), []).append((key, messages, trans))
        self.config[key] = event.ring
        self.in_config[key] = set()


@dataclass
class SimNode:
    node_id: int
    incarnation: int = 0
    ring: Ring | None = None
    disk_ring_seq: int = 0  # what Ready.persist_ring_seq asked to persist
    tick_at: float | None = None
    unreachable: set[int] = field(default_factory=set)  # what its transport reports

    @property
    def key(self) -> Key:
        return (self.node_id, self.incarnation)


class World:
    """Rings over one MemoryNetwork, every output checked."""

    def __init__(
        self,
        seed: int,
        node_ids: list[int],
        params: TotemParams = SIM_PARAMS,
        *,
        port_unreachable: bool = False,
    ):
        """``port_unreachable``: a datagram sent to a crashed node makes the sender's
        transport report it unreachable a moment later (ICMP port unreachable on a live
        host), until a datagram from it arrives; a partition drops silently."""
        self.seed = seed
        self.port_unreachable = port_unreachable
        self.rng = random.Random(seed)
        self.net = MemoryNetwork(random.Random(self.rng.getrandbits(64)))
        self.params = params
        self.checker = Checker()
        self.nodes = {i: SimNode(i) for i in node_ids}
        self.counter = 0
        self.on_event: Callable[[Key, Delivery | ConfigChange], None] | None = None

    # ------------------------------------------------------------------ driving

    def start(self, node_id: int) -> None:
        node = self.nodes[node_id]
        node.incarnation += 1
        node.ring = Ring(
            node_id, self.params, incarnation=node.incarnation, ring_seq=node.disk_ring_seq
        )
        node.tick_at = None
        node.unreachable = set()
        incarnation = node.incarnation

        def on_datagram(source: int, data: bytes) -> None:
            if node.ring is not None and node.incarnation == incarnation:
                if source in node.unreachable:
                    node.unreachable.discard(source)
                    self._report_unreachable(node)
                self._apply(node, node.ring.receive(self.net.now, data))

        self.net.attach(node_id, on_datagram)
        self._apply(node, node.ring.start(self.net.now))

    def crash(self, node_id: int) -> None:
        node = self.nodes[node_id]
        node.ring = None
        node.tick_at = None
        self.net.detach(node_id)

    def propose(self, node_id: int, size: int = 0, safe: bool = False) -> bytes | None:
        node = self.nodes[node_id]
        if node.ring is None:
            return None
        self.counter += 1
        head = f"{node_id}:{node.incarnation}:{self.counter}:".encode()
        payload = head + self.rng.randbytes(max(0, size - len(head)))
        self.checker.propose(node_id, payload)
        self._apply(node, node.ring.propose(self.net.now, payload, safe=safe))
        return payload

    def _report_unreachable(self, node: SimNode) -> None:
        if node.ring is not None:
            self._apply(node, node.ring.set_unreachable(self.net.now, frozenset(node.unreachable)))

    def _refused(self, node: SimNode, target: int) -> None:
        incarnation = node.incarnation

        def icmp() -> None:
            if node.incarnation == incarnation and target not in node.unreachable:
                node.unreachable.add(target)
                self._report_unreachable(node)

        self.net.call_at(self.net.now + 0.001, icmp)

    def _apply(self, node: SimNode, ready: Ready) -> None:
        self.checker.now = self.net.now
        for send in ready.sends:
            self.net.send(node.node_id, send.data, send.to)
            if self.port_unreachable:
                targets = [send.to] if send.to is not None else list(self.nodes)
                for target in targets:
                    crashed = self.nodes[target].ring is None
                    reached = self.net.connected(node.node_id, target)
                    if target != node.node_id and crashed and reached:
                        self._refused(node, target)
        for event in ready.events:
            self.checker.observe(node.key, event)
            if self.on_event is not None:
                self.on_event(node.key, event)
        if ready.persist_ring_seq is not None:
            node.disk_ring_seq = ready.persist_ring_seq
        deadline = ready.next_deadline
        if deadline is not None and deadline != node.tick_at:
            node.tick_at = deadline
            ring, incarnation = node.ring, node.incarnation

            def fire() -> None:
                if node.ring is ring and node.incarnation == incarnation and ring is not None:
                    if node.tick_at == deadline:
                        node.tick_at = None
                    self._apply(node, ring.tick(self.net.now))

            self.net.call_at(deadline, fire)

    def run_until(self, when: float) -> None:
        self.net.run_until(when)

    # ------------------------------------------------------------------ observing

    def live(self) -> list[int]:
        return sorted(i for i, n in self.nodes.items() if n.ring is not None)

    def converged(self) -> bool:
        live = self.live()
        rings = set()
        for i in live:
            ring = self.nodes[i].ring
            assert ring is not None
            if ring.state is not State.OPERATIONAL or ring.log is None:
                return False
            if sorted(ring.log.members) != live or ring.pending:
                return False
            rings.add(ring.log.ring)
        return len(rings) == 1


@dataclass
class Outcome:
    seed: int
    nodes: int
    converge_s: float
    deliveries: int
    events: int


def replay_seed() -> int | None:
    raw = os.environ.get("HACTL_SIM_SEED")
    return int(raw) if raw else None


def run_schedule(seed: int, *, fault_time: float = 8.0, max_nodes: int = 16) -> Outcome:
    """One seeded schedule: faults for ``fault_time`` virtual seconds, then calm. Even
    seeds run with transports that report crashed peers unreachable."""
    rng = random.Random(seed)
    count = rng.choice([2, 2, 3, 3, 3, 4, 5, 5, 6, 7, 8, max_nodes])
    count = min(count, max_nodes)
    node_ids = sorted(rng.sample(range(1, 4 * count + 1), count))
    world = World(seed, node_ids, port_unreachable=seed % 2 == 0)
    net = world.net
    for i in node_ids:
        net.call_at(rng.uniform(0, 0.3), lambda i=i: world.start(i))

    # proposals: each node sends at its own rate, sometimes large multi-fragment messages
    def schedule_proposals(node_id: int, until: float) -> None:
        t = rng.uniform(0, 0.5)
        rate = rng.choice([2, 5, 20])
        while t < until:
            size = 40 if rng.random() < 0.9 else rng.randint(1500, 6000)
            safe = rng.random() < 0.1
            net.call_at(t, lambda s=size, f=safe: world.propose(node_id, s, f))
            t += rng.expovariate(rate)

    for i in node_ids:
        schedule_proposals(i, fault_time)

    # faults
    crashed: set[int] = set()
    t = rng.uniform(0.5, 1.5)
    while t < fault_time:
        kind = rng.choice(["loss", "dup", "jitter", "crash", "restart", "partition", "heal"])
        if kind == "loss":
            p = rng.choice([0.0, 0.01, 0.05, 0.2])
            net.call_at(t, lambda p=p: setattr(net.faults, "loss", p))
        elif kind == "dup":
            p = rng.choice([0.0, 0.05, 0.2])
            net.call_at(t, lambda p=p: setattr(net.faults, "duplicate", p))
        elif kind == "jitter":
            d = rng.choice([0.002, 0.01, 0.05])
            net.call_at(t, lambda d=d: setattr(net.faults, "max_delay", d))
        elif kind == "crash" and len(crashed) < count - 1:
            victim = rng.choice([i for i in node_ids if i not in crashed])
            crashed.add(victim)
            net.call_at(t, lambda v=victim: world.crash(v))
        elif kind == "restart" and crashed:
            back = rng.choice(sorted(crashed))
            crashed.discard(back)
            net.call_at(t, lambda b=back: world.start(b))
        elif kind == "partition":
            shuffled = node_ids[:]
            rng.shuffle(shuffled)
            cut = rng.randint(1, max(1, count - 1))
            groups = [shuffled[:cut], shuffled[cut:]]
            net.call_at(t, lambda g=groups: net.partition(g))
        elif kind == "heal":
            net.call_at(t, net.heal)
        t += rng.expovariate(1.0)

    # the faults stop: heal, no loss, restart some of the crashed nodes
    def calm() -> None:
        net.heal()
        net.faults = Faults()

    net.call_at(fault_time, calm)
    for i in sorted(crashed):
        if rng.random() < 0.5:
            net.call_at(fault_time, lambda i=i: world.start(i))
    world.run_until(fault_time)
    deadline = fault_time + CONVERGENCE_BOUND_S
    while not world.converged():
        if net.now >= deadline:
            states = {
                i: (n.ring.state.value, n.ring.log.members if n.ring.log else None)
                for i, n in world.nodes.items()
                if n.ring is not None
            }
            raise Violation(
                f"no single ring of the live nodes {world.live()} within "
                f"{CONVERGENCE_BOUND_S:.1f}s after the faults stopped: {states}"
            )
        world.run_until(net.now + 0.01)
    converge_s = net.now - fault_time
    # messages still flow, to everyone, in the one ring
    probes = [world.propose(i) for i in world.live()]
    world.run_until(net.now + 2.0)
    for i in world.live():
        key = world.nodes[i].key
        got = set(world.checker.delivered.get(key, []))
        lost = [p for p in probes if p not in got]
        if lost:
            raise Violation(f"node {i} did not deliver {lost[:2]} after the ring formed")
    return Outcome(seed, count, converge_s, world.checker.deliveries, len(net._heap))
