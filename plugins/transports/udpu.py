"""The ``udpu`` transport: unicast UDP to every member of the nodelist.

Each node binds its ``ring0_addr`` on ``mcastport``; a datagram for everyone is sent as one
copy per other node, a token to one node. Datagrams from addresses outside the nodelist
are dropped (Corosync's ``block_unlisted_ips: yes``). A peer whose address answered ICMP
unreachable (its daemon is gone from a live host) is reported unreachable until a datagram
from it arrives. Options: see ``common``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from hactl.core.drivers import Transport
from hactl.core.hookspecs import hookimpl
from hactl.plugins.transports.common import (
    DEFAULT_PORT,
    datagram_mtu,
    option_int,
    read_nodelist,
    udp_socket,
)

if TYPE_CHECKING:
    from hactl.plugins.transports.endpoint import DatagramEndpoint


class UdpuTransport(Transport):
    def __init__(self, options: Mapping[str, Any]) -> None:
        self.nodeid, peers = read_nodelist(options)
        self.port = option_int(options, "mcastport", DEFAULT_PORT, 1, 65535)
        self.mtu = datagram_mtu(options, 1500)
        self.bind = (peers[self.nodeid].addresses[0], self.port)
        self.addresses = {
            nodeid: (peer.addresses[0], self.port)
            for nodeid, peer in peers.items()
            if nodeid != self.nodeid
        }
        self._known = {addr[0] for addr in self.addresses.values()}
        self._nodes_at = {address: nodeid for nodeid, address in self.addresses.items()}
        self._endpoint: DatagramEndpoint | None = None
        self.dropped_unlisted = 0
        self.unreachable: frozenset[int] = frozenset()

    async def start(self, on_datagram: Callable[[str, bytes], None]) -> None:
        from hactl.plugins.transports.endpoint import open_endpoint

        def receive(data: bytes, addr: tuple[str, int]) -> None:
            if addr[0] in self._known:
                nodeid = self._nodes_at.get((addr[0], addr[1]))
                if nodeid in self.unreachable:
                    self._set_unreachable(self.unreachable - {nodeid})
                on_datagram(f"{addr[0]}:{addr[1]}", data)
            else:
                self.dropped_unlisted += 1

        def refused(addr: tuple[str, int]) -> None:
            nodeid = self._nodes_at.get(addr)
            if nodeid is not None and nodeid not in self.unreachable:
                self._set_unreachable(self.unreachable | {nodeid})

        sock = udp_socket(self.bind, recverr=True)
        self._endpoint = await open_endpoint(sock, receive, refused)

    def _set_unreachable(self, nodes: frozenset[int]) -> None:
        self.unreachable = nodes
        self._report_unreachable(nodes)

    def send(self, data: bytes, to: int | None = None) -> None:
        endpoint = self._endpoint
        if endpoint is None:
            return
        if to is None:
            for address in self.addresses.values():
                endpoint.sendto(data, address)
        elif to in self.addresses:
            endpoint.sendto(data, self.addresses[to])

    async def stop(self) -> None:
        if self._endpoint is not None:
            self._endpoint.close()
            self._endpoint = None

    def status(self) -> Mapping[str, object]:
        return {
            "transport": "udpu",
            "bind": f"{self.bind[0]}:{self.bind[1]}",
            "peers": {n: f"{a[0]}:{a[1]}" for n, a in sorted(self.addresses.items())},
            "dropped_unlisted": self.dropped_unlisted,
            "unreachable": sorted(self.unreachable),
        }


@hookimpl
def hactl_transport(name: str, options: Mapping[str, Any]) -> Transport | None:
    return UdpuTransport(options) if name == "udpu" else None
