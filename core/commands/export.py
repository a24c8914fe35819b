"""`config export pcs-commands`: the hactl commands (pcs's grammar) that recreate a CIB's
configuration on an empty CIB.

Every command carries the ids of the original (``id=…`` where the grammar has it) and
``--force`` where pcs's own export uses it (agents need not be installed where the
commands are replayed). What the grammar cannot express (bundles, templates, ACLs,
attribute sets with rules, ``id-ref``…) is refused with an error naming the element: an
export never silently drops configuration.
"""

from __future__ import annotations

from collections.abc import Iterator

from hactl.core.cib.document import CONFIGURATION_SECTIONS
from hactl.core.commands.cibtools import Element
from hactl.core.commands.rules import rule_text
from hactl.core.errors import HactlError

Command = list[str]

_OP_SKIP = ("id", "name")


class ExportError(HactlError):
    """Something in the CIB has no command in the grammar."""


def _refuse(element: Element, what: str) -> ExportError:
    label = f"<{element.tag} id={element.get('id')!r}>" if element.get("id") else f"<{element.tag}>"
    return ExportError(
        f"{what} cannot be written as hactl commands",
        where=label,
        hint="export the CIB itself instead: `hactl cluster cib FILE`",
    )


def _pairs(values: dict[str, str]) -> list[str]:
    return [f"{k}={v}" for k, v in values.items()]


def _attrs(element: Element, *, skip: tuple[str, ...] = ()) -> dict[str, str]:
    return {str(k): str(v) for k, v in element.attrib.items() if k not in skip}


def _plain_sets(element: Element, tag: str) -> dict[str, str]:
    """The name/value pairs of ``tag`` sets without rules or scores, merged with the
    first set winning (what Pacemaker does for equal-precedence sets)."""
    merged: dict[str, str] = {}
    for block in element.findall(tag):
        if block.get("id-ref") is not None:
            raise _refuse(block, "a reference to another attribute set (id-ref)")
        if block.find("rule") is not None or block.get("score") is not None:
            raise _refuse(block, "an attribute set with a rule or score")
        for pair in block.findall("nvpair"):
            if pair.get("id-ref") is not None:
                raise _refuse(pair, "a reference to another nvpair (id-ref)")
            value = str(pair.get("value", ""))
            if value == "":
                raise _refuse(pair, "an empty attribute value")
            merged.setdefault(str(pair.get("name")), value)
    return merged


def _check_children(element: Element, allowed: tuple[str, ...]) -> None:
    for child in element:
        if isinstance(child.tag, str) and child.tag not in allowed:
            raise _refuse(child, f"<{child.tag}> inside <{element.tag}>")


def _operation(op: Element) -> list[str]:
    _check_children(op, ("instance_attributes",))
    if op.find("meta_attributes") is not None:
        raise _refuse(op, "an operation with meta attributes")
    words = [str(op.get("name"))]
    words += _pairs(_attrs(op, skip=_OP_SKIP))
    extra = _plain_sets(op, "instance_attributes")
    for name, value in extra.items():
        if name != "OCF_CHECK_LEVEL":
            raise _refuse(op, "an operation instance attribute other than OCF_CHECK_LEVEL")
        words.append(f"OCF_CHECK_LEVEL={value}")
    words.append(f"id={op.get('id')}")
    return ["op", *words]


def _primitive(primitive: Element, *, group: str | None) -> Iterator[Command]:
    _check_children(
        primitive, ("instance_attributes", "meta_attributes", "utilization", "operations")
    )
    for attribute in primitive.attrib:
        if attribute not in ("id", "class", "provider", "type", "template"):
            raise _refuse(primitive, f"a {primitive.tag}'s {attribute!r} attribute")
    rid = str(primitive.get("id"))
    stonith = primitive.get("class") == "stonith"
    template = primitive.get("template")
    if template is not None and primitive.get("type") is not None:
        raise _refuse(primitive, "a primitive with both a template and an agent")
    agent = (
        str(primitive.get("type"))
        if stonith
        else ":".join(
            str(p)
            for p in (primitive.get("class"), primitive.get("provider"), primitive.get("type"))
            if p
        )
    )
    if primitive.tag == "template":
        words: Command = ["resource", "template", "create", rid, agent]
    elif template is not None:
        words = ["resource", "create", rid, "--template", template]
    else:
        words = ["stonith" if stonith else "resource", "create", rid, agent]
    words += _pairs(_plain_sets(primitive, "instance_attributes"))
    ops = primitive.findall("operations/op")
    for op in ops:
        words += _operation(op)
    meta = _plain_sets(primitive, "meta_attributes")
    if meta:
        words += ["meta", *_pairs(meta)]
    if group is not None:
        words += ["--group", group]
    plain = primitive.tag == "template" or template is not None
    words += ["--force"] if plain else ["--no-default-ops", "--force"]
    yield words
    if not plain and not any(op.get("name") == "monitor" for op in ops):
        # a resource is always created with a monitor (pcs's rule); the original had none
        yield ["resource", "op", "remove", rid, "monitor"]
    utilization = _plain_sets(primitive, "utilization")
    if utilization:
        yield ["resource", "utilization", rid, *_pairs(utilization)]


def _resource(element: Element) -> Iterator[Command]:
    rid = str(element.get("id"))
    if element.tag == "primitive":
        yield from _primitive(element, group=None)
        return
    if element.tag == "group":
        _check_children(
            element, ("primitive", "meta_attributes", "instance_attributes", "utilization")
        )
        if _plain_sets(element, "instance_attributes") or _plain_sets(element, "utilization"):
            raise _refuse(element, "a group's instance attributes or utilization")
        members = element.findall("primitive")
        if not members:
            raise _refuse(element, "an empty group")
        for member in members:
            yield from _primitive(member, group=rid)
        meta = _plain_sets(element, "meta_attributes")
        if meta:
            yield ["resource", "meta", rid, *_pairs(meta)]
        return
    if element.tag in ("clone", "master"):
        _check_children(element, ("primitive", "group", "meta_attributes", "instance_attributes"))
        if _plain_sets(element, "instance_attributes"):
            raise _refuse(element, "a clone's instance attributes")
        inner = next(iter(element.iterchildren("primitive", "group")), None)
        if inner is None:
            raise _refuse(element, "an empty clone")
        yield from _resource(inner)
        meta = _plain_sets(element, "meta_attributes")
        verb = "clone"
        if element.tag == "master":
            verb = "promotable"
            meta.pop("promotable", None)
        yield ["resource", verb, str(inner.get("id")), rid, *_pairs(meta)]
        return
    if element.tag == "bundle":
        yield from _bundle(element)
        return
    if element.tag == "template":
        yield from _primitive(element, group=None)
        return
    raise _refuse(element, f"a {element.tag}")


def _bundle(bundle: Element) -> Iterator[Command]:
    _check_children(
        bundle, ("docker", "podman", "rkt", "network", "storage", "primitive", "meta_attributes")
    )
    bid = str(bundle.get("id"))
    words: Command = ["resource", "bundle", "create", bid]
    container = next(iter(bundle.iterchildren("docker", "podman", "rkt")), None)
    if container is None:
        raise _refuse(bundle, "a bundle without a container")
    words += ["container", str(container.tag), *_pairs(_attrs(container))]
    network = bundle.find("network")
    if network is not None:
        _check_children(network, ("port-mapping",))
        words += ["network", *_pairs(_attrs(network))]
        for port_map in network.findall("port-mapping"):
            words += ["port-map", *_pairs(_attrs(port_map))]
    storage = bundle.find("storage")
    if storage is not None:
        _check_children(storage, ("storage-mapping",))
        for storage_map in storage.findall("storage-mapping"):
            words += ["storage-map", *_pairs(_attrs(storage_map))]
    meta = _plain_sets(bundle, "meta_attributes")
    if meta:
        words += ["meta", *_pairs(meta)]
    yield words
    inner = bundle.find("primitive")
    if inner is not None:
        for command in _primitive(inner, group=None):
            if command[:2] == ["resource", "create"] or command[:2] == ["stonith", "create"]:
                command = [*command[:-2], "bundle", bid, *command[-2:]]
            yield command


def _score_words(element: Element) -> list[str]:
    if element.get("score-attribute") is not None:
        raise _refuse(element, "a score-attribute")
    return [str(element.get("score"))] if element.get("score") is not None else []


def _sets(constraint: Element) -> list[str]:
    words: list[str] = []
    for index, resource_set in enumerate(constraint.findall("resource_set")):
        if index:
            words.append("set")
        words += [str(r.get("id")) for r in resource_set.findall("resource_ref")]
        words += _pairs(_attrs(resource_set, skip=("id",)))
    return words


def _location(constraint: Element) -> Iterator[Command]:
    cid = str(constraint.get("id"))
    if constraint.find("resource_set") is not None:
        raise _refuse(constraint, "a location constraint with resource sets")
    if constraint.get("rsc-pattern") is not None:
        target = f"regexp%{constraint.get('rsc-pattern')}"
    else:
        target = str(constraint.get("rsc"))
    options = [
        f"{k}={v}" for k, v in _attrs(constraint).items() if k in ("role", "resource-discovery")
    ]
    for attribute in constraint.attrib:
        if attribute not in (
            "id",
            "rsc",
            "rsc-pattern",
            "node",
            "score",
            "role",
            "resource-discovery",
        ):
            raise _refuse(constraint, f"a location constraint's {attribute!r}")
    rules = constraint.findall("rule")
    if not rules:
        if constraint.get("node") is None or constraint.get("score") is None:
            raise _refuse(constraint, "a location constraint without node and score")
        yield [
            "constraint",
            "location",
            "add",
            cid,
            target,
            str(constraint.get("node")),
            str(constraint.get("score")),
            *options,
        ]
        return
    for index, rule in enumerate(rules):
        if rule.get("id-ref") is not None:
            raise _refuse(rule, "a reference to another rule (id-ref)")
        rule_options = [f"rule-id={rule.get('id')}"]
        if rule.get("score-attribute") is not None:
            rule_options.append(f"score-attribute={rule.get('score-attribute')}")
        elif rule.get("score") is not None:
            rule_options.append(f"score={rule.get('score')}")
        if rule.get("role") is not None:
            if index or len(rules) > 1 or constraint.get("role") is not None:
                raise _refuse(rule, "a rule with its own role among several")
            rule_options.append(f"role={rule.get('role')}")
        expression = rule_text(rule)
        if index == 0:
            yield [
                "constraint",
                "location",
                target,
                "rule",
                f"constraint-id={cid}",
                *options,
                *rule_options,
                expression,
            ]
        else:
            yield ["constraint", "rule", "add", cid, *rule_options, expression]


def _constraint(constraint: Element) -> Iterator[Command]:
    if constraint.find("lifetime") is not None:
        raise _refuse(constraint, "a constraint lifetime")
    tag = constraint.tag
    if tag == "rsc_location":
        yield from _location(constraint)
        return
    kind = tag.removeprefix("rsc_")
    if constraint.find("resource_set") is not None:
        options = _pairs(_attrs(constraint))
        yield ["constraint", kind, "set", *_sets(constraint), "setoptions", *options]
        return
    if tag == "rsc_order":
        rest = _attrs(constraint, skip=("first", "then", "first-action", "then-action"))
        first_action = constraint.get("first-action", "start")
        then_action = constraint.get("then-action", first_action)
        yield [
            "constraint",
            "order",
            first_action,
            str(constraint.get("first")),
            "then",
            then_action,
            str(constraint.get("then")),
            *_pairs(rest),
        ]
        return
    if tag == "rsc_colocation":
        allowed = (
            "id",
            "rsc",
            "with-rsc",
            "score",
            "rsc-role",
            "with-rsc-role",
            "influence",
            "node-attribute",
        )
        for attribute in constraint.attrib:
            if attribute not in allowed:
                raise _refuse(constraint, f"a colocation's {attribute!r}")
        words = ["constraint", "colocation", "add"]
        if constraint.get("rsc-role") or constraint.get("with-rsc-role"):
            words += [
                constraint.get("rsc-role") or "Started",
                str(constraint.get("rsc")),
                "with",
                constraint.get("with-rsc-role") or "Started",
                str(constraint.get("with-rsc")),
            ]
        else:
            words += [str(constraint.get("rsc")), "with", str(constraint.get("with-rsc"))]
        # Pacemaker reads a colocation without a score as 0; pcs's default would be INFINITY
        words += _score_words(constraint) or ["0"]
        words += [
            f"{k}={v}"
            for k, v in _attrs(constraint).items()
            if k in ("id", "influence", "node-attribute")
        ]
        yield words
        return
    if tag == "rsc_ticket":
        words = ["constraint", "ticket", "add", str(constraint.get("ticket"))]
        if constraint.get("rsc-role"):
            words.append(str(constraint.get("rsc-role")))
        words.append(str(constraint.get("rsc")))
        words += [f"{k}={v}" for k, v in _attrs(constraint).items() if k in ("id", "loss-policy")]
        yield words
        return
    raise _refuse(constraint, f"a {tag}")


def export_commands(root: Element) -> list[Command]:
    """The commands (argv words after ``hactl``) that rebuild ``root``'s configuration."""
    configuration = root.find("configuration")
    if configuration is None:
        raise ExportError("the CIB has no configuration section")
    for child in configuration:
        if isinstance(child.tag, str) and child.tag not in CONFIGURATION_SECTIONS:
            raise _refuse(child, f"the <{child.tag}> section")
        if child.tag == "acls" and len(child):
            raise _refuse(child, "ACLs")
    commands: list[Command] = []
    properties: dict[str, str] = {}
    for block in configuration.iterfind("crm_config/cluster_property_set"):
        if block.find("rule") is not None or block.get("score") is not None:
            raise _refuse(block, "a cluster property set with a rule or score")
    crm_config = configuration.find("crm_config")
    if crm_config is not None:
        properties = _plain_sets(crm_config, "cluster_property_set")
    if properties:
        commands.append(["property", "set", *_pairs(properties), "--force"])
    for node in configuration.iterfind("nodes/node"):
        name = str(node.get("uname") or node.get("id"))
        for tag, noun in (("instance_attributes", "attribute"), ("utilization", "utilization")):
            values = _plain_sets(node, tag)
            if values:
                commands.append(["node", noun, name, *_pairs(values), "--force"])
    resources = configuration.find("resources")
    children = [e for e in (resources if resources is not None else ()) if isinstance(e.tag, str)]
    # templates first: a primitive made from one may come before it in the document
    for element in sorted(children, key=lambda e: e.tag != "template"):
        commands += list(_resource(element))
    for section, verb in (
        ("rsc_defaults", ["resource", "defaults"]),
        ("op_defaults", ["resource", "op", "defaults"]),
    ):
        found = configuration.find(section)
        if found is None:
            continue
        blocks = found.findall("meta_attributes")
        if (
            len(blocks) <= 1
            and found.find("meta_attributes/rule") is None
            and not any(b.get("score") for b in blocks)
        ):
            values = _plain_sets(found, "meta_attributes")
            if values:
                commands.append([*verb, "update", *_pairs(values)])
            continue
        for block in blocks:  # sets with rules or scores: one `set create` each
            commands.append([*verb, "set", "create", *_defaults_set_words(block)])
    # tags before constraints: constraints may name them
    for tag_element in configuration.iterfind("tags/tag"):
        members = [str(o.get("id")) for o in tag_element.findall("obj_ref")]
        commands.append(["tag", "create", str(tag_element.get("id")), *members])
    constraints = configuration.find("constraints")
    for constraint in constraints if constraints is not None else ():
        if isinstance(constraint.tag, str):
            # --force: constraints may name a clone's primitive, as the original does
            commands += [[*words, "--force"] for words in _constraint(constraint)]
    for level in configuration.iterfind("fencing-topology/fencing-level"):
        if level.get("target-pattern") is not None:
            target = f"regexp%{level.get('target-pattern')}"
        elif level.get("target-attribute") is not None:
            target = f"attrib%{level.get('target-attribute')}={level.get('target-value')}"
        else:
            target = str(level.get("target"))
        commands.append(
            [
                "stonith",
                "level",
                "add",
                str(level.get("index")),
                target,
                str(level.get("devices")),
                f"id={level.get('id')}",
                "--force",
            ]
        )
    for alert in configuration.iterfind("alerts/alert"):
        commands.append(_alert_words(["alert", "create"], alert, ("id", "path", "description")))
        for recipient in alert.findall("recipient"):
            commands.append(
                _alert_words(
                    ["alert", "recipient", "add", str(alert.get("id"))],
                    recipient,
                    ("id", "value", "description"),
                )
            )
    return commands


def _defaults_set_words(block: Element) -> Command:
    _check_children(block, ("nvpair", "rule"))
    if block.get("id-ref") is not None or len(block.findall("rule")) > 1:
        raise _refuse(block, "a defaults set with an id-ref or several rules")
    words = [f"id={block.get('id')}"]
    if block.get("score") is not None:
        words.append(f"score={block.get('score')}")
    pairs = {str(p.get("name")): str(p.get("value", "")) for p in block.findall("nvpair")}
    if any(v == "" for v in pairs.values()) or any(
        p.get("id-ref") for p in block.findall("nvpair")
    ):
        raise _refuse(block, "an empty or referenced value")
    if pairs:
        words += ["meta", *_pairs(pairs)]
    rule = block.find("rule")
    if rule is not None:
        words += ["rule", rule_text(rule)]
    return words


def _alert_words(head: Command, element: Element, settings: tuple[str, ...]) -> Command:
    _check_children(element, ("instance_attributes", "meta_attributes", "recipient"))
    words = [*head, *[f"{k}={element.get(k)}" for k in settings if element.get(k) is not None]]
    options = _plain_sets(element, "instance_attributes")
    meta = _plain_sets(element, "meta_attributes")
    if options:
        words += ["options", *_pairs(options)]
    if meta:
        words += ["meta", *_pairs(meta)]
    return words
