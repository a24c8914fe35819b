"""Simulated execution of a transition: run the graph against the CIB status, as crm_simulate -S.

Every action succeeds (probes find the resource stopped) unless a failure is injected for it
(--op-fail RSC_TASK_INTERVAL@NODE=RC): that action gets the rc, its fail count and last
failure are recorded, and the graph is aborted as the controller aborts it (no further real
actions; nothing after the failed one). The results are written into a copy of the CIB's
status section, which is then unpacked again for the revised status. Pure: the time of a
failure is given.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass

from lxml import etree

from hactl.core.scheduler.model import Action, Node, Resource, Role, WorkingSet


def synapse_order(ws: WorkingSet) -> list[Action]:
    """Graph actions in the order Pacemaker lists them.

    Resource by resource (a clone's instances before the clone itself), each resource's
    actions newest first (Pacemaker prepends to its lists), then the node actions.
    """
    out: list[Action] = []

    def own(rsc: Resource) -> list[Action]:
        return sorted((a for a in rsc.actions if a.in_graph), key=lambda a: -a.id)

    def add(rsc: Resource) -> None:
        if rsc.kind == "clone":
            for child in rsc.children:
                add(child)
            out.extend(own(rsc))
            return
        out.extend(own(rsc))
        for child in rsc.children:
            add(child)

    for rsc in ws.resources:
        add(rsc)
    out.extend(sorted((a for a in ws.actions if a.rsc is None and a.in_graph), key=lambda a: -a.id))
    return out


@dataclass(frozen=True)
class InjectedFailure:
    """A failure --op-fail injects: the name the spec matched and the result code."""

    name: str
    rc: int


def parse_failure(spec: str) -> tuple[str, int] | None:
    """`RSC_TASK_INTERVAL@NODE=RC` -> (its lower-cased key up to '=', rc); None if malformed."""
    key, sep, rc_text = spec.rpartition("=")
    if not sep or "@" not in key or not rc_text.strip().lstrip("-").isdigit():
        return None
    return key.lower(), int(rc_text)


def _injected(
    act: Action, failures: list[tuple[str, int]], known: set[str]
) -> InjectedFailure | None:
    rsc = act.rsc
    if rsc is None or act.node is None or act.pseudo:
        return None
    names = [rsc.executor_id(known), rsc.meta.get("__base", rsc.id), rsc.id]
    for name in dict.fromkeys(names):
        key = f"{name}_{act.task}_{act.interval_ms}@{act.node.name}".lower()
        for spec_key, rc in failures:
            if spec_key == key:
                return InjectedFailure(name, rc)
    return None


def run_graph(ws: WorkingSet) -> list[Action]:
    """Fire actions whose inputs are done, pass after pass; returns them in firing order."""
    return run_graph_failing(ws, [])[0]


def run_graph_failing(
    ws: WorkingSet, failures: list[tuple[str, int]]
) -> tuple[list[Action], dict[int, InjectedFailure]]:
    """run_graph with injected failures; also returns the failed actions by id."""
    synapses = synapse_order(ws)
    known = ws.history_ids()
    done: set[int] = set()
    failed: dict[int, InjectedFailure] = {}
    fired: list[Action] = []
    aborted = False
    progress = True
    while progress:
        progress = False
        for act in synapses:
            if act.id in done:
                continue
            inputs = [b for b, _ in act.before if b.in_graph]
            if not all(b.id in done and b.id not in failed for b in inputs):
                continue
            if aborted and not act.pseudo:
                continue  # an aborted graph starts no further real action
            done.add(act.id)
            fired.append(act)
            progress = True
            failure = _injected(act, failures, known) if failures else None
            if failure is not None:
                failed[act.id] = failure
                aborted = True
    return fired, failed


class StatusWriter:
    def __init__(self, cib: etree._Element, ws: WorkingSet):
        self.cib = cib
        self.ws = ws
        status = cib.find("status")
        if status is None:
            status = etree.SubElement(cib, "status")
        self.status = status
        self.call_id = 1000
        # results are recorded as happening when the transition runs, after all the history
        # (Pacemaker stamps injected results with the time of the run)
        self.run_time = calendar.timegm(ws.now.timetuple())
        self.known = ws.history_ids()
        self.states: dict[str, etree._Element] = {}
        for state in status.findall("node_state"):
            self.states.setdefault(state.get("id", ""), state)
        #: node id -> lrm_resource id -> element
        self.histories: dict[str, dict[str, etree._Element]] = {}

    def node_state(self, node_id: str, name: str) -> etree._Element:
        state = self.states.get(node_id)
        if state is not None:
            return state
        state = etree.SubElement(self.status, "node_state", id=node_id, uname=name)
        for key, value in (
            ("in_ccm", "true"),
            ("crmd", "online"),
            ("join", "member"),
            ("expected", "member"),
        ):
            state.set(key, value)
        self.states[node_id] = state
        return state

    def set_transient(self, node: Node, name: str, value: str) -> None:
        """A node attribute in the node's status (as the attribute manager writes it)."""
        state = self.node_state(node.id, node.name)
        transient = state.find("transient_attributes")
        if transient is None:
            transient = etree.SubElement(state, "transient_attributes", id=node.id)
        block = transient.find("instance_attributes")
        if block is None:
            block = etree.SubElement(transient, "instance_attributes", id=f"status-{node.id}")
        for pair in block.findall("nvpair"):
            if pair.get("name") == name:
                pair.set("value", value)
                return
        etree.SubElement(block, "nvpair", id=f"status-{node.id}-{name}", name=name, value=value)

    def lrm_resource(self, state: etree._Element, rsc: Resource) -> etree._Element:
        lrm = state.find("lrm")
        if lrm is None:
            lrm = etree.SubElement(state, "lrm", id=state.get("id", ""))
        resources = lrm.find("lrm_resources")
        if resources is None:
            resources = etree.SubElement(lrm, "lrm_resources")
        index = self.histories.get(state.get("id", ""))
        if index is None:
            index = {e.get("id", ""): e for e in resources.findall("lrm_resource")}
            self.histories[state.get("id", "")] = index
        name = rsc.executor_id(self.known)
        element = index.get(name)
        if element is not None:
            return element
        attrs = {"id": name, "class": rsc.agent_class, "type": rsc.agent_type}
        if rsc.provider:
            attrs["provider"] = rsc.provider
        element = etree.SubElement(resources, "lrm_resource", attrs)
        index[name] = element
        return element

    def record(self, act: Action, failure: InjectedFailure | None = None) -> None:
        node = act.node
        if node is None:
            return
        if act.task == "stonith":
            if act.meta.get("stonith_action") == "on":
                return  # unfencing lets the node back in: it stays as it is
            state = self.node_state(node.id, node.name)
            for key, value in (
                ("in_ccm", "false"),
                ("crmd", "offline"),
                ("join", "down"),
                ("expected", "down"),
            ):
                state.set(key, value)
            for child in list(state):
                if child.tag in ("lrm", "transient_attributes"):
                    state.remove(child)
            return
        rsc = act.rsc
        if rsc is None or act.pseudo:
            return
        state = self.node_state(node.id, node.name)
        history = self.lrm_resource(state, rsc)
        rc = 0
        expected = 0
        stopped_role = any(
            op.name == "monitor" and op.interval_ms == act.interval_ms and op.role == Role.STOPPED
            for op in rsc.ops
        )
        if act.task == "monitor" and (act.interval_ms == 0 or stopped_role):
            rc = expected = 7  # probes and monitors of the Stopped role find it not running
        elif act.task == "monitor" and rsc.next_role == Role.PROMOTED:
            rc = expected = 8
        elif act.task == "cancel":
            for op in list(history):
                if op.get("operation") == "monitor" and op.get("interval") == str(act.interval_ms):
                    history.remove(op)
            return
        elif act.task == "stop":
            # a stop removes the recurring operations, as the executor does
            for op in list(history):
                if op.get("operation") == "monitor" and op.get("interval", "0") != "0":
                    history.remove(op)
        if failure is not None:
            rc = failure.rc
        # a call id above any in the resource's history there, as crm_simulate injects it
        self.call_id = 1 + max(
            (int(op.get("call-id", "0")) for op in history if op.get("call-id", "").isdigit()),
            default=0,
        )
        # the key crm_simulate makes up: no transition (-1), a fake DC uuid
        key = f"{self.call_id}:-1:{expected}:xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
        task = "start" if act.task in ("reload", "reload-agent") else act.task
        for op_id in self.history_ids(act, rsc.executor_id(self.known), task, rc != expected):
            # an entry of that id is updated where it is, as the controller does
            found = next((o for o in history.iterfind("lrm_rsc_op") if o.get("id") == op_id), None)
            entry = found if found is not None else etree.SubElement(history, "lrm_rsc_op")
            entry.set("id", op_id)
            for name, value in (
                ("operation", task),
                ("interval", str(act.interval_ms)),
                ("call-id", str(self.call_id)),
                ("rc-code", str(rc)),
                ("op-status", "0"),
                ("transition-key", key),
                ("transition-magic", f"0:{rc};{key}"),
                ("on_node", node.name),
                ("last-rc-change", str(self.run_time)),
                ("last-run", str(self.run_time)),
            ):
                entry.set(name, value)

    @staticmethod
    def history_ids(act: Action, name: str, task: str, failed: bool) -> list[str]:
        """The history entries a result is recorded as (Pacemaker's
        pcmk__create_history_xml): a notification under its own key, a migration's and a
        recurring operation's under theirs, a failure as the last failure (and, one-time,
        the last result too), any other one-time operation as the last result."""
        if act.task == "notify":
            assert act.rsc is not None
            return [name + act.key[len(act.rsc.history_id) :]]
        if task in ("migrate_to", "migrate_from"):
            return [f"{name}_{task}_{act.interval_ms}"]
        if failed:
            return [f"{name}_last_failure_0"] + ([] if act.interval_ms else [f"{name}_last_0"])
        if act.interval_ms:
            return [f"{name}_{task}_{act.interval_ms}"]
        return [f"{name}_last_0"]


def apply_transition(
    cib: etree._Element,
    ws: WorkingSet,
    fired: list[Action],
    failed: dict[int, InjectedFailure] | None = None,
    failure_time: int = 0,
) -> etree._Element:
    """A copy of the CIB with the results of the fired actions recorded in its status (and
    the fail counts of injected failures)."""
    revised = etree.fromstring(etree.tostring(cib))
    writer = StatusWriter(revised, ws)
    for act in fired:
        failure = (failed or {}).get(act.id)
        writer.record(act, failure)
        if failure is not None and act.node is not None:
            for name, value in failure_attributes(ws, act, failure, failure_time, revised):
                writer.set_transient(act.node, name, value)
    return revised


def failure_attributes(
    ws: WorkingSet,
    act: Action,
    failure: InjectedFailure,
    when: int,
    cib: etree._Element,
) -> list[tuple[str, str]]:
    """The fail count and last failure an injected failure records (none for a success, or
    a probe finding the resource stopped); a failed start (when start failures are fatal)
    or stop counts INFINITY."""
    if failure.rc == 0 or (failure.rc == 7 and act.interval_ms == 0):
        return []
    suffix = f"{failure.name}#{act.task}_{act.interval_ms}"
    if act.task == "stop" or (act.task == "start" and ws.start_failure_fatal):
        count = "INFINITY"
    else:
        current = 0
        node_id = act.node.id if act.node is not None else ""
        for pair in cib.iterfind(
            f"status/node_state[@id='{node_id}']/transient_attributes//nvpair"
        ):
            if pair.get("name") == f"fail-count-{suffix}":
                value = pair.get("value", "0")
                current = int(value) if value.lstrip("-").isdigit() else 0
        count = str(current + 1)
    return [(f"fail-count-{suffix}", count), (f"last-failure-{suffix}", str(when))]
