"""Transient node attributes in the CIB's status section, with Pacemaker's ids:

<node_state id=NODEID uname=NAME>
  <transient_attributes id=NODEID>
    <instance_attributes id="status-NODEID">
      <nvpair id="status-NODEID-NAME" name=NAME value=VALUE/>
"""

from __future__ import annotations

import re

from lxml import etree

from hactl.core.errors import NotFoundError

Element = etree._Element
_NOT_IN_ID = re.compile(r"[^A-Za-z0-9_.-]")


def node_id(root: Element, node: str) -> str:
    """The id of the node named ``node`` in the nodes section (Pacemaker keys the status
    section by id); a node the configuration does not list is refused."""
    for entry in root.iterfind("configuration/nodes/node"):
        if entry.get("uname") == node or entry.get("id") == node:
            return str(entry.get("id"))
    known = [str(n.get("uname") or n.get("id")) for n in root.iterfind("configuration/nodes/node")]
    raise NotFoundError(
        f"node {node!r} is not in the CIB",
        where="nodes",
        hint="known nodes: " + (", ".join(known) or "none"),
    )


def _node_state(root: Element, node: str, *, create: bool) -> Element | None:
    ident = node_id(root, node)
    status = root.find("status")
    if status is None:
        if not create:
            return None
        status = etree.SubElement(root, "status")
    for state in status.iterfind("node_state"):
        if state.get("id") == ident:
            return state
    if not create:
        return None
    return etree.SubElement(status, "node_state", id=ident, uname=node)


def _attribute_set(root: Element, node: str, *, create: bool) -> Element | None:
    state = _node_state(root, node, create=create)
    if state is None:
        return None
    ident = str(state.get("id"))
    transient = state.find("transient_attributes")
    if transient is None:
        if not create:
            return None
        transient = etree.SubElement(state, "transient_attributes", id=ident)
    attributes = transient.find("instance_attributes")
    if attributes is None:
        if not create:
            return None
        attributes = etree.SubElement(transient, "instance_attributes", id=f"status-{ident}")
    return attributes


def transient_value(root: Element, node: str, name: str) -> str | None:
    attributes = _attribute_set(root, node, create=False)
    if attributes is None:
        return None
    for pair in attributes.iterfind("nvpair"):
        if pair.get("name") == name:
            return pair.get("value")
    return None


def transient_values(root: Element, node: str) -> dict[str, str]:
    attributes = _attribute_set(root, node, create=False)
    if attributes is None:
        return {}
    return {str(p.get("name")): str(p.get("value", "")) for p in attributes.iterfind("nvpair")}


def set_transient(root: Element, node: str, name: str, value: str | None) -> bool:
    """Set (or with ``None`` delete) a transient attribute; whether anything changed."""
    attributes = _attribute_set(root, node, create=value is not None)
    if attributes is None:
        return False
    for pair in attributes.iterfind("nvpair"):
        if pair.get("name") == name:
            if value is None:
                attributes.remove(pair)
                return True
            changed = pair.get("value") != value
            pair.set("value", value)
            return changed
    if value is None:
        return False
    # ids are XML names: Pacemaker turns other characters (``#health-cpu``) into dots
    pair_id = _NOT_IN_ID.sub(".", f"{attributes.get('id')}-{name}")
    etree.SubElement(attributes, "nvpair", id=pair_id, name=name, value=value)
    return True


def transient_attributes(
    root: Element, names: list[str] | tuple[str, ...] = ()
) -> dict[str, dict[str, str]]:
    """Node -> its transient attributes (nodes without any left out); ``names`` limits it
    to those nodes, each of which must be in the CIB."""
    for name in names:
        node_id(root, name)
    result: dict[str, dict[str, str]] = {}
    for entry in root.iterfind("configuration/nodes/node"):
        uname = str(entry.get("uname") or entry.get("id"))
        if names and uname not in names:
            continue
        values = transient_values(root, uname)
        if values:
            result[uname] = values
    return result
