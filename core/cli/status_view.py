"""The cluster status as crm_mon / crm_simulate print it (pure: working set in, lines out).

`hactl simulate` prints it as "Current cluster status"; `hactl status` reuses it.
"""

from __future__ import annotations

import re

from hactl.core.fencer.cib_history import unresolved_failures
from hactl.core.fencer.history import HistoryRecord, newest_first
from hactl.core.scheduler import scores
from hactl.core.scheduler.model import Node, Resource, Role, WorkingSet


def natural_key(name: str) -> list[object]:
    """Pacemaker sorts node names with numbers compared as numbers (node2 before node10)."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def _node_list(names: list[str]) -> str:
    return "[ " + " ".join(sorted(names, key=natural_key)) + " ]"


def node_health(ws: WorkingSet, node: Node) -> int:
    """Pacemaker's pe__node_health: -1 (red), 0 (yellow) or 1 from the node's #health*
    attributes, judged against node-health-red/-yellow/-green; 1 without a strategy."""
    if ws.options.get("node-health-strategy", "none").lower() == "none":
        return 1
    red = scores.parse(ws.options.get("node-health-red"), -scores.INFINITY)
    yellow = scores.parse(ws.options.get("node-health-yellow"), 0)
    green = scores.parse(ws.options.get("node-health-green"), 0)
    health = 1
    for name, value in node.attrs.items():
        if not name.startswith("#health"):
            continue
        if value.lower() == "red":
            return -1
        if value.lower() == "yellow":
            health = 0
            continue
        if not re.fullmatch(r"[+-]?(\d+|infinity)", value.strip(), re.IGNORECASE):
            continue  # not a score: ignored, as Pacemaker does
        score = scores.parse(value)
        if score <= red:
            return -1
        if score <= yellow and yellow != green:
            health = 0
    return health


def _node_status(ws: WorkingSet, node: Node) -> str:
    """Pacemaker's node_text_status."""
    if node.unclean:
        return (
            "UNCLEAN (online)"
            if node.online
            else ("UNCLEAN (pending)" if node.pending else "UNCLEAN (offline)")
        )
    if node.pending:
        return "pending"
    if node.standby_onfail and node.online:
        return "standby (on-fail)"
    if node.standby:
        if not node.online:
            return "OFFLINE (standby)"
        running = any(node in p.running_on for r in ws.resources for p in r.primitives())
        return "standby (with active resources)" if running else "standby"
    if node.maintenance:
        return "maintenance" if node.online else "OFFLINE (maintenance)"
    return "online" if node.online else "OFFLINE"


def node_lines(ws: WorkingSet) -> list[str]:
    """Nodes in a bad state (or of poor health) one a line, the others listed by state."""
    online: list[str] = []
    offline: list[str] = []
    special: list[str] = []
    remote_online: list[str] = []
    remote_offline: list[str] = []
    guest_online: list[str] = []
    for node in sorted(ws.nodes, key=lambda n: natural_key(n.name)):
        kind = "Node"
        if node.is_remote:
            kind = "GuestNode" if node.is_guest else "RemoteNode"
        health = node_health(ws, node)
        if node.unclean or node.pending or node.standby or node.maintenance or health <= 0:
            line = f"* {kind} {node.name}: {_node_status(ws, node)}"
            if health < 0:
                line += " (health is RED)"
            elif health == 0:
                line += " (health is YELLOW)"
            special.append(line)
        elif not node.online:
            if not node.is_remote:
                offline.append(node.name)
            elif not node.is_guest:
                remote_offline.append(node.name)
        elif node.is_guest:
            guest_online.append(node.name)
        elif node.is_remote:
            remote_online.append(node.name)
        else:
            online.append(node.name)
    lines = list(special)
    if online:
        lines.append(f"* Online: {_node_list(online)}")
    if offline:
        lines.append(f"* OFFLINE: {_node_list(offline)}")
    if remote_online:
        lines.append(f"* RemoteOnline: {_node_list(remote_online)}")
    if remote_offline:
        lines.append(f"* RemoteOFFLINE: {_node_list(remote_offline)}")
    if guest_online:
        lines.append(f"* GuestOnline: {_node_list(guest_online)}")
    return lines


def _agent(rsc: Resource) -> str:
    if rsc.provider:
        return f"{rsc.agent_class}:{rsc.provider}:{rsc.agent_type}"
    return f"{rsc.agent_class}:{rsc.agent_type}"


def in_maintenance(rsc: Resource) -> bool:
    """Pacemaker's maintenance flag: set by the resource, or by a maintenance node it is
    active on (cluster-wide maintenance-mode also sets the resource's)."""
    return rsc.maintenance or any(n.maintenance for n in rsc.running_on)


def _flags(rsc: Resource, node: Node | None) -> list[str]:
    """The parenthesised flags after a primitive's state, in Pacemaker's order."""
    flags: list[str] = []
    if node is not None and node.unclean and not node.online:
        flags.append("UNCLEAN")
    if (
        rsc.target_role == Role.STOPPED
        and not rsc.orphan
        and not rsc.meta.get("__stop_onfail")
        and not rsc.meta.get("__forced_stop")
    ):
        flags.append("disabled")
    if rsc.blocked:
        flags.append("blocked")
    elif in_maintenance(rsc):
        flags.append("maintenance")
    elif not rsc.managed:
        flags.append("unmanaged")
    if rsc.meta.get("__failure_ignored"):
        flags.append("failure ignored")
    return flags


def primitive_state(rsc: Resource) -> str:
    nodes = rsc.running_on
    prefix = "ORPHANED " if rsc.orphan and nodes else ""
    if not nodes:
        text = "Stopped"
        flags = []
        if rsc.target_role == Role.STOPPED and not rsc.orphan:
            flags.append("disabled")
        if in_maintenance(rsc):
            flags.append("maintenance")
        elif not rsc.managed:
            flags.append("unmanaged")
        return text + (f" ({', '.join(flags)})" if flags else "")
    role = rsc.role
    pending = {
        "start": "Starting",
        "stop": "Stopping",
        "promote": "Promoting",
        "demote": "Demoting",
        "migrate_to": "Migrating",
        "migrate_from": "Migrating",
    }.get(rsc.pending_task or "")
    if rsc.failed:
        text = "FAILED" + (f" {role.text}" if role == Role.PROMOTED else "")
    elif pending:
        text = pending
    else:
        text = role.text
    flags = _flags(rsc, nodes[0] if len(nodes) == 1 else None)
    suffix = f" ({', '.join(flags)})" if flags else ""
    if len(nodes) > 1:
        # several nodes: the flags come before the list
        return f"{prefix}{text}{suffix} [ {' '.join(n.name for n in nodes)} ]"
    return f"{prefix}{text} {nodes[0].name}{suffix}"


def primitive_line(rsc: Resource, name: str | None = None) -> str:
    return f"* {name or rsc.id}\t({_agent(rsc)}):\t {primitive_state(rsc)}"


def resource_lines(ws: WorkingSet, rsc: Resource) -> list[str]:
    if rsc.is_primitive:
        return [primitive_line(rsc)]
    if rsc.kind == "group":
        header = f"* Resource Group: {rsc.id}"
        attrs = []
        if rsc.target_role == Role.STOPPED:
            attrs.append("disabled")
        if rsc.maintenance:
            attrs.append("maintenance")
        elif not rsc.managed:
            attrs.append("unmanaged")
        if attrs:
            header += f" ({', '.join(attrs)})"
        lines = [header + ":"]
        for child in rsc.children:
            lines.extend("  " + line for line in resource_lines(ws, child))
        return lines
    if rsc.kind == "clone":
        return clone_lines(ws, rsc)
    return [f"* {rsc.id}: (unsupported {rsc.kind})"]


def _instance_state(instance: Resource) -> tuple[str, Node | None, bool]:
    """(role text, node, shown individually) for an anonymous clone instance."""
    prims = instance.primitives()
    nodes = [n for p in prims for n in p.running_on]
    if not nodes:
        return ("Stopped", None, False)
    node = nodes[0]
    individual = (
        any(
            p.failed
            or not p.managed
            or p.pending_task
            or len(p.running_on) > 1
            or (p.running_on and p.running_on[0] is not node)
            for p in prims
        )
        or any(not p.running_on for p in prims)
        and instance.kind == "group"
    )
    role = max((p.role for p in prims if p.running_on), default=Role.STARTED)
    return (role.text, node, individual)


def clone_lines(ws: WorkingSet, clone: Resource) -> list[str]:
    child_id = clone.children[0].meta.get("__base", clone.children[0].id) if clone.children else ""
    header = f"* Clone Set: {clone.id} [{child_id}]"
    flags = []
    if clone.promotable:
        flags.append("promotable")
    if clone.globally_unique:
        flags.append("unique")
    if not clone.managed:
        flags.append("unmanaged")
    if clone.target_role == Role.STOPPED:
        flags.append("disabled")
    if flags:
        header += f" ({', '.join(flags)})"
    lines = [header + ":"]
    if clone.globally_unique:
        for child in clone.children:
            lines.extend("  " + line for line in resource_lines(ws, child))
        return lines
    by_role: dict[str, list[str]] = {}
    active_nodes: set[str] = set()
    individual_lines: list[str] = []
    for instance in clone.children:
        text, node, individual = _instance_state(instance)
        if node is None:
            continue
        if instance.kind == "group" and individual:
            individual_lines.extend("  " + line for line in resource_lines(ws, instance))
            active_nodes.add(node.name)
            continue
        if individual:
            # an anonymous instance shown on its own goes by the configured id
            individual_lines.extend(
                "  " + primitive_line(p, p.meta.get("__base", p.id)) for p in instance.primitives()
            )
            active_nodes.add(node.name)
            continue
        label = text
        if node.unclean:
            individual_lines.append(
                "  " + primitive_line(instance) if instance.is_primitive else ""
            )
            active_nodes.add(node.name)
            continue
        by_role.setdefault(label, []).append(node.name)
        active_nodes.add(node.name)
    lines.extend(individual_lines)
    for label in ("Promoted", "Unpromoted", "Started"):
        if label in by_role:
            lines.append(f"  * {label}: {_node_list(by_role[label])}")
    stopped = [n.name for n in sorted(ws.nodes, key=lambda n: n.name) if n.name not in active_nodes]
    if stopped and clone.clone_max > len(active_nodes):
        label = "Stopped (disabled)" if clone.target_role == Role.STOPPED else "Stopped"
        lines.append(f"  * {label}: {_node_list(stopped)}")
    return lines


def counts(ws: WorkingSet) -> list[str]:
    """The warning crm_simulate prints when resources are disabled or blocked."""
    prims = [p for r in ws.resources for p in r.primitives() if not p.orphan]
    disabled = sum(1 for p in prims if _disabled(p))
    blocked = sum(1 for p in prims if p.blocked)
    if not disabled and not blocked:
        return []
    return [
        f"{disabled} of {len(prims)} resource instances DISABLED and {blocked} BLOCKED "
        "from further action due to failure",
        "",
    ]


def _disabled(rsc: Resource) -> bool:
    node: Resource | None = rsc
    while node is not None:
        if node.meta.get("target-role", "").lower() == "stopped":
            return True
        node = node.parent
    return False


def render(ws: WorkingSet) -> list[str]:
    """The status block: node list, then every resource (indented two spaces)."""
    lines = ["  * Node List:"]
    lines.extend("    " + line for line in node_lines(ws))
    lines.append("")
    lines.append("  * Full List of Resources:")
    for rsc in ws.resources:
        if rsc.orphan and not rsc.running_on:
            continue
        if rsc.meta.get("internal_rsc", "").lower() == "true":
            continue  # a guest node's implicit connection
        lines.extend("    " + line for line in resource_lines(ws, rsc))
    return lines


def fencing_lines(history: list[HistoryRecord], *, full: bool) -> list[str]:
    """crm_mon's fencing sections: "Failed Fencing Actions" (a node's latest failed request
    until it is fenced or confirmed down), "Pending Fencing Actions" (what the DC's fencer
    works on), and with ``full`` "Fencing History" (every request, latest first)."""
    lines: list[str] = []
    failed = unresolved_failures(history)
    if failed:
        lines += ["", "Failed Fencing Actions:"]
        lines += [f"  * {record.line()}" for record in failed]
    pending = [record for record in history if record.entry.state == "pending"]
    if pending:
        lines += ["", "Pending Fencing Actions:"]
        lines += [f"  * {record.line()}" for record in pending]
    if full:
        lines += ["", "Fencing History:"]
        lines += [f"  * {record.line()}" for record in newest_first(history)] or [
            "  * none recorded"
        ]
    return lines
