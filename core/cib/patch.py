"""Versions, v2 patchsets and xpath queries, compatible with Pacemaker's tools.

* Versions: a change under ``<configuration>`` bumps ``epoch`` and resets ``num_updates``
  to 0; any other change (status, the ``<cib>`` element's own attributes) bumps
  ``num_updates``; ``admin_epoch`` changes only when an administrator sets it.
* ``diff(old, new)`` gives a ``<diff format="2">`` patchset as ``crm_diff`` prints it and
  ``cibadmin --patch`` applies it; ``apply_patch(doc, patch)`` applies one (ours or
  Pacemaker's) the way Pacemaker does: deletions and modifications in order, then
  creations and moves by ascending position.
* ``xpath_query`` returns what ``cibadmin -Q --xpath`` prints.

Everything here works on lxml trees in memory; nothing does I/O.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree

from hactl.core.cib.document import (
    VERSION_ATTRIBUTES,
    CibDocument,
    CibError,
    attributes,
    parse_xml,
    serialize_element,
)

# -- versions -------------------------------------------------------------------------------


def _version(root: etree._Element, name: str) -> int:
    try:
        return max(int(root.get(name, "0")), 0)
    except ValueError:
        return 0


def bump_epoch(root: etree._Element) -> None:
    """A configuration change: epoch + 1, num_updates back to 0."""
    root.set("epoch", str(_version(root, "epoch") + 1))
    root.set("num_updates", "0")


def bump_num_updates(root: etree._Element) -> None:
    """A change outside the configuration (status): num_updates + 1."""
    root.set("num_updates", str(_version(root, "num_updates") + 1))


def bump_admin_epoch(root: etree._Element) -> None:
    """An administrator's override: a higher admin_epoch wins over any epoch on join."""
    root.set("admin_epoch", str(_version(root, "admin_epoch") + 1))


def configuration_changed(old: etree._Element, new: etree._Element) -> bool:
    """True when anything under ``<configuration>`` differs (Pacemaker's config_changed)."""
    old_config, new_config = old.find("configuration"), new.find("configuration")
    if old_config is None or new_config is None:
        return old_config is not new_config
    return not same_tree(old_config, new_config)


#: Attributes the CIB manager maintains itself (admin_epoch is the administrator's).
_COUNTERS = frozenset({"epoch", "num_updates", "cib-last-written"})


def bump_versions(old: CibDocument, new: CibDocument) -> bool:
    """Bump ``new``'s versions for the change from ``old`` as Pacemaker's CIB manager does.

    Returns False (and bumps nothing) when the documents are equal. Versions set by hand in
    ``new`` are kept as the base: the counter is bumped from what ``new`` says.
    """
    old_root, new_root = old.root, new.root
    counters_aside = _attributes_without(old_root, _COUNTERS) == _attributes_without(
        new_root, _COUNTERS
    )
    if counters_aside and _same_children(old_root, new_root):
        return False
    if configuration_changed(old_root, new_root):
        bump_epoch(new_root)
    else:
        bump_num_updates(new_root)
    return True


def _attributes_without(element: etree._Element, names: frozenset[str]) -> dict[str, str]:
    return {k: v for k, v in attributes(element).items() if k not in names}


def same_tree(a: etree._Element, b: etree._Element) -> bool:
    """Equal elements, ignoring attribute order and whitespace between elements (what
    Pacemaker strips). Serialising first makes the common, unchanged case C-fast."""
    if etree.tostring(a, with_tail=False) == etree.tostring(b, with_tail=False):
        return True
    if a.tag != b.tag or _attributes_without(a, frozenset()) != _attributes_without(b, frozenset()):
        return False
    if isinstance(a.tag, str) and (a.text or "").strip() != (b.text or "").strip():
        return False
    if not isinstance(a.tag, str) and a.text != b.text:  # comments
        return False
    return _same_children(a, b)


def _same_children(a: etree._Element, b: etree._Element) -> bool:
    children_a, children_b = list(a), list(b)
    return len(children_a) == len(children_b) and all(
        same_tree(x, y) for x, y in zip(children_a, children_b, strict=True)
    )


# -- element paths as Pacemaker writes them -----------------------------------------------------


def _is_node(child: object) -> bool:
    """Children that count for positions: elements and comments (Pacemaker's xmlNode list)."""
    return isinstance(child, etree._Element) and not isinstance(
        child, etree._ProcessingInstruction | etree._Entity
    )


def _name(element: etree._Element) -> str:
    return element.tag if isinstance(element.tag, str) else "comment"


def element_path(element: etree._Element) -> str:
    """How a patchset names an element: ``/cib/configuration/resources/primitive[@id='ip']``."""
    parts = []
    node: etree._Element | None = element
    while node is not None:
        part = _name(node)
        node_id = node.get("id") if isinstance(node.tag, str) else None
        if node_id is not None:
            part += f"[@id='{node_id}']"
        parts.append(part)
        node = node.getparent()
    return "/" + "/".join(reversed(parts))


def _position(element: etree._Element) -> int:
    parent = element.getparent()
    if parent is None:
        return 0
    return [c for c in parent if _is_node(c)].index(element)


# -- diff -------------------------------------------------------------------------------------


def _versions_element(parent: etree._Element, tag: str, root: etree._Element) -> None:
    child = etree.SubElement(parent, tag)
    for name in VERSION_ATTRIBUTES:
        child.set(name, root.get(name) or "1")


def _key(child: etree._Element) -> tuple[str, str | None]:
    if isinstance(child.tag, str):
        return child.tag, child.get("id")
    return "comment", child.text


def _longest_increasing(sequence: list[int]) -> set[int]:
    """Indexes (into sequence) of one longest strictly increasing subsequence."""
    tails: list[int] = []
    previous = [-1] * len(sequence)
    for i, value in enumerate(sequence):
        lo, hi = 0, len(tails)
        while lo < hi:
            mid = (lo + hi) // 2
            if sequence[tails[mid]] < value:
                lo = mid + 1
            else:
                hi = mid
        previous[i] = tails[lo - 1] if lo else -1
        if lo == len(tails):
            tails.append(i)
        else:
            tails[lo] = i
    keep: set[int] = set()
    index = tails[-1] if tails else -1
    while index >= 0:
        keep.add(index)
        index = previous[index]
    return keep


@dataclass
class _Changes:
    deletes: list[etree._Element]
    others: list[etree._Element]


def _serialized(element: etree._Element) -> bytes:
    return etree.tostring(element, with_tail=False)


def _same_leafish(old: etree._Element, new: etree._Element) -> bool:
    """Whether two paired elements are the same when that is quick to tell: an element
    without grandchildren (an operation history, an nvpair set) is compared serialised,
    at C speed; a deeper one is walked instead (False here), so that each part of a large
    tree is serialised once, not once for every level above it."""
    if any(len(child) for child in old) or any(len(child) for child in new):
        return False
    return _serialized(old) == _serialized(new)


def _compare(old: etree._Element, new: etree._Element, changes: _Changes) -> None:
    _compare_attributes(old, new, changes)
    _compare_children(old, new, changes)


def _compare_attributes(old: etree._Element, new: etree._Element, changes: _Changes) -> None:
    if isinstance(new.tag, str) and sorted(old.items()) != sorted(new.items()):
        change = etree.Element("change", operation="modify", path=element_path(new))
        change_list = etree.SubElement(change, "change-list")
        old_attrs, new_attrs = attributes(old), attributes(new)
        for name, value in new_attrs.items():
            if old_attrs.get(name) != value:
                etree.SubElement(
                    change_list, "change-attr", name=name, operation="set", value=value
                )
        for name in old_attrs:
            if name not in new_attrs:
                etree.SubElement(change_list, "change-attr", name=name, operation="unset")
        result = etree.SubElement(change, "change-result")
        result_element = etree.SubElement(result, str(new.tag))
        for name, value in new_attrs.items():
            result_element.set(name, value)
        changes.others.append(change)


def _compare_children(old: etree._Element, new: etree._Element, changes: _Changes) -> None:
    old_children = [c for c in old if _is_node(c)]
    new_children = [c for c in new if _is_node(c)]
    old_position = {id(child): index for index, child in enumerate(old_children)}
    # Pair children by (tag, id) in document order, as Pacemaker does.
    waiting: dict[tuple[str, str | None], list[etree._Element]] = {}
    for child in old_children:
        waiting.setdefault(_key(child), []).append(child)
    pairs: list[tuple[etree._Element, etree._Element]] = []  # in new order
    created: set[int] = set()
    for child in new_children:
        candidates = waiting.get(_key(child))
        if candidates:
            pairs.append((candidates.pop(0), child))
        else:
            created.add(id(child))
    for gone in (c for candidates in waiting.values() for c in candidates):
        change = etree.Element("change", operation="delete", path=element_path(gone))
        if not isinstance(gone.tag, str):
            change.set("position", str(old_position[id(gone)]))
        changes.deletes.append(change)
    for old_child, new_child in pairs:
        if isinstance(new_child.tag, str) and not _same_leafish(old_child, new_child):
            _compare(old_child, new_child, changes)
    # Children that keep their relative order stay; the others are moved.
    staying = _longest_increasing([old_position[id(o)] for o, _ in pairs])
    moved = {id(n) for i, (_, n) in enumerate(pairs) if i not in staying}
    parent_path = element_path(new) if created else ""
    for position, child in enumerate(new_children):
        if id(child) in created:
            change = etree.Element("change", operation="create", path=parent_path)
            change.set("position", str(position))
            change.append(copy.deepcopy(child))
            change[-1].tail = None
        elif id(child) in moved:
            change = etree.Element("change", operation="move", path=element_path(child))
            change.set("position", str(position))
        else:
            continue
        changes.others.append(change)


def diff(old: CibDocument, new: CibDocument) -> etree._Element:
    """The v2 patchset turning ``old`` into ``new`` (``crm_diff -o OLD -n NEW``)."""
    if old.root.tag != new.root.tag:
        raise CibError("cannot diff documents with different root elements")
    patch = etree.Element("diff", format="2")
    version = etree.SubElement(patch, "version")
    _versions_element(version, "source", old.root)
    _versions_element(version, "target", new.root)
    changes = _Changes([], [])
    _compare(old.root, new.root, changes)
    for change in (*changes.deletes, *changes.others):
        patch.append(change)
    return patch


#: one step from an element to a child: (tag, id), id None for the first child of that tag
Step = tuple[str, str | None]


def diff_parts(
    old: CibDocument, new: CibDocument, parts: Iterable[tuple[Step, ...]]
) -> etree._Element | None:
    """``diff(old, new)`` for documents known to differ only in the root's attributes and
    within the elements at ``parts`` (paths of steps below the root, an element that may
    exist on one side only): the cost follows the parts, not the document. None when a
    part's parent is missing on either side (``diff`` has to look at everything)."""
    patch = etree.Element("diff", format="2")
    version = etree.SubElement(patch, "version")
    _versions_element(version, "source", old.root)
    _versions_element(version, "target", new.root)
    changes = _Changes([], [])
    _compare_attributes(old.root, new.root, changes)
    children: dict[int, dict[Step, etree._Element]] = {}

    def child(parent: etree._Element, step: Step) -> etree._Element | None:
        index = children.get(id(parent))
        if index is None:
            index = children[id(parent)] = {}
            for element in parent:
                if isinstance(element.tag, str):
                    index.setdefault((element.tag, element.get("id")), element)
                    index.setdefault((element.tag, None), element)
        return index.get(step)

    def descend(root: etree._Element, steps: tuple[Step, ...]) -> etree._Element | None:
        current: etree._Element | None = root
        for step in steps:
            current = child(current, step) if current is not None else None
        return current

    for part in dict.fromkeys(parts):
        old_parent, new_parent = descend(old.root, part[:-1]), descend(new.root, part[:-1])
        if old_parent is None or new_parent is None:
            return None
        old_element, new_element = child(old_parent, part[-1]), child(new_parent, part[-1])
        if old_element is not None and new_element is not None:
            if _serialized(old_element) != _serialized(new_element):
                _compare(old_element, new_element, changes)
        elif new_element is not None:
            change = etree.Element("change", operation="create")
            change.set("path", element_path(new_parent))
            change.set("position", str(_position(new_element)))
            change.append(copy.deepcopy(new_element))
            change[-1].tail = None
            changes.others.append(change)
        elif old_element is not None:
            changes.deletes.append(
                etree.Element("change", operation="delete", path=element_path(old_element))
            )
    for change in (*changes.deletes, *changes.others):
        patch.append(change)
    return patch


def restamped(
    patch: etree._Element, before: dict[str, str], after: etree._Element
) -> etree._Element:
    """``patch`` as it moved a CIB whose root had the attributes ``before`` to the root
    ``after`` (versions bumped by the CIB manager): its <version> and its change of the
    <cib> element's own attributes say so, the other changes are kept as they are."""
    result = etree.Element("diff", format="2")
    version = etree.SubElement(result, "version")
    _versions_element(version, "source", etree.Element("cib", before))
    _versions_element(version, "target", after)
    changes = _Changes([], [])
    _compare_attributes(etree.Element("cib", before), after, changes)
    kept = [
        c
        for c in patch.iterfind("change")
        if not (c.get("operation") == "modify" and c.get("path") == "/cib")
    ]
    deletes = [c for c in kept if c.get("operation") == "delete"]
    others = [c for c in kept if c.get("operation") != "delete"]
    for change in (*deletes, *changes.others, *others):
        result.append(copy.deepcopy(change))
    return result


def parse_patch(data: bytes, *, source: str = "<patch>") -> etree._Element:
    """A patchset read from bytes; anything but a <diff> is refused with a clear error."""
    patch = parse_xml(data, source=source)
    if patch.tag != "diff":
        raise CibError(
            f"root element is <{patch.tag}>, not <diff>",
            where=f"{source}:1",
            hint="a patch is what `hactl cib diff` or crm_diff prints",
        )
    return patch


def is_empty_patch(patch: etree._Element) -> bool:
    return patch.find("change") is None


# -- apply --------------------------------------------------------------------------------------

_PATH_STEP = re.compile(r"([^/\[]+)(?:\[@id='([^']*)'\])?")


def _find(root: etree._Element, path: str, position: int) -> etree._Element | None:
    steps = _split_path(path)
    if not steps:
        return None
    first_tag, first_id = steps[0]
    if first_tag != _name(root) or (first_id is not None and root.get("id") != first_id):
        return None
    current = root
    for index, (tag, element_id) in enumerate(steps[1:], start=1):
        last = index == len(steps) - 1
        found = None
        for child_position, child in enumerate(c for c in current if _is_node(c)):
            if _name(child) != tag:
                continue
            if element_id is not None and (
                not isinstance(child.tag, str) or child.get("id") != element_id
            ):
                continue
            if (
                not isinstance(child.tag, str)
                and last
                and position >= 0
                and child_position != position
            ):
                continue
            found = child
            break
        if found is None:
            return None
        current = found
    return current


def _split_path(path: str) -> list[tuple[str, str | None]]:
    steps: list[tuple[str, str | None]] = []
    index = 0
    while index < len(path):
        if path[index] != "/":
            raise CibError(
                f"bad change path {path!r}", hint="paths look like /cib/configuration/resources"
            )
        match = _PATH_STEP.match(path, index + 1)
        if match is None:
            raise CibError(
                f"bad change path {path!r}", hint="paths look like /cib/configuration/resources"
            )
        steps.append((match.group(1), match.group(2)))
        index = match.end()
    return steps


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def patch_versions(patch: etree._Element) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    version = patch.find("version")
    if version is None:
        return None
    source, target = version.find("source"), version.find("target")
    if source is None or target is None:
        return None
    return (
        tuple(_int(source.get(n), 0) for n in VERSION_ATTRIBUTES),
        tuple(_int(target.get(n), 0) for n in VERSION_ATTRIBUTES),
    )


@dataclass(frozen=True)
class Applied:
    """What applying a patch changed: anything at all, and anything under
    ``<configuration>`` (which bumps epoch rather than num_updates)."""

    changed: bool
    configuration_changed: bool


class _Journal:
    """Undo steps for changes made in place, so that a patch that fails half-way leaves
    the document as it was without copying it first."""

    def __init__(self) -> None:
        self._steps: list[tuple[str, etree._Element, etree._Element | None, int, object]] = []

    def detached(self, element: etree._Element) -> None:
        """Before ``element`` leaves its parent: where it was, and its tail."""
        parent = element.getparent()
        assert parent is not None
        self._steps.append(("detach", element, parent, parent.index(element), element.tail))

    def attributes(self, element: etree._Element) -> None:
        self._steps.append(("attributes", element, None, 0, attributes(element)))

    def inserted(self, element: etree._Element) -> None:
        self._steps.append(("insert", element, None, 0, None))

    def undo(self) -> None:
        for kind, element, parent, index, saved in reversed(self._steps):
            if kind == "attributes":
                element.attrib.clear()
                element.attrib.update(saved)  # type: ignore[arg-type]
                continue
            current = element.getparent()
            if current is not None:
                current.remove(element)
            if kind == "detach":
                assert parent is not None
                parent.insert(index, element)
                element.tail = saved  # type: ignore[assignment]


def _in_configuration(path: str) -> bool:
    return path == "/cib/configuration" or path.startswith("/cib/configuration/")


def apply_patch(doc: CibDocument, patch: etree._Element, *, check_versions: bool = True) -> Applied:
    """Apply a v2 patchset to ``doc`` in place; on any failure ``doc`` is left unchanged.

    With ``check_versions`` (as ``cibadmin --patch``), the document must be at the patch's
    source version and the target must be newer. Only the elements the patch names are
    touched (a journal undoes them on failure), so the cost follows the patch's size, not
    the document's.
    """
    if patch.tag != "diff":
        raise CibError(
            f"a patch is a <diff> element, not <{patch.tag}>",
            hint="make one with `hactl cib diff OLD NEW` or crm_diff",
        )
    if patch.get("format", "1") != "2":
        raise CibError(
            f"unsupported patch format {patch.get('format', '1')!r}",
            hint="only format 2 patchsets (Pacemaker 1.1.12 and later) are supported",
        )
    if check_versions:
        _check_versions(doc, patch)
    journal = _Journal()
    try:
        applied = _apply_changes(doc.root, patch, journal)
    except BaseException:
        journal.undo()
        raise
    if doc.root.sourceline:
        # Line numbers of the loaded text mean nothing once it changed: forget them (0 is
        # lxml's "unknown"), so that messages name elements by tag and id only.
        for element in doc.root.iter():
            element.sourceline = 0  # type: ignore[assignment]
        doc.replace_with(CibDocument(doc.root, source=doc.source))
    return applied


def _apply_changes(root: etree._Element, patch: etree._Element, journal: _Journal) -> Applied:
    changed = configuration = False

    def note(path: str) -> None:
        nonlocal changed, configuration
        changed = True
        configuration = configuration or _in_configuration(path)

    delayed: list[tuple[int, int, etree._Element, etree._Element]] = []
    for order, change in enumerate(patch.iterfind("change")):
        operation, path = change.get("operation"), change.get("path")
        if operation is None:
            continue
        if path is None:
            raise CibError(
                f"{operation} change without a path", where=f"patch line {change.sourceline}"
            )
        position = _int(change.get("position"), -1) if operation == "delete" else -1
        match = _find(root, path, position)
        if match is None:
            if operation == "delete":
                continue  # already gone: Pacemaker tolerates this too
            raise CibError(
                f"{operation} target not found: {path}",
                where=f"patch line {change.sourceline}",
                hint="the patch was made against a different CIB",
            )
        if operation == "delete":
            if match.getparent() is None:
                raise CibError("a patch cannot delete the <cib> element")
            journal.detached(match)
            _remove(match)
            note(path)
        elif operation == "modify":
            result = change.find("change-result")
            attrs = (
                next((c for c in result if isinstance(c.tag, str)), None)
                if result is not None
                else None
            )
            if attrs is None:
                raise CibError(
                    f"modify change for {path} has no <change-result>",
                    where=f"patch line {change.sourceline}",
                )
            wanted = attributes(attrs)
            before = attributes(match)
            if before == wanted:
                continue
            journal.attributes(match)
            match.attrib.clear()
            for name, value in wanted.items():
                match.set(name, value)
            counters = _COUNTERS | {"admin_epoch"}
            if match.getparent() is not None or _without(before, counters) != _without(
                wanted, counters
            ):
                note(path)  # the <cib> element's counters alone are no change
        elif operation in ("create", "move"):
            delayed.append((_int(change.get("position"), 0), order, change, match))
            if operation == "move":
                parent = match.getparent()
                if parent is not None:
                    journal.detached(match)
                    _remove(match)
                    parent.append(match)
        else:
            raise CibError(
                f"unknown change operation {operation!r}",
                where=f"patch line {change.sourceline}",
                hint="operations are create, delete, modify and move",
            )
    for position, _, change, match in sorted(delayed, key=lambda item: (item[0], item[1])):
        if change.get("operation") == "create":
            content = next((c for c in change if _is_node(c)), None)
            if content is None:
                raise CibError(
                    "create change without content", where=f"patch line {change.sourceline}"
                )
            created = copy.deepcopy(content)
            for element in created.iter():
                element.sourceline = 0  # type: ignore[assignment]  # the patch's lines
            _insert(match, position, created)
            journal.inserted(created)
            note(str(change.get("path")))
        else:
            parent = match.getparent()
            if parent is None:
                continue
            journal.detached(match)
            _remove(match)
            _insert(parent, position, match)
            if _position(match) != position:
                raise CibError(
                    f"could not move {change.get('path')} to position {position}",
                    where=f"patch line {change.sourceline}",
                )
            note(str(change.get("path")))
    return Applied(changed, configuration)


def _without(values: dict[str, str], names: frozenset[str]) -> dict[str, str]:
    return {k: v for k, v in values.items() if k not in names}


def _remove(element: etree._Element) -> None:
    parent = element.getparent()
    assert parent is not None
    # Keep the text that followed the element, so pretty-printing is not disturbed.
    parent.remove(element)
    element.tail = None


def _insert(parent: etree._Element, position: int, child: etree._Element) -> None:
    child.tail = None
    siblings = [c for c in parent if _is_node(c)]
    if position < len(siblings):
        siblings[position].addprevious(child)
    else:
        parent.append(child)


def _check_versions(doc: CibDocument, patch: etree._Element) -> None:
    versions = patch_versions(patch)
    if versions is None:
        return
    source, target = versions
    current = doc.versions()
    label = ".".join
    if current != source:
        raise CibError(
            f"the patch applies to version {label(map(str, source))}, "
            f"the CIB is at {label(map(str, current))}",
            hint="make the patch against this CIB (or apply it without version checks)",
        )
    if target <= source:
        raise CibError(
            f"the patch's target version {label(map(str, target))} is not newer than its source",
            hint="a patch must move the CIB forward",
        )


# -- xpath ----------------------------------------------------------------------------------


def xpath_query(doc: CibDocument, expression: str) -> list[etree._Element]:
    """What ``cibadmin -Q --xpath`` prints: an attribute or text match gives its element."""
    try:
        result = doc.root.getroottree().xpath(expression)
    except etree.XPathError as exc:
        raise CibError(
            f"invalid xpath {expression!r}: {exc}",
            hint="e.g. //primitive[@id='ip'] or /cib/configuration/resources",
        ) from None
    if not isinstance(result, list):
        raise CibError(
            f"xpath {expression!r} gives a value, not elements",
            hint="cibadmin queries select elements, e.g. //primitive",
        )
    elements: list[etree._Element] = []
    for item in result:
        element = item.getparent() if isinstance(item, etree._ElementUnicodeResult) else item
        if isinstance(element, etree._Element) and not any(element is e for e in elements):
            elements.append(element)
    return elements


def query_output(elements: list[etree._Element]) -> bytes:
    """How cibadmin prints a query's result: the element, or several in <xpath-query>."""
    if len(elements) == 1:
        return serialize_element(copy.deepcopy(elements[0]))
    wrapper = etree.Element("xpath-query")
    for element in elements:
        clone = copy.deepcopy(element)
        clone.tail = None
        wrapper.append(clone)
    return serialize_element(wrapper)
