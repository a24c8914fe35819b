"""The client side of the local API, used by every online command of the CLI.

``call("status")`` sends one request to the daemon of this node (the socket of
hactl.core.daemon.paths, or the sandbox node chosen with ``--sandbox NODE``) and returns
its result; an error the daemon reports is raised here as the same HactlError.
:class:`LiveCibHandle` is the CIB handle of the running cluster: the configuration
commands use it exactly as they use a file, and its ``push`` goes through the DC with a
version check (a change made by someone else meanwhile refuses the push).
"""

from __future__ import annotations

import json
import socket
from typing import Any

from lxml import etree

from hactl.core.cib.document import CibDocument
from hactl.core.daemon import paths
from hactl.core.drivers import QuorumMember, QuorumStatus
from hactl.core.errors import HactlError

#: long enough for a change to go round the ring and be persisted on every node
DEFAULT_TIMEOUT = 30.0


class DaemonUnreachable(HactlError):
    """No daemon answers on this node."""


class RemoteError(HactlError):
    """An error the daemon reported, printed as it printed it."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(
            str(payload.get("message", "error")),
            where=payload.get("where"),
            hint=payload.get("hint"),
        )
        self.exit_code = int(payload.get("exit_code", 1))


def call(op: str, timeout: float = DEFAULT_TIMEOUT, **arguments: Any) -> Any:
    path = paths.socket_path()
    request = json.dumps({"op": op, **arguments}, separators=(",", ":")).encode() + b"\n"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError):
            raise DaemonUnreachable(
                "no running hactl cluster on this node (no daemon answers)",
                where=str(path),
                hint="work on a CIB file offline with -f FILE (a new file starts empty), "
                "or start a local cluster with `hactl sandbox up`",
            ) from None
        except PermissionError:
            raise DaemonUnreachable(
                "permission denied on the daemon's socket",
                where=str(path),
                hint="run as root or as a member of the haclient group",
            ) from None
        try:
            sock.sendall(request)
            answer = _read_line(sock)
        except TimeoutError:
            raise DaemonUnreachable(
                f"the daemon did not answer {op} within {timeout:g}s",
                where=str(path),
                hint="the cluster may be forming or without a DC; see `hactl status`",
            ) from None
        except OSError as exc:  # the daemon went away mid-request (stopped, crashed)
            raise DaemonUnreachable(
                f"the daemon closed the connection: {exc.strerror or exc}",
                where=str(path),
                hint="it may be stopping or restarting; try again",
            ) from None
    try:
        reply = json.loads(answer)
    except ValueError:
        raise DaemonUnreachable("the daemon's answer is not JSON", where=str(path)) from None
    if not reply.get("ok"):
        raise RemoteError(reply.get("error") or {})
    return reply.get("result")


def _read_line(sock: socket.socket) -> bytes:
    chunks: list[bytes] = []
    while True:
        chunk = sock.recv(1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
        if chunk.endswith(b"\n"):
            break
    data = b"".join(chunks)
    if not data:
        raise DaemonUnreachable("the daemon closed the connection without answering")
    return data


def cluster_status() -> dict[str, Any]:
    """The local daemon's `status`, refused when its cluster services are not running."""
    result: dict[str, Any] = call("status")
    if result.get("running") is False:
        raise HactlError(
            f"the cluster services are not running on this node: {result.get('reason')}",
            where=str(paths.socket_path()),
            hint="start them with `hactl cluster start`",
        )
    return result


class LiveCibHandle:
    """The running cluster's CIB, as a handle of hactl.core.commands.session."""

    def __init__(self) -> None:
        self._base: tuple[int, int] | None = None

    def get(self) -> CibDocument:
        result = call("cib.get")
        doc = CibDocument.from_bytes(result["cib"].encode(), source="live CIB")
        self._base = doc.versions()[:2]
        return doc

    def push(self, doc: CibDocument) -> None:
        """Send ``doc`` to the DC; it is applied only if the configuration is still the
        one ``get`` returned (compare-and-set on admin_epoch and epoch)."""
        if self._base is None:
            self.get()
        assert self._base is not None
        call("cib.push", cib=doc.serialize(pretty=False).decode(), base=list(self._base))

    def push_status(self, before: CibDocument, after: CibDocument) -> None:
        """Send only what changed between two copies of the status section, as a patch the
        DC applies to its current CIB: concurrent writers of different attributes (the
        agents of several nodes) then never undo each other's values."""
        from hactl.core.cib.patch import diff

        patch = diff(before, after)
        if len(patch.findall("change")):
            call("cib.patch", patch=etree.tostring(patch).decode())


def quorum_status(**change: Any) -> QuorumStatus:
    """The local node's quorum state from its daemon (what corosync-quorumtool -s reads),
    after a runtime ``change`` when one is given (``change="unblock"``, or
    ``change="expected_votes", votes=N, force=False``)."""
    data = call("quorum", **change)
    members = tuple(QuorumMember(**member) for member in data.pop("members"))
    return QuorumStatus(**{**data, "flags": tuple(data["flags"]), "members": members})
