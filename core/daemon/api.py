"""The local API: one JSON object per line on a Unix socket, answered by one line.

Request ``{"op": "cib.get", ...arguments}``; answer ``{"ok": true, "result": …}`` or
``{"ok": false, "error": {"message", "where", "hint", "exit_code"}}`` (a HactlError the
client raises again, so the CLI prints it as if it happened locally).

Who may call: the peer's credentials (SO_PEERCRED) are checked on every connection: root,
the daemon's own user, or a member of the ``haclient`` group; anyone else is refused
(code 401) and the attempt is logged. The socket file is mode 0660, group haclient when
that group exists.
"""

from __future__ import annotations

import asyncio
import grp
import json
import logging
import os
import socket
import struct
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from hactl.core.errors import HactlError

log = logging.getLogger("hactl.api")

Handler = Callable[[dict[str, Any]], Awaitable[Any]]
ADMIN_GROUP = "haclient"
#: how long a refused caller has to send its request before it gets the 401 anyway
REFUSAL_READ_TIMEOUT_S = 2.0
#: the largest request line (a whole CIB fits many times over)
LINE_LIMIT = 256 << 20


class Unauthorized(HactlError):
    exit_code = 4


def _admin_gid() -> int | None:
    try:
        return grp.getgrnam(ADMIN_GROUP).gr_gid
    except KeyError:
        return None


def _peer_groups(pid: int) -> set[int]:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return set()
    for line in status.splitlines():
        if line.startswith("Groups:"):
            return {int(g) for g in line.split()[1:]}
    return set()


def peer_allowed(sock: socket.socket) -> tuple[bool, str]:
    """Whether the process on the other end may use the API, and who it is (for logs)."""
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, gid = struct.unpack("3i", creds)
    who = f"pid {pid} uid {uid} gid {gid}"
    if uid in (0, os.getuid()):
        return True, who
    admin = _admin_gid()
    if admin is not None and (gid == admin or admin in _peer_groups(pid)):
        return True, who
    return False, who


def error_payload(exc: HactlError) -> dict[str, Any]:
    return {
        "message": exc.message,
        "where": exc.where,
        "hint": exc.hint,
        "exit_code": exc.exit_code,
        "lines": exc.lines(),
    }


class ApiServer:
    """Serves ``handlers`` (op name -> coroutine taking the request) on ``path``."""

    def __init__(self, path: Path, handlers: Mapping[str, Handler]) -> None:
        self.path = path
        self.handlers = dict(handlers)
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        if self.path.exists() or self.path.is_symlink():
            self.path.unlink()  # left by a daemon that died; the state lock says we own it
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._server = await asyncio.start_unix_server(
            self._serve, path=str(self.path), limit=LINE_LIMIT
        )
        os.chmod(self.path, 0o660)
        admin = _admin_gid()
        if admin is not None and os.getuid() == 0:
            os.chown(self.path, 0, admin)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        self.path.unlink(missing_ok=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        allowed, who = peer_allowed(sock)
        try:
            if not allowed:
                log.warning("API: refused %s (not root, not in group %s)", who, ADMIN_GROUP)
                # take the request first: answering before it arrives would close the socket
                # under a client still sending, which then sees a broken pipe, not the 401
                try:
                    await asyncio.wait_for(reader.readline(), REFUSAL_READ_TIMEOUT_S)
                except (TimeoutError, ValueError):
                    pass
                await self._answer(
                    writer,
                    {
                        "ok": False,
                        "code": 401,
                        "error": error_payload(
                            Unauthorized(
                                "401 unauthorized: this user may not use the cluster API",
                                hint=f"run as root or as a member of the {ADMIN_GROUP} group",
                            )
                        ),
                    },
                )
                return
            while True:
                line = await reader.readline()
                if not line:
                    return
                await self._answer(writer, await self._dispatch(line, who))
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return
        finally:
            writer.close()

    async def _dispatch(self, line: bytes, who: str) -> dict[str, Any]:
        try:
            request = json.loads(line)
            if not isinstance(request, dict):
                raise ValueError("not an object")
            op = str(request.get("op"))
        except ValueError as exc:
            return {"ok": False, "error": error_payload(HactlError(f"bad API request: {exc}"))}
        handler = self.handlers.get(op)
        if handler is None:
            error = HactlError(f"unknown API operation {op!r}", hint="hactl and its daemon differ?")
            return {"ok": False, "error": error_payload(error)}
        log.debug("API: %s from %s", op, who)
        try:
            return {"ok": True, "result": await handler(request)}
        except HactlError as exc:
            return {"ok": False, "error": error_payload(exc)}
        except Exception as exc:  # a bug in a handler must not kill the daemon
            log.exception("API: %s failed", op)
            error = HactlError(f"internal error in the daemon: {type(exc).__name__}: {exc}")
            return {"ok": False, "error": error_payload(error)}

    @staticmethod
    async def _answer(writer: asyncio.StreamWriter, answer: dict[str, Any]) -> None:
        writer.write(json.dumps(answer, separators=(",", ":")).encode() + b"\n")
        await writer.drain()
