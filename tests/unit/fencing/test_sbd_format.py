"""SBD's on-disk records, byte for byte (the reference header is one the real `sbd create`
wrote, reproduced in ../shared/reference/sbd-format.md)."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hactl.plugins.fencing.sbd_format import (
    Command,
    Header,
    SbdFormatError,
    Timeouts,
    decode_header,
    decode_mailbox,
    decode_slot,
    encode_header,
    encode_mailbox,
    encode_slot,
    mailbox_sector,
    slot_sector,
)

# the first 52 bytes of a header written by `sbd create` (Debian 12, sbd 1.5.2)
REAL_HEADER = bytes.fromhex(
    "5342445f5342445f02ff000000000200"
    "0000000500000002000000010000000a"
    "019b73de9ce09943e884830644d290e3"
    "92000000"
)
REAL_UUID = uuid.UUID("9b73de9c-e099-43e8-8483-0644d290e392")


def test_real_header_decodes() -> None:
    header = decode_header(REAL_HEADER + bytes(512 - len(REAL_HEADER)))
    assert header == Header(512, Timeouts(watchdog=5, allocate=2, loop=1, msgwait=10), REAL_UUID)
    assert header.version == "2.1"


def test_header_encodes_to_the_real_bytes() -> None:
    encoded = encode_header(Header(512, Timeouts(5, 2, 1, 10), REAL_UUID))
    assert encoded == REAL_HEADER + bytes(512 - len(REAL_HEADER))


def test_4k_header_records_its_sector_size() -> None:
    encoded = encode_header(Header(4096, Timeouts(), REAL_UUID))
    assert len(encoded) == 4096 and encoded[12:16] == bytes.fromhex("00001000")


def test_v20_header_has_no_uuid() -> None:
    raw = bytearray(REAL_HEADER + bytes(460))
    raw[32] = 0
    assert decode_header(bytes(raw)).uuid is None


@pytest.mark.parametrize(
    ("offset", "value", "expected"),
    [(0, b"X", "no SBD header"), (8, b"\x03", "version 3"), (14, b"\x03", "sector size")],
)
def test_corrupt_headers_are_refused(offset: int, value: bytes, expected: str) -> None:
    raw = bytearray(REAL_HEADER + bytes(460))
    raw[offset : offset + 1] = value
    with pytest.raises(SbdFormatError, match=expected):
        decode_header(bytes(raw))


def test_slot_and_mailbox_records_match_what_sbd_writes() -> None:
    assert encode_slot("node1", 512)[:7] == bytes.fromhex("016e6f64653100")
    assert encode_slot(None, 512) == bytes(512)
    assert encode_mailbox(Command.test, "me", 512)[:4] == bytes.fromhex("016d6500")
    assert decode_mailbox(bytes(512)) == (0, "")


def test_sector_map() -> None:
    assert [slot_sector(0), mailbox_sector(0), slot_sector(254), mailbox_sector(254)] == [
        1,
        2,
        509,
        510,
    ]


def test_names_must_fit_the_field() -> None:
    with pytest.raises(SbdFormatError, match="1 to 63 bytes"):
        encode_slot("n" * 64, 512)
    with pytest.raises(SbdFormatError):
        encode_slot("", 512)


def test_unknown_command_name() -> None:
    with pytest.raises(SbdFormatError, match="one of clear, test"):
        Command.named("poke")


names = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=63)


@given(names, st.sampled_from(list(Command)), st.sampled_from([512, 4096]))
def test_records_round_trip(name: str, command: Command, size: int) -> None:
    assert decode_slot(encode_slot(name, size)) == (True, name)
    assert decode_mailbox(encode_mailbox(command, name, size)) == (command.value, name)


@given(
    st.integers(1, 10_000),
    st.integers(1, 10_000),
    st.integers(1, 100),
    st.integers(1, 10_000),
    st.uuids(),
    st.sampled_from([512, 4096]),
)
def test_header_round_trips(
    wd: int, alloc: int, loop: int, msgwait: int, device_uuid: uuid.UUID, size: int
) -> None:
    header = Header(size, Timeouts(wd, alloc, loop, msgwait), device_uuid)
    assert decode_header(encode_header(header)) == header
