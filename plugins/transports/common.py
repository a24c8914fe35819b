"""What the UDP-based transports share: reading the nodelist from the transport options
and a datagram endpoint with large socket buffers.

Options (a mapping, as the daemon builds it from the totem section and the nodelist)::

    nodeid      this node's id
    nodelist    [{"nodeid": 1, "ring0_addr": "10.0.0.1", "ring1_addr": ...}, ...]
    mcastport   UDP port (default 5405); knet link N uses mcastport + N unless the
                link says otherwise
    netmtu      largest datagram (default 1500; knet's 65536 is clamped to what UDP carries)
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from hactl.core.errors import ConfigError

DEFAULT_PORT = 5405
#: the largest UDP payload over IPv4
UDP_MAX = 65507
SOCKET_BUFFER = 8 << 20
#: Linux's socket options that queue ICMP errors with the address they concern
IP_RECVERR, IPV6_RECVERR = 11, 25
#: ee_errno of sock_extended_err: the ICMP answers that say "nobody there"
_UNREACHABLE_ERRNOS = frozenset({errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH})
_EXTENDED_ERR = struct.Struct("=IBBBB")  # ee_errno, ee_origin, ee_type, ee_code, ee_pad


@dataclass(frozen=True)
class Peer:
    nodeid: int
    addresses: tuple[str, ...]  # ringX_addr, by link number ("" where absent)


def option_int(options: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    raw = options.get(name, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{name} must be a number, not {raw!r}", where=f"totem.{name}", hint=f"{low}..{high}"
        ) from None
    if not low <= value <= high:
        raise ConfigError(
            f"{name} {value} is out of range", where=f"totem.{name}", hint=f"{low}..{high}"
        )
    return value


def datagram_mtu(options: Mapping[str, Any], default: int) -> int:
    """``netmtu`` as a datagram size this transport can send."""
    return min(option_int(options, "netmtu", default, 576, 65536), UDP_MAX)


def _check_address(value: str, where: str) -> str:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise ConfigError(
            f"{value!r} is not an IP address",
            where=where,
            hint="write addresses numerically (name resolution is the daemon's job)",
        ) from None
    return value


def read_nodelist(options: Mapping[str, Any], links: int = 1) -> tuple[int, dict[int, Peer]]:
    """This node's id and every node of the nodelist, with up to ``links`` addresses."""
    nodes = options.get("nodelist")
    if not isinstance(nodes, list | tuple) or not nodes:
        raise ConfigError(
            "the nodelist is empty",
            where="nodelist",
            hint="list every node with its nodeid and ring0_addr",
        )
    peers: dict[int, Peer] = {}
    for index, node in enumerate(nodes):
        where = f"nodelist.node[{index}]"
        if not isinstance(node, Mapping) or "nodeid" not in node or "ring0_addr" not in node:
            raise ConfigError("a node needs nodeid and ring0_addr", where=where)
        nodeid = option_int(node, "nodeid", 0, 1, 0xFFFFFFFF)
        if nodeid in peers:
            raise ConfigError(f"nodeid {nodeid} appears twice", where=where)
        addresses = tuple(
            _check_address(str(node[f"ring{n}_addr"]), f"{where}.ring{n}_addr")
            if node.get(f"ring{n}_addr")
            else ""
            for n in range(links)
        )
        peers[nodeid] = Peer(nodeid, addresses)
    me = option_int(options, "nodeid", 0, 1, 0xFFFFFFFF)
    if me not in peers:
        raise ConfigError(
            f"this node's id {me} is not in the nodelist",
            where="nodelist",
            hint="every node, this one included, must be listed",
        )
    return me, peers


class DatagramEndpoint(asyncio.DatagramProtocol):
    """One bound UDP socket; hands each datagram and its source to ``on_datagram``. With
    ``on_refused`` (its socket made by ``udp_socket(..., recverr=True)``) also each address
    an ICMP error said is unreachable: a crashed peer's port on a live host answers port
    unreachable."""

    def __init__(
        self,
        on_datagram: Callable[[bytes, tuple[str, int]], None],
        on_refused: Callable[[tuple[str, int]], None] | None = None,
        sock: socket.socket | None = None,
    ) -> None:
        self.on_datagram = on_datagram
        self.on_refused = on_refused
        self.sock = sock
        self.transport: asyncio.DatagramTransport | None = None
        self.errors = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.on_datagram(data, addr)

    def error_received(self, exc: Exception) -> None:
        self.errors += 1  # ICMP unreachable from a peer that is down: totem copes
        for address in self._drain_errors():
            if self.on_refused is not None:
                self.on_refused(address)

    def _drain_errors(self) -> list[tuple[str, int]]:
        """Read the socket's error queue (IP_RECVERR): the destinations ICMP called
        unreachable. Always emptied, or the socket would stay readable forever."""
        refused: list[tuple[str, int]] = []
        while self.sock is not None:
            try:
                _, ancillary, _, address = self.sock.recvmsg(1, 512, socket.MSG_ERRQUEUE)
            except OSError:  # BlockingIOError: the queue is empty
                break
            for _level, _kind, data in ancillary:
                if len(data) >= _EXTENDED_ERR.size:
                    ee_errno = _EXTENDED_ERR.unpack_from(data)[0]
                    if ee_errno in _UNREACHABLE_ERRNOS and address:
                        refused.append((str(address[0]), int(address[1])))
        return refused

    def sendto(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.transport is None:
            return
        if self.sock is None or self.on_refused is None:
            self.transport.sendto(data, addr)
            return
        # With IP_RECVERR an ICMP error about another peer is returned by the next send,
        # which then sends nothing: take the error and send again.
        for _ in range(4):
            try:
                self.sock.sendto(data, addr)
                return
            except BlockingIOError:
                return  # the socket buffer is full: dropped, as UDP may; totem resends
            except OSError as exc:
                if exc.errno not in _UNREACHABLE_ERRNOS:
                    raise
                self.error_received(exc)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
            self.transport = None


def udp_socket(
    bind: tuple[str, int], *, reuse: bool = False, recverr: bool = False
) -> socket.socket:
    """A bound non-blocking UDP socket; ``recverr`` queues ICMP errors with the address
    they concern (Linux's IP_RECVERR), for an endpoint with ``on_refused``."""
    family = socket.AF_INET6 if ":" in bind[0] else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        if reuse:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):
            sock.setsockopt(socket.SOL_SOCKET, option, SOCKET_BUFFER)
        if recverr and family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVERR, 1)
        elif recverr:
            sock.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
        sock.bind(bind)
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"cannot bind {bind[0]}:{bind[1]}: {exc.strerror}",
            where="totem.interface",
            hint="is another cluster node (or corosync) running here on that address and port?",
        ) from None
    sock.setblocking(False)
    return sock


async def open_endpoint(
    sock: socket.socket,
    on_datagram: Callable[[bytes, tuple[str, int]], None],
    on_refused: Callable[[tuple[str, int]], None] | None = None,
) -> DatagramEndpoint:
    loop = asyncio.get_running_loop()
    _, endpoint = await loop.create_datagram_endpoint(
        lambda: DatagramEndpoint(on_datagram, on_refused, sock), sock=sock
    )
    return endpoint
