"""A node's CIB on disk: atomic writes, a digest beside the file, rotating backups.

Layout of ``state_dir`` (the names Pacemaker uses in /var/lib/pacemaker/cib)::

    cib.xml          the current CIB
    cib.xml.sig      SHA-256 of cib.xml, hex
    cib-N.raw        the CIB as written by the N-th write (the newest ``keep`` are kept)
    cib-N.raw.sig    its digest
    cib.last         N of the newest backup

Every file is replaced atomically (temporary file, fsync, rename, fsync of the directory),
and a write stores the backup before it replaces cib.xml. So after a crash at any moment
either cib.xml matches its digest, or it is the newest backup's content (the crash came
between replacing cib.xml and its digest), or the write had not reached cib.xml yet and
the old pair is intact. Anything else means the file was damaged outside hactl: loading
refuses it and names the newest backup that still verifies.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hactl.core.cib.document import CibDocument, CibError

CIB_NAME = "cib.xml"
_BACKUP = re.compile(r"cib-(\d+)\.raw")


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that readers see the old or the new file, whole.

    A new file is private (0600: a CIB can hold fence passwords); a replaced one keeps its
    mode. On any failure the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = 0o600
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.tmp-")
    try:
        try:
            os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class CibStore:
    """The CIB files of one node under ``state_dir``."""

    def __init__(self, state_dir: str | Path, *, keep: int = 10) -> None:
        if keep < 1:
            raise ValueError("keep at least one backup")
        self.state_dir = Path(state_dir)
        self.keep = keep

    @property
    def path(self) -> Path:
        return self.state_dir / CIB_NAME

    def exists(self) -> bool:
        return self.path.exists()

    # -- writing -----------------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.state_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def write(self, doc: CibDocument) -> Path:
        """Store ``doc`` as the current CIB; returns the path of the backup it made."""
        data = doc.serialize()
        signature = (digest(data) + "\n").encode()
        with self._locked():
            self._remove_stale_temporaries()
            number = self._last_number() + 1
            backup = self.state_dir / f"cib-{number}.raw"
            atomic_write(backup, data)
            atomic_write(backup.with_name(backup.name + ".sig"), signature)
            atomic_write(self.path, data)
            atomic_write(self.path.with_name(CIB_NAME + ".sig"), signature)
            atomic_write(self.state_dir / "cib.last", f"{number}\n".encode())
            self._prune(number)
        return backup

    def _last_number(self) -> int:
        numbers = [n for n, _ in self._backup_files()]
        try:
            recorded = int((self.state_dir / "cib.last").read_text().strip())
        except (FileNotFoundError, ValueError):
            recorded = 0
        return max([recorded, *numbers])

    def _prune(self, newest: int) -> None:
        for number, path in self._backup_files():
            if number <= newest - self.keep:
                path.unlink(missing_ok=True)
                path.with_name(path.name + ".sig").unlink(missing_ok=True)

    def _remove_stale_temporaries(self) -> None:
        # Left by a writer that was killed; only one writer runs at a time (the lock).
        for leftover in self.state_dir.glob(".*.tmp-*"):
            leftover.unlink(missing_ok=True)

    # -- reading -----------------------------------------------------------------------------

    def _backup_files(self) -> list[tuple[int, Path]]:
        if not self.state_dir.is_dir():
            return []
        found = []
        for path in self.state_dir.iterdir():
            match = _BACKUP.fullmatch(path.name)
            if match:
                found.append((int(match.group(1)), path))
        return sorted(found, reverse=True)

    def backups(self) -> list[Path]:
        """Backup files, newest first."""
        return [path for _, path in self._backup_files()]

    def _verified(self, path: Path) -> bytes | None:
        """The file's bytes when its digest file matches, else None."""
        try:
            data = path.read_bytes()
            recorded = path.with_name(path.name + ".sig").read_text().strip()
        except (FileNotFoundError, UnicodeDecodeError):
            return None
        return data if digest(data) == recorded else None

    def last_good_backup(self) -> Path | None:
        for path in self.backups():
            data = self._verified(path)
            if data is not None and _parses(data, path):
                return path
        return None

    def load(self) -> CibDocument:
        """The current CIB; a damaged file is refused, naming the backup to restore."""
        if not self.path.exists():
            raise CibError(
                "no CIB stored yet",
                where=str(self.path),
                hint="a node's CIB is created on its first write",
            )
        data = self.path.read_bytes()
        if self._verified(self.path) is None:
            newest = self.backups()[:1]
            if newest and self._verified(newest[0]) == data:
                # A crash between replacing cib.xml and its digest: the content is the
                # newest backup's, which verifies. Finish the interrupted write.
                sig = self.path.with_name(CIB_NAME + ".sig")
                with self._locked():
                    atomic_write(sig, (digest(data) + "\n").encode())
            else:
                raise self._damaged("does not match its digest (cib.xml.sig)")
        try:
            return CibDocument.from_bytes(data, source=str(self.path))
        except CibError as exc:
            raise self._damaged(f"cannot be parsed ({exc.message})") from None

    def _damaged(self, what: str) -> CibError:
        good = self.last_good_backup()
        hint = (
            f"the last good backup is {good}; copy it over {self.path} (and its .sig)"
            if good is not None
            else "no backup verifies either; restore the CIB from another node"
        )
        return CibError(f"the stored CIB is damaged: it {what}", where=str(self.path), hint=hint)


def _parses(data: bytes, path: Path) -> bool:
    try:
        CibDocument.from_bytes(data, source=str(path))
    except CibError:
        return False
    return True
