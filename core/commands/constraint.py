"""Constraint use cases with pcs's meaning and ids: location (prefers / avoids / rule),
order, colocation, ticket, their set forms, remove, ref, and references cleanup when a
resource goes away.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from lxml import etree

from hactl.core.cib.document import is_valid_id
from hactl.core.commands import cibtools as ct
from hactl.core.commands.cibtools import Element, IdAllocator
from hactl.core.commands.grammar import (
    did_you_mean,
    expect_choice,
    parse_bool,
    parse_role,
    parse_score,
    reject_unknown,
)
from hactl.core.commands.rules import BoolExpr, parse_rule, rule_element
from hactl.core.errors import HactlError, NotFoundError

ACTIONS = ("start", "stop", "promote", "demote")
ORDER_KINDS = ("Optional", "Mandatory", "Serialize")
LOSS_POLICIES = ("fence", "stop", "freeze", "demote")
DISCOVERY = ("always", "never", "exclusive")
SET_OPTIONS = {
    "rsc_order": ("action", "require-all", "role", "sequential", "kind"),
    "rsc_colocation": ("action", "require-all", "role", "sequential", "score"),
    "rsc_ticket": ("action", "require-all", "role", "sequential"),
}
SET_CONSTRAINT_OPTIONS = {
    "rsc_order": ("id", "kind", "symmetrical", "require-all"),
    "rsc_colocation": ("id", "score", "influence", "node-attribute"),
    "rsc_ticket": ("id", "ticket", "loss-policy"),
}
SET_PREFIX = {"rsc_order": "order", "rsc_colocation": "colocation", "rsc_ticket": "ticket"}


def _constrainable(root: Element, resource_id: str, *, force: bool, where: str) -> Element:
    """A resource a constraint may name; a cloned primitive must be named by its clone."""
    element = ct.resource_or_tag(root, resource_id, where=where)
    parent = element.getparent()
    if not force and parent is not None and parent.tag in ("clone", "master", "bundle"):
        raise HactlError(
            f"{resource_id!r} is cloned: constraints should name the clone {parent.get('id')!r}",
            where=where,
            hint=f"use {parent.get('id')}, or --force to constrain {resource_id} itself",
        )
    return element


#: what an attribute means when it is absent, for telling duplicates apart
_ABSENT_MEANS = {
    "rsc-role": "Started",
    "with-rsc-role": "Started",
    "first-action": "start",
    "then-action": "start",
}


def _duplicates(root: Element, tag: str, attributes: Mapping[str, str | None]) -> list[str]:
    found = []
    for element in root.iterfind(f"configuration/constraints/{tag}"):
        if all(
            (element.get(k) or _ABSENT_MEANS.get(k)) == (v or _ABSENT_MEANS.get(k))
            for k, v in attributes.items()
        ):
            found.append(str(element.get("id")))
    return found


def _refuse_duplicate(
    root: Element, tag: str, attributes: Mapping[str, str | None], force: bool, where: str
) -> None:
    duplicates = _duplicates(root, tag, attributes)
    if duplicates and not force:
        raise HactlError(
            f"a constraint like this one exists already: {', '.join(duplicates)}",
            where=where,
            hint="remove it first (`hactl constraint remove ID`) or use --force",
        )


def _id_option(
    root: Element, options: dict[str, str], proposed: str, ids: IdAllocator, where: str
) -> str:
    if "id" in options:
        ct.check_new_id(root, options["id"], where=where)
        ids.book(options["id"])
        return options.pop("id")
    return ids.allocate(proposed)


def _bool_text(value: str, where: str, name: str, force: bool) -> str:
    """A boolean option as Pacemaker writes it; with --force an odd value is kept as given."""
    try:
        return str(parse_bool(value, where=where, name=name)).lower()
    except HactlError:
        if force:
            return value
        raise


def _choice(value: str, choices: Sequence[str], *, what: str, where: str, force: bool) -> str:
    try:
        return expect_choice(value, choices, what=what, where=where)
    except HactlError:
        if force:
            return value
        raise


# ---------------------------------------------------------------------- location


def location_prefers(
    root: Element,
    resource_id: str,
    nodes: Sequence[tuple[str, str | None]],
    *,
    avoids: bool,
    force: bool,
) -> list[Element]:
    """`constraint location R prefers|avoids N[=SCORE]…`: one constraint per node, id
    location-R-N-SCORE."""
    where = f"constraint location {resource_id}"
    pattern = resource_id.startswith("regexp%")
    if not pattern:
        _constrainable(root, resource_id, force=force, where=where)
    if not nodes:
        raise HactlError(
            "no node given",
            where=where,
            hint=f"hactl constraint location {resource_id} prefers NODE[=SCORE]",
        )
    planned = []
    for node, score_text in nodes:
        if not node:
            raise HactlError("empty node name", where=where, hint="write NODE or NODE=SCORE")
        score = parse_score(score_text, where=f"{where} {node}") if score_text else "INFINITY"
        if avoids:
            score = score[1:] if score.startswith("-") else ("-" + score if score != "0" else score)
        planned.append((node, score))
    ids = IdAllocator(root)
    constraints = ct.section(root, "constraints")
    created = []
    rsc_attr = "rsc-pattern" if pattern else "rsc"
    rsc_value = resource_id.removeprefix("regexp%")
    for node, score in planned:
        # pcs updates the score of an existing plain constraint for the same node
        existing = [
            e
            for e in constraints.iterfind("rsc_location")
            if e.get(rsc_attr) == rsc_value
            and e.get("node") == node
            and e.find("rule") is None
            and e.get("role") is None
            and not str(e.get("id")).startswith("cli-")
        ]
        if existing:
            existing[0].set("score", score)
            created.append(existing[0])
            continue
        element = etree.SubElement(
            constraints,
            "rsc_location",
            {
                "id": ids.allocate(f"location-{rsc_value}-{node}-{score}"),
                rsc_attr: rsc_value,
                "node": node,
                "score": score,
            },
        )
        created.append(element)
    return created


def location_add(
    root: Element,
    constraint_id: str,
    resource_id: str,
    node: str,
    score: str,
    options: Mapping[str, str],
    *,
    force: bool,
) -> Element:
    """`constraint location add ID R NODE SCORE [resource-discovery=…] [role=…]`."""
    where = f"constraint location add {constraint_id}"
    ct.check_new_id(root, constraint_id, where=where)
    pattern = resource_id.startswith("regexp%")
    if not pattern:
        _constrainable(root, resource_id, force=force, where=where)
    score = parse_score(score, where=where)
    extra = _location_options(options, where)
    rsc_attr = "rsc-pattern" if pattern else "rsc"
    element = etree.SubElement(
        ct.section(root, "constraints"),
        "rsc_location",
        {
            "id": constraint_id,
            rsc_attr: resource_id.removeprefix("regexp%"),
            "node": node,
            "score": score,
            **extra,
        },
    )
    return element


def _location_options(options: Mapping[str, str], where: str) -> dict[str, str]:
    reject_unknown(options, ("resource-discovery", "role"), what="location option", where=where)
    extra: dict[str, str] = {}
    if "resource-discovery" in options:
        extra["resource-discovery"] = expect_choice(
            options["resource-discovery"], DISCOVERY, what="resource-discovery", where=where
        )
    if "role" in options:
        extra["role"] = parse_role(options["role"], where=where)
    return extra


LOCATION_RULE_OPTIONS = (
    "id",
    "resource-discovery",
    "role",
    "rule-id",
    "score",
    "score-attribute",
    "constraint-id",
)


def location_rule(
    root: Element,
    resource_id: str,
    options: dict[str, str],
    rule_words: Sequence[str],
    *,
    force: bool,
) -> Element:
    """`constraint location R rule [id=] [role=] [score=|score-attribute=] EXPRESSION`."""
    where = f"constraint location {resource_id} rule"
    pattern = resource_id.startswith("regexp%")
    if not pattern:
        _constrainable(root, resource_id, force=force, where=where)
    reject_unknown(options, LOCATION_RULE_OPTIONS, what="location rule option", where=where)
    if "score" in options and "score-attribute" in options:
        raise HactlError("give score or score-attribute, not both", where=where)
    tree = parse_rule(rule_words, strict=not force)
    score = parse_score(options["score"], where=where) if "score" in options else None
    constraint_options = {k: v for k, v in options.items() if k in ("resource-discovery", "role")}
    extra = _location_options(constraint_options, where)
    ids = IdAllocator(root)
    if "constraint-id" in options:
        options["id"] = options.pop("constraint-id")
    rsc_value = resource_id.removeprefix("regexp%")
    constraint_id = _id_option(root, options, f"location-{rsc_value}", ids, where)
    rule_id = None
    if "rule-id" in options:
        ct.check_new_id(root, options["rule-id"], where=where)
        rule_id = options["rule-id"]
        ids.book(rule_id)
    element = etree.SubElement(
        ct.section(root, "constraints"),
        "rsc_location",
        {"id": constraint_id, ("rsc-pattern" if pattern else "rsc"): rsc_value, **extra},
    )
    _scored_rule(element, tree, ids, rule_id, options, score)
    return element


def _scored_rule(
    element: Element,
    tree: BoolExpr,
    ids: IdAllocator,
    rule_id: str | None,
    options: Mapping[str, str],
    score: str | None,
) -> Element:
    rule = rule_element(element, tree, ids, rule_id=rule_id)
    if "score-attribute" in options:
        rule.set("score-attribute", options["score-attribute"])
    else:
        rule.set("score", score or "INFINITY")
    return rule


RULE_ADD_OPTIONS = ("id", "rule-id", "role", "score", "score-attribute")


def rule_add(
    root: Element,
    constraint_id: str,
    options: dict[str, str],
    rule_words: Sequence[str],
    *,
    force: bool = False,
) -> Element:
    """`constraint rule add CONSTRAINT_ID [id=] [role=] [score=|score-attribute=] EXPRESSION`:
    another rule for a rule-based location constraint."""
    where = f"constraint rule add {constraint_id}"
    found = [c for c in constraints(root) if c.get("id") == constraint_id]
    if not found or found[0].tag != "rsc_location":
        known = [str(c.get("id")) for c in constraints(root) if c.tag == "rsc_location"]
        raise NotFoundError(
            f"location constraint {constraint_id!r} does not exist",
            where=where,
            hint=did_you_mean(constraint_id, known)
            if known
            else "there are no location constraints",
        )
    element = found[0]
    if element.get("node") is not None:
        raise HactlError(
            f"{constraint_id!r} places by node, not by rules",
            where=where,
            hint="create a rule constraint: hactl constraint location R rule …",
        )
    reject_unknown(options, RULE_ADD_OPTIONS, what="rule option", where=where)
    if "score" in options and "score-attribute" in options:
        raise HactlError("give score or score-attribute, not both", where=where)
    tree = parse_rule(rule_words, strict=not force)
    score = parse_score(options["score"], where=where) if "score" in options else None
    ids = IdAllocator(root)
    rule_id = options.get("rule-id") or options.get("id")
    if rule_id is not None:
        ct.check_new_id(root, rule_id, where=where)
        ids.book(rule_id)
    rule = _scored_rule(element, tree, ids, rule_id, options, score)
    if "role" in options:
        rule.set("role", parse_role(options["role"], where=where))
    return rule


# ------------------------------------------------------------------------- order


@dataclass
class OrderRequest:
    first: str
    then: str
    first_action: str = "start"
    then_action: str = "start"
    options: dict[str, str] = field(default_factory=dict)


def order(root: Element, request: OrderRequest, *, force: bool) -> Element:
    """`constraint order [ACTION] A then [ACTION] B [kind=] [symmetrical=] [id=]`:
    id order-A-B-<kind, lowercase when defaulted>."""
    where = "constraint order"
    first = _constrainable(root, request.first, force=force, where=where)
    then = _constrainable(root, request.then, force=force, where=where)
    if request.first == request.then and request.first_action == request.then_action:
        raise HactlError("a resource cannot be ordered after itself", where=where)
    for element in (first, then) if not force else ():
        parent = element.getparent()
        other = then if element is first else first
        if parent is not None and parent.tag == "group" and other.getparent() is parent:
            raise HactlError(
                f"{request.first!r} and {request.then!r} are in the same group, "
                "which orders them already",
                where=where,
                hint="change their order in the group: "
                "`hactl resource group add G R --before|--after X`",
            )
    first_action = expect_choice(request.first_action, ACTIONS, what="action", where=where)
    then_action = expect_choice(request.then_action, ACTIONS, what="action", where=where)
    options = dict(request.options)
    reject_unknown(
        options,
        ("id", "kind", "symmetrical", "require-all", "score"),
        what="order option",
        where=where,
    )
    suffix = "mandatory"
    attributes: dict[str, str] = {}
    if "kind" in options:
        attributes["kind"] = _choice(
            options.pop("kind"), ORDER_KINDS, what="order kind", where=where, force=force
        )
        suffix = attributes["kind"]
    if "score" in options:
        attributes["score"] = parse_score(options.pop("score"), where=where)
        suffix = attributes["score"]
    if "symmetrical" in options:
        attributes["symmetrical"] = _bool_text(
            options.pop("symmetrical"), where, "symmetrical", force
        )
    if "require-all" in options:
        attributes["require-all"] = _bool_text(
            options.pop("require-all"), where, "require-all", force
        )
    _refuse_duplicate(
        root,
        "rsc_order",
        {
            "first": request.first,
            "then": request.then,
            "first-action": first_action,
            "then-action": then_action,
        },
        force,
        where,
    )
    ids = IdAllocator(root)
    constraint_id = _id_option(
        root, options, f"order-{request.first}-{request.then}-{suffix}", ids, where
    )
    return etree.SubElement(
        ct.section(root, "constraints"),
        "rsc_order",
        {
            "id": constraint_id,
            "first": request.first,
            "first-action": first_action,
            "then": request.then,
            "then-action": then_action,
            **attributes,
        },
    )


# -------------------------------------------------------------------- colocation


@dataclass
class ColocationRequest:
    resource: str
    with_resource: str
    role: str | None = None
    with_role: str | None = None
    score: str | None = None
    options: dict[str, str] = field(default_factory=dict)


def colocation(root: Element, request: ColocationRequest, *, force: bool) -> Element:
    """`constraint colocation add [ROLE] A with [ROLE] B [SCORE] [influence=] [id=]`:
    id colocation-A-B-SCORE."""
    where = "constraint colocation add"
    _constrainable(root, request.resource, force=force, where=where)
    _constrainable(root, request.with_resource, force=force, where=where)
    if request.resource == request.with_resource:
        raise HactlError("a resource cannot be colocated with itself", where=where)
    options = dict(request.options)
    reject_unknown(
        options,
        ("id", "score", "influence", "node-attribute"),
        what="colocation option",
        where=where,
    )
    score = parse_score(options.pop("score", "") or request.score or "INFINITY", where=where)
    role = parse_role(request.role, where=where) if request.role else None
    with_role = parse_role(request.with_role, where=where) if request.with_role else None
    if role and not with_role:
        with_role = "Started"
    if with_role and not role:
        role = "Started"
    attributes: dict[str, str] = {}
    if "influence" in options:
        attributes["influence"] = _bool_text(options.pop("influence"), where, "influence", force)
    if "node-attribute" in options:
        attributes["node-attribute"] = options.pop("node-attribute")
    _refuse_duplicate(
        root,
        "rsc_colocation",
        {
            "rsc": request.resource,
            "with-rsc": request.with_resource,
            "rsc-role": role,
            "with-rsc-role": with_role,
        },
        force,
        where,
    )
    ids = IdAllocator(root)
    constraint_id = _id_option(
        root, options, f"colocation-{request.resource}-{request.with_resource}-{score}", ids, where
    )
    element = etree.SubElement(
        ct.section(root, "constraints"),
        "rsc_colocation",
        {
            "id": constraint_id,
            "rsc": request.resource,
            "with-rsc": request.with_resource,
            "score": score,
        },
    )
    if role:
        element.set("rsc-role", role)
    if with_role:
        element.set("with-rsc-role", with_role)
    for key, value in attributes.items():
        element.set(key, value)
    return element


# ------------------------------------------------------------------------ ticket


def ticket(
    root: Element,
    ticket_name: str,
    resource_id: str,
    role: str | None,
    options: dict[str, str],
    *,
    force: bool,
) -> Element:
    """`constraint ticket add TICKET [ROLE] R [loss-policy=] [id=]`: id ticket-T-R[-ROLE]."""
    where = f"constraint ticket add {ticket_name}"
    _check_ticket_name(ticket_name, where)
    _constrainable(root, resource_id, force=force, where=where)
    reject_unknown(options, ("id", "loss-policy", "rsc-role"), what="ticket option", where=where)
    role_value = (
        parse_role(role or options.pop("rsc-role", ""), where=where)
        if (role or options.get("rsc-role"))
        else None
    )
    options.pop("rsc-role", None)
    attributes: dict[str, str] = {}
    if "loss-policy" in options:
        attributes["loss-policy"] = _choice(
            options.pop("loss-policy"), LOSS_POLICIES, what="loss-policy", where=where, force=force
        )
    ids = IdAllocator(root)
    constraint_id = _id_option(
        root,
        options,
        f"ticket-{ticket_name}-{resource_id}" + (f"-{role_value}" if role_value else ""),
        ids,
        where,
    )
    element = etree.SubElement(
        ct.section(root, "constraints"),
        "rsc_ticket",
        {"id": constraint_id, "ticket": ticket_name, "rsc": resource_id},
    )
    if role_value:
        element.set("rsc-role", role_value)
    for key, value in attributes.items():
        element.set(key, value)
    return element


def _check_ticket_name(name: str, where: str) -> None:
    if not name or not is_valid_id(name):
        raise HactlError(
            f"{name!r} is not a valid ticket name", where=where, hint="letters, digits, _ . - only"
        )


# -------------------------------------------------------------------------- sets


@dataclass
class ResourceSet:
    resources: list[str]
    options: dict[str, str] = field(default_factory=dict)


def set_constraint(
    root: Element, tag: str, sets: Sequence[ResourceSet], options: dict[str, str], *, force: bool
) -> Element:
    """`constraint order|colocation|ticket set R… [opts] [set R… [opts]]… [setoptions opts]`."""
    prefix = SET_PREFIX[tag]
    where = f"constraint {prefix} set"
    if not sets or any(not s.resources for s in sets):
        raise HactlError(
            "every set needs at least one resource",
            where=where,
            hint=f"hactl constraint {prefix} set R1 R2 [set R3 R4]",
        )
    for resource_set in sets:
        for resource_id in resource_set.resources:
            _constrainable(root, resource_id, force=force, where=where)
        reject_unknown(resource_set.options, SET_OPTIONS[tag], what="set option", where=where)
        for key in ("sequential", "require-all"):
            if key in resource_set.options:
                resource_set.options[key] = _bool_text(resource_set.options[key], where, key, force)
        if "role" in resource_set.options:
            resource_set.options["role"] = parse_role(resource_set.options["role"], where=where)
        if "action" in resource_set.options:
            resource_set.options["action"] = _choice(
                resource_set.options["action"], ACTIONS, what="action", where=where, force=force
            )
        if "kind" in resource_set.options:
            resource_set.options["kind"] = _choice(
                resource_set.options["kind"],
                ORDER_KINDS,
                what="order kind",
                where=where,
                force=force,
            )
    reject_unknown(options, SET_CONSTRAINT_OPTIONS[tag], what=f"{prefix} set option", where=where)
    attributes: dict[str, str] = {}
    if tag == "rsc_colocation":
        attributes["score"] = parse_score(options.pop("score", "INFINITY"), where=where)
    if "kind" in options:
        attributes["kind"] = _choice(
            options.pop("kind"), ORDER_KINDS, what="order kind", where=where, force=force
        )
    if "symmetrical" in options:
        attributes["symmetrical"] = _bool_text(
            options.pop("symmetrical"), where, "symmetrical", force
        )
    if "influence" in options:
        attributes["influence"] = _bool_text(options.pop("influence"), where, "influence", force)
    if "loss-policy" in options:
        attributes["loss-policy"] = _choice(
            options.pop("loss-policy"), LOSS_POLICIES, what="loss-policy", where=where, force=force
        )
    if tag == "rsc_ticket":
        if "ticket" not in options:
            raise HactlError(
                "a ticket set constraint needs ticket=NAME",
                where=where,
                hint="add: setoptions ticket=T",
            )
        _check_ticket_name(options["ticket"], where)
        attributes["ticket"] = options.pop("ticket")
    for key, value in options.items():
        if key != "id":
            attributes[key] = value
    ids = IdAllocator(root)
    all_ids = [r for s in sets for r in s.resources]
    id_part = "".join(r[0] + r[-1] for r in all_ids)[:6]
    constraint_id = _id_option(root, options, f"{prefix}_set_{id_part}", ids, where)
    element = etree.SubElement(
        ct.section(root, "constraints"), tag, {"id": constraint_id, **attributes}
    )
    for resource_set in sets:
        set_element = etree.SubElement(
            element,
            "resource_set",
            {"id": ids.allocate(f"{constraint_id}_set"), **resource_set.options},
        )
        for resource_id in resource_set.resources:
            etree.SubElement(set_element, "resource_ref", id=resource_id)
    return element


# ------------------------------------------------------------------ remove / ref


def constraints(root: Element) -> list[Element]:
    section = root.find("configuration/constraints")
    return [] if section is None else [e for e in section if e.tag in ct.CONSTRAINT_TAGS]


def remove_constraints(root: Element, constraint_ids: Sequence[str]) -> list[str]:
    """`constraint remove ID…` (also a rule id of a location constraint)."""
    existing = {str(e.get("id")): e for e in constraints(root)}
    targets = []
    for constraint_id in constraint_ids:
        if constraint_id in existing:
            targets.append(existing[constraint_id])
            continue
        rules = ct.elements(
            root, "./configuration/constraints/rsc_location/rule[@id=$i]", i=constraint_id
        )
        if rules:
            targets.append(rules[0])
            continue
        raise NotFoundError(
            f"constraint {constraint_id!r} does not exist",
            where="constraint remove",
            hint=did_you_mean(constraint_id, existing) if existing else "there are no constraints",
        )
    for target in targets:
        parent = target.getparent()
        ct.remove_elements([target])
        # a location constraint whose last rule went has nothing left to say
        if target.tag == "rule" and parent is not None and parent.find("rule") is None:
            ct.remove_elements([parent])
    return list(constraint_ids)


def references(element: Element, resource_id: str) -> bool:
    direct = any(element.get(a) == resource_id for a in ("rsc", "with-rsc", "first", "then"))
    return direct or bool(ct.elements(element, ".//resource_ref[@id=$i]", i=resource_id))


def ref(root: Element, resource_id: str) -> list[str]:
    """`constraint ref R`: ids of the constraints naming R."""
    ct.resource_or_tag(root, resource_id, where="constraint ref")
    return [str(e.get("id")) for e in constraints(root) if references(e, resource_id)]


def remove_references(root: Element, resource_ids: Sequence[str]) -> list[str]:
    """Drop what names resources that are going away: plain constraints naming them, their
    entries in sets (and sets or constraints left empty), tag references. Returns the ids of
    the constraints removed."""
    gone = set(resource_ids)
    removed: list[str] = []
    for element in constraints(root):
        if any(element.get(a) in gone for a in ("rsc", "with-rsc", "first", "then")):
            removed.append(str(element.get("id")))
            ct.remove_elements([element])
            continue
        for resource_ref in ct.elements(element, ".//resource_ref"):
            if resource_ref.get("id") in gone:
                ct.remove_elements([resource_ref])
        for resource_set in element.findall("resource_set"):
            if resource_set.find("resource_ref") is None:
                ct.remove_elements([resource_set])
        if (
            element.find("resource_set") is None
            and element.get("rsc") is None
            and element.get("first") is None
            and element.get("rsc-pattern") is None
        ):
            removed.append(str(element.get("id")))
            ct.remove_elements([element])
    for obj_ref in ct.elements(root, "./configuration/tags/tag/obj_ref"):
        if obj_ref.get("id") in gone:
            tag = obj_ref.getparent()
            ct.remove_elements([obj_ref])
            if tag is not None and tag.find("obj_ref") is None:
                ct.remove_elements([tag])
    return removed


def rename_references(root: Element, old: str, new: str) -> None:
    """Make constraints that name ``old`` name ``new`` instead."""
    for element in constraints(root):
        for attribute in ("rsc", "with-rsc", "first", "then"):
            if element.get(attribute) == old:
                element.set(attribute, new)
        for resource_ref in element.iter("resource_ref"):
            if resource_ref.get("id") == old:
                resource_ref.set("id", new)


_PAIR_ATTRIBUTES = {
    "order": ("first", "then"),
    "colocation": ("rsc", "with-rsc"),
    "ticket": ("rsc", "ticket"),
}


def remove_between(root: Element, kind: str, first: str, second: str | None) -> list[str]:
    """`constraint order remove R` (every order naming R), `constraint colocation remove A
    B`, `constraint ticket remove T R` (here first=R, second=T)."""
    one, other = _PAIR_ATTRIBUTES[kind]
    found = [
        str(c.get("id"))
        for c in constraints(root)
        if c.tag == f"rsc_{kind}"
        and (
            (c.get(one) == first and (second is None or c.get(other) == second))
            or (second is None and c.get(other) == first)
        )
    ]
    if not found:
        names = first + (f" and {second}" if second else "")
        raise HactlError(
            f"no {kind} constraint names {names}",
            where=f"constraint {kind} remove",
            hint="see `hactl constraint config --full`",
        )
    return remove_constraints(root, found)
