"""Resource use cases with pcs's meaning: create, delete, update, meta, operations,
defaults, groups, clones, enable/disable, manage/unmanage, move/ban/clear, utilization.

Every function validates first and raises a HactlError naming the problem; only then does
it edit the CIB root it was given.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from lxml import etree

from hactl.core.agentmeta import AgentMetadata, AgentSpec
from hactl.core.cib.schema import parse_duration_ms
from hactl.core.commands import cibtools as ct
from hactl.core.commands import nvsets
from hactl.core.commands.cibtools import Element, IdAllocator
from hactl.core.commands.grammar import (
    OP_PARAMS,
    Operation,
    did_you_mean,
    parse_bool,
    parse_role,
    parse_score,
    reject_unknown,
)
from hactl.core.commands.session import Notes
from hactl.core.errors import HactlError, NotFoundError, Problem, ValidationError

#: option names an <op> takes (OCF_CHECK_LEVEL goes into the op's instance_attributes)
OP_OPTIONS = (
    "id",
    "interval",
    "description",
    "start-delay",
    "interval-origin",
    "timeout",
    "enabled",
    "record-pending",
    "role",
    "requires",
    "on-fail",
    "OCF_CHECK_LEVEL",
)
ON_FAIL = ("ignore", "block", "demote", "stop", "restart", "standby", "fence", "restart-container")
#: the actions pcs does not copy from an agent's meta-data into the CIB
NOT_DEFAULT_ACTIONS = ("meta-data", "status", "validate-all")
STANDARD_ACTIONS = (
    "start",
    "stop",
    "monitor",
    "promote",
    "demote",
    "migrate_to",
    "migrate_from",
    "reload",
    "reload-agent",
    "notify",
)

MetadataLookup = Callable[[AgentSpec], AgentMetadata]


@dataclass
class CreateRequest:
    resource_id: str
    agent: AgentSpec | None  # None: the primitive takes its agent from ``template``
    params: dict[str, str] = field(default_factory=dict)
    operations: list[Operation] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    group: str | None = None
    before: str | None = None
    after: str | None = None
    clone: dict[str, str] | None = None  # clone meta options; None: not cloned
    bundle: str | None = None  # the bundle to run the resource in
    template: str | None = None  # a primitive made from this <template> (crmsh's rsc_template)
    is_template: bool = False  # create a <template> rather than a primitive
    clone_id: str | None = None
    promotable: bool = False
    disabled: bool = False
    no_default_ops: bool = False
    force: bool = False


# ------------------------------------------------------------------------ helpers


def format_duration(ms: int) -> str:
    if ms % 1000 == 0:
        return f"{ms // 1000}s"
    return f"{ms}ms"


def _interval_text(options: Mapping[str, str], name: str) -> str:
    return options.get("interval") or ("60s" if name == "monitor" else "0s")


def _interval_ms(text: str, *, where: str) -> int:
    value = parse_duration_ms(text)
    if value is None:
        raise HactlError(
            f"{text!r} is not a duration", where=where, hint="e.g. 10s, 500ms, 2min, PT1M"
        )
    return value


def _check_operation(
    op: Operation, metadata: AgentMetadata | None, force: bool, where: str
) -> None:
    for name in op.options:
        if name not in OP_OPTIONS:
            raise HactlError(
                f"{name!r} is not an operation option",
                where=f"{where} op {op.name}",
                hint=did_you_mean(name, OP_OPTIONS)
                + f" (the operation's own parameters go after {OP_PARAMS})",
            )
    if "OCF_CHECK_LEVEL" in op.options and "OCF_CHECK_LEVEL" in op.params:
        raise HactlError(
            "OCF_CHECK_LEVEL is given twice",
            where=f"{where} op {op.name}",
            hint=f"give it once, as an option or after {OP_PARAMS}",
        )
    known = [a.name for a in metadata.actions] if metadata else list(STANDARD_ACTIONS)
    if op.name not in known and op.name not in ("monitor", "start", "stop") and not force:
        raise HactlError(
            f"{op.name!r} is not an action of this agent",
            where=f"{where} op",
            hint=did_you_mean(op.name, known) + " (or use --force)",
        )
    for key in ("interval", "timeout", "start-delay") if not force else ():
        if key in op.options:
            _interval_ms(op.options[key], where=f"{where} op {op.name} {key}")
    if "on-fail" in op.options and op.options["on-fail"].lower() not in ON_FAIL:
        raise HactlError(
            f"{op.options['on-fail']!r} is not a valid on-fail",
            where=f"{where} op {op.name}",
            hint=did_you_mean(op.options["on-fail"].lower(), ON_FAIL),
        )
    for key in ("enabled", "record-pending"):
        if key in op.options:
            parse_bool(op.options[key], where=f"{where} op {op.name}", name=key)
    if "role" in op.options:
        op.options["role"] = parse_role(op.options["role"], where=f"{where} op {op.name}")


def _check_unique_intervals(
    operations: Sequence[Operation], where: str, *, force: bool = False
) -> None:
    seen: dict[tuple[str, int], str] = {}
    for op in operations:
        text = _interval_text(op.options, op.name)
        if force and parse_duration_ms(text) is None:
            continue
        key = (op.name, _interval_ms(text, where=where))
        if key in seen and not force:
            raise HactlError(
                f"operation {op.name} has interval {text} twice",
                where=where,
                hint="Pacemaker tells operations apart by name and interval: give each a "
                "different interval",
            )
        seen[key] = text


def _default_operations(
    metadata: AgentMetadata | None, *, necessary_only: bool, stonith: bool
) -> list[Operation]:
    """The operations pcs copies from the agent's meta-data (just monitor without it)."""
    operations: list[Operation] = []
    for action in metadata.actions if metadata else ():
        wanted = (
            action.name == "monitor"
            if (necessary_only or stonith)
            else action.name not in NOT_DEFAULT_ACTIONS
        )
        if not wanted:
            continue
        options: dict[str, str] = {
            "interval": format_duration(action.interval_ms)
            if action.interval_ms
            else ("60s" if action.name == "monitor" else "0s")
        }
        if action.timeout_ms is not None:
            options["timeout"] = format_duration(action.timeout_ms)
        if action.role:
            options["role"] = parse_role(action.role)
        if action.depth:
            options["OCF_CHECK_LEVEL"] = str(action.depth)
        if action.start_delay_ms:
            options["start-delay"] = format_duration(action.start_delay_ms)
        operations.append(Operation(action.name, options))
    if not any(op.name == "monitor" for op in operations):
        operations.append(Operation("monitor", {"interval": "60s"}))
    return operations


def _unique_default_intervals(operations: list[Operation]) -> list[Operation]:
    """Defaults with a clashing interval are moved by a second (pcs warns the same)."""
    used: dict[str, set[int]] = {}
    for op in operations:
        text = _interval_text(op.options, op.name)
        seconds = (parse_duration_ms(text) or 0) // 1000
        taken = used.setdefault(op.name, set())
        if seconds in taken:
            while seconds in taken:
                seconds += 1
            op.options["interval"] = str(seconds)
        taken.add(seconds)
    return operations


def new_nvset(parent: Element, tag: str, values: Mapping[str, str], ids: IdAllocator) -> Element:
    """A new ``tag`` set of ``parent`` holding ``values``. What a command creates keeps an
    empty value as an empty value (as pcs's create does); only updates read it as removal."""
    block = etree.SubElement(parent, tag, id=ids.sub_id(parent, tag))
    for name, value in values.items():
        etree.SubElement(block, "nvpair", id=ids.sub_id(block, name), name=name, value=value)
    return block


def append_operation(primitive: Element, op: Operation, ids: IdAllocator) -> Element:
    operations = primitive.find("operations")
    if operations is None:
        operations = etree.SubElement(primitive, "operations")
    interval = _interval_text(op.options, op.name)
    attributes = {"name": op.name, "interval": interval}
    attributes.update({k: v for k, v in op.options.items() if k not in ("OCF_CHECK_LEVEL", "id")})
    if "id" in op.options:
        ct.check_new_id(primitive.getroottree().getroot(), op.options["id"], where="op id")
        ids.book(op.options["id"])
        op_id = op.options["id"]
    else:
        op_id = ids.allocate(f"{primitive.get('id')}-{op.name}-interval-{interval}")
    element = etree.SubElement(operations, "op", {"id": op_id, **attributes})
    params = {k: v for k, v in op.options.items() if k == "OCF_CHECK_LEVEL"} | op.params
    if params:
        new_nvset(element, "instance_attributes", params, ids)
    if op.meta:
        new_nvset(element, "meta_attributes", op.meta, ids)
    return element


def check_params(
    metadata: AgentMetadata | None,
    params: Mapping[str, str],
    *,
    where: str,
    force: bool,
    notes: Notes,
    partial: bool = False,
) -> None:
    """Parameters against the agent's meta-data: errors unless --force (then warnings)."""
    if metadata is None:
        return
    problems = metadata.check_params(params, where=where)
    if partial:
        problems = [p for p in problems if "requires parameter" not in p.message]
    errors: list[Problem] = []
    for problem in problems:
        if "deprecated" in problem.message or force:
            notes.warn(str(problem))
        else:
            errors.append(problem)
    if errors:
        errors = [
            Problem(p.message, where=p.where, hint=(p.hint or "") + "; use --force to override")
            for p in errors
        ]
        raise ValidationError(errors, subject=where)


def _check_meta(meta: Mapping[str, str], where: str) -> None:
    if meta.get("target-role") and not meta["target-role"].startswith("#"):
        meta_role = meta["target-role"]
        parse_role(meta_role, where=f"{where} meta target-role")
    for key in (
        "is-managed",
        "maintenance",
        "notify",
        "globally-unique",
        "interleave",
        "ordered",
        "promotable",
        "critical",
        "allow-migrate",
    ):
        if meta.get(key):
            parse_bool(meta[key], where=f"{where} meta", name=key)


def _check_new_resource_id(root: Element, resource_id: str) -> None:
    try:
        ct.check_new_id(root, resource_id, where="resource")
    except HactlError as exc:
        if ct.find_id(root, resource_id) is not None:
            raise HactlError(
                f"id {resource_id!r} is already in use",
                where="resource",
                hint="choose another name, or `hactl resource update` the existing one",
            ) from None
        raise exc


# ------------------------------------------------------------------------- create


def create_resource(
    root: Element, request: CreateRequest, metadata: AgentMetadata | None, notes: Notes
) -> Element:
    """`resource create` (and `stonith create` with a stonith agent): validate everything,
    then add the primitive (in its group or clone)."""
    rid = request.resource_id
    where = f"resource {rid}"
    _check_new_resource_id(root, rid)
    stonith = request.agent is not None and request.agent.standard == "stonith"
    if request.template is not None:
        found = ct.find_id(root, request.template)
        if found is None or found.tag != "template":
            known = [str(t.get("id")) for t in root.iter("template")]
            raise NotFoundError(
                f"template {request.template!r} does not exist",
                where=where,
                hint=did_you_mean(request.template, known)
                if known
                else "hactl resource template create …",
            )
    if request.is_template and (request.group or request.clone is not None or request.bundle):
        raise HactlError(
            "a template is not a resource: it cannot be grouped or cloned", where=where
        )
    check_params(metadata, request.params, where=where, force=request.force, notes=notes)
    _check_meta(request.meta, where)
    for op in request.operations:
        _check_operation(op, metadata, request.force, where)
    _check_unique_intervals(request.operations, where, force=request.force)
    if request.group is not None and request.clone is not None:
        raise HactlError(
            "a resource cannot be both in a group and cloned",
            where=where,
            hint="clone the group instead: `hactl resource clone GROUP`",
        )
    if request.group is not None:
        _check_group_target(root, request.group, where)
        position = request.before or request.after
        if position is not None:
            _check_group_member(root, request.group, position, where)
    elif request.before or request.after:
        raise HactlError("--before/--after need --group", where=where, hint="add --group G")
    if request.bundle is not None and (request.group is not None or request.clone is not None):
        raise HactlError("a bundle's resource cannot also be grouped or cloned", where=where)
    if request.bundle is not None:
        _empty_bundle(root, request.bundle, where)
    clone_id = None
    if request.clone is not None:
        clone_id = request.clone_id or f"{rid}-clone"
        if clone_id == rid:
            raise HactlError("the clone id cannot be the resource id", where=where)
        _check_new_resource_id(root, clone_id)
        _check_meta(request.clone, f"clone {clone_id}")

    ids = IdAllocator(root)
    ids.book(rid)
    if clone_id:
        ids.book(clone_id)
    user_names = {op.name for op in request.operations}
    defaults = [
        op
        for op in _default_operations(
            metadata, necessary_only=request.no_default_ops, stonith=stonith
        )
        if op.name not in user_names
    ]
    # templates, and primitives made from them, have only the operations given
    plain = request.is_template or request.template is not None
    operations = [*request.operations, *([] if plain else _unique_default_intervals(defaults))]
    operations.sort(key=lambda op: op.name)

    attributes = {"id": rid}
    if request.agent is not None:
        attributes.update({"class": request.agent.standard, "type": request.agent.type})
        if request.agent.provider:
            attributes["provider"] = request.agent.provider
    if request.template is not None:
        attributes["template"] = request.template
    primitive = etree.Element("template" if request.is_template else "primitive", attributes)
    if request.params:
        new_nvset(primitive, "instance_attributes", request.params, ids)
    if request.meta:
        new_nvset(primitive, "meta_attributes", request.meta, ids)
    for op in operations:
        append_operation(primitive, op, ids)

    resources = ct.section(root, "resources")
    top: Element = primitive
    if request.group is not None:
        group = _group_for(root, request.group)
        _insert_in_group(group, [primitive], request.before, request.after)
        top = group
    elif clone_id is not None:
        clone = etree.SubElement(resources, "clone", id=clone_id)
        clone.append(primitive)
        clone_meta = dict(request.clone or {})
        if request.promotable:
            clone_meta = {"promotable": "true", **clone_meta}
        if clone_meta:
            ct.update_nvset(clone, "meta_attributes", clone_meta, ids)
        top = clone
    elif request.bundle is not None:
        put_in_bundle(root, primitive, request.bundle)
    else:
        resources.append(primitive)
    if request.disabled:
        set_meta(top if top.tag != "group" else primitive, {"target-role": "Stopped"}, ids)
    return primitive


def _check_group_target(root: Element, group_id: str, where: str) -> None:
    existing = ct.find_id(root, group_id)
    if existing is not None and existing.tag != "group":
        raise HactlError(
            f"{group_id!r} exists and is a {existing.tag}, not a group",
            where=where,
            hint="choose another group name",
        )


def _check_group_member(root: Element, group_id: str, member: str, where: str) -> None:
    group = ct.find_id(root, group_id)
    members = [str(p.get("id")) for p in group.findall("primitive")] if group is not None else []
    if member not in members:
        raise NotFoundError(
            f"{member!r} is not in group {group_id!r}",
            where=where,
            hint=did_you_mean(member, members)
            if members
            else f"group {group_id!r} has no members yet",
        )


def _group_for(root: Element, group_id: str) -> Element:
    existing = ct.find_id(root, group_id)
    if existing is not None:
        return existing
    return etree.SubElement(ct.section(root, "resources"), "group", id=group_id)


def _insert_in_group(
    group: Element, primitives: Sequence[Element], before: str | None, after: str | None
) -> None:
    anchor_id = before or after
    members = group.findall("primitive")
    if anchor_id is None:
        index = (list(group).index(members[-1]) + 1) if members else len(group)
    else:
        anchor = next(p for p in members if p.get("id") == anchor_id)
        index = list(group).index(anchor) + (0 if before else 1)
    for offset, primitive in enumerate(primitives):
        group.insert(index + offset, primitive)


# ------------------------------------------------------------------------- delete


def delete_resource(
    root: Element, resource_id: str, notes: Notes, *, stonith: bool | None = None
) -> list[str]:
    """`resource delete`: the resource, its constraints and references, and a group or
    clone it leaves empty. Returns the ids removed."""
    element = ct.find_resource(root, resource_id, where="resource delete")
    if stonith is True and not ct.is_stonith(element):
        raise HactlError(
            f"{resource_id!r} is not a fence device",
            where="stonith delete",
            hint="use `hactl resource delete`",
        )
    if stonith is False and ct.is_stonith(element):
        raise HactlError(
            f"{resource_id!r} is a fence device",
            where="resource delete",
            hint="use `hactl stonith delete`",
        )
    # removing the only member of a group or clone removes the wrapper as well
    target = element
    while (
        (parent := target.getparent()) is not None
        and parent.tag in ("group", "clone", "master")
        and len(parent.findall("primitive") + parent.findall("group")) == 1
    ):
        target = parent
    nvsets.check_not_referred_to(root, [target], where="resource delete")
    removed_ids = [str(e.get("id")) for e in target.iter(*ct.RESOURCE_TAGS)]
    from hactl.core.commands.constraint import remove_references

    for removed in remove_references(root, removed_ids):
        notes.warn(f"removing constraint {removed}")
    ct.remove_elements([target])
    return removed_ids


# ------------------------------------------------------------------- update / meta


def update_resource(
    root: Element,
    resource_id: str,
    params: Mapping[str, str],
    operations: Sequence[Operation],
    meta: Mapping[str, str],
    metadata: AgentMetadata | None,
    notes: Notes,
    *,
    force: bool = False,
) -> Element:
    """`resource update`: set (or with an empty value remove) parameters, replace the
    operations named, set meta attributes."""
    element = ct.find_resource(root, resource_id, where="resource update")
    where = f"resource {resource_id}"
    if element.tag != "primitive" and (params or operations):
        raise HactlError(
            f"{resource_id!r} is a {element.tag}: only meta attributes can be updated",
            where=where,
            hint=f"use `hactl resource meta {resource_id} NAME=VALUE`",
        )
    if params:
        merged = {**ct.nvset_values(element, "instance_attributes"), **params}
        check_params(
            metadata,
            {k: v for k, v in merged.items() if v != ""},
            where=where,
            force=force,
            notes=notes,
            partial=True,
        )
    _check_meta(meta, where)
    for op in operations:
        _check_operation(op, metadata, force, where)
    _check_unique_intervals(operations, where, force=force)
    # an updated operation replaces those of its name, in their place (and may reuse the id)
    anchors: dict[str, int] = {}
    for op in operations:
        old = [o for o in element.findall("operations/op") if o.get("name") == op.name]
        if old:
            parent = old[0].getparent()
            assert parent is not None
            anchors[op.name] = list(parent).index(old[0])
            ct.remove_elements(old)
    ids = IdAllocator(root)
    if params:
        ct.update_nvset(element, "instance_attributes", params, ids)
    for op in operations:
        new = append_operation(element, op, ids)
        if op.name in anchors:
            ops_el = new.getparent()
            assert ops_el is not None
            ops_el.insert(anchors[op.name], new)
    if meta:
        set_meta(element, meta, ids)
    return element


def agent_of(root: Element, resource_id: str, *, where: str) -> AgentSpec | None:
    """The agent of a primitive (None for groups, clones, template-based primitives)."""
    element = ct.find_resource(root, resource_id, where=where)
    if element.tag != "primitive" or element.get("type") is None:
        return None
    return AgentSpec(
        standard=str(element.get("class")),
        provider=element.get("provider"),
        type=str(element.get("type")),
    )


def set_meta(element: Element, meta: Mapping[str, str], ids: IdAllocator | None = None) -> None:
    ct.update_nvset(
        element, "meta_attributes", meta, ids or IdAllocator(element.getroottree().getroot())
    )


def meta_resource(root: Element, resource_id: str, meta: Mapping[str, str]) -> Element:
    """`resource meta R NAME=VALUE…` (an empty value removes the name)."""
    element = ct.find_resource(root, resource_id, where="resource meta")
    _check_meta(meta, f"resource {resource_id}")
    set_meta(element, meta)
    return element


def utilization(root: Element, resource_id: str, values: Mapping[str, str]) -> dict[str, str]:
    """`resource utilization R [NAME=VALUE…]`: set, and return the current values."""
    element = ct.find_resource(root, resource_id, where="resource utilization")
    if values:
        _check_utilization_owner(element, "resource utilization")
    _check_utilization(values, f"resource {resource_id}")
    if values:
        ct.update_nvset(element, "utilization", values, IdAllocator(root))
    return ct.nvset_values(element, "utilization")


def _check_utilization_owner(element: Element, where: str) -> None:
    """Utilization belongs to primitives (and templates): Pacemaker's schema has none on
    groups, clones or bundles, which use their members' sum."""
    if element.tag not in ("primitive", "template"):
        members = [str(p.get("id")) for p in element.iter("primitive")]
        raise HactlError(
            f"{element.get('id')!r} is a {element.tag}: utilization belongs to primitives",
            where=where,
            hint="set it on its resources" + (f" ({', '.join(members)})" if members else ""),
        )


def _check_utilization(values: Mapping[str, str], where: str) -> None:
    for name, value in values.items():
        if value and not value.lstrip("-").isdigit():
            raise HactlError(
                f"utilization {name}={value!r} is not an integer", where=where, hint="e.g. cpu=2"
            )


#: `resource set create R … KIND …`: the keywords for a resource's kinds of sets (pcs's
#: `alert create` calls instance attributes "options" too)
RESOURCE_SET_KINDS = {
    "options": "instance_attributes",
    "meta": "meta_attributes",
    "utilization": "utilization",
}


def resource_set_create(
    root: Element,
    resource_id: str,
    request: nvsets.SetRequest,
    metadata: AgentMetadata | None,
    notes: Notes,
    *,
    force: bool = False,
) -> Element:
    """`resource set create R [id=ID] [score=N] options|meta|utilization PAIR… [rule EXPR]`:
    an attribute set of its own on any resource (a group's or clone's instance attributes
    too), applying where its rule holds."""
    element = ct.find_resource(root, resource_id, where="resource set create")
    where = f"resource set create {resource_id}"
    if request.tag == "instance_attributes":
        values = {p.name: p.value or "" for p in request.pairs if p.name is not None}
        check_params(metadata, values, where=where, force=force, notes=notes, partial=True)
    if request.tag == "meta_attributes":
        _check_meta({p.name: p.value for p in request.pairs if p.name and p.value}, where)
    if request.tag == "utilization":
        _check_utilization_owner(element, where)
        _check_utilization({p.name: p.value or "" for p in request.pairs if p.name}, where)
    return nvsets.create_set(element, request, where=where)


def resource_set_delete(root: Element, set_ids: Sequence[str]) -> None:
    """`resource set delete SET_ID…`: attribute sets of resources (not their operations')."""
    scope = [
        block
        for element in ct.all_resources(root)
        for block in element
        if block.tag in RESOURCE_SET_KINDS.values()
    ]
    nvsets.delete_sets(root, scope, set_ids, where="resource set delete")


def description(root: Element, resource_id: str, text: str | None, *, where: str) -> str:
    """`resource|stonith description R [TEXT]` (pcs's alias of `cib element description`):
    set the description (an empty TEXT removes it) and return it."""
    element = ct.find_resource(root, resource_id, where=where)
    if text is not None:
        if text:
            element.set("description", text)
        else:
            element.attrib.pop("description", "")
    return element.get("description", "")


# -------------------------------------------------------------------- operations


def op_add(
    root: Element, resource_id: str, op: Operation, metadata: AgentMetadata | None, *, force: bool
) -> Element:
    element = ct.find_resource(root, resource_id, where="resource op add")
    where = f"resource {resource_id}"
    if element.tag != "primitive":
        raise HactlError(
            f"{resource_id!r} is a {element.tag}: operations belong to primitives", where=where
        )
    _check_operation(op, metadata, force, where)
    existing = [
        Operation(str(o.get("name")), {"interval": str(o.get("interval"))})
        for o in element.findall("operations/op")
    ]
    try:
        _check_unique_intervals([*existing, op], where)
    except HactlError:
        if not force:
            raise HactlError(
                f"operation {op.name} with interval "
                f"{_interval_text(op.options, op.name)} already exists",
                where=where,
                hint="give another interval, or remove the old one first: "
                f"`hactl resource op remove {resource_id} {op.name}`",
            ) from None
    return append_operation(element, op, IdAllocator(root))


def op_remove(
    root: Element, target: str, action: str | None, options: Mapping[str, str]
) -> list[str]:
    """`resource op remove R ACTION [NAME=VALUE…]` or `resource op remove OP_ID`."""
    if action is None:
        found = ct.elements(root, "./configuration/resources//op[@id=$i]", i=target)
        if not found:
            raise NotFoundError(
                f"operation {target!r} does not exist",
                where="resource op remove",
                hint="give RESOURCE ACTION, or an operation id from `hactl resource config`",
            )
        ct.remove_elements(found)
        _drop_empty_operations(root)
        return [target]
    element = ct.find_resource(root, target, where="resource op remove")
    matches = []
    for op in element.findall("operations/op"):
        if op.get("name") != action:
            continue
        if all(op.get(k) == v for k, v in options.items()):
            matches.append(op)
    if not matches:
        names = sorted({str(o.get("name")) for o in element.findall("operations/op")})
        raise NotFoundError(
            f"resource {target!r} has no {action} operation"
            + (" with those options" if options else ""),
            where="resource op remove",
            hint=did_you_mean(action, names) if names else "it has no operations",
        )
    removed = [str(o.get("id")) for o in matches]
    ct.remove_elements(matches)
    _drop_empty_operations(root)
    return removed


def _drop_empty_operations(root: Element) -> None:
    ct.remove_elements(o for o in root.iter("operations") if len(o) == 0)


# ---------------------------------------------------------------------- defaults

DEFAULTS_SET_IDS = {"rsc_defaults": "rsc-options", "op_defaults": "op-options"}


def set_defaults(root: Element, section_name: str, values: Mapping[str, str]) -> dict[str, str]:
    """`resource defaults [update] NAME=VALUE…` / `resource op defaults …`."""
    section = ct.section(root, section_name)
    ids = IdAllocator(root)
    ct.update_nvset(
        section,
        "meta_attributes",
        values,
        ids,
        set_id=ids.allocate(DEFAULTS_SET_IDS[section_name])
        if section.find("meta_attributes") is None
        else None,
    )
    if len(section) == 0:
        ct.remove_elements([section])
        return {}
    return ct.nvset_values(section, "meta_attributes")


def defaults(root: Element, section_name: str) -> dict[str, str]:
    section = root.find(f"configuration/{section_name}")
    return ct.nvset_values(section, "meta_attributes") if section is not None else {}


def defaults_set_create(
    root: Element,
    section_name: str,
    options: Mapping[str, str],
    meta: Mapping[str, str],
    rule_words: Sequence[str],
) -> Element:
    """`resource [op] defaults set create [id=ID] [score=N] [meta NAME=VALUE…] [rule EXPR]`:
    a set of defaults that applies where its rule holds (``resource …``, ``op …`` and date
    expressions allowed, as in pcs)."""
    where = f"{section_name} set create"
    reject_unknown(options, nvsets.SET_OPTIONS, what="set option", where=where)
    if any(value == "" for value in meta.values()):
        raise HactlError("a new set cannot remove values", where=where, hint="give NAME=VALUE")
    request = nvsets.SetRequest(
        tag="meta_attributes",
        set_id=options.get("id"),
        score=parse_score(options["score"], where=where) if "score" in options else None,
        pairs=[nvsets.Pair(name, value) for name, value in meta.items()],
        rule_words=list(rule_words),
    )
    return nvsets.create_set(
        ct.section(root, section_name),
        request,
        where=where,
        allow_rsc=True,
        allow_op=section_name == "op_defaults",
        default_id=DEFAULTS_SET_IDS[section_name],
    )


def defaults_sets(root: Element, section_name: str) -> list[Element]:
    return list(root.iterfind(f"configuration/{section_name}/meta_attributes"))


def defaults_set_remove(root: Element, section_name: str, set_ids: Sequence[str]) -> None:
    """`resource [op] defaults set delete SET_ID…`."""
    sets = {str(s.get("id")): s for s in defaults_sets(root, section_name)}
    for set_id in set_ids:
        if set_id not in sets:
            raise NotFoundError(
                f"{section_name} set {set_id!r} does not exist",
                where=f"{section_name} set delete",
                hint=did_you_mean(set_id, sets) if sets else "there are no sets",
            )
    ct.remove_elements(sets[s] for s in set_ids)


# ------------------------------------------------------------------------ groups


def group_add(
    root: Element,
    group_id: str,
    members: Sequence[str],
    *,
    before: str | None = None,
    after: str | None = None,
) -> Element:
    """`resource group add G R…`: creates G when needed; members move from other groups."""
    where = f"group {group_id}"
    if not members:
        raise HactlError("no resources given", where=where, hint="hactl resource group add G R1 R2")
    _check_group_target(root, group_id, where)
    if ct.find_id(root, group_id) is None:
        ct.check_new_id(root, group_id, where=where)
    if before and after:
        raise HactlError("give --before or --after, not both", where=where)
    if (before or after) is not None:
        _check_group_member(root, group_id, str(before or after), where)
    elements = []
    for member in members:
        element = ct.find_resource(root, member, where=where)
        if element.tag != "primitive":
            raise HactlError(
                f"{member!r} is a {element.tag}: only primitives can be in a group", where=where
            )
        parent = element.getparent()
        if parent is not None and parent.tag in ("clone", "master", "bundle"):
            raise HactlError(
                f"{member!r} is cloned: a clone's primitive cannot join a group",
                where=where,
                hint=f"unclone it first: `hactl resource unclone {member}`",
            )
        if member == (before or after):
            raise HactlError(f"{member!r} cannot be placed relative to itself", where=where)
        if members.count(member) > 1:
            raise HactlError(f"{member!r} is given twice", where=where)
        elements.append(element)
    group = _group_for(root, group_id)
    old_groups = {p for e in elements if (p := e.getparent()) is not None and p.tag == "group"}
    for element in elements:
        parent = element.getparent()
        if parent is not None:
            parent.remove(element)
    _insert_in_group(group, elements, before, after)
    for old in old_groups:
        if old is not None and old is not group and not old.findall("primitive"):
            _remove_emptied_group(root, old)
    return group


def _remove_emptied_group(root: Element, group: Element) -> None:
    from hactl.core.commands.constraint import remove_references

    parent = group.getparent()
    target = parent if parent is not None and parent.tag in ("clone", "master") else group
    remove_references(root, [str(e.get("id")) for e in target.iter("group", "clone", "master")])
    ct.remove_elements([target])


def group_remove(root: Element, group_id: str, members: Sequence[str]) -> list[str]:
    """`resource group remove G [R…]` / `resource ungroup G [R…]`: members leave the group
    (to the top level, after it); an emptied group is removed."""
    group = ct.find_resource(root, group_id, where="resource ungroup")
    if group.tag != "group":
        raise HactlError(f"{group_id!r} is a {group.tag}, not a group", where="resource ungroup")
    current = [str(p.get("id")) for p in group.findall("primitive")]
    chosen = list(members) or current
    for member in chosen:
        if member not in current:
            raise NotFoundError(
                f"{member!r} is not in group {group_id!r}",
                where="resource ungroup",
                hint=did_you_mean(member, current),
            )
    container = group.getparent()
    assert container is not None
    cloned = container.tag in ("clone", "master")
    if cloned and len(chosen) < len(current):
        raise HactlError(
            f"group {group_id!r} is cloned: take all its members out or none",
            where="resource ungroup",
            hint=f"unclone it first: `hactl resource unclone {group_id}`",
        )
    anchor = container if cloned else group
    resources = anchor.getparent()
    assert resources is not None
    index = list(resources).index(anchor) + 1
    for offset, member in enumerate(chosen):
        element = next(p for p in group.findall("primitive") if p.get("id") == member)
        group.remove(element)
        resources.insert(index + offset, element)
    if not group.findall("primitive"):
        if cloned:
            # the clone keeps cloning the one member left (pcs does the same)
            primitive = resources[index]
            resources.remove(primitive)
            container.remove(group)
            container.insert(0, primitive)
            from hactl.core.commands.constraint import remove_references

            remove_references(root, [group_id])
        else:
            _remove_emptied_group(root, group)
    return chosen


# ------------------------------------------------------------------------ clones


def clone_resource(
    root: Element,
    resource_id: str,
    options: Mapping[str, str],
    *,
    clone_id: str | None = None,
    promotable: bool = False,
) -> Element:
    """`resource clone R [CLONE_ID] [opts]` / `resource promotable …`."""
    element = ct.find_resource(root, resource_id, where="resource clone")
    where = f"resource {resource_id}"
    if element.tag not in ("primitive", "group"):
        raise HactlError(f"{resource_id!r} is a {element.tag} and cannot be cloned", where=where)
    parent = element.getparent()
    assert parent is not None
    if parent.tag in ("clone", "master"):
        raise HactlError(f"{resource_id!r} is already cloned (in {parent.get('id')})", where=where)
    if parent.tag == "group":
        raise HactlError(
            f"{resource_id!r} is in group {parent.get('id')}: clone the group instead",
            where=where,
            hint=f"hactl resource clone {parent.get('id')}",
        )
    new_id = clone_id or f"{resource_id}-clone"
    ct.check_new_id(root, new_id, where=where)
    _check_meta(options, f"clone {new_id}")
    ids = IdAllocator(root)
    ids.book(new_id)
    index = list(parent).index(element)
    clone = etree.Element("clone", id=new_id)
    parent.insert(index, clone)
    clone.append(element)
    meta = {"promotable": "true", **options} if promotable else dict(options)
    if meta:
        ct.update_nvset(clone, "meta_attributes", meta, ids)
    # constraints must name the clone now, not what it clones (pcs moves them the same way)
    from hactl.core.commands.constraint import rename_references

    rename_references(root, resource_id, new_id)
    return clone


def unclone(root: Element, resource_id: str) -> Element:
    """`resource unclone R` (R is the clone or what it clones)."""
    element = ct.find_resource(root, resource_id, where="resource unclone")
    clone = element if element.tag in ("clone", "master") else element.getparent()
    if clone is None or clone.tag not in ("clone", "master"):
        raise HactlError(
            f"{resource_id!r} is not a clone",
            where="resource unclone",
            hint="give a clone id or a cloned resource",
        )
    inner = next(iter(clone.iterchildren("primitive", "group")))
    parent = clone.getparent()
    assert parent is not None
    index = list(parent).index(clone)
    from hactl.core.commands.constraint import remove_references

    remove_references(root, [str(clone.get("id"))])
    parent.remove(clone)
    parent.insert(index, inner)
    return inner


# ---------------------------------------------------------- enable / manage / move


def _primitives(element: Element) -> list[Element]:
    return [element] if element.tag == "primitive" else list(element.iter("primitive"))


def enable(root: Element, resource_ids: Sequence[str], *, enabled: bool) -> None:
    """`resource enable|disable R…`: target-role=Stopped, or no target-role anywhere."""
    elements = [
        ct.find_resource(root, r, where="resource " + ("enable" if enabled else "disable"))
        for r in resource_ids
    ]
    ids = IdAllocator(root)
    for element in elements:
        if enabled:
            # the resource, what it contains and what contains it: none may stop it
            related = list(element.iter(*ct.RESOURCE_TAGS)) + list(
                element.iterancestors(*ct.RESOURCE_TAGS)
            )
            for each in related:
                if each.find("meta_attributes") is not None:
                    ct.update_nvset(each, "meta_attributes", {"target-role": ""}, ids)
        else:
            ct.update_nvset(element, "meta_attributes", {"target-role": "Stopped"}, ids)


def manage(
    root: Element, resource_ids: Sequence[str], *, managed: bool, monitor: bool = False
) -> None:
    """`resource manage|unmanage R…`: is-managed on the primitives (pcs does the same)."""
    elements = [
        ct.find_resource(root, r, where="resource " + ("manage" if managed else "unmanage"))
        for r in resource_ids
    ]
    ids = IdAllocator(root)
    for element in elements:
        targets = _primitives(element)
        for each in element.iter(*ct.RESOURCE_TAGS) if managed else targets:
            if managed:
                if each.find("meta_attributes") is not None:
                    ct.update_nvset(each, "meta_attributes", {"is-managed": ""}, ids)
            else:
                ct.update_nvset(each, "meta_attributes", {"is-managed": "false"}, ids)
        if monitor:
            for primitive in targets:
                for op in primitive.findall("operations/op[@name='monitor']"):
                    if managed:
                        op.attrib.pop("enabled", "")
                    else:
                        op.set("enabled", "false")


def _lifetime_end(lifetime: str, now: datetime.datetime) -> str:
    ms = parse_duration_ms(lifetime)
    if ms is None:
        raise HactlError(
            f"{lifetime!r} is not a lifetime",
            where="lifetime",
            hint="e.g. lifetime=PT1H or lifetime=30min",
        )
    end = now + datetime.timedelta(milliseconds=ms)
    return end.strftime("%Y-%m-%d %H:%M:%SZ")


def _cli_constraint(
    root: Element,
    constraint_id: str,
    resource_id: str,
    node: str,
    score: str,
    role: str | None,
    lifetime: str | None,
    now: datetime.datetime,
) -> Element:
    constraints = ct.section(root, "constraints")
    ct.remove_elements(ct.elements(constraints, "rsc_location[@id=$i]", i=constraint_id))
    element = etree.SubElement(constraints, "rsc_location", id=constraint_id, rsc=resource_id)
    if role:
        element.set("role", role)
    if lifetime is None:
        element.set("node", node)
        element.set("score", score)
        return element
    # crm_resource's form: a rule limited by a date_expression
    suffix = constraint_id.removeprefix("cli-")
    kind, _, rest = suffix.partition("-")
    rule = etree.SubElement(
        element, "rule", {"id": f"cli-{kind}-rule-{rest}", "score": score, "boolean-op": "and"}
    )
    etree.SubElement(
        rule,
        "expression",
        {
            "id": f"cli-{kind}-expr-{rest}",
            "attribute": "#uname",
            "operation": "eq",
            "value": node,
            "type": "string",
        },
    )
    etree.SubElement(
        rule,
        "date_expression",
        {
            "id": f"cli-{kind}-lifetime-end-{rest}",
            "operation": "lt",
            "end": _lifetime_end(lifetime, now),
        },
    )
    return element


def move(
    root: Element,
    resource_id: str,
    node: str | None,
    *,
    lifetime: str | None,
    promoted: bool,
    now: datetime.datetime,
    ban: bool = False,
) -> Element:
    """`resource move R NODE` (cli-prefer-R, INFINITY) or `resource ban R NODE`
    (cli-ban-R-on-NODE, -INFINITY), as crm_resource writes them."""
    verb = "ban" if ban else "move"
    element = ct.find_resource(root, resource_id, where=f"resource {verb}")
    if node is None:
        raise HactlError(
            f"offline, `resource {verb}` needs a node: the resource's current node is only "
            "known to a running cluster",
            where=f"resource {verb}",
            hint=f"hactl -f FILE resource {verb} {resource_id} NODE",
        )
    if promoted:
        is_promotable = element.tag == "master" or any(
            p.get("value") == "true"
            for p in ct.elements(element, "meta_attributes/nvpair[@name='promotable']")
        )
        if not is_promotable:
            raise HactlError(
                f"{resource_id!r} is not a promotable clone",
                where=f"resource {verb}",
                hint="--promoted only applies to promotable clones",
            )
    role = "Promoted" if promoted else ("Started" if not ban else None)
    if ban:
        return _cli_constraint(
            root,
            f"cli-ban-{resource_id}-on-{node}",
            resource_id,
            node,
            "-INFINITY",
            role,
            lifetime,
            now,
        )
    return _cli_constraint(
        root, f"cli-prefer-{resource_id}", resource_id, node, "INFINITY", role, lifetime, now
    )


def clear(root: Element, resource_id: str, node: str | None) -> list[str]:
    """`resource clear R [NODE]`: the cli-prefer / cli-ban constraints of move and ban."""
    ct.find_resource(root, resource_id, where="resource clear")
    found = []
    for element in root.iterfind("configuration/constraints/rsc_location"):
        cid = str(element.get("id"))
        if element.get("rsc") != resource_id:
            continue
        if cid == f"cli-prefer-{resource_id}" and (
            node is None or element.get("node") == node or element.find("rule") is not None
        ):
            found.append(element)
        elif cid.startswith(f"cli-ban-{resource_id}-on-") and (
            node is None or cid == f"cli-ban-{resource_id}-on-{node}"
        ):
            found.append(element)
    ct.remove_elements(found)
    return [str(e.get("id")) for e in found]


# ----------------------------------------------------------------------- bundles

CONTAINER_TYPES = ("docker", "podman", "rkt")
CONTAINER_OPTIONS = (
    "image",
    "replicas",
    "replicas-per-host",
    "promoted-max",
    "masters",
    "network",
    "options",
    "run-command",
)
NETWORK_OPTIONS = ("add-host", "control-port", "host-interface", "host-netmask", "ip-range-start")
PORT_MAP_OPTIONS = ("id", "port", "internal-port", "range")
STORAGE_MAP_OPTIONS = ("id", "options", "source-dir", "source-dir-root", "target-dir")


@dataclass
class BundleRequest:
    bundle_id: str
    container_type: str
    container: dict[str, str] = field(default_factory=dict)
    network: dict[str, str] = field(default_factory=dict)
    port_maps: list[dict[str, str]] = field(default_factory=list)
    storage_maps: list[dict[str, str]] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    disabled: bool = False


def _check_bundle(root: Element, request: BundleRequest, where: str) -> None:
    if request.container_type not in CONTAINER_TYPES:
        raise HactlError(
            f"{request.container_type!r} is not a container type",
            where=where,
            hint=did_you_mean(request.container_type, CONTAINER_TYPES),
        )
    for options, allowed, what in (
        (request.container, CONTAINER_OPTIONS, "container option"),
        (request.network, NETWORK_OPTIONS, "network option"),
        *[(p, PORT_MAP_OPTIONS, "port-map option") for p in request.port_maps],
        *[(s, STORAGE_MAP_OPTIONS, "storage-map option") for s in request.storage_maps],
    ):
        for name in options:
            if name not in allowed:
                raise HactlError(
                    f"{name!r} is not a {what}", where=where, hint=did_you_mean(name, allowed)
                )
    if not request.container.get("image"):
        raise HactlError(
            "a bundle's container needs image=…",
            where=where,
            hint="e.g. container docker image=pcmktest:http",
        )
    for port_map in request.port_maps:
        if not (port_map.get("port") or port_map.get("range")):
            raise HactlError("a port-map needs port=… or range=…", where=where)
    for storage_map in request.storage_maps:
        if not storage_map.get("target-dir") or not (
            storage_map.get("source-dir") or storage_map.get("source-dir-root")
        ):
            raise HactlError(
                "a storage-map needs target-dir=… and source-dir=… (or source-dir-root=…)",
                where=where,
            )
    for user_id in [m["id"] for m in (*request.port_maps, *request.storage_maps) if "id" in m]:
        ct.check_new_id(root, user_id, where=where)


def create_bundle(root: Element, request: BundleRequest) -> Element:
    """`resource bundle create B container TYPE … [network …] [port-map …]…
    [storage-map …]… [meta …]`: ids B-port-map-PORT and B-storage-map, as pcs makes them."""
    where = f"bundle {request.bundle_id}"
    _check_new_resource_id(root, request.bundle_id)
    _check_bundle(root, request, where)
    _check_meta(request.meta, where)
    ids = IdAllocator(root)
    ids.book(request.bundle_id)
    for user_id in [m["id"] for m in (*request.port_maps, *request.storage_maps) if "id" in m]:
        ids.book(user_id)
    bundle = etree.SubElement(ct.section(root, "resources"), "bundle", id=request.bundle_id)
    etree.SubElement(bundle, request.container_type, request.container)
    if request.network or request.port_maps:
        network = etree.SubElement(bundle, "network", request.network)
        for port_map in request.port_maps:
            label = port_map.get("port") or port_map.get("range") or ""
            map_id = port_map.get("id") or ids.allocate(f"{request.bundle_id}-port-map-{label}")
            etree.SubElement(network, "port-mapping", {**port_map, "id": map_id})
    if request.storage_maps:
        storage = etree.SubElement(bundle, "storage")
        for storage_map in request.storage_maps:
            map_id = storage_map.get("id") or ids.allocate(f"{request.bundle_id}-storage-map")
            etree.SubElement(storage, "storage-mapping", {**storage_map, "id": map_id})
    meta = {**request.meta, **({"target-role": "Stopped"} if request.disabled else {})}
    if meta:
        ct.update_nvset(bundle, "meta_attributes", meta, ids)
    return bundle


def _empty_bundle(root: Element, bundle_id: str, where: str) -> Element:
    """The bundle a new resource goes in: it must exist and not run a resource yet."""
    bundle = ct.find_id(root, bundle_id)
    if bundle is None or bundle.tag != "bundle":
        known = [str(b.get("id")) for b in root.iter("bundle")]
        raise NotFoundError(
            f"bundle {bundle_id!r} does not exist",
            where=where,
            hint=did_you_mean(bundle_id, known) if known else "hactl resource bundle create …",
        )
    inner = bundle.find("primitive")
    if inner is not None:
        raise HactlError(
            f"bundle {bundle_id!r} already runs {inner.get('id')!r}",
            where=where,
            hint="a bundle runs one resource",
        )
    return bundle


def put_in_bundle(root: Element, primitive: Element, bundle_id: str) -> None:
    """`resource create … bundle B`: the bundle runs the primitive in its containers."""
    _empty_bundle(root, bundle_id, f"resource {primitive.get('id')}").append(primitive)
