"""The asyncio endpoint of the UDP-based transports: one bound socket, its datagrams handed
to a callback, and the ICMP errors that say a peer is unreachable."""

from __future__ import annotations

import asyncio
import errno
import socket
import struct
from collections.abc import Callable
from typing import cast

#: ee_errno of sock_extended_err: the ICMP answers that say "nobody there"
_UNREACHABLE_ERRNOS = frozenset({errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH})
_EXTENDED_ERR = struct.Struct("=IBBBB")  # ee_errno, ee_origin, ee_type, ee_code, ee_pad


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
