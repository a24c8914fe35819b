"""What the UDP-based transports share: reading the nodelist from the transport options
and a UDP socket with large buffers (its asyncio endpoint is in ``endpoint``, imported when
a transport starts, so that importing a transport plugin does not import asyncio).

Options (a mapping, as the daemon builds it from the totem section and the nodelist)::

    nodeid      this node's id
    nodelist    [{"nodeid": 1, "ring0_addr": "10.0.0.1", "ring1_addr": ...}, ...]
    mcastport   UDP port (default 5405); knet link N uses mcastport + N unless the
                link says otherwise
    netmtu      largest datagram (default 1500; knet's 65536 is clamped to what UDP carries)
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hactl.core.errors import ConfigError

DEFAULT_PORT = 5405
#: the largest UDP payload over IPv4
UDP_MAX = 65507
SOCKET_BUFFER = 8 << 20
#: Linux's socket options that queue ICMP errors with the address they concern
IP_RECVERR, IPV6_RECVERR = 11, 25


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
