"""CIB XML -> WorkingSet: options, nodes, resources, constraints and the status section.

Pure: takes a parsed document and a time, returns the working set.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
from collections.abc import Iterable

from lxml import etree

from hactl.core.scheduler import (
    bundle,
    colocation_constraints,
    history,
    order_constraints,
    remote,
    rules,
    scores,
    shutdown_lock,
    unfencing,
)
from hactl.core.scheduler.history import list_sort
from hactl.core.scheduler.model import (
    HistoryEntry,
    Location,
    Node,
    Op,
    Resource,
    Role,
    Ticket,
    WorkingSet,
    parse_role,
)

INFINITY = scores.INFINITY


OCF_OK = 0
OCF_NOT_RUNNING = 7
OCF_RUNNING_PROMOTED = 8
OCF_FAILED_PROMOTED = 9
OCF_PENDING = 193


def is_true(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in ("true", "yes", "on", "1", "y")


@functools.cache  # a CIB writes the same few intervals thousands of times
def parse_interval_ms(text: str | None) -> int:
    """An interval as written in the CIB (`10s`, `5min`, `PT10S`, `1000ms`, plain seconds)."""
    if not text:
        return 0
    value = text.strip().lower()
    iso = re.fullmatch(r"p(?:t)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", value)
    if iso and value.startswith("p"):
        hours, minutes, seconds = (int(g) if g else 0 for g in iso.groups())
        return ((hours * 60 + minutes) * 60 + seconds) * 1000
    match = re.fullmatch(r"(\d+)\s*(ms|msec|us|usec|s|sec|m|min|h|hr)?", value)
    if not match:
        return 0
    number = int(match.group(1))
    unit = match.group(2) or "s"
    factor = {
        "ms": 1,
        "msec": 1,
        "us": 0.001,
        "usec": 0.001,
        "s": 1000,
        "sec": 1000,
        "m": 60000,
        "min": 60000,
        "h": 3600000,
        "hr": 3600000,
    }[unit]
    return int(number * factor)


def nvpairs(
    parent: etree._Element | None, tag: str, attrs: dict[str, str], now: dt.datetime
) -> dict[str, str]:
    """The name/value pairs of every `tag` block under parent whose rule (if any) holds.

    Earlier blocks win, as in Pacemaker (blocks are sorted by score; ties keep document order).
    """
    out: dict[str, str] = {}
    if parent is None:
        return out
    blocks = [b for b in parent if isinstance(b.tag, str) and b.tag == tag]
    blocks.sort(key=lambda b: -scores.parse(b.get("score"), 0))
    for block in blocks:
        rule = block.find("rule")
        if rule is not None and not rules.evaluate(rule, attrs, now):
            continue
        for pair in block.iter("nvpair"):
            name = pair.get("name")
            if name is not None and name not in out:
                out[name] = pair.get("value", "")
    return out


def _text_role(text: str | None) -> Role | None:
    return parse_role(text)


@dataclasses.dataclass
class _Definition:
    """What one resource element configures itself (meta attributes, parameters,
    utilization, and its operations, None without an operations block)."""

    meta: dict[str, str]
    params: dict[str, str]
    utilization: dict[str, int]
    ops: list[Op] | None


class Unpacker:
    def __init__(self, cib: etree._Element, now: dt.datetime):
        self.cib = cib
        self.now = now
        config = cib.find("configuration")
        self.config = config if config is not None else etree.Element("configuration")
        self.status = cib.find("status")
        self.id_index: dict[str, etree._Element] = {}
        self._instances: dict[str, list[Resource]] | None = None
        # each clone instance unpacks its template's element again: what an element
        # defines is read from the XML once (the dict keeps each element's proxy alive)
        self._definitions: dict[etree._Element, _Definition] = {}
        self.history: history.HistoryReader | None = None
        for element in cib.iter():
            if isinstance(element.tag, str):
                ident = element.get("id")
                if ident is not None and ident not in self.id_index:
                    self.id_index[ident] = element

    def resolve(self, element: etree._Element) -> etree._Element:
        """Follow id-ref (a reference to a block defined elsewhere)."""
        ref = element.get("id-ref")
        if ref is not None and ref in self.id_index:
            return self.id_index[ref]
        return element

    # -- options -------------------------------------------------------------

    def options(self) -> dict[str, str]:
        out: dict[str, str] = {}
        crm_config = self.config.find("crm_config")
        if crm_config is not None:
            out = nvpairs(crm_config, "cluster_property_set", {}, self.now)
        return out

    # -- entry point ---------------------------------------------------------

    def run(self, *, constraints: bool = True) -> WorkingSet:
        options = self.options()
        ws = WorkingSet(now=self.now, options=options, nodes=[], resources=[], by_id={})
        fencing = options.get("fencing-enabled", options.get("stonith-enabled"))
        ws.fencing_enabled = is_true(fencing, True)
        ws.unfencing_enabled = unfencing.enabled(self.config)
        ws.symmetric = is_true(options.get("symmetric-cluster"), True)
        ws.no_quorum_policy = options.get("no-quorum-policy", "stop").lower()
        ws.maintenance = is_true(options.get("maintenance-mode"), False)
        # Pacemaker 3 renamed these options (the old names still apply)
        removed = options.get("stop-removed-resources", options.get("stop-orphan-resources"))
        ws.stop_orphans = is_true(removed, True)
        cancel = options.get("cancel-removed-actions", options.get("stop-orphan-actions"))
        ws.stop_orphan_actions = is_true(cancel, True)
        ws.start_failure_fatal = is_true(options.get("start-failure-is-fatal"), True)
        ws.concurrent_fencing = is_true(options.get("concurrent-fencing"), True)
        ws.placement_strategy = options.get("placement-strategy", "default").lower()
        ws.stonith_action = options.get(
            "fencing-action", options.get("stonith-action", "reboot")
        ).lower()
        if ws.stonith_action == "poweroff":
            ws.stonith_action = "off"
        ws.have_quorum = is_true(self.cib.get("have-quorum"), False)
        if ws.no_quorum_policy == "suicide":
            ws.no_quorum_policy = "fence"
        self.ws = ws
        self.unpack_nodes()
        self.rsc_defaults = self.defaults("rsc_defaults")
        self.op_defaults = self.defaults("op_defaults")
        ws.op_defaults = self.op_defaults
        resources = self.config.find("resources")
        guest_connections = remote.create_nodes(self, resources)
        if resources is not None:
            for element in [*resources, *guest_connections]:
                rsc = self.unpack_resource(element, None)
                if rsc is not None:
                    ws.resources.append(rsc)
        remote.link(self)
        # known before the status is read: whether a failed stop can be fenced depends on it
        ws.have_fencing = is_true(options.get("have-watchdog"), False) or any(
            r.is_primitive and r.agent_class.lower() == "stonith" for r in ws.all_resources()
        )
        # Pacemaker keeps resources sorted by priority (highest first, stable)
        ws.resources.sort(key=lambda r: -r.priority)
        self.unpack_tickets()
        self.unpack_status()
        if constraints:
            self.unpack_constraints()
        return ws

    # -- nodes ---------------------------------------------------------------

    def unpack_nodes(self) -> None:
        ws = self.ws
        nodes = self.config.find("nodes")
        dc_uuid = self.cib.get("dc-uuid")
        if nodes is None:
            return
        for index, element in enumerate(nodes.findall("node")):
            kind = element.get("type", "member")
            if kind == "normal":
                kind = "member"
            node = Node(id=element.get("id", ""), name=element.get("uname", ""), kind=kind)
            node.index = index
            node.attrs = nvpairs(element, "instance_attributes", {}, self.now)
            node.utilization = {
                k: int(scores.parse(v))
                for k, v in nvpairs(element, "utilization", {}, self.now).items()
            }
            node.is_dc = node.id == dc_uuid
            # startup fencing: a node never seen is unclean until it shows up
            node.unclean = ws.fencing_enabled and is_true(ws.options.get("startup-fencing"), True)
            if node.unclean:
                node.fence_reason = "node is unclean"
            ws.nodes.append(node)
            if node.is_dc:
                ws.dc = node

    def node_base_attrs(self, node: Node) -> None:
        node.attrs.setdefault("#uname", node.name)
        node.attrs.setdefault("#id", node.id)
        node.attrs.setdefault("#kind", "cluster" if node.kind == "member" else node.kind)
        node.attrs["#is_dc"] = "true" if node.is_dc else "false"
        node.attrs.setdefault("#cluster-name", self.ws.options.get("cluster-name", ""))

    # -- defaults ------------------------------------------------------------

    def defaults(self, tag: str, attrs: dict[str, str] | None = None) -> dict[str, str]:
        block = self.config.find(tag)
        if block is None:
            return {}
        return nvpairs(block, "meta_attributes", attrs or {}, self.now)

    # -- resources -----------------------------------------------------------

    def definition(self, element: etree._Element) -> _Definition:
        """What a resource element itself configures, read from the XML once."""
        known = self._definitions.get(element)
        if known is not None:
            return known
        meta: dict[str, str] = {}
        for block in element.findall("meta_attributes"):
            block = self.resolve(block)
            for pair in block.iter("nvpair"):
                if pair.get("name") is not None and pair.get("name") not in meta:
                    meta[pair.get("name", "")] = pair.get("value", "")
        params: dict[str, str] = {}
        for block in element.findall("instance_attributes"):
            for pair in self.resolve(block).iter("nvpair"):
                params[pair.get("name", "")] = pair.get("value", "")
        util: dict[str, int] = {}
        for block in element.findall("utilization"):
            for pair in self.resolve(block).iter("nvpair"):
                util[pair.get("name", "")] = scores.parse(pair.get("value"))
        ops: list[Op] | None = None
        operations = element.find("operations")
        if operations is not None:
            ops = []
            for op in self.resolve(operations).findall("op"):
                op_meta = {p.get("name", ""): p.get("value", "") for p in op.iter("nvpair")}
                ops.append(
                    Op(
                        name=op.get("name", ""),
                        interval_ms=parse_interval_ms(op.get("interval")),
                        role=_text_role(op.get("role")),
                        on_fail=op.get("on-fail", op_meta.get("on-fail")),
                        enabled=is_true(op.get("enabled", op_meta.get("enabled")), True),
                        id=op.get("id", ""),
                    )
                )
        found = _Definition(meta=meta, params=params, utilization=util, ops=ops)
        self._definitions[element] = found
        return found

    def meta_of(self, element: etree._Element, inherited: dict[str, str]) -> dict[str, str]:
        meta = dict(inherited)
        # legacy: meta attributes written as instance attributes
        meta.update(self.definition(element).meta)
        return meta

    def unpack_resource(self, element: etree._Element, parent: Resource | None) -> Resource | None:
        tag = element.tag
        if not isinstance(tag, str):
            return None
        if tag == "template":
            return None
        if tag == "master":
            tag = "clone"
        if tag not in ("primitive", "group", "clone", "bundle"):
            return None
        ident = element.get("id", "")
        template: etree._Element | None = None
        if tag == "primitive" and element.get("template"):
            template = self.id_index.get(element.get("template", ""))
        if parent is None:
            agent = {
                "#rsc-class": element.get("class", ""),
                "#rsc-provider": element.get("provider", ""),
                "#rsc-type": element.get("type", ""),
            }
            inherited = self.defaults("rsc_defaults", agent)
        else:
            inherited = dict(parent.meta)
        if parent is not None:
            # not inherited by children
            for name in ("clone-max", "clone-node-max", "promoted-max", "promoted-node-max"):
                inherited.pop(name, None)
        meta = inherited
        if template is not None:
            meta = self.meta_of(template, meta)
        meta = self.meta_of(element, meta)
        rsc = Resource(id=ident, kind=tag, element=element, parent=parent, meta=meta)
        if element.tag == "master":
            rsc.meta.setdefault("promotable", "true")
        source = template if template is not None else element
        rsc.agent_class = element.get("class", source.get("class", ""))
        rsc.provider = element.get("provider", source.get("provider", ""))
        rsc.agent_type = element.get("type", source.get("type", ""))
        own = self.definition(element)
        shared = self.definition(template) if template is not None else None
        params: dict[str, str] = {}
        util: dict[str, int] = {}
        for holder in (shared, own):
            if holder is not None:
                params.update(holder.params)
                util.update(holder.utilization)
        rsc.params = params
        rsc.utilization = util
        self.configure(rsc)
        # a primitive's own operations replace its template's; each resource gets its own
        # Op objects, as actions may tell configured operations apart by identity
        ops = own.ops if own.ops is not None or shared is None else shared.ops
        rsc.ops.extend(dataclasses.replace(op) for op in ops or ())
        intervals = [op.interval_ms for op in rsc.ops if op.name == "monitor" and op.interval_ms]
        rsc.monitor_intervals = set(intervals)
        # monitors sharing an interval are a configuration error: none of them runs
        rsc.ops = [
            op
            for op in rsc.ops
            if not (op.name == "monitor" and op.interval_ms and intervals.count(op.interval_ms) > 1)
        ]
        self.ws.by_id[ident] = rsc
        if tag == "group":
            for child in element:
                sub = self.unpack_resource(child, rsc)
                if sub is not None:
                    rsc.children.append(sub)
        elif tag == "clone":
            self.unpack_clone(rsc, element)
        elif tag == "bundle":
            bundle.expand(self, rsc, element)
        return rsc

    def configure(self, rsc: Resource) -> None:
        meta = rsc.meta
        ws = self.ws
        rsc.priority = scores.parse(meta.get("priority"), 0)
        stickiness = meta.get("resource-stickiness", meta.get("default-resource-stickiness"))
        default_stickiness = 1 if rsc.kind == "clone" else 0
        rsc.stickiness = scores.parse(stickiness, default_stickiness)
        threshold = meta.get("migration-threshold")
        rsc.migration_threshold = scores.parse(threshold, INFINITY) if threshold else INFINITY
        rsc.failure_timeout = parse_interval_ms(meta.get("failure-timeout")) // 1000
        rsc.managed = is_true(meta.get("is-managed"), True)
        # cluster-wide maintenance-mode puts every resource in maintenance, as Pacemaker does
        rsc.maintenance = is_true(meta.get("maintenance"), False) or ws.maintenance
        if ws.maintenance or rsc.maintenance:
            rsc.managed = False
        target = _text_role(meta.get("target-role"))
        rsc.target_role = target if target is not None else Role.STARTED
        rsc.multiple_active = meta.get("multiple-active", "stop_start")
        rsc.allow_migrate = is_true(meta.get("allow-migrate"), False)
        rsc.globally_unique = is_true(meta.get("globally-unique"), False)
        rsc.promotable = is_true(meta.get("promotable"), False)
        rsc.interleave = is_true(meta.get("interleave"), False)
        rsc.ordered = is_true(meta.get("ordered"), False)
        rsc.notify = is_true(meta.get("notify"), False)
        rsc.critical = is_true(meta.get("critical"), True)
        rsc.is_remote_connection = rsc.kind == "primitive" and remote.is_connection_xml(rsc.element)
        if rsc.is_remote_connection and remote.reconnect_ms(rsc) > 0:
            # the reconnect delay works as the failure timeout (Pacemaker's
            # pe__unpack_resource): the connection waits until its failure expires
            rsc.failure_timeout = remote.reconnect_ms(rsc) // 1000
        if rsc.is_remote_connection and "allow-migrate" not in meta and "container" not in meta:
            # remote connections move without stopping what runs behind them
            rsc.allow_migrate = True
        rsc.requires = unfencing.requires(ws, rsc, meta.get("requires"))

    def unpack_clone(self, clone: Resource, element: etree._Element) -> None:
        meta = clone.meta
        online = len(self.ws.nodes)
        clone.clone_max = scores.parse(meta.get("clone-max"), online)
        clone.clone_node_max = scores.parse(meta.get("clone-node-max"), 1)
        clone.promoted_max = scores.parse(meta.get("promoted-max", meta.get("master-max")), 1)
        if "globally-unique" not in meta and clone.clone_node_max > 1:
            # more than one instance per node only makes sense for distinct instances
            clone.globally_unique = True
        clone.promoted_node_max = scores.parse(
            meta.get("promoted-node-max", meta.get("master-node-max")), 1
        )
        # clone instances are sticky (1) unless configured otherwise
        clone.meta.setdefault("resource-stickiness", "1")
        template = clone_template(element)
        if template is None:
            return
        if clone.globally_unique and not _unique_capable(template):
            # Pacemaker's pe__force_anon: agents of a class without distinct instances
            # (lsb, systemd, service) make the clone anonymous, one instance per node
            clone.globally_unique = False
            clone.meta["globally-unique"] = "false"
            clone.clone_node_max = 1
            clone.clone_max = min(clone.clone_max, online)
        for number in range(clone.clone_max):
            self.add_instance(clone, template, number)

    def add_instance(self, clone: Resource, template: etree._Element, number: int) -> Resource:
        instance = self.unpack_resource(template, clone)
        assert instance is not None
        self.rename_instance(instance, f":{number}")
        clone.children.append(instance)
        return instance

    def rename_instance(self, rsc: Resource, suffix: str) -> None:
        base = rsc.id
        if self.ws.by_id.get(base) is rsc:
            del self.ws.by_id[base]
        rsc.meta["__base"] = base
        rsc.id = base + suffix
        self.ws.by_id[rsc.id] = rsc
        for child in rsc.children:
            self.rename_instance(child, suffix)

    # -- tickets ---------------------------------------------------------------

    def unpack_tickets(self) -> None:
        if self.status is None:
            return
        tickets = self.status.find("tickets")
        if tickets is None:
            return
        for state in tickets.iter("ticket_state"):
            ticket = Ticket(
                id=state.get("id", ""),
                granted=is_true(state.get("granted")),
                standby=is_true(state.get("standby")),
            )
            self.ws.tickets[ticket.id] = ticket

    # -- status ---------------------------------------------------------------

    def unpack_status(self) -> None:
        ws = self.ws
        states: dict[str, etree._Element] = {}
        state: etree._Element | None
        if self.status is not None:
            for state in self.status.findall("node_state"):
                states.setdefault(state.get("id", ""), state)
        for node in ws.nodes:
            state = states.get(node.id)
            if node.is_remote:
                # attributes and online status come once the connection is known
                self.node_base_attrs(node)
                if state is not None:
                    node.remote_fenced = state.get("node_fenced", "0") not in ("0", "")
                continue
            if state is not None:
                transient = state.find("transient_attributes")
                if transient is not None:
                    node.attrs.update(nvpairs(transient, "instance_attributes", {}, self.now))
            self.node_base_attrs(node)
            node.standby = is_true(node.attrs.get("standby"), False)
            node.maintenance = is_true(node.attrs.get("maintenance"), False)
            if state is None:
                continue
            node.unseen = False
            self.determine_online(node, state)
        # histories are read in the status section's order (it decides clone numbering),
        # a remote node's once its connection is known to be up: pass after pass
        shutdown_lock = is_true(ws.options.get("shutdown-lock"), False)

        def entries() -> list[tuple[Node, etree._Element]]:
            # again each pass: a removed remote connection found in a history adds its node
            by_id = {n.id: n for n in ws.nodes}
            by_name = {n.name: n for n in ws.nodes}
            found = [
                (by_id.get(node_id) or by_name.get(state.get("uname", "")), state)
                for node_id, state in states.items()
            ]
            return [(node, state) for node, state in found if node is not None]

        unpacked: set[int] = set()
        progress = True
        while progress:
            progress = False
            for node, state in entries():
                if id(node) in unpacked:
                    continue
                if node.is_remote:
                    if not remote.history_ready(node, shutdown_lock):
                        continue
                elif not ws.fencing_enabled and not shutdown_lock and not node.online:
                    # without fencing, what an offline node ran is taken as stopped
                    continue
                self.unpack_node_history(node, state)
                unpacked.add(id(node))
                progress = True
        if ws.fencing_enabled:
            # what is left (remote nodes whose connection is down) is read last
            for node, state in entries():
                if id(node) not in unpacked:
                    self.unpack_node_history(node, state)
                    unpacked.add(id(node))
        remote.finish_status(self, unpacked)
        for rsc in ws.all_resources():
            if rsc.is_primitive:
                self.finish_migrations(rsc)
                self.finish_role(rsc)

    def unpack_node_history(self, node: Node, state: etree._Element) -> None:
        if node.is_remote:
            remote.unpack_state(self, node, state)
        lrm = state.find("lrm")
        resources = lrm.find("lrm_resources") if lrm is not None else None
        if resources is None:
            return
        for element in resources.findall("lrm_resource"):
            self.unpack_lrm_resource(node, element)

    def determine_online(self, node: Node, state: etree._Element) -> None:
        ws = self.ws
        node.unclean = False
        node.fence_reason = ""
        in_ccm = state.get("in_ccm")
        crmd = state.get("crmd")
        join = state.get("join")
        expected = state.get("expected")
        # a node without membership information has never been seen by the cluster
        member = (
            -1
            if in_ccm is None
            else (1 if in_ccm == "true" or in_ccm.isdigit() and in_ccm != "0" else 0)
        )
        online_peer = (
            0 if crmd is None else (1 if crmd == "online" or crmd.isdigit() and crmd != "0" else 0)
        )
        shutdown_attr = node.attrs.get("shutdown", "0")
        node.shutdown = shutdown_attr not in ("0", "", None)
        if not node.shutdown and expected == "member":
            node.expected_up = True
        terminate = is_true(node.attrs.get("terminate"), False)
        online = False
        if not ws.fencing_enabled:
            if member <= 0:
                online = False
            elif online_peer > 0:
                online = join == "member"
            elif node.expected_up:
                self.fence(node, "peer is unexpectedly down")
        elif node.shutdown:
            online = online_peer > 0
        elif member < 0:
            self.fence(node, "peer has not been seen by the cluster")
        else:
            if join == "banned" or join == "nack":
                self.fence(node, "peer failed Pacemaker membership criteria")
            elif terminate:
                if member <= 0 and online_peer <= 0 and join == "down":
                    return
                self.fence(node, "fencing was requested")
            elif expected in (None, "down"):
                if self.pending_too_long(in_ccm, crmd):
                    self.fence(node, "peer pending timed out on joining the process group")
                elif member > 0 or online_peer > 0:
                    node.pending = True
            elif member <= 0:
                self.fence(node, "peer is no longer part of the cluster")
                node.fence_priority_delay = True
            elif online_peer <= 0:
                self.fence(node, "peer process is no longer available")
            elif join == "member":
                pass
            elif join in ("pending", "down"):
                node.pending = True
            else:
                self.fence(node, "peer was in an unknown state")
            online = member > 0
        node.online = online

    def pending_too_long(self, in_ccm: str | None, crmd: str | None) -> bool:
        """A node a member (in_ccm: since when) but not yet online in the process group for
        node-pending-timeout (Pacemaker's pending_too_long)."""
        limit_s = parse_interval_ms(self.ws.options.get("node-pending-timeout")) // 1000

        def since(value: str | None, word: str) -> int:
            if value is None:
                return 0
            return int(value) if value.isdigit() else (1 if value == word else 0)

        when_member, when_online = since(in_ccm, "true"), since(crmd, "online")
        return (
            limit_s > 0
            and when_member > 0
            and when_online <= 0
            and (self.ws.epoch >= when_member + limit_s)
        )

    def fence(self, node: Node, reason: str) -> None:
        if node.is_remote:
            remote.fence(self.ws, node, reason)
            return
        if not node.unclean:
            node.unclean = True
            node.fence_reason = reason
            remote.number_fencing(self.ws, node)

    def instances_by_base(self) -> dict[str, list[Resource]]:
        """Clone instance primitives by their configured id (built once)."""
        if self._instances is None:
            self._instances = {}
            for rsc in self.ws.all_resources():
                base = rsc.meta.get("__base")
                if rsc.is_primitive and base is not None:
                    self._instances.setdefault(base, []).append(rsc)
        return self._instances

    def find_history_owner(self, node: Node, rsc_id: str) -> Resource | None:
        """The configured resource a history entry belongs to (mapping anonymous clone ids).

        An anonymous clone's history may name any instance (or none): it belongs to the
        instance already active on that node, else to the first inactive instance.
        """
        ws = self.ws
        base = rsc_id.split(":", 1)[0]
        replica = bundle.replica_instance(ws, node, base)
        if replica is not None:
            return replica  # a bundle's guest node runs its replica's instance
        direct = ws.by_id.get(rsc_id)
        if direct is not None and direct.is_primitive:
            clone = direct.clone_parent()
            if clone is None or clone.globally_unique:
                return direct
        members = self.instances_by_base().get(base, [])
        if not members:
            return None
        clone = members[0].clone_parent()
        if clone is None:
            return None
        if clone.globally_unique:
            return direct if direct in members else None
        inactive: Resource | None = None
        taken_here = False
        for instance in clone.children:
            member = next((m for m in instance.primitives() if m in members), None)
            if member is None:
                continue
            active = {n.name for p in instance.primitives() for n in p.running_on}
            if active:
                if node.name in active:
                    if not member.running_on:
                        return member
                    # a second history of an instance active here: another instance active
                    # here (a removed one) may take it, else it makes a removed instance,
                    # never an inactive one (Pacemaker's find_anonymous_clone)
                    taken_here = True
            elif inactive is None and not taken_here:
                inactive = member
        return None if taken_here else inactive

    def unpack_lrm_resource(self, node: Node, element: etree._Element) -> None:
        rsc_id = element.get("id", "")
        # oldest first by Pacemaker's comparison (call id, then the last change of entries
        # with one call id: an operation and its last failure); like Pacemaker's list,
        # equal ones end up last-recorded first
        entries = list_sort(
            [self.history_entry(op) for op in reversed(element.findall("lrm_rsc_op"))],
            _older_first,
        )
        rsc = self.find_history_owner(node, rsc_id)
        if rsc is not None and self.instance_lost_with_node(rsc, node):
            rsc = None
        if rsc is None:
            rsc = self.removed_instance(rsc_id) or self.orphan(element)
        if rsc_id != rsc.id:
            rsc.meta["__history"] = rsc_id
        shutdown_lock.unpack_lock(self.ws, rsc, node, element)
        agent = (element.get("class", ""), element.get("provider", ""), element.get("type", ""))
        rsc.history_agent[node.name] = agent
        direct = self.ws.by_id.get(rsc_id)
        if direct is not None and direct is not rsc and direct.is_primitive:
            # the check for a changed agent finds a history by the id it names as well
            # (Pacemaker's pcmk__rscs_matching_id), whichever instance it was mapped to
            direct.history_agent.setdefault(node.name, agent)
        if rsc.history.get(node.name) is None:
            rsc.history[node.name] = []
        rsc.history[node.name].extend(entries)
        self.apply_history(rsc, node, entries)
        remote.after_history(self.ws, rsc, node)
        history = rsc.meta.get("__history", "")
        if ":" in history and node not in rsc.running_on:
            # a numbered history of a stopped instance does not pin the number
            del rsc.meta["__history"]

    def instance_lost_with_node(self, rsc: Resource, node: Node) -> bool:
        """An anonymous clone instance that needs no fencing, active on a lost node, does not
        keep its instance number (unless the clone runs everywhere): it may start elsewhere
        at once, so Pacemaker counts that history as a removed instance."""
        clone = rsc.clone_parent()
        if clone is None or clone.globally_unique or rsc.requires in ("fencing", "unfencing"):
            return False
        if node.online and not node.unclean:
            return False
        return clone.clone_max != len(self.ws.nodes)

    def removed_instance(self, rsc_id: str) -> Resource | None:
        """A history of an anonymous clone that no instance can take (all are active
        elsewhere) belongs to an extra, removed instance of the clone (Pacemaker's
        create_anonymous_removed_instance): it knows the node, and is never placed."""
        members = self.instances_by_base().get(rsc_id.split(":", 1)[0], [])
        clone = members[0].clone_parent() if members else None
        if clone is None or clone.globally_unique:
            return None
        template = clone_template(clone.element)
        if template is None:
            return None
        instance = self.add_instance(clone, template, len(clone.children))
        for member in [instance, *instance.children]:
            member.orphan = True
            member.target_role = Role.STOPPED
        self._instances = None
        base = rsc_id.split(":", 1)[0]
        return next((p for p in instance.primitives() if p.meta.get("__base") == base), None)

    def orphan(self, element: etree._Element) -> Resource:
        ident = element.get("id", "")
        rsc = Resource(id=ident, kind="primitive", element=element, meta={})
        rsc.agent_class = element.get("class", "")
        rsc.provider = element.get("provider", "")
        rsc.agent_type = element.get("type", "")
        rsc.orphan = True
        self.configure(rsc)
        rsc.target_role = Role.STOPPED
        if not self.ws.stop_orphans:
            rsc.managed = False
        self.ws.by_id[ident] = rsc
        self.ws.resources.append(rsc)
        if rsc.is_remote_connection:
            remote.removed_connection(self, rsc)
        return rsc

    def history_entry(self, op: etree._Element) -> HistoryEntry:
        key = op.get("transition-key", "")
        parts = key.split(":")
        expected = int(parts[2]) if len(parts) >= 3 and parts[2].lstrip("-").isdigit() else 0
        call = op.get("call-id", "0")
        return HistoryEntry(
            id=op.get("id", ""),
            task=op.get("operation", ""),
            interval_ms=int(op.get("interval", "0") or 0),
            rc=int(op.get("rc-code", "0") or 0),
            status=int(op.get("op-status", "0") or 0),
            expected_rc=expected,
            call_id=int(call) if call.lstrip("-").isdigit() else 0,
            element=op,
            last_change=int(op.get("last-rc-change", op.get("last-run", "0")) or 0),
        )

    def on_fail_for(self, rsc: Resource, task: str, interval_ms: int) -> str:
        """The configured failure handling of an operation, else its default (Pacemaker's
        action meta: the op's own on-fail, then op_defaults; a migration uses a 'migrate'
        op's; a demote the promoted monitor's; a stop refuses standby, demote and stop)."""
        config = next((o for o in rsc.ops if o.name == task and o.interval_ms == interval_ms), None)
        if config is None and task in ("migrate_to", "migrate_from"):
            config = next((o for o in rsc.ops if o.name == "migrate" and not o.interval_ms), None)
        value = config.on_fail if config is not None else None
        if value is None:
            value = self.op_defaults.get("on-fail")
        if value is not None:
            value = value.lower()
        if task == "stop" and value in ("standby", "demote", "stop"):
            value = None
        if task == "demote" and value is None:
            for op in rsc.ops:
                if (
                    op.name == "monitor"
                    and op.role == Role.PROMOTED
                    and op.interval_ms
                    and op.enabled
                    and op.on_fail
                    and op.on_fail.lower() != "demote"
                ):
                    value = op.on_fail.lower()
        if value == "fence" and not self.ws.fencing_enabled:
            return "stop"
        if value == "restart-container" and rsc.launcher is None:
            value = None
        special = remote.default_on_fail(self.ws, rsc, task, interval_ms)
        if value is not None and not (special and rsc.is_remote_connection and not rsc.managed):
            return value
        if special is not None:
            return special
        if task == "stop":
            return "fence" if self.ws.fencing_enabled else "block"
        return "restart"

    def apply_history(self, rsc: Resource, node: Node, entries: list[HistoryEntry]) -> None:
        if self.history is None:
            self.history = history.HistoryReader(self)
        self.history.unpack(rsc, node, entries)

    @staticmethod
    def has_failcount(rsc: Resource, node: Node) -> bool:
        names = {rsc.id, rsc.meta.get("__base", rsc.id), rsc.history_id}
        for name, value in node.attrs.items():
            if name.startswith("fail-count-") and name[11:].split("#", 1)[0] in names:
                if scores.parse(value) > 0:
                    return True
        return False

    def apply_on_fail(self, rsc: Resource, node: Node, task: str, on_fail: str) -> None:
        """What a failure that is still current means for the resource and the node."""
        if on_fail == "block":
            rsc.blocked = True
            rsc.managed = False
        elif on_fail == "stop":
            rsc.target_role = Role.STOPPED
            rsc.meta["__stop_onfail"] = "1"
            for n in self.ws.nodes:
                self.ws.locations.append(
                    Location(id="on-fail-stop", rsc=rsc, node_scores={n.name: -INFINITY})
                )
        elif on_fail == "standby":
            node.standby = True
            node.standby_onfail = True
        elif on_fail == "fence":
            self.fence(node, f"{rsc.id} failed there")
        elif on_fail == "reset-remote":
            remote.apply_reset_remote(self.ws, rsc)
        elif on_fail == "restart-container" and rsc.launcher is not None:
            rsc.launcher.meta.setdefault("__restart_on", node.name)
        if task == "stop":
            self.ws.locations.append(
                Location(id="stop-failure", rsc=rsc, node_scores={node.name: -INFINITY})
            )

    def failure_target(self, rsc: Resource) -> Resource:
        top = rsc
        while top.parent is not None:
            top = top.parent
        return top if top is not rsc else rsc

    def finish_migrations(self, rsc: Resource) -> None:
        """A migration completed on its target leaves the source to be stopped."""
        for source, target in rsc.migrated_to.items():
            history = rsc.history.get(source, [])
            last = history[-1] if history else None
            if last is None or last.task != "migrate_to":
                continue
            arrived = rsc.history.get(target, [])
            if not arrived or arrived[-1].task != "migrate_from" or arrived[-1].rc != 0:
                continue
            node = next((n for n in rsc.running_on if n.name == source), None)
            if node is not None:
                rsc.running_on.remove(node)
                rsc.dangling.append(node)

    def finish_role(self, rsc: Resource) -> None:
        if not rsc.running_on:
            rsc.role = Role.STOPPED

    # -- constraints -----------------------------------------------------------

    def expand(self, ident: str | None) -> list[Resource]:
        """A resource id, or a tag's members."""
        if ident is None:
            return []
        rsc = self.ws.by_id.get(ident)
        if rsc is not None and rsc.meta.get("__base") is None:
            return [rsc]
        tags = self.config.find("tags")
        if tags is not None:
            for tag in tags.findall("tag"):
                if tag.get("id") == ident:
                    out: list[Resource] = []
                    for ref in tag.findall("obj_ref"):
                        out.extend(self.expand(ref.get("id")))
                    return out
        element = self.id_index.get(ident)
        if element is not None and element.tag == "template":
            # a constraint on a template applies to every primitive made from it
            return [
                r
                for r in self.ws.all_resources()
                if r.is_primitive and r.element.get("template") == ident and "__base" not in r.meta
            ]
        return []

    def unpack_constraints(self) -> None:
        constraints = self.config.find("constraints")
        if constraints is None:
            return
        for element in constraints:
            if not isinstance(element.tag, str):
                continue
            if element.tag == "rsc_location":
                self.unpack_location(element)
            elif element.tag == "rsc_colocation":
                self.unpack_colocation(element)
            elif element.tag == "rsc_order":
                self.unpack_order(element)
            elif element.tag == "rsc_ticket":
                self.unpack_ticket_constraint(element)

    def location_targets(self, element: etree._Element) -> list[Resource]:
        pattern = element.get("rsc-pattern")
        if pattern is not None:
            # a leading ! selects the resources the pattern does not match
            inverted = pattern.startswith("!")
            try:
                regex = re.compile(pattern[1:] if inverted else pattern)
            except re.error:
                return []  # Pacemaker ignores a constraint with an invalid pattern
            return [r for r in self.ws.resources if bool(regex.search(r.id)) != inverted]
        targets = self.expand(element.get("rsc"))
        for rset in element.findall("resource_set"):
            for ref in rset.findall("resource_ref"):
                targets.extend(self.expand(ref.get("id")))
        return targets

    def unpack_location(self, element: etree._Element) -> None:
        ws = self.ws
        discovery = element.get("resource-discovery", "always")
        role = _text_role(element.get("role"))
        for rsc in self.location_targets(element):
            node_scores: dict[str, int] = {}
            node_name = element.get("node")
            if node_name is not None:
                node_scores[node_name] = scores.parse(element.get("score"), 0)
                ws.locations.append(
                    Location(element.get("id", ""), rsc, node_scores, role, discovery)
                )
                continue
            for rule in element.findall("rule"):
                rule = self.resolve(rule)
                rule_role = _text_role(rule.get("role")) or role
                rule_scores: dict[str, int] = {}
                for node in ws.nodes:
                    if rules.evaluate(rule, node.attrs, self.now):
                        rule_scores[node.name] = rules.rule_score(rule, node.attrs)
                ws.locations.append(
                    Location(element.get("id", ""), rsc, rule_scores, rule_role, discovery)
                )

    def set_members(self, rset: etree._Element) -> list[Resource]:
        out: list[Resource] = []
        for ref in rset.findall("resource_ref"):
            out.extend(self.expand(ref.get("id")))
        return out

    def unpack_colocation(self, element: etree._Element) -> None:
        self.ws.colocations.extend(
            colocation_constraints.unpack_colocation(
                element, self.expand, self.set_members, self.resolve, self.is_resource
            )
        )

    def is_resource(self, ident: str | None) -> bool:
        """Whether an id names a resource itself (not a tag or a template)."""
        rsc = self.ws.by_id.get(ident or "")
        return rsc is not None and rsc.meta.get("__base") is None

    def unpack_order(self, element: etree._Element) -> None:
        self.ws.orderings.extend(
            order_constraints.unpack_order(element, self.expand, self.set_members, self.resolve)
        )

    def unpack_ticket_constraint(self, element: etree._Element) -> None:
        """What a ticket that is not granted (or in standby) means for its resources."""
        ws = self.ws
        ticket_id = element.get("ticket", "")
        ticket = ws.tickets.setdefault(ticket_id, Ticket(id=ticket_id))
        if ticket.granted and not ticket.standby:
            return
        loss_policy = element.get("loss-policy", "stop").lower()
        own_role = _text_role(element.get("rsc-role"))
        targets = [(target, own_role) for target in self.expand(element.get("rsc"))]
        for rset in element.findall("resource_set"):
            # each set names the role its members need the ticket for
            role = _text_role(rset.get("role"))
            targets.extend((member, role) for member in self.set_members(rset))
        for target, role in targets:
            if role == Role.PROMOTED and target.kind == "clone":
                # promotion needs the ticket
                target.meta["__no_promotion"] = "1"
            for prim in target.primitives():
                self.ticket_effect(prim, ticket, loss_policy, role)

    def ticket_effect(
        self, prim: Resource, ticket: Ticket, loss_policy: str, role: Role | None
    ) -> None:
        ws = self.ws
        ban = {n.name: -INFINITY for n in ws.nodes}
        role_matches = role is None or prim.role == role
        if not ticket.granted and prim.running_on:
            if loss_policy == "stop" or (loss_policy == "demote" and role != Role.PROMOTED):
                ws.locations.append(Location(ticket.id, prim, dict(ban)))
            elif loss_policy == "fence" and role_matches:
                ws.locations.append(Location(ticket.id, prim, dict(ban)))
                for node in prim.running_on:
                    self.fence(node, "deadman ticket was lost")
            elif loss_policy == "freeze" and role_matches:
                prim.managed = False
                prim.blocked = True
        elif role != Role.PROMOTED or loss_policy == "stop":
            ws.locations.append(Location(ticket.id, prim, dict(ban)))


def _older_first(a: HistoryEntry, b: HistoryEntry) -> int:
    assert a.element is not None and b.element is not None
    return history.newer(a.element, b.element, same_node=True)


def unpack(cib: etree._Element, now: dt.datetime, *, constraints: bool = True) -> WorkingSet:
    """Build the working set from a parsed CIB at the given time.

    Without `constraints` the result shows the cluster as it is (for status displays):
    constraints, and what tickets imply for resources and nodes, are left out.
    """
    return Unpacker(cib, now).run(constraints=constraints)


def cib_time(cib: etree._Element) -> dt.datetime | None:
    """The time a CIB was written (used when no time is given), if recorded."""
    text = cib.get("execution-date")
    if text and text.isdigit():
        return dt.datetime.fromtimestamp(int(text), tz=dt.UTC).replace(tzinfo=None)
    return None


def clone_template(element: etree._Element) -> etree._Element | None:
    """The primitive or group a clone's instances are made from."""
    return next(
        (c for c in element if isinstance(c.tag, str) and c.tag in ("primitive", "group")), None
    )


def _unique_capable(template: etree._Element) -> bool:
    """Whether every agent a clone template runs can have globally unique instances
    (Pacemaker grants it to the ocf and stonith classes only)."""
    primitives = [template] if template.tag == "primitive" else template.findall("primitive")
    return all(p.get("class", "ocf").lower() in ("ocf", "stonith") for p in primitives)


def iter_primitives(resources: Iterable[Resource]) -> Iterable[Resource]:
    for rsc in resources:
        yield from rsc.primitives()
