"""CIB handles and the read / edit runners every configuration command goes through.

A handle is anything with ``get()`` (the current CIB) and ``push(doc)`` (save it): the
offline file of ``-f FILE`` here, the running cluster's API later. Use cases only ever see
an lxml root element; :func:`edit` gives them a private copy and pushes it only when they
return without raising, so a refused command leaves the CIB exactly as it was.
"""

from __future__ import annotations

import copy
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from lxml import etree

from hactl.core.commands.cibtools import Element
from hactl.core.errors import HactlError

T = TypeVar("T")

#: the schema new CIBs declare: the newest one the installed Pacemaker tools validate
EMPTY_CIB_SCHEMA = "pacemaker-3.9"


class CibHandle(Protocol):
    def get(self) -> Element: ...

    def push(self, root: Element) -> None: ...


def empty_cib() -> Element:
    """What a new cluster's CIB holds before anything is configured (as `-f NEW` in pcs)."""
    root = etree.Element(
        "cib",
        {
            "admin_epoch": "0",
            "epoch": "0",
            "num_updates": "0",
            "validate-with": EMPTY_CIB_SCHEMA,
        },
    )
    config = etree.SubElement(root, "configuration")
    for name in ("crm_config", "nodes", "resources", "constraints"):
        etree.SubElement(config, name)
    etree.SubElement(root, "status")
    return root


def parse_cib(data: bytes, *, where: str) -> Element:
    """Parse CIB XML, with a one-line error naming the file and line when it is not XML."""
    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else 0
        raise HactlError(
            f"not well-formed XML: {exc.msg}",
            where=f"{where}:{line}",
            hint="fix the file, or start from an empty CIB with a new file name",
        ) from None
    if root.tag != "cib":
        raise HactlError(
            f"the document's root element is <{root.tag}>, not <cib>",
            where=where,
            hint="give a CIB as `cibadmin -Q` or `hactl cluster cib` prints it",
        )
    if root.find("configuration") is None:
        raise HactlError(
            "the CIB has no <configuration> section", where=where, hint="is this a CIB?"
        )
    return root


def bump_epoch(root: Element) -> None:
    """A configuration change: epoch + 1 and num_updates back to 0, as Pacemaker does."""
    try:
        epoch = int(root.get("epoch", "0"))
    except ValueError:
        epoch = 0
    root.set("epoch", str(epoch + 1))
    root.set("num_updates", "0")


def serialize(root: Element) -> bytes:
    return etree.tostring(root, pretty_print=True, xml_declaration=False, encoding="UTF-8")


def write_atomically(path: Path, data: bytes) -> None:
    """Temp file in the same directory, fsync, rename: readers see the old or the new."""
    directory = path.parent if str(path.parent) else Path(".")
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        if path.exists():
            os.chmod(temp_name, path.stat().st_mode & 0o7777)
        os.replace(temp_name, path)
    except BaseException:
        if os.path.exists(temp_name):
            os.unlink(temp_name)
        raise


@dataclass
class FileCibHandle:
    """The CIB in a file (pcs's ``-f FILE``): a file that does not exist yet is an empty
    CIB, created by the first push."""

    path: Path

    def get(self) -> Element:
        if not self.path.exists():
            return empty_cib()
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise HactlError(
                f"cannot read the CIB: {exc.strerror}", where=str(self.path), hint="check the path"
            ) from None
        if not data.strip():
            return empty_cib()
        return parse_cib(data, where=str(self.path))

    def push(self, root: Element) -> None:
        bump_epoch(root)
        try:
            write_atomically(self.path, serialize(root))
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

    def get(self) -> Element:
        raise self._refuse()

    def push(self, root: Element) -> None:
        raise self._refuse()


@dataclass
class Notes:
    """Warnings a use case wants the user to see, even when it succeeds."""

    warnings: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        self.warnings.append(message)


def read(handle: CibHandle, use_case: Callable[[Element], T]) -> T:
    return use_case(handle.get())


def edit(handle: CibHandle, use_case: Callable[[Element], T]) -> T:
    """Run ``use_case`` on a copy of the CIB; push the copy only if it succeeds."""
    root = copy.deepcopy(handle.get())
    result = use_case(root)
    handle.push(root)
    return result


def current_handle() -> CibHandle:
    """The CIB the command line works on: ``CIB_file`` (set by ``-f FILE``, as Pacemaker's
    tools read it) or, without one, the running cluster (none exists yet)."""
    path = os.environ.get("CIB_file")
    if path:
        return FileCibHandle(Path(path))
    return NoClusterHandle()
