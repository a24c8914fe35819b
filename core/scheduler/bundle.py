"""Bundles: replicas of a container (docker, podman, rkt), each with an optional IP address and,
when the bundle holds a resource, a remote connection making the container a guest node that
runs one instance of that resource (Pacemaker's bundle.c and pcmk_sched_bundle.c).

A bundle is expanded while unpacking into ordinary resources: per replica the IP
(`<bundle>-ip-<address>`), the container (`<bundle>-<agent>-<n>`) and the connection
(`<bundle>-<n>`, whose guest node has the same name), then a clone of the bundled resource
(`<bundle>-clone`, or `<bundle>-master` when promotable) whose instance n runs on guest node n.
Pure: no I/O.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lxml import etree

from hactl.core.scheduler import scores
from hactl.core.scheduler.model import Node, Resource, Role, WorkingSet

if TYPE_CHECKING:
    from hactl.core.scheduler.actions import Builder
    from hactl.core.scheduler.assign import Placer
    from hactl.core.scheduler.unpack import Unpacker

INFINITY = scores.INFINITY
AGENTS = ("docker", "podman", "rkt")


@dataclass
class Config:
    """What a `<bundle>` element configures."""

    agent: str
    replicas: int
    per_host: int
    promoted_max: int
    image: str
    ip_start: str
    netmask: str
    nic: str
    control_port: str
    child: etree._Element | None

    @property
    def has_guests(self) -> bool:
        # a bundled resource needs a way to reach the container
        return self.child is not None and bool(self.ip_start or self.control_port)


def parse(element: etree._Element) -> Config | None:
    agent_el = next((c for c in element if isinstance(c.tag, str) and c.tag in AGENTS), None)
    if agent_el is None:
        return None
    promoted_max = _int(agent_el.get("promoted-max", agent_el.get("masters")), 0)
    replicas_text = agent_el.get("replicas")
    replicas = (
        promoted_max if replicas_text is None and promoted_max > 0 else _int(replicas_text, 1)
    )
    network = element.find("network")
    child = element.find("primitive")
    return Config(
        agent=str(agent_el.tag),
        replicas=max(replicas, 1),
        per_host=max(_int(agent_el.get("replicas-per-host"), 1), 1),
        promoted_max=promoted_max,
        image=agent_el.get("image", ""),
        ip_start=network.get("ip-range-start", "") if network is not None else "",
        netmask=network.get("host-netmask", "") if network is not None else "",
        nic=network.get("host-interface", "") if network is not None else "",
        control_port=network.get("control-port", "") if network is not None else "",
        child=child,
    )


def _int(text: str | None, default: int) -> int:
    try:
        return max(int(text), 0) if text is not None else default
    except ValueError:
        return default


def guest_names(element: etree._Element) -> list[str]:
    """The guest nodes a bundle element makes (one per replica, if it bundles a resource)."""
    config = parse(element)
    if config is None or not config.has_guests:
        return []
    bundle_id = element.get("id", "")
    return [f"{bundle_id}-{n}" for n in range(config.replicas)]


def _ips(config: Config) -> list[str]:
    if not config.ip_start:
        return []
    out = [config.ip_start]
    while len(out) < config.replicas:
        parts = out[-1].split(".")
        if len(parts) != 4 or not all(p.isdigit() for p in parts):
            break
        a, b, c, d = (int(p) for p in parts)
        if c > 253:
            break
        if d > 253:
            c, d = c + 1, 1
        else:
            d += 1
        out.append(f"{a}.{b}.{c}.{d}")
    return out


def _primitive(ident: str, kind: str, params: dict[str, str], monitor: str) -> etree._Element:
    rsc = etree.Element(
        "primitive", {"id": ident, "class": "ocf", "provider": "heartbeat", "type": kind}
    )
    attrs = etree.SubElement(rsc, "instance_attributes", id=f"{ident}-instance_attributes")
    for name, value in params.items():
        etree.SubElement(attrs, "nvpair", id=f"{ident}-{name}", name=name, value=value)
    ops = etree.SubElement(rsc, "operations")
    etree.SubElement(ops, "op", id=f"{ident}-monitor-{monitor}", name="monitor", interval=monitor)
    return rsc


def expand(unpacker: Unpacker, bundle: Resource, element: etree._Element) -> None:
    """Make the replicas' resources and the bundled clone, as children of the bundle."""
    from hactl.core.scheduler.remote import connection_xml

    config = parse(element)
    if config is None:
        unpacker.ws.warnings.append(f"bundle {bundle.id} has no container")
        return
    bundle.clone_max = config.replicas
    bundle.clone_node_max = config.per_host
    bundle.meta["__bundle_image"] = config.image
    ips = _ips(config)
    for number in range(config.replicas):
        members: list[Resource] = []
        if number < len(ips):
            params = {"ip": ips[number], "cidr_netmask": config.netmask or "32"}
            if config.nic:
                params["nic"] = config.nic
            ident = f"{bundle.id}-ip-{ips[number]}"
            xml = _primitive(ident, "IPaddr2", params, "60s")
            members.append(_child(unpacker, xml, bundle, "ip", number))
        container_id = f"{bundle.id}-{config.agent}-{number}"
        xml = _primitive(container_id, config.agent, {"image": config.image}, "60s")
        members.append(_child(unpacker, xml, bundle, "container", number))
        if config.has_guests:
            meta = {"remote-port": config.control_port or "3121"}
            meta["remote-addr"] = ips[number] if number < len(ips) else "#uname"
            xml = connection_xml(f"{bundle.id}-{number}", container_id, meta)
            members.append(_child(unpacker, xml, bundle, "remote", number))
    if config.has_guests and config.child is not None:
        suffix = "master" if config.promoted_max > 0 else "clone"
        clone = etree.Element("clone", id=f"{bundle.id}-{suffix}")
        meta_el = etree.SubElement(clone, "meta_attributes", id=f"{bundle.id}-{suffix}-meta")
        meta = {
            "ordered": "true",
            "clone-max": str(config.replicas),
            "clone-node-max": str(config.per_host),
            "globally-unique": "true" if config.per_host > 1 else "false",
        }
        if config.promoted_max > 0:
            meta["promotable"] = "true"
            meta["promoted-max"] = str(config.promoted_max)
        for name, value in meta.items():
            pair_id = f"{clone.get('id')}-{name}"
            etree.SubElement(meta_el, "nvpair", id=pair_id, name=name, value=value)
        clone.append(copy.deepcopy(config.child))
        child = unpacker.unpack_resource(clone, bundle)
        if child is not None:
            child.meta["__bundle_role"] = "child"
            bundle.children.append(child)


def _child(
    unpacker: Unpacker, xml: etree._Element, bundle: Resource, role: str, number: int
) -> Resource:
    rsc = unpacker.unpack_resource(xml, bundle)
    assert rsc is not None
    rsc.meta["__bundle_role"] = role
    rsc.meta["__bundle_replica"] = str(number)
    bundle.children.append(rsc)
    return rsc


# -- structure ------------------------------------------------------------------------


def replica_members(bundle: Resource, role: str) -> list[Resource]:
    return [c for c in bundle.children if c.meta.get("__bundle_role") == role]


def attribute_node(rsc: Resource, node: Node) -> Node:
    """The node whose attributes rsc reads on `node`: a guest's host when the resource says
    container-attribute-target=host (Pacemaker's pe__node_attribute_calculated)."""
    if rsc.meta.get("container-attribute-target", "").lower() != "host" or not node.is_guest:
        return node
    connection = node.remote_rsc
    launcher = connection.launcher if connection is not None else None
    if launcher is None:
        return node
    return launcher.assigned or launcher.current_node() or node


def host_of(node: Node) -> Node:
    """The cluster node a bundle's guest node runs on (where its container is placed)."""
    connection = node.remote_rsc
    launcher = connection.launcher if connection is not None else None
    if launcher is None:
        return node
    return launcher.assigned or node


def replica_hosts(bundle: Resource) -> list[tuple[Node | None, Role]]:
    """Where each replica's container is placed, with the role of its bundled instance
    (what a colocation with the bundle, or with a role of it, looks at)."""
    clone = bundled_clone(bundle)
    out: list[tuple[Node | None, Role]] = []
    for container in replica_members(bundle, "container"):
        role = container.next_role
        number = int(container.meta.get("__bundle_replica", "0"))
        if clone is not None and number < len(clone.children):
            role = max((p.next_role for p in clone.children[number].primitives()), default=role)
        out.append((container.assigned, role))
    return out


def top_in_bundle(rsc: Resource) -> Resource:
    """rsc's topmost ancestor short of a bundle (Pacemaker's top resource, bundles excluded)."""
    while rsc.parent is not None and rsc.parent.kind != "bundle":
        rsc = rsc.parent
    return rsc


def location_members(rsc: Resource) -> list[Resource]:
    """What a location constraint on rsc also applies to: its children, except that a
    bundle's go to its containers and IPs only (pcmk__bundle_apply_location)."""
    if rsc.kind != "bundle":
        return rsc.children
    return [c for c in rsc.children if c.meta.get("__bundle_role") in ("container", "ip")]


def bundled_clone(bundle: Resource) -> Resource | None:
    return next((c for c in bundle.children if c.meta.get("__bundle_role") == "child"), None)


def replica_of(bundle: Resource, rsc: Resource, role: str) -> Resource | None:
    """The member with `role` of the replica rsc belongs to."""
    number = rsc.meta.get("__bundle_replica")
    return next(
        (c for c in replica_members(bundle, role) if c.meta.get("__bundle_replica") == number),
        None,
    )


def bundle_of(rsc: Resource) -> Resource | None:
    parent = rsc.parent
    while parent is not None and parent.kind != "bundle":
        parent = parent.parent
    return parent


def replica_instance(ws: WorkingSet, node: Node, base: str) -> Resource | None:
    """The bundled instance whose guest node this is (its history is recorded under the
    configured id)."""
    if not node.is_guest:
        return None
    for rsc in ws.resources:
        if rsc.kind != "bundle":
            continue
        clone = bundled_clone(rsc)
        if clone is None:
            continue
        for number, instance in enumerate(clone.children):
            if node.name == f"{rsc.id}-{number}":
                return next(
                    (p for p in instance.primitives() if p.meta.get("__base") == base), None
                )
    return None


# -- placement --------------------------------------------------------------------------


def constraints(ws: WorkingSet) -> None:
    """Guest nodes of bundles run only their replica's instance; IPs go with containers."""
    from hactl.core.scheduler.model import Colocation

    guest_nodes: dict[str, Resource] = {}
    for bundle in ws.resources:
        if bundle.kind != "bundle":
            continue
        clone = bundled_clone(bundle)
        for number in range(bundle.clone_max):
            name = f"{bundle.id}-{number}"
            if clone is not None and number < len(clone.children):
                guest_nodes[name] = clone.children[number]
        for ip in replica_members(bundle, "ip"):
            container = replica_of(bundle, ip, "container")
            if container is not None:
                ws.colocations.append(Colocation("#ip-with-container", ip, container, INFINITY))
    if not guest_nodes:
        return
    for rsc in ws.all_resources():
        if rsc.allowed is None:
            continue
        for name, instance in guest_nodes.items():
            owner = instance is rsc or any(rsc is p for p in instance.primitives())
            if owner:
                rsc.allowed = {name: 0}
                for prim in instance.primitives():
                    prim.allowed_discovery[name] = "exclusive"
                    prim.exclusive_discovery = True
            elif name in rsc.allowed or rsc.kind != "clone":
                rsc.allowed[name] = -INFINITY


def assign(placer: Placer, bundle: Resource) -> None:
    """Containers first, spread like clone instances; then each replica's IP and connection
    beside its container; then the bundled clone, instance n on guest node n."""
    if bundle.assigning or bundle.assigned_done:
        return
    ws = placer.ws
    containers = replica_members(bundle, "container")
    placer.record_scores("pcmk__bundle_assign", bundle, dict(bundle.allowed or {}))
    # the containers are the bundle's instances (pcmk__assign_instances): assigned as a
    # clone's would be, the bundle standing in for the clone
    kind, children, promotable = bundle.kind, bundle.children, bundle.promotable
    bundle.kind, bundle.children, bundle.promotable = "clone", containers, False
    try:
        placer.assign_clone(bundle)
    finally:
        bundle.kind, bundle.children, bundle.promotable = kind, children, promotable
    bundle.assigning = True
    # IPs and connections follow their containers by colocation (the connection only
    # preferably: bundles may nest), so a connection may stay where a container cannot start
    for role in ("ip", "remote"):
        for member in replica_members(bundle, role):
            placer.assign_primitive(member)
    clone = bundled_clone(bundle)
    if clone is not None:
        # the bundled clone may run on this bundle's guest nodes only, instance n on node n
        guests = {f"{bundle.id}-{n}" for n in range(bundle.clone_max)}
        clone.allowed = {n.name: (0 if n.name in guests else -INFINITY) for n in ws.nodes}
        for number, instance in enumerate(clone.children):
            guest = f"{bundle.id}-{number}"
            for prim in instance.primitives():
                current = prim.allowed or {}
                prim.allowed = {
                    n.name: (
                        (INFINITY if current.get(n.name, 0) > -INFINITY else -INFINITY)
                        if n.name == guest
                        else -INFINITY
                    )
                    for n in ws.nodes
                }
        placer.assign(clone)
    bundle.assigned_done = True
    bundle.next_role = Role.STARTED if any(c.assigned for c in containers) else Role.STOPPED
    bundle.assigning = False


# -- actions ---------------------------------------------------------------------------------


def actions(builder: Builder, bundle: Resource) -> None:
    """The bundle's pseudo-actions and its internal orderings (pcmk_sched_bundle.c)."""
    from hactl.core.scheduler.actions import (
        FIRST_IMPLIES_THEN,
        ORDERED,
        THEN_IMPLIES_FIRST,
        UNRUNNABLE_FIRST_BLOCKS,
    )

    for child in bundle.children:
        if child.is_primitive:
            builder.primitive(child)
        else:
            builder.collective(child)
    for connection in replica_members(bundle, "remote"):
        launcher = replica_of(bundle, connection, "container")
        probes = [a for a in connection.actions if a.task == "monitor" and not a.interval_ms]
        if launcher is None or not probes:
            continue
        # the connection is probed once the container is known to run (nested remote probe)
        for start in builder.remote.start_of(launcher):
            if not start.runnable and launcher.running_on:
                continue
            for probe in probes:
                builder.order(start, probe, ORDERED | UNRUNNABLE_FIRST_BLOCKS)
    if not bundle.managed and not any(p.managed for p in bundle.primitives()):
        return
    start, running, stop, stopped = builder.collective_pseudo_actions(bundle)
    for container in replica_members(bundle, "container"):
        for act in builder.find(container, "start"):
            builder.order(start, act, ORDERED | UNRUNNABLE_FIRST_BLOCKS | THEN_IMPLIES_FIRST)
            builder.order(act, running, ORDERED | FIRST_IMPLIES_THEN)
        for act in builder.find(container, "stop"):
            builder.order(stop, act, ORDERED | THEN_IMPLIES_FIRST)
            builder.order(act, stopped, ORDERED | FIRST_IMPLIES_THEN)
        ip = replica_of(bundle, container, "ip")
        if ip is not None:
            for first in builder.find(ip, "start"):
                for then in builder.find(container, "start"):
                    builder.order(first, then, ORDERED | UNRUNNABLE_FIRST_BLOCKS)
            for first in builder.find(container, "stop"):
                for then in builder.find(ip, "stop"):
                    builder.order(first, then, ORDERED | THEN_IMPLIES_FIRST)
    clone = bundled_clone(bundle)
    if clone is None:
        return
    for task, done, parent_first, parent_done in (
        ("start", "running", start, running),
        ("stop", "stopped", stop, stopped),
    ):
        for act in clone.actions:
            if act.task == task and act.pseudo:
                builder.order(parent_first, act, ORDERED | THEN_IMPLIES_FIRST)
            if act.task == done and act.pseudo:
                builder.order(act, parent_done, ORDERED | FIRST_IMPLIES_THEN)
    for instance in clone.children:
        for prim in instance.primitives():
            for act in builder.find(prim, "stop"):
                builder.order(stop, act, ORDERED | THEN_IMPLIES_FIRST)
    if not clone.promotable:
        return
    # a promotable bundle promotes and demotes through its clone
    promote = builder.action(bundle, "promote", None, pseudo=True)
    promoted = builder.action(bundle, "promoted", None, pseudo=True)
    demote = builder.action(bundle, "demote", None, pseudo=True)
    demoted = builder.action(bundle, "demoted", None, pseudo=True)
    builder.order(promote, promoted, ORDERED)
    builder.order(demote, demoted, ORDERED)
    builder.order(running, promote, ORDERED)
    builder.order(demoted, stop, ORDERED)
    builder.order(demoted, promote, ORDERED)
    for task, done, parent_first, parent_done in (
        ("promote", "promoted", promote, promoted),
        ("demote", "demoted", demote, demoted),
    ):
        for act in clone.actions:
            if act.task == task and act.pseudo:
                builder.order(parent_first, act, ORDERED | THEN_IMPLIES_FIRST)
            if act.task == done and act.pseudo:
                builder.order(act, parent_done, ORDERED | FIRST_IMPLIES_THEN)


def summary_order(bundle: Resource) -> list[Resource]:
    """Resources in the order crm_simulate lists a bundle's changes: per replica the IP,
    container, connection, then the bundled instance."""
    clone = bundled_clone(bundle)
    out: list[Resource] = []
    for container in replica_members(bundle, "container"):
        for role in ("ip",):
            member = replica_of(bundle, container, role)
            if member is not None:
                out.append(member)
        out.append(container)
        member = replica_of(bundle, container, "remote")
        if member is not None:
            out.append(member)
        number = int(container.meta.get("__bundle_replica", "0"))
        if clone is not None and number < len(clone.children):
            out.extend(clone.children[number].primitives())
    return out
