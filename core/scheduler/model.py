"""The working set the scheduler computes on: nodes, resources, constraints, actions.

Objects here are plain mutable records; unpack fills them from the CIB, placement and
action creation fill in the decisions.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
from dataclasses import dataclass, field

from lxml import etree


class Role(enum.IntEnum):
    UNKNOWN = 0
    STOPPED = 1
    STARTED = 2
    UNPROMOTED = 3
    PROMOTED = 4

    @property
    def text(self) -> str:
        return {
            Role.UNKNOWN: "Unknown",
            Role.STOPPED: "Stopped",
            Role.STARTED: "Started",
            Role.UNPROMOTED: "Unpromoted",
            Role.PROMOTED: "Promoted",
        }[self]


def parse_role(text: str | None) -> Role | None:
    if text is None:
        return None
    return {
        "stopped": Role.STOPPED,
        "started": Role.STARTED,
        "unpromoted": Role.UNPROMOTED,
        "slave": Role.UNPROMOTED,
        "promoted": Role.PROMOTED,
        "master": Role.PROMOTED,
    }.get(text.strip().lower())


# the classes made by the thousand (nodes, resources, actions) have slots: they are created
# and read faster (a seventh of a large schedule), and a misspelt attribute fails loudly
@dataclass(eq=False, slots=True)
class Node:
    id: str
    name: str
    kind: str = "member"
    attrs: dict[str, str] = field(default_factory=dict)
    utilization: dict[str, int] = field(default_factory=dict)
    index: int = 0
    online: bool = False
    unclean: bool = False
    unseen: bool = True
    pending: bool = False
    standby: bool = False
    standby_onfail: bool = False
    maintenance: bool = False
    shutdown: bool = False
    expected_up: bool = False
    is_dc: bool = False
    fence_reason: str = ""
    fence_priority_delay: bool = False
    #: resources assigned here during placement (for the balancing tie-break)
    assigned_count: int = 0
    remaining_capacity: dict[str, int] = field(default_factory=dict)
    #: resource name -> (fail count, last failure), from attrs once placement starts
    failure_index: dict[str, tuple[int, int]] | None = None
    #: a Pacemaker Remote or guest node's connection resource
    remote_rsc: Resource | None = None
    #: the node is to be reset (a remote node fenced, a guest's launcher recovered)
    remote_reset: bool = False
    #: the node_state records that this remote node was fenced
    remote_fenced: bool = False
    #: when fencing was decided (1, 2, ...), 0 if only for being unclean: Pacemaker creates
    #: a fencing action at the decision, and lists them newest first
    fence_sequence: int = 0

    @property
    def is_remote(self) -> bool:
        """A Pacemaker Remote or guest node (reached through a connection resource)."""
        return self.kind == "remote"

    @property
    def is_guest(self) -> bool:
        return self.remote_rsc is not None and self.remote_rsc.launcher is not None

    def can_run(self) -> bool:
        return (
            self.online
            and not self.unclean
            and not self.shutdown
            and not self.standby
            and not self.pending
            and not self.maintenance
        )

    def __repr__(self) -> str:
        return f"Node({self.name})"


@dataclass(eq=False)
class Op:
    """An operation configured for a resource (`<op>`)."""

    name: str
    interval_ms: int
    role: Role | None = None
    on_fail: str | None = None
    enabled: bool = True
    id: str = ""


@dataclass(eq=False)
class HistoryEntry:
    """One `lrm_rsc_op` of a resource on a node."""

    id: str
    task: str
    interval_ms: int
    rc: int
    status: int
    expected_rc: int
    call_id: int
    element: etree._Element | None = None
    last_change: int = 0


@dataclass(eq=False, slots=True)
class Resource:
    id: str
    kind: str  # primitive, group, clone, bundle
    element: etree._Element
    parent: Resource | None = None
    children: list[Resource] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    utilization: dict[str, int] = field(default_factory=dict)
    agent_class: str = ""
    provider: str = ""
    agent_type: str = ""
    ops: list[Op] = field(default_factory=list)
    #: intervals of every configured monitor, valid or not (a configured one is never orphaned)
    monitor_intervals: set[int] = field(default_factory=set)
    # configuration derived from meta attributes
    priority: int = 0
    stickiness: int = 0
    migration_threshold: int = 1_000_000
    failure_timeout: int = 0
    managed: bool = True
    maintenance: bool = False
    target_role: Role = Role.STARTED
    multiple_active: str = "stop_start"
    allow_migrate: bool = False
    requires: str = "fencing"
    globally_unique: bool = False
    promotable: bool = False
    clone_max: int = 0
    clone_node_max: int = 1
    promoted_max: int = 1
    promoted_node_max: int = 1
    interleave: bool = False
    ordered: bool = False
    notify: bool = False
    orphan: bool = False
    exclusive_discovery: bool = False
    critical: bool = True
    #: an ocf:pacemaker:remote connection (its id names a remote or guest node)
    is_remote_connection: bool = False
    #: the resource that launches this one (meta `container`: a guest's VM)
    launcher: Resource | None = None
    launched: list[Resource] = field(default_factory=list)
    # state unpacked from the status section
    running_on: list[Node] = field(default_factory=list)
    role: Role = Role.STOPPED
    failed: bool = False
    failed_nodes: list[Node] = field(default_factory=list)
    blocked: bool = False
    #: the node it stays stopped on after that node shut down (shutdown-lock)
    lock_node: Node | None = None
    pending_task: str | None = None
    #: where pending_task is in progress (shown for a resource active nowhere)
    pending_node: Node | None = None
    #: (node name, rc) of probes that failed only as the agent cannot run there, on online
    #: nodes, in unpacking order (shown for a stopped resource)
    failed_probes: list[tuple[str, int]] = field(default_factory=list)
    history: dict[str, list[HistoryEntry]] = field(default_factory=dict)
    known_on: set[str] = field(default_factory=set)
    #: node name -> (class, provider, type) recorded in that node's history
    history_agent: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    #: source node -> target node of a migrate_to that was the last thing done on the source
    migrated_to: dict[str, str] = field(default_factory=dict)
    #: sources of completed migrations, still to be stopped (no longer counted as active)
    dangling: list[Node] = field(default_factory=list)
    stop_failed_on: set[str] = field(default_factory=set)
    # placement
    allowed: dict[str, int] | None = None
    allowed_discovery: dict[str, str] = field(default_factory=dict)
    assigned: Node | None = None
    assigning: bool = False
    next_role: Role = Role.UNKNOWN
    assigned_done: bool = False
    stop_reason: str = ""
    promotion_score: int = 0
    # actions of this resource, in creation order
    actions: list[Action] = field(default_factory=list)
    _primitives: tuple[int, list[Resource]] | None = None
    #: a clone's instances in the order placement considered them
    assign_order: list[Resource] = field(default_factory=list)

    @property
    def is_primitive(self) -> bool:
        return self.kind == "primitive"

    @property
    def is_clone(self) -> bool:
        return self.kind == "clone"

    @property
    def top(self) -> Resource:
        rsc = self
        while rsc.parent is not None:
            rsc = rsc.parent
        return rsc

    def clone_parent(self) -> Resource | None:
        rsc = self.parent
        while rsc is not None and rsc.kind != "clone":
            rsc = rsc.parent
        return rsc

    def primitives(self) -> list[Resource]:
        """The primitives in this resource (itself, for a primitive); cached, since children
        are only ever appended while unpacking."""
        if self.kind == "primitive":
            return [self]
        cached = self._primitives
        if cached is not None and cached[0] == len(self.children):
            return cached[1]
        out: list[Resource] = []
        for child in self.children:
            out.extend(child.primitives())
        if all(c.kind == "primitive" for c in self.children):
            self._primitives = (len(self.children), out)
        return out

    @property
    def history_id(self) -> str:
        """The id its operation history is recorded under (an anonymous instance's may differ)."""
        return self.meta.get("__history", self.id)

    def executor_id(self, known: set[str]) -> str:
        """The id crm_simulate runs it under: an anonymous instance without history of its
        own goes by the configured id when some history already uses that id."""
        if "__history" in self.meta:
            return self.meta["__history"]
        clone = self.clone_parent()
        base = self.meta.get("__base", self.id)
        if clone is not None and not clone.globally_unique and base in known:
            return base
        return self.id

    def current_node(self) -> Node | None:
        return self.running_on[0] if self.running_on else None

    def __repr__(self) -> str:
        return f"Resource({self.id})"


@dataclass(eq=False)
class Location:
    id: str
    rsc: Resource
    node_scores: dict[str, int]
    role: Role | None = None
    discovery: str = "always"


@dataclass(eq=False)
class Colocation:
    id: str
    dependent: Resource
    primary: Resource
    score: int
    dependent_role: Role | None = None
    primary_role: Role | None = None
    node_attribute: str = "#uname"
    influence: bool = True


@dataclass(eq=False)
class Ordering:
    """A constraint-level ordering between two resources' actions, with the relation flags
    (actions.ORDERED, ...) Pacemaker gives it. Either side may instead be a gate: a
    pseudo-action that is runnable once `min_runnable` of the actions ordered before it are
    (require-all=false, clone-min); `first` or `then` is None where the gate stands."""

    id: str
    first: Resource | None
    first_task: str
    then: Resource | None
    then_task: str
    flags: int
    gate: str = ""
    min_runnable: int = 0


@dataclass(eq=False, slots=True)
class Action:
    id: int
    task: str
    rsc: Resource | None
    node: Node | None
    key: str
    interval_ms: int = 0
    optional: bool = True
    runnable: bool = True
    pseudo: bool = False
    reason: str = ""
    meta: dict[str, str] = field(default_factory=dict)
    #: (before action, flags) pairs
    before: list[tuple[Action, int]] = field(default_factory=list)
    after: list[tuple[Action, int]] = field(default_factory=list)
    in_graph: bool = False
    #: in the graph whenever runnable, even optional (a start that is already pending)
    always_in_graph: bool = False
    cancel_task: str = ""

    def name(self) -> str:
        """crm_simulate's name for the action in dot output."""
        host = self.node.name if self.node is not None else (None if self.pseudo else "<none>")
        if self.task == "stonith":
            return f"stonith '{self.meta.get('stonith_action', 'reboot')}' {host}"
        if self.rsc is not None:
            prefix = "Cancel " if self.task == "cancel" else ""
            return f"{prefix}{self.key} {host}" if host is not None else f"{prefix}{self.key}"
        if host is not None:
            return f"{self.task} {host}"
        return self.key

    def __repr__(self) -> str:
        return f"Action({self.name()})"


@dataclass
class Ticket:
    id: str
    granted: bool = False
    standby: bool = False


@dataclass(eq=False)
class WorkingSet:
    now: dt.datetime
    options: dict[str, str]
    nodes: list[Node]
    resources: list[Resource]
    by_id: dict[str, Resource]
    locations: list[Location] = field(default_factory=list)
    colocations: list[Colocation] = field(default_factory=list)
    orderings: list[Ordering] = field(default_factory=list)
    tickets: dict[str, Ticket] = field(default_factory=dict)
    have_quorum: bool = True
    dc: Node | None = None
    fencing_enabled: bool = True
    #: a fence device is configured or have-watchdog is set (Pacemaker's have-fencing flag)
    have_fencing: bool = False
    #: a resource provides or requires unfencing
    unfencing_enabled: bool = False
    symmetric: bool = True
    no_quorum_policy: str = "stop"
    maintenance: bool = False
    stop_orphans: bool = True
    stop_orphan_actions: bool = True
    start_failure_fatal: bool = True
    concurrent_fencing: bool = False
    placement_strategy: str = "default"
    #: op_defaults meta attributes (each action's meta falls back on them)
    op_defaults: dict[str, str] = field(default_factory=dict)
    stonith_action: str = "reboot"
    actions: list[Action] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    score_lines: list[str] = field(default_factory=list)
    #: whether placement writes score_lines (crm_simulate -s); off when none will be shown
    record_scores: bool = True
    #: (resource, node) whose expired fail count is to be cleared
    clear_failcounts: list[tuple[Resource, Node]] = field(default_factory=list)
    #: (resource, node) whose recorded history is to be deleted (an expired shutdown lock)
    history_clears: list[tuple[Resource, Node]] = field(default_factory=list)
    #: the CIB may have its secrets masked (a simulation from a file): a change of only
    #: secret parameters is no definition change
    sanitized: bool = False
    _nodes_by_name: tuple[int, dict[str, Node]] | None = None

    @property
    def epoch(self) -> int:
        """`now` in seconds since the epoch (times in the CIB are UTC)."""
        return calendar.timegm(self.now.timetuple())

    def history_ids(self) -> set[str]:
        return {p.history_id for r in self.resources for p in r.primitives()}

    def node(self, name: str) -> Node | None:
        """The (first) node of that name; indexed, since nodes are only ever appended."""
        cached = self._nodes_by_name
        if cached is None or cached[0] != len(self.nodes):
            index: dict[str, Node] = {}
            for node in self.nodes:
                index.setdefault(node.name, node)
            cached = self._nodes_by_name = (len(self.nodes), index)
        return cached[1].get(name)

    def all_resources(self) -> list[Resource]:
        out: list[Resource] = []

        def walk(rsc: Resource) -> None:
            out.append(rsc)
            for child in rsc.children:
                walk(child)

        for rsc in self.resources:
            walk(rsc)
        return out
