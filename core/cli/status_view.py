"""The cluster status as crm_mon / crm_simulate print it (pure: working set in, lines out).

`hactl simulate` prints it as "Current cluster status"; `hactl status` reuses it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from hactl.core.scheduler import scores
from hactl.core.scheduler.model import Node, Resource, Role, WorkingSet

if TYPE_CHECKING:
    from hactl.core.fencer.history import HistoryRecord


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


def _target_role_flag(rsc: Resource) -> str:
    """What the configured target-role (the resource's meta, inherited unless set) adds to
    its flags: "disabled" when Stopped, the role when it limits a promotable instance."""
    raw = rsc.meta.get("target-role", "")
    if raw.lower() == "stopped":
        return "disabled"
    if raw.lower() in ("unpromoted", "slave") and rsc.top.kind == "clone" and rsc.top.promotable:
        return f"target-role:{raw}"
    return ""


def _flags(rsc: Resource, node: Node | None, show_pending: bool = True) -> list[str]:
    """The parenthesised flags after a primitive's state, in Pacemaker's order."""
    flags: list[str] = []
    if node is not None and node.unclean and not node.online:
        flags.append("UNCLEAN")
    if show_pending and rsc.pending_task == "monitor":
        flags.append("Monitoring")  # a recurring monitor in progress (native_pending_action)
    role_flag = _target_role_flag(rsc)
    if role_flag:
        flags.append(role_flag)
    if rsc.blocked:
        flags.append("blocked")
    elif in_maintenance(rsc):
        flags.append("maintenance")
    elif not rsc.managed:
        flags.append("unmanaged")
    if rsc.meta.get("__failure_ignored"):
        flags.append("failure ignored")
    return flags


#: crm_exit_str's text of the exit codes a masked probe failure has
EXIT_TEXT = {
    0: "OK",
    1: "Error occurred",
    2: "Invalid parameter",
    3: "Unimplemented",
    4: "Insufficient privileges",
    5: "Not installed",
    6: "Not configured",
    7: "Not running",
    8: "Promoted",
    9: "Failed in promoted role",
}


def _failed_probe(rsc: Resource, node: Node | None) -> str:
    """' (Not installed) ' after a stopped resource whose probe failed so (on that node, else
    on any), as Pacemaker's pe__failed_probe_for_rsc puts it."""
    for name, rc in rsc.failed_probes:
        if node is None or name == node.name:
            return f" ({EXIT_TEXT.get(rc, 'Unknown exit status')}) "
    return ""


def primitive_state(rsc: Resource, show_pending: bool = True) -> str:
    nodes = rsc.running_on
    prefix = "ORPHANED " if rsc.orphan and nodes else ""
    pending = {
        "start": "Starting",
        "stop": "Stopping",
        "promote": "Promoting",
        "demote": "Demoting",
        "migrate_to": "Migrating",
        "migrate_from": "Migrating",
    }.get(rsc.pending_task or "")
    if not nodes and rsc.lock_node is None and rsc.pending_node is not None and show_pending:
        # active nowhere with an action in progress: where that runs (Pacemaker's
        # pending_node), as the action's state
        flags = _flags(rsc, None)
        suffix = f" ({', '.join(flags)})" if flags else ""
        return f"{pending or 'Stopped'} {rsc.pending_node.name}{suffix}"
    if not nodes:
        # a resource locked to the node it stopped on shows that node
        text = f"Stopped {rsc.lock_node.name}" if rsc.lock_node is not None else "Stopped"
        text += _failed_probe(rsc, rsc.lock_node)
        flags = ["LOCKED"] if rsc.lock_node is not None else []
        role_flag = _target_role_flag(rsc)
        if role_flag and not rsc.orphan:
            flags.append(role_flag)
        if in_maintenance(rsc):
            flags.append("maintenance")
        elif not rsc.managed:
            flags.append("unmanaged")
        return text + (f" ({', '.join(flags)})" if flags else "")
    role = rsc.role
    if rsc.failed:
        text = "FAILED" + (f" {role.text}" if role == Role.PROMOTED else "")
    elif pending and show_pending:
        text = pending
    else:
        text = role.text
    flags = _flags(rsc, nodes[0] if len(nodes) == 1 else None, show_pending)
    suffix = f" ({', '.join(flags)})" if flags else ""
    if len(nodes) > 1:
        # several nodes: the flags come before the list
        return f"{prefix}{text}{suffix} [ {' '.join(n.name for n in nodes)} ]"
    return f"{prefix}{text} {nodes[0].name}{suffix}"


def printable_id(rsc: Resource) -> str:
    """The name a resource is shown by: an anonymous clone's instances (and their members)
    by the configured id, without the instance number."""
    clone = rsc.clone_parent()
    if rsc.is_primitive and clone is not None and not clone.globally_unique:
        return rsc.meta.get("__base", rsc.id)
    return rsc.id


def primitive_line(rsc: Resource, name: str | None = None, show_pending: bool = True) -> str:
    state = primitive_state(rsc, show_pending)
    return f"* {name or printable_id(rsc)}\t({_agent(rsc)}):\t {state}"


def bundle_lines(rsc: Resource) -> list[str]:
    """A bundle as crm_mon shows it: one line per replica, named after its guest node (or
    its container), with the bundled resource's state on the container's host."""
    from hactl.core.scheduler import bundle

    kind = "Container bundle set" if rsc.clone_max > 1 else "Container bundle"
    header = f"* {kind}: {rsc.id} [{rsc.meta.get('__bundle_image', '')}]"
    if not rsc.managed:
        header += " (unmanaged)"
    lines = [header + ":"]
    clone = bundle.bundled_clone(rsc)
    for container in bundle.replica_members(rsc, "container"):
        number = int(container.meta.get("__bundle_replica", "0"))
        ip = bundle.replica_of(rsc, container, "ip")
        host = container.current_node()
        if clone is not None and number < len(clone.children):
            child = clone.children[number].primitives()[0]
            name = f"{rsc.id}-{number}" + (f" ({ip.params.get('ip', '')})" if ip else "")
            agent, state = _agent(child), (child.role.text if child.running_on else "Stopped")
            managed = child.managed
        else:
            name, agent = container.id, _agent(container)
            state = container.role.text if container.running_on else "Stopped"
            managed = container.managed
        text = f"{state} {host.name}" if host is not None else state
        if not managed:
            text += " (unmanaged)"
        lines.append(f"  * {name}\t({agent}):\t {text}")
    return lines


def resource_lines(ws: WorkingSet, rsc: Resource, show_pending: bool = True) -> list[str]:
    if rsc.is_primitive:
        return [primitive_line(rsc, show_pending=show_pending)]
    if rsc.kind == "bundle":
        return bundle_lines(rsc)
    if rsc.kind == "group":
        header = f"* Resource Group: {rsc.id}"
        attrs = []
        if _disabled(rsc):
            attrs.append("disabled")
        if rsc.maintenance:
            attrs.append("maintenance")
        elif not rsc.managed:
            attrs.append("unmanaged")
        if attrs:
            header += f" ({', '.join(attrs)})"
        lines = [header + ":"]
        for child in rsc.children:
            lines.extend("  " + line for line in resource_lines(ws, child, show_pending))
        return lines
    if rsc.kind == "clone":
        return clone_lines(ws, rsc, show_pending)
    return [f"* {rsc.id}: (unsupported {rsc.kind})"]


def _instance_listing(instance: Resource, show_pending: bool) -> tuple[str, Node | None]:
    """How pe__clone_default shows an anonymous clone's instance: ("", None) when inactive,
    ("full", node) when on its own lines, else the role list ("Promoted"/"Started") and
    its node."""
    prims = instance.primitives()
    nodes = {n.name: n for p in prims for n in p.running_on}
    if not nodes:
        return ("", None)
    single = next(iter(nodes.values())) if len(nodes) == 1 else None
    if show_pending and any(p.pending_task for p in prims):
        return ("full", single)
    if any(p.orphan or not p.managed or p.failed for p in prims):
        return ("full", single)
    if any(not p.running_on for p in prims) or single is None:
        return ("full", single)  # partially active, or active on several nodes
    if single.unclean and not single.online:
        return ("full", single)
    role = max(p.role for p in prims)
    return ("Promoted" if role > Role.UNPROMOTED else "Started", single)


def clone_lines(ws: WorkingSet, clone: Resource, show_pending: bool = True) -> list[str]:
    child_id = clone.children[0].meta.get("__base", clone.children[0].id) if clone.children else ""
    header = f"* Clone Set: {clone.id} [{child_id}]"
    flags = []
    if clone.promotable:
        flags.append("promotable")
    if clone.globally_unique:
        flags.append("unique")
    if _disabled(clone):
        flags.append("disabled")
    if clone.maintenance:
        flags.append("maintenance")
    elif not clone.managed:
        flags.append("unmanaged")
    if flags:
        header += f" ({', '.join(flags)})"
    lines = [header + ":"]
    if clone.globally_unique:
        for child in clone.children:
            lines.extend("  " + line for line in resource_lines(ws, child, show_pending))
        return lines
    promoted: list[str] = []
    started: list[str] = []
    for instance in clone.children:
        listing, node = _instance_listing(instance, show_pending)
        if listing == "full":
            lines.extend("  " + line for line in resource_lines(ws, instance, show_pending))
        elif listing == "Promoted" and node is not None:
            promoted.append(node.name)
        elif listing == "Started" and node is not None:
            started.append(node.name)
    if promoted:
        lines.append(f"  * Promoted: {_node_list(promoted)}")
    if started:
        label = "Unpromoted" if clone.promotable else "Started"
        lines.append(f"  * {label}: {_node_list(started)}")
    # nodes where no instance is active, while fewer instances are listed than may run
    active = {n.name for p in clone.primitives() for n in p.running_on}
    stopped = [n.name for n in ws.nodes if n.name not in active]
    if stopped and clone.clone_max > len(promoted) + len(started):
        label = "Stopped (disabled)" if clone.target_role == Role.STOPPED else "Stopped"
        lines.append(f"  * {label}: {_node_list(stopped)}")
    return lines


def counts(ws: WorkingSet) -> list[str]:
    """What crm_simulate prints before the status: that resource management is disabled,
    and how many resources are disabled or blocked."""
    banner: list[str] = []
    if ws.maintenance:
        banner = [
            "",
            "              *** Resource management is DISABLED ***",
            "  The cluster will not attempt to start, stop or recover services",
            "",
        ]
    elif ws.options.get("stop-all-resources", "false").lower() in ("true", "yes", "on", "1"):
        banner = [
            "",
            "    *** Resource management is DISABLED ***",
            "  The cluster will keep all resources stopped",
            "",
        ]
    prims = [p for r in ws.resources for p in r.primitives() if not p.orphan]
    disabled = sum(1 for p in prims if _disabled(p))
    blocked = sum(1 for p in prims if p.blocked)
    if not disabled and not blocked:
        return banner
    return banner + [
        f"{disabled} of {len(prims)} resource instances DISABLED and {blocked} BLOCKED "
        "from further action due to failure",
        "",
    ]


def _disabled(rsc: Resource) -> bool:
    """Pacemaker's pe__resource_is_disabled: the resource's own target-role (its parents'
    inherited unless it sets one) is Stopped, or Unpromoted in a promotable clone."""
    role = rsc.meta.get("target-role", "").lower()
    if role == "stopped":
        return True
    return role in ("unpromoted", "slave") and rsc.top.kind == "clone" and rsc.top.promotable


def render(ws: WorkingSet, show_pending: bool = True) -> list[str]:
    """The status block: node list, then every resource (indented two spaces); pending
    actions shown as such (Starting, ...) with `show_pending`."""
    lines = ["  * Node List:"]
    lines.extend("    " + line for line in node_lines(ws))
    lines.append("")
    lines.append("  * Full List of Resources:")
    for rsc in ws.resources:
        if rsc.orphan and not rsc.running_on:
            continue
        if rsc.meta.get("internal_rsc", "").lower() == "true":
            continue  # a guest node's implicit connection
        lines.extend("    " + line for line in resource_lines(ws, rsc, show_pending))
    return lines


def fencing_lines(history: list[HistoryRecord], *, full: bool) -> list[str]:
    """crm_mon's fencing sections: "Failed Fencing Actions" (a node's latest failed request
    until it is fenced or confirmed down), "Pending Fencing Actions" (what the DC's fencer
    works on), and with ``full`` "Fencing History" (every request, latest first)."""
    # imported here: only `hactl status` shows fencing, and `hactl simulate` (which prints
    # the rest of this view) starts faster without the fencer's history store
    from hactl.core.fencer.cib_history import unresolved_failures
    from hactl.core.fencer.history import newest_first

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
