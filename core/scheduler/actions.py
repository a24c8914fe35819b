"""Actions and their ordering: what to do to reach the placement, and in which order.

Orderings carry Pacemaker's relation flags; `propagate` applies them until nothing changes
(a required first makes its then required, an unrunnable first blocks its then, ...).
"""

from __future__ import annotations

from lxml import etree

from hactl.core.scheduler import bundle, digests, history, notifications, remote, unfencing
from hactl.core.scheduler.model import Action, Node, Resource, Role, WorkingSet
from hactl.core.scheduler.ordering import (
    anti_colocation_orderings,
    drop_edges,
    drop_unneeded_inputs,
    fencing_orderings,
    node_name_key,
    probe_member_stop_orderings,
    probe_restart_orderings,
    remap_collective_firsts,
)
from hactl.core.scheduler.scores import INFINITY

ORDERED = 1
FIRST_IMPLIES_THEN = 2
THEN_IMPLIES_FIRST = 4
UNRUNNABLE_FIRST_BLOCKS = 8
SAME_NODE = 16
PROMOTED_THEN_IMPLIES_FIRST = 32
#: an asymmetrical mandatory ordering: an unrunnable first blocks then unless then is a
#: start of something already running there (or a stop of something stopped)
ASYMMETRIC = 64
#: first counts toward a gate's minimum of runnable actions (require-all=false, clone-min)
MIN_RUNNABLE = 128
#: a required, runnable first puts then in the graph (without making it required)
FIRST_IMPLIES_THEN_GRAPHED = 256
#: a restart's stop (a resource's stop before its start, a later group member's stop before
#: an earlier one's): a required then makes first required, and a required first that
#: cannot run blocks then (Pacemaker's pcmk__ar_intermediate_stop)
INTERMEDIATE_STOP = 512

#: the task a collective's action is finished with (orderings "after A starts" use it)
DONE_TASK = {"start": "running", "stop": "stopped", "promote": "promoted", "demote": "demoted"}
#: the task a collective's finishing action stands for ("running" -> "start")
TASK_OF_DONE = {done: task for task, done in DONE_TASK.items()}


class Builder:
    def __init__(self, ws: WorkingSet):
        self.ws = ws
        self.index: dict[tuple[int, str, str, int, str], Action] = {}
        self.stonith_by_node: dict[str, Action] = {}
        self.probe_actions: list[Action] = []
        #: per (clone, configured id) the nodes where one of its instances has history
        self.siblings_known: dict[tuple[int, str], set[str]] = {}
        #: per clone, node -> the first instance (in placement order) placed there
        self.first_instance_placed: dict[int, dict[int, Resource]] = {}
        #: ids of the stops of dangling migrations' sources
        self.migration_aborts: set[int] = set()
        #: (first id, then id) of edges that only carry flags, dropped once they are applied
        self.propagation_only: set[tuple[int, int]] = set()
        #: (first clone, first task, then instance, then action) of interleaved orderings
        self.interleaved: list[tuple[Resource, str, Resource, Action]] = []
        #: gate pseudo-action id -> how many of its MIN_RUNNABLE firsts must be runnable
        self.gate_minimum: dict[int, int] = {}
        #: unrunnable starts and promotes whose colocation dependents were blocked
        self.blocked_dependents_of: set[int] = set()
        #: (id(first), id(then)) of every edge `order` added (edges removed later stay here):
        #: a pair not in it needs no search of then.before
        self.ordered_pairs: set[tuple[int, int]] = set()
        self.remote = remote.RemoteActions(self)
        self.unfencing = unfencing.Unfencing(self)
        self.config_changes = digests.ConfigChanges()

    # -- creation ----------------------------------------------------------------

    def action(
        self,
        rsc: Resource | None,
        task: str,
        node: Node | None,
        *,
        interval_ms: int = 0,
        optional: bool = True,
        pseudo: bool = False,
        key: str | None = None,
    ) -> Action:
        rid = rsc.history_id if rsc is not None else ""
        if key is None:
            key = f"{rid}_{task}_{interval_ms}"
        lookup = (id(rsc), task, key, interval_ms, node.name if node is not None else "")
        existing = self.index.get(lookup)
        if existing is not None:
            if not optional:
                existing.optional = False
            return existing
        act = Action(
            id=len(self.ws.actions),
            task=task,
            rsc=rsc,
            node=node,
            key=key,
            interval_ms=interval_ms,
            optional=optional,
            pseudo=pseudo,
        )
        self.ws.actions.append(act)
        self.index[lookup] = act
        if rsc is not None:
            rsc.actions.append(act)
        return act

    def find(self, rsc: Resource, task: str, node: Node | None = None) -> list[Action]:
        return [
            a
            for a in rsc.actions
            if a.task == task and a.interval_ms == 0 and (node is None or a.node is node)
        ]

    def order(self, first: Action, then: Action, flags: int) -> None:
        if first is then:
            return
        pair = (id(first), id(then))
        if pair not in self.ordered_pairs:
            self.ordered_pairs.add(pair)
            then.before.append((first, flags))
            first.after.append((then, flags))
            return
        for existing, existing_flags in then.before:
            if existing is first:
                index = then.before.index((existing, existing_flags))
                then.before[index] = (first, existing_flags | flags)
                for j, (a, f) in enumerate(first.after):
                    if a is then:
                        first.after[j] = (then, f | flags)
                return
        then.before.append((first, flags))
        first.after.append((then, flags))

    # -- fencing -----------------------------------------------------------------

    def fencing(self) -> None:
        """Fence unclean nodes and shut down leaving ones, node by node, as Pacemaker's
        schedule_fencing_and_shutdowns: without concurrent fencing the fencings form a chain;
        the DC's own fencing or shutdown comes after the others' (no repeated elections)."""
        ws = self.ws
        dc_down: Action | None = None
        fencings: list[Action] = []
        shutdowns: list[Action] = []
        managed = self._any_managed()
        # Pacemaker keeps its nodes sorted by name: fencings chain, and node actions are
        # listed, in that order
        for node in sorted(ws.nodes, key=lambda n: node_name_key(n.name)):
            if node.unclean and managed and self.can_fence(node):
                act = self.action(
                    None, "stonith", node, optional=False, key=f"stonith-{node.name}-reboot"
                )
                act.meta["stonith_action"] = ws.stonith_action
                if ws.unfencing_enabled:
                    # every fencing carries the unfencing devices' digests (pe_fence_op)
                    act.meta.update(self.unfencing.device_digests(node))
                if node.fence_priority_delay and "priority-fencing-delay" in ws.options:
                    # Pacemaker's graph carries it on every fencing of a lost node, even 0
                    delay = history.priority_fencing_delay_s(ws, node)
                    act.meta["priority-fencing-delay"] = str(delay)
                act.reason = node.fence_reason
                self.stonith_by_node[node.name] = act
                fencing_orderings(ws.resources, [act], self.order, ORDERED, UNRUNNABLE_FIRST_BLOCKS)
                if node is ws.dc:
                    dc_down = act
                    continue
                if not ws.concurrent_fencing and fencings:
                    self.order(fencings[-1], act, ORDERED)
                fencings.append(act)
            elif node.shutdown and node.online and not node.unclean and not node.is_remote:
                act = self.action(
                    None, "do_shutdown", node, optional=False, key=f"do_shutdown-{node.name}"
                )
                if node is ws.dc:
                    dc_down = act
                else:
                    shutdowns.append(act)
        if dc_down is None:
            return
        if dc_down.task == "do_shutdown":
            for act in shutdowns:
                self.order(act, dc_down, ORDERED)
        for act in fencings if ws.concurrent_fencing else fencings[-1:]:
            self.order(act, dc_down, ORDERED)

    def clears_after_remote_fencing(self) -> None:
        """A reconnecting connection's failures are cleared only after its remote node is
        fenced, if it is (Pacemaker's order_after_remote_fencing, for the fail counts cleared
        while unpacking)."""
        if not self.ws.fencing_enabled:
            return
        for rsc, node in self.ws.clear_failcounts:
            fencing = self.stonith_by_node.get(rsc.id)
            if fencing is None or not rsc.is_remote_connection or remote.reconnect_ms(rsc) <= 0:
                continue
            for clear in self.find(rsc, "clear_failcount", node):
                self.order(fencing, clear, FIRST_IMPLIES_THEN)

    def _any_managed(self) -> bool:
        return any(r.managed for r in self.ws.all_resources() if r.is_primitive)

    # -- primitives ----------------------------------------------------------------

    def primitive(self, rsc: Resource) -> None:
        chosen = rsc.assigned
        if not rsc.managed:
            if chosen is not None and not rsc.blocked:  # a blocked resource is not monitored
                self.recurring(rsc, chosen, start_required=False)
            if rsc.parent is not None and rsc.parent.kind == "group":
                # Pacemaker still schedules the stop of an unmanaged resource, unrunnable:
                # what a group orders around it (the later members' stops before it, an
                # earlier inactive member's start after it) cannot happen either (a clone's
                # instance stops only put its stopped in the graph)
                for node in rsc.running_on:
                    self.action(rsc, "stop", node).runnable = False
            return
        target = self.ws.node(rsc.meta.get("__stop_on", ""))
        if target is not None:
            # a migrate_to still pending on an unclean source may have started the resource
            # on its target: stop it there too, an action Pacemaker makes while unpacking
            # (process_pending_action), before any other of the resource
            stop = self.action(rsc, "stop", target, optional=False)
            if not target.online or target.unclean:
                stop.pseudo = target.unclean and self.can_fence(target)
                stop.runnable = stop.pseudo
        for node in rsc.dangling:
            # the source of a completed migration still has to stop, without restarting
            # the resource where it now runs; made before the other stops, as Pacemaker
            # aborts dangling migrations first
            stop = self.action(rsc, "stop", node, optional=False)
            self.migration_aborts.add(stop.id)
        # a resource that does not need fencing counts as active only on clean nodes: staying
        # on one, its stops on unclean or offline nodes are left to fencing, optional
        # (Pacemaker's pcmk__primitive_create_actions with active_node's clean count)
        needs_fencing = rsc.requires in ("fencing", "unfencing")
        counted = [n for n in rsc.running_on if needs_fencing or (n.online and not n.unclean)]
        multiple = len(counted) > 1
        stays = chosen is not None and chosen is self.current_node(rsc) and not multiple
        stop_needed_on: list[Node] = []
        # a failure handled by on-fail=demote is recovered by demoting, not by a stop
        # (Pacemaker's "recovering by demotion": failed without stop_if_failed)
        demote_on = rsc.meta.get("__demote_on")
        for node in rsc.running_on:
            left_to_fencing = stays and node not in counted
            if (
                multiple
                or (chosen is not node and not left_to_fencing)
                or node.name in {n.name for n in rsc.failed_nodes if n.name != demote_on}
                or (node.unclean and not left_to_fencing)
                or node.name == rsc.meta.get("__restart_on")  # a launched resource failed
                or self.config_changes.stop_required(rsc, node)
                or self.config_changes.restart_required(rsc)
            ):
                stop_needed_on.append(node)
        promotable = rsc.clone_parent() is not None and rsc.clone_parent().promotable  # type: ignore[union-attr]
        migration = self._migration_plan(rsc, chosen)
        # multiple-active=stop_unexpected: only the copies elsewhere stop; where it stays,
        # its start is a pseudo-action (Pacemaker's is_expected_node)
        expected = (
            chosen
            if multiple and rsc.multiple_active == "stop_unexpected" and chosen in rsc.running_on
            else None
        )
        for node in rsc.running_on:
            if migration is not None and migration[1] and node is chosen:
                continue  # a partial migration continues there: no stop
            if node is expected:
                continue
            required = node in stop_needed_on
            demote_failed = node.name == demote_on
            # a promoted resource always has its demotion, optional while it stays promoted
            # there (Pacemaker's schedule_restart_actions): a stop required later (by an
            # ordering) requires it too
            if rsc.role == Role.PROMOTED:
                demote = self.action(
                    rsc,
                    "demote",
                    node,
                    optional=not (required or demote_failed) and rsc.next_role == Role.PROMOTED,
                )
                if not required and rsc.next_role in (Role.UNPROMOTED,) and chosen is node:
                    demote.optional = False
                if required:
                    demote.optional = False
                if node.unclean and self.can_fence(node):
                    demote.pseudo = True  # fencing the node demotes it
                elif node.is_guest and not self.can_fence(node):
                    demote.runnable = False  # as a stop there (below)
            stop = self.action(rsc, "stop", node, optional=not required)
            if required and chosen is None:
                stop.reason = "node availability"
            elif expected is not None:
                stop.reason = "being multiply active"
            if node.unclean:
                if self.can_fence(node):
                    stop.pseudo = True
                else:
                    stop.runnable = False
            elif node.is_guest and not self.can_fence(node):
                # a guest whose host is lost and cannot be fenced runs nothing more, not even
                # a stop (Pacemaker's update_resource_action_runnable)
                stop.runnable = False
        if chosen is not None:
            redefined = self.config_changes.restart_required(rsc)
            start_required = chosen not in rsc.running_on or chosen in stop_needed_on or redefined
            start = self.action(rsc, "start", chosen, optional=not start_required)
            if rsc.pending_task == "start":
                # the start already in progress is represented in the graph (Pacemaker's
                # create_pending_start)
                start.always_in_graph = True
            if redefined:
                start.reason = start.reason or "resource definition change"
            if chosen is expected:
                start.pseudo = True
            if rsc.next_role == Role.PROMOTED:
                promote_required = (
                    start_required or rsc.role != Role.PROMOTED or chosen.name == demote_on
                )
                self.action(rsc, "promote", chosen, optional=not promote_required)
            elif promotable and rsc.role == Role.PROMOTED and chosen in rsc.running_on:
                pass
            self.recurring(rsc, chosen, start_required)
            blocked = self._start_blocked_by_quorum(rsc, chosen)
            if blocked:
                # Pacemaker makes a start required only if it is runnable when created
                start.runnable = False
                start.optional = True
                start.reason = blocked
            elif migration is not None:
                current, partial = migration
                # a partial migration's migrate_to is done already
                migrate_to = (
                    None if partial else self.action(rsc, "migrate_to", current, optional=False)
                )
                migrate_from = self.action(rsc, "migrate_from", chosen, optional=False)
                if migrate_to is not None:
                    self.order(migrate_to, migrate_from, ORDERED)
                start.pseudo = True
                for stop in self.find(rsc, "stop", current):
                    self.order(migrate_from, stop, ORDERED)
                self.order(migrate_from, start, ORDERED)
        self.internal_orderings(rsc)
        self.utilization_orderings(rsc)

    def utilization_orderings(self, rsc: Resource, *, create_only: bool = False) -> None:
        """With a placement strategy, starts wait for the stops that free capacity.
        Pacemaker makes the load_stopped pseudo-actions with the implicit constraints, before
        any resource action: `create_only` does that part."""
        if self.ws.placement_strategy == "default" or not rsc.utilization or not rsc.managed:
            return
        for node in rsc.running_on:
            load = self.load_stopped(node)
            for stop in self.find(rsc, "stop", node):
                self.order(stop, load, ORDERED)
        for name in sorted(rsc.allowed or {}, key=node_name_key):
            target = self.ws.node(name)
            if target is None:
                continue
            load = self.load_stopped(target)
            if create_only:
                continue
            for act in self.find(rsc, "start", target):
                self.order(load, act, ORDERED)
            if target is rsc.assigned:
                # a migrate_to runs on the source but waits for room on its target, where
                # the resource is assigned (Pacemaker's graph producer)
                for act in self.find(rsc, "migrate_to"):
                    self.order(load, act, ORDERED)

    def unassigned_order(self) -> list[Resource]:
        """The primitives in the order Pacemaker keeps them before placement re-sorts them
        (by priority, then as configured): the order of its implicit constraints."""

        index_in_parent: dict[etree._Element, int] = {}

        def position(rsc: Resource) -> int:
            parent = rsc.element.getparent()
            if parent is None:
                return 0
            if rsc.element not in index_in_parent:  # each parent's children counted once
                index_in_parent.update((child, i) for i, child in enumerate(parent))
            return index_in_parent[rsc.element]

        tops = sorted(self.ws.resources, key=lambda r: (-r.priority, position(r)))
        return [p for top in tops for p in top.primitives()]

    def load_stopped(self, node: Node) -> Action:
        task = f"load_stopped_{node.name}"
        return self.action(None, task, node, pseudo=True, optional=False, key=task)

    @staticmethod
    def _migrating(act: Action, task: str) -> bool:
        """A live migration's start and stop are formalities: they restart nothing else."""
        return (
            act.task == task
            and act.rsc is not None
            and any(a.task == "migrate_to" for a in act.rsc.actions)
        )

    @staticmethod
    def current_node(rsc: Resource) -> Node | None:
        """Where the resource counts as active: a partial migration's source, else (when it
        does not need fencing) the first clean node, else the first node."""
        source = rsc.meta.get("__partial_source")
        if source is not None:
            found = next((n for n in rsc.running_on if n.name == source), None)
            if found is not None:
                return found
        if rsc.requires not in ("fencing", "unfencing"):
            clean = next((n for n in rsc.running_on if n.online and not n.unclean), None)
            if clean is not None:
                return clean
        return rsc.running_on[0] if rsc.running_on else None

    def _migration_plan(self, rsc: Resource, chosen: Node | None) -> tuple[Node, bool] | None:
        """(source, partial) of a live migration to chosen, None when it cannot migrate.

        A partial migration (migrate_to done, migrate_from not) continues only when the
        resource is active on just its source and target and the target stays the same.
        """
        current = self.current_node(rsc)
        if chosen is None or current is None or current is chosen:
            return None
        if not self._can_migrate(rsc, current, chosen):
            return None
        source = rsc.meta.get("__partial_source")
        target = rsc.meta.get("__partial_target")
        if source is not None or target is not None:
            if len(rsc.running_on) == 2 and current.name == source and chosen.name == target:
                return current, True
            return None
        if len(rsc.running_on) != 1:
            return None
        return current, False

    def _can_migrate(self, rsc: Resource, current: Node, chosen: Node) -> bool:
        """Live migration: a healthy migratable resource moving between two clean nodes."""
        if not rsc.allow_migrate or rsc.meta.get("__no_migrate") or rsc.clone_parent() is not None:
            return False
        if not rsc.managed or rsc.failed or rsc.pending_task == "start":
            return False
        if rsc.next_role < Role.STARTED or rsc.role != Role.STARTED:
            return False
        return current.online and not current.unclean and not chosen.unclean

    def migration_orderings(self) -> None:
        """What must precede a migrating resource's start must precede its migrate_to; a
        resource that has to wait for another one's stop cannot migrate."""
        for rsc in self.ws.all_resources():
            migrate_to = [a for a in rsc.actions if a.task == "migrate_to"]
            if not migrate_to:
                continue
            blocker = self._unmigrateable_first(rsc)
            if blocker:
                self._cancel_migration(rsc, f"unmigrateable {blocker} stop")
                continue
            for start in self.find(rsc, "start"):
                for first, flags in list(start.before):
                    if first.rsc is rsc or first.rsc is None or not first.rsc.is_primitive:
                        continue
                    if first.task != "start" or (first.id, start.id) in self.propagation_only:
                        # an ordering with rsc's group gives the group a migrate_to ordering,
                        # which has no action (Pacemaker's pcmk__order_migration_equivalents)
                        continue
                    source = first
                    if first.task == "start" and first.rsc is not None:
                        source = next(
                            (a for a in first.rsc.actions if a.task == "migrate_from"), first
                        )
                    for act in migrate_to:
                        self.order(source, act, flags & ORDERED)

    def _unmigrateable_first(self, rsc: Resource) -> str:
        """The id of a resource rsc is ordered after that stops without migrating, if any."""
        group = rsc.parent if rsc.parent is not None and rsc.parent.kind == "group" else None
        position = group.children.index(rsc) if group is not None else 0
        if group is not None and position > 0:
            # a member stops before the one before it, which must migrate too (Pacemaker
            # passes 'unmigrateable' from a stop to what is ordered before it)
            previous = group.children[position - 1]
            migrates = any(
                m.task == "migrate_to" and m.runnable and not m.optional for m in previous.actions
            )
            if self.find(previous, "stop") and not migrates:
                return previous.id
        for start in self.find(rsc, "start"):
            for first, _flags in start.before:
                other = first.rsc
                if other is None or other is rsc or first.task not in ("start", "running"):
                    continue
                if other is group:
                    continue  # its own group's pseudo-actions
                if other.is_primitive and other.parent is not None and other.parent is rsc.parent:
                    continue  # group members migrate together
                if (first.id, start.id) in self.propagation_only:
                    # ordered with rsc's group: that makes the group's stop unmigratable,
                    # not its members' (Pacemaker's group update_ordered_actions passes a
                    # then-implies-first on to the members of then only)
                    continue
                # it must stop and then start again (a restart or a move without migration)
                for prim in other.primitives():
                    if any(m.task == "migrate_to" for m in prim.actions):
                        continue
                    stops = [a for a in self.find(prim, "stop") if not a.optional]
                    starts = [
                        a
                        for a in self.find(prim, "start")
                        if not a.optional and a.runnable and a.node is not None
                    ]
                    if stops and starts:
                        return other.id
        return ""

    def _cancel_migration(self, rsc: Resource, reason: str) -> None:
        for act in rsc.actions:
            if act.task in ("migrate_to", "migrate_from"):
                act.optional = True
                act.runnable = False
        for start in self.find(rsc, "start"):
            start.pseudo = False
            start.reason = reason

    def _start_blocked_by_quorum(self, rsc: Resource, node: Node) -> str:
        """Why a start cannot happen without quorum ('' when it can)."""
        ws = self.ws
        if ws.have_quorum or ws.no_quorum_policy == "ignore" or rsc.requires == "nothing":
            return ""
        if ws.no_quorum_policy == "freeze":
            # only a resource active nowhere, or one to be elevated, waits for quorum
            # (Pacemaker's update_resource_action_runnable)
            frozen = rsc.next_role > rsc.role or not self._active_anywhere(rsc)
            return "quorum freeze" if frozen else ""
        clone = rsc.clone_parent()
        if ws.no_quorum_policy == "demote" and clone is not None and clone.promotable:
            return ""
        return "no quorum"

    @staticmethod
    def _active_anywhere(rsc: Resource) -> bool:
        """Pacemaker's native_active: a managed resource on an offline (clean) node does not
        count; on an unclean node it may still run."""
        return any(n.unclean or n.online or not rsc.managed for n in rsc.running_on)

    def can_fence(self, node: Node | None = None) -> bool:
        return history.can_fence(self.ws, node)

    @staticmethod
    def active_recurring(rsc: Resource, node: Node) -> list[int]:
        """Intervals of the recurring monitors running for rsc on node, per its history."""
        active: dict[int, bool] = {}
        for entry in rsc.history.get(node.name, []):
            if entry.task in ("start", "stop", "migrate_to", "migrate_from"):
                active.clear()
            elif entry.task == "monitor" and entry.interval_ms > 0:
                # whatever its result, a recurring op not pending is running (Pacemaker's
                # process_recurring), so a failed one is cancelled too where it no longer applies
                active[entry.interval_ms] = entry.status != -1
            elif entry.task == "cancel":
                active.pop(entry.interval_ms, None)
        return [interval for interval, on in active.items() if on]

    def cleanups(self, rsc: Resource) -> None:
        """Forget the history of removed resources, or of a changed agent where inactive."""
        clone = rsc.clone_parent()
        for name, agent in rsc.history_agent.items():
            node = self.ws.node(name)
            if node is None or rsc.failed or not (node.maintenance or node.can_run()):
                continue  # only where actions can run (Pacemaker's config change check)
            if rsc.orphan:
                if clone is not None and not clone.globally_unique:
                    continue
            elif agent == (rsc.agent_class, rsc.provider, rsc.agent_type):
                continue
            else:
                # a changed agent (Pacemaker's pcmk__rsc_agent_changed): a fence device's
                # node is unfenced again; where it runs, it restarts with the new agent
                self.unfencing.trigger(rsc, node, "Device definition changed")
                if node in rsc.running_on:
                    self.action(rsc, "stop", node, optional=False)
                    for start in self.find(rsc, "start", node):
                        start.optional = False
            delete = self.action(rsc, "delete", node, optional=False)
            for stop in self.find(rsc, "stop", node):
                self.order(stop, delete, ORDERED)
            for start in self.find(rsc, "start"):
                self.order(delete, start, ORDERED)

    def stopped_monitors(self, rsc: Resource) -> None:
        """Monitors configured for the Stopped role run where the resource is not."""
        if not rsc.managed:
            return
        for op in rsc.ops:
            if op.name != "monitor" or op.role != Role.STOPPED or op.interval_ms <= 0:
                continue
            for node in self.ws.nodes:
                # where no action can run it is scheduled all the same, unrunnable
                # (Pacemaker's recurring_op_for_inactive)
                usable = node.online and not (node.unclean or node.pending)
                active = usable and op.interval_ms in self.active_stopped_monitors(rsc, node)
                if node is rsc.assigned:
                    if active:
                        cancel = self.action(
                            rsc,
                            "cancel",
                            node,
                            interval_ms=op.interval_ms,
                            optional=False,
                            key=f"{rsc.history_id}_monitor_{op.interval_ms}",
                        )
                        for start in self.find(rsc, "start", node):
                            self.order(cancel, start, ORDERED)
                    continue
                if active:
                    continue
                monitor = self.action(
                    rsc, "monitor", node, interval_ms=op.interval_ms, optional=False
                )
                monitor.runnable = monitor.runnable and usable
                monitor.meta["interval"] = str(op.interval_ms)
                for first in self.find(rsc, "stop", node):
                    self.order(first, monitor, ORDERED)
                for first in rsc.actions:
                    if first.task == "monitor" and first.interval_ms == 0 and first.node is node:
                        self.order(first, monitor, ORDERED)

    @staticmethod
    def active_stopped_monitors(rsc: Resource, node: Node) -> set[int]:
        active: set[int] = set()
        for entry in rsc.history.get(node.name, []):
            if entry.task == "monitor" and entry.interval_ms > 0 and entry.rc == 7:
                active.add(entry.interval_ms)
            elif entry.task in ("start", "migrate_from"):
                active.clear()
            elif entry.task == "cancel":
                active.discard(entry.interval_ms)
        return active

    def cancels(self, rsc: Resource) -> None:
        """Stop recurring monitors that no longer apply where the resource stays."""
        for node in rsc.running_on:
            intervals = self.active_recurring(rsc, node)
            if not intervals:
                continue
            stopping = any(not a.optional for a in self.find(rsc, "stop", node))
            maintenance = rsc.maintenance or self.ws.maintenance or node.maintenance
            if not rsc.managed and not maintenance:
                # an unmanaged resource keeps its monitors, but those the configuration
                # removed are cancelled all the same (Pacemaker's pcmk__check_action_config
                # looks at the history of every configured resource on nodes that can run
                # actions)
                available = node.online and not (node.unclean or node.shutdown or node.standby)
                intervals = [i for i in intervals if i not in rsc.monitor_intervals]
                if not intervals or not available or rsc.orphan:
                    continue
            if stopping and not maintenance:
                # a resource that stops keeps its monitors until then, but those the
                # configuration removed are cancelled all the same
                enabled = {o.interval_ms for o in rsc.ops if o.enabled}
                intervals = [i for i in intervals if i not in enabled]
                if not intervals or not self.ws.stop_orphan_actions or rsc.orphan:
                    continue
            stopped_role = {o.interval_ms for o in rsc.ops if o.role == Role.STOPPED}
            wanted = {
                op.interval_ms
                for op in rsc.ops
                if op.name == "monitor"
                and op.interval_ms > 0
                and op.enabled
                and (op.role is None or op.role == rsc.next_role)
            }
            if rsc.next_role == Role.PROMOTED:
                # a role-less monitor is the unpromoted role's, as in recurring()
                wanted -= {o.interval_ms for o in rsc.ops if o.role is None}
            role_change = [
                a
                for a in rsc.actions
                if a.task in ("promote", "demote") and a.node is node and not a.optional
            ]
            configured = rsc.monitor_intervals
            for interval in intervals:
                if not maintenance:
                    if interval in wanted or interval in stopped_role:
                        continue
                    # a monitor of the other role is cancelled only when the role changes now
                    if interval in configured and not role_change:
                        continue
                    valid = {o.interval_ms for o in rsc.ops if o.name == "monitor"}
                    if interval in configured and interval not in valid:
                        continue  # an invalid (duplicated) monitor is left alone
                    if interval not in configured and not self.ws.stop_orphan_actions:
                        continue  # cancel-removed-actions=false keeps removed monitors
                cancel = self.action(
                    rsc,
                    "cancel",
                    node,
                    interval_ms=interval,
                    optional=False,
                    key=f"{rsc.history_id}_monitor_{interval}",
                )
                cancel.meta["interval"] = str(interval)
                if not node.online and not node.is_guest:
                    cancel.runnable = False  # nothing runs on a node that is down
                if maintenance or interval not in configured:
                    # a monitor removed from the configuration (or in maintenance) is
                    # cancelled after the resource's stops (Pacemaker's pcmk__schedule_cancel)
                    for stop in self.find(rsc, "stop"):
                        self.order(stop, cancel, ORDERED)
                    continue
                for act in role_change + self.find(rsc, "start", node):
                    self.order(cancel, act, ORDERED)

    def recurring(self, rsc: Resource, node: Node | None, start_required: bool) -> None:
        if node is None:
            return
        if rsc.blocked or rsc.maintenance or self.ws.maintenance or node.maintenance:
            return  # nothing recurring when blocked or in maintenance (Pacemaker's rule)
        role = rsc.next_role
        for op in rsc.ops:
            if op.name != "monitor" or op.interval_ms <= 0 or not op.enabled:
                continue
            if op.role is not None:
                # a monitor for a role runs only in exactly that role: one for Started
                # does not run in a promotable clone's Unpromoted role (Pacemaker's
                # recurring_op_for_active)
                if op.role != role:
                    continue
            elif role == Role.PROMOTED:
                # a role-less monitor is the unpromoted role's (pcmk_sched_recurring.c)
                continue
            # a monitor runs only if recorded since the resource last started there
            # (Pacemaker's process_recurring)
            known = any(
                e.task == "monitor" and e.interval_ms == op.interval_ms and e.rc in (0, 8)
                for e in digests.active_entries(rsc.history.get(node.name, []))
            )
            role_change = rsc.role != role
            required = start_required or not known or (role_change and role == Role.PROMOTED)
            required = required or self.config_changes.monitor_required(rsc, node, op.interval_ms)
            act = self.action(
                rsc, "monitor", node, interval_ms=op.interval_ms, optional=not required
            )
            act.meta["interval"] = str(op.interval_ms)

    def internal_orderings(self, rsc: Resource) -> None:
        stops = self.find(rsc, "stop")
        starts = self.find(rsc, "start")
        for stop in stops:
            implies = 0 if stop.id in self.migration_aborts else FIRST_IMPLIES_THEN
            for start in starts:
                # a restart's stop: a required start waits on a stop that cannot happen
                self.order(stop, start, ORDERED | implies | INTERMEDIATE_STOP)
        for demote in self.find(rsc, "demote"):
            for stop in stops:
                self.order(demote, stop, ORDERED | PROMOTED_THEN_IMPLIES_FIRST)
            for promote in self.find(rsc, "promote"):
                self.order(demote, promote, ORDERED)
        for start in starts:
            for promote in self.find(rsc, "promote"):
                self.order(start, promote, ORDERED | UNRUNNABLE_FIRST_BLOCKS)
        for act in list(rsc.actions):
            if act.task == "monitor" and act.interval_ms > 0:
                source = self.find(rsc, "start", act.node) + self.find(
                    rsc, "reload-agent", act.node
                )
                for first in source:
                    self.order(first, act, ORDERED | FIRST_IMPLIES_THEN | UNRUNNABLE_FIRST_BLOCKS)
                if rsc.next_role == Role.PROMOTED:
                    # a promotion precedes the promoted role's monitor but does not make it
                    # required (Pacemaker's recurring_op_for_active)
                    for promote in self.find(rsc, "promote", act.node):
                        self.order(promote, act, ORDERED | UNRUNNABLE_FIRST_BLOCKS)
                for demote in self.find(rsc, "demote", act.node):
                    if rsc.next_role != Role.PROMOTED:
                        self.order(demote, act, ORDERED | UNRUNNABLE_FIRST_BLOCKS)

    def shutdown_orderings(self) -> None:
        """A node shuts down once every resource on it has stopped."""
        for act in self.ws.actions:
            if act.task != "do_shutdown":
                continue
            node = act.node
            for stop in self.ws.actions:
                if stop.task != "stop" or stop.node is not node or stop.rsc is None:
                    continue
                # maintenance and unmanaged (not blocked) resources are left alone; what
                # must stop does, and a stop that cannot happen holds the shutdown up
                # (Pacemaker's pcmk__order_stops_before_shutdown)
                rsc = stop.rsc
                if rsc.maintenance or (node is not None and node.maintenance):
                    continue
                if not rsc.managed and not rsc.blocked:
                    continue
                stop.optional = False
                self.order(stop, act, ORDERED | UNRUNNABLE_FIRST_BLOCKS)

    # -- probes ------------------------------------------------------------------------

    def probes(self) -> None:
        ws = self.ws
        if ws.options.get("enable-startup-probes", "true").lower() in ("false", "no", "0"):
            return
        # a pending node (still joining) gets probes that cannot run yet
        nodes = [
            node
            for node in sorted(ws.nodes, key=lambda n: n.name)
            if node.online and not node.unclean
        ]
        for rsc in ws.all_resources():
            if not rsc.is_primitive or rsc.orphan:
                continue
            exclusive = rsc.exclusive_discovery or bundle.top_in_bundle(rsc).exclusive_discovery
            anonymous_key = self._anonymous_instance_key(rsc)
            for node in nodes:
                if node.name in rsc.known_on:
                    continue
                discovery = rsc.allowed_discovery.get(node.name)
                if discovery == "never":
                    continue
                if exclusive and discovery != "exclusive":
                    continue
                if anonymous_key is not None and self._instance_known_elsewhere(
                    rsc, anonymous_key, node
                ):
                    continue
                if not self.remote.probe_allowed(rsc, node):
                    continue
                probe = self.action(rsc, "monitor", node, optional=False)
                probe.meta["probe"] = "1"
                probe.runnable = not node.pending
                self.probe_actions.append(probe)

    def probe_before_stop_orderings(self) -> None:
        """Whatever waits for a resource's stop also waits for its probes (Pacemaker's
        add_probe_orderings_for_stops): a stop is only certain once the state is known."""
        pairs: list[tuple[Action, Action]] = []
        for then in self.ws.actions:
            for first, _flags in then.before:
                rsc = first.rsc
                if first.task != "stop" or rsc is None or not rsc.is_primitive:
                    continue
                if then.rsc is rsc:
                    continue
                for probe in rsc.actions:
                    if probe.task != "monitor" or probe.interval_ms != 0 or probe is then:
                        continue
                    # a node's shutdown waits only for the probes on that node
                    if then.task == "do_shutdown" and probe.node is not then.node:
                        continue
                    pairs.append((probe, then))
        for probe, then in pairs:
            self.order(probe, then, ORDERED)

    def probe_orderings(self) -> None:
        starts_of: dict[int, list[Action]] = {}  # no action is created meanwhile
        for probe in self.probe_actions:
            rsc = probe.rsc
            assert rsc is not None
            # a clone starts once its instances are probed; others their own start
            top = rsc.top if rsc.top.kind == "clone" else rsc
            starts = starts_of.get(id(top))
            if starts is None:
                starts = starts_of[id(top)] = (
                    self.find(top, "start")
                    if top.is_primitive
                    else [a for a in top.actions if a.task == "start" and a.pseudo]
                )
            # a resource that cannot be probed somewhere and runs nowhere cannot start
            # (Pacemaker's pcmk__probe_rsc_on_node)
            blocks = not probe.runnable and not any(p.running_on for p in top.primitives())
            for start in starts:
                self.order(probe, start, ORDERED | (UNRUNNABLE_FIRST_BLOCKS if blocks else 0))
                if probe.runnable or blocks or top.kind != "clone":
                    continue
                # the clone runs somewhere, so it keeps running, but its inactive instances
                # do not start before the probe can run (add_start_orderings_for_probe)
                for then, _ in list(start.after):
                    instance = then.rsc
                    if (
                        then.task == "start"
                        and instance is not None
                        and instance is not top
                        and instance.top is top
                        and not any(p.running_on for p in instance.primitives())
                    ):
                        self.order(probe, then, ORDERED | UNRUNNABLE_FIRST_BLOCKS)

    def _anonymous_instance_key(self, rsc: Resource) -> tuple[Resource, str] | None:
        """(clone, configured id) of an anonymous clone's instance outside a bundle, which
        is probed once per node by one of the instances; None for any other primitive."""
        clone = rsc.clone_parent()
        if clone is None or clone.globally_unique:
            return None
        if bundle.bundle_of(clone) is not None:
            return None  # each bundled instance is probed on its own guest node
        return clone, rsc.meta.get("__base", "")

    def _instance_known_elsewhere(
        self, rsc: Resource, anonymous_key: tuple[Resource, str], node: Node
    ) -> bool:
        """An anonymous clone is probed once per node, by one instance."""
        clone, base = anonymous_key
        key = (id(clone), base)
        known = self.siblings_known.get(key)
        if known is None:
            siblings = [p for p in clone.primitives() if p.meta.get("__base") == base]
            known = self.siblings_known[key] = {n for p in siblings for n in p.known_on}
        if node.name in known:
            return True
        # the instance placed there probes it, else the first instance (in placement order)
        order = clone.assign_order or clone.children
        first_placed = self.first_instance_placed.get(id(clone))
        if first_placed is None:
            first_placed = self.first_instance_placed[id(clone)] = {}
            for instance in order:
                for prim in instance.primitives():
                    if prim.assigned is not None:
                        first_placed.setdefault(id(prim.assigned), instance)
        chosen = first_placed.get(id(node), order[0])
        return rsc not in chosen.primitives()

    # -- collectives ---------------------------------------------------------------------

    def collective_pseudo_actions(self, rsc: Resource) -> tuple[Action, Action, Action, Action]:
        """A collective's start, running, stop and stopped pseudo-actions, ordered: start
        before running, stop before stopped, stopped before start."""
        start = self.action(rsc, "start", None, pseudo=True)
        running = self.action(rsc, "running", None, pseudo=True)
        stop = self.action(rsc, "stop", None, pseudo=True)
        stopped = self.action(rsc, "stopped", None, pseudo=True)
        self.order(start, running, ORDERED | UNRUNNABLE_FIRST_BLOCKS)
        self.order(stop, stopped, ORDERED | UNRUNNABLE_FIRST_BLOCKS)
        self.order(stopped, start, ORDERED)
        return start, running, stop, stopped

    def collective(self, rsc: Resource) -> None:
        for child in rsc.children:
            if child.is_primitive:
                self.primitive(child)
            else:
                self.collective(child)
        if not rsc.managed and not any(p.managed for p in rsc.primitives()):
            return
        start, running, stop, stopped = self.collective_pseudo_actions(rsc)
        clone = rsc.clone_parent()
        # a group instance of a promotable clone is promoted and demoted as a whole too
        grouped = rsc.kind == "group" and clone is not None and clone.promotable
        promotable = (rsc.kind == "clone" and rsc.promotable) or grouped
        if promotable:
            promote = self.action(rsc, "promote", None, pseudo=True)
            promoted = self.action(rsc, "promoted", None, pseudo=True)
            demote = self.action(rsc, "demote", None, pseudo=True)
            demoted = self.action(rsc, "demoted", None, pseudo=True)
        if promotable and not grouped:
            # Pacemaker orders the clone's demote before its demoted, but leaves promoted to
            # follow only the instances' promotions
            self.order(demote, demoted, ORDERED)
            self.order(running, promote, ORDERED)
            self.order(demoted, stop, ORDERED)
            self.order(demoted, promote, ORDERED)
            # the restart of a promotable clone (Pacemaker's promotable_restart_ordering):
            # promote after every instance stopped, start after every instance demoted
            self.order(stopped, promote, ORDERED)
            self.order(demoted, start, ORDERED)
        for child in rsc.children:
            for task, parent_first, parent_done in (
                ("start", start, running),
                ("stop", stop, stopped),
            ):
                for act in self._child_actions(child, task):
                    self.order(parent_first, act, ORDERED | THEN_IMPLIES_FIRST)
                    self.order(act, parent_done, ORDERED | FIRST_IMPLIES_THEN)
            if promotable:
                for task, parent_first, parent_done in (
                    ("promote", promote, promoted),
                    ("demote", demote, demoted),
                ):
                    for act in self._child_actions(child, task):
                        self.order(parent_first, act, ORDERED | THEN_IMPLIES_FIRST)
                        self.order(act, parent_done, ORDERED | FIRST_IMPLIES_THEN)
        ordered = rsc.meta.get("ordered", "true").lower() not in ("false", "no", "0", "off")
        if rsc.kind == "group" and not ordered:
            # an unordered group's members are not chained: each follows (and is blocked
            # with) the group's start only
            for child in rsc.children:
                for act in self._child_actions(child, "start"):
                    self.order(start, act, ORDERED | UNRUNNABLE_FIRST_BLOCKS)
        if rsc.kind == "group" and ordered:
            members = rsc.children
            for earlier, later in zip(members, members[1:], strict=False):
                for first in self._child_actions(earlier, "start"):
                    for then in self._child_actions(later, "start"):
                        self.order(
                            first, then, ORDERED | FIRST_IMPLIES_THEN | UNRUNNABLE_FIRST_BLOCKS
                        )
                for first in self._child_actions(later, "stop"):
                    for then in self._child_actions(earlier, "stop"):
                        self.order(first, then, ORDERED | THEN_IMPLIES_FIRST | INTERMEDIATE_STOP)
                if later.running_on and not earlier.running_on:
                    # a member active after an inactive one (added in the middle): the usual
                    # restart orderings do not apply, so its stop precedes the earlier start
                    for first in self._child_actions(later, "stop"):
                        for then in self._child_actions(earlier, "start"):
                            # (then-implies-first too, which never requires a primitive's
                            # action: Pacemaker compares the first's flags with themselves)
                            self.order(first, then, ORDERED | UNRUNNABLE_FIRST_BLOCKS)
                if grouped:
                    # members are promoted in order and demoted in reverse
                    for first in self._child_actions(earlier, "promote"):
                        for then in self._child_actions(later, "promote"):
                            self.order(
                                first, then, ORDERED | FIRST_IMPLIES_THEN | UNRUNNABLE_FIRST_BLOCKS
                            )
                    for first in self._child_actions(later, "demote"):
                        for then in self._child_actions(earlier, "demote"):
                            self.order(first, then, ORDERED)
        if rsc.kind == "clone" and rsc.ordered:
            members = rsc.children
            for earlier, later in zip(members, members[1:], strict=False):
                for first in self._child_actions(earlier, "start"):
                    for then in self._child_actions(later, "start"):
                        self.order(first, then, ORDERED)

    def _child_actions(self, rsc: Resource, task: str) -> list[Action]:
        if rsc.is_primitive:
            return self.find(rsc, task)
        entry = {"start": "start", "stop": "stop", "promote": "promote", "demote": "demote"}
        if rsc.kind == "group" and task in ("start", "stop"):
            return [a for a in rsc.actions if a.task == entry[task] and a.pseudo]
        return [a for a in rsc.actions if a.task == task]

    def _done_actions(self, rsc: Resource, task: str) -> list[Action]:
        if rsc.is_primitive:
            return self.find(rsc, task)
        done = DONE_TASK.get(task, task)
        return [a for a in rsc.actions if a.task == done]

    # -- constraints ---------------------------------------------------------------------

    def constraint_orderings(self) -> None:
        """Order the actions named by the ordering constraints, with their flags."""
        gates: dict[str, Action] = {}
        for ordering in self.ws.orderings:
            gate: Action | None = None
            if ordering.gate:
                gate = gates.get(ordering.gate)
                if gate is None:
                    gate = self.action(None, ordering.gate, None, pseudo=True, key=ordering.gate)
                    gates[ordering.gate] = gate
                    self.gate_minimum[id(gate)] = ordering.min_runnable
            first, then = ordering.first, ordering.then
            if first is None and gate is not None and then is not None:
                self.link_after([gate], None, "", then, ordering.then_task, ordering.flags)
            elif then is None and gate is not None and first is not None:
                for act in self.first_actions(first, ordering.first_task, done=False):
                    self.order(act, gate, ordering.flags)
            elif first is not None and then is not None:
                firsts = self.first_actions(first, ordering.first_task, done=True)
                self.link_after(
                    firsts, first, ordering.first_task, then, ordering.then_task, ordering.flags
                )

    def first_actions(self, first: Resource, task: str, *, done: bool) -> list[Action]:
        """The actions an ordering waits for: a collective's finishing pseudo-action (with
        `done`) or its own; for a primitive without such an action, Pacemaker's stand-in, an
        optional action on no node (so unrunnable), unless there is nothing to undo (a stop of
        something stopped, a demote of something not promoted)."""
        firsts = self._done_actions(first, task) if done else self._child_actions(first, task)
        if done and first.kind == "clone" and first.notify and task in DONE_TASK:
            # a notifying clone's action is done once its post-notifications are confirmed
            key = f"{first.id}_confirmed-post_notify_{DONE_TASK[task]}_0"
            firsts = [a for a in first.actions if a.key == key] or firsts
        if firsts or not first.is_primitive:
            return firsts
        current = max((p.role for p in first.primitives() if p.running_on), default=Role.STOPPED)
        if (task == "stop" and current == Role.STOPPED) or (
            task == "demote" and current == Role.UNPROMOTED
        ):
            return []
        # a required stop implies the start after it (stop then start, first implies then)
        stopping = task == "start" and any(not a.optional for a in self.find(first, "stop"))
        act = self.action(first, task, None, optional=not stopping)
        act.runnable = False
        self.internal_orderings(first)
        parent = first.parent
        if parent is not None and parent.kind == "clone" and task in DONE_TASK:
            # the clone's own actions frame the stand-in as they frame any instance action
            for begin in [a for a in parent.actions if a.task == task and a.pseudo]:
                self.order(begin, act, ORDERED | THEN_IMPLIES_FIRST)
            for finish in [a for a in parent.actions if a.task == DONE_TASK[task] and a.pseudo]:
                self.order(act, finish, ORDERED | FIRST_IMPLIES_THEN)
        return [act]

    def link_after(
        self,
        firsts: list[Action],
        first: Resource | None,
        first_task: str,
        then: Resource,
        then_task: str,
        flags: int,
    ) -> None:
        if then.is_primitive:
            thens = self.find(then, then_task)
        else:
            thens = [a for a in then.actions if a.task == then_task and a.pseudo]
        for a in firsts:
            for b in thens:
                self.order(a, b, flags)
        if then.kind == "clone":
            self.link_instances(first, first_task, then, then_task, flags, firsts)
        elif then.kind == "group":
            # Pacemaker updates each member's action by an ordering on the group's
            # (pcmk__group_update_ordered_actions): the flags reach the members, the edge stays
            # the group's
            for member in then.children:
                for b in self._child_actions(member, then_task):
                    for a in firsts:
                        if not any(x is a for x, _ in b.before):
                            self.propagation_only.add((a.id, b.id))
                        self.order(a, b, flags)

    def link_instances(
        self,
        first: Resource | None,
        first_task: str,
        then: Resource,
        then_task: str,
        flags: int,
        firsts: list[Action],
    ) -> None:
        """Order a clone's instances too: interleaved ones after the instance of `first` on
        their own node, the others after `first` as a whole."""
        # Pacemaker's can_interleave_actions: the clone that stops (demotes) second decides
        # for stops and demotes, the one that starts (promotes) second for the rest
        decider = first if then_task in ("stop", "demote") else then
        interleave = (
            first is not None
            and first is not then
            and first.kind == "clone"
            and decider is not None
            and decider.interleave
        )
        for instance in then.children:
            targets = self._child_actions(instance, then_task)
            if not targets:
                continue
            if not interleave or first is None:
                # Pacemaker updates each instance's action from first without putting an
                # edge in the graph (update_noninterleaved_actions): the clone's own action
                # carries the ordering
                if instance.kind == "group":
                    # a group instance passes the update on to its members
                    # (pcmk__group_update_ordered_actions)
                    targets = targets + [
                        b for m in instance.children for b in self._child_actions(m, then_task)
                    ]
                for a in firsts:
                    for b in targets:
                        if not any(x is a for x, _ in b.before):
                            self.propagation_only.add((a.id, b.id))
                        self.order(a, b, flags)
                continue
            for b in targets:
                node = b.node or self._instance_node(instance, then_task)
                partner = next(
                    (
                        i
                        for i in first.children
                        if node is not None and self._instance_node(i, first_task) is node
                    ),
                    None,
                )
                if partner is None:
                    blocking = flags & (UNRUNNABLE_FIRST_BLOCKS | FIRST_IMPLIES_THEN)
                    if blocking and first_task not in ("stop", "demote"):
                        # no instance of first to interleave with: this instance may not
                        # come up at all (Pacemaker unassigns it, which blocks no
                        # colocation dependent)
                        b.runnable = False
                        self.blocked_dependents_of.add(id(b))
                        for prim in instance.primitives():
                            prim.assigned = None
                            prim.next_role = Role.STOPPED
                        instance.next_role = Role.STOPPED
                    continue
                for a in self._done_actions(partner, first_task):
                    self.order(a, b, flags)
                if flags & (UNRUNNABLE_FIRST_BLOCKS | FIRST_IMPLIES_THEN) and first_task not in (
                    "stop",
                    "demote",
                ):
                    self.interleaved.append((first, first_task, instance, b))

    def unassign_without_partners(self) -> None:
        """An interleaved instance whose partner was itself unassigned (by an ordering
        looked at later) has no partner either: repeat until nothing changes, as Pacemaker's
        flag updates do."""
        changed = True
        while changed:
            changed = False
            for first, first_task, instance, then in self.interleaved:
                node = self._instance_node(instance, then.task)
                if node is None:
                    continue
                if any(self._instance_node(i, first_task) is node for i in first.children):
                    continue
                then.runnable = False
                self.blocked_dependents_of.add(id(then))  # unassigned: blocks no dependent
                for prim in instance.primitives():
                    prim.assigned = None
                    prim.next_role = Role.STOPPED
                instance.next_role = Role.STOPPED
                changed = True

    @staticmethod
    def _instance_node(instance: Resource, task: str) -> Node | None:
        prims = instance.primitives()
        if task in ("stop", "demote"):
            return next((n for p in prims for n in p.running_on), None)
        return next((p.assigned for p in prims if p.assigned is not None), None)

    # -- notifications -------------------------------------------------------------------

    # -- propagation ------------------------------------------------------------------------

    def propagate(self) -> None:
        changed = True
        rounds = 0
        while changed and rounds < 1000:
            changed = False
            rounds += 1
            for then in self.ws.actions:
                minimum = self.gate_minimum.get(id(then))
                if minimum is not None and then.runnable:
                    runnable = sum(1 for f, fl in then.before if fl & MIN_RUNNABLE and f.runnable)
                    if runnable < minimum:
                        then.runnable = False
                        changed = True
                for first, flags in then.before:
                    if (
                        flags & FIRST_IMPLIES_THEN
                        and not first.optional
                        and then.optional
                        and not (
                            self._migrating(first, "start")
                            and then.rsc is not None
                            and then.rsc.is_primitive
                            and then.rsc is not first.rsc
                        )
                        and (
                            (first.id, then.id) in self.propagation_only  # then's clone's node
                            or self._required_on(first, then.node)
                        )
                    ):
                        # a clone's (group's) action is required when any instance's
                        # (member's) is, runnable or not (Pacemaker's collective and group
                        # action flags)
                        instance_of = (
                            first.rsc is not None
                            and then.rsc is not None
                            and then.rsc.kind in ("clone", "group")
                            and first.rsc.parent is then.rsc
                        )
                        if first.runnable or then.rsc is None or not then.pseudo or instance_of:
                            then.optional = False
                            if not then.reason and first.rsc is None and first.task == "stonith":
                                then.reason = "required stonith"  # an unfencing
                            if (
                                not then.reason
                                and first.rsc is not None
                                and first.rsc is not then.rsc
                            ):
                                then.reason = f"required {first.rsc.id} {first.task}"
                            changed = True
                    if (
                        flags & THEN_IMPLIES_FIRST
                        and not then.optional
                        and first.optional
                        and not (
                            self._migrating(then, "stop")
                            and first.rsc is not None
                            and first.rsc.is_primitive
                            and first.rsc is not then.rsc
                        )
                        and not self._across_resources(first, then)
                    ):
                        first.optional = False
                        changed = True
                    if (
                        flags & PROMOTED_THEN_IMPLIES_FIRST
                        and not then.optional
                        and first.optional
                        and then.rsc is not None
                        and then.rsc.role == Role.PROMOTED
                    ):
                        # a promoted resource's required stop requires its demotion
                        first.optional = False
                        changed = True
                    if (
                        flags & INTERMEDIATE_STOP
                        and not then.optional
                        and then.runnable
                        and not first.optional
                        and not first.runnable
                    ):
                        # a restart whose stop cannot happen cannot go on either
                        then.runnable = False
                        if not then.reason and first.rsc is not None and first.rsc is not then.rsc:
                            then.reason = f"unrunnable {first.rsc.id} {first.task}"
                        changed = True
                    if flags & ASYMMETRIC and not first.runnable:
                        changed |= self._asymmetric_block(first, then)
                    if (
                        flags & (FIRST_IMPLIES_THEN | THEN_IMPLIES_FIRST)
                        and then.runnable
                        and not first.runnable
                        and self._blocked_stop(first)
                    ):
                        # what is ordered with a blocked resource's stop cannot happen either
                        then.runnable = False
                        changed = True
                    if flags & UNRUNNABLE_FIRST_BLOCKS and not first.runnable and then.runnable:
                        if (
                            then.pseudo
                            and then.rsc is not None
                            and then.task in ("running", "stopped", "promoted", "demoted")
                        ):
                            if any(f.runnable for f, fl in then.before if fl & FIRST_IMPLIES_THEN):
                                continue
                        then.runnable = False
                        # only another resource's action gives a reason (Pacemaker's
                        # clear_action_flag_because)
                        if not then.reason and first.rsc is not None and first.rsc is not then.rsc:
                            then.reason = f"unrunnable {first.rsc.id} {first.task}"
                        elif not then.reason and first.pseudo and then.rsc is not None:
                            then.reason = f"unrunnable {first.task}"
                        self._restart_cannot_start(then)
                        changed = True
            changed |= self.block_colocation_dependents()
            changed |= self.collectives_without_runnable_instances()
            # a required start where the resource already runs means a restart
            for act in self.ws.actions:
                rsc = act.rsc
                if act.task != "start" or act.optional or rsc is None or not rsc.is_primitive:
                    continue
                if act.node is not None and act.node in rsc.running_on:
                    for stop in self.find(rsc, "stop", act.node):
                        if stop.optional:
                            stop.optional = False
                            self._restart_later_members(stop)
                            changed = True
                if not act.runnable and act.node is not None and act.node in rsc.running_on:
                    for stop in self.find(rsc, "stop", act.node):
                        if stop.optional:
                            stop.optional = False
                            self._restart_later_members(stop)
                            changed = True
            for act in self.ws.actions:
                rsc = act.rsc
                if act.task != "start" or act.runnable or rsc is None or not rsc.is_primitive:
                    continue
                if act.node is not None and act.node in rsc.running_on:
                    for stop in self.find(rsc, "stop", act.node):
                        if stop.optional:
                            stop.optional = False
                            changed = True

    @staticmethod
    def _stop_reason(stop: Action, required_by: Action) -> None:
        if not stop.reason and required_by.rsc is not None and stop.rsc is not required_by.rsc:
            stop.reason = f"required {required_by.rsc.id} {required_by.task}"

    def _restart_later_members(self, stop: Action) -> None:
        """Follow a group member's newly required stop as Pacemaker does, depth-first: the
        stop requires its start, which requires the next member's start (named as its
        reason) and so that member's restart; then the stop requires the stop of the member
        after it (a restart's stop, named as its reason) if that is still optional."""
        rsc, node = stop.rsc, stop.node
        if rsc is not None and rsc.parent is not None and rsc.parent.kind == "group":
            for start in self.find(rsc, "start", node):
                if not start.optional:
                    continue
                start.optional = False
                for then, flags in start.after:
                    following = then.rsc
                    if (
                        flags & FIRST_IMPLIES_THEN
                        and then.task == "start"
                        and then.optional
                        and following is not None
                        and following is not rsc
                        and following.parent is rsc.parent
                    ):
                        then.optional = False
                        then.reason = then.reason or f"required {rsc.id} start"
                        for later_stop in self.find(following, "stop", then.node):
                            if later_stop.optional:
                                later_stop.optional = False
                                self._restart_later_members(later_stop)
        for first, flags in stop.before:
            if flags & INTERMEDIATE_STOP and first.optional and first.rsc is not stop.rsc:
                first.optional = False
                self._stop_reason(first, stop)
                self._restart_later_members(first)

    @staticmethod
    def _required_on(first: Action, node: Node | None) -> bool:
        """Whether a required clone action is required for what follows it on `node`:
        Pacemaker computes a clone's flags for an ordering with the node of then, so only
        the instances' actions there count (any node for instances that are not
        primitives; action_flags_for_ordering)."""
        clone = first.rsc
        if node is None or clone is None or clone.kind != "clone" or not first.pseudo:
            return True
        task = first.task
        if task in ("notify", "notified"):
            task = first.key.rsplit("_notify_", 1)[-1].rsplit("_", 1)[0]
        task = TASK_OF_DONE.get(task, task)
        if task not in ("start", "stop", "promote", "demote"):
            return True
        for instance in clone.children:
            if not instance.is_primitive:
                return True
            if any(
                a.task == task and a.node is node and not a.interval_ms and not a.optional
                for a in instance.actions
            ):
                return True
        return False

    def cancel_reloads(self) -> None:
        """A reload is pointless where the resource stops or demotes anyway (Pacemaker orders
        the reload before them with 'then cancels first')."""
        for act in self.ws.actions:
            if act.task != "reload-agent" or act.rsc is None or act.optional:
                continue
            for task in ("stop", "demote"):
                if any(not a.optional for a in self.find(act.rsc, task, act.node)):
                    act.optional = True

    @staticmethod
    def _blocked_stop(act: Action) -> bool:
        """The stop of a blocked (unmanaged after a failure) resource, which cannot run."""
        rsc = act.rsc
        return (
            act.task == "stop"
            and not act.runnable
            and rsc is not None
            and rsc.blocked
            and not rsc.managed
        )

    def _restart_cannot_start(self, start: Action) -> None:
        """A start that cannot happen where the resource runs stops it there at once, and the
        required stop makes the start required too (Pacemaker handles the restart ordering as
        soon as the start turns unrunnable, before what follows the start hears of it)."""
        rsc = start.rsc
        node = start.node
        if start.task != "start" or rsc is None or not rsc.is_primitive or not rsc.managed:
            return
        if node is None or node not in rsc.running_on:
            return
        for stop in self.find(rsc, "stop", node):
            if stop.optional and stop.runnable:
                stop.optional = False
                if not start.optional:
                    # a restart already: the next member's stop follows this one at once
                    self._restart_later_members(stop)
                start.optional = False

    def collectives_without_runnable_instances(self) -> bool:
        """A clone's start and running (promote and promoted) can happen only if one of its
        instances can start (promote): Pacemaker's collective action flags."""
        changed = False
        for rsc in self.ws.all_resources():
            if rsc.kind == "group":
                changed |= self._group_without_runnable_members(rsc)
            if rsc.kind != "clone":
                continue
            for act in rsc.actions:
                task = TASK_OF_DONE.get(act.task, act.task)
                if not act.pseudo or not act.runnable or task not in ("start", "promote"):
                    continue
                if not any(
                    a.runnable
                    for child in rsc.children
                    for a in self._instance_actions(child, act.task, task)
                ):
                    act.runnable = False
                    # flags computed from the instances block no colocation dependent
                    self.blocked_dependents_of.add(id(act))
                    changed = True
        return changed

    def _instance_actions(self, instance: Resource, clone_task: str, task: str) -> list[Action]:
        """The actions of a clone instance that a clone action's flags come from: a group
        instance's running (promoted) for the clone's, since Pacemaker folds those back into
        start (promote) only for primitive instances (get_complex_task)."""
        if instance.kind == "group" and clone_task in ("running", "promoted"):
            return [a for a in instance.actions if a.task == clone_task and a.pseudo]
        return self._child_actions(instance, task)

    def _group_without_runnable_members(self, group: Resource) -> bool:
        """A group is running (promoted) only if every member can start (promote): Pacemaker's
        group action flags."""
        changed = False
        for act in group.actions:
            task = TASK_OF_DONE.get(act.task)
            if task not in ("start", "promote") or not act.pseudo or not act.runnable:
                continue
            for member in group.children:
                member_actions = self._child_actions(member, task)
                if not member_actions or not all(a.runnable for a in member_actions):
                    act.runnable = False
                    changed = True
                    break
        return changed

    def block_colocation_dependents(self) -> bool:
        """An unrunnable start (promote) of a resource none of whose instances can start
        (promote) blocks the start (promote) of what is mandatorily colocated with it
        (Pacemaker's pcmk__block_colocation_dependents). Returns whether anything changed."""
        changed = False
        for act in self.ws.actions:
            rsc = act.rsc
            if act.runnable or rsc is None or act.task not in ("start", "promote"):
                continue
            if id(act) in self.blocked_dependents_of:
                continue
            self.blocked_dependents_of.add(id(act))
            top = rsc.top
            firsts = [
                next((a for a in c.actions if a.task == act.task), None) for c in top.children
            ]
            if any(first is None or first.runnable for first in firsts):
                continue  # some instance still gets there
            for coloc in self.ws.colocations:
                if coloc.primary is not top or coloc.score < INFINITY:
                    continue
                if act.task == "promote" and coloc.primary_role != Role.PROMOTED:
                    continue
                task = "promote" if coloc.dependent_role == Role.PROMOTED else "start"
                changed |= self._mark_blocked(coloc.dependent, task, rsc)
        return changed

    def _mark_blocked(self, rsc: Resource, task: str, reason: Resource) -> bool:
        changed = False
        for act in rsc.actions:
            if act.runnable and act.task == task:
                act.runnable = False
                act.reason = act.reason or f"colocation with {reason.id}"
                changed = True
        for child in rsc.children:
            changed |= self._mark_blocked(child, task, reason)
        return changed

    @staticmethod
    def _across_resources(first: Action, then: Action) -> bool:
        """Whether an ordering joins two different resources (not members of one collective).
        There Pacemaker's then-implies-first compares the first's own flags (a collective's
        computed from its instances) and so never makes an optional first required: a
        required stop of `then` does not stop `first` (what stops it is its blocked start)."""
        a, b = first.rsc, then.rsc
        return a is not None and b is not None and a.top is not b.top

    @staticmethod
    def _graphed_by_first(then: Action) -> bool:
        return any(
            flags & FIRST_IMPLIES_THEN_GRAPHED and first.runnable and not first.optional
            for first, flags in then.before
        )

    def _asymmetric_block(self, first: Action, then: Action) -> bool:
        """An unrunnable first of an asymmetrical ordering makes then required and
        unrunnable, unless then is an optional start of what already runs on that node alone
        (or an optional stop of what is stopped)."""
        rsc = then.rsc
        if rsc is None or not then.runnable:
            return False
        if then.optional:
            active = {n.name for p in rsc.primitives() for n in p.running_on}
            if then.task == "stop" and not active:
                return False
            if then.task == "start" and then.node is not None and active == {then.node.name}:
                return False
        if not then.reason and first.rsc is not None and first.rsc is not rsc:
            # the first flag cleared names the reason
            change = "required" if then.optional else "unrunnable"
            then.reason = f"{change} {first.rsc.id} {first.task}"
        then.optional = False
        then.runnable = False
        return True

    # -- entry point ---------------------------------------------------------------------------

    def run(self) -> None:
        ws = self.ws
        # the fencings decided while the status was read are made then (Pacemaker's
        # pe_fence_node): older than every other action, so listed after them
        managed = self._any_managed()
        for node in sorted(ws.nodes, key=lambda n: n.fence_sequence):
            if node.fence_sequence and node.unclean and managed and self.can_fence(node):
                self.action(None, "stonith", node, key=f"stonith-{node.name}-reboot")
        self.unfencing.create_restart_actions()
        self.remote.fence_unrecoverable()
        for rsc in self.unassigned_order():
            self.utilization_orderings(rsc, create_only=True)
        # definition changes since the recorded operations (Pacemaker checks them before
        # placement); they may clear fail counts too
        self.config_changes = digests.check_config_changes(ws, sanitized=ws.sanitized)
        # failures that expired are cleared first, unordered (Pacemaker's param checks)
        for rsc, node in ws.clear_failcounts:
            self.action(rsc, "clear_failcount", node, optional=False)
        for rsc, node in ws.history_clears:
            self.action(rsc, "lrm_delete", node, optional=False)
        for task, rsc, where, interval in self.config_changes.actions:
            if task == "start":
                # Pacemaker requires the start before placement: placed nowhere, it cannot run
                where = rsc.assigned
            # a re-created monitor is required once recurring monitors are looked at
            act = self.action(rsc, task, where, interval_ms=interval, optional=task == "monitor")
            act.runnable = where is not None
            act.reason = "" if task == "clear_failcount" else "resource definition change"
        self.probes()
        for rsc in ws.resources:
            if rsc.is_primitive:
                self.primitive(rsc)
            elif rsc.kind == "bundle":
                bundle.actions(self, rsc)
            else:
                self.collective(rsc)
        notifying = [
            (clone, notifications.create_pseudo_ops(self, clone))
            for clone in ws.all_resources()
            if clone.kind == "clone" and clone.notify
        ]
        self.fencing()
        self.clears_after_remote_fencing()
        self.probe_orderings()
        self.unfencing.order_all()
        for rsc in ws.all_resources():
            if rsc.is_primitive:
                self.cancels(rsc)
                self.cleanups(rsc)
                self.stopped_monitors(rsc)
        self.remote.launcher_orderings()
        self.remote.connection_orderings()
        self.remote.fence_guests()
        self.shutdown_orderings()
        self.constraint_orderings()
        self.unassign_without_partners()
        anti_colocation_orderings(ws.colocations, self.order)
        probe_restart_orderings(ws.resources, self.order, ORDERED, FIRST_IMPLIES_THEN)
        self.probe_before_stop_orderings()
        probe_member_stop_orderings(ws.resources, self.order, ORDERED)
        self.migration_orderings()
        remap_collective_firsts(ws.actions, self.order)
        self.propagate()
        self.cancel_reloads()
        self.remote.notify_after_fencing()
        for clone, ops in notifying:
            notifications.create_instance_notifications(self, clone, ops)
        if notifying:
            self.propagate()
        for act in ws.actions:
            # a pseudo-action of a collective with nothing to do is not needed
            if (
                act.pseudo
                and act.rsc is not None
                and not act.rsc.is_primitive
                and act.task not in ("notify", "notified")
            ):
                related = [a for a, _ in act.before] + [a for a, _ in act.after]
                children = [
                    a
                    for a in related
                    if a.rsc is not None and a.rsc is not act.rsc and not a.optional
                ]
                if not children:
                    act.optional = True
                elif (
                    act.rsc.kind == "clone"
                    and act.task in ("start", "promote", "running", "promoted")
                    and not any(
                        a.runnable
                        for a, _ in (
                            act.before if act.task in ("running", "promoted") else act.after
                        )
                        if a.rsc is not act.rsc and (not a.optional or a.rsc in act.rsc.children)
                    )
                ):
                    # a collective action is runnable when one of its instances' is
                    act.runnable = False
        for act in ws.actions:
            act.in_graph = act.runnable and (
                not act.optional or act.always_in_graph or self._graphed_by_first(act)
            )
            if act.rsc is not None and not act.rsc.managed and act.task != "monitor":
                # an unmanaged resource gets no actions but its monitors
                act.in_graph = act.in_graph and act.interval_ms > 0
        drop_unneeded_inputs(ws.actions)
        drop_edges(ws.actions, self.propagation_only)
        self.break_load_stopped_loops()

    def break_load_stopped_loops(self) -> None:
        """Two resources migrating past each other (A from node1 to node2, B from node2
        to node1) would wait on each other through the load_stopped of their targets:
        Pacemaker drops such a load_stopped -> migrate_to input when it closes a loop
        (ordering_is_invalid)."""
        for act in self.ws.actions:
            if act.task != "migrate_to":
                continue
            for first, _flags in list(act.before):
                # one at a time: once one input is dropped, the other closes no loop
                if first.task.startswith("load_stopped_") and _reaches(act, first):
                    drop_edges([first, act], {(first.id, act.id)})


def _reaches(start: Action, goal: Action) -> bool:
    """Whether goal follows start through the ordering edges."""
    seen = {id(start)}
    todo = [start]
    while todo:
        for after, _flags in todo.pop().after:
            if after is goal:
                return True
            if id(after) not in seen:
                seen.add(id(after))
                todo.append(after)
    return False


def build(ws: WorkingSet) -> None:
    """Create the actions of the transition and order them."""
    Builder(ws).run()
