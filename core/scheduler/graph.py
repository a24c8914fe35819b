"""What the transition graph says about each action, as Pacemaker's graph producer writes it.

A resource action carries the resource's parameters and its meta attributes as
``CRM_meta_*``: the configured op's attributes and meta attributes over op_defaults (the
timeout normalised to milliseconds, 20 s by default; a probe's taken from the most frequent
monitor), what the action itself needs (a probe's expected rc, a migration's source and
target, a cancel's operation, a fencing's action), the node it runs on, and what its
parents add (a clone's sizes and flags, an instance's number). The controller runs the
operation from exactly these.
"""

from __future__ import annotations

import re

from lxml import etree

from hactl.core.scheduler import rules, scores
from hactl.core.scheduler.model import Action, Node, Resource, Role, WorkingSet

DEFAULT_TIMEOUT_MS = 20_000
OCF_NOT_RUNNING = 7
OCF_RUNNING_PROMOTED = 8
#: action meta kept inside the scheduler (not graph attributes)
_INTERNAL_META = {"probe", "interval", "guest_launcher"}
_NOTIFY_KEY = re.compile(r"_(pre|post|confirmed-pre|confirmed-post)_notify_([a-z_]+)_0$")
#: the task whose completion a post-notification follows, and back
_DONE = {"start": "running", "stop": "stopped", "promote": "promoted", "demote": "demoted"}
_UNDONE = {done: task for task, done in _DONE.items()}
_XML_NAME = re.compile(r"^[A-Za-z_][\w.-]*$")


def _interval_ms(text: str | None) -> int | None:
    """An interval or timeout spec in milliseconds ("30", "30s", "1m", "PT1M"), None if bad."""
    from hactl.core.scheduler.unpack import parse_interval_ms

    if text is None:
        return None
    try:
        return parse_interval_ms(text)
    except (ValueError, TypeError):
        return None


def op_config(rsc: Resource, task: str, interval_ms: int) -> etree._Element | None:
    """The configured `<op>` for an action (migrations fall back to a 'migrate' op)."""
    ops = _ops(rsc)
    for name, interval in ((task, interval_ms), ("migrate", 0)):
        for op in ops:
            if op.get("name") == name and (_interval_ms(op.get("interval")) or 0) == interval:
                return op
        if task not in ("migrate_to", "migrate_from"):
            break
    return None


def _ops(rsc: Resource) -> list[etree._Element]:
    element = rsc.element
    operations = element.find("operations")
    if operations is None and element.get("template"):
        root = element.getroottree().getroot()
        found = root.find(f".//template[@id='{element.get('template')}']")
        operations = found.find("operations") if found is not None else None
    if operations is not None and operations.get("id-ref"):
        root = element.getroottree().getroot()
        operations = root.find(f".//operations[@id='{operations.get('id-ref')}']")
    return list(operations.iterfind("op")) if operations is not None else []


def _nvpair_blocks(
    holder: etree._Element | None, tag: str, attrs: dict[str, str], ws: WorkingSet
) -> dict[str, str]:
    """Name/value pairs of the `tag` blocks whose rules hold, higher scores first, the first
    value of a name winning (Pacemaker's pe__unpack_dataset_nvpairs)."""
    out: dict[str, str] = {}
    if holder is None:
        return out
    root = holder.getroottree().getroot()
    blocks = []
    for block in holder.iterfind(tag):
        ref = block.get("id-ref")
        if ref is not None:
            found = root.find(f".//{tag}[@id='{ref}']")
            block = found if found is not None else block
        blocks.append(block)
    blocks.sort(key=lambda b: -scores.parse(b.get("score"), 0))
    for block in blocks:
        rule = block.find("rule")
        if rule is not None and not rules.evaluate(rule, attrs, ws.now):
            continue
        for pair in block.iterfind("nvpair"):
            ref = pair.get("id-ref")
            found = root.find(f".//nvpair[@id='{ref}']") if ref is not None else None
            if found is not None:
                pair = found
            name, value = pair.get("name"), pair.get("value")
            if name is None or value is None:
                continue
            if value.lower() == "#default":
                out.pop(name, None)  # the (deprecated) explicit default unsets it
            elif name not in out:
                out[name] = value
    return out


def _template(element: etree._Element) -> etree._Element | None:
    name = element.get("template")
    if not name:
        return None
    return element.getroottree().getroot().find(f".//template[@id='{name}']")


def resource_parameters(ws: WorkingSet, rsc: Resource, node: Node | None) -> dict[str, str]:
    """The resource's instance attributes evaluated for `node` (rules see its attributes),
    the primitive's own over its template's, then what its parents add (Pacemaker's
    pe_rsc_params)."""
    attrs = dict(node.attrs) if node is not None else {}
    own = _nvpair_blocks(rsc.element, "instance_attributes", attrs, ws)
    template = _template(rsc.element) if rsc.is_primitive else None
    for name, value in _nvpair_blocks(template, "instance_attributes", attrs, ws).items():
        own.setdefault(name, value)
    parent = rsc.parent
    while parent is not None:
        if parent.element is not rsc.element:
            for name, value in _nvpair_blocks(
                parent.element, "instance_attributes", attrs, ws
            ).items():
                own.setdefault(name, value)
        parent = parent.parent
    return own


def instance_parameters(
    ws: WorkingSet, rsc: Resource, node: Node | None, task: str, interval_ms: int
) -> tuple[dict[str, str], dict[str, str]]:
    """An action's parameters: the resource's for `node`, and the op's own instance
    attributes (which Pacemaker adds over them)."""
    config = op_config(rsc, task, interval_ms)
    attrs = dict(node.attrs) if node is not None else {}
    own = _nvpair_blocks(config, "instance_attributes", attrs, ws)
    return resource_parameters(ws, rsc, node), own


def _most_frequent_monitor(rsc: Resource) -> etree._Element | None:
    best: tuple[int, etree._Element] | None = None
    for op in _ops(rsc):
        interval = _interval_ms(op.get("interval")) or 0
        if op.get("name") != "monitor" or interval <= 0:
            continue
        if (op.get("enabled") or "true").lower() in ("false", "no", "0", "off"):
            continue
        if best is None or interval < best[0]:
            best = (interval, op)
    return best[1] if best is not None else None


def op_meta(ws: WorkingSet, rsc: Resource, task: str, interval_ms: int) -> dict[str, str]:
    """An operation's meta attributes (Pacemaker's pcmk__unpack_action_meta)."""
    meta: dict[str, str] = {}
    config = op_config(rsc, task, interval_ms)
    if config is not None:
        for block in config.iterfind("meta_attributes"):
            for pair in block.iter("nvpair"):
                meta.setdefault(pair.get("name", ""), pair.get("value", ""))
        meta.update({str(k): str(v) for k, v in config.attrib.items()})
    if task == "monitor" and interval_ms == 0 and "timeout" not in meta:
        monitor = _most_frequent_monitor(rsc)
        if monitor is not None and monitor.get("timeout") is not None:
            meta["timeout"] = monitor.get("timeout", "")
    for name, value in ws.op_defaults.items():
        meta.setdefault(name, value)
    meta.pop("id", None)
    meta.pop("id-ref", None)
    if interval_ms > 0:
        meta["interval"] = str(interval_ms)
    else:
        meta.pop("interval", None)
    if rsc.agent_class == "stonith" and (
        task == "start" or (task == "monitor" and not interval_ms)
    ):
        fence_timeout = rsc.params.get("pcmk_monitor_timeout")
        if fence_timeout is not None:
            meta["timeout"] = fence_timeout
    timeout_ms = _interval_ms(meta.get("timeout"))
    meta["timeout"] = str(timeout_ms if timeout_ms else DEFAULT_TIMEOUT_MS)
    if task == "stop" and (meta.get("on-fail") or "").lower() in ("standby", "demote", "stop"):
        del meta["on-fail"]  # not allowed for a stop: the default applies
    if "start-delay" in meta:
        delay = _interval_ms(meta["start-delay"])
        meta["start-delay"] = str(delay or 0)
    return meta


def _action_meta(ws: WorkingSet, act: Action) -> dict[str, str]:
    rsc = act.rsc
    meta: dict[str, str] = {}
    if rsc is not None:
        task = act.task
        if task == "cancel":
            task = act.cancel_task or "monitor"
        meta = op_meta(ws, rsc, task, act.interval_ms)
        if act.task == "cancel":
            meta["operation"] = task
        if act.task == "monitor":
            if act.interval_ms == 0:
                meta["op_target_rc"] = str(OCF_NOT_RUNNING)
            elif _monitor_role(rsc, act.interval_ms) == Role.PROMOTED:
                meta["op_target_rc"] = str(OCF_RUNNING_PROMOTED)
            elif _monitor_role(rsc, act.interval_ms) == Role.STOPPED:
                meta["op_target_rc"] = str(OCF_NOT_RUNNING)
        elif act.task in ("migrate_to", "migrate_from"):
            source = next((a for a in rsc.actions if a.task == "migrate_to"), None)
            target = next((a for a in rsc.actions if a.task == "migrate_from"), None)
            if source is not None and source.node is not None:
                meta["migrate_source"] = source.node.name
            elif rsc.meta.get("__partial_source"):
                meta["migrate_source"] = rsc.meta["__partial_source"]
            if target is not None and target.node is not None:
                meta["migrate_target"] = target.node.name
            if act.task == "migrate_to" and not rsc.is_remote_connection:
                meta["record-pending"] = "true"
        elif act.task == "clear_failcount":
            meta["op_no_wait"] = "true"
        meta.update(_notify_meta(ws, act))
    elif act.task == "do_shutdown":
        meta["op_no_wait"] = "true"
    for name, value in act.meta.items():
        if name not in _INTERNAL_META and not name.startswith("__"):
            meta[name] = value
    if act.node is not None and not (act.pseudo and act.task != "stonith"):
        meta["on_node"] = act.node.name
        meta["on_node_uuid"] = act.node.id
    return meta


def _notify_meta(ws: WorkingSet, act: Action) -> dict[str, str]:
    """A notification's type and operation; an instance's also the lists of instances in
    each state and activity (Pacemaker's notify data), which the instances' own required
    start/stop/promote/demote carry as well."""
    rsc = act.rsc
    assert rsc is not None
    clone = rsc if rsc.is_clone else rsc.clone_parent()
    if clone is None or not clone.notify:
        return {}
    match = _NOTIFY_KEY.search(act.key) if act.task in ("notify", "notified") else None
    if match is None:
        if act.task in _DONE and not act.optional and act.node is not None and rsc.is_primitive:
            return notify_lists(ws, clone)
        return {}
    kind, task = match.groups()
    base = kind.removeprefix("confirmed-")
    if rsc.is_clone:
        operation = _UNDONE.get(task, task) if base == "post" else task
        return {
            "notify_type": base,
            "notify_operation": operation,
            "notify_key_type": kind,
            "notify_key_operation": task,
        }
    meta = {
        "notify_type": base,
        "notify_operation": task,
        "notify_key_type": base,
        "notify_key_operation": _DONE.get(task, task) if base == "post" else task,
    }
    meta.update(notify_lists(ws, clone))
    return meta


def notify_lists(ws: WorkingSet, clone: Resource) -> dict[str, str]:
    """The instances of a clone by state and by what the transition does to them."""
    lists: dict[str, list[tuple[Resource, Node | None]]] = {
        name: []
        for name in ("active", "inactive", "unpromoted", "promoted", "start", "stop")
        + ("promote", "demote")
    }
    for prim in clone.primitives():
        node = prim.running_on[0] if prim.running_on else None
        role = prim.role
        if role <= Role.STOPPED:
            lists["inactive"].append((prim, node))
        else:
            lists["active"].append((prim, node))
            if role == Role.UNPROMOTED:
                lists["unpromoted"].append((prim, node))
            elif role == Role.PROMOTED:
                lists["promoted"].append((prim, node))
        for act in prim.actions:
            if act.optional or act.node is None or act.task not in _DONE:
                continue
            if not act.runnable and not (act.task == "stop" and act.node.unclean):
                continue
            lists[act.task].append((prim, act.node))
    out: dict[str, str] = {}
    for name in ("stop", "start", "demote", "promote", "active"):
        out[f"notify_{name}_resource"], out[f"notify_{name}_uname"] = _words(lists[name])
    for name, legacy in (("unpromoted", "slave"), ("promoted", "master")):
        resources, unames = _words(lists[name])
        for key in (name, legacy):
            out[f"notify_{key}_resource"], out[f"notify_{key}_uname"] = resources, unames
    out["notify_inactive_resource"] = _words(lists["inactive"], nodes=False)[0]
    available = sorted(clone.allowed or {n.name: 0 for n in ws.nodes}, key=_natural)
    out["notify_available_uname"] = " ".join(available) or " "
    out["notify_all_uname"] = " ".join(sorted((n.name for n in ws.nodes), key=_natural)) or " "
    return out


def _words(entries: list[tuple[Resource, Node | None]], *, nodes: bool = True) -> tuple[str, str]:
    """Resource ids and node names, sorted by resource then node id, one entry per instance
    (" " for none, as Pacemaker writes an empty list)."""
    ordered = sorted(entries, key=lambda e: (e[0].id, e[1] is None, e[1].id if e[1] else ""))
    names: list[str] = []
    unames: list[str] = []
    last = None
    for rsc, node in ordered:
        if nodes and node is None:
            continue
        if rsc.id == last:
            continue
        last = rsc.id
        names.append(rsc.id)
        if node is not None:
            unames.append(node.name)
    return " ".join(names) or " ", " ".join(unames) or " "


def _natural(name: str) -> list[object]:
    """Node names compared as Pacemaker does: digit runs by value, the rest without case."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def _monitor_role(rsc: Resource, interval_ms: int) -> Role | None:
    for op in rsc.ops:
        if op.name == "monitor" and op.interval_ms == interval_ms:
            return op.role
    return None


def _meta_name(name: str) -> str:
    return "CRM_meta_" + name.replace("-", "_")


def action_attributes(ws: WorkingSet, act: Action) -> dict[str, str]:
    """The `<attributes>` of an action in the graph, sorted by name as Pacemaker sorts them."""
    out: dict[str, str] = {}
    rsc = act.rsc
    if rsc is not None and (act.node is not None or rsc.is_primitive):
        task = act.cancel_task or "monitor" if act.task == "cancel" else act.task
        params, own = instance_parameters(ws, rsc, act.node, task, act.interval_ms)
        # names that cannot be XML attributes (a CIB may hold any) stay out
        out.update({k: v for k, v in {**params, **own}.items() if _XML_NAME.match(k)})
    for name, value in _action_meta(ws, act).items():
        # cluster-generated attributes with '#' or ':' stay out of the graph
        if "#" not in name and ":" not in name:
            out[_meta_name(name)] = value
    holder: Resource | None = rsc
    while holder is not None:
        out.update(_parent_meta(holder))
        holder = holder.parent
    return dict(sorted(out.items()))


def _parent_meta(rsc: Resource) -> dict[str, str]:
    """What a resource adds to the actions of it and its children."""
    out: dict[str, str] = {}
    if rsc.is_primitive:
        if rsc.clone_parent() is not None and ":" in rsc.id:
            out[_meta_name("clone")] = rsc.id.rsplit(":", 1)[1]
        if rsc.launcher is not None:
            out[_meta_name("container")] = rsc.launcher.id
    elif rsc.is_clone:
        out[_meta_name("globally-unique")] = "true" if rsc.globally_unique else "false"
        out[_meta_name("notify")] = "true" if rsc.notify else "false"
        out[_meta_name("clone-max")] = str(rsc.clone_max)
        out[_meta_name("clone-node-max")] = str(rsc.clone_node_max)
        if rsc.promotable:
            for name, value in (
                ("promoted-max", rsc.promoted_max),
                ("promoted-node-max", rsc.promoted_node_max),
                ("master-max", rsc.promoted_max),
                ("master-node-max", rsc.promoted_node_max),
            ):
                out[_meta_name(name)] = str(value)
    return out


def primitive_attributes(act: Action) -> dict[str, str]:
    """The `<primitive>` naming the resource a real action runs on."""
    rsc = act.rsc
    assert rsc is not None
    clone = rsc.clone_parent()
    attrs: dict[str, str] = {}
    if rsc.orphan:
        attrs["id"] = rsc.history_id
        if rsc.history_id != rsc.id:
            attrs["long-id"] = rsc.id
    elif clone is not None and not clone.globally_unique:
        base = rsc.meta.get("__base", rsc.id)
        attrs["id"] = base
        attrs["long-id"] = rsc.history_id if rsc.history_id != base else rsc.id
    else:
        attrs["id"] = rsc.id
    attrs["class"] = rsc.agent_class
    if rsc.provider:
        attrs["provider"] = rsc.provider
    attrs["type"] = rsc.agent_type
    return attrs


def graph_options(ws: WorkingSet) -> dict[str, str]:
    """The `<transition_graph>` attributes: delays and failure offsets the controller
    applies (a failed start counts INFINITY unless start-failure-is-fatal is false)."""
    options = ws.options
    out = {
        "cluster-delay": options.get("cluster-delay", "60s"),
        "fencing-timeout": options.get("fencing-timeout", options.get("stonith-timeout", "60s")),
        "failed-stop-offset": "INFINITY",
        "failed-start-offset": "INFINITY" if ws.start_failure_fatal else "1",
    }
    if options.get("batch-limit", "").strip().isdigit():
        out["batch-limit"] = options["batch-limit"].strip()
    out["transition_id"] = "0"
    return out


def downed_nodes(ws: WorkingSet, act: Action) -> list[str]:
    """Ids of the nodes an action takes down (a shutdown, a fencing and its guests)."""
    if act.node is None:
        return []
    if act.task == "do_shutdown":
        return [act.node.id]
    if act.task == "stonith" and act.meta.get("stonith_action", "reboot") in ("reboot", "off"):
        guests = [
            n.id
            for n in ws.nodes
            if n.remote_rsc is not None
            and n.remote_rsc.launcher is not None
            and act.node in n.remote_rsc.launcher.running_on
        ]
        return [act.node.id, *guests]
    return []
