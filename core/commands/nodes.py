"""Node use cases kept in the CIB's nodes section: attributes, utilization, standby and
maintenance (live effects come with the runtime). Ids as crm_attribute writes them:
``nodes-<node id>`` and ``nodes-<node id>-<name>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from lxml import etree

from hactl.core.commands import cibtools as ct
from hactl.core.commands import nvsets
from hactl.core.commands.cibtools import Element, IdAllocator
from hactl.core.commands.grammar import did_you_mean
from hactl.core.errors import HactlError, NotFoundError


def node_names(root: Element) -> list[str]:
    return [str(n.get("uname") or n.get("id")) for n in root.iterfind("configuration/nodes/node")]


def find_node(root: Element, name: str, *, create: bool, where: str) -> Element:
    """The <node> with this uname (or id); with ``create`` (--force) a new one is added."""
    for node in root.iterfind("configuration/nodes/node"):
        if node.get("uname") == name or (node.get("uname") is None and node.get("id") == name):
            return node
    if create:
        if not name.strip() or any(c.isspace() for c in name):
            raise HactlError(f"{name!r} is not a node name", where=where)
        return etree.SubElement(ct.section(root, "nodes"), "node", id=name, uname=name)
    names = node_names(root)
    raise NotFoundError(
        f"node {name!r} is not in the CIB",
        where=where,
        hint=(did_you_mean(name, names) + " " if names else "")
        + "use --force to add it to the nodes section",
    )


def _set_id(node: Element) -> str:
    return f"nodes-{node.get('id')}"


def set_node_values(
    root: Element, name: str, tag: str, values: Mapping[str, str], *, force: bool
) -> dict[str, str]:
    """`node attribute|utilization NODE NAME=VALUE…` (an empty value removes the name)."""
    where = f"node {'attribute' if tag == 'instance_attributes' else 'utilization'} {name}"
    if tag == "utilization":
        for key, value in values.items():
            if value and not value.lstrip("-").isdigit():
                raise HactlError(
                    f"utilization {key}={value!r} is not an integer", where=where, hint="e.g. cpu=8"
                )
    node = find_node(root, name, create=force, where=where)
    set_id = (
        _set_id(node) if tag == "instance_attributes" else f"nodes-{node.get('id')}-utilization"
    )
    ids = IdAllocator(root)
    ct.update_nvset(
        node, tag, values, ids, set_id=ids.allocate(set_id) if node.find(tag) is None else None
    )
    return ct.nvset_values(node, tag)


#: `node set create NODE … KIND …`: the kinds of a node's sets, named as the commands
NODE_SET_KINDS = {"attribute": "instance_attributes", "utilization": "utilization"}


def node_set_create(
    root: Element, name: str, request: nvsets.SetRequest, *, force: bool
) -> Element:
    """`node set create NODE [id=ID] [score=N] attribute|utilization PAIR… [rule EXPR]`:
    node attributes that hold only where the rule does (e.g. after a date)."""
    where = f"node set create {name}"
    node = find_node(root, name, create=force, where=where)
    return nvsets.create_set(node, request, where=where)


def node_set_delete(root: Element, set_ids: Sequence[str]) -> None:
    """`node set delete SET_ID…`."""
    nodes_section = root.find("configuration/nodes")
    scope = [] if nodes_section is None else list(nodes_section)
    nvsets.delete_sets(root, scope, set_ids, where="node set delete")


def node_values(root: Element, tag: str, names: Sequence[str] = ()) -> dict[str, dict[str, str]]:
    """Node -> its attributes (or utilization), for `node attribute|utilization [NODE]`."""
    result: dict[str, dict[str, str]] = {}
    for node in root.iterfind("configuration/nodes/node"):
        uname = str(node.get("uname") or node.get("id"))
        if names and uname not in names:
            continue
        values = ct.nvset_values(node, tag)
        if values:
            result[uname] = values
    for name in names:
        find_node(root, name, create=False, where="node")
    return result


def set_mode(
    root: Element, names: Sequence[str], attribute: str, on: bool, *, all_nodes: bool, force: bool
) -> list[str]:
    """`node standby|unstandby|maintenance|unmaintenance NODE…|--all`."""
    where = f"node {'' if on else 'un'}{attribute}"
    if all_nodes and names:
        raise HactlError("give nodes or --all, not both", where=where)
    if not all_nodes and not names:
        raise HactlError(
            "offline there is no local node: give node names or --all",
            where=where,
            hint=f"hactl -f FILE node {'' if on else 'un'}{attribute} NODE",
        )
    targets = node_names(root) if all_nodes else list(names)
    for name in targets:
        set_node_values(
            root, name, "instance_attributes", {attribute: "on" if on else ""}, force=force
        )
    return targets
