"""The CIB as an lxml document: loading with line numbers, the empty CIB, ids.

A CibDocument owns one ``<cib>`` tree. Loading never half-succeeds: bytes that are not
well-formed XML, a truncated file or a wrong root element raise CibError naming the place
(file and line) and saying what to do.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path

from lxml import etree

from hactl.core.errors import HactlError

#: The schema hactl writes into a new CIB; the newest one Pacemaker 2.1 and 3.x both read.
DEFAULT_SCHEMA = "pacemaker-3.9"

#: Sections of ``<configuration>`` in the order Pacemaker writes them.
CONFIGURATION_SECTIONS = (
    "crm_config",
    "nodes",
    "resources",
    "constraints",
    "rsc_defaults",
    "op_defaults",
    "fencing-topology",
    "acls",
    "tags",
    "alerts",
)

#: Sections every CIB has, even an empty one (what ``cibadmin --empty`` writes).
MANDATORY_SECTIONS = ("crm_config", "nodes", "resources", "constraints")

VERSION_ATTRIBUTES = ("admin_epoch", "epoch", "num_updates")

_PARSER = etree.XMLParser(
    remove_blank_text=True, resolve_entities=False, no_network=True, huge_tree=False
)


class CibError(HactlError):
    """A CIB could not be loaded, stored or changed."""


class CibDocument:
    """One CIB: the lxml tree plus where it came from (for messages)."""

    def __init__(
        self, root: etree._Element, *, source: str = "<cib>", text: bytes | None = None
    ) -> None:
        if root.tag != "cib":
            raise CibError(
                f"root element is <{root.tag}>, not <cib>",
                where=f"{source}:{root.sourceline or 1}",
                hint="a CIB starts with <cib ...>; is this the right file?",
            )
        self.root = root
        self.source = source
        # The loaded text's lines, to name the line where a multi-line start tag begins
        # (libxml2 records the line where it ends).
        self._lines = text.splitlines() if text is not None else []

    # -- loading and writing -------------------------------------------------------------

    @classmethod
    def from_bytes(cls, data: bytes, *, source: str = "<bytes>") -> CibDocument:
        return cls(parse_xml(data, source=source), source=source, text=data)

    @classmethod
    def load(cls, path: str | Path) -> CibDocument:
        path = Path(path)
        return cls.from_bytes(read_file(path), source=str(path))

    @classmethod
    def new_empty(cls, validate_with: str = DEFAULT_SCHEMA) -> CibDocument:
        """The CIB ``pcs -f NEWFILE`` and ``cibadmin --empty`` start from."""
        root = etree.Element("cib")
        root.set("validate-with", validate_with)
        root.set("epoch", "1")
        root.set("num_updates", "0")
        root.set("admin_epoch", "0")
        configuration = etree.SubElement(root, "configuration")
        for name in MANDATORY_SECTIONS:
            etree.SubElement(configuration, name)
        etree.SubElement(root, "status")
        # Round-trip so that every element has a line number, as a loaded document does.
        return cls.from_bytes(serialize_element(root), source="<new>")

    def replace_with(self, other: CibDocument) -> None:
        """Take over another document's tree (and its line numbers) in place."""
        self.root, self._lines = other.root, other._lines

    def serialize(self, *, pretty: bool = True) -> bytes:
        return serialize_element(self.root, pretty=pretty)

    def copy(self) -> CibDocument:
        return CibDocument(copy.deepcopy(self.root), source=self.source)

    # -- navigation ----------------------------------------------------------------------

    @property
    def configuration(self) -> etree._Element:
        found = self.root.find("configuration")
        if found is None:
            raise CibError(
                "the CIB has no <configuration> section",
                where=self.where(self.root),
                hint="every CIB needs <configuration> with crm_config, nodes, resources, "
                "constraints",
            )
        return found

    def section(self, name: str, *, create: bool = False) -> etree._Element | None:
        """A ``<configuration>`` section (``resources``, ``constraints``...) or ``status``."""
        if name == "status":
            status = self.root.find("status")
            if status is None and create:
                status = etree.SubElement(self.root, "status")
            return status
        if name not in CONFIGURATION_SECTIONS:
            raise ValueError(f"unknown CIB section {name!r}")
        configuration = self.configuration
        found = configuration.find(name)
        if found is None and create:
            found = etree.Element(name)
            # Keep Pacemaker's section order so written files diff cleanly.
            rank = CONFIGURATION_SECTIONS.index(name)
            before = next(
                (
                    child
                    for child in configuration
                    if isinstance(child.tag, str)
                    and child.tag in CONFIGURATION_SECTIONS
                    and CONFIGURATION_SECTIONS.index(child.tag) > rank
                ),
                None,
            )
            if before is None:
                configuration.append(found)
            else:
                before.addprevious(found)
        return found

    def find_by_id(self, element_id: str, *, include_status: bool = False) -> etree._Element | None:
        for element in self.iter_with_id(include_status=include_status):
            if element.get("id") == element_id:
                return element
        return None

    def iter_with_id(self, *, include_status: bool = False) -> Iterator[etree._Element]:
        scope = self.root if include_status else self.root.find("configuration")
        if scope is None:
            return
        for element in scope.iter():
            if isinstance(element.tag, str) and element.get("id") is not None:
                yield element

    def where(self, element: etree._Element) -> str:
        """``FILE:LINE <tag id=...>``: how messages name an element."""
        tag = element.tag if isinstance(element.tag, str) else "comment"
        element_id = element.get("id") if isinstance(element.tag, str) else None
        name = f"<{tag} id={element_id!r}>" if element_id is not None else f"<{tag}>"
        line = self.line_of(element)
        return f"{self.source}:{line} {name}" if line else f"{self.source} {name}"

    def line_of(self, element: etree._Element) -> int | None:
        """The line where the element's start tag begins."""
        line: int | None = element.sourceline  # type: ignore[assignment]  # stubs say "..."
        if line is None or not isinstance(element.tag, str) or line > len(self._lines):
            return line
        opening = b"<" + element.tag.encode()
        for candidate in range(line, max(line - 200, 0), -1):
            text = self._lines[candidate - 1]
            position = text.rfind(opening)
            if position >= 0 and text[position + len(opening) : position + len(opening) + 1] in (
                b"",
                b" ",
                b"\t",
                b">",
                b"/",
            ):
                return candidate
        return line

    def versions(self) -> tuple[int, int, int]:
        """(admin_epoch, epoch, num_updates); a missing or bad field counts as 0."""
        return tuple(_int_or_zero(self.root.get(name)) for name in VERSION_ATTRIBUTES)  # type: ignore[return-value]


def attributes(element: etree._Element) -> dict[str, str]:
    """An element's attributes as plain strings (namespaced ones are left out)."""
    return {
        str(name): str(value)
        for name, value in element.attrib.items()
        if not str(name).startswith("{")
    }


def read_file(path: str | Path) -> bytes:
    """A file's bytes, or a CibError saying why it cannot be read."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise CibError("no such file", where=str(path), hint="check the path") from None
    except IsADirectoryError:
        raise CibError("is a directory, not a file", where=str(path)) from None
    except OSError as exc:
        raise CibError(f"cannot read: {exc.strerror}", where=str(path)) from None


def parse_xml(data: bytes, *, source: str) -> etree._Element:
    """Parse XML with line numbers; an error names the line and says what to do."""
    if not data.strip():
        raise CibError(
            "the file is empty",
            where=source,
            hint="an empty file is not a CIB; create one with `hactl cib new FILE`",
        )
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or 1
        detail = str(exc.msg or exc).split(", line ")[0]
        lowered = detail.lower()
        ends_early = line >= data.count(b"\n") + 1 and not data.rstrip().endswith(b">")
        truncated = "end of data" in lowered or "premature end" in lowered or ends_early
        raise CibError(
            f"not well-formed XML: {detail}",
            where=f"{source}:{line}",
            hint=(
                "the file looks truncated; restore it from a backup"
                if truncated
                else "fix the XML syntax at that line"
            ),
        ) from None


def serialize_element(element: etree._Element, *, pretty: bool = True) -> bytes:
    return etree.tostring(element, pretty_print=pretty, encoding="utf-8")


def _int_or_zero(text: str | None) -> int:
    try:
        return max(int(text or "0"), 0)
    except ValueError:
        return 0


_ID_FIRST = re.compile(r"^[^a-zA-Z_]+")
_ID_INVALID = re.compile(r"[^a-zA-Z0-9_.-]")


class IdProvider:
    """Makes ids unique in one document, the way pcs does (``name``, ``name-1``, ...).

    Ids handed out but not yet inserted into the tree are remembered, so a command that
    builds several elements before inserting them never gets the same id twice. The ids
    in the tree are read once, when the provider is made: make one per edit.
    """

    def __init__(self, doc: CibDocument) -> None:
        self._taken = {
            str(el.get("id"))
            for el in doc.root.iter()
            if isinstance(el.tag, str) and el.get("id") is not None
        }

    def allocate(self, base: str) -> str:
        """A valid, unused id derived from ``base`` (invalid characters become ``-``...)."""
        candidate = sanitize_id(base)
        stem, counter = candidate, 0
        while candidate in self._taken:
            counter += 1
            candidate = f"{stem}-{counter}"
        self._taken.add(candidate)
        return candidate

    def book(self, element_id: str) -> bool:
        """Reserve a user-chosen id; False when it is already used."""
        if element_id in self._taken:
            return False
        self._taken.add(element_id)
        return True


def sanitize_id(text: str) -> str:
    """Turn free text into a valid XML id (what pcs does for ids it derives from names)."""
    cleaned = _ID_INVALID.sub("-", _ID_FIRST.sub("", text))
    return cleaned or "id"


def is_valid_id(text: str) -> bool:
    """An XML NCName, which is what Pacemaker's schema requires of ids: a letter or "_",
    then letters, digits, ".", "-" or "_" (no ":", no spaces)."""
    return bool(re.fullmatch(r"[^\W\d][\w.\-]*", text))
