"""Reading and writing one SBD device, sector by sector, as the real `sbd` does.

A block device is opened with O_DIRECT|O_SYNC (the device is shared between nodes: the
page cache must never answer for it) and its logical sector size comes from the kernel
(BLKSSZGET), which must equal the header's. An image file (for tests and for preparing a
device offline) is opened with O_SYNC only, and its sector size is the header's, or the one
given to ``create``. Every read and write is one whole, aligned sector.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import stat
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from hactl.core.errors import HactlError
from hactl.plugins.fencing.sbd_format import (
    Command,
    Header,
    SbdFormatError,
    Slot,
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

if TYPE_CHECKING:
    import uuid  # imported where a device is created: `hactl plugins list` need not load it

BLKSSZGET = 0x1268  # <linux/fs.h>: logical sector size of a block device
_LARGEST_SECTOR = 4096


class SbdDeviceError(HactlError):
    """An SBD device is missing, unreadable, not initialised, or inconsistent."""


class SbdDevice:
    """One SBD device (a block device or an image file) at ``path``."""

    def __init__(self, path: str) -> None:
        self.path = path

    # ------------------------------------------------------------------ low level

    @contextmanager
    def _opened(self, writable: bool) -> Iterator[tuple[int, bool]]:
        try:
            mode = os.stat(self.path).st_mode
        except FileNotFoundError:
            raise SbdDeviceError(
                "no such device", where=self.path, hint="give the path of the shared disk"
            ) from None
        except OSError as exc:
            raise SbdDeviceError(f"cannot reach: {exc.strerror}", where=self.path) from None
        block = stat.S_ISBLK(mode)
        if not block and not stat.S_ISREG(mode):
            raise SbdDeviceError("is neither a block device nor an image file", where=self.path)
        flags = (os.O_RDWR if writable else os.O_RDONLY) | os.O_SYNC
        if block:
            flags |= os.O_DIRECT
        try:
            fd = os.open(self.path, flags)
        except OSError as exc:
            raise SbdDeviceError(f"cannot open: {exc.strerror}", where=self.path) from None
        try:
            yield fd, block
        finally:
            os.close(fd)

    def _kernel_sector_size(self, fd: int) -> int:
        raw = fcntl.ioctl(fd, BLKSSZGET, struct.pack("i", 0))
        value: int = struct.unpack("i", raw)[0]
        return value

    def _read(self, fd: int, offset: int, length: int) -> bytes:
        buffer = mmap.mmap(-1, length)  # page-aligned, as O_DIRECT requires
        try:
            count = os.preadv(fd, [buffer], offset)
            if count != length:
                raise SbdDeviceError(
                    f"short read at byte {offset}: {count} of {length} bytes "
                    "(is the device smaller than an SBD layout?)",
                    where=self.path,
                )
            return bytes(buffer)
        except OSError as exc:
            raise SbdDeviceError(
                f"read at byte {offset} failed: {exc.strerror}", where=self.path
            ) from None
        finally:
            buffer.close()

    def _write(self, fd: int, offset: int, data: bytes) -> None:
        buffer = mmap.mmap(-1, len(data))
        try:
            buffer.write(data)
            if os.pwritev(fd, [buffer], offset) != len(data):
                raise SbdDeviceError(f"short write at byte {offset}", where=self.path)
        except OSError as exc:
            raise SbdDeviceError(
                f"write at byte {offset} failed: {exc.strerror}", where=self.path
            ) from None
        finally:
            buffer.close()

    def _header(self, fd: int, block: bool) -> Header:
        first = self._kernel_sector_size(fd) if block else min(_LARGEST_SECTOR, self._size(fd))
        try:
            header = decode_header(self._read(fd, 0, first))
        except SbdFormatError as exc:
            raise SbdDeviceError(
                str(exc),
                where=self.path,
                hint="initialise it with `hactl stonith sbd device setup device=PATH`",
            ) from None
        if block and header.sector_size != first:
            raise SbdDeviceError(
                f"header says {header.sector_size}-byte sectors, the device has {first}-byte "
                "sectors",
                where=self.path,
                hint="the device was initialised with another sector size; set it up again",
            )
        return header

    def _size(self, fd: int) -> int:
        return os.lseek(fd, 0, os.SEEK_END)

    # ------------------------------------------------------------------ operations

    def create(
        self, timeouts: Timeouts, *, sector_size: int = 512, device_uuid: uuid.UUID | None = None
    ) -> Header:
        """Write a fresh header and 255 empty slots and mailboxes. The header goes last, so
        that an interrupted setup never leaves a device that looks initialised."""
        import uuid

        with self._opened(writable=True) as (fd, block):
            if block:
                sector_size = self._kernel_sector_size(fd)
            header = Header(sector_size, timeouts, device_uuid or uuid.uuid4())
            needed = header.sectors_needed * sector_size
            if self._size(fd) < needed:
                raise SbdDeviceError(
                    f"too small: SBD needs {needed} bytes ({header.sectors_needed} sectors of "
                    f"{sector_size} B), the device has {self._size(fd)}",
                    where=self.path,
                )
            self._write(fd, sector_size, bytes(needed - sector_size))
            self._write(fd, 0, encode_header(header))
            return header

    def header(self) -> Header:
        with self._opened(writable=False) as (fd, block):
            return self._header(fd, block)

    def slots(self) -> list[Slot]:
        """Every allocated slot with its mailbox, in slot order."""
        with self._opened(writable=False) as (fd, block):
            header = self._header(fd, block)
            size = header.sector_size
            raw = self._read(fd, size, 2 * header.slots * size)
        found = []
        for index in range(header.slots):
            slot_at = (slot_sector(index) - 1) * size
            in_use, node = decode_slot(raw[slot_at : slot_at + size])
            if in_use:
                mail_at = (mailbox_sector(index) - 1) * size
                command, sender = decode_mailbox(raw[mail_at : mail_at + size])
                found.append(Slot(index, node, command, sender))
        return found

    def find_slot(self, node: str) -> int | None:
        """The slot of ``node`` (names compare case-insensitively, as sbd does), or None."""
        wanted = node.lower()
        return next((s.index for s in self.slots() if s.node.lower() == wanted), None)

    def allocate(self, node: str, settle: Callable[[float], None]) -> int:
        """The slot of ``node``, claiming the first free one if it has none. As sbd does,
        wait the allocate timeout after claiming (``settle(seconds)``) and check that no
        other node claimed the same slot meanwhile."""
        existing = self.find_slot(node)
        if existing is not None:
            return existing
        with self._opened(writable=True) as (fd, block):
            header = self._header(fd, block)
            size = header.sector_size
            for index in range(header.slots):
                in_use, _ = decode_slot(self._read(fd, slot_sector(index) * size, size))
                if not in_use:
                    self._write(fd, slot_sector(index) * size, encode_slot(node, size))
                    break
            else:
                raise SbdDeviceError(
                    f"all {header.slots} slots are taken",
                    where=self.path,
                    hint="free a slot or use another device",
                )
        settle(header.timeouts.allocate)
        if self.find_slot(node) != index:
            raise SbdDeviceError(
                f"slot {index} was claimed by another node while allocating {node!r}",
                where=self.path,
                hint="retry",
            )
        return index

    def write_message(self, index: int, command: Command, sender: str) -> None:
        """Put ``command`` in the mailbox of slot ``index`` and read it back."""
        with self._opened(writable=True) as (fd, block):
            header = self._header(fd, block)
            size = header.sector_size
            if not 0 <= index < header.slots:
                raise SbdDeviceError(f"slot {index} does not exist", where=self.path)
            data = encode_mailbox(command, sender, size)
            self._write(fd, mailbox_sector(index) * size, data)
            if self._read(fd, mailbox_sector(index) * size, size) != data:
                raise SbdDeviceError(
                    f"the message to slot {index} did not read back as written",
                    where=self.path,
                )

    def read_message(self, index: int) -> tuple[int, str]:
        """(command byte, sender) in the mailbox of slot ``index``."""
        with self._opened(writable=False) as (fd, block):
            header = self._header(fd, block)
            size = header.sector_size
            return decode_mailbox(self._read(fd, mailbox_sector(index) * size, size))
