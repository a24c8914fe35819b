"""CIB handles and the read / edit runners every configuration command goes through.

A handle is anything with ``get()`` (the current CibDocument) and ``push(doc)`` (save it):
the offline file of ``-f FILE`` here, the running cluster's API later. Use cases only ever
see the document's lxml root; :func:`edit` gives them a private copy and pushes it only
when they return without raising, so a refused command leaves the CIB exactly as it was.
Loading, the empty CIB, versions and atomic writes are hactl.core.cib's.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from hactl.core.cib.document import CibDocument
from hactl.core.cib.patch import bump_epoch
from hactl.core.cib.store import atomic_write
from hactl.core.commands.cibtools import Element
from hactl.core.errors import HactlError

T = TypeVar("T")


class CibHandle(Protocol):
    def get(self) -> CibDocument: ...

    def push(self, doc: CibDocument) -> None: ...


@dataclass
class FileCibHandle:
    """The CIB in a file (pcs's ``-f FILE``): a file that does not exist yet (or is empty)
    is an empty CIB, created by the first push; each push bumps the epoch."""

    path: Path

    def get(self) -> CibDocument:
        if not self.path.exists() or self.path.stat().st_size == 0:
            return CibDocument.new_empty()
        return CibDocument.load(self.path)

    def push(self, doc: CibDocument) -> None:
        bump_epoch(doc.root)
        try:
            atomic_write(self.path, doc.serialize())
        except OSError as exc:
            raise HactlError(
                f"cannot write the CIB: {exc.strerror}",
                where=str(self.path),
                hint="check the directory exists and is writable",
            ) from None


class NoClusterHandle:
    """Without -f and without a running daemon there is no CIB to work on."""

    def _refuse(self) -> HactlError:
        return HactlError(
            "no running hactl cluster on this node to configure",
            hint="edit a CIB file offline with -f FILE (a new file starts empty)",
        )

    def get(self) -> CibDocument:
        raise self._refuse()

    def push(self, doc: CibDocument) -> None:
        raise self._refuse()


@dataclass
class Notes:
    """Warnings a use case wants the user to see, even when it succeeds."""

    warnings: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        self.warnings.append(message)


def read(handle: CibHandle, use_case: Callable[[Element], T]) -> T:
    return use_case(handle.get().root)


def edit(handle: CibHandle, use_case: Callable[[Element], T]) -> T:
    """Run ``use_case`` on a copy of the CIB; push the copy only if it succeeds."""
    work = handle.get().copy()
    result = use_case(work.root)
    handle.push(work)
    return result


def current_handle() -> CibHandle:
    """The CIB the command line works on: ``CIB_file`` (set by ``-f FILE``, as Pacemaker's
    tools read it) or, without one, the running cluster (none exists yet)."""
    path = os.environ.get("CIB_file")
    if path:
        return FileCibHandle(Path(path))
    from hactl.core.daemon.client import LiveCibHandle  # the running cluster's API

    return LiveCibHandle()
