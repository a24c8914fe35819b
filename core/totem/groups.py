"""Process groups over the ring (what the Pacemaker daemons use Corosync's CPG for).

A process (node id, pid) joins a named group, leaves it, and sends messages to it; every
node sees the same group memberships change in the same order, because every change is
itself a ring message delivered in agreed order. At a regular configuration change the
members on nodes that left are removed, and each node announces its local memberships
(a SYNC message) so that nodes arriving from other partitions learn them.

Sans-I/O like the ring: :meth:`ProcessGroups.handle` takes a ring event and answers the
group events to hand to local processes and the payloads to propose.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from hactl.core.errors import HactlError
from hactl.core.totem.ring import ConfigChange, Delivery, Event

MAGIC = b"\x00G"
_HEAD = struct.Struct(">2sBH")
_MEMBER = struct.Struct(">II")
_JOIN, _LEAVE, _MESSAGE, _SYNC = 1, 2, 3, 4
MAX_GROUP_NAME = 128


@dataclass(frozen=True, order=True)
class GroupMember:
    node: int
    pid: int


@dataclass(frozen=True)
class GroupConfig:
    """The membership of ``group`` changed."""

    group: str
    members: tuple[GroupMember, ...]
    joined: tuple[GroupMember, ...] = ()
    left: tuple[GroupMember, ...] = ()


@dataclass(frozen=True)
class GroupMessage:
    group: str
    sender: GroupMember
    payload: bytes


GroupEvent = GroupConfig | GroupMessage


def _check_name(group: str) -> bytes:
    raw = group.encode()
    if not raw or len(raw) > MAX_GROUP_NAME:
        raise HactlError(
            f"group name {group!r} must be 1..{MAX_GROUP_NAME} bytes",
            where="process group",
            hint="use a short name such as the daemon's (crmd, attrd, stonith-ng)",
        )
    return raw


class ProcessGroups:
    def __init__(self, node_id: int) -> None:
        self.node_id = node_id
        self.local: set[tuple[str, int]] = set()
        self.view: dict[str, set[GroupMember]] = {}
        self.malformed = 0
        self.syncs_sent = 0

    # ------------------------------------------------------------------ requests

    def _encode(self, kind: int, group: str, pid: int, body: bytes = b"") -> bytes:
        name = _check_name(group)
        return _HEAD.pack(MAGIC, kind, len(name)) + name + _MEMBER.pack(self.node_id, pid) + body

    def join(self, group: str, pid: int) -> bytes:
        """The payload to propose for local process ``pid`` to join ``group``."""
        self.local.add((group, pid))
        return self._encode(_JOIN, group, pid)

    def leave(self, group: str, pid: int) -> bytes:
        self.local.discard((group, pid))
        return self._encode(_LEAVE, group, pid)

    def message(self, group: str, pid: int, payload: bytes) -> bytes:
        return self._encode(_MESSAGE, group, pid, payload)

    def _sync(self) -> bytes:
        body = b"".join(
            struct.pack(">H", len(g.encode())) + g.encode() + struct.pack(">I", pid)
            for g, pid in sorted(self.local)
        )
        self.syncs_sent += 1  # numbered: each announcement is a distinct message
        return _HEAD.pack(MAGIC, _SYNC, 0) + _MEMBER.pack(self.node_id, self.syncs_sent) + body

    # ------------------------------------------------------------------ ring events

    def handle(self, event: Event) -> tuple[list[GroupEvent], list[bytes]]:
        if isinstance(event, ConfigChange):
            if event.transitional:
                return [], []
            return self._configuration(event), [self._sync()]
        if not event.payload.startswith(MAGIC):
            return [], []
        try:
            return self._message(event), []
        except (struct.error, UnicodeDecodeError, ValueError):
            self.malformed += 1
            return [], []

    def _configuration(self, change: ConfigChange) -> list[GroupEvent]:
        alive = set(change.members)
        events: list[GroupEvent] = []
        for group in sorted(self.view):
            gone = {m for m in self.view[group] if m.node not in alive}
            if gone:
                self.view[group] -= gone
                events.append(self._config(group, left=gone))
        return events

    def _config(
        self,
        group: str,
        joined: set[GroupMember] | None = None,
        left: set[GroupMember] | None = None,
    ) -> GroupConfig:
        return GroupConfig(
            group,
            tuple(sorted(self.view.get(group, set()))),
            tuple(sorted(joined or ())),
            tuple(sorted(left or ())),
        )

    def _message(self, delivery: Delivery) -> list[GroupEvent]:
        data = delivery.payload
        _, kind, name_len = _HEAD.unpack_from(data)
        offset = _HEAD.size
        group = data[offset : offset + name_len].decode()
        offset += name_len
        node, pid = _MEMBER.unpack_from(data, offset)
        offset += _MEMBER.size
        if node != delivery.sender:
            raise ValueError("a process group message names another node")
        member = GroupMember(node, pid)
        if kind == _JOIN:
            members = self.view.setdefault(group, set())
            if member in members:
                return []
            members.add(member)
            return [self._config(group, joined={member})]
        if kind == _LEAVE:
            members = self.view.get(group, set())
            if member not in members:
                return []
            members.discard(member)
            return [self._config(group, left={member})]
        if kind == _MESSAGE:
            if any(g == group for g, _ in self.local):
                return [GroupMessage(group, member, data[offset:])]
            return []
        if kind == _SYNC:
            return self._apply_sync(node, data[offset:])
        raise ValueError(f"unknown process group message kind {kind}")

    def _apply_sync(self, node: int, body: bytes) -> list[GroupEvent]:
        announced: dict[str, set[GroupMember]] = {}
        offset = 0
        while offset < len(body):
            (length,) = struct.unpack_from(">H", body, offset)
            offset += 2
            group = body[offset : offset + length].decode()
            offset += length
            (pid,) = struct.unpack_from(">I", body, offset)
            offset += 4
            announced.setdefault(group, set()).add(GroupMember(node, pid))
        events: list[GroupEvent] = []
        for group in sorted(set(self.view) | set(announced)):
            current = {m for m in self.view.get(group, set()) if m.node == node}
            wanted = announced.get(group, set())
            joined, left = wanted - current, current - wanted
            if joined or left:
                members = self.view.setdefault(group, set())
                members |= joined
                members -= left
                events.append(self._config(group, joined=joined, left=left))
        return events
