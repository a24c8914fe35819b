"""A typed, read-only view of a CIB: ``build_model(doc) -> Cib``.

Frozen dataclasses built from the document; the XML stays the source of truth (edit the
document, then build a new view). Renamed spellings are normalised here, so readers see one
vocabulary: roles are Promoted/Unpromoted (Master/Slave on input), a ``<master>`` is a
promotable Clone, and cluster options are keyed by their current names (``fencing-enabled``
for ``stonith-enabled``...). Values stay strings where Pacemaker keeps them as text; scores,
intervals and booleans are parsed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from lxml import etree

from hactl.core.cib.document import CibDocument, attributes
from hactl.core.cib.schema import (
    canonical_option,
    canonical_role,
    parse_boolean,
    parse_duration_ms,
    parse_score,
)

# -- attribute sets and rules ------------------------------------------------------------------


@dataclass(frozen=True)
class NvPair:
    id: str | None
    name: str
    value: str | None


@dataclass(frozen=True)
class Expression:
    id: str | None
    attribute: str
    operation: str
    value: str | None = None
    type: str | None = None
    value_source: str | None = None


@dataclass(frozen=True)
class DateExpression:
    id: str | None
    operation: str
    start: str | None = None
    end: str | None = None
    date_spec: dict[str, str] | None = None
    duration: dict[str, str] | None = None


@dataclass(frozen=True)
class ResourceExpression:
    id: str | None
    standard: str | None  # the ``class`` attribute
    provider: str | None
    type: str | None


@dataclass(frozen=True)
class OperationExpression:
    id: str | None
    name: str
    interval_ms: int | None


RuleItem = Union["Rule", Expression, DateExpression, ResourceExpression, OperationExpression]


@dataclass(frozen=True)
class Rule:
    id: str | None
    boolean_op: str = "and"
    score: int | None = None
    score_attribute: str | None = None
    role: str | None = None
    items: tuple[RuleItem, ...] = ()


@dataclass(frozen=True)
class NvSet:
    """instance_attributes, meta_attributes, utilization or cluster_property_set."""

    kind: str
    id: str | None
    score: int | None = None
    rule: Rule | None = None
    pairs: tuple[NvPair, ...] = ()
    id_ref: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {pair.name: pair.value for pair in self.pairs}


def merged(sets: tuple[NvSet, ...]) -> dict[str, str | None]:
    """The values of several sets without rules, the highest-score set winning a name
    (Pacemaker's precedence; sets with rules need an evaluation context)."""
    result: dict[str, str | None] = {}
    ordered = sorted((s for s in sets if s.rule is None), key=lambda s: s.score or 0, reverse=True)
    for nvset in ordered:
        for pair in nvset.pairs:
            result.setdefault(pair.name, pair.value)
    return result


# -- resources ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    id: str
    name: str
    interval: str
    interval_ms: int | None
    timeout: str | None = None
    role: str | None = None
    on_fail: str | None = None
    enabled: bool = True
    attributes: dict[str, str] = field(default_factory=dict)
    meta_attributes: tuple[NvSet, ...] = ()
    instance_attributes: tuple[NvSet, ...] = ()


@dataclass(frozen=True)
class Primitive:
    id: str
    standard: str | None  # ``class``: ocf, lsb, systemd, service, stonith...
    provider: str | None
    type: str | None
    template: str | None = None
    description: str | None = None
    instance_attributes: tuple[NvSet, ...] = ()
    meta_attributes: tuple[NvSet, ...] = ()
    utilization: tuple[NvSet, ...] = ()
    operations: tuple[Operation, ...] = ()

    @property
    def agent(self) -> str:
        """``ocf:heartbeat:IPaddr2``, ``systemd:sshd``, ``stonith:fence_ipmilan``."""
        parts = [self.standard, self.provider, self.type]
        return ":".join(p for p in parts if p)

    @property
    def meta(self) -> dict[str, str | None]:
        return merged(self.meta_attributes)

    @property
    def params(self) -> dict[str, str | None]:
        return merged(self.instance_attributes)


@dataclass(frozen=True)
class Group:
    id: str
    members: tuple[Primitive, ...]
    description: str | None = None
    meta_attributes: tuple[NvSet, ...] = ()
    instance_attributes: tuple[NvSet, ...] = ()

    @property
    def meta(self) -> dict[str, str | None]:
        return merged(self.meta_attributes)


@dataclass(frozen=True)
class Clone:
    id: str
    child: Primitive | Group
    promotable: bool
    description: str | None = None
    meta_attributes: tuple[NvSet, ...] = ()
    instance_attributes: tuple[NvSet, ...] = ()
    legacy_master: bool = False  # written as <master> (pacemaker-1.x/2.x spelling)

    @property
    def meta(self) -> dict[str, str | None]:
        return merged(self.meta_attributes)


@dataclass(frozen=True)
class Bundle:
    id: str
    runtime: str | None  # docker, podman, rkt
    runtime_attributes: dict[str, str] = field(default_factory=dict)
    primitive: Primitive | None = None
    meta_attributes: tuple[NvSet, ...] = ()


Resource = Primitive | Group | Clone | Bundle

# -- constraints -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResourceSet:
    id: str | None
    resources: tuple[str, ...]
    sequential: bool | None = None
    require_all: bool | None = None
    ordering: str | None = None
    action: str | None = None
    role: str | None = None
    score: int | None = None
    kind: str | None = None


@dataclass(frozen=True)
class Location:
    id: str
    rsc: str | None
    rsc_pattern: str | None
    node: str | None
    score: int | None
    role: str | None = None
    resource_discovery: str | None = None
    rules: tuple[Rule, ...] = ()
    resource_sets: tuple[ResourceSet, ...] = ()


@dataclass(frozen=True)
class Colocation:
    id: str
    rsc: str | None
    with_rsc: str | None
    score: int | None
    rsc_role: str | None = None
    with_rsc_role: str | None = None
    node_attribute: str | None = None
    influence: bool | None = None
    resource_sets: tuple[ResourceSet, ...] = ()


@dataclass(frozen=True)
class Order:
    id: str
    first: str | None
    then: str | None
    first_action: str | None = None
    then_action: str | None = None
    kind: str | None = None
    score: int | None = None
    symmetrical: bool | None = None
    require_all: bool | None = None
    resource_sets: tuple[ResourceSet, ...] = ()


@dataclass(frozen=True)
class Ticket:
    id: str
    ticket: str
    rsc: str | None
    rsc_role: str | None = None
    loss_policy: str | None = None
    resource_sets: tuple[ResourceSet, ...] = ()


Constraint = Location | Colocation | Order | Ticket

# -- the rest of the configuration -------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    id: str
    uname: str
    type: str | None = None
    instance_attributes: tuple[NvSet, ...] = ()
    utilization: tuple[NvSet, ...] = ()


@dataclass(frozen=True)
class FencingLevel:
    id: str
    index: int
    devices: tuple[str, ...]
    target: str | None = None
    target_pattern: str | None = None
    target_attribute: str | None = None
    target_value: str | None = None


@dataclass(frozen=True)
class Tag:
    id: str
    references: tuple[str, ...]


@dataclass(frozen=True)
class AlertRecipient:
    id: str
    value: str
    meta_attributes: tuple[NvSet, ...] = ()
    instance_attributes: tuple[NvSet, ...] = ()


@dataclass(frozen=True)
class Alert:
    id: str
    path: str
    recipients: tuple[AlertRecipient, ...] = ()
    select: tuple[str, ...] = ()  # select_nodes, select_fencing, select_resources, ...
    meta_attributes: tuple[NvSet, ...] = ()
    instance_attributes: tuple[NvSet, ...] = ()


@dataclass(frozen=True)
class Configuration:
    cluster_property_sets: tuple[NvSet, ...]
    nodes: tuple[Node, ...]
    resources: tuple[Resource, ...]
    constraints: tuple[Constraint, ...]
    rsc_defaults: tuple[NvSet, ...]
    op_defaults: tuple[NvSet, ...]
    fencing_levels: tuple[FencingLevel, ...]
    tags: tuple[Tag, ...]
    alerts: tuple[Alert, ...]

    @property
    def options(self) -> dict[str, str | None]:
        """Cluster options under their current names (``stonith-enabled`` is read as
        ``fencing-enabled``); when both spellings are set, the current one wins."""
        result: dict[str, str | None] = {}
        for name, value in merged(self.cluster_property_sets).items():
            key = canonical_option(name)
            if key == name or key not in result:
                result[key] = value
        return result

    def option(self, name: str) -> str | None:
        return self.options.get(canonical_option(name))

    def primitives(self) -> tuple[Primitive, ...]:
        """Every primitive, including group members, clone children and bundle ones."""
        found: list[Primitive] = []

        def visit(resource: Resource | None) -> None:
            if isinstance(resource, Primitive):
                found.append(resource)
            elif isinstance(resource, Group):
                found.extend(resource.members)
            elif isinstance(resource, Clone):
                visit(resource.child)
            elif isinstance(resource, Bundle):
                visit(resource.primitive)

        for resource in self.resources:
            visit(resource)
        return tuple(found)


# -- status ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LrmRscOp:
    id: str
    operation: str | None
    operation_key: str | None
    call_id: int | None
    rc_code: int | None
    op_status: int | None
    interval_ms: int
    on_node: str | None = None
    transition_key: str | None = None
    transition_magic: str | None = None
    last_rc_change: int | None = None
    exec_time: int | None = None
    queue_time: int | None = None
    op_digest: str | None = None
    exit_reason: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LrmResource:
    id: str
    standard: str | None
    provider: str | None
    type: str | None
    container: str | None = None
    ops: tuple[LrmRscOp, ...] = ()


@dataclass(frozen=True)
class NodeState:
    id: str
    uname: str | None
    in_ccm: str | None  # "true"/"false", or a timestamp in Pacemaker 2.1.7 and later
    crmd: str | None  # "online"/"offline", or a timestamp
    join: str | None
    expected: str | None
    attributes: dict[str, str] = field(default_factory=dict)
    transient_attributes: tuple[NvSet, ...] = ()
    lrm_resources: tuple[LrmResource, ...] = ()

    @property
    def node_attributes(self) -> dict[str, str | None]:
        return merged(self.transient_attributes)


@dataclass(frozen=True)
class Cib:
    admin_epoch: int
    epoch: int
    num_updates: int
    validate_with: str | None
    attributes: dict[str, str]
    configuration: Configuration
    status: tuple[NodeState, ...]

    def resource(self, resource_id: str) -> Resource | Primitive | None:
        """A top-level resource or any primitive, by id."""
        for resource in self.configuration.resources:
            if resource.id == resource_id:
                return resource
        return next((p for p in self.configuration.primitives() if p.id == resource_id), None)


# -- building ----------------------------------------------------------------------------------


def _children(element: etree._Element | None, *tags: str) -> list[etree._Element]:
    if element is None:
        return []
    return [c for c in element if isinstance(c.tag, str) and (not tags or c.tag in tags)]


def _score(text: str | None) -> int | None:
    return parse_score(text) if text is not None else None


def _bool(text: str | None) -> bool | None:
    return parse_boolean(text) if text is not None else None


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _role(text: str | None) -> str | None:
    return canonical_role(text)


class _Builder:
    def __init__(self, doc: CibDocument) -> None:
        self.doc = doc
        configuration = doc.root.find("configuration")
        # Sets and rules may point at others by id-ref; resolve against the whole document.
        self.by_id = {
            el.get("id"): el
            for el in (configuration.iter() if configuration is not None else ())
            if isinstance(el.tag, str) and el.get("id") is not None
        }

    def resolve(self, element: etree._Element) -> etree._Element:
        target = element.get("id-ref")
        if target is not None and target in self.by_id and self.by_id[target].tag == element.tag:
            return self.by_id[target]
        return element

    def nvsets(self, parent: etree._Element | None, tag: str) -> tuple[NvSet, ...]:
        return tuple(self.nvset(el) for el in _children(parent, tag))

    def nvset(self, element: etree._Element) -> NvSet:
        source = self.resolve(element)
        rules = _children(source, "rule")
        return NvSet(
            kind=str(element.tag),
            id=element.get("id"),
            score=_score(source.get("score")),
            rule=self.rule(rules[0]) if rules else None,
            pairs=tuple(
                NvPair(p.get("id"), p.get("name", ""), p.get("value"))
                for p in (self.resolve(el) for el in _children(source, "nvpair"))
            ),
            id_ref=element.get("id-ref"),
        )

    def rule(self, element: etree._Element) -> Rule:
        source = self.resolve(element)
        items: list[RuleItem] = []
        for child in _children(source):
            tag = child.tag
            if tag == "rule":
                items.append(self.rule(child))
            elif tag == "expression":
                items.append(Expression(
                    child.get("id"), child.get("attribute", ""), child.get("operation", ""),
                    child.get("value"), child.get("type"), child.get("value-source"),
                ))  # fmt: skip
            elif tag == "date_expression":
                spec, duration = child.find("date_spec"), child.find("duration")
                items.append(DateExpression(
                    child.get("id"), child.get("operation", ""), child.get("start"),
                    child.get("end"),
                    attributes(spec) if spec is not None else None,
                    attributes(duration) if duration is not None else None,
                ))  # fmt: skip
            elif tag == "rsc_expression":
                items.append(ResourceExpression(
                    child.get("id"), child.get("class"), child.get("provider"), child.get("type")
                ))  # fmt: skip
            elif tag == "op_expression":
                interval = child.get("interval")
                items.append(OperationExpression(
                    child.get("id"), child.get("name", ""),
                    parse_duration_ms(interval) if interval is not None else None,
                ))  # fmt: skip
        return Rule(
            id=element.get("id"),
            boolean_op=source.get("boolean-op", "and"),
            score=_score(source.get("score")),
            score_attribute=source.get("score-attribute"),
            role=_role(source.get("role")),
            items=tuple(items),
        )

    # -- resources --

    def operation(self, op: etree._Element) -> Operation:
        interval = op.get("interval", "0")
        return Operation(
            id=op.get("id", ""),
            name=op.get("name", ""),
            interval=interval,
            interval_ms=parse_duration_ms(interval),
            timeout=op.get("timeout"),
            role=_role(op.get("role")),
            on_fail=op.get("on-fail"),
            enabled=_bool(op.get("enabled")) is not False,
            attributes=attributes(op),
            meta_attributes=self.nvsets(op, "meta_attributes"),
            instance_attributes=self.nvsets(op, "instance_attributes"),
        )

    def primitive(self, element: etree._Element) -> Primitive:
        operations = element.find("operations")
        if operations is not None:
            operations = self.resolve(operations)
        return Primitive(
            id=element.get("id", ""),
            standard=element.get("class"),
            provider=element.get("provider"),
            type=element.get("type"),
            template=element.get("template"),
            description=element.get("description"),
            instance_attributes=self.nvsets(element, "instance_attributes"),
            meta_attributes=self.nvsets(element, "meta_attributes"),
            utilization=self.nvsets(element, "utilization"),
            operations=tuple(self.operation(op) for op in _children(operations, "op")),
        )

    def group(self, element: etree._Element) -> Group:
        return Group(
            id=element.get("id", ""),
            members=tuple(self.primitive(p) for p in _children(element, "primitive")),
            description=element.get("description"),
            meta_attributes=self.nvsets(element, "meta_attributes"),
            instance_attributes=self.nvsets(element, "instance_attributes"),
        )

    def clone(self, element: etree._Element) -> Clone | None:
        children = _children(element, "primitive", "group")
        if not children:
            return None
        child: Primitive | Group = (
            self.primitive(children[0])
            if children[0].tag == "primitive"
            else self.group(children[0])
        )
        meta = self.nvsets(element, "meta_attributes")
        legacy = element.tag == "master"
        promotable = legacy or _bool(merged(meta).get("promotable")) is True
        return Clone(
            id=element.get("id", ""),
            child=child,
            promotable=promotable,
            description=element.get("description"),
            meta_attributes=meta,
            instance_attributes=self.nvsets(element, "instance_attributes"),
            legacy_master=legacy,
        )

    def bundle(self, element: etree._Element) -> Bundle:
        runtime = next(iter(_children(element, "docker", "podman", "rkt")), None)
        primitive = element.find("primitive")
        return Bundle(
            id=element.get("id", ""),
            runtime=str(runtime.tag) if runtime is not None else None,
            runtime_attributes=attributes(runtime) if runtime is not None else {},
            primitive=self.primitive(primitive) if primitive is not None else None,
            meta_attributes=self.nvsets(element, "meta_attributes"),
        )

    def resources(self, section: etree._Element | None) -> tuple[Resource, ...]:
        found: list[Resource] = []
        for element in _children(section):
            if element.tag == "primitive":
                found.append(self.primitive(element))
            elif element.tag == "group":
                found.append(self.group(element))
            elif element.tag in ("clone", "master"):
                clone = self.clone(element)
                if clone is not None:
                    found.append(clone)
            elif element.tag == "bundle":
                found.append(self.bundle(element))
        return tuple(found)

    # -- constraints --

    def resource_sets(self, element: etree._Element) -> tuple[ResourceSet, ...]:
        sets = []
        for found in _children(element, "resource_set"):
            rs = self.resolve(found)
            sets.append(ResourceSet(
                id=found.get("id"),
                resources=tuple(r.get("id", "") for r in _children(rs, "resource_ref")),
                sequential=_bool(rs.get("sequential")),
                require_all=_bool(rs.get("require-all")),
                ordering=rs.get("ordering"),
                action=rs.get("action"),
                role=_role(rs.get("role")),
                score=_score(rs.get("score")),
                kind=rs.get("kind"),
            ))  # fmt: skip
        return tuple(sets)

    def constraint(self, element: etree._Element) -> Constraint | None:
        get = element.get
        sets = self.resource_sets(element)
        if element.tag == "rsc_location":
            return Location(
                id=get("id", ""), rsc=get("rsc"), rsc_pattern=get("rsc-pattern"),
                node=get("node"), score=_score(get("score")), role=_role(get("role")),
                resource_discovery=get("resource-discovery"),
                rules=tuple(self.rule(r) for r in _children(element, "rule")),
                resource_sets=sets,
            )  # fmt: skip
        if element.tag == "rsc_colocation":
            return Colocation(
                id=get("id", ""), rsc=get("rsc"), with_rsc=get("with-rsc"),
                score=_score(get("score")), rsc_role=_role(get("rsc-role")),
                with_rsc_role=_role(get("with-rsc-role")), node_attribute=get("node-attribute"),
                influence=_bool(get("influence")), resource_sets=sets,
            )  # fmt: skip
        if element.tag == "rsc_order":
            return Order(
                id=get("id", ""), first=get("first"), then=get("then"),
                first_action=get("first-action"), then_action=get("then-action"),
                kind=get("kind"), score=_score(get("score")),
                symmetrical=_bool(get("symmetrical")), require_all=_bool(get("require-all")),
                resource_sets=sets,
            )  # fmt: skip
        if element.tag == "rsc_ticket":
            return Ticket(
                id=get("id", ""), ticket=get("ticket", ""), rsc=get("rsc"),
                rsc_role=_role(get("rsc-role")), loss_policy=get("loss-policy"),
                resource_sets=sets,
            )  # fmt: skip
        return None

    # -- the rest --

    def configuration(self) -> Configuration:
        config = self.doc.root.find("configuration")

        def section(name: str) -> etree._Element | None:
            return config.find(name) if config is not None else None

        constraints = (self.constraint(c) for c in _children(section("constraints")))
        alerts = []
        for alert in _children(section("alerts"), "alert"):
            select = alert.find("select")
            alerts.append(Alert(
                id=alert.get("id", ""), path=alert.get("path", ""),
                recipients=tuple(
                    AlertRecipient(
                        r.get("id", ""), r.get("value", ""),
                        self.nvsets(r, "meta_attributes"), self.nvsets(r, "instance_attributes"),
                    )
                    for r in _children(alert, "recipient")
                ),
                select=tuple(str(s.tag) for s in _children(select)),
                meta_attributes=self.nvsets(alert, "meta_attributes"),
                instance_attributes=self.nvsets(alert, "instance_attributes"),
            ))  # fmt: skip
        return Configuration(
            cluster_property_sets=self.nvsets(section("crm_config"), "cluster_property_set"),
            nodes=tuple(
                Node(
                    n.get("id", ""), n.get("uname", ""), n.get("type"),
                    self.nvsets(n, "instance_attributes"), self.nvsets(n, "utilization"),
                )
                for n in _children(section("nodes"), "node")
            ),
            resources=self.resources(section("resources")),
            constraints=tuple(c for c in constraints if c is not None),
            rsc_defaults=self.nvsets(section("rsc_defaults"), "meta_attributes"),
            op_defaults=self.nvsets(section("op_defaults"), "meta_attributes"),
            fencing_levels=tuple(
                FencingLevel(
                    id=f.get("id", ""), index=_int(f.get("index")) or 0,
                    devices=tuple(d for d in f.get("devices", "").split(",") if d),
                    target=f.get("target"), target_pattern=f.get("target-pattern"),
                    target_attribute=f.get("target-attribute"),
                    target_value=f.get("target-value"),
                )
                for f in _children(section("fencing-topology"), "fencing-level")
            ),
            tags=tuple(
                Tag(t.get("id", ""), tuple(r.get("id", "") for r in _children(t, "obj_ref")))
                for t in _children(section("tags"), "tag")
            ),
            alerts=tuple(alerts),
        )  # fmt: skip

    def status(self) -> tuple[NodeState, ...]:
        states = []
        for state in _children(self.doc.root.find("status"), "node_state"):
            transient = state.find("transient_attributes")
            resources = []
            for rsc in state.iterfind("lrm/lrm_resources/lrm_resource"):
                ops = tuple(
                    LrmRscOp(
                        id=op.get("id", ""), operation=op.get("operation"),
                        operation_key=op.get("operation_key"), call_id=_int(op.get("call-id")),
                        rc_code=_int(op.get("rc-code")), op_status=_int(op.get("op-status")),
                        interval_ms=_int(op.get("interval")) or 0, on_node=op.get("on_node"),
                        transition_key=op.get("transition-key"),
                        transition_magic=op.get("transition-magic"),
                        last_rc_change=_int(op.get("last-rc-change")),
                        exec_time=_int(op.get("exec-time")),
                        queue_time=_int(op.get("queue-time")), op_digest=op.get("op-digest"),
                        exit_reason=op.get("exit-reason"), attributes=attributes(op),
                    )
                    for op in _children(rsc, "lrm_rsc_op")
                )  # fmt: skip
                resources.append(LrmResource(
                    rsc.get("id", ""), rsc.get("class"), rsc.get("provider"), rsc.get("type"),
                    rsc.get("container"), ops,
                ))  # fmt: skip
            states.append(NodeState(
                id=state.get("id", ""), uname=state.get("uname"), in_ccm=state.get("in_ccm"),
                crmd=state.get("crmd"), join=state.get("join"), expected=state.get("expected"),
                attributes=attributes(state),
                transient_attributes=self.nvsets(transient, "instance_attributes"),
                lrm_resources=tuple(resources),
            ))  # fmt: skip
        return tuple(states)


def build_model(doc: CibDocument) -> Cib:
    """The typed view of ``doc`` (which should have passed ``validate``)."""
    admin_epoch, epoch, num_updates = doc.versions()
    builder = _Builder(doc)
    return Cib(
        admin_epoch=admin_epoch,
        epoch=epoch,
        num_updates=num_updates,
        validate_with=doc.root.get("validate-with"),
        attributes=attributes(doc.root),
        configuration=builder.configuration(),
        status=builder.status(),
    )
