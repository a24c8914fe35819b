"""Placement: node scores from constraints, stickiness and failures, then assignment.

Follows Pacemaker's order: locations, stickiness, failure thresholds, then resources are
assigned in configuration order; a resource first assigns the resources it is colocated
with, and takes the preferences of the resources colocated with it into account.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from hactl.core.scheduler import bundle, remote, scores, shutdown_lock
from hactl.core.scheduler.model import Colocation, Node, Resource, Role, WorkingSet

INFINITY = scores.INFINITY


def failcount(ws: WorkingSet, rsc: Resource, node: Node) -> int:
    """The effective fail count of a primitive on a node (expired failures ignored)."""
    index = _failure_index(node)
    if not index:
        return 0
    base = rsc.meta.get("__base", rsc.id)
    total = 0
    last_failure = 0
    for name in {rsc.id, base, rsc.history_id}:
        count, last = index.get(name, (0, 0))
        total = scores.add(total, count)
        last_failure = max(last_failure, last)
    if total and rsc.failure_timeout and last_failure:
        if last_failure + rsc.failure_timeout <= ws.epoch:
            return 0
    return total


def _failure_index(node: Node) -> dict[str, tuple[int, int]]:
    """resource name -> (fail count, last failure) from a node's attributes, built once."""
    if node.failure_index is not None:
        return node.failure_index
    index: dict[str, tuple[int, int]] = {}
    for name, value in node.attrs.items():
        for prefix, is_count in (("fail-count-", True), ("last-failure-", False)):
            if not name.startswith(prefix):
                continue
            subject = name[len(prefix) :].split("#", 1)[0]
            count, last = index.get(subject, (0, 0))
            if is_count:
                count = scores.add(count, scores.parse(value))
            else:  # a time (seconds since the epoch), not a score: no INFINITY cap
                last = max(last, _epoch_seconds(value))
            index[subject] = (count, last)
    node.failure_index = index
    return index


def _epoch_seconds(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


class Placer:
    def __init__(self, ws: WorkingSet):
        self.ws = ws
        self.this_with: dict[int, list[Colocation]] = {}
        self.promotion_bonus: dict[int, dict[str, int]] = {}
        self.with_this: dict[int, list[Colocation]] = {}
        self.nodes_by_name = sorted(ws.nodes, key=lambda n: n.name)
        self.siblings_state: dict[tuple[int, str | None], tuple[dict[int, Resource], set[str]]] = {}

    # -- preparation -------------------------------------------------------------

    def initial_scores(self, rsc: Resource) -> None:
        ws = self.ws
        rsc.allowed = {n.name: 0 for n in ws.nodes} if ws.symmetric else {}
        for child in rsc.children:
            self.initial_scores(child)

    def add_location(self, rsc: Resource, node_name: str, score: int) -> None:
        """resource_location: applies to the resource and every descendant."""
        if rsc.allowed is None:
            rsc.allowed = {}
        rsc.allowed[node_name] = scores.add(rsc.allowed.get(node_name, 0), score)
        for child in bundle.location_members(rsc):
            self.add_location(child, node_name, score)

    def ban_everywhere(self, rsc: Resource) -> None:
        for node in self.ws.nodes:
            self.add_location(rsc, node.name, -INFINITY)

    def prepare(self) -> None:
        ws = self.ws
        shutdown_lock.apply(ws)  # before the locations, as Pacemaker applies them
        for rsc in ws.resources:
            self.initial_scores(rsc)
        for loc in ws.locations:
            if loc.role is not None and loc.role not in (Role.STARTED,):
                continue  # role-specific locations count only for promotion
            for node_name, score in loc.node_scores.items():
                if ws.node(node_name) is None:
                    continue
                self.add_location(loc.rsc, node_name, score)
                if loc.discovery != "always":
                    self.set_discovery(loc.rsc, node_name, loc.discovery)
        self.apply_node_health()
        for rsc in ws.all_resources():
            if rsc.is_primitive:
                self.apply_stickiness(rsc)
        for rsc in ws.all_resources():
            if rsc.exclusive_discovery or bundle.top_in_bundle(rsc).exclusive_discovery:
                # exclusive discovery: only nodes named by such a constraint may run it
                for name in list(rsc.allowed or {}):
                    if rsc.allowed_discovery.get(name) != "exclusive":
                        assert rsc.allowed is not None
                        rsc.allowed[name] = -INFINITY
        primitives = [rsc for rsc in ws.all_resources() if rsc.is_primitive]
        for node in ws.nodes:
            for rsc in primitives:
                if (rsc, node) in ws.clear_failcounts:
                    continue  # a fail count being cleared bans nothing (Pacemaker's
                    # failcount_clear_action_exists)
                count = failcount(ws, rsc, node)
                for launched in rsc.launched:
                    # failures of what a launcher runs count against the launcher
                    count = scores.add(count, failcount(ws, launched, node))
                # failures ignored (on-fail=ignore) ignore the threshold too
                ignored = rsc.meta.get("__failure_ignored")
                if count and count >= rsc.migration_threshold and not ignored:
                    # the failed resource itself is banned (a group member, not its
                    # group), an anonymous clone's instance bans the whole clone
                    target = rsc
                    clone = rsc.clone_parent()
                    if clone is not None and not clone.globally_unique:
                        target = rsc.top
                    self.add_location(target, node.name, -INFINITY)
        remote.internal_constraints(ws)
        bundle.constraints(ws)
        for coloc in ws.colocations:
            self.this_with.setdefault(id(coloc.dependent), []).append(coloc)
            self.with_this.setdefault(id(coloc.primary), []).append(coloc)
        self.add_group_colocations()
        for rsc in ws.all_resources():
            if rsc.kind != "group" or not rsc.children:
                continue
            # constraints on the group act through its first member
            first = rsc.children[0]
            self.this_with.setdefault(id(first), []).extend(self.this_with.get(id(rsc), []))
            self.with_this.setdefault(id(first), []).extend(self.with_this.get(id(rsc), []))

    def set_discovery(self, rsc: Resource, node_name: str, mode: str) -> None:
        """resource-discovery of a location: the strictest wins (exclusive > never)."""
        rank = {"always": 0, "never": 1, "exclusive": 2}
        if mode == "exclusive":
            rsc.exclusive_discovery = True
        for member in [rsc, *bundle.location_members(rsc)]:
            if member is not rsc:
                self.set_discovery(member, node_name, mode)
                continue
            current = member.allowed_discovery.get(node_name, "always")
            if rank.get(mode, 0) > rank.get(current, 0):
                member.allowed_discovery[node_name] = mode

    def apply_node_health(self) -> None:
        """node-health-strategy: #health-* node attributes score or ban the node."""
        options = self.ws.options
        strategy = options.get("node-health-strategy", "none").lower()
        if strategy == "none":
            return
        colors = {
            "red": scores.parse(options.get("node-health-red"), -INFINITY),
            "yellow": scores.parse(options.get("node-health-yellow"), 0),
            "green": scores.parse(options.get("node-health-green"), 0),
        }
        if strategy == "migrate-on-red":
            colors = {"red": -INFINITY, "yellow": 0, "green": 0}
        elif strategy == "only-green":
            colors = {"red": -INFINITY, "yellow": -INFINITY, "green": 0}
        for node in self.ws.nodes:
            health = [v for k, v in node.attrs.items() if k.startswith("#health")]
            if not health:
                continue
            total = scores.parse(options.get("node-health-base"), 0) if strategy == "custom" else 0
            for value in health:
                total = scores.add(total, colors.get(value.lower(), scores.parse(value)))
            if total:
                for rsc in self.ws.resources:
                    self.add_location(rsc, node.name, total)

    def apply_stickiness(self, rsc: Resource) -> None:
        if not rsc.managed or rsc.stickiness < 1 or len(rsc.running_on) != 1:
            return
        node = rsc.running_on[0]
        assert rsc.allowed is not None
        if not self.ws.symmetric and node.name not in rsc.allowed:
            return
        rsc.allowed[node.name] = scores.add(rsc.allowed.get(node.name, 0), rsc.stickiness)

    def add_group_colocations(self) -> None:
        """Each group member after the first is colocated with the one before it."""
        for rsc in self.ws.all_resources():
            if rsc.kind != "group" or not self._group_colocated(rsc):
                continue
            for earlier, later in zip(rsc.children, rsc.children[1:], strict=False):
                coloc = Colocation(
                    f"group:{rsc.id}", later, earlier, INFINITY, influence=later.critical
                )
                self.this_with.setdefault(id(later), []).insert(0, coloc)
                self.with_this.setdefault(id(earlier), []).insert(0, coloc)

    @staticmethod
    def _group_colocated(group: Resource) -> bool:
        return group.meta.get("collocated", "true").lower() not in ("false", "no", "0")

    # -- helpers -------------------------------------------------------------------

    def available(self, node: Node) -> bool:
        return node.can_run()

    def _colocation_node(self, primary: Resource, coloc: Colocation) -> Node | None:
        """Where a colocation with `primary` looks (Pacemaker's colocate_with_group): with a
        group, a mandatory colocation needs the whole group, so its last member's node; an
        optional one its first member's."""
        if primary.kind == "group" and primary.children and self._group_colocated(primary):
            member = primary.children[-1] if coloc.score >= INFINITY else primary.children[0]
            return self.node_of(member)
        return self.node_of(primary)

    def node_of(self, rsc: Resource) -> Node | None:
        """Where a resource ends up (a group: its first member; a primitive: its node)."""
        if rsc.is_primitive:
            return rsc.assigned
        if rsc.kind == "group":
            return self.node_of(rsc.children[0]) if rsc.children else None
        return None

    def record_scores(self, function: str, rsc: Resource, allowed: dict[str, int]) -> None:
        if not self.ws.record_scores:
            return
        for node in self.nodes_by_name:
            if node.name in allowed:
                self.ws.score_lines.append(
                    f"{function}: {rsc.id} allocation score on {node.name}: "
                    f"{scores.render(allowed[node.name])}"
                )

    def colocation_applies(self, coloc: Colocation) -> bool:
        if coloc.dependent_role is not None and coloc.dependent_role not in (
            Role.STARTED,
            Role.UNKNOWN,
        ):
            return False
        return True

    def merged_scores(
        self,
        rsc: Resource,
        factor: float,
        seen: set[int],
        base: dict[str, int] | None = None,
        *,
        mandatory_only: bool = False,
    ) -> dict[str, int]:
        """rsc's scores plus those of the resources colocated with it, attenuated by the
        colocation scores (Pacemaker's pcmk__add_dependent_scores)."""
        work = dict(rsc.allowed or {}) if base is None else dict(base)
        only_positive = rsc.kind == "clone"
        for coloc in self.with_this.get(id(rsc), []):
            if mandatory_only and abs(coloc.score) < INFINITY:
                continue
            if coloc.score == 0 or not self.influences(coloc):
                continue
            if not self.colocation_applies(coloc):
                continue
            merged = self.add_colocated(
                coloc.dependent, rsc, work, coloc, coloc.score / INFINITY, only_positive, {id(rsc)}
            )
            if merged is not None:
                work = merged
        return work

    def influences(self, coloc: Colocation) -> bool:
        """A dependent pulls its primary along if `influence` or the primary is inactive."""
        return coloc.influence or not any(p.running_on for p in coloc.primary.primitives())

    def add_colocated(
        self,
        source: Resource,
        target: Resource,
        nodes: dict[str, int],
        coloc: Colocation,
        factor: float,
        only_positive: bool,
        visiting: set[int],
        host: Callable[[str], str] | None = None,
    ) -> dict[str, int] | None:
        """`nodes` with source's scores (and those of what is colocated with source) added
        at `factor`; None when that leaves no node available (the merge is dropped). `host`
        names the node whose scores count for a node of `nodes` (a bundle's guest node:
        its container's host)."""
        if id(source) in visiting:
            return None
        if source.kind == "group" and source.children:
            source = source.children[0]
        visiting = visiting | {id(source)}
        work = dict(nodes)
        unusable = -(INFINITY + 1)
        own = source.allowed or {}
        for name, current in list(work.items()):
            where = name if host is None else host(name)
            score = own.get(where, -INFINITY)
            if coloc.node_attribute != "#uname":
                score = self._best_matching_score(own, coloc.node_attribute, where)
            if factor < 0 and score < 0:
                if (
                    coloc.primary.stickiness >= -score
                    or not self.influences(coloc)
                    or not self._allowed_on_one(coloc.dependent)
                ):
                    continue
            if current == unusable:
                continue
            delta_f = factor * score
            delta = int(delta_f - 0.5) if delta_f < 0 else int(delta_f + 0.5)
            if delta == 0 and score != 0:
                delta = 1 if factor > 0 else -1
            delta = max(-INFINITY, min(INFINITY, delta))
            new = scores.add(delta, current)
            if only_positive and new < 0 and current > 0:
                work[name] = unusable
                continue
            if only_positive and new < 0 and current == 0:
                continue
            work[name] = new
        if not any(s > -INFINITY and s != unusable and self._node_ok(n) for n, s in work.items()):
            return None
        for sub in self.with_this.get(id(source), []):
            if sub.score == 0 or not self.influences(sub):
                continue
            merged = self.add_colocated(
                sub.dependent,
                target,
                work,
                sub,
                factor * sub.score / INFINITY,
                only_positive,
                visiting,
                host,
            )
            if merged is not None:
                work = merged
        if only_positive:
            work = {n: (1 if s == unusable else s) for n, s in work.items()}
        return work

    def _best_matching_score(self, own: dict[str, int], attr: str, name: str) -> int:
        """The best score among the available nodes whose `attr` matches that of node `name`
        (Pacemaker's best_node_score_matching_attr, for colocations by node attribute)."""
        node = self.ws.node(name)
        value = node.attrs.get(attr) if node is not None else None
        best = -INFINITY
        for other, score in own.items():
            candidate = self.ws.node(other)
            if candidate is None or not self.available(candidate) or score <= best:
                continue
            if candidate.attrs.get(attr) == value:
                best = score
        return best

    def _allowed_on_one(self, rsc: Resource) -> bool:
        """Whether rsc can run on exactly one node (so keeping it alive may move others)."""
        allowed = [n for n, s in (rsc.allowed or {}).items() if s > -INFINITY and self._node_ok(n)]
        return len(allowed) == 1

    def _node_ok(self, name: str) -> bool:
        node = self.ws.node(name)
        return node is not None and self.available(node)

    def _assigned(self, rsc: Resource) -> bool:
        if rsc.is_primitive:
            return rsc.assigned_done
        return all(self._assigned(c) for c in rsc.children) if rsc.children else True

    # -- assignment ----------------------------------------------------------------

    def run(self) -> None:
        self.prepare()
        for node in self.ws.nodes:
            node.remaining_capacity = dict(node.utilization)
        self.sort_for_placement()
        # remote connections first: where they go decides which remote nodes are up
        for rsc in self.ws.resources:
            if rsc.is_remote_connection:
                self.assign(rsc)
        for rsc in self.ws.resources:
            self.assign(rsc)

    def assign(self, rsc: Resource) -> None:
        if rsc.kind == "group":
            self.assign_group(rsc)
        elif rsc.kind == "clone":
            self.assign_clone(rsc)
        elif rsc.is_primitive:
            self.assign_primitive(rsc)
        elif rsc.kind == "bundle":
            bundle.assign(self, rsc)

    def assign_dependencies(self, rsc: Resource) -> None:
        for coloc in self.this_with.get(id(rsc), []):
            primary = coloc.primary
            if coloc.id.startswith("group:") and (
                primary.parent is None or primary.parent.assigning
            ):
                continue  # the group assigns its members in order
            if not self._assigned(primary) and not primary.assigning:
                self.assign(primary)

    def apply_this_with(self, rsc: Resource, allowed: dict[str, int]) -> dict[str, int]:
        """The resource's colocations with others applied to its node scores, mandatory ones
        first (Pacemaker's pcmk__primitive_assign). An optional anti-colocation (or one of a
        promoted dependent role) that would leave no node able to run it is undone."""
        colocations = [
            c
            for c in self.this_with.get(id(rsc), [])
            if c.score != 0 and self.colocation_applies(c)
        ]
        for coloc in colocations:
            if abs(coloc.score) >= INFINITY:
                allowed = self._apply_one_this_with(coloc, allowed)
        optional = [c for c in colocations if abs(c.score) < INFINITY]
        if not optional:
            return allowed
        # whether a node is left is judged as Pacemaker does, with the mandatory
        # colocations of others with this resource already counted
        view = self.merged_scores(rsc, 1.0, set(), allowed, mandatory_only=True)
        for coloc in optional:
            revertible = (
                coloc.dependent_role is not None and coloc.dependent_role >= Role.PROMOTED
            ) or coloc.score < 0
            before = (dict(allowed), dict(view))
            allowed = self._apply_one_this_with(coloc, allowed)
            view = self._apply_one_this_with(coloc, view)
            if revertible and not any(
                score >= 0 and (node := self.ws.node(name)) is not None and self.available(node)
                for name, score in view.items()
            ):
                allowed, view = before
        return allowed

    def _apply_one_this_with(self, coloc: Colocation, allowed: dict[str, int]) -> dict[str, int]:
        primary = coloc.primary
        if primary.assigning and not self._assigned(primary):
            return allowed
        if primary.kind in ("clone", "bundle"):  # where its instances (containers) are
            return self.apply_clone_primary(coloc, allowed)
        where = self._colocation_node(primary, coloc)
        if coloc.primary_role is not None and coloc.primary_role not in (
            Role.STARTED,
            Role.UNKNOWN,
        ):
            if where is None or primary.next_role != coloc.primary_role:
                if coloc.score >= INFINITY:
                    # primary not in that role anywhere: mandatory means nowhere
                    return {n: -INFINITY for n in allowed}
                return allowed
        attr = coloc.node_attribute
        value = where.attrs.get(attr) if where is not None else None
        for name in list(allowed):
            node = self.ws.node(name)
            same = node is not None and value is not None and node.attrs.get(attr) == value
            if coloc.score >= INFINITY:
                if not same:
                    allowed[name] = -INFINITY
            elif coloc.score <= -INFINITY:
                if same:
                    allowed[name] = -INFINITY
            elif same:
                allowed[name] = scores.add(allowed[name], coloc.score)
        return allowed

    def apply_clone_primary(self, coloc: Colocation, allowed: dict[str, int]) -> dict[str, int]:
        """Dependent colocated with a clone: score the nodes where instances run."""
        clone = coloc.primary
        hosts: set[str] = set()
        if clone.kind == "bundle":
            placed = bundle.replica_hosts(clone)
        else:
            dependent = coloc.dependent
            interleaved = (
                dependent.kind in ("clone", "bundle")
                and dependent.interleave
                and dependent.clone_node_max == clone.clone_node_max
            )
            placed = [
                (
                    self._colocation_node(i, coloc) if interleaved else self.node_of(i),
                    _role_of(i),
                )
                for i in clone.children
                # a mandatory colocation needs instances that are not blocked there
                # (Pacemaker's pcmk__clone_apply_coloc_score)
                if coloc.score < INFINITY or not any(p.blocked for p in i.primitives())
            ]
        # a role matters only for a promotable primary: a plain clone's instances count in
        # any role (Pacemaker's pcmk__clone_apply_coloc_score applies role-specific
        # colocations only to promotable clones)
        by_role = clone.kind == "bundle" or clone.promotable
        for node, role in placed:
            if node is None:
                continue
            if by_role and coloc.primary_role not in (None, Role.STARTED, Role.UNKNOWN):
                if role != coloc.primary_role:
                    continue
            hosts.add(node.name)
        for name in list(allowed):
            inside = name in hosts
            if coloc.score >= INFINITY:
                if not inside:
                    allowed[name] = -INFINITY
            elif coloc.score <= -INFINITY:
                if inside:
                    allowed[name] = -INFINITY
            elif inside:
                allowed[name] = scores.add(allowed[name], coloc.score)
        return allowed

    def choose(self, rsc: Resource, allowed: dict[str, int], prefer: Node | None) -> Node | None:
        if self.ws.placement_strategy != "default":
            most_capable = self.ban_insufficient_capacity(rsc, allowed)
            if prefer is None:
                prefer = most_capable
        candidates: list[tuple[Node, int]] = []
        for name, score in allowed.items():
            node = self.ws.node(name)
            if node is None:
                continue
            effective = score if self.available(node) else -INFINITY
            candidates.append((node, effective))
        if not candidates:
            return None
        running = rsc.current_node() if prefer is None else prefer
        current = rsc.current_node()

        def order(a: tuple[Node, int], b: tuple[Node, int]) -> int:
            return self.compare_nodes(a, b, current)

        # only the best candidate matters (and whether the running node ties with it)
        best, best_score = min(candidates, key=functools.cmp_to_key(order))
        if best_score < 0 or best_score <= -INFINITY or not self.available(best):
            return None
        if prefer is not None and self.available(prefer):
            if allowed.get(prefer.name, -INFINITY) >= best_score:
                return prefer
        clone = rsc.clone_parent()
        unique_instance = clone is not None and clone.globally_unique
        if (
            running is not None
            and best_score > 0
            and not unique_instance
            and self.available(running)
        ):
            if any(node is running and score == best_score for node, score in candidates):
                return running
        return best

    def compare_nodes(
        self, a: tuple[Node, int], b: tuple[Node, int], preferred: Node | None
    ) -> int:
        """Pacemaker's node order: score, then (by strategy) capacity and load, then name."""
        (n1, s1), (n2, s2) = a, b
        if s1 != s2:
            return -1 if s1 > s2 else 1
        strategy = self.ws.placement_strategy
        if strategy != "minimal":
            if strategy == "balanced":
                result = compare_capacities(n1, n2)
                if result:
                    return result
            if n1.assigned_count != n2.assigned_count:
                return -1 if n1.assigned_count < n2.assigned_count else 1
            if preferred is not None and (n1 is preferred or n2 is preferred):
                return -1 if n1 is preferred else 1
        return (n1.name > n2.name) - (n1.name < n2.name)

    # -- utilization ---------------------------------------------------------------

    def colocated_set(self, rsc: Resource) -> list[Resource]:
        """rsc and every primitive mandatorily colocated with it, either way."""
        seen: dict[int, Resource] = {}
        todo = [rsc]
        while todo:
            item = todo.pop()
            if id(item) in seen:
                continue
            seen[id(item)] = item
            if item.kind == "clone":
                # a clone counts with one instance, the first not placed yet, for its
                # utilization only (Pacemaker's pcmk__clone_add_utilization): what that
                # instance is colocated with is not followed
                unplaced = [i for i in item.children if not self._assigned(i)]
                for instance in (unplaced or item.children)[:1]:
                    for prim in instance.primitives():
                        seen.setdefault(id(prim), prim)
            else:
                todo.extend(item.children)
            if item.parent is not None and item.parent.kind == "group":
                todo.append(item.parent)
            # an instance follows its clone's colocations (pcmk__colocated_resources)
            holders = [item]
            if item.parent is not None and item.parent.kind == "clone":
                holders.append(item.parent)
            for holder in holders:
                for coloc in self.this_with.get(id(holder), []):
                    if coloc.score >= INFINITY:
                        todo.append(coloc.primary)
                for coloc in self.with_this.get(id(holder), []):
                    if coloc.score < INFINITY:
                        continue
                    if holder is item and item.kind == "clone" and coloc.dependent.kind != "clone":
                        # from the clone itself, whether it ends up with an instance is not
                        # known; reached from an instance it is (pcmk__colocated_resources)
                        continue
                    todo.append(coloc.dependent)
        return [r for r in seen.values() if r.is_primitive]

    def ban_insufficient_capacity(self, rsc: Resource, allowed: dict[str, int]) -> Node | None:
        """Ban nodes without room for rsc (and what must run with it); the roomiest node."""
        members = self.colocated_set(rsc)
        need: dict[str, int] = {}
        for member in members:
            if member.assigned_done and member is not rsc:
                continue
            for key, value in member.utilization.items():
                need[key] = need.get(key, 0) + value
        # only nodes it may run on count (Pacemaker's pcmk__node_available with the score)
        nodes = [
            n
            for n in (self.ws.node(name) for name in allowed)
            if n is not None and self.available(n) and allowed[n.name] >= 0
        ]
        any_capable = any(has_capacity(n, need) for n in nodes)
        most_capable: Node | None = None
        for node in nodes:
            if most_capable is None or compare_capacities(node, most_capable) < 0:
                most_capable = node
        required = need if any_capable else rsc.utilization
        for node in nodes:
            if not has_capacity(node, required):
                allowed[node.name] = -INFINITY
        return None if any_capable else most_capable

    def sort_for_placement(self) -> None:
        """With a placement strategy, resources are placed in order of importance."""
        if self.ws.placement_strategy == "default":
            return
        # nodes that cannot run resources sort last (Pacemaker's pcmk__sort_nodes)
        scored = [(n, 0 if self.available(n) else -INFINITY) for n in self.ws.nodes]

        def node_order(a: tuple[Node, int], b: tuple[Node, int]) -> int:
            return self.compare_nodes(a, b, None)

        scored.sort(key=functools.cmp_to_key(node_order))
        nodes = [n for n, _ in scored]

        def key(rsc: Resource) -> tuple[int, int, list[int]]:
            own = self._with_primaries_scores(rsc, dict(rsc.allowed or {}), 1.0, {id(rsc)})
            current = next((n for p in rsc.primitives() for n in p.running_on), None)
            at_current = own.get(current.name, -INFINITY) if current is not None else -INFINITY
            return (-rsc.priority, -at_current, [-own.get(n.name, -INFINITY) for n in nodes])

        self.ws.resources.sort(key=key)

    def _with_primaries_scores(
        self, rsc: Resource, nodes: dict[str, int], factor: float, visiting: set[int]
    ) -> dict[str, int]:
        """`nodes` with the scores of what rsc is colocated with (and what that is colocated
        with) added, attenuated by the colocation scores, a primary counting only on nodes
        that can run resources: what Pacemaker compares resources by before placing them
        (cmp_resources: add_colocated_node_scores with this-with colocations)."""
        for coloc in self.this_with.get(id(rsc), []):
            primary = coloc.primary
            if coloc.score == 0 or id(primary) in visiting:
                continue
            weight = factor * coloc.score / INFINITY
            own = primary.allowed or {}
            work = dict(nodes)
            for name, current in nodes.items():
                node = self.ws.node(name)
                usable = node is not None and self.available(node)
                delta_f = weight * (own.get(name, -INFINITY) if usable else -INFINITY)
                delta = int(delta_f - 0.5) if delta_f < 0 else int(delta_f + 0.5)
                work[name] = scores.add(current, max(-INFINITY, min(INFINITY, delta)))
            if not any(s > -INFINITY and self._node_ok(n) for n, s in work.items()):
                continue  # a merge that leaves no node is dropped
            nodes = self._with_primaries_scores(primary, work, weight, visiting | {id(primary)})
        return nodes

    def assign_primitive(self, rsc: Resource, prefer: Node | None = None) -> None:
        if rsc.assigned_done or rsc.assigning:
            return
        rsc.assigning = True
        self.assign_dependencies(rsc)
        allowed = dict(rsc.allowed or {})
        allowed = self.apply_this_with(rsc, allowed)
        rsc.allowed = allowed
        allowed = self.merged_scores(rsc, 1.0, set(), allowed)
        self.record_scores("pcmk__primitive_assign", rsc, allowed)
        if self.ws.fencing_enabled and not self.ws.have_fencing:
            # Pacemaker disables resource start-up while fencing is enabled without a device
            rsc.managed = False
        chosen: Node | None
        if not rsc.managed:
            chosen = rsc.current_node()
        elif rsc.target_role == Role.STOPPED or rsc.orphan or rsc.meta.get("__forced_stop"):
            chosen = None
        else:
            chosen = self.choose(rsc, allowed, prefer)
        self.place(rsc, chosen)
        rsc.assigning = False

    def place(self, rsc: Resource, node: Node | None) -> None:
        rsc.assigned = node
        rsc.assigned_done = True
        if node is None:
            rsc.next_role = Role.STOPPED
            if rsc.is_remote_connection:
                remote.connection_assigned(self.ws, rsc)
            return
        node.assigned_count += 1
        if self.ws.placement_strategy != "default":
            for key, value in rsc.utilization.items():
                node.remaining_capacity[key] = node.remaining_capacity.get(key, 0) - value
        clone = rsc.clone_parent()
        if clone is not None and clone.promotable:
            rsc.next_role = Role.UNPROMOTED
        else:
            rsc.next_role = Role.STARTED
        if rsc.is_remote_connection:
            remote.connection_assigned(self.ws, rsc)

    def assign_group(self, group: Resource) -> None:
        if group.assigning or self._assigned(group):
            return
        group.assigning = True
        self.assign_dependencies(group)
        group_allowed = self.apply_this_with(group, dict(group.allowed or {}))
        self.record_scores("pcmk__group_assign", group, group_allowed)
        for child in group.children:
            self.record_scores("pcmk__group_assign", child, child.allowed or {})
        for child in group.children:
            if group.target_role == Role.STOPPED and not _sets_own_target_role(child):
                child.target_role = Role.STOPPED
            self.assign(child)
        group.next_role = Role.STARTED if self.node_of(group) is not None else Role.STOPPED
        group.assigning = False

    def assign_clone(self, clone: Resource) -> None:
        if clone.assigning or self._assigned(clone):
            return
        clone.assigning = True
        self.assign_dependencies(clone)
        clone_allowed = self.apply_this_with(clone, dict(clone.allowed or {}))
        clone.allowed = clone_allowed
        merged = self.merged_scores(clone, 1.0, set(), clone_allowed)
        # the dependents' preferences stay in the clone's scores, which promotion starts
        # from (Pacemaker's pcmk__add_dependent_scores updates the clone's allowed nodes)
        clone.allowed = merged
        self.record_scores("pcmk__clone_assign", clone, merged)
        self.promotion_bonus = self.add_promotion_scores(clone) if clone.promotable else {}
        per_node: dict[str, int] = {}
        usable = [
            n for n in self.ws.nodes if self.available(n) and merged.get(n.name, -INFINITY) >= 0
        ]
        limit = clone.clone_max
        optimal = max(1, -(-limit // len(usable))) if usable else 1

        # an instance's priority rises to its best promotion score (Pacemaker's
        # pcmk__add_promotion_scores), which orders the instances' assignment
        priorities = {
            id(i): max([i.priority, *self.promotion_bonus.get(id(i), {}).values()])
            for i in clone.children
        }

        def instance_order(a: Resource, b: Resource) -> int:
            return self._compare_instances(clone, a, b, merged, priorities)

        instances = sorted(clone.children, key=functools.cmp_to_key(instance_order))
        clone.assign_order = sorted(clone.children, key=self._probe_order)
        assigned = 0
        # instances stay where they run, as long as that does not crowd a node
        for instance in instances:
            current = self._instance_current(instance)
            if current is None or assigned >= limit or not self.available(current):
                continue
            if per_node.get(current.name, 0) >= optimal or any(
                p.failed for p in instance.primitives()
            ):
                continue
            if self._assign_instance(clone, instance, merged, current, per_node, limit - assigned):
                assigned += 1
        for instance in instances:
            if self._assigned(instance):
                continue
            if assigned >= limit or clone.target_role == Role.STOPPED:
                self._stop_instance(instance)
                continue
            if self._assign_instance(clone, instance, merged, None, per_node):
                assigned += 1
        if clone.promotable:
            self.promote(clone)
        clone.next_role = Role.STARTED if assigned else Role.STOPPED
        clone.assigning = False

    def _compare_instances(
        self,
        clone: Resource,
        a: Resource,
        b: Resource,
        merged: dict[str, int],
        priorities: dict[int, int] | None = None,
    ) -> int:
        """Which of two instances is assigned first (Pacemaker's pcmk__cmp_instance): one
        active on fewer nodes, one not active where it may no longer run, higher priority,
        an active one, one whose node can run resources and the clone may run on, one not
        failed, one whose node scores higher, then the lower instance number. While roles
        are chosen the priorities are the promotion priorities (`priorities`)."""

        def active(instance: Resource) -> tuple[Node | None, int]:
            nodes = {n.name: n for p in instance.primitives() for n in p.running_on}
            return next(iter(nodes.values()), None), len(nodes)

        def allowed_there(instance: Resource, node: Node | None) -> bool:
            own = instance.allowed if instance.allowed is not None else {}
            return node is None or own.get(node.name, -INFINITY) >= 0

        def first(better_a: bool, better_b: bool) -> int:
            return -1 if better_a and not better_b else 1 if better_b and not better_a else 0

        (node_a, count_a), (node_b, count_b) = active(a), active(b)
        if count_a and count_b and count_a != count_b:
            return -1 if count_a < count_b else 1
        allowed_a, allowed_b = allowed_there(a, node_a), allowed_there(b, node_b)
        node_a = node_a if allowed_a else None
        node_b = node_b if allowed_b else None
        clone_allowed = clone.allowed or {}
        if priorities is None:
            priority_a, priority_b = a.priority, b.priority
        else:
            priority_a = priorities.get(id(a), -INFINITY)
            priority_b = priorities.get(id(b), -INFINITY)
        for result in (
            first(allowed_a, allowed_b),
            (priority_b > priority_a) - (priority_a > priority_b),
            first(node_a is not None, node_b is not None),
        ):
            if result:
                return result
        if node_a is None or node_b is None:
            return 0 if node_a is None and node_b is None else first(node_a is not None, False)
        for result in (
            first(self.available(node_a), self.available(node_b)),
            first(node_a.name in clone_allowed, node_b.name in clone_allowed),
            first(
                not any(p.failed for p in a.primitives()), not any(p.failed for p in b.primitives())
            ),
        ):
            if result:
                return result
        score_a, score_b = merged.get(node_a.name, 0), merged.get(node_b.name, 0)
        if score_a != score_b:
            return -1 if score_a > score_b else 1
        return clone.children.index(a) - clone.children.index(b)

    def _probe_order(self, instance: Resource) -> tuple[int, int]:
        """The order in which an instance is looked at to probe an anonymous clone where
        none is placed: active ones first, then by number. (Pacemaker takes the first of its
        instances as finally sorted, for a promotable clone by promotion priority; this
        simpler order agrees with the corpus where that one is not reproduced.)"""
        clone = instance.parent
        index = clone.children.index(instance) if clone is not None else 0
        return (0 if self._instance_current(instance) is not None else 1, index)

    def _instance_current(self, instance: Resource) -> Node | None:
        """The one node an instance is active on (None if inactive or active on several)."""
        nodes = {n.name: n for p in instance.primitives() for n in p.running_on}
        return next(iter(nodes.values())) if len(nodes) == 1 else None

    def _stop_instance(self, instance: Resource) -> None:
        for prim in instance.primitives():
            if not prim.assigned_done:
                self.place(prim, None)
        instance.next_role = Role.STOPPED

    def _unassign(self, instance: Resource) -> None:
        for prim in instance.primitives():
            if prim.assigned is not None:
                prim.assigned.assigned_count -= 1
                if self.ws.placement_strategy != "default":
                    for key, value in prim.utilization.items():
                        remaining = prim.assigned.remaining_capacity
                        remaining[key] = remaining.get(key, 0) + value
            prim.assigned = None
            prim.assigned_done = False
            prim.next_role = Role.UNKNOWN

    def _instance_scores(
        self,
        clone: Resource,
        instance: Resource,
        merged: dict[str, int],
        per_node: dict[str, int],
    ) -> None:
        for prim in instance.primitives():
            own = {}
            for name, score in merged.items():
                if per_node.get(name, 0) >= clone.clone_node_max:
                    own[name] = -INFINITY
                    continue
                own[name] = score
            if prim.managed and prim.stickiness > 0 and len(prim.running_on) == 1:
                name = prim.running_on[0].name
                if name in own:
                    own[name] = scores.add(own[name], prim.stickiness)
            for name, value in self.promotion_bonus.get(id(instance), {}).items():
                if name in own and own[name] > -INFINITY:
                    own[name] = scores.add(own[name], value)
            # bans on the instance itself (failures, hard errors) still hold
            for name, score in (prim.allowed or {}).items():
                if score <= -INFINITY and name in own:
                    own[name] = -INFINITY
            prim.allowed = own
        if instance.kind == "group":
            instance.allowed = dict(instance.children[0].allowed or {}) if instance.children else {}

    def _assign_instance(
        self,
        clone: Resource,
        instance: Resource,
        merged: dict[str, int],
        prefer: Node | None,
        per_node: dict[str, int],
        available: int = 1,
    ) -> bool:
        """Assign one instance; with `prefer`, only to that node (Pacemaker's early
        assignment: a better node found instead is reserved, and the instance tried again)."""
        saved = {id(p): dict(p.allowed or {}) for p in instance.primitives()}
        counts = dict(per_node)
        reserved = 0
        while True:
            self._instance_scores(clone, instance, merged, counts)
            if prefer is not None:
                first = instance.primitives()[0]
                if (first.allowed or {}).get(prefer.name, -INFINITY) < 0:
                    self._restore(instance, saved)
                    return False
            if instance.kind == "group":
                self.assign_group(instance)
            else:
                self.assign_primitive(instance, prefer)
            node = self.node_of(instance)
            if prefer is None or node is prefer:
                break
            self._unassign(instance)
            self._restore(instance, saved)
            instance.assigning = False
            reserved += 1
            if node is None or reserved >= available:
                return False
            counts[node.name] = counts.get(node.name, 0) + 1
        if node is None:
            return False
        per_node[node.name] = per_node.get(node.name, 0) + 1
        return True

    @staticmethod
    def _restore(instance: Resource, saved: dict[int, dict[str, int]]) -> None:
        for prim in instance.primitives():
            prim.allowed = saved[id(prim)]

    # -- promotion -------------------------------------------------------------------

    def promote(self, clone: Resource) -> None:
        """Choose the promoted instances (Pacemaker's pcmk__set_instance_roles)."""
        priority: dict[int, int] = {}
        promoted_locations = [loc for loc in self.ws.locations if loc.role == Role.PROMOTED]
        for instance in clone.children:
            node = self.node_of(instance)
            if node is None:
                continue
            value = self.promotion_value(clone, instance, node)
            score = -1 if value is None else value
            if instance.target_role == Role.UNPROMOTED or clone.target_role == Role.UNPROMOTED:
                score = -INFINITY
            for loc in promoted_locations:
                if loc.rsc is clone or loc.rsc is instance:
                    if node.name in loc.node_scores:
                        score = scores.add(score, loc.node_scores[node.name])
            # a bundled clone's promotion also answers the bundle's colocations, judged
            # on the containers' hosts
            owner = bundle.bundle_of(clone)
            colocs = self.this_with.get(id(clone), [])
            if owner is not None:
                colocs = colocs + self.this_with.get(id(owner), [])
            at = bundle.host_of(node) if owner is not None else node
            for coloc in colocs:
                score = scores.add(score, self.role_colocation_priority(coloc, at))
            priority[id(instance)] = score
        # the clone's node scores, raised by the instances' priorities and by resources
        # that want to be with the promoted instance, give the final priorities
        node_scores = dict(clone.allowed or {})
        for instance in clone.children:
            node = self.node_of(instance)
            value = priority.get(id(instance), -INFINITY)
            if node is not None and value >= 0:
                node_scores[node.name] = scores.add(node_scores.get(node.name, 0), value)
        with_promoted = list(self.with_this.get(id(clone), []))
        host: Callable[[str], str] | None = None
        bundle_owner = bundle.bundle_of(clone)
        if bundle_owner is not None:
            # a bundled clone also answers what is colocated with the bundle's promoted
            # role (Pacemaker's pcmk__with_bundle_colocations), judged on the hosts
            with_promoted += self.with_this.get(id(bundle_owner), [])

            def host(name: str) -> str:
                node = self.ws.node(name)
                return bundle.host_of(node).name if node is not None else name

        for coloc in with_promoted:
            if coloc.primary_role != Role.PROMOTED or not coloc.influence:
                continue
            dependent = coloc.dependent
            # Pacemaker's apply_coloc_to_primary: the dependent's node scores merged
            # nonnegatively (a node a dependent bans drops to 1, not below)
            merged = self.add_colocated(
                dependent,
                clone,
                node_scores,
                coloc,
                coloc.score / INFINITY,
                True,
                {id(clone)},
                host,
            )
            if merged is not None:
                node_scores = merged
        if clone.meta.get("__no_promotion"):
            # a ticket the promoted role depends on is not granted
            node_scores = {name: -INFINITY for name in node_scores}
        final: dict[int, int] = {}
        for instance in clone.children:
            node = self.node_of(instance)
            if node is None:
                final[id(instance)] = -INFINITY
            elif not instance.managed and _current_role(instance) == Role.PROMOTED:
                final[id(instance)] = INFINITY
            elif priority[id(instance)] < 0:
                final[id(instance)] = priority[id(instance)]
            else:
                final[id(instance)] = node_scores.get(node.name, 0)
        merged = dict(clone.allowed or {})

        def promotion_order(a: Resource, b: Resource) -> int:
            """Pacemaker's cmp_promotable_instance: the higher final priority, then the
            higher current role, then the assignment order with the instances' own
            promotion priorities (a failed instance after one that is not)."""
            if final[id(a)] != final[id(b)]:
                return -1 if final[id(a)] > final[id(b)] else 1
            role_a, role_b = _current_role(a), _current_role(b)
            if role_a != role_b:
                return -1 if role_a > role_b else 1
            return self._compare_instances(clone, a, b, merged, priority)

        order = sorted(clone.children, key=functools.cmp_to_key(promotion_order))
        promoted = 0
        per_node: dict[str, int] = {}
        for instance in order:
            node = self.node_of(instance)
            if self.ws.record_scores:
                where = "(inactive)" if node is None else f"on {node.name}"
                self.ws.score_lines.append(
                    f"{instance.id} promotion score {where}: {scores.render(final[id(instance)])}"
                )
            if node is None:
                continue
            pinned = not instance.managed and _current_role(instance) == Role.PROMOTED
            can = pinned or (
                final[id(instance)] >= 0
                # a cloned group is promoted only if all its members will be active
                and all(p.assigned is not None for p in instance.primitives())
                and priority[id(instance)] >= 0
                and promoted < clone.promoted_max
                and per_node.get(node.name, 0) < clone.promoted_node_max
                and self.available(node)
                and remote.guest_usable(node)
                and (self.ws.have_quorum or self.ws.no_quorum_policy != "demote")
                and not (
                    _current_role(instance) < Role.PROMOTED
                    and not self.ws.have_quorum
                    and self.ws.no_quorum_policy == "freeze"
                )
            )
            role = Role.PROMOTED if can else Role.UNPROMOTED
            if can:
                promoted += 1
                per_node[node.name] = per_node.get(node.name, 0) + 1
            for prim in instance.primitives():
                prim.next_role = role
            instance.next_role = role

    def role_colocation_priority(self, coloc: Colocation, node: Node) -> int:
        """What a colocation of the promoted (unpromoted) role adds to the priority of an
        instance placed on `node` (Pacemaker's pcmk__apply_coloc_to_priority): its score
        where the primary is, minus a mandatory score elsewhere; negated for unpromoted."""
        if coloc.dependent_role not in (Role.UNPROMOTED, Role.PROMOTED):
            return 0
        primary = coloc.primary
        if primary.kind == "clone":
            return 0
        wanted = coloc.primary_role
        attr = coloc.node_attribute
        if primary.kind == "bundle":
            hosts = [
                n
                for n, role in bundle.replica_hosts(primary)
                if n is not None and (wanted in (None, Role.UNKNOWN) or role == wanted)
            ]
            same = any(node.attrs.get(attr) == h.attrs.get(attr) for h in hosts)
        else:
            where = self.node_of(primary)
            if where is not None and wanted not in (None, Role.UNKNOWN):
                if primary.next_role != wanted:
                    return 0
            same = where is not None and node.attrs.get(attr) == where.attrs.get(attr)
        if not same:
            if coloc.score >= INFINITY and coloc.dependent_role == Role.PROMOTED:
                return -coloc.score
            return 0
        return -coloc.score if coloc.dependent_role == Role.UNPROMOTED else coloc.score

    def promotion_value(self, clone: Resource, instance: Resource, node: Node) -> int | None:
        """The promotion score attribute(s) of an instance on a node (None when unset)."""
        total: int | None = None
        for prim in instance.primitives():
            if not self.promotion_applies(clone, prim, node):
                value: str | None = "0"
            else:
                base = prim.meta.get("__base", prim.id)
                attrs = bundle.attribute_node(prim, node).attrs
                value = attrs.get(f"master-{prim.history_id}")
                if value is None and not clone.globally_unique:
                    value = attrs.get(f"master-{base}")
            if value is not None:
                total = scores.add(total or 0, scores.parse(value))
        return total

    def promotion_applies(self, clone: Resource, prim: Resource, node: Node) -> bool:
        """Whether an instance's promotion score counts on a node (Pacemaker's rules)."""
        if not clone.globally_unique:
            active_on, known_on = self._siblings_state(clone, prim.meta.get("__base"))
            active = active_on.get(id(node))
            if active is prim:
                return True
            if active is None and node.name in known_on:
                return True
        if not prim.running_on and not prim.known_on:
            return True
        return node.name in prim.known_on or node in prim.running_on

    def _siblings_state(
        self, clone: Resource, base: str | None
    ) -> tuple[dict[int, Resource], set[str]]:
        """For the primitives of `clone`'s instances made from `base`: node -> the first one
        active there, and the nodes where any has history (the status does not change while
        placing, so this is worked out once)."""
        key = (id(clone), base)
        state = self.siblings_state.get(key)
        if state is None:
            active_on: dict[int, Resource] = {}
            known_on: set[str] = set()
            for prim in clone.primitives():
                if prim.meta.get("__base") != base:
                    continue
                for node in prim.running_on:
                    active_on.setdefault(id(node), prim)
                known_on |= prim.known_on
            state = self.siblings_state[key] = (active_on, known_on)
        return state

    def add_promotion_scores(self, clone: Resource) -> dict[int, dict[str, int]]:
        """Promotion scores raise an instance's node scores before placement."""
        bonus: dict[int, dict[str, int]] = {}
        for instance in clone.children:
            extra: dict[str, int] = {}
            for node in self.ws.nodes:
                if not self.available(node):
                    continue
                value = self.promotion_value(clone, instance, node)
                if value is not None and value > 0:
                    extra[node.name] = value
            bonus[id(instance)] = extra
        return bonus


def _sets_own_target_role(rsc: Resource) -> bool:
    """Whether a resource's own meta attributes name its target-role (which then wins over
    the role its group inherits, as a member's own meta does in Pacemaker)."""
    return any(
        pair.get("name") == "target-role"
        for block in rsc.element.findall("meta_attributes")
        for pair in block.iter("nvpair")
    )


def _current_role(rsc: Resource) -> Role:
    return max((p.role for p in rsc.primitives() if p.running_on), default=Role.STOPPED)


def has_capacity(node: Node, need: dict[str, int]) -> bool:
    return all(node.remaining_capacity.get(key, 0) >= value for key, value in need.items())


def compare_capacities(n1: Node, n2: Node) -> int:
    """Negative when n1 has more remaining capacity on more attributes than n2."""
    result = 0
    for key in set(n1.remaining_capacity) | set(n2.remaining_capacity):
        c1 = n1.remaining_capacity.get(key, 0)
        c2 = n2.remaining_capacity.get(key, 0)
        if c1 > c2:
            result -= 1
        elif c1 < c2:
            result += 1
    return result


def _role_of(rsc: Resource) -> Role:
    if rsc.is_primitive:
        return rsc.next_role
    return rsc.next_role


def place(ws: WorkingSet) -> None:
    """Assign every resource of the working set to a node (or none)."""
    Placer(ws).run()
