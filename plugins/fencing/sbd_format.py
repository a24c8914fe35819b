"""SBD's on-disk format (header v2.1, as the real `sbd` 1.5 writes it), as pure functions.

A device is a run of sectors of the device's logical size S: sector 0 holds the header,
sector 1+2i the slot (node name) of slot i, sector 2+2i its mailbox (the last command sent
to that node, and who sent it). Every record fills a whole sector, zero after its bytes.
Integers are big-endian. See ../shared/reference/sbd-format.md for the byte tables.

No I/O here: sbd_device.py reads and writes the sectors.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import uuid  # imported where a header is read: `hactl plugins list` need not load it

MAGIC = b"SBD_SBD_"
MAJOR_VERSION = 2
MINOR_VERSION = 1  # 2.1 added the UUID
SLOT_COUNT = 255  # what `sbd create` always writes
NAME_FIELD = 64  # node and sender names: NUL-terminated, at most 63 bytes
SECTOR_SIZES = (512, 4096)

_HEADER = struct.Struct(">8sBB2xIIIIIB16s")
_RECORD = struct.Struct(f">B{NAME_FIELD}s")  # slot: in_use + name; mailbox: cmd + sender


class SbdFormatError(ValueError):
    """Bytes that are not what SBD writes; the message says what and where."""


class Command(enum.IntEnum):
    """Mailbox commands (a signed char on disk)."""

    clear = 0
    test = 1
    reset = 2
    off = 3
    exit = 4
    crashdump = 5

    @classmethod
    def named(cls, name: str) -> Command:
        try:
            return cls[name]
        except KeyError:
            raise SbdFormatError(
                f"unknown SBD message {name!r}: one of " + ", ".join(c.name for c in cls)
            ) from None


@dataclass(frozen=True)
class Timeouts:
    """The four timeouts, in seconds, as `sbd create -1 -2 -3 -4` sets them."""

    watchdog: int = 5
    allocate: int = 2
    loop: int = 1
    msgwait: int = 10


@dataclass(frozen=True)
class Header:
    sector_size: int
    timeouts: Timeouts
    uuid: uuid.UUID | None  # None for a v2.0 header
    slots: int = SLOT_COUNT
    minor_version: int = MINOR_VERSION

    @property
    def version(self) -> str:
        return f"{MAJOR_VERSION}.{self.minor_version}"

    @property
    def sectors_needed(self) -> int:
        return 1 + 2 * self.slots


@dataclass(frozen=True)
class Slot:
    """One slot as `sbd list` shows it: its number, node, last command and sender."""

    index: int
    node: str
    command: int  # a Command value, or another byte `sbd list` calls "undefined"
    sender: str

    @property
    def command_name(self) -> str:
        return command_name(self.command)


def command_name(code: int) -> str:
    """A mailbox command's name; "undefined" for a code sbd does not know, as `sbd list`."""
    try:
        return Command(code).name
    except ValueError:
        return "undefined"


def slot_sector(index: int) -> int:
    return 1 + 2 * index


def mailbox_sector(index: int) -> int:
    return 2 + 2 * index


def _padded(data: bytes, sector_size: int) -> bytes:
    return data + bytes(sector_size - len(data))


def _name_bytes(name: str, what: str) -> bytes:
    raw = name.encode()
    if not raw or len(raw) >= NAME_FIELD or b"\0" in raw:
        raise SbdFormatError(f"{what} {name!r} must be 1 to {NAME_FIELD - 1} bytes, without NUL")
    return raw


def _name_from(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode(errors="replace")


# ---------------------------------------------------------------------------- header


def encode_header(header: Header) -> bytes:
    if header.sector_size not in SECTOR_SIZES:
        raise SbdFormatError(f"sector size {header.sector_size} is not 512 or 4096")
    t = header.timeouts
    packed = _HEADER.pack(
        MAGIC,
        MAJOR_VERSION,
        header.slots,
        header.sector_size,
        t.watchdog,
        t.allocate,
        t.loop,
        t.msgwait,
        header.minor_version,
        header.uuid.bytes if header.uuid else bytes(16),
    )
    return _padded(packed, header.sector_size)


def decode_header(sector: bytes) -> Header:
    import uuid

    if len(sector) < _HEADER.size:
        raise SbdFormatError(f"header sector is {len(sector)} bytes, needs {_HEADER.size}")
    magic, major, slots, size, wd, alloc, loop, msgwait, minor, raw_uuid = _HEADER.unpack_from(
        sector
    )
    if magic != MAGIC:
        raise SbdFormatError("no SBD header (the first sector does not start with SBD_SBD_)")
    if major != MAJOR_VERSION:
        raise SbdFormatError(f"SBD header version {major} is not supported (only 2.x)")
    if size not in SECTOR_SIZES:
        raise SbdFormatError(f"SBD header names sector size {size}, not 512 or 4096")
    return Header(
        sector_size=size,
        timeouts=Timeouts(watchdog=wd, allocate=alloc, loop=loop, msgwait=msgwait),
        uuid=uuid.UUID(bytes=raw_uuid) if minor >= 1 else None,
        slots=slots,
        minor_version=minor,
    )


# ---------------------------------------------------------------------------- records


def encode_slot(node: str | None, sector_size: int) -> bytes:
    """A slot sector: allocated to ``node``, or free when None."""
    if node is None:
        return bytes(sector_size)
    return _padded(_RECORD.pack(1, _name_bytes(node, "node name")), sector_size)


def decode_slot(sector: bytes) -> tuple[bool, str]:
    """(in use, node name) of a slot sector."""
    in_use, name = _RECORD.unpack_from(sector)
    return in_use > 0, _name_from(name)


def encode_mailbox(command: Command, sender: str, sector_size: int) -> bytes:
    sender_bytes = _name_bytes(sender, "sender name") if sender else b""
    return _padded(_RECORD.pack(command.value, sender_bytes), sector_size)


def decode_mailbox(sector: bytes) -> tuple[int, str]:
    """(command byte as a signed char, sender) of a mailbox sector."""
    command, sender = _RECORD.unpack_from(sector)
    return (command - 256 if command > 127 else command), _name_from(sender)
