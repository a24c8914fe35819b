"""Operation digests: whether a resource's definition changed since an operation ran.

Every `lrm_rsc_op` records the digest of the parameters it ran with (``op-digest``); an
agent that can reload also records the digest of its non-reloadable parameters
(``op-restart-digest``, those parameters in ``op-force-restart``), and one with secrets the
digest without them (``op-secure-digest``, the secrets in ``op-secure-params``). The
scheduler computes the same digests from the resource's current definition on that node
(instance attributes evaluated with the node's attributes, its parents', the op's own
instance attributes, and a recurring op's timeout) and compares (Pacemaker's
rsc_action_digest_cmp):

- the restart digest differs: the resource restarts ("resource definition change");
- only the full digest differs: a recurring op is re-created with its new parameters, a
  one-time op (start, probe, promote, migrate_from) reloads the resource when its agent
  recorded a restart digest, and restarts it otherwise;
- an op with no recorded digest counts as changed for those purposes.

`check_config_changes` walks every node's history as Pacemaker's
pcmk__handle_rsc_config_changes does and returns what the transition must do; the action
builder applies it; a resource with a fail count there has it cleared. All of this is
pure.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from lxml import etree

from hactl.core.cib.digest import params_digest
from hactl.core.scheduler import graph
from hactl.core.scheduler.model import HistoryEntry, Node, Resource, WorkingSet


class Comparison(enum.Enum):
    MATCH = "match"
    #: the full digest differs, the restart digest (if any) does not
    MISMATCH = "mismatch"
    #: non-reloadable parameters changed
    RESTART = "restart"
    #: the history records no digest
    UNKNOWN = "unknown"


@dataclass
class Digests:
    """The digests of an operation as the resource is defined now, on one node."""

    all: str
    restart: str | None
    secure: str
    #: a one-time op with instance attributes of its own: any change restarts
    one_time_with_own_params: bool = False


def operation_parameters(
    ws: WorkingSet, rsc: Resource, node: Node | None, task: str, interval_ms: int
) -> tuple[dict[str, str], bool]:
    """What an operation runs with, as digested: the resource's parameters, the op's own
    instance attributes, and its meta attributes as CRM_meta_*; and whether the op has
    instance attributes of its own."""
    params, own = graph.instance_parameters(ws, rsc, node, task, interval_ms)
    params.update(own)
    for name, value in graph.op_meta(ws, rsc, task, interval_ms).items():
        params["CRM_meta_" + name.replace("-", "_")] = value
    return params, bool(own)


def calculate(
    ws: WorkingSet, rsc: Resource, node: Node, op: etree._Element | None, task: str, interval: int
) -> Digests:
    """The digests of `task` at `interval` for rsc on node; `op` (a history entry) says
    which parameters are reloadable and which are secret."""
    params, own = operation_parameters(ws, rsc, node, task, interval)
    restart = None
    if op is not None and op.get("op-restart-digest") is not None:
        # without a list (an older controller) every parameter needs a restart
        force = op.get("op-force-restart")
        restart = params_digest(params, keep=None if force is None else set(force.split()))
    secure_list = " passwd password user " if op is None else op.get("op-secure-params", "")
    secret = set(secure_list.split())
    if _feature_set(op, rsc) < SECURE_DIGEST_OF_ALL:
        # recorded by an older controller: of the resource's own parameters only, without
        # the fencing parameters and the timeout (neither were in the agent's metadata)
        own_params = graph.instance_parameters(ws, rsc, node, task, interval)[0]
        if rsc.agent_class == "stonith":
            secret |= {name for name in own_params if is_fence_param(name)}
        secure = params_digest({n: v for n, v in own_params.items() if n not in secret})
    else:
        secure = params_digest(params, drop=secret)
    return Digests(
        all=params_digest(params),
        restart=restart,
        secure=secure,
        one_time_with_own_params=own and interval == 0,
    )


#: the feature set from which the controller digests all but the secret parameters
SECURE_DIGEST_OF_ALL = (3, 16, 0)
#: the feature set hactl's controller writes when nothing else says
CURRENT_FEATURE_SET = (3, 20, 0)


def _feature_set(op: etree._Element | None, rsc: Resource) -> tuple[int, ...]:
    """The feature set an operation was recorded with (else the CIB's)."""
    text = op.get("crm_feature_set") if op is not None else None
    if text is None:
        text = rsc.element.getroottree().getroot().get("crm_feature_set")
    if text is None:
        return CURRENT_FEATURE_SET
    parts = []
    for part in text.split("."):
        if not part.isdigit():
            break
        parts.append(int(part))
    return tuple(parts)


#: fencing parameters Pacemaker itself interprets (besides pcmk_<action>_action/_timeout/
#: _retries)
_FENCE_PARAMS = frozenset(
    {
        "provides",
        "stonith-timeout",
        "pcmk_action_limit",
        "pcmk_delay_base",
        "pcmk_delay_max",
        "pcmk_host_argument",
        "pcmk_host_check",
        "pcmk_host_list",
        "pcmk_host_map",
    }
)


def is_fence_param(name: str) -> bool:
    """A parameter of a fence device that Pacemaker interprets, not the agent."""
    if name in _FENCE_PARAMS:
        return True
    if not name.startswith("pcmk_") or "_" not in name[5:]:
        return False
    return name[5:][name[5:].index("_") :] in ("_action", "_timeout", "_retries")


def digest_task(task: str, interval_ms: int) -> str:
    """The action whose definition a one-time op is compared with: a probe, a promote and a
    migrate_from ran with the start's parameters."""
    if interval_ms == 0 and task in ("monitor", "migrate_from", "promote"):
        return "start"
    return task


def compare(ws: WorkingSet, rsc: Resource, node: Node, op: etree._Element) -> Comparison:
    """How an operation's recorded digests compare with the resource's definition now."""
    return _compare(ws, rsc, node, op)[0]


def _compare(
    ws: WorkingSet, rsc: Resource, node: Node, op: etree._Element
) -> tuple[Comparison, Digests]:
    now = calculate(ws, rsc, node, op, op.get("operation", ""), _interval(op))
    recorded_all = op.get("op-digest")
    if now.restart != op.get("op-restart-digest"):
        return Comparison.RESTART, now
    if recorded_all is None:
        return Comparison.UNKNOWN, now
    if recorded_all != now.all:
        if now.one_time_with_own_params:
            return Comparison.RESTART, now
        return Comparison.MISMATCH, now
    return Comparison.MATCH, now


def _interval(op: etree._Element) -> int:
    try:
        return int(op.get("interval", "0"))
    except ValueError:
        return 0


@dataclass
class ConfigChanges:
    """What the resources' definition changes ask of the transition."""

    #: (resource, task, interval) whose action is required anew (a restart, when the task is
    #: start; a rescheduled recurring op otherwise), with no node as Pacemaker creates it
    restarts: list[tuple[Resource, str, int]] = field(default_factory=list)
    #: (resource, node) to reload with the new parameters
    reloads: list[tuple[Resource, Node]] = field(default_factory=list)
    #: (resource, node, interval) recurring monitors to create again with new parameters
    reschedules: list[tuple[Resource, Node, int]] = field(default_factory=list)
    #: (resource, node) to stop (and so restart): a reload cannot follow a pending start
    stops: list[tuple[Resource, Node]] = field(default_factory=list)
    #: (task, resource, node, interval) of the reloads, fail count clearings, restarts'
    #: starts (node None: where placed) and re-created monitors, in the order Pacemaker
    #: creates them (which decides the order of a simulated run)
    actions: list[tuple[str, Resource, Node | None, int]] = field(default_factory=list)

    #: (len(restarts), ids of the resources restarting) once looked up: asked per resource
    #: and node, a scan of `restarts` (only ever appended to) would cost R x restarts
    _restarting: tuple[int, set[int]] | None = None

    def restart_required(self, rsc: Resource) -> bool:
        if self._restarting is None or self._restarting[0] != len(self.restarts):
            restarting = {id(r) for r, task, _ in self.restarts if task == "start"}
            self._restarting = (len(self.restarts), restarting)
        return id(rsc) in self._restarting[1]

    def monitor_required(self, rsc: Resource, node: Node, interval_ms: int) -> bool:
        """A recurring monitor to (re-)create on node whatever its history says."""
        return any(
            r is rsc and n is node and i == interval_ms for r, n, i in self.reschedules
        ) or any(r is rsc and t != "start" and i == interval_ms for r, t, i in self.restarts)

    def reload_on(self, rsc: Resource, node: Node) -> bool:
        return any(r is rsc and n is node for r, n in self.reloads)

    def stop_required(self, rsc: Resource, node: Node) -> bool:
        return any(r is rsc and n is node for r, n in self.stops)


def active_entries(entries: list[HistoryEntry]) -> list[HistoryEntry]:
    """The entries since the resource last started on a node (none when it stopped since),
    oldest first (Pacemaker's calculate_active_ops): a start or migrate_from, else a
    promote or demote, else a monitor that found it running after the last stop."""
    stop = start = implied_monitor = implied_clone = -1
    for index, entry in enumerate(entries):
        if entry.task == "stop" and entry.status == 0:
            stop = index
        elif entry.task in ("start", "migrate_from"):
            start = index
        elif entry.task == "monitor" and implied_monitor <= stop:
            if entry.rc in (0, 8):
                implied_monitor = index
        elif entry.task in ("promote", "demote"):
            implied_clone = index
    if start == -1:
        start = implied_clone if implied_clone != -1 else implied_monitor
    if start < stop:
        return []
    return entries[max(start, 0) :]


def check_config_changes(ws: WorkingSet, *, sanitized: bool = False) -> ConfigChanges:
    """What the definition changes since the recorded operations ask of the transition
    (Pacemaker's pcmk__handle_rsc_config_changes). `sanitized`: the CIB may have had its
    secrets masked (a simulation from a file), so a change of only secret parameters counts
    as none."""
    changes = ConfigChanges()
    primitives = [r for r in ws.all_resources() if r.is_primitive and not r.orphan]
    for node in ws.nodes:
        if not _can_run_actions(node):
            continue
        for rsc in primitives:
            if node not in rsc.running_on:
                continue
            if rsc.meta.get("__bundle_role") in GENERATED_BUNDLE_ROLES:
                continue
            for entry in active_entries(rsc.history.get(node.name, [])):
                op = entry.element
                if op is None or entry.interval_ms > 0 and _in_maintenance(ws, rsc, node):
                    continue
                if entry.interval_ms == 0 and entry.task not in CHECKED_ONE_TIME_TASKS:
                    continue
                if _check_action_config(ws, changes, rsc, node, op, entry, sanitized):
                    clear = ("clear_failcount", rsc, node, 0)
                    if _has_failcount(rsc, node) and (rsc, node) not in ws.clear_failcounts:
                        if clear not in changes.actions:
                            changes.actions.append(clear)
    return changes


def clear_failures_of_changed_definitions(ws: WorkingSet) -> None:
    """A start or monitor that last failed with parameters that changed since has its fail
    count cleared wherever the resource is, so the new definition is tried afresh
    (Pacemaker's should_clear_for_param_change, while unpacking: before the failure
    threshold is checked, which ignores a fail count being cleared); an expired one is
    cleared already."""
    for rsc in ws.all_resources():
        if not rsc.is_primitive or rsc.meta.get("__bundle_role") in GENERATED_BUNDLE_ROLES:
            continue
        for node_name, entries in rsc.history.items():
            node = ws.node(node_name)
            if node is None or not node.online or (rsc, node) in ws.clear_failcounts:
                continue
            for entry in entries:
                op = entry.element
                if op is None or not entry.id.endswith("_last_failure_0"):
                    continue
                if entry.task not in ("start", "monitor"):
                    continue
                if compare(ws, rsc, node, op) in (Comparison.RESTART, Comparison.MISMATCH):
                    ws.clear_failcounts.append((rsc, node))
                    break


#: a bundle's containers, IPs and connections are defined by the bundle, with parameters
#: Pacemaker generates (hactl's are not the same): their history is not compared
GENERATED_BUNDLE_ROLES = ("container", "ip", "remote")
#: one-time operations whose parameters are checked (those that start a resource, and probes)
CHECKED_ONE_TIME_TASKS = ("monitor", "start", "promote", "migrate_from")


def _can_run_actions(node: Node) -> bool:
    """Only where actions can run is a change acted on (Pacemaker's pcmk__node_available);
    maintenance leaves recurring ops to be cancelled, which the action builder does."""
    return (
        node.online
        and not node.shutdown
        and not node.unclean
        and not node.standby
        and not node.maintenance
    )


def _in_maintenance(ws: WorkingSet, rsc: Resource, node: Node) -> bool:
    return rsc.maintenance or ws.maintenance or node.maintenance


def _has_failcount(rsc: Resource, node: Node) -> bool:
    names = {rsc.id, rsc.meta.get("__base", rsc.id), rsc.history_id}
    for name, value in node.attrs.items():
        if name.startswith("fail-count-") and name[len("fail-count-") :].split("#")[0] in names:
            if value not in ("", "0"):
                return True
    return False


def _check_action_config(
    ws: WorkingSet,
    changes: ConfigChanges,
    rsc: Resource,
    node: Node,
    op: etree._Element,
    entry: HistoryEntry,
    sanitized: bool,
) -> bool:
    """Act on one recorded operation's definition change; whether it changed (Pacemaker's
    pcmk__check_action_config)."""
    interval = entry.interval_ms
    if interval > 0:
        config = graph.op_config(rsc, entry.task, interval)
        if config is None or not _enabled(config):
            return True  # a removed recurring op: the action builder cancels it
    task = digest_task(entry.task, interval)
    comparison, now = _compare(ws, rsc, node, op)
    if sanitized and comparison is not Comparison.MATCH:
        recorded_secure = op.get("op-secure-digest")
        if recorded_secure is not None and recorded_secure == now.secure:
            return False  # only masked secrets differ
    if comparison is Comparison.RESTART:
        _force_restart(changes, rsc, task, interval)
        return True
    if comparison in (Comparison.MISMATCH, Comparison.UNKNOWN):
        if interval > 0:
            changes.reschedules.append((rsc, node, interval))
            changes.actions.append(("monitor", rsc, node, interval))
        elif op.get("op-restart-digest") is not None:
            _schedule_reload(changes, rsc, node)
        else:
            _force_restart(changes, rsc, task, interval)
        return True
    return False


def _force_restart(changes: ConfigChanges, rsc: Resource, task: str, interval: int) -> None:
    """The action is required anew (Pacemaker's force_restart): a start is created then,
    before the resource's other actions, wherever placement puts it."""
    changes.restarts.append((rsc, task, interval))
    if task == "start" and ("start", rsc, None, 0) not in changes.actions:
        changes.actions.append(("start", rsc, None, 0))


def _enabled(config: etree._Element) -> bool:
    return (config.get("enabled") or "true").lower() not in ("false", "no", "0", "off", "n")


def _schedule_reload(changes: ConfigChanges, rsc: Resource, node: Node) -> None:
    """Reload where that applies the change (Pacemaker's schedule_reload): not for an
    unmanaged or failed resource; a start still pending restarts instead."""
    if not rsc.managed or rsc.failed:
        return
    if rsc.pending_task == "start":
        changes.stops.append((rsc, node))
        return
    if not changes.reload_on(rsc, node):
        changes.reloads.append((rsc, node))
        changes.actions.append(("reload-agent", rsc, node, 0))
