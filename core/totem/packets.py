"""The totem wire format: frozen packet dataclasses and their binary codec.

Every packet starts with a common header (magic ``HT``, format version, packet type, the
node id of the processor that transmitted it). All integers are big-endian. The decoder
checks every length, count and range and rejects trailing bytes: whatever it is given, it
either returns a packet or raises :class:`PacketError`, nothing else.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum

from hactl.core.errors import HactlError

MAGIC = b"HT"
FORMAT_VERSION = 2

#: bounds the decoder enforces, so that a forged count cannot make it allocate much
MAX_NODES = 1024
MAX_RTR = 1024
MAX_PAYLOAD = 1 << 20
MAX_CHUNKS = 4096
NODE_ID_MAX = 0xFFFFFFFF


class PacketError(HactlError):
    """A datagram is not a well-formed totem packet (the peer's fault, never ours)."""


class PacketType(IntEnum):
    MCAST = 1
    TOKEN = 2
    JOIN = 3
    COMMIT = 4
    MERGE_DETECT = 5


@dataclass(frozen=True, order=True)
class RingId:
    """A ring's identity. Rings order by ``seq`` first: a node only ever joins rings of
    increasing seq, which is what makes delivery order total across configurations."""

    seq: int
    rep: int

    def __str__(self) -> str:
        return f"{self.rep}.{self.seq}"


@dataclass(frozen=True)
class Chunk:
    """One application message, or one fragment of a large one (``frag_count`` > 1)."""

    msg_id: int
    frag_index: int
    frag_count: int
    data: bytes


@dataclass(frozen=True)
class Mcast:
    """One ordered message of ring ``ring``: it carries several small application messages
    packed together, or one fragment of a large one (Corosync's totempg packing).

    ``origin`` sent it first; ``recovered`` holds an old ring's message that a member
    re-sends during recovery (then ``chunks`` is empty)."""

    ring: RingId
    seq: int
    origin: int
    safe: bool
    chunks: tuple[Chunk, ...]
    recovered: Mcast | None = None


@dataclass(frozen=True)
class Token:
    """The regular token: rotates in node-id order and carries the ordering state."""

    ring: RingId
    token_seq: int  # bumped on every hop: duplicates and retransmitted copies are dropped
    seq: int  # highest message sequence number assigned in this ring
    aru: int  # all-received-up-to, lowered by whoever lacks a message
    aru_node: int  # who last set aru (0 when aru == seq)
    fcc: int  # messages sent during the last rotation (flow control)
    backlog: int  # messages waiting to be sent, summed over the ring
    retrans_flag: bool  # someone still has recovery messages to send
    install: bool  # recovery is complete: members enter the new ring on seeing it
    rtr: tuple[int, ...] = ()  # sequence numbers someone asks to be retransmitted


@dataclass(frozen=True)
class Join:
    """Gather phase: what the sender believes are the processors (proc) and the failed."""

    sender: int
    incarnation: int
    version: int
    ring_seq: int
    proc: frozenset[int]
    fail: frozenset[int]
    #: processors the sender's transport cannot reach and that it has not heard from
    #: since this membership round began (a hint that fails them early, never a vote)
    unreachable: frozenset[int] = frozenset()


@dataclass(frozen=True)
class CommitEntry:
    """What one member brings to a new ring: its old ring and how far it got in it."""

    node: int
    old_ring: RingId
    aru: int
    high_delivered: int
    high_seq: int
    incarnation: int
    version: int


@dataclass(frozen=True)
class CommitToken:
    """Rotates twice over the new members: once to collect entries, once to start
    recovery everywhere."""

    ring: RingId
    hop: int
    members: tuple[int, ...]
    entries: tuple[CommitEntry, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class MergeDetect:
    """Sent by a ring's representative so that partitions that hear each other merge."""

    sender: int
    ring: RingId


Packet = Mcast | Token | Join | CommitToken | MergeDetect

_HEADER = struct.Struct(">2sBBI")
_RING = struct.Struct(">QI")
_MCAST = struct.Struct(">QIBI")  # seq origin flags (chunk count | recovered length)
_CHUNK = struct.Struct(">IIII")  # msg_id frag_index frag_count length
_TOKEN = struct.Struct(">QQQIIIBH")
_JOIN = struct.Struct(">QQQHHH")
_COMMIT = struct.Struct(">IHH")
_ENTRY = struct.Struct(">IQIQQQQQ")
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")

_SAFE = 1
_RECOVERED = 2
_RETRANS = 1
_INSTALL = 2


# --------------------------------------------------------------------------- encoding


def _ring(ring: RingId) -> bytes:
    return _RING.pack(ring.seq, ring.rep)


def _mcast_body(m: Mcast) -> bytes:
    flags = (_SAFE if m.safe else 0) | (_RECOVERED if m.recovered is not None else 0)
    if m.recovered is not None:
        inner = _mcast_body(m.recovered)
        return _ring(m.ring) + _MCAST.pack(m.seq, m.origin, flags, len(inner)) + inner
    return (
        _ring(m.ring)
        + _MCAST.pack(m.seq, m.origin, flags, len(m.chunks))
        + b"".join(
            _CHUNK.pack(c.msg_id, c.frag_index, c.frag_count, len(c.data)) + c.data
            for c in m.chunks
        )
    )


def _ids(values: frozenset[int] | tuple[int, ...]) -> bytes:
    return b"".join(_U32.pack(v) for v in sorted(values))


def encode(packet: Packet, sender: int) -> bytes:
    """The datagram for ``packet`` as transmitted by node ``sender``."""
    if isinstance(packet, Mcast):
        kind, body = PacketType.MCAST, _mcast_body(packet)
    elif isinstance(packet, Token):
        flags = (_RETRANS if packet.retrans_flag else 0) | (_INSTALL if packet.install else 0)
        body = (
            _ring(packet.ring)
            + _TOKEN.pack(
                packet.token_seq,
                packet.seq,
                packet.aru,
                packet.aru_node,
                packet.fcc,
                packet.backlog,
                flags,
                len(packet.rtr),
            )
            + b"".join(_U64.pack(s) for s in packet.rtr)
        )
        kind = PacketType.TOKEN
    elif isinstance(packet, Join):
        body = (
            _U32.pack(packet.sender)
            + _JOIN.pack(
                packet.incarnation,
                packet.version,
                packet.ring_seq,
                len(packet.proc),
                len(packet.fail),
                len(packet.unreachable),
            )
            + _ids(packet.proc)
            + _ids(packet.fail)
            + _ids(packet.unreachable)
        )
        kind = PacketType.JOIN
    elif isinstance(packet, CommitToken):
        body = (
            _ring(packet.ring)
            + _COMMIT.pack(packet.hop, len(packet.members), len(packet.entries))
            + b"".join(_U32.pack(m) for m in packet.members)
            + b"".join(
                _ENTRY.pack(
                    e.node,
                    e.old_ring.seq,
                    e.old_ring.rep,
                    e.aru,
                    e.high_delivered,
                    e.high_seq,
                    e.incarnation,
                    e.version,
                )
                for e in packet.entries
            )
        )
        kind = PacketType.COMMIT
    else:
        body = _U32.pack(packet.sender) + _ring(packet.ring)
        kind = PacketType.MERGE_DETECT
    return _HEADER.pack(MAGIC, FORMAT_VERSION, kind, sender) + body


# --------------------------------------------------------------------------- decoding


class _Reader:
    """Reads fixed-size fields from a buffer; any overrun is a PacketError."""

    def __init__(self, data: bytes, what: str) -> None:
        self.data = data
        self.pos = 0
        self.what = what

    def take(self, fmt: struct.Struct) -> tuple[int, ...]:
        end = self.pos + fmt.size
        if end > len(self.data):
            raise PacketError(
                f"{self.what} truncated at byte {self.pos}",
                where="totem packet",
                hint="a peer runs another version, or the datagram was cut",
            )
        values: tuple[int, ...] = fmt.unpack_from(self.data, self.pos)
        self.pos = end
        return values

    def raw(self, length: int) -> bytes:
        end = self.pos + length
        if end > len(self.data):
            raise PacketError(f"{self.what} payload truncated", where="totem packet")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def ring(self) -> RingId:
        seq, rep = self.take(_RING)
        return RingId(seq, rep)

    def array(self, code: str, count: int) -> list[int]:
        return list(self.take(struct.Struct(f">{count}{code}")))

    def ids(self, count: int) -> list[int]:
        return self.array("I", count)

    def done(self) -> None:
        if self.pos != len(self.data):
            raise PacketError(
                f"{self.what} has {len(self.data) - self.pos} trailing byte(s)",
                where="totem packet",
            )


def _bad(message: str) -> PacketError:
    return PacketError(message, where="totem packet", hint="dropped; check the peer's version")


def _decode_mcast(reader: _Reader, nested: bool) -> Mcast:
    ring = reader.ring()
    seq, origin, flags, count = reader.take(_MCAST)
    if flags & ~(_SAFE | _RECOVERED):
        raise _bad(f"message has unknown flags {flags:#x}")
    if seq == 0:
        raise _bad("message sequence number 0 is reserved")
    if flags & _RECOVERED:
        if nested:
            raise _bad("a recovered message may not itself hold a recovered message")
        if count > MAX_PAYLOAD:
            raise _bad(f"recovered message length {count} exceeds {MAX_PAYLOAD}")
        inner = _Reader(reader.raw(count), "recovered message")
        recovered = _decode_mcast(inner, nested=True)
        inner.done()
        return Mcast(ring, seq, origin, bool(flags & _SAFE), (), recovered)
    if count == 0 or count > MAX_CHUNKS:
        raise _bad(f"message holds {count} chunks (1..{MAX_CHUNKS})")
    chunks = []
    for _ in range(count):
        msg_id, frag_index, frag_count, length = reader.take(_CHUNK)
        if frag_count == 0 or frag_index >= frag_count or (frag_count > 1 and count > 1):
            raise _bad(f"fragment {frag_index} of {frag_count} is impossible here")
        if length > MAX_PAYLOAD:
            raise _bad(f"chunk length {length} exceeds {MAX_PAYLOAD}")
        chunks.append(Chunk(msg_id, frag_index, frag_count, reader.raw(length)))
    return Mcast(ring, seq, origin, bool(flags & _SAFE), tuple(chunks))


def _sorted_unique(values: list[int], what: str) -> None:
    if any(b <= a for a, b in zip(values, values[1:], strict=False)):
        raise _bad(f"{what} is not sorted and unique")


def decode(data: bytes) -> tuple[int, Packet]:
    """Parse one datagram into ``(sender, packet)``; raises only :class:`PacketError`."""
    reader = _Reader(bytes(data), "totem packet")
    magic, version, kind, sender = reader.take(_HEADER)
    if magic != MAGIC:
        raise _bad("not a totem packet (bad magic)")
    if version != FORMAT_VERSION:
        raise _bad(f"totem format version {version}, expected {FORMAT_VERSION}")
    packet: Packet
    if kind == PacketType.MCAST:
        reader.what = "message"
        packet = _decode_mcast(reader, nested=False)
    elif kind == PacketType.TOKEN:
        reader.what = "token"
        ring = reader.ring()
        token_seq, seq, aru, aru_node, fcc, backlog, flags, n_rtr = reader.take(_TOKEN)
        if flags & ~(_RETRANS | _INSTALL):
            raise _bad(f"token has unknown flags {flags:#x}")
        if n_rtr > MAX_RTR:
            raise _bad(f"token asks for {n_rtr} retransmissions, more than {MAX_RTR}")
        if aru > seq:
            raise _bad(f"token aru {aru} is above its seq {seq}")
        rtr = tuple(reader.array("Q", n_rtr))
        packet = Token(
            ring,
            token_seq,
            seq,
            aru,
            aru_node,
            fcc,
            backlog,
            bool(flags & _RETRANS),
            bool(flags & _INSTALL),
            rtr,
        )
    elif kind == PacketType.JOIN:
        reader.what = "join"
        (join_sender,) = reader.take(_U32)
        incarnation, version_no, ring_seq, n_proc, n_fail, n_unreachable = reader.take(_JOIN)
        if max(n_proc, n_fail, n_unreachable) > MAX_NODES:
            raise _bad(f"join lists {n_proc}+{n_fail} nodes, more than {MAX_NODES}")
        proc = reader.ids(n_proc)
        fail = reader.ids(n_fail)
        unreachable = reader.ids(n_unreachable)
        _sorted_unique(proc, "join proc list")
        _sorted_unique(fail, "join fail list")
        _sorted_unique(unreachable, "join unreachable list")
        if join_sender != sender or join_sender not in proc:
            raise _bad("join sender is not in its own proc list")
        packet = Join(
            join_sender,
            incarnation,
            version_no,
            ring_seq,
            frozenset(proc),
            frozenset(fail),
            frozenset(unreachable),
        )
    elif kind == PacketType.COMMIT:
        reader.what = "commit token"
        ring = reader.ring()
        hop, n_members, n_entries = reader.take(_COMMIT)
        if n_members == 0 or n_members > MAX_NODES or n_entries > n_members:
            raise _bad(f"commit token with {n_members} members and {n_entries} entries")
        members = reader.ids(n_members)
        _sorted_unique(members, "commit token member list")
        entries = []
        for index in range(n_entries):
            node, o_seq, o_rep, aru, high_delivered, high_seq, inc, ver = reader.take(_ENTRY)
            if node != members[index]:
                raise _bad("commit token entries are not in member order")
            if aru > high_seq or high_delivered > aru:
                raise _bad(f"commit entry of node {node} has inconsistent counters")
            entries.append(
                CommitEntry(node, RingId(o_seq, o_rep), aru, high_delivered, high_seq, inc, ver)
            )
        if ring.rep != members[0]:
            raise _bad("commit token's ring representative is not its lowest member")
        packet = CommitToken(ring, hop, tuple(members), tuple(entries))
    elif kind == PacketType.MERGE_DETECT:
        reader.what = "merge detect"
        (md_sender,) = reader.take(_U32)
        packet = MergeDetect(md_sender, reader.ring())
        if md_sender != sender:
            raise _bad("merge detect sender differs from the header's")
    else:
        raise _bad(f"unknown totem packet type {kind}")
    reader.done()
    return sender, packet


#: bytes a message adds around its chunks (header + body fields), doubled by recovery
MCAST_OVERHEAD = _HEADER.size + _RING.size + _MCAST.size
#: bytes each chunk adds to the application data it carries
CHUNK_OVERHEAD = _CHUNK.size
