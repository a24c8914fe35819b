"""Executing a transition: which actions of the scheduler's graph may run now.

The graph is Pacemaker's transition graph XML: synapses, each holding one action and the
actions (triggers) that must have completed before it may run. The engine is pure: the
DC asks for the actions that are ready, dispatches them to the nodes, and reports each
result back. Pseudo-events (``running``, ``stopped``, a clone's ``start``) complete as soon
as they are ready. A failed action aborts the transition: nothing new is dispatched, the
actions in flight are awaited, and the DC then computes a new transition from the new
state, as Pacemaker's controller does. ``batch_limit`` bounds the real actions in flight
(0 or less: no bound).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree

from hactl.core.errors import HactlError

#: the element names of actions in a transition graph
ACTION_KINDS = ("rsc_op", "pseudo_event", "crm_event")


class GraphError(HactlError):
    """A transition graph that cannot be executed."""


@dataclass(frozen=True)
class GraphAction:
    """One action of the graph, as the synapse holding it describes it."""

    action_id: int
    kind: str  # rsc_op, pseudo_event or crm_event
    operation: str
    operation_key: str
    node: str | None = None
    resource: dict[str, str] = field(default_factory=dict)  # id, class, provider, type
    attributes: dict[str, str] = field(default_factory=dict)

    @property
    def is_pseudo(self) -> bool:
        return self.kind == "pseudo_event"


@dataclass(frozen=True)
class Synapse:
    synapse_id: int
    action: GraphAction
    inputs: frozenset[int]  # action ids
    priority: int = 0


@dataclass(frozen=True)
class TransitionGraph:
    transition_id: int
    synapses: tuple[Synapse, ...]
    batch_limit: int = 0

    @classmethod
    def from_xml(cls, graph: etree._Element | bytes | str) -> TransitionGraph:
        root = graph if isinstance(graph, etree._Element) else etree.fromstring(graph)
        if root.tag != "transition_graph":
            raise GraphError(f"not a transition graph: <{root.tag}>")
        synapses = tuple(_synapse(element) for element in root.iterfind("synapse"))
        ids = [s.action.action_id for s in synapses]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise GraphError(f"actions {duplicates} appear in more than one synapse")
        known = set(ids)
        for synapse in synapses:
            missing = sorted(synapse.inputs - known)
            if missing:
                raise GraphError(
                    f"synapse {synapse.synapse_id} waits for unknown actions {missing}"
                )
        return cls(
            int(root.get("transition_id", "0")), synapses, int(root.get("batch-limit", "0") or 0)
        )


def _text_attributes(element: etree._Element | None) -> dict[str, str]:
    if element is None:
        return {}
    return {str(name): str(value) for name, value in element.attrib.items()}


def _action(element: etree._Element) -> GraphAction:
    primitive = element.find("primitive")
    attributes = element.find("attributes")
    return GraphAction(
        action_id=int(element.get("id", "-1")),
        kind=element.tag,
        operation=element.get("operation", ""),
        operation_key=element.get("operation_key", ""),
        node=element.get("on_node"),
        resource=_text_attributes(primitive),
        attributes=_text_attributes(attributes),
    )


def _synapse(element: etree._Element) -> Synapse:
    action_set = element.find("action_set")
    members = list(action_set) if action_set is not None else []
    actions = [a for a in members if a.tag in ACTION_KINDS]
    if len(actions) != 1:
        raise GraphError(f"synapse {element.get('id')} holds {len(actions)} actions, not 1")
    inputs = frozenset(
        int(trigger_action.get("id", "-1"))
        for trigger in element.iterfind("inputs/trigger")
        for trigger_action in trigger
        if trigger_action.tag in ACTION_KINDS
    )
    return Synapse(
        synapse_id=int(element.get("id", "-1")),
        action=_action(actions[0]),
        inputs=inputs,
        priority=int(element.get("priority", "0") or 0),
    )


class TransitionEngine:
    """Walks one transition graph to its end (complete or aborted)."""

    def __init__(self, graph: TransitionGraph, batch_limit: int | None = None) -> None:
        self.graph = graph
        self.batch_limit = graph.batch_limit if batch_limit is None else batch_limit
        self._waiting = {s.action.action_id: s for s in graph.synapses}
        self._in_flight: dict[int, GraphAction] = {}
        self.confirmed: list[int] = []
        self.failed: list[int] = []
        self.abort_reason: str | None = None

    @property
    def aborted(self) -> bool:
        return self.abort_reason is not None

    @property
    def finished(self) -> bool:
        """Nothing in flight and nothing more will be dispatched."""
        return not self._in_flight and (self.aborted or not self._waiting)

    def in_flight(self) -> list[GraphAction]:
        return list(self._in_flight.values())

    def ready(self) -> list[GraphAction]:
        """Dispatch what may run now: these actions are in flight until reported.
        Pseudo-events never leave the engine; they complete here."""
        dispatched: list[GraphAction] = []
        progress = True
        while progress and not self.aborted:
            progress = False
            done = set(self.confirmed)
            runnable = sorted(
                (s for s in self._waiting.values() if s.inputs <= done),
                key=lambda s: (-s.priority, s.synapse_id),
            )
            for synapse in runnable:
                action = synapse.action
                if action.is_pseudo:
                    del self._waiting[action.action_id]
                    self.confirmed.append(action.action_id)
                    progress = True
                    continue
                if 0 < self.batch_limit <= len(self._in_flight):
                    break
                del self._waiting[action.action_id]
                self._in_flight[action.action_id] = action
                dispatched.append(action)
        return dispatched

    def completed(self, action_id: int, succeeded: bool, reason: str = "") -> None:
        """Report an action's result. A failure aborts the transition."""
        action = self._in_flight.pop(action_id, None)
        if action is None:
            raise GraphError(f"action {action_id} is not in flight")
        if succeeded:
            self.confirmed.append(action_id)
        else:
            self.failed.append(action_id)
            self.abort(reason or f"{action.operation_key} on {action.node} failed")

    def abort(self, reason: str) -> None:
        """Stop dispatching (a failure, or a change that invalidates the transition)."""
        if self.abort_reason is None:
            self.abort_reason = reason

    def never_run(self) -> Iterable[GraphAction]:
        """The actions left undone when the engine finished (aborted or blocked)."""
        return (s.action for s in self._waiting.values())
