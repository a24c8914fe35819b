"""The asyncio shell around the pure ring: the only totem code that touches a clock, the
event loop and a transport. Each call into the ring returns a Ready; the runner seals and
sends its datagrams, hands its events to the application, persists the ring seq and arms
one loop timer for the next deadline.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from hactl.core.drivers import Transport
from hactl.core.totem.crypto import PacketSealer
from hactl.core.totem.ring import Event, Ready, Ring

log = logging.getLogger("hactl.totem")


class TotemRunner:
    """Runs one Ring over one Transport on the running asyncio loop."""

    def __init__(
        self,
        ring: Ring,
        transport: Transport,
        sealer: PacketSealer,
        *,
        on_event: Callable[[Event], None],
        persist_ring_seq: Callable[[int], None] | None = None,
    ) -> None:
        self.ring = ring
        self.transport = transport
        ring.limit_mtu(transport.mtu)  # the ring never builds a datagram the transport drops
        self.sealer = sealer
        self.on_event = on_event
        self.persist_ring_seq = persist_ring_seq
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self.send_errors = 0

    def _now(self) -> float:
        assert self._loop is not None
        return self._loop.time()

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.transport.watch_reachability(self._on_unreachable)
        await self.transport.start(self._on_datagram)
        self._apply(self.ring.start(self._now()))

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        await self.transport.stop()

    def propose(self, payload: bytes, *, safe: bool = False) -> None:
        """Queue ``payload`` for ordered delivery (raises Backpressure when full)."""
        self._apply(self.ring.propose(self._now(), payload, safe=safe))

    def _on_datagram(self, source: str, datagram: bytes) -> None:
        packet = self.sealer.open(datagram)
        if packet is not None:
            self._apply(self.ring.receive(self._now(), packet))

    def _on_unreachable(self, nodes: frozenset[int]) -> None:
        log.info("transport cannot reach nodes %s", sorted(nodes))
        self._apply(self.ring.set_unreachable(self._now(), nodes))

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = None
        self._apply(self.ring.tick(self._now()))

    def _apply(self, ready: Ready) -> None:
        for send in ready.sends:
            try:
                self.transport.send(self.sealer.seal(send.data), send.to)
            except OSError as exc:  # a peer's address unreachable: totem retransmits
                self.send_errors += 1
                log.debug("send to %s failed: %s", send.to, exc)
        if ready.persist_ring_seq is not None and self.persist_ring_seq is not None:
            self.persist_ring_seq(ready.persist_ring_seq)
        for event in ready.events:
            self.on_event(event)
        deadline = ready.next_deadline
        if deadline is not None and deadline != self._timer_at:
            if self._timer is not None:
                self._timer.cancel()
            assert self._loop is not None
            self._timer_at = deadline
            self._timer = self._loop.call_at(deadline, self._on_timer)
