"""Pacemaker Remote and guest nodes: nodes reached through a connection resource.

A remote node is named by an ocf:pacemaker:remote primitive; a guest node by the meta attribute
`remote-node` of a resource (its launcher: a VM or container), for which an implicit connection
primitive is made. A remote node is online while its connection runs; a guest's also needs its
launcher. Fencing a remote node goes through the fencer; "fencing" a guest is recovering its
launcher. Actions on these nodes are ordered against their connection (pcmk_sched_remote.c).
Pure: no I/O.
"""

from __future__ import annotations

import enum
import re
from typing import TYPE_CHECKING

from lxml import etree

from hactl.core.scheduler import scores
from hactl.core.scheduler.model import Node, Resource, Role, WorkingSet

if TYPE_CHECKING:
    from hactl.core.scheduler.actions import Builder
    from hactl.core.scheduler.model import Action
    from hactl.core.scheduler.unpack import Unpacker

INFINITY = scores.INFINITY
#: the reason of fencing scheduled only because a node is unclean
STARTUP_REASON = "node is unclean"


def is_connection_xml(element: etree._Element) -> bool:
    """Whether a resource element is an ocf:pacemaker:remote connection."""
    return (
        (element.get("type") or "").lower() == "remote"
        and (element.get("class") or "").lower() == "ocf"
        and (element.get("provider") or "").lower() == "pacemaker"
    )


def _guest_meta(element: etree._Element) -> dict[str, str]:
    """The remote-* meta attributes that make a primitive a guest node's launcher."""
    meta: dict[str, str] = {}
    for block in element.findall("meta_attributes"):
        for pair in block:
            name = pair.get("name")
            if isinstance(pair.tag, str) and name is not None and name not in meta:
                meta[name] = pair.get("value", "")
    return meta


def connection_xml(name: str, launcher_id: str, meta: dict[str, str]) -> etree._Element:
    """The implicit connection primitive of a guest node (as Pacemaker generates it)."""
    rsc = etree.Element(
        "primitive",
        {"id": name, "class": "ocf", "provider": "pacemaker", "type": "remote"},
    )
    block = etree.SubElement(rsc, "meta_attributes", id=f"{name}-meta_attributes")
    pairs = [("internal_rsc", "true"), ("container", launcher_id)]
    if "remote-allow-migrate" in meta:
        pairs.append(("allow-migrate", meta["remote-allow-migrate"]))
    if "is-managed" in meta:
        pairs.append(("is-managed", meta["is-managed"]))
    for key, value in pairs:
        etree.SubElement(block, "nvpair", id=f"{name}-meta-{key}", name=key, value=value)
    if "remote-addr" in meta or "remote-port" in meta:
        params = etree.SubElement(rsc, "instance_attributes", id=f"{name}-instance_attributes")
        for key, attr in (("remote-addr", "addr"), ("remote-port", "port")):
            if key in meta:
                etree.SubElement(params, "nvpair", id=f"{name}-{attr}", name=attr, value=meta[key])
    ops = etree.SubElement(rsc, "operations")
    etree.SubElement(
        ops, "op", id=f"{name}-monitor-30s", name="monitor", interval="30s", timeout="30s"
    )
    timeout = meta.get("remote-connect-timeout", "60s")
    etree.SubElement(ops, "op", id=f"{name}-start-0", name="start", interval="0", timeout=timeout)
    return rsc


def create_nodes(unpacker: Unpacker, resources: etree._Element | None) -> list[etree._Element]:
    """Add a node for every remote connection and guest launcher in the configuration.

    Returns the implicit connection primitives of guest nodes, to be unpacked after the
    configured resources (Pacemaker appends them to the resources section).
    """
    ws = unpacker.ws
    extra: list[etree._Element] = []
    if resources is None:
        return extra
    configured = {r.get("id") for r in resources.iter() if isinstance(r.tag, str)}

    def add_node(name: str) -> None:
        if ws.node(name) is None:
            node = Node(id=name, name=name, kind="remote", index=len(ws.nodes))
            ws.nodes.append(node)

    def guest(element: etree._Element) -> None:
        if element.tag != "primitive":
            return
        meta = _guest_meta(element)
        name = meta.get("remote-node")
        if not name or name in configured:
            return
        configured.add(name)
        extra.append(connection_xml(name, element.get("id", ""), meta))
        add_node(name)

    for element in resources:
        if not isinstance(element.tag, str):
            continue
        if is_connection_xml(element) and element.tag == "primitive":
            add_node(element.get("id", ""))
        elif element.tag == "primitive":
            guest(element)
        elif element.tag == "group":
            for child in element:
                if isinstance(child.tag, str):
                    guest(child)
        elif element.tag == "bundle":
            from hactl.core.scheduler.bundle import guest_names

            for name in guest_names(element):
                add_node(name)
    return extra


def link(unpacker: Unpacker) -> None:
    """Resolve launchers (meta `container`) and tie each connection to its node."""
    from hactl.core.scheduler.unpack import is_true

    ws = unpacker.ws
    startup_fencing = ws.fencing_enabled and is_true(ws.options.get("startup-fencing"), True)
    for rsc in ws.all_resources():
        if not rsc.is_primitive:
            continue
        launcher_id = rsc.meta.get("container")
        if launcher_id and launcher_id != rsc.id:
            launcher = ws.by_id.get(launcher_id)
            if launcher is not None:
                rsc.launcher = launcher
                launcher.launched.append(rsc)
        if not rsc.is_remote_connection:
            continue
        node = ws.node(rsc.id)
        if node is None:
            continue
        node.remote_rsc = rsc
        if rsc.launcher is None:
            # start-up fencing applies to remote nodes as to cluster nodes
            node.unclean = startup_fencing
            node.fence_reason = STARTUP_REASON if startup_fencing else ""
        else:
            node.attrs["#kind"] = "container"


def removed_connection(unpacker: Unpacker, rsc: Resource) -> None:
    """A connection no longer configured still names its node, which shuts down."""
    from hactl.core.scheduler.unpack import is_true

    ws = unpacker.ws
    node = ws.node(rsc.id)
    if node is None:
        node = Node(id=rsc.id, name=rsc.id, kind="remote", index=len(ws.nodes))
        ws.nodes.append(node)
        unpacker.node_base_attrs(node)
    node.remote_rsc = rsc
    if is_true(ws.options.get("startup-fencing"), True) and ws.fencing_enabled:
        node.unclean = True
        node.fence_reason = node.fence_reason or STARTUP_REASON
    node.shutdown = True


def guest_usable(node: Node) -> bool:
    """A guest node counts as available only if its launcher is placed somewhere
    (pcmk__node_available with consider_guest)."""
    if not node.is_guest:
        return True
    connection = node.remote_rsc
    launcher = connection.launcher if connection is not None else None
    return launcher is None or launcher.assigned is not None


def guest_node_of(ws: WorkingSet, rsc: Resource) -> Node | None:
    """The guest node a launcher resource runs, if any."""
    for launched in rsc.launched:
        if launched.is_remote_connection:
            return ws.node(launched.id)
    return None


def history_ready(node: Node, shutdown_lock: bool) -> bool:
    """A remote node's history is read once its connection (and launcher) is known up."""
    rsc = node.remote_rsc
    if rsc is None:
        return False
    if rsc.launcher is not None:
        return rsc.role == Role.STARTED and rsc.launcher.role == Role.STARTED
    return shutdown_lock or rsc.role == Role.STARTED


def determine_online(node: Node) -> None:
    """A remote node is online while its connection runs (unpack.c's remote online status)."""
    rsc = node.remote_rsc
    if rsc is None:
        node.online = False
        return
    launcher = rsc.launcher
    host = rsc.running_on[0] if launcher is not None and len(rsc.running_on) == 1 else None
    started = rsc.role == Role.STARTED and bool(rsc.running_on)
    if started:
        node.online = True
        if rsc.target_role == Role.STOPPED:
            node.shutdown = True
    if launcher is not None and launcher.failed:
        node.online = False
        node.remote_reset = True
    elif rsc.failed:
        node.online = False
    elif not started or (launcher is not None and not launcher.running_on):
        node.online = False
        node.remote_reset = False
    elif host is not None and not host.online and host.unclean:
        node.online = False
        node.remote_reset = True


def unpack_state(unpacker: Unpacker, node: Node, state: etree._Element) -> None:
    """A remote node's own state entry: attributes, standby, maintenance, shutdown."""
    from hactl.core.scheduler.unpack import is_true, nvpairs

    determine_online(node)
    if not node.remote_reset:
        node.unclean = False
        node.fence_reason = ""
        node.unseen = False
    transient = state.find("transient_attributes")
    if transient is not None:
        node.attrs.update(nvpairs(transient, "instance_attributes", {}, unpacker.now))
    if node.attrs.get("shutdown", "0") not in ("0", ""):
        node.shutdown = True
    if is_true(node.attrs.get("standby"), False):
        node.standby = True
    rsc = node.remote_rsc
    in_maintenance = state.get("node_in_maintenance", "0") not in ("0", "")
    if (
        is_true(node.attrs.get("maintenance"), False)
        or in_maintenance
        or (rsc is not None and not rsc.managed)
    ):
        node.maintenance = True
    discovery = node.attrs.get("resource-discovery-enabled")
    if discovery is not None and not is_true(discovery):
        if node.is_guest or unpacker.ws.fencing_enabled:
            node.attrs["#probes-disallowed"] = "true"


def number_fencing(ws: WorkingSet, node: Node) -> None:
    """Record that fencing of node is decided now (see Node.fence_sequence)."""
    if not node.fence_sequence:
        node.fence_sequence = 1 + max(n.fence_sequence for n in ws.nodes)


def fence(ws: WorkingSet, node: Node, reason: str) -> None:
    """pe_fence_node for remote and guest nodes."""
    rsc = node.remote_rsc
    if node.is_guest:
        assert rsc is not None and rsc.launcher is not None
        launcher = rsc.launcher
        if not launcher.failed and launcher.managed:
            # the node stays usable: recovering the launcher is the fencing
            node.remote_reset = True
            node.fence_reason = node.fence_reason or reason
            launcher.failed = True
        return
    if rsc is not None and not rsc.managed:
        return
    node.remote_reset = True
    if not node.fence_reason or node.fence_reason == STARTUP_REASON:
        # the first reason given is the fencing's (start-up fencing gives none)
        node.fence_reason = reason
    node.unclean = True
    number_fencing(ws, node)


def after_history(ws: WorkingSet, rsc: Resource, node: Node) -> None:
    """What a resource's history on a node means for remote nodes."""
    if node.is_remote and node in rsc.running_on:
        active_on_offline(ws, rsc, node)
    if rsc.is_remote_connection and rsc.failed:
        # a failed connection fences its unclean node even if it reconnects now
        remote_node = ws.node(rsc.id)
        if remote_node is not None and remote_node.unclean:
            remote_node.unseen = False


def active_on_offline(ws: WorkingSet, rsc: Resource, node: Node) -> None:
    """A managed resource believed active on a remote node that is down: fence the node."""
    if node.online or node.maintenance or not rsc.managed:
        return
    if node.is_guest:
        rsc.failed = True
        if node not in rsc.failed_nodes:
            rsc.failed_nodes.append(node)
        fence(ws, node, f"{rsc.id} is thought to be active there")
        return
    if not ws.fencing_enabled:
        return
    reason = f"{rsc.id} is thought to be active there"
    connection = node.remote_rsc
    if connection is not None and not connection.failed:
        # revoked if the connection can be re-established elsewhere
        node.unseen = True
        reason = (
            f"{rsc.id} is active there (fencing will be revoked if remote connection "
            "can be re-established elsewhere)"
        )
    fence(ws, node, reason)


def default_on_fail(ws: WorkingSet, rsc: Resource, task: str, interval_ms: int) -> str | None:
    """on-fail defaults particular to connections and launched resources (None: usual)."""
    if rsc.launcher is not None:
        return "restart-container"
    if rsc.is_remote_connection and (task, interval_ms) != ("monitor", 0) and task != "start":
        node = ws.node(rsc.id)
        if node is not None and node.remote_rsc is rsc and rsc.launcher is None:
            return "reset-remote" if rsc.managed else "stop"
    return None


def apply_reset_remote(ws: WorkingSet, rsc: Resource) -> None:
    """A connection failed in a way that drops it: its remote node is fenced."""
    if ws.fencing_enabled and rsc.is_remote_connection:
        node = ws.node(rsc.id)
        if node is not None and node.is_remote and not node.is_guest:
            if not node.remote_fenced:
                fence(ws, node, "remote connection is unrecoverable")
    if reconnect_ms(rsc) > 0:
        # the connection stays down until the reconnect interval has passed
        rsc.meta["__forced_stop"] = "remote reset"


def reconnect_ms(rsc: Resource) -> int:
    """A connection's reconnect_interval (an instance attribute), in milliseconds."""
    from hactl.core.scheduler.unpack import parse_interval_ms

    return parse_interval_ms(rsc.params.get("reconnect_interval", ""))


def finish_status(unpacker: Unpacker, unpacked: set[int]) -> None:
    """After all histories: connections of shutting-down nodes stop; nodes without history
    get their online status from their connection."""
    for node in unpacker.ws.nodes:
        if not node.is_remote:
            continue
        if node.shutdown and node.remote_rsc is not None:
            node.remote_rsc.meta["__forced_stop"] = "remote shutdown"
        if id(node) not in unpacked:
            determine_online(node)


class ConnectionState(enum.Enum):
    UNKNOWN = "unknown"
    ALIVE = "alive"
    RESTING = "resting"
    FAILED = "failed"
    STOPPED = "stopped"


def connection_state(node: Node) -> ConnectionState:
    """Whether actions can go through a remote node's connection in this transition."""
    rsc = node.remote_rsc
    assert rsc is not None
    cluster_node = rsc.running_on[0] if rsc.running_on else None
    if rsc.next_role == Role.STOPPED or rsc.assigned is None:
        if cluster_node is not None and cluster_node.unclean:
            return ConnectionState.FAILED
        if not rsc.failed:
            return ConnectionState.STOPPED
        if (
            rsc.next_role == Role.STOPPED
            and reconnect_ms(rsc) > 0
            and node.remote_fenced
            and not node.shutdown
        ):
            return ConnectionState.UNKNOWN
        return ConnectionState.FAILED
    if cluster_node is None:
        return ConnectionState.UNKNOWN
    if cluster_node.unclean or not cluster_node.online:
        return ConnectionState.RESTING
    return ConnectionState.ALIVE


def connection_assigned(ws: WorkingSet, rsc: Resource) -> None:
    """Once its connection is placed, a remote node will be up (or will shut down)."""
    node = ws.node(rsc.id)
    if node is None or node.remote_rsc is not rsc:
        return
    if rsc.assigned is not None and rsc.next_role != Role.STOPPED:
        node.online = True
        if node.unseen:
            # no need to fence: the connection will be attempted
            node.unclean = False
    else:
        node.shutdown = True


#: actions on a remote node that go through its connection's current host when the
#: connection moves: they must be done before the connection leaves it
_BEFORE_CONNECTION_MOVES = frozenset({"cancel", "stop", "demote", "migrate_from", "migrate_to"})
_NOTIFIED_TASK = re.compile(r"_notify_([a-z_]+)_0$")


def router_node(act: Action) -> Node | None:
    """The cluster node that carries out an action on a remote or guest node, through the
    connection it hosts (Pacemaker's pcmk__connection_host_for_action): where the connection
    runs, or where it is to run; when the connection moves, what must happen before it
    leaves (stops, demotions, migrations, cancels) goes through its current host, the rest
    through the new one (all through the new one while a remote connection's partial
    migration completes)."""
    from hactl.core.scheduler.actions import Builder

    node = act.node
    if act.task == "stonith" or node is None or node.remote_rsc is None:
        return None
    connection = node.remote_rsc
    began_on = Builder.current_node(connection)
    ended_on = connection.assigned
    if began_on is None or ended_on is None or began_on is ended_on:
        return began_on or ended_on
    task = act.task
    if task == "notify":
        found = _NOTIFIED_TASK.search(act.key)
        task = found.group(1) if found else task
    partial_migration = connection.launcher is None and "__partial_target" in connection.meta
    if task in _BEFORE_CONNECTION_MOVES and not partial_migration:
        return began_on
    return ended_on


def avoid_remote_nodes(ws: WorkingSet, rsc: Resource) -> None:
    """Connections and fence devices never run on remote nodes (nor guests' launchers)."""
    if rsc.allowed is None:
        return
    for node in ws.nodes:
        if node.remote_rsc is not None and node.name in rsc.allowed:
            rsc.allowed[node.name] = -INFINITY


def internal_constraints(ws: WorkingSet) -> None:
    """Placement rules of connections, fence devices and launched resources
    (pcmk__primitive_internal_constraints): bans from remote nodes, colocation with the
    launcher. The orderings that go with them are made with the actions."""
    from hactl.core.scheduler.model import Colocation

    for rsc in ws.all_resources():
        if not rsc.is_primitive or not rsc.managed:
            continue
        launcher = rsc.launcher
        if rsc.is_remote_connection and launcher is not None and rsc.allowed is not None:
            # a guest's connection may go wherever its launcher can, even in an
            # asymmetric cluster
            for node in ws.nodes:
                rsc.allowed.setdefault(node.name, 0)
        if launcher is not None:
            host = launcher if launcher.is_remote_connection else None
            if rsc.is_remote_connection:
                if rsc.parent is None or rsc.parent.kind != "bundle":
                    # guests are not nested in remote nodes (bundles may be)
                    avoid_remote_nodes(ws, launcher)
                host = None
            elif host is None:
                guest = guest_node_of(ws, launcher)
                host = guest.remote_rsc if guest is not None else None
            if host is not None:
                # meant to run on that remote node, not beside its launcher
                for node in ws.nodes:
                    if node.remote_rsc is not host and rsc.allowed is not None:
                        if node.name in rsc.allowed:
                            rsc.allowed[node.name] = -INFINITY
            else:
                # a bundle's connection only prefers its container's host (bundles nest)
                nested = rsc.parent is not None and rsc.parent.kind == "bundle"
                score = 10000 if nested else INFINITY
                ws.colocations.append(Colocation("#resource-with-container", rsc, launcher, score))
        if rsc.is_remote_connection or rsc.agent_class == "stonith":
            avoid_remote_nodes(ws, rsc)


# -- actions ---------------------------------------------------------------------------


class RemoteActions:
    """The transition's parts particular to remote and guest nodes, for actions.Builder."""

    def __init__(self, builder: Builder):
        self.b = builder
        self.ws = builder.ws
        #: resource-level orderings found while probing, linked once the actions exist
        self.pending_links: list[tuple[Resource, str, Resource, str]] = []

    def start_of(self, rsc: Resource) -> list[Action]:
        """rsc's starts, or Pacemaker's stand-in: optional, on no node (so unrunnable)."""
        found = self.b.find(rsc, "start")
        if not found and not rsc.managed and rsc.running_on:
            # an unmanaged resource keeps an optional start where it runs
            found = [self.b.action(rsc, "start", rsc.running_on[0], optional=True)]
        if not found:
            act = self.b.action(rsc, "start", None, optional=True)
            act.runnable = False
            found = [act]
        return found

    def _link(
        self, first: Resource, first_task: str, then: Resource, then_task: str, flags: int
    ) -> None:
        """A resource-level ordering, as a constraint's would be."""
        if first_task == "start" and first.is_primitive:
            firsts = self.start_of(first)
        else:
            firsts = self.b.first_actions(first, first_task, done=True)
        self.b.link_after(firsts, first, first_task, then, then_task, flags)

    def order_start_then(self, rsc: Resource, then: Action, extra: int) -> None:
        """The connection (or launcher) is up before `then` runs."""
        from hactl.core.scheduler.actions import ORDERED, UNRUNNABLE_FIRST_BLOCKS

        for start in self.start_of(rsc):
            self.b.order(start, then, ORDERED | UNRUNNABLE_FIRST_BLOCKS | extra)

    def order_then_stop(self, first: Action, rsc: Resource, extra: int) -> None:
        """`first` is done before the connection goes down."""
        from hactl.core.scheduler.actions import ORDERED

        for stop in self.b.find(rsc, "stop"):
            self.b.order(first, stop, ORDERED | extra)

    # -- fencing ---------------------------------------------------------------------

    def fence_unrecoverable(self) -> None:
        """Remote nodes whose connection cannot be recovered are fenced: offline ones when
        probes are scheduled (by name), the others when their actions are ordered against
        the connection (Pacemaker visits the newest actions first)."""
        failed = [
            n
            for n in sorted(self.ws.nodes, key=lambda n: n.name)
            if n.is_remote
            and not n.is_guest
            and n.remote_rsc is not None
            and connection_state(n) == ConnectionState.FAILED
        ]
        for node in failed:
            if not node.online:
                fence(self.ws, node, "the connection is unrecoverable")
        prims = [p for r in self.ws.resources for p in r.primitives()]
        for prim in reversed(prims):
            for node in prim.running_on:
                if node in failed and prim.managed:
                    fence(self.ws, node, "resources are active but connection is unrecoverable")
        for node in failed:
            if any(node.name not in p.known_on and not p.orphan for p in prims):
                fence(
                    self.ws,
                    node,
                    "resources are in unknown state and connection is unrecoverable",
                )

    def can_fence_guest(self, node: Node) -> bool:
        """A guest is fenced by stopping its launcher: possible if the launcher's hosts are
        up or can be fenced."""
        rsc = node.remote_rsc
        assert rsc is not None and rsc.launcher is not None
        for host in rsc.launcher.running_on:
            if not host.online and not self.b.can_fence():
                return False
        return True

    def fence_guests(self) -> None:
        """pcmk__fence_guest: a pseudo fencing of a guest whose launcher is recovered."""
        from hactl.core.scheduler.actions import (
            FIRST_IMPLIES_THEN,
            ORDERED,
            UNRUNNABLE_FIRST_BLOCKS,
        )

        if not self.b._any_managed():
            return
        for node in self.ws.nodes:
            if not node.is_guest or not node.remote_reset or not self.can_fence_guest(node):
                continue
            connection = node.remote_rsc
            assert connection is not None and connection.launcher is not None
            launcher = connection.launcher
            stops = self.b.find(launcher, "stop")
            stop = next((a for a in stops if not a.optional), stops[0] if stops else None)
            # "reboot" when the launcher is to run again, else "off" (just a label)
            starts = [a for a in self.b.find(launcher, "start") if a.node is not None]
            action = "reboot" if starts else "off"
            fencing = self.b.action(
                None,
                "stonith",
                node,
                optional=False,
                pseudo=True,
                key=f"stonith-{node.name}-{action}",
            )
            fencing.meta["stonith_action"] = action
            fencing.meta["guest_launcher"] = launcher.id
            fencing.reason = "guest is unclean"
            self.b.stonith_by_node[node.name] = fencing
            if stop is not None and stop.pseudo and stop.node is not None:
                host_fencing = self.b.stonith_by_node.get(stop.node.name)
                if host_fencing is not None:
                    self.b.order(
                        host_fencing, fencing, UNRUNNABLE_FIRST_BLOCKS | FIRST_IMPLIES_THEN
                    )
            elif stop is not None:
                self.b.order(stop, fencing, UNRUNNABLE_FIRST_BLOCKS | FIRST_IMPLIES_THEN)
            else:
                for conn_stop in self.b.find(connection, "stop"):
                    self.b.order(conn_stop, fencing, ORDERED)
                    break
            self.imply_stops(node, fencing)

    def imply_stops(self, node: Node, fencing: Action) -> None:
        """What ran on a fenced guest is stopped (and demoted) by the fencing itself."""
        from hactl.core.scheduler.actions import ORDERED

        for rsc in self.ws.all_resources():
            if not rsc.is_primitive:
                continue
            for act in rsc.actions:
                if act.node is not node or act.task not in ("stop", "demote"):
                    continue
                act.pseudo = True
                act.runnable = True
                self.b.order(fencing, act, ORDERED)
                top = rsc.top
                if act.task == "stop" and top is not rsc:
                    for parent_stop in top.actions:
                        if parent_stop.task == "stop" and parent_stop.pseudo:
                            self.b.order(fencing, parent_stop, ORDERED)
                            break

    # -- orderings -------------------------------------------------------------------

    def launcher_orderings(self) -> None:
        """A launched resource starts after its launcher and stops before it; a guest's
        connection stops after the launcher's probes."""
        from hactl.core.scheduler.actions import (
            FIRST_IMPLIES_THEN,
            ORDERED,
            THEN_IMPLIES_FIRST,
            UNRUNNABLE_FIRST_BLOCKS,
        )

        for rsc in self.ws.all_resources():
            launcher = rsc.launcher
            if not rsc.is_primitive or launcher is None or not rsc.managed:
                continue
            if rsc.is_remote_connection:
                for probe in launcher.actions:
                    if probe.task == "monitor" and probe.interval_ms == 0:
                        for stop in self.b.find(rsc, "stop"):
                            self.b.order(probe, stop, ORDERED)
            elif launcher.is_remote_connection or guest_node_of(self.ws, launcher) is not None:
                continue
            self._link(
                launcher,
                "start",
                rsc,
                "start",
                ORDERED | FIRST_IMPLIES_THEN | UNRUNNABLE_FIRST_BLOCKS,
            )
            self._link(rsc, "stop", launcher, "stop", ORDERED | THEN_IMPLIES_FIRST)
        for first, first_task, then, then_task in self.pending_links:
            if first_task == "monitor":
                probes = [a for a in first.actions if a.task == "monitor" and not a.interval_ms]
                self.b.link_after(probes, first, first_task, then, then_task, ORDERED)
            else:
                self._link(first, first_task, then, then_task, ORDERED)

    def connection_orderings(self) -> None:
        """pcmk__order_remote_connection_actions: actions on remote nodes happen while the
        connection is up."""
        from hactl.core.scheduler.actions import ORDERED

        for act in list(self.ws.actions):
            rsc = act.rsc
            if rsc is None:
                continue
            if rsc.is_remote_connection and act.task == "clear_failcount":
                for start in self.b.find(rsc, "start"):
                    self.b.order(act, start, ORDERED)
                continue
            node = act.node
            if node is None or not node.is_remote or act.pseudo or node.remote_rsc is None:
                continue
            connection = node.remote_rsc
            if act.task == "start":
                # a resource moving to a remote node leaves its old node once connected
                for other in rsc.actions:
                    if other.task == "stop" and other.node is not node:
                        for start in self.start_of(connection):
                            self.b.order(start, other, ORDERED)
            if connection.launcher is not None:
                self.guest_ordering(act, connection)
            else:
                self.remote_ordering(act, connection)

    def remote_ordering(self, act: Action, connection: Resource) -> None:
        from hactl.core.scheduler.actions import (
            FIRST_IMPLIES_THEN,
            THEN_IMPLIES_FIRST,
            UNRUNNABLE_FIRST_BLOCKS,
        )

        assert act.node is not None
        state = connection_state(act.node)
        task = act.task
        if task in ("migrate_to", "migrate_from"):
            task = "stop"
        if task in ("start", "promote"):
            extra = FIRST_IMPLIES_THEN if state == ConnectionState.FAILED else 0
            self.order_start_then(connection, act, extra)
        elif task == "stop":
            if state == ConnectionState.ALIVE:
                self.order_then_stop(act, connection, THEN_IMPLIES_FIRST)
            elif state == ConnectionState.FAILED:
                pass  # fencing stops it
            elif connection.next_role == Role.STOPPED:
                self.order_then_stop(act, connection, THEN_IMPLIES_FIRST)
            else:
                self.order_start_then(connection, act, 0)
        elif task == "demote":
            if state in (ConnectionState.RESTING, ConnectionState.UNKNOWN):
                self.order_start_then(connection, act, 0)
        elif act.interval_ms > 0 and task not in ("cancel",):
            self.order_start_then(connection, act, FIRST_IMPLIES_THEN)
        else:
            if connection.running_on and state == ConnectionState.STOPPED:
                self.order_then_stop(act, connection, UNRUNNABLE_FIRST_BLOCKS)
            else:
                self.order_start_then(connection, act, 0)

    def guest_ordering(self, act: Action, connection: Resource) -> None:
        from hactl.core.scheduler.actions import FIRST_IMPLIES_THEN

        launcher = connection.launcher
        assert launcher is not None
        task = act.task
        if task in ("migrate_to", "migrate_from"):
            task = "stop"
        if task in ("start", "promote"):
            self.order_start_then(launcher, act, FIRST_IMPLIES_THEN)
            self.order_start_then(connection, act, 0)
        elif task in ("stop", "demote"):
            if not launcher.failed:
                self.order_then_stop(act, connection, 0)
        elif act.interval_ms > 0:
            # a recurring action waits for the connection, except one of no known task (a
            # cancel), which Pacemaker's apply_launcher_ordering leaves unordered
            if task != "cancel":
                self.order_start_then(connection, act, FIRST_IMPLIES_THEN)
        else:
            self.order_start_then(connection, act, 0)

    # -- probes ----------------------------------------------------------------------

    def probe_allowed(self, rsc: Resource, node: Node) -> bool:
        """Whether rsc may be probed on node as far as remote rules go; also orders the
        start after a guest's launcher where a probe is pointless."""
        if node.is_remote:
            if rsc.agent_class == "stonith" or rsc.is_remote_connection:
                return False
            from hactl.core.scheduler.bundle import bundle_of, replica_instance

            connection = node.remote_rsc
            if connection is not None and bundle_of(connection) is not None:
                # a bundle's guest node runs its replica's instance only
                base = rsc.meta.get("__base", rsc.id)
                if replica_instance(self.ws, node, base) is not rsc:
                    return False
            # guest nodes cannot run what launches a guest node (a bundle's containers
            # included: Pacemaker asks at each level of the resource tree)
            if node.is_guest and any(
                guest_node_of(self.ws, level) is not None for level in (rsc, rsc.top)
            ):
                return False
            if node.attrs.get("#probes-disallowed") == "true":
                return False
        if rsc.launcher is not None and not rsc.is_remote_connection:
            return False
        if node.is_guest:
            connection = node.remote_rsc
            assert connection is not None and connection.launcher is not None
            launcher = connection.launcher
            top = rsc.top
            if not launcher.running_on:
                # the guest is down: nothing can be active there, once the launcher's own
                # state is known where it is to run
                target = launcher.assigned
                if target is not None and target.name not in launcher.known_on:
                    self.pending_links.append((launcher, "monitor", top, "start"))
                return False
            if self.guest_will_stop(node):
                self.pending_links.append((launcher, "stop", top, "start"))
                return False
        return True

    @staticmethod
    def guest_will_stop(node: Node) -> bool:
        connection = node.remote_rsc
        assert connection is not None and connection.launcher is not None
        launcher = connection.launcher
        target = launcher.assigned
        return (
            node.remote_reset
            or launcher.failed
            or launcher.next_role == Role.STOPPED
            or (
                bool(launcher.running_on)
                and target is not None
                and target not in launcher.running_on
            )
        )

    # -- notifications ---------------------------------------------------------------

    def notify_after_fencing(self) -> None:
        """pe__order_notifs_after_fencing: an instance of a notifying clone stopped by
        fencing has its stop announced to the instances that stay, after the fencing."""
        from hactl.core.scheduler.actions import FIRST_IMPLIES_THEN, ORDERED

        for fencing in [a for a in self.ws.actions if a.task == "stonith" and a.node]:
            node = fencing.node
            for prim in [p for r in self.ws.resources for p in r.primitives()]:
                clone = prim.clone_parent()
                if clone is None or not clone.notify or node not in prim.running_on:
                    continue
                stop = next(
                    (a for a in self.b.find(prim, "stop", node) if a.pseudo and not a.optional),
                    None,
                )
                if stop is None:
                    continue
                rid = prim.history_id
                post = self.b.action(
                    prim,
                    "notify",
                    None,
                    pseudo=True,
                    optional=fencing.optional,
                    key=f"{rid}_post_notify_stonith_0",
                )
                post.meta["__executed_key"] = f"{rid}_post_notify_stop_0"
                done = self.b.action(
                    prim,
                    "notified",
                    None,
                    pseudo=True,
                    optional=fencing.optional,
                    key=f"{rid}_confirmed-post_notify_stonith_0",
                )
                done.meta["__executed_key"] = f"{rid}_notified_0"
                post.runnable = done.runnable = fencing.runnable
                self.b.order(fencing, post, ORDERED | FIRST_IMPLIES_THEN)
                self.b.order(post, done, ORDERED | FIRST_IMPLIES_THEN)
                for other in clone.primitives():
                    target = other.assigned
                    if (
                        other is prim
                        or target is None
                        or target not in other.running_on
                        or not target.online
                        or target.unclean
                    ):
                        continue
                    # the instance's own post-stop notification, named after the fencing
                    act = self.b.action(
                        other,
                        "notify",
                        target,
                        optional=post.optional,
                        key=f"{other.history_id}_post_notify_stop_0",
                    )
                    act.key = f"{other.history_id}_post_notify_stonith_0"
                    self.b.order(post, act, ORDERED)
                    self.b.order(act, done, ORDERED)
                    for mon in other.actions:
                        if mon.task == "monitor" and mon.interval_ms:
                            self.b.order(done, mon, ORDERED)
