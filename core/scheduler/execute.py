"""Simulated execution of a transition: run the graph against the CIB status, as crm_simulate -S.

Every action succeeds (probes find the resource stopped); the results are written into a copy
of the CIB's status section, which is then unpacked again for the revised status. Pure.
"""

from __future__ import annotations

from lxml import etree

from hactl.core.scheduler.model import Action, Resource, Role, WorkingSet


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


def run_graph(ws: WorkingSet) -> list[Action]:
    """Fire actions whose inputs are done, pass after pass; returns them in firing order."""
    synapses = synapse_order(ws)
    done: set[int] = set()
    fired: list[Action] = []
    progress = True
    while progress:
        progress = False
        for act in synapses:
            if act.id in done:
                continue
            if all(b.id in done for b, _ in act.before if b.in_graph):
                done.add(act.id)
                fired.append(act)
                progress = True
    return fired


class StatusWriter:
    def __init__(self, cib: etree._Element, ws: WorkingSet):
        self.cib = cib
        self.ws = ws
        status = cib.find("status")
        if status is None:
            status = etree.SubElement(cib, "status")
        self.status = status
        self.call_id = 1000
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

    def record(self, act: Action) -> None:
        node = act.node
        if node is None:
            return
        if act.task == "stonith":
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
        self.call_id += 1
        key = f"{act.id}:0:{expected}:00000000-0000-0000-0000-000000000000"
        op_id = f"{rsc.executor_id(self.known)}_{act.task}_{act.interval_ms}"
        for op in history.findall("lrm_rsc_op"):
            if op.get("id") == op_id:
                history.remove(op)
        etree.SubElement(
            history,
            "lrm_rsc_op",
            {
                "id": op_id,
                "operation": act.task,
                "interval": str(act.interval_ms),
                "call-id": str(self.call_id),
                "rc-code": str(rc),
                "op-status": "0",
                "transition-key": key,
                "transition-magic": f"0:{rc};{key}",
                "on_node": node.name,
            },
        )


def apply_transition(cib: etree._Element, ws: WorkingSet, fired: list[Action]) -> etree._Element:
    """A copy of the CIB with the results of the fired actions recorded in its status."""
    revised = etree.fromstring(etree.tostring(cib))
    writer = StatusWriter(revised, ws)
    for act in fired:
        writer.record(act)
    return revised
