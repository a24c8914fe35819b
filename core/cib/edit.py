"""Small pure edits of CIB sections, for commands to compose (pcs/lib/cib style).

Each function changes the lxml elements it is given and nothing else: no validation, no
version bump, no I/O. A command validates its input, composes these, then validates the
result, bumps the versions (patch.bump_versions) and writes.
"""

from __future__ import annotations

from lxml import etree

from hactl.core.cib.document import CibDocument, IdProvider
from hactl.core.cib.schema import OPTION_ALIASES, canonical_option

#: Where Pacemaker and pcs keep the cluster options.
BOOTSTRAP_SET_ID = "cib-bootstrap-options"


def append_element(
    parent: etree._Element, tag: str, ids: IdProvider | None = None, id_base: str = "", **attrs: str
) -> etree._Element:
    """A new child; with ``ids`` it gets a unique id derived from ``id_base``."""
    child = etree.SubElement(parent, tag)
    if ids is not None:
        child.set("id", ids.allocate(id_base or tag))
    for name, value in attrs.items():
        child.set(name.replace("_", "-"), value)
    return child


def nvset(
    owner: etree._Element, tag: str, ids: IdProvider, *, create: bool = True
) -> etree._Element | None:
    """The first rule-less ``tag`` set (meta_attributes, instance_attributes, utilization,
    cluster_property_set) of ``owner``; created as ``OWNERID-meta_attributes`` if absent."""
    for found in owner.iterfind(tag):
        if found.find("rule") is None and found.get("id-ref") is None:
            return found
    if not create:
        return None
    owner_id = owner.get("id") or owner.tag
    created = etree.Element(tag, id=ids.allocate(f"{owner_id}-{tag}"))
    owner.append(created)
    return created


def set_nvpair(
    nvset_element: etree._Element, name: str, value: str | None, ids: IdProvider
) -> None:
    """Set ``name`` to ``value`` in the set (``None`` removes it), keeping its id if present."""
    existing = [p for p in nvset_element.iterfind("nvpair") if p.get("name") == name]
    if value is None:
        for pair in existing:
            nvset_element.remove(pair)
        return
    if existing:
        existing[0].set("value", value)
        for extra in existing[1:]:
            nvset_element.remove(extra)
        return
    set_id = nvset_element.get("id") or nvset_element.tag
    etree.SubElement(
        nvset_element, "nvpair", id=ids.allocate(f"{set_id}-{name}"), name=name, value=value
    )


def set_cluster_option(doc: CibDocument, name: str, value: str | None, ids: IdProvider) -> None:
    """Set a cluster option in ``cib-bootstrap-options``. Either spelling of a renamed
    option updates the one already present, so a CIB never holds both."""
    crm_config = doc.section("crm_config", create=True)
    assert crm_config is not None
    properties = next(
        (s for s in crm_config.iterfind("cluster_property_set") if s.get("id") == BOOTSTRAP_SET_ID),
        None,
    )
    if properties is None:
        properties = etree.Element("cluster_property_set", id=ids.allocate(BOOTSTRAP_SET_ID))
        crm_config.insert(0, properties)
    canonical = canonical_option(name)
    spellings = {canonical, *(old for old, new in OPTION_ALIASES.items() if new == canonical)}
    present = [p.get("name") for p in properties.iterfind("nvpair") if p.get("name") in spellings]
    target = str(present[0]) if present else name
    for other in spellings - {target}:
        set_nvpair(properties, other, None, ids)
    set_nvpair(properties, target, value, ids)


def remove_element(element: etree._Element) -> None:
    """Detach an element, keeping the surrounding whitespace tidy."""
    parent = element.getparent()
    if parent is None:
        raise ValueError("cannot remove the root element")
    parent.remove(element)
