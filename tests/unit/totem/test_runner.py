"""The asyncio runner over the memory transport's driver (the network pumped in real
time): three rings form, seal and open every datagram, and agree on order."""

from __future__ import annotations

import asyncio
import random

from hactl.core.plugins import PluginHost
from hactl.core.totem.crypto import CryptoConfig, PacketSealer
from hactl.core.totem.params import TotemParams
from hactl.core.totem.ring import ConfigChange, Delivery, Event, Ring
from hactl.core.totem.runner import TotemRunner
from hactl.plugins.transports.memory import MemoryNetwork

SIZES: list[int] = []
Outcome = tuple[dict[int, list[Event]], dict[int, int], dict[int, PacketSealer]]


async def _three_runners() -> Outcome:
    loop = asyncio.get_running_loop()
    network = MemoryNetwork(random.Random(5), now=loop.time())
    original_send = network.send

    def measured_send(source: int, data: bytes, to: int | None = None) -> None:
        SIZES.append(len(data))
        original_send(source, data, to)

    network.send = measured_send  # type: ignore[method-assign]
    host = PluginHost()
    events: dict[int, list[Event]] = {i: [] for i in (1, 2, 3)}
    persisted: dict[int, int] = {}
    runners, sealers = {}, {}
    for i in (1, 2, 3):
        transport = host.transport("memory", {"network": network, "nodeid": i})
        sealers[i] = PacketSealer(
            cluster_name="t",
            node_id=i,
            session=i,
            authkey=bytes(200),
            config=CryptoConfig("aes256", "sha256"),
        )
        runners[i] = TotemRunner(
            Ring(i, TotemParams(token=500, hold=50, netmtu=65536)),  # transport: 1500
            transport,
            sealers[i],
            on_event=events[i].append,
            persist_ring_seq=lambda seq, i=i: persisted.__setitem__(i, seq),
        )

    async def pump() -> None:
        while True:
            network.run_until(loop.time())
            await asyncio.sleep(0.001)

    pumping = asyncio.create_task(pump())
    try:
        for runner in runners.values():
            await runner.start()

        def one_ring() -> bool:
            lasts = [
                [e for e in events[i] if isinstance(e, ConfigChange) and not e.transitional]
                for i in (1, 2, 3)
            ]
            return all(last and last[-1].members == (1, 2, 3) for last in lasts)

        for _ in range(500):
            if one_ring():
                break
            await asyncio.sleep(0.01)
        assert one_ring()
        for n in range(30):
            runners[1 + n % 3].propose(f"r{n}".encode() + bytes(n * 300))
        for _ in range(500):
            if all(sum(isinstance(e, Delivery) for e in events[i]) == 30 for i in (1, 2, 3)):
                break
            await asyncio.sleep(0.01)
    finally:
        pumping.cancel()
        for runner in runners.values():
            await runner.stop()
    return events, persisted, sealers


def test_runners_over_the_memory_transport() -> None:
    events, persisted, sealers = asyncio.run(_three_runners())
    orders = [[e.payload for e in events[i] if isinstance(e, Delivery)] for i in (1, 2, 3)]
    assert len(orders[0]) == 30 and orders[0] == orders[1] == orders[2]
    assert {len(p) for p in orders[0]} >= {2 + 29 * 300 + 1}  # fragmented and reassembled
    assert set(persisted) == {1, 2, 3}  # ring seqs handed over for persistence
    assert all(s.counters["opened"] > 0 and s.counters["bad_auth"] == 0 for s in sealers.values())
    assert max(SIZES) <= 1500  # netmtu 65536, but the transport carries 1500: the ring fits
