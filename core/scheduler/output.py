"""What crm_simulate prints: the transition summary, score lines and the graph as dot."""

from __future__ import annotations

from hactl.core.scheduler import graph, remote
from hactl.core.scheduler.actions import FIRST_IMPLIES_THEN, Builder
from hactl.core.scheduler.model import Action, Node, Resource, Role, WorkingSet


def _required(rsc: Resource, task: str, node: Node | None = None) -> Action | None:
    for act in rsc.actions:
        if act.task == task and act.interval_ms == 0 and not act.optional:
            if node is None or act.node is node:
                return act
    return None


def _item(change: str, rsc: Resource, details: str, reason: str = "") -> str:
    line = f"  * {change:<8}   {rsc.id:<10}   ( {details} )"
    return line + (f"  {reason}" if reason else "")


def _reason(act: Action | None, blocked: bool) -> str:
    if act is None:
        return "blocked" if blocked else ""
    if act.reason and blocked:
        return f"due to {act.reason} (blocked)"
    if act.reason:
        return f"due to {act.reason}"
    return "blocked" if blocked else ""


def _restart_reason(rsc: Resource, start: Action) -> str:
    """A restart caused by another resource names the action that required it."""
    if not start.runnable:
        return _reason(start, True)
    for first, flags in start.before:
        if first.rsc is None and start.reason == f"required {first.task}":
            return f"due to {start.reason}"  # required by the node's unfencing
        if flags & FIRST_IMPLIES_THEN and first.rsc is not None and first.rsc is not rsc:
            if not first.optional and first.task in ("start", "running", "promote", "promoted"):
                return f"due to required {first.rsc.id} {first.task}"
    return _reason(start, False)


def resource_summary(rsc: Resource) -> list[str]:
    if rsc.kind == "bundle":
        from hactl.core.scheduler.bundle import summary_order

        return [line for member in summary_order(rsc) for line in resource_summary(member)]
    if not rsc.is_primitive:
        out: list[str] = []
        for child in rsc.children:
            out.extend(resource_summary(child))
        return out
    if not rsc.managed:
        return []
    current = Builder.current_node(rsc)  # as Pacemaker's pcmk__current_node
    nxt = rsc.assigned
    if len(rsc.running_on) > 1:
        # multiply active and stopped: one line per node
        if nxt is None:
            return [
                _item("Stop", rsc, node.name, _reason(stop, not stop.runnable))
                for node in rsc.running_on
                for stop in [_required(rsc, "stop", node)]
                if stop is not None
            ]

    role, next_role = rsc.role, rsc.next_role
    need_role = role > Role.STARTED or next_role > Role.UNPROMOTED
    start = _required(rsc, "start", nxt) if nxt is not None else None
    stop = _required(rsc, "stop", current) if current is not None else None
    if stop is None and len(rsc.running_on) > 1 and rsc.multiple_active == "stop_unexpected":
        # staying where it is, it stops elsewhere (Pacemaker's rsc_action_default)
        stop = _required(rsc, "stop")
    if current is None and nxt is None:
        return []
    if current is None:
        assert nxt is not None
        # a start is announced even while optional (one blocked from the outset stays so)
        start = start or next(
            (a for a in rsc.actions if a.task == "start" and a.node is nxt and not a.interval_ms),
            None,
        )
        if start is None:
            return []
        blocked = not start.runnable
        if need_role and next_role == Role.PROMOTED:
            # the promotion is the item: its reason, and blocked when it cannot run
            promotion = next(
                (a for a in rsc.actions if a.task == "promote" and a.node is nxt), start
            )
            detail = f"Stopped -> Promoted {nxt.name}"
            return [_item("Promote", rsc, detail, _reason(promotion, not promotion.runnable))]
        return [_item("Start", rsc, nxt.name, _reason(start, blocked))]
    if nxt is None or (start is not None and not start.runnable and stop is not None):
        if stop is None:
            return []
        detail = f"{role.text} {current.name}" if need_role else current.name
        blocked = not stop.runnable
        # the stop's own reason when it has one, else the start's (rsc_action_default)
        source = stop if stop.reason or start is None or nxt is None else start
        return [_item("Stop", rsc, detail, _reason(source, blocked))]
    failed = rsc.failed
    if current is not nxt:
        migrate = _required(rsc, "migrate_to", current)
        if need_role and role == next_role:
            detail = f"{current.name} -> {nxt.name} {role.text}"
        elif need_role:
            detail = f"{role.text} {current.name} -> {next_role.text} {nxt.name}"
        else:
            detail = f"{current.name} -> {nxt.name}"
        change = "Recover" if failed else ("Migrate" if migrate else "Move")
        return [
            _item(change, rsc, detail, _reason(start, start is not None and not start.runnable))
        ]
    lines: list[str] = []
    if any(a.task == "reload-agent" and not a.optional for a in rsc.actions):
        detail = f"{role.text} {current.name}" if need_role else current.name
        return [_item("Reload", rsc, detail)]
    if stop is not None and start is not None:
        if need_role and role != next_role and next_role == Role.PROMOTED:
            return [_item("Promote", rsc, f"{role.text} -> {next_role.text} {current.name}")]
        change = "Recover" if failed else "Restart"
        detail = f"{role.text} {current.name}" if need_role else current.name
        # a recovery gives its stop's reason (Pacemaker's rsc_action_default)
        reason = _reason(stop, False) if failed else _restart_reason(rsc, start)
        return [_item(change, rsc, detail, reason)]
    promote = _required(rsc, "promote", nxt)
    demote = _required(rsc, "demote", current)
    if promote is not None and role != Role.PROMOTED:
        lines.append(
            _item(
                "Promote",
                rsc,
                f"{role.text} -> Promoted {nxt.name}",
                _reason(promote, not promote.runnable),
            )
        )
    elif demote is not None and next_role != Role.PROMOTED:
        lines.append(_item("Demote", rsc, f"Promoted -> {next_role.text} {current.name}"))
    elif demote is not None and promote is not None:
        lines.append(_item("Re-promote", rsc, f"Promoted {current.name}"))
    return lines


def _fencing_decided(act: Action) -> tuple[int, int]:
    if act.meta.get("stonith_action") == "on":
        return (1, act.id)
    sequence = act.node.fence_sequence if act.node is not None else 0
    return (0, sequence) if sequence else (2, 0)


def transition_summary(ws: WorkingSet) -> list[str]:
    lines: list[str] = []
    fencings = [
        a for a in ws.actions if a.task == "stonith" and a.node is not None and not a.optional
    ]
    # in the order fencing was decided: while the status is read, then unfencing as the
    # actions are made, then what is fenced only for being unclean
    fencings.sort(key=_fencing_decided)
    for act in fencings:
        if act.node is not None:
            launcher = act.meta.get("guest_launcher")
            resource = f" (resource: {launcher})" if launcher else ""
            lines.append(
                f"  * Fence ({act.meta.get('stonith_action', 'reboot')}) {act.node.name}"
                f"{resource} '{act.reason}'"
            )
    # Pacemaker lists fencing in reverse of creation
    lines.reverse()
    for rsc in ws.resources:
        lines.extend(resource_summary(rsc))
    return lines


def dot(ws: WorkingSet) -> str:
    out = [' digraph "g" {']
    shown: set[int] = set()
    for act in ws.actions:
        font = "orange" if act.pseudo else "black"
        if act.in_graph:
            style, color = "bold", "green"
        elif act.rsc is not None and not act.rsc.managed:
            continue
        elif act.optional:
            continue
        else:
            style, color = "dashed", "red"
        shown.add(act.id)
        out.append(f'"{act.name()}" [ style={style} color="{color}" fontcolor="{font}"]')
    edges: list[str] = []
    for act in ws.actions:
        for before, _flags in act.before:
            if before.id in shown and act.id in shown:
                style = "bold" if before.in_graph and act.in_graph else "dashed"
                edges.append(f'"{before.name()}" -> "{act.name()}" [ style = {style}]')
    out.extend(edges)
    out.append("}")
    return "\n".join(out) + "\n"


def executed_line(act: Action, known: set[str]) -> str:
    if act.task == "stonith":
        node = act.node.name if act.node else ""
        if act.pseudo:  # a guest's, done by recovering its launcher
            return f"  * Pseudo action:   {act.key} on {node}"
        return f"  * Fencing {node} ({act.meta.get('stonith_action', 'reboot')})"
    if act.pseudo:
        return f"  * Pseudo action:   {act.meta.get('__executed_key', act.key)}"
    if act.rsc is None:
        node = act.node.name if act.node else ""
        return f"  * Cluster action:  {act.task} on {node}"
    if act.task in ("clear_failcount", "lrm_delete"):
        node = act.node.name if act.node else ""
        # named as the graph's <primitive> names it (an anonymous instance by its clone's id)
        rsc_id = graph.primitive_attributes(act)["id"]
        return f"  * Cluster action:  {act.task} for {rsc_id} on {node}"
    node = act.node.name if act.node else ""
    task = act.task
    if act.interval_ms:
        task = f"{task}={act.interval_ms}"
    return f"  * Resource action: {act.rsc.executor_id(known):<15} {task} on {node}"


def graph_xml(ws: WorkingSet) -> str:
    """The transition graph as the controller reads it: one synapse per action, with the
    action's details (resource, parameters and CRM_meta_* attributes, nodes it takes down),
    and its inputs by reference."""
    from lxml import etree

    from hactl.core.scheduler.execute import synapse_order

    root = etree.Element("transition_graph", graph.graph_options(ws))
    ordered = synapse_order(ws)
    for number, act in enumerate(ordered):
        synapse = etree.SubElement(root, "synapse", id=str(number))
        holder = etree.SubElement(synapse, "action_set")
        _graph_action(ws, holder, act, details=True)
        inputs = etree.SubElement(synapse, "inputs")
        for before, _flags in act.before:
            if before.in_graph:
                trigger = etree.SubElement(inputs, "trigger")
                _graph_action(ws, trigger, before, details=False)
    return etree.tostring(root, pretty_print=True, encoding="unicode")


def _graph_action(ws: WorkingSet, parent: object, act: Action, *, details: bool) -> None:
    from lxml import etree

    if act.task == "stonith":
        tag = "pseudo_event" if act.pseudo else "crm_event"
    elif act.task in ("do_shutdown", "clear_failcount", "lrm_delete"):
        tag = "crm_event"
    elif act.pseudo:
        tag = "pseudo_event"
    else:
        tag = "rsc_op"
    attrs = {"id": str(act.id), "operation": act.task, "operation_key": act.key}
    if act.rsc is not None:
        internal = act.key.replace(act.rsc.history_id, act.rsc.id, 1)
        if internal != act.key:
            attrs["internal_operation_key"] = internal
    if act.node is not None and (tag != "pseudo_event" or act.task == "stonith"):
        attrs["on_node"] = act.node.name
        attrs["on_node_uuid"] = act.node.id
        router = remote.router_node(act) if tag != "pseudo_event" else None
        if router is not None:
            attrs["router_node"] = router.name
    element = etree.SubElement(parent, tag, attrs)  # type: ignore[arg-type]
    if not details:
        return
    if act.rsc is not None and not act.pseudo:
        etree.SubElement(element, "primitive", graph.primitive_attributes(act))
    etree.SubElement(element, "attributes", graph.action_attributes(ws, act))
    downed = graph.downed_nodes(ws, act)
    if downed:
        holder = etree.SubElement(element, "downed")
        for node_id in downed:
            etree.SubElement(holder, "node", id=node_id)
