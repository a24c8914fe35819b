"""The fencing history a node keeps on disk: one JSON object per line in
``<state dir>/fencing-history`` (the state dir of hactl.core.daemon.paths).

Each request is appended with one write under a lock, then fsynced, so a crash can leave at
most a truncated last line; reading skips such a line, and the next append cuts it off.
Cleanup rewrites the file atomically. The lines shown to people follow
``stonith_admin --history``: ``reboot of node2 successful: delegate=node1, client=…,
origin=node1, completed='…'``.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from pathlib import Path

from hactl.core.cib.store import atomic_write
from hactl.core.daemon import paths
from hactl.core.errors import HactlError

HISTORY_NAME = "fencing-history"
LOCK_NAME = ".fencing-history.lock"
#: the executioner of a confirmation: an administrator checked the node is down
MANUAL = "manual"


@dataclass
class FenceHistoryEntry:
    """One request's outcome, as `stonith history` shows it."""

    target: str
    action: str
    origin: str
    executioner: str
    state: str = "pending"  # pending, success, failed
    devices: list[str] = field(default_factory=list)
    reason: str = ""
    completed: float | None = None

    @property
    def succeeded(self) -> bool:
        return self.state == "success"


_ENTRY_FIELDS = {f.name for f in fields(FenceHistoryEntry)}


@dataclass(frozen=True)
class HistoryRecord:
    """A request's outcome and the client that asked for it (``hactl.<pid>``)."""

    entry: FenceHistoryEntry
    client: str

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self.entry), "client": self.client}

    def line(self) -> str:
        """The record as `stonith_admin --history` prints one."""
        entry = self.entry
        when = format_time(entry.completed) if entry.completed is not None else ""
        if entry.state == "success":
            return (
                f"{entry.action} of {entry.target} successful: delegate={entry.executioner}, "
                f"client={self.client}, origin={entry.origin}, completed='{when}'"
            )
        if entry.state == "failed":
            reason = f" ({one_line(entry.reason)})" if entry.reason else ""
            return (
                f"{entry.action} of {entry.target} failed{reason}: "
                f"delegate={entry.executioner}, client={self.client}, origin={entry.origin}, "
                f"last-failed='{when}'"
            )
        return (
            f"{entry.action} of {entry.target} pending: client={self.client}, origin={entry.origin}"
        )


def newest_first(records: list[HistoryRecord]) -> list[HistoryRecord]:
    """The order stonith_admin --history shows: pending requests, then the latest first."""
    return sorted(
        records,
        key=lambda r: (r.entry.completed is not None, -(r.entry.completed or 0.0)),
    )


def one_line(text: str) -> str:
    """An agent's multi-line output as one line of a report."""
    return " ".join(text.split())


def format_time(epoch: float) -> str:
    """Local time with its offset, as Pacemaker's tools print it: 2026-11-22 03:04:05 +00:00."""
    stamp = datetime.fromtimestamp(epoch).astimezone()
    offset = stamp.strftime("%z")
    return stamp.strftime("%Y-%m-%d %H:%M:%S ") + f"{offset[:3]}:{offset[3:]}"


class FenceHistory:
    """The history file of one node's state directory."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory if directory is not None else paths.state_dir()
        self.path = self.directory / HISTORY_NAME

    # ------------------------------------------------------------------ checks

    def check_writable(self) -> None:
        """Refuse early (before fencing anything) when a result could not be recorded."""
        self._check_directory()
        if not os.access(self.directory, os.W_OK) or (
            self.path.exists() and not os.access(self.path, os.W_OK)
        ):
            raise HactlError(
                "the fencing history cannot be written here",
                where=str(self.path),
                hint="run as the cluster's user (root), or set HACTL_STATE_DIR",
            )

    def _check_directory(self) -> None:
        if not self.directory.is_dir():
            raise HactlError(
                "the state directory does not exist",
                where=str(self.directory),
                hint="create it (the daemon does on its first start) or set HACTL_STATE_DIR",
            )

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One writer at a time: appends and cleanups of concurrent commands and the daemon."""
        self._check_directory()
        try:
            fd = os.open(self.directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise HactlError(
                f"cannot lock the fencing history: {exc.strerror}",
                where=str(self.directory),
                hint="run as the cluster's user (root), or set HACTL_STATE_DIR",
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    # ------------------------------------------------------------------ writing

    def append(self, entry: FenceHistoryEntry, client: str) -> HistoryRecord:
        record = HistoryRecord(entry, client)
        line = json.dumps(record.as_dict(), sort_keys=True).encode() + b"\n"
        with self._locked():
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            except OSError as exc:
                raise self._write_error(exc) from None
            try:
                _drop_unfinished_line(fd)
                os.write(fd, line)
                os.fsync(fd)
            except OSError as exc:
                raise self._write_error(exc) from None
            finally:
                os.close(fd)
        return record

    def cleanup(self, target: str | None = None) -> int:
        """Forget every record (of ``target`` only, when given); how many were dropped.
        Damaged lines go too: cleanup is the way out of a damaged history."""
        with self._locked():
            records = self.records(skip_damaged=True)
            kept = [r for r in records if target is not None and r.entry.target != target]
            data = b"".join(json.dumps(r.as_dict(), sort_keys=True).encode() + b"\n" for r in kept)
            try:
                atomic_write(self.path, data)
            except OSError as exc:
                raise self._write_error(exc) from None
        return len(records) - len(kept)

    def _write_error(self, exc: OSError) -> HactlError:
        return HactlError(
            f"cannot write the fencing history: {exc.strerror}",
            where=str(self.path),
            hint="run as the cluster's user (root), or set HACTL_STATE_DIR",
        )

    # ------------------------------------------------------------------ reading

    def records(
        self, target: str | None = None, *, skip_damaged: bool = False
    ) -> list[HistoryRecord]:
        """Every record, oldest first (of ``target`` only, when given). A last line cut
        short by a crash is skipped; a bad line elsewhere is an error naming it, unless
        ``skip_damaged``."""
        self._check_directory()
        try:
            text = self.path.read_bytes().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise HactlError(
                f"cannot read the fencing history: {exc.strerror}",
                where=str(self.path),
                hint="run as the cluster's user (root)",
            ) from None
        # Text after the last newline is an unfinished write (each entry is written whole,
        # newline included), even when it happens to parse: the next append cuts it off.
        lines = text.split("\n")[:-1]
        records = []
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                record = _record(json.loads(raw))
            except (ValueError, TypeError, KeyError):
                if skip_damaged:
                    continue
                raise HactlError(
                    "unreadable fencing history entry",
                    where=f"{self.path}:{number}",
                    hint="hactl stonith history --cleanup forgets the history",
                ) from None
            if target is None or record.entry.target == target:
                records.append(record)
        return records


def _drop_unfinished_line(fd: int) -> None:
    """Cut a last line a crash left without its newline: it cannot be read, and appending
    after it would bury it in the middle of the file."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return
    os.ftruncate(fd, os.pread(fd, size, 0).rfind(b"\n") + 1)


def _record(data: object) -> HistoryRecord:
    if not isinstance(data, dict):
        raise TypeError("not an object")
    entry = FenceHistoryEntry(**{k: v for k, v in data.items() if k in _ENTRY_FIELDS})
    if not isinstance(entry.target, str) or not isinstance(entry.action, str):
        raise TypeError("target and action must be text")
    return HistoryRecord(entry, str(data.get("client", "")))
