"""Unfencing: fence devices that cut a node off its storage (fence_scsi, fence_mpath) must
let a node back in ("on") before it probes or starts what depends on them.

Unfencing is in use when a resource's meta attributes (or rsc_defaults) say provides=unfencing
or requires=unfencing; then a resource that states no `requires` requires unfencing. A node
is unfenced once ("#node-unfenced" records when); until then the unfencing is required before
a probe or start of a fence device or of a resource requiring unfencing (Pacemaker's
pcmk__order_vs_unfencing), and a resource requiring it stops before and starts after any
unfencing of its node (pcmk__order_restart_vs_unfence).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lxml import etree

from hactl.core.scheduler.model import Action, Node, Resource, WorkingSet

if TYPE_CHECKING:
    from hactl.core.scheduler.actions import Builder

_UNFENCING_NVPAIR = "nvpair[(@name='provides' or @name='requires') and @value='unfencing']"
_ENABLING = etree.XPath(
    f"resources//meta_attributes/{_UNFENCING_NVPAIR}"
    f" | rsc_defaults/meta_attributes/{_UNFENCING_NVPAIR}"
)
REQUIRES = ("nothing", "quorum", "fencing", "unfencing")
#: the node attribute the controller sets when it unfenced a node
UNFENCED_ATTRIBUTE = "#node-unfenced"


def enabled(configuration: etree._Element | None) -> bool:
    """Whether any resource (or the resource defaults) provides or requires unfencing."""
    return configuration is not None and bool(_ENABLING(configuration))


def requires(ws: WorkingSet, rsc: Resource, value: str | None) -> str:
    """What a primitive needs before it starts (Pacemaker's unpack_requires): fence devices
    and remote connections need only quorum; others by default unfencing when it is in use,
    else fencing when enabled, else nothing when quorum is ignored, else quorum. Unfencing
    asked of a fence device, or without fencing, falls back to quorum."""
    fence_device = rsc.agent_class.lower() == "stonith"
    wanted = (value or "").lower()
    if wanted == "unfencing" and (fence_device or not ws.fencing_enabled):
        return "quorum"
    if wanted in REQUIRES:
        return wanted
    if fence_device or rsc.is_remote_connection:
        return "quorum"
    if ws.unfencing_enabled:
        return "unfencing"
    if ws.fencing_enabled:
        return "fencing"
    return "nothing" if ws.no_quorum_policy == "ignore" else "quorum"


def node_unfenced(node: Node) -> bool:
    return node.attrs.get(UNFENCED_ATTRIBUTE, "0") != "0"


def _is_fence_device(rsc: Resource) -> bool:
    return rsc.agent_class.lower() == "stonith"


class Unfencing:
    """The unfencing actions of one transition, made and ordered through the action
    builder."""

    def __init__(self, builder: Builder):
        self.b = builder
        self.ws = builder.ws

    def action(self, node: Node) -> Action:
        """The node's unfencing (optional until something requires it), carrying the
        digests of the unfencing devices' definitions, which the controller records on the
        node once it is unfenced (Pacemaker's pe_fence_op)."""
        act = self.b.action(None, "stonith", node, key=f"stonith-{node.name}-on")
        if "stonith_action" not in act.meta:
            act.meta["stonith_action"] = "on"
            act.meta.update(self.device_digests(node))
        return act

    def device_digests(self, node: Node) -> dict[str, str]:
        """'id:agent:digest,' of each device that provides unfencing, newest first as
        Pacemaker lists them (find_unfencing_devices)."""
        from hactl.core.scheduler import digests

        all_parts: list[str] = []
        secure_parts: list[str] = []
        for rsc in reversed(self.ws.all_resources()):
            if not rsc.is_primitive or not _is_fence_device(rsc):
                continue
            if rsc.meta.get("provides", "").lower() != "unfencing":
                continue
            calculated = digests.calculate(self.ws, rsc, node, None, "stonith-on", 0)
            all_parts.append(f"{rsc.id}:{rsc.agent_type}:{calculated.all},")
            secure_parts.append(f"{rsc.id}:{rsc.agent_type}:{calculated.secure},")
        return {"digests_all": "".join(all_parts), "digests_secure": "".join(secure_parts)}

    def require(self, node: Node, reason: str) -> Action:
        """Unfencing required, if the node can be fenced at all (Pacemaker's pe_fence_op)."""
        from hactl.core.scheduler import history

        act = self.action(node)
        if history.can_fence(self.ws, node):
            act.optional = False
        act.reason = act.reason or reason
        return act

    def trigger(self, rsc: Resource | None, node: Node | None, reason: str) -> None:
        """Unfence a node (or, with no node, every node the fence device may run on) that is
        up, clean and staying (Pacemaker's trigger_unfencing); only fence devices' changes
        trigger it."""
        if not self.ws.unfencing_enabled or (rsc is not None and not _is_fence_device(rsc)):
            return
        if node is not None and node.online and not node.unclean and not node.shutdown:
            self.require(node, reason)
        elif rsc is not None:
            for name in rsc.allowed or {}:
                candidate = self.ws.node(name)
                if candidate is not None and candidate.online and not candidate.unclean:
                    if not candidate.shutdown:
                        self.require(candidate, reason)

    def needed_by(self, rsc: Resource) -> bool:
        return (_is_fence_device(rsc) and self.ws.unfencing_enabled) or rsc.requires == "unfencing"

    def order_before(self, rsc: Resource, node: Node, then: Action, flags: int) -> None:
        """A probe or start waits for the node's unfencing, which is required if the node
        was never unfenced (Pacemaker's pcmk__order_vs_unfencing)."""
        if not self.needed_by(rsc):
            return
        unfence = self.action(node)
        self._order_first(unfence, then, flags)
        if not node_unfenced(node):
            self.trigger(None, node, f"required by {rsc.id} {then.task}")

    def create_restart_actions(self) -> None:
        """Every node a resource requiring unfencing may run on gets an unfencing action to
        order its stops and starts around (made before the resources' own actions, as
        Pacemaker's internal constraints are)."""
        if not self.ws.unfencing_enabled:
            return
        for rsc in self.ws.all_resources():
            if self._restarts_around_unfencing(rsc):
                for node in self._allowed_nodes(rsc):
                    self.action(node)

    def order_all(self) -> None:
        """Order the probes, starts and stops of the transition against unfencing."""
        from hactl.core.scheduler.actions import (
            FIRST_IMPLIES_THEN,
            ORDERED,
            THEN_IMPLIES_FIRST,
        )

        if not self.ws.unfencing_enabled:
            return
        for probe in self.b.probe_actions:
            if probe.rsc is not None and probe.node is not None:
                self.order_before(probe.rsc, probe.node, probe, ORDERED)
        for rsc in self.ws.all_resources():
            if not rsc.is_primitive:
                continue
            for act in list(rsc.actions):
                if act.node is None or act.pseudo or act.interval_ms:
                    continue
                if act.task == "start":
                    self.order_before(rsc, act.node, act, FIRST_IMPLIES_THEN)
                elif act.task == "stop" and rsc.requires == "unfencing":
                    self.b.order(act, self.action(act.node), THEN_IMPLIES_FIRST)
            if self._restarts_around_unfencing(rsc):
                for node in self._allowed_nodes(rsc):
                    unfence = self.action(node)
                    for stop in self.b.find(rsc, "stop", node):
                        self.b.order(stop, unfence, ORDERED)
                    for start in self.b.find(rsc, "start", node):
                        self._order_first(unfence, start, FIRST_IMPLIES_THEN)

    def _order_first(self, unfence: Action, then: Action, flags: int) -> None:
        """Order, with the unfencing looked at before the action's other prerequisites: a
        start it requires is required because of it (as Pacemaker reports)."""
        self.b.order(unfence, then, flags)
        entry = next(e for e in then.before if e[0] is unfence)
        then.before.remove(entry)
        then.before.insert(0, entry)

    def _restarts_around_unfencing(self, rsc: Resource) -> bool:
        return (
            rsc.is_primitive
            and rsc.managed
            and not _is_fence_device(rsc)
            and rsc.requires == "unfencing"
        )

    def _allowed_nodes(self, rsc: Resource) -> list[Node]:
        names = sorted(rsc.allowed or {})
        return [node for node in (self.ws.node(name) for name in names) if node is not None]
