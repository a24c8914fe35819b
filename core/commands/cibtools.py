"""Small lxml helpers the configuration commands share: ids the way pcs makes them,
sections, lookups, and name/value sets (instance_attributes, meta_attributes,
utilization, cluster_property_set).

Ids follow pcs so that configurations and scripts written for pcs read the same:
``R-instance_attributes``, ``R-instance_attributes-ip``, ``R-monitor-interval-10s``, and a
``-1``, ``-2``… suffix when the id is taken.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from lxml import etree

from hactl.core.cib.document import CibDocument, IdProvider, is_valid_id
from hactl.core.commands.grammar import did_you_mean
from hactl.core.errors import HactlError, NotFoundError

Element = etree._Element

RESOURCE_TAGS = ("primitive", "group", "clone", "master", "bundle", "template")
CONSTRAINT_TAGS = ("rsc_location", "rsc_order", "rsc_colocation", "rsc_ticket")


def elements(node: Element, expression: str, **variables: str) -> list[Element]:
    """The elements an XPath expression selects (typed, unlike lxml's xpath())."""
    found = node.xpath(expression, **variables)  # type: ignore[arg-type]
    return [e for e in found if isinstance(e, etree._Element)] if isinstance(found, list) else []


def check_new_id(root: Element, new_id: str, *, where: str | None = None) -> None:
    """A user-given id must be a valid XML id and not used yet."""
    if not is_valid_id(new_id):
        raise HactlError(
            f"{new_id!r} is not a valid id",
            where=where,
            hint="an id starts with a letter or _ and has only letters, digits, _ . -",
        )
    if id_exists(root, new_id):
        raise HactlError(f"id {new_id!r} is already in use", where=where, hint="choose another id")


#: where XML ids live: the configuration, except node entries (a node's id is a plain
#: string that a remote node's resource shares)
_ID_SCOPE = "./configuration/*[not(self::nodes)]//*[@id=$i]"


def id_exists(root: Element, element_id: str) -> bool:
    return bool(elements(root, _ID_SCOPE, i=element_id))


class IdAllocator:
    """pcs's ids in one edit (hactl.core.cib's IdProvider), plus pcs's nesting rule."""

    def __init__(self, root: Element) -> None:
        self.provider = IdProvider(CibDocument(root.getroottree().getroot()))

    def allocate(self, proposed: str) -> str:
        return self.provider.allocate(proposed)

    def book(self, element_id: str) -> None:
        """Reserve an id the user gave (already checked to be free)."""
        self.provider.book(element_id)

    def sub_id(self, parent: Element, suffix: str) -> str:
        """``<parent id>-<suffix>``, as pcs names nested elements."""
        return self.allocate(f"{parent.get('id', parent.tag)}-{suffix}")


def section(root: Element, name: str) -> Element:
    """The named child of <configuration>, created (in Pacemaker's order) when missing."""
    found = CibDocument(root.getroottree().getroot()).section(name, create=True)
    assert found is not None  # create=True
    return found


def find_id(root: Element, element_id: str) -> Element | None:
    found = elements(root, _ID_SCOPE, i=element_id)
    return found[0] if found else None


def all_resources(root: Element) -> list[Element]:
    """Every resource element (primitives, groups, clones, bundles) in document order."""
    resources = root.find("configuration/resources")
    if resources is None:
        return []
    return [el for el in resources.iter(*RESOURCE_TAGS)]


def resource_ids(root: Element) -> list[str]:
    return [str(el.get("id")) for el in all_resources(root)]


def find_resource(root: Element, resource_id: str, *, where: str | None = None) -> Element:
    """The resource with this id, or a NotFoundError naming the nearest existing one."""
    for element in all_resources(root):
        if element.get("id") == resource_id:
            return element
    known = resource_ids(root)
    hint = did_you_mean(resource_id, known) if known else "the configuration has no resources"
    raise NotFoundError(f"resource {resource_id!r} does not exist", where=where, hint=hint)


def resource_or_tag(root: Element, element_id: str, *, where: str | None = None) -> Element:
    """What a constraint may reference: a resource, a template or a tag."""
    found = elements(
        root,
        "./configuration/resources//*[@id=$i][self::primitive or self::group or self::clone "
        "or self::master or self::bundle or self::template]"
        " | ./configuration/tags/tag[@id=$i]",
        i=element_id,
    )
    if found:
        return found[0]
    return find_resource(root, element_id, where=where)


def is_stonith(element: Element) -> bool:
    return element.tag == "primitive" and element.get("class") == "stonith"


# ------------------------------------------------------------------ name/value sets


def nvset(parent: Element, tag: str, ids: IdAllocator, *, set_id: str | None = None) -> Element:
    """The first ``tag`` set (meta_attributes, …) of ``parent``, created when missing."""
    found = parent.find(tag)
    if found is not None:
        return found
    new = etree.SubElement(parent, tag, id=set_id or ids.sub_id(parent, tag))
    return new


def nvset_values(parent: Element, tag: str) -> dict[str, str]:
    """Name -> value of every nvpair in the ``tag`` sets of ``parent`` (first wins)."""
    values: dict[str, str] = {}
    for block in parent.findall(tag):
        for pair in block.findall("nvpair"):
            values.setdefault(str(pair.get("name")), str(pair.get("value", "")))
    return values


def update_nvset(
    parent: Element,
    tag: str,
    values: Mapping[str, str],
    ids: IdAllocator,
    *,
    set_id: str | None = None,
) -> Element | None:
    """Set each name to its value in ``parent``'s ``tag`` set; an empty value removes the
    name (pcs semantics). An emptied set is removed. Returns the set, if any remains."""
    existing = parent.find(tag)
    if existing is None and not any(values.values()):
        return None
    block = existing if existing is not None else nvset(parent, tag, ids, set_id=set_id)
    for name, value in values.items():
        pair = next((p for p in block.findall("nvpair") if p.get("name") == name), None)
        if value == "":
            if pair is not None:
                block.remove(pair)
            continue
        if pair is None:
            etree.SubElement(block, "nvpair", id=ids.sub_id(block, name), name=name, value=value)
        else:
            pair.set("value", value)
    if len(block) == 0:
        parent.remove(block)
        return None
    return block


def remove_elements(elements: Iterable[Element]) -> None:
    for element in list(elements):
        parent = element.getparent()
        if parent is not None:
            parent.remove(element)
