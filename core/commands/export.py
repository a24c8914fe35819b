"""`config export pcs-commands`: the hactl commands (pcs's grammar) that recreate a CIB's
configuration on an empty CIB.

Every command carries the ids of the original (``id=…`` where the grammar has it) and
``--force`` where pcs's own export uses it (agents need not be installed where the
commands are replayed). Plain attribute sets are merged into the command that sets them
(first value wins, as Pacemaker reads them); when one set of a kind is not plain (it has
a score, a rule, a reference to another nvpair, or a pair others refer to), every set of
that kind is written one by one, in order, with hactl's ``set create``. What the grammar
cannot express (ACLs, references to whole sets, rules on an operation's sets…) is refused
with an error naming the element: an export never silently drops configuration.
"""

from __future__ import annotations

from collections.abc import Iterator

from hactl.core.cib.document import CONFIGURATION_SECTIONS
from hactl.core.commands.cibtools import Element
from hactl.core.commands.grammar import OP_META, OP_PARAMS
from hactl.core.commands.resource import RESOURCE_SET_KINDS
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


def _plain_sets(element: Element, tag: str, *, created: bool = False) -> dict[str, str]:
    """The name/value pairs of ``tag`` sets without rules or scores, merged with the
    first set winning (what Pacemaker does for equal-precedence sets). ``created``: the
    command creates the set, where NAME= is an empty value (elsewhere it removes NAME)."""
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
            if value == "" and not created:
                raise _refuse(pair, "an empty attribute value")
            merged.setdefault(str(pair.get("name")), value)
    return merged


def _pair_words(block: Element, referenced: frozenset[str]) -> list[str]:
    """A set's pairs as `set create` takes them: @ID for a reference, $ID:NAME=VALUE for
    a pair referred to (so the reference finds it), NAME=VALUE otherwise."""
    words = []
    for pair in block.findall("nvpair"):
        if pair.get("id-ref") is not None:
            words.append(f"@{pair.get('id-ref')}")
            continue
        word = f"{pair.get('name')}={pair.get('value', '')}"
        words.append(f"${pair.get('id')}:{word}" if pair.get("id") in referenced else word)
    return words


def _needs_sets(element: Element, tag: str, referenced: frozenset[str]) -> bool:
    """Whether ``element``'s ``tag`` sets must be written one by one (see the module doc)."""
    for block in element.findall(tag):
        if block.get("id-ref") is not None:
            raise _refuse(block, "a reference to another attribute set (id-ref)")
        if block.find("rule") is not None or block.get("score") is not None:
            return True
        for pair in block.findall("nvpair"):
            if pair.get("id-ref") is not None or pair.get("id") in referenced:
                return True
    return False


def _set_words(block: Element, referenced: frozenset[str]) -> tuple[list[str], list[str]]:
    """(the set options id= and score=, the pairs and rule) of one `set create`."""
    _check_children(block, ("nvpair", "rule"))
    rules = block.findall("rule")
    if len(rules) > 1:
        raise _refuse(block, "an attribute set with several rules")
    options = [f"id={block.get('id')}"]
    if block.get("score") is not None:
        options.append(f"score={block.get('score')}")
    rest = _pair_words(block, referenced)
    if not rest:
        raise _refuse(block, "an empty attribute set")
    if rules:
        rest += ["rule", rule_text(rules[0])]
    return options, rest


def _check_children(element: Element, allowed: tuple[str, ...]) -> None:
    for child in element:
        if isinstance(child.tag, str) and child.tag not in allowed:
            raise _refuse(child, f"<{child.tag}> inside <{element.tag}>")


#: set tag -> the kind keyword of `resource set create`
_RESOURCE_KINDS = {tag: keyword for keyword, tag in RESOURCE_SET_KINDS.items()}


class _Resources:
    """The commands of the resources section. Sets holding references come after every
    resource (``deferred``), since what they refer to may be created later."""

    def __init__(self, referenced: frozenset[str]) -> None:
        self.referenced = referenced
        self.deferred: list[Command] = []

    def _sets_one_by_one(self, element: Element, tag: str) -> Iterator[Command]:
        """`resource set create` for each ``tag`` set of ``element``, in order."""
        commands = []
        for block in element.findall(tag):
            if block.find("nvpair") is None:
                continue  # an empty set means nothing
            options, rest = _set_words(block, self.referenced)
            head = ["resource", "set", "create", str(element.get("id")), *options]
            commands.append([*head, _RESOURCE_KINDS[tag], *rest, "--force"])
        if any(word.startswith("@") for command in commands for word in command):
            self.deferred += commands
        else:
            yield from commands

    def _operation(self, op: Element) -> list[str]:
        _check_children(op, ("instance_attributes", "meta_attributes"))
        words = [str(op.get("name"))]
        words += _pairs(_attrs(op, skip=_OP_SKIP))
        for tag in ("instance_attributes", "meta_attributes"):
            if _needs_sets(op, tag, self.referenced):
                raise _refuse(op, "an operation's scored, ruled or referenced attribute set")
        params = _plain_sets(op, "instance_attributes", created=True)
        if "OCF_CHECK_LEVEL" in params:  # pcs's spelling: an operation option
            words.append(f"OCF_CHECK_LEVEL={params.pop('OCF_CHECK_LEVEL')}")
        words.append(f"id={op.get('id')}")
        if params:
            words += [OP_PARAMS, *_pairs(params)]
        meta = _plain_sets(op, "meta_attributes", created=True)
        if meta:
            words += [OP_META, *_pairs(meta)]
        return ["op", *words]

    def _description(self, element: Element) -> Iterator[Command]:
        text = element.get("description")
        if text is not None:
            noun = "stonith" if element.get("class") == "stonith" else "resource"
            yield [noun, "description", str(element.get("id")), text]

    def _check_attributes(self, element: Element, allowed: tuple[str, ...]) -> None:
        for attribute in element.attrib:
            if attribute not in ("id", "description", *allowed):
                raise _refuse(element, f"a {element.tag}'s {attribute!r} attribute")

    def _primitive(self, primitive: Element, *, group: str | None) -> Iterator[Command]:
        _check_children(
            primitive, ("instance_attributes", "meta_attributes", "utilization", "operations")
        )
        self._check_attributes(primitive, ("class", "provider", "type", "template"))
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
        one_by_one = {
            tag for tag in _RESOURCE_KINDS if _needs_sets(primitive, tag, self.referenced)
        }
        if "instance_attributes" not in one_by_one:
            words += _pairs(_plain_sets(primitive, "instance_attributes", created=True))
        ops = primitive.findall("operations/op")
        for op in ops:
            words += self._operation(op)
        meta = (
            {}
            if "meta_attributes" in one_by_one
            else _plain_sets(primitive, "meta_attributes", created=True)
        )
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
        utilization = {} if "utilization" in one_by_one else _plain_sets(primitive, "utilization")
        if utilization:
            yield ["resource", "utilization", rid, *_pairs(utilization)]
        for tag in _RESOURCE_KINDS:
            if tag in one_by_one:
                yield from self._sets_one_by_one(primitive, tag)
        yield from self._description(primitive)

    def _collective_sets(self, element: Element) -> Iterator[Command]:
        """A group's, clone's or bundle's own sets. Plain meta attributes went with the
        clone or bundle command and a group's go with `resource meta`, utilization with
        `resource utilization`; instance attributes (pcs has no command for them on these)
        and anything scored or ruled with `resource set create`."""
        rid = str(element.get("id"))
        for tag in _RESOURCE_KINDS:
            if tag == "instance_attributes" or _needs_sets(element, tag, self.referenced):
                yield from self._sets_one_by_one(element, tag)
            elif tag == "meta_attributes":
                if element.tag == "group" and (meta := _plain_sets(element, tag)):
                    yield ["resource", "meta", rid, *_pairs(meta)]
            elif values := _plain_sets(element, tag):
                yield ["resource", "utilization", rid, *_pairs(values)]
        yield from self._description(element)

    def resource(self, element: Element) -> Iterator[Command]:
        rid = str(element.get("id"))
        if element.tag in ("primitive", "template"):
            yield from self._primitive(element, group=None)
            return
        if element.tag == "group":
            _check_children(element, ("primitive", *_RESOURCE_KINDS))
            self._check_attributes(element, ())
            members = element.findall("primitive")
            if not members:
                raise _refuse(element, "an empty group")
            for member in members:
                yield from self._primitive(member, group=rid)
            yield from self._collective_sets(element)
            return
        if element.tag in ("clone", "master"):
            _check_children(element, ("primitive", "group", *_RESOURCE_KINDS))
            self._check_attributes(element, ())
            inner = next(iter(element.iterchildren("primitive", "group")), None)
            if inner is None:
                raise _refuse(element, "an empty clone")
            yield from self.resource(inner)
            verb = "promotable" if element.tag == "master" else "clone"
            meta = (
                {}
                if _needs_sets(element, "meta_attributes", self.referenced)
                else _plain_sets(element, "meta_attributes")
            )
            if element.tag == "master":
                meta.pop("promotable", None)
            yield ["resource", verb, str(inner.get("id")), rid, *_pairs(meta)]
            yield from self._collective_sets(element)
            return
        if element.tag == "bundle":
            yield from self._bundle(element)
            return
        raise _refuse(element, f"a {element.tag}")

    def _bundle(self, bundle: Element) -> Iterator[Command]:
        _check_children(
            bundle,
            ("docker", "podman", "rkt", "network", "storage", "primitive", *_RESOURCE_KINDS),
        )
        self._check_attributes(bundle, ())
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
        meta = (
            {}
            if _needs_sets(bundle, "meta_attributes", self.referenced)
            else _plain_sets(bundle, "meta_attributes")
        )
        if meta:
            words += ["meta", *_pairs(meta)]
        yield words
        inner = bundle.find("primitive")
        if inner is not None:
            for command in self._primitive(inner, group=None):
                if command[:2] == ["resource", "create"] or command[:2] == ["stonith", "create"]:
                    command = [*command[:-2], "bundle", bid, *command[-2:]]
                yield command
        yield from self._collective_sets(bundle)


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
    # nvpairs that others refer to: their ids must survive the replay
    referenced = frozenset(
        str(p.get("id-ref")) for p in configuration.iter("nvpair") if p.get("id-ref")
    )
    commands: list[Command] = []
    crm_config = configuration.find("crm_config")
    if crm_config is not None and _needs_sets(crm_config, "cluster_property_set", referenced):
        for block in crm_config.findall("cluster_property_set"):
            if block.find("nvpair") is not None:
                options, rest = _set_words(block, referenced)
                commands.append(["property", "set", "create", *options, *rest, "--force"])
    elif crm_config is not None and (properties := _plain_sets(crm_config, "cluster_property_set")):
        commands.append(["property", "set", *_pairs(properties), "--force"])
    for node in configuration.iterfind("nodes/node"):
        name = str(node.get("uname") or node.get("id"))
        for tag, noun in (("instance_attributes", "attribute"), ("utilization", "utilization")):
            if _needs_sets(node, tag, referenced):
                for block in node.findall(tag):
                    if block.find("nvpair") is not None:
                        options, rest = _set_words(block, referenced)
                        head = ["node", "set", "create", name, *options, noun]
                        commands.append([*head, *rest, "--force"])
            elif values := _plain_sets(node, tag):
                commands.append(["node", noun, name, *_pairs(values), "--force"])
    resources = configuration.find("resources")
    children = [e for e in (resources if resources is not None else ()) if isinstance(e.tag, str)]
    exporter = _Resources(referenced)
    # templates first: a primitive made from one may come before it in the document
    for element in sorted(children, key=lambda e: e.tag != "template"):
        commands += list(exporter.resource(element))
    commands += exporter.deferred
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
