"""The totem packet codec: every packet type round-trips, and the decoder raises nothing
but PacketError whatever bytes it is given (hypothesis)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hactl.core.errors import HactlError
from hactl.core.totem.packets import (
    Chunk,
    CommitEntry,
    CommitToken,
    Join,
    Mcast,
    MergeDetect,
    Packet,
    PacketError,
    RingId,
    Token,
    decode,
    encode,
)

RING = RingId(12, 3)
SAMPLES: list[Packet] = [
    Mcast(RING, 7, 3, False, (Chunk(42, 0, 1, b"hello"), Chunk(43, 0, 1, b""))),
    Mcast(RING, 8, 5, True, (Chunk(44, 2, 5, b"\x00" * 300),)),
    Mcast(
        RING, 9, 4, False, (), recovered=Mcast(RingId(8, 1), 3, 1, False, (Chunk(9, 0, 1, b"x"),))
    ),
    Token(RING, 99, 10, 8, 5, 17, 3, True, False, (9, 10)),
    Token(RING, 0, 0, 0, 0, 0, 0, False, True),
    Join(4, 7, 12, 8, frozenset({1, 4, 9}), frozenset({9})),
    Join(4, 7, 12, 8, frozenset({1, 4, 9}), frozenset(), frozenset({1, 9})),
    CommitToken(
        RingId(16, 1),
        2,
        (1, 4, 9),
        (
            CommitEntry(1, RING, 5, 5, 7, 1, 3),
            CommitEntry(4, RingId(0, 4), 0, 0, 0, 2, 8),
        ),
    ),
    MergeDetect(3, RING),
]


def _sender(packet: Packet) -> int:
    return packet.sender if isinstance(packet, Join | MergeDetect) else 3


@pytest.mark.parametrize("packet", SAMPLES, ids=lambda p: type(p).__name__)
def test_every_packet_round_trips(packet: Packet) -> None:
    sender = _sender(packet)
    assert decode(encode(packet, sender)) == (sender, packet)


@pytest.mark.parametrize("packet", SAMPLES, ids=lambda p: type(p).__name__)
def test_every_truncation_and_extension_is_rejected(packet: Packet) -> None:
    data = encode(packet, _sender(packet))
    for cut in range(len(data)):
        with pytest.raises(PacketError):
            decode(data[:cut])
    with pytest.raises(PacketError, match="trailing"):
        decode(data + b"\x00")


def test_errors_name_the_problem() -> None:
    with pytest.raises(PacketError, match="bad magic"):
        decode(b"XX" + bytes(20))
    bad_version = b"HT" + bytes([9, 1]) + struct.pack(">I", 1)
    with pytest.raises(PacketError, match="version 9"):
        decode(bad_version)
    join = encode(Join(4, 1, 1, 0, frozenset({1, 4}), frozenset()), 5)  # header says 5
    with pytest.raises(PacketError, match="join sender"):
        decode(join)
    assert issubclass(PacketError, HactlError)


def test_fragments_travel_alone() -> None:
    packed = Mcast(RING, 3, 1, False, (Chunk(1, 0, 2, b"a"), Chunk(2, 0, 1, b"b")))
    with pytest.raises(PacketError, match="fragment 0 of 2 is impossible here"):
        decode(encode(packed, 1))


def test_nested_recovery_is_rejected() -> None:
    innermost = Mcast(RING, 1, 1, False, (Chunk(1, 0, 1, b""),))
    outer = Mcast(RING, 2, 1, False, (), recovered=Mcast(RING, 1, 1, False, (), innermost))
    with pytest.raises(PacketError, match="recovered message may not"):
        decode(encode(outer, 1))


@settings(max_examples=1000, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=600))
def test_decoder_fuzz_random_bytes(data: bytes) -> None:
    try:
        decode(data)
    except PacketError:
        pass


@settings(max_examples=1000, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.sampled_from([encode(p, _sender(p)) for p in SAMPLES]),
    st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 255)), max_size=6),
    st.integers(0, 2000),
)
def test_decoder_fuzz_mutated_packets(base: bytes, flips: list[tuple[int, int]], cut: int) -> None:
    """Valid packets with bytes changed and cut: the headers parse, the bodies do not."""
    data = bytearray(base)
    for position, value in flips:
        if data:
            data[position % len(data)] = value
    try:
        sender, packet = decode(bytes(data[: max(cut, 8)]))
    except PacketError:
        return
    assert decode(encode(packet, sender)) == (sender, packet)
