"""The ``memory`` transport: an in-process network for simulation.

:class:`MemoryNetwork` is a seeded, virtual-time world: one ``random.Random`` decides every
delay, loss, duplicate and (through jitter) reordering, and a heap of timed events is run
in order, so a given seed replays exactly. Partitions split the nodes into groups that
cannot hear each other. :class:`MemoryTransport` is the Transport driver over it; the
simulation harness usually talks to the network directly.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hactl.core.drivers import Transport
from hactl.core.errors import ConfigError
from hactl.core.hookspecs import hookimpl

Handler = Callable[[int, bytes], None]


@dataclass
class Faults:
    """Fault rates of the network; change them at any time."""

    loss: float = 0.0  # probability a datagram copy is dropped
    duplicate: float = 0.0  # probability a copy is delivered twice
    min_delay: float = 0.0005  # seconds
    max_delay: float = 0.002  # jitter between copies is what reorders them


@dataclass
class MemoryNetwork:
    """Virtual clock + event heap + seeded network between registered nodes."""

    rng: random.Random
    faults: Faults = field(default_factory=Faults)
    now: float = 0.0

    def __post_init__(self) -> None:
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._handlers: dict[int, Handler] = {}
        self._group: dict[int, int] = {}  # node -> partition group; absent = group 0
        self.stats = {"sent": 0, "delivered": 0, "lost": 0, "duplicated": 0, "cut": 0}

    # ------------------------------------------------------------------ nodes

    def attach(self, node: int, handler: Handler) -> None:
        self._handlers[node] = handler

    def detach(self, node: int) -> None:
        """The node crashed: datagrams in flight to it are lost."""
        self._handlers.pop(node, None)

    @property
    def nodes(self) -> list[int]:
        return sorted(self._handlers)

    # ------------------------------------------------------------------ faults

    def partition(self, groups: Iterable[Iterable[int]]) -> None:
        """Only nodes of the same group hear each other (unlisted nodes: group 0)."""
        self._group = {node: index + 1 for index, group in enumerate(groups) for node in group}

    def heal(self) -> None:
        self._group = {}

    def connected(self, a: int, b: int) -> bool:
        return self._group.get(a, 0) == self._group.get(b, 0)

    # ------------------------------------------------------------------ time

    def call_at(self, when: float, action: Callable[[], None]) -> None:
        heapq.heappush(self._heap, (max(when, self.now), next(self._order), action))

    def step(self) -> bool:
        """Run the next event; False when there is none."""
        if not self._heap:
            return False
        when, _, action = heapq.heappop(self._heap)
        self.now = max(self.now, when)
        action()
        return True

    def run_until(self, when: float) -> None:
        while self._heap and self._heap[0][0] <= when:
            self.step()
        self.now = max(self.now, when)

    # ------------------------------------------------------------------ datagrams

    def send(self, source: int, data: bytes, to: int | None = None) -> None:
        targets = [to] if to is not None else [n for n in self._handlers if n != source]
        for target in targets:
            self.stats["sent"] += 1
            if not self.connected(source, target):
                self.stats["cut"] += 1
                continue
            if self.rng.random() < self.faults.loss:
                self.stats["lost"] += 1
                continue
            copies = 2 if self.rng.random() < self.faults.duplicate else 1
            self.stats["duplicated"] += copies - 1
            for _ in range(copies):
                delay = self.rng.uniform(self.faults.min_delay, self.faults.max_delay)
                self.call_at(self.now + delay, self._deliverer(source, target, data))

    def _deliverer(self, source: int, target: int, data: bytes) -> Callable[[], None]:
        def deliver() -> None:
            handler = self._handlers.get(target)
            # a partition that started while the datagram flew cuts it too
            if handler is not None and self.connected(source, target):
                self.stats["delivered"] += 1
                handler(source, data)

        return deliver


class MemoryTransport(Transport):
    """The Transport driver for one node of a MemoryNetwork. Datagrams arrive when the
    network's owner runs its events (``step``/``run_until``)."""

    def __init__(self, network: MemoryNetwork, node: int, mtu: int = 1500) -> None:
        self.network = network
        self.node = node
        self.mtu = mtu
        self._on_datagram: Callable[[str, bytes], None] | None = None

    async def start(self, on_datagram: Callable[[str, bytes], None]) -> None:
        self._on_datagram = on_datagram
        self.network.attach(self.node, lambda source, data: on_datagram(f"mem:{source}", data))

    def send(self, data: bytes, to: int | None = None) -> None:
        self.network.send(self.node, data, to)

    async def stop(self) -> None:
        self.network.detach(self.node)
        self._on_datagram = None

    def status(self) -> Mapping[str, object]:
        return {"transport": "memory", "node": self.node, "peers": self.network.nodes}


@hookimpl
def hactl_transport(name: str, options: Mapping[str, Any]) -> Transport | None:
    """``memory``: options ``network`` (a MemoryNetwork) and ``nodeid``."""
    if name != "memory":
        return None
    network = options.get("network")
    if not isinstance(network, MemoryNetwork):
        raise ConfigError(
            "the memory transport needs a MemoryNetwork in its options",
            where="totem.transport",
            hint="memory is for simulations and tests; use knet, udpu or udp for a cluster",
        )
    return MemoryTransport(network, int(options["nodeid"]), int(options.get("netmtu", 1500)))
