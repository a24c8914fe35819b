"""The ``udp`` transport: IP multicast.

A datagram for everyone goes once to ``mcastaddr:mcastport``; a token goes by unicast to
the next node's ``ring0_addr`` on the same port. Each node binds the port on every
address, joins the group on the interface holding its ``ring0_addr``, and sends
multicast from that interface with ``ttl`` (default 1). Datagrams from addresses outside
the nodelist are dropped. Options: those of ``common``, plus ``mcastaddr`` (required) and
``ttl`` (0..255).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Mapping
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
    from hactl.plugins.transports.endpoint import DatagramEndpoint


class UdpTransport(Transport):
    def __init__(self, options: Mapping[str, Any]) -> None:
        self.nodeid, peers = read_nodelist(options)
        raw_group = str(options.get("mcastaddr", ""))
        try:
            group = ipaddress.IPv4Address(raw_group)
        except ValueError:
            group = None
        if group is None or not group.is_multicast:
            raise ConfigError(
                f"mcastaddr {raw_group!r} is not an IPv4 multicast address",
                where="totem.interface.mcastaddr",
                hint="e.g. 239.192.0.1 (an administratively scoped group)",
            )
        self.group = str(group)
        self.port = option_int(options, "mcastport", DEFAULT_PORT, 1, 65535)
        self.ttl = option_int(options, "ttl", 1, 0, 255)
        self.mtu = datagram_mtu(options, 1500)
        self.local = peers[self.nodeid].addresses[0]
        self.addresses = {
            nodeid: (peer.addresses[0], self.port)
            for nodeid, peer in peers.items()
            if nodeid != self.nodeid
        }
        self._known = {address[0] for address in self.addresses.values()}
        self._endpoint: DatagramEndpoint | None = None
        self.dropped_unlisted = 0

    def _socket(self) -> socket.socket:
        sock = udp_socket(("0.0.0.0", self.port), reuse=True)
        local = socket.inet_aton(self.local)
        try:
            sock.setsockopt(
                socket.IPPROTO_IP,
                socket.IP_ADD_MEMBERSHIP,
                socket.inet_aton(self.group) + local,
            )
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, local)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, self.ttl)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
        except OSError as exc:
            sock.close()
            raise ConfigError(
                f"cannot join multicast group {self.group} on {self.local}: {exc.strerror}",
                where="totem.interface.mcastaddr",
                hint="is ring0_addr an address of a multicast-capable interface here?",
            ) from None
        return sock

    async def start(self, on_datagram: Callable[[str, bytes], None]) -> None:
        from hactl.plugins.transports.endpoint import open_endpoint

        def receive(data: bytes, addr: tuple[str, int]) -> None:
            if addr[0] in self._known:
                on_datagram(f"{addr[0]}:{addr[1]}", data)
            else:
                self.dropped_unlisted += 1

        self._endpoint = await open_endpoint(self._socket(), receive)

    def send(self, data: bytes, to: int | None = None) -> None:
        if self._endpoint is None:
            return
        if to is None:
            self._endpoint.sendto(data, (self.group, self.port))
        elif to in self.addresses:
            self._endpoint.sendto(data, self.addresses[to])

    async def stop(self) -> None:
        if self._endpoint is not None:
            self._endpoint.close()
            self._endpoint = None

    def status(self) -> Mapping[str, object]:
        return {
            "transport": "udp",
            "mcast": f"{self.group}:{self.port}",
            "ttl": self.ttl,
            "local": self.local,
            "dropped_unlisted": self.dropped_unlisted,
        }


@hookimpl
def hactl_transport(name: str, options: Mapping[str, Any]) -> Transport | None:
    return UdpTransport(options) if name == "udp" else None
