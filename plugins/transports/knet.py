"""The ``knet`` transport: knet-like multi-link UDP.

Each node has up to 8 links (``ringN_addr`` in the nodelist; link N listens on
``mcastport + N`` unless its interface section gives a port). Every link to every peer is
watched with heartbeats: a ping every ``knet_ping_interval`` ms, answered by a pong; a
link is up after ``knet_pong_count`` pongs and down when no pong came for
``knet_ping_timeout`` ms (defaults, as Corosync: token / (pong_count * 2) and token /
pong_count). Data goes, per peer, over the links ``link_mode`` picks among those up:

* ``passive``: the one with the highest ``knet_link_priority`` (ties: lowest link number);
* ``active``: all of them (totem drops the copies);
* ``rr``: the next one in turn, packet by packet.

Losing one link of several therefore changes nothing above the transport; losing all of
them to a peer makes its packets stop, and totem forms a new ring without it: the peer is
reported unreachable (``watch_reachability``), so totem need not wait out the consensus
timeout for it once the token is lost.

Options, besides those of ``common``: ``link_mode``, ``token`` (to derive the heartbeat
defaults) and ``links``: ``{link number: {mcastport, knet_link_priority,
knet_ping_interval, knet_ping_timeout, knet_pong_count}}``.
Heartbeats carry no totem data and are not sealed: a forged pong can keep a dead link
looking up (then totem sees the loss), never inject a message.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hactl.core.drivers import Transport
from hactl.core.errors import ConfigError
from hactl.core.hookspecs import hookimpl
from hactl.plugins.transports.common import (
    DEFAULT_PORT,
    datagram_mtu,
    option_int,
    read_nodelist,
    udp_socket,
)

if TYPE_CHECKING:
    import asyncio

    from hactl.plugins.transports.endpoint import DatagramEndpoint

MAX_LINKS = 8
LINK_MODES = ("passive", "active", "rr")
_FRAME = struct.Struct(">2sBBI")  # magic, kind, link, sender
_PING = struct.Struct(">d")
_MAGIC = b"KN"
_DATA, _PING_KIND, _PONG_KIND = 1, 2, 3


@dataclass
class LinkState:
    up: bool = False
    pongs: int = 0  # consecutive pongs since the link was last down
    last_pong: float | None = None
    latency_ms: float = 0.0


class LinkMonitor:
    """Link state per (peer, link), and the choice of links per packet. Pure: the caller
    passes the time and does the sending."""

    def __init__(
        self,
        peers: list[int],
        priorities: Mapping[int, int],
        *,
        mode: str,
        ping_timeout: float,
        pong_count: int,
    ) -> None:
        self.priorities = dict(priorities)
        self.mode = mode
        self.ping_timeout = ping_timeout
        self.pong_count = pong_count
        self.links = {(p, n): LinkState() for p in peers for n in priorities}
        self._rr: dict[int, int] = {}

    def pong(self, peer: int, link: int, sent_at: float, now: float) -> bool:
        """Record a pong; True when it brought the link up."""
        state = self.links.get((peer, link))
        if state is None:
            return False
        state.last_pong = now
        state.latency_ms = max(0.0, now - sent_at) * 1000
        state.pongs += 1
        if not state.up and state.pongs >= self.pong_count:
            state.up = True
            return True
        return False

    def expire(self, now: float) -> list[tuple[int, int]]:
        """Links that just went down (no pong for ping_timeout)."""
        down = []
        for key, state in self.links.items():
            late = state.last_pong is None or now - state.last_pong > self.ping_timeout
            if late and (state.up or state.pongs):
                state.up, state.pongs = False, 0
                down.append(key)
        return down

    def up_links(self, peer: int) -> list[int]:
        return [n for n in sorted(self.priorities) if self.links[(peer, n)].up]

    def routes(self, peer: int) -> list[int]:
        """The links one packet to ``peer`` goes over."""
        up = self.up_links(peer)
        if not up:
            return []
        if self.mode == "active":
            return up
        if self.mode == "rr":
            turn = self._rr.get(peer, 0)
            self._rr[peer] = turn + 1
            return [up[turn % len(up)]]
        return [max(up, key=lambda n: (self.priorities[n], -n))]


class KnetTransport(Transport):
    def __init__(self, options: Mapping[str, Any]) -> None:
        self.nodeid, peers = read_nodelist(options, links=MAX_LINKS)
        mine = peers[self.nodeid].addresses
        link_numbers = [n for n in range(MAX_LINKS) if mine[n]]
        base_port = option_int(options, "mcastport", DEFAULT_PORT, 1, 65535)
        token = option_int(options, "token", 3000, 1, 10_000_000)
        link_options: Mapping[Any, Any] = options.get("links") or {}
        mode = str(options.get("link_mode", "passive"))
        if mode not in LINK_MODES:
            raise ConfigError(
                f"unknown link_mode {mode!r}", where="totem.link_mode", hint=", ".join(LINK_MODES)
            )
        self.mtu = datagram_mtu(options, 65536) - _FRAME.size
        self.ports: dict[int, int] = {}
        priorities: dict[int, int] = {}
        pong_counts, intervals, timeouts = [], [], []
        for n in link_numbers:
            link = link_options.get(n) or link_options.get(str(n)) or {}
            self.ports[n] = option_int(link, "mcastport", base_port + n, 1, 65535)
            priorities[n] = max(1, option_int(link, "knet_link_priority", 1, 0, 255))
            pong = option_int(link, "knet_pong_count", 2, 1, 255)
            pong_counts.append(pong)
            intervals.append(option_int(link, "knet_ping_interval", token // (pong * 2), 1, 10**7))
            timeouts.append(option_int(link, "knet_ping_timeout", token // pong, 1, 10**7))
        self.ping_interval = min(intervals) / 1000
        self.addresses = {
            (peer.nodeid, n): (peer.addresses[n], self.ports[n])
            for peer in peers.values()
            if peer.nodeid != self.nodeid
            for n in link_numbers
            if peer.addresses[n]
        }
        self.sources = {address[0]: key[0] for key, address in self.addresses.items()}
        self.monitor = LinkMonitor(
            sorted(p for p in peers if p != self.nodeid),
            priorities,
            mode=mode,
            ping_timeout=max(timeouts) / 1000,
            pong_count=max(pong_counts),
        )
        for key in list(self.monitor.links):
            if key not in self.addresses:  # the peer has no address on that link
                del self.monitor.links[key]
        self.binds = {n: (mine[n], self.ports[n]) for n in link_numbers}
        self._endpoints: dict[int, DatagramEndpoint] = {}
        self._heartbeat: asyncio.Task[None] | None = None
        self.link_changes: list[tuple[float, int, int, bool]] = []
        self.dropped = 0
        self._reached: set[int] = set()  # peers that had a link up at some time
        self.unreachable: frozenset[int] = frozenset()

    def _peers_without_links(self) -> frozenset[int]:
        """Peers that had a link up and now have none (a peer not reached yet is
        unknown, not unreachable: its links may simply not be up yet)."""
        up = {p for p, _ in self.addresses if self.monitor.up_links(p)}
        self._reached |= up
        return frozenset(self._reached - up)

    def _links_changed(self) -> None:
        unreachable = self._peers_without_links()
        if unreachable != self.unreachable:
            self.unreachable = unreachable
            self._report_unreachable(unreachable)

    async def start(self, on_datagram: Callable[[str, bytes], None]) -> None:
        import asyncio

        from hactl.plugins.transports.endpoint import open_endpoint

        for link, bind in self.binds.items():
            self._endpoints[link] = await open_endpoint(
                udp_socket(bind), self._receiver(link, on_datagram)
            )
        self._heartbeat = asyncio.create_task(self._heartbeats())

    def _receiver(
        self, link: int, on_datagram: Callable[[str, bytes], None]
    ) -> Callable[[bytes, tuple[str, int]], None]:
        def receive(data: bytes, addr: tuple[str, int]) -> None:
            if len(data) < _FRAME.size:
                self.dropped += 1
                return
            magic, kind, their_link, sender = _FRAME.unpack_from(data)
            expected = self.addresses.get((sender, link))
            if magic != _MAGIC or their_link != link or expected is None or expected[0] != addr[0]:
                self.dropped += 1  # not a listed node on this link (block_unlisted_ips)
                return
            if kind == _DATA:
                on_datagram(f"{addr[0]}:{addr[1]}/link{link}", data[_FRAME.size :])
            elif kind == _PING_KIND:
                pong = _FRAME.pack(_MAGIC, _PONG_KIND, link, self.nodeid) + data[_FRAME.size :]
                self._endpoints[link].sendto(pong, expected)
            elif kind == _PONG_KIND and len(data) == _FRAME.size + _PING.size:
                (sent_at,) = _PING.unpack_from(data, _FRAME.size)
                now = time.monotonic()
                if self.monitor.pong(sender, link, sent_at, now):
                    self.link_changes.append((now, sender, link, True))
                    self._links_changed()
            else:
                self.dropped += 1

        return receive

    async def _heartbeats(self) -> None:
        import asyncio

        while True:
            now = time.monotonic()
            expired = self.monitor.expire(now)
            for peer, link in expired:
                self.link_changes.append((now, peer, link, False))
            if expired:
                self._links_changed()
            for (_peer, link), address in self.addresses.items():
                ping = _FRAME.pack(_MAGIC, _PING_KIND, link, self.nodeid) + _PING.pack(now)
                try:
                    self._endpoints[link].sendto(ping, address)
                except OSError:
                    pass  # the interface is down: the link times out
            await asyncio.sleep(self.ping_interval)

    def send(self, data: bytes, to: int | None = None) -> None:
        peers = [to] if to is not None else sorted({p for p, _ in self.addresses})
        for peer in peers:
            for link in self.monitor.routes(peer):
                frame = _FRAME.pack(_MAGIC, _DATA, link, self.nodeid) + data
                endpoint = self._endpoints.get(link)
                if endpoint is not None:
                    endpoint.sendto(frame, self.addresses[(peer, link)])

    async def stop(self) -> None:
        import asyncio

        if self._heartbeat is not None:
            self._heartbeat.cancel()
            try:
                await self._heartbeat
            except asyncio.CancelledError:
                pass
        for endpoint in self._endpoints.values():
            endpoint.close()
        self._endpoints.clear()

    def status(self) -> Mapping[str, object]:
        return {
            "transport": "knet",
            "link_mode": self.monitor.mode,
            "links": {
                f"{peer}/{link}": {"up": s.up, "latency_ms": round(s.latency_ms, 3)}
                for (peer, link), s in sorted(self.monitor.links.items())
            },
            "link_changes": [
                {"t": t, "peer": p, "link": n, "up": up} for t, p, n, up in self.link_changes
            ],
            "dropped": self.dropped,
            "unreachable": sorted(self.unreachable),
        }


@hookimpl
def hactl_transport(name: str, options: Mapping[str, Any]) -> Transport | None:
    return KnetTransport(options) if name == "knet" else None
