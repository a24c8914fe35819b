"""`hactl status`: the running cluster as crm_mon shows it (one shot).

hactl status                  # summary, nodes, resources, failed actions
hactl status --full           # also the node ids, the ring and the quorum numbers
hactl status --output json
hactl --sandbox node2 status
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import typer

from hactl.core.cli import status_view
from hactl.core.cli.render import OUTPUT_OPTION, OutputFormat, print_json
from hactl.core.fencer import cib_history
from hactl.core.fencer.history import HistoryRecord, newest_first
from hactl.core.scheduler.model import HistoryEntry, Resource, WorkingSet

app = typer.Typer(
    invoke_without_command=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def working_set(status: dict[str, Any]) -> WorkingSet:
    from lxml import etree

    from hactl.core.scheduler import unpack

    cib = etree.fromstring(status["cib"].encode())
    return unpack.unpack(cib, dt.datetime.now())


def fencing_history(status: dict[str, Any]) -> list[HistoryRecord]:
    """The cluster's fencing history, from the status section of the CIB."""
    from lxml import etree

    return cib_history.records(etree.fromstring(status["cib"].encode()))


def _node_state(ws: WorkingSet, name: str) -> str:
    node = ws.node(name)
    if node is None:
        return "unknown"
    if node.unclean:
        return "unclean"
    if not node.online:
        return "offline"
    if node.maintenance:
        return "maintenance"
    if node.standby:
        return "standby"
    return "online"


def _failed(resource: Resource) -> list[tuple[str, HistoryEntry]]:
    found = []
    for node, entries in resource.history.items():
        for entry in entries:
            if (
                entry.rc != entry.expected_rc
                and entry.task != "monitor"
                or (entry.task == "monitor" and entry.rc not in (entry.expected_rc, 7))
            ):
                found.append((node, entry))
    return found


def _primitives(ws: WorkingSet) -> list[Resource]:
    return [p for r in ws.resources for p in r.primitives() if not p.orphan]


def configuration_warnings(ws: WorkingSet) -> list[str]:
    """What an administrator must know at a glance, as pcs status says it."""
    if ws.fencing_enabled and not ws.have_fencing:
        # then nobody can be fenced and the scheduler manages no resource
        return ["No stonith devices and stonith-enabled is not false"]
    return []


def as_json(status: dict[str, Any], ws: WorkingSet) -> dict[str, Any]:
    names = status["nodes"]
    members = {names.get(str(n), str(n)) for n in status["members"]}
    return {
        "cluster": {
            "name": status["cluster_name"],
            "dc": status["dc_name"],
            "dc_id": status["dc"],
            "quorate": status["quorate"],
            "ring": status["ring"],
            "cib_version": ".".join(map(str, status["versions"])),
            "nodes_configured": len(names),
            "resources_configured": len(_primitives(ws)),
            "this_node": status["node"]["name"],
        },
        "nodes": [
            {
                "id": int(node_id),
                "name": name,
                "state": _node_state(ws, name),
                "member": name in members,
                "dc": node_id == str(status["dc"]),
            }
            for node_id, name in sorted(names.items(), key=lambda kv: int(kv[0]))
        ],
        "resources": [
            {
                "id": p.id,
                "agent": f"{p.agent_class}:{p.provider + ':' if p.provider else ''}{p.agent_type}",
                "role": p.role.name.lower() if hasattr(p.role, "name") else str(p.role),
                "nodes": [n.name for n in p.running_on],
                "failed": p.failed,
            }
            for p in _primitives(ws)
        ],
        "failed_actions": [
            {"resource": p.id, "node": node, "task": e.task, "rc": e.rc, "status": e.status}
            for p in _primitives(ws)
            for node, e in _failed(p)
        ],
        "fencing_history": [r.as_dict() for r in newest_first(fencing_history(status))],
        "quorum": status["quorum"],
        "warnings": configuration_warnings(ws),
    }


def text_lines(status: dict[str, Any], ws: WorkingSet, *, full: bool) -> list[str]:
    quorum = "partition with quorum" if status["quorate"] else "partition WITHOUT quorum"
    if status["dc"] is None:
        dc_line = f"NONE (the nodes are joining: {status['phase']})"
    else:
        dc_line = f"{status['dc_name']} (id {status['dc']}) - {quorum}"
    lines = [
        "Cluster Summary:",
        f"  * Stack: hactl (cluster {status['cluster_name']})",
        f"  * Current DC: {dc_line}",
        f"  * Last updated: {dt.datetime.now().strftime('%a %b %d %H:%M:%S %Y')} "
        f"on {status['node']['name']}",
        f"  * CIB version: {'.'.join(map(str, status['versions']))}",
        f"  * {len(status['nodes'])} nodes configured",
        f"  * {len(_primitives(ws))} resource instances configured",
    ]
    if full:
        q = status["quorum"]
        lines += [
            f"  * Ring: {status['ring']} members {status['members']}",
            f"  * Votes: total {q['total_votes']}, expected {q['expected_votes']}, "
            f"quorum {q['quorum']}",
        ]
    warnings = configuration_warnings(ws)
    if warnings:
        lines += ["", "WARNINGS:", *warnings]
    lines += ["", "Node List:"]
    lines += ["  " + line for line in status_view.node_lines(ws)]
    lines += ["", "Full List of Resources:"]
    shown = [r for r in ws.resources if not (r.orphan and not r.running_on)]
    if not shown:
        lines.append("  * No resources")
    for rsc in shown:
        lines += ["  " + line for line in status_view.resource_lines(ws, rsc)]
    failed = [(p, node, e) for p in _primitives(ws) for node, e in _failed(p)]
    if failed:
        lines += ["", "Failed Resource Actions:"]
        for p, node, e in failed:
            interval = f"_{e.interval_ms}" if e.interval_ms else "_0"
            lines.append(f"  * {p.id}_{e.task}{interval} on {node} returned {e.rc}")
    lines += status_view.fencing_lines(fencing_history(status), full=full)
    return lines


@app.callback(invoke_without_command=True)
def status(
    full: bool = typer.Option(False, "--full", help="Show everything (crm_mon -A -f -n style)."),
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """The running cluster: DC, quorum, nodes, resources, failed actions."""
    from hactl.core.daemon.client import cluster_status

    current = cluster_status()
    ws = working_set(current)
    if output is OutputFormat.json:
        print_json(as_json(current, ws))
    else:
        print("\n".join(text_lines(current, ws, full=full)))
