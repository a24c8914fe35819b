"""A standalone totem node, for the multi-process tests and the benchmark::

    python -m hactl.core.totem.tool NODE.json

NODE.json holds ``nodeid``, ``cluster_name``, ``transport`` (a transport plugin name),
``transport_options``, ``crypto`` ({"cipher", "hash"}), ``keyfile`` (or null when crypto
is none), ``params`` (TotemParams fields) and ``state_dir`` (where the ring seq persists).

It prints one JSON object per line on stdout (``ready``, ``config``, ``deliver``,
``stats``, ``error``) and reads commands on stdin, one per line:

    send TEXT                 propose TEXT
    load RATE SECONDS SIZE    propose SIZE-byte stamped messages at RATE per second
    flood COUNT SIZE          propose COUNT stamped messages as fast as the ring takes them
    stats                     print counters and the latency of stamped messages delivered
    reset                     forget the stamped messages seen so far
    quit
"""

from __future__ import annotations

import asyncio
import json
import os
import struct
import sys
import time
from pathlib import Path
from typing import Any

from hactl.core.errors import HactlError
from hactl.core.plugins import PluginHost
from hactl.core.totem.crypto import CryptoConfig, PacketSealer, new_session
from hactl.core.totem.params import TotemParams
from hactl.core.totem.ring import Backpressure, ConfigChange, Event, Ring
from hactl.core.totem.runner import TotemRunner

STAMP = struct.Struct(">2sdIQ")
STAMP_MAGIC = b"\x00B"
FLOOD_PENDING_LIMIT = 2 << 20


def _emit(**fields: Any) -> None:
    sys.stdout.write(json.dumps(fields, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class Node:
    def __init__(self, config: dict[str, Any]) -> None:
        self.nodeid = int(config["nodeid"])
        state_dir = Path(config.get("state_dir") or ".")
        self.seq_file = state_dir / f"ringid_{self.nodeid}"
        ring_seq = int(self.seq_file.read_text()) if self.seq_file.exists() else 0
        params = TotemParams.from_values(config.get("params", {}))
        crypto = CryptoConfig(**config.get("crypto", {}))
        keyfile = config.get("keyfile")
        key = Path(keyfile).read_bytes() if keyfile else None
        self.sealer = PacketSealer(
            cluster_name=str(config.get("cluster_name", "hactl")),
            node_id=self.nodeid,
            session=new_session(int(time.time() * 1000), int.from_bytes(os.urandom(2), "big")),
            authkey=key,
            config=crypto,
        )
        options = dict(config.get("transport_options", {}))
        options.setdefault("nodeid", self.nodeid)
        options.setdefault("netmtu", params.netmtu)
        options.setdefault("token", params.token)  # knet derives its heartbeat from it
        self.transport = PluginHost().transport(str(config["transport"]), options)
        self.ring = Ring(self.nodeid, params, incarnation=int(time.time()), ring_seq=ring_seq)
        self.runner = TotemRunner(
            self.ring,
            self.transport,
            self.sealer,
            on_event=self.on_event,
            persist_ring_seq=self.persist,
        )
        self.counter = 0
        self.latencies: list[float] = []
        self.first_at: float | None = None
        self.last_at: float | None = None
        self.stamped = 0

    def persist(self, seq: int) -> None:
        tmp = self.seq_file.with_suffix(".tmp")
        tmp.write_text(str(seq))
        os.replace(tmp, self.seq_file)

    def on_event(self, event: Event) -> None:
        now = time.monotonic()
        if isinstance(event, ConfigChange):
            _emit(
                event="config",
                transitional=event.transitional,
                ring=str(event.ring),
                members=list(event.members),
                joined=list(event.joined),
                left=list(event.left),
                t=now,
            )
        elif event.payload[:2] == STAMP_MAGIC:
            _, sent_at, _, _ = STAMP.unpack_from(event.payload)
            self.latencies.append(now - sent_at)
            self.stamped += 1
            self.first_at = self.first_at or now
            self.last_at = now
        else:
            _emit(event="deliver", sender=event.sender, text=event.payload.decode(errors="replace"))

    def stamped_payload(self, size: int) -> bytes:
        self.counter += 1
        head = STAMP.pack(STAMP_MAGIC, time.monotonic(), self.nodeid, self.counter)
        return head + bytes(max(0, size - len(head)))

    async def load(self, rate: float, seconds: float, size: int) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        sent = 0
        while (elapsed := loop.time() - start) < seconds:
            due = int(elapsed * rate) + 1
            while sent < due:
                self.runner.propose(self.stamped_payload(size))
                sent += 1
            await asyncio.sleep(max(0.0, (sent / rate) - (loop.time() - start)))

    async def flood(self, count: int, size: int) -> None:
        sent = 0
        while sent < count:
            if self.ring.pending_bytes < FLOOD_PENDING_LIMIT:
                try:
                    self.runner.propose(self.stamped_payload(size))
                    sent += 1
                    continue
                except Backpressure:
                    pass
            await asyncio.sleep(0.0005)

    def stats(self) -> None:
        _emit(
            event="stats",
            nodeid=self.nodeid,
            state=self.ring.state.value,
            ring=str(self.ring.ring_id) if self.ring.ring_id else None,
            members=list(self.ring.members),
            stamped=self.stamped,
            first_at=self.first_at,
            last_at=self.last_at,
            p50_ms=_percentile(self.latencies, 0.5) * 1000,
            p99_ms=_percentile(self.latencies, 0.99) * 1000,
            pending=self.ring.pending,
            cpu_s=time.process_time(),
            ring_stats=self.ring.stats,
            sealer=self.sealer.counters,
            transport=self.transport.status(),
        )

    def reset(self) -> None:
        self.latencies.clear()
        self.first_at = self.last_at = None
        self.stamped = 0

    async def run(self) -> None:
        await self.runner.start()
        _emit(event="ready", nodeid=self.nodeid, t=time.monotonic())
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        tasks: set[asyncio.Task[None]] = set()
        while line := (await reader.readline()).decode().strip():
            command, _, rest = line.partition(" ")
            args = rest.split()
            if command == "send":
                self.runner.propose(rest.encode())
            elif command == "load":
                task = asyncio.create_task(self.load(float(args[0]), float(args[1]), int(args[2])))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            elif command == "flood":
                task = asyncio.create_task(self.flood(int(args[0]), int(args[1])))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            elif command == "stats":
                self.stats()
            elif command == "reset":
                self.reset()
            elif command == "quit":
                break
            else:
                _emit(event="error", message=f"unknown command {command!r}")
        await self.runner.stop()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m hactl.core.totem.tool NODE.json", file=sys.stderr)
        return 2
    try:
        config = json.loads(Path(args[0]).read_text())
        node = Node(config)
        asyncio.run(node.run())
    except HactlError as exc:
        _emit(event="error", message=str(exc))
        return exc.exit_code
    except (OSError, ValueError, KeyError) as exc:
        _emit(event="error", message=f"{args[0]}: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
