"""Validation of a CIB with precise findings: ``validate(doc) -> list[Problem]``.

Each Problem names the element (file, line, tag and id) and what is wrong; for a typo the
hint is the nearest valid name. The checks: unknown elements and attributes, missing
required attributes, duplicate ids, references to missing ids (or to the wrong kind of
element), bad scores, intervals, booleans and enumerations, and invalid rules.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from lxml import etree

from hactl.core.cib.document import MANDATORY_SECTIONS, CibDocument, attributes, is_valid_id
from hactl.core.cib.schema import (
    CIB_ATTRIBUTES,
    CLUSTER_OPTIONS,
    ELEMENTS,
    PROMOTED_ROLES_SINCE,
    REFERENCE_ID_ELEMENTS,
    ROLE_ALIASES,
    Attr,
    Kind,
    is_score,
    option_value_error,
    parse_boolean,
    parse_duration_ms,
    role_spelling,
    schema_version,
)
from hactl.core.errors import Problem, ValidationError

_NEW_ROLES = frozenset(ROLE_ALIASES.values())
#: element -> (children it needs, whether only one is allowed, hint)
_REQUIRED_CHILDREN: dict[str, tuple[tuple[str, ...], bool, str]] = {
    "group": (("primitive",), False, "a group needs at least one primitive"),
    "clone": (("primitive", "group"), True, "a clone wraps exactly one primitive or group"),
    "master": (("primitive", "group"), True, "a clone wraps exactly one primitive or group"),
    "bundle": (("docker", "podman", "rkt"), True, "a bundle needs one container runtime"),
    "resource_set": (("resource_ref",), False, "list its resources as <resource_ref id=...>"),
    "tag": (("obj_ref",), False, "list what it tags as <obj_ref id=...>"),
}
_SCHEMA_NAME = re.compile(r"pacemaker-(\d+)\.(\d+)|pacemaker-next|none|transitional-0\.6")
_ISO_DATE = re.compile(
    r"\d{4}(-?\d{2}(-?\d{2})?|-?\d{3}|-?W\d{2}(-?\d)?)"
    r"([T ]\d{2}(:?\d{2}(:?\d{2}(\.\d+)?)?)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)?"
)
_DATE_SPEC_VALUE = re.compile(r"\s*\d+\s*(-\s*\d+\s*)?")
#: The values a date_spec field can take (a range like 9-17 must stay inside them).
_DATE_SPEC_RANGES = {
    "seconds": (0, 59), "minutes": (0, 59), "hours": (0, 23), "monthdays": (1, 31),
    "weekdays": (1, 7), "yeardays": (1, 366), "months": (1, 12), "weeks": (1, 53),
    "moon": (0, 7),
}  # fmt: skip


def nearest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to a mistyped name, if one is close enough to suggest."""
    matches = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _did_you_mean(name: str, candidates: Iterable[str], fallback: str) -> str:
    guess = nearest(name, candidates)
    return f"did you mean {guess!r}?" if guess else fallback


class _Validator:
    def __init__(self, doc: CibDocument) -> None:
        self.doc = doc
        self.problems: list[Problem] = []
        self.ids: dict[str, etree._Element] = {}
        self.references: list[tuple[etree._Element, str, str, Attr]] = []
        # (element, attribute) pairs already reported as the likely fix of a typo, so that
        # "klass" gives one problem, not also "missing class".
        self.typo_fixes: set[tuple[int, str]] = set()
        version = schema_version(doc.root.get("validate-with"))
        self.schema_too_old_for_roles = version is not None and version < PROMOTED_ROLES_SINCE

    def report_missing(self, element: etree._Element, name: str, hint: str) -> None:
        if (id(element), name) not in self.typo_fixes:
            self.report(element, f"missing required attribute {name!r}", hint)

    def report(self, element: etree._Element, message: str, hint: str | None = None) -> None:
        self.problems.append(Problem(message, where=self.doc.where(element), hint=hint))

    # -- the walk --------------------------------------------------------------------------

    def run(self) -> list[Problem]:
        root = self.doc.root
        self.check_cib_attributes(root)
        configuration = None
        for child in root:
            if not isinstance(child.tag, str):
                continue
            if child.tag == "configuration" and configuration is None:
                configuration = child
            elif child.tag == "status":
                # Pacemaker's schema allows anything in the status section, but not before
                # the configuration.
                if configuration is None:
                    self.report(
                        child,
                        "<status> comes before <configuration>",
                        "move <status> after <configuration>",
                    )
            else:
                self.report(
                    child,
                    f"unexpected element <{child.tag}> in <cib>",
                    _did_you_mean(
                        child.tag,
                        ("configuration", "status"),
                        "a <cib> holds only <configuration> and <status>",
                    ),
                )
        if configuration is None:
            self.report(
                root,
                "missing <configuration> section",
                "a CIB needs <configuration> with crm_config, nodes, resources, "
                "constraints (see `hactl cib new`)",
            )
            return self.problems
        self.check_sections(configuration)
        self.walk(configuration)
        self.check_references()
        return self.problems

    def check_sections(self, configuration: etree._Element) -> None:
        present = [c.tag for c in configuration if isinstance(c.tag, str)]
        for name in MANDATORY_SECTIONS:
            if name not in present:
                self.report(
                    configuration,
                    f"missing section <{name}>",
                    f"add an empty <{name}/> to <configuration>",
                )
        seen: set[str] = set()
        for child in configuration:
            if isinstance(child.tag, str) and child.tag in seen:
                self.report(
                    child,
                    f"section <{child.tag}> appears twice",
                    "merge its content into the first one",
                )
            seen.add(str(child.tag))

    def check_cib_attributes(self, root: etree._Element) -> None:
        for name, spec in CIB_ATTRIBUTES.items():
            if spec.required and root.get(name) is None:
                self.report(
                    root,
                    f"missing attribute {name!r}",
                    "a CIB carries admin_epoch, epoch and num_updates (0 is fine)",
                )
        for name, value in attributes(root).items():
            cib_attr = CIB_ATTRIBUTES.get(name)
            if cib_attr is None:
                self.report(
                    root,
                    f"unknown attribute {name!r}",
                    _did_you_mean(name, CIB_ATTRIBUTES, "remove it"),
                )
            else:
                self.check_value(root, name, value, cib_attr)
        schema = root.get("validate-with")
        if schema is not None and not _SCHEMA_NAME.fullmatch(schema):
            self.report(
                root,
                f"unknown schema {schema!r} in validate-with",
                "use a Pacemaker schema name such as pacemaker-3.9",
            )

    def walk(self, element: etree._Element) -> None:
        spec = ELEMENTS[str(element.tag)]
        for name, value in attributes(element).items():
            attr = spec.attrs.get(name)
            if attr is None:
                guess = nearest(name, spec.attrs)
                if guess is not None and element.get(guess) is None:
                    self.typo_fixes.add((id(element), guess))
                self.report(
                    element,
                    f"unknown attribute {name!r} in <{element.tag}>",
                    _did_you_mean(
                        name,
                        spec.attrs,
                        f"<{element.tag}> takes: {', '.join(sorted(spec.attrs)) or 'none'}",
                    ),
                )
                continue
            self.check_value(element, name, value, attr)
        self.check_required(element, spec.attrs)
        self.check_semantics(element)
        for child in element:
            if not isinstance(child.tag, str):
                continue  # comments and processing instructions
            if child.tag not in spec.children or child.tag not in ELEMENTS:
                where_ok = sorted(
                    parent for parent, s in ELEMENTS.items() if child.tag in s.children
                )
                fallback = (
                    f"<{child.tag}> belongs in <{'>, <'.join(where_ok)}>"
                    if where_ok
                    else f"<{element.tag}> holds: {', '.join(sorted(spec.children)) or 'nothing'}"
                )
                self.report(
                    child,
                    f"unknown element <{child.tag}> in <{element.tag}>",
                    _did_you_mean(str(child.tag), spec.children, fallback),
                )
                continue
            self.walk(child)

    def check_required(self, element: etree._Element, attrs: dict[str, Attr]) -> None:
        # An element that only points at another definition (id-ref) needs nothing else.
        if element.get("id-ref") is not None:
            return
        for name, attr in attrs.items():
            if attr.required and element.get(name) is None:
                self.report_missing(
                    element,
                    name,
                    f'add {name}="..." to <{element.tag}>',
                )

    def check_value(self, element: etree._Element, name: str, value: str, attr: Attr) -> None:
        kind = attr.kind
        bad: str | None = None
        hint: str | None = None
        if kind is Kind.ID:
            if not is_valid_id(value):
                bad = f"invalid id {value!r}"
                hint = "an id starts with a letter or '_' and has no spaces or ':'"
            else:
                self.record_id(element, value)
        elif kind is Kind.IDREF:
            self.references.append((element, name, value, attr))
        elif kind is Kind.SCORE:
            if not is_score(value):
                bad = f"bad score {value!r} in {name!r}"
                hint = "a score is an integer, INFINITY or -INFINITY"
        elif kind is Kind.DURATION:
            if parse_duration_ms(value) is None:
                bad = (
                    f"bad {'interval' if name == 'interval' else 'duration'} {value!r} in {name!r}"
                )
                hint = "a number with an optional unit (ms, s, min, h) such as 10s, or PT10S"
        elif kind in (Kind.INTEGER, Kind.NONNEGATIVE):
            pattern = r"\s*[+-]?\d+\s*" if kind is Kind.INTEGER else r"\s*\+?\d+\s*"
            if not re.fullmatch(pattern, value):
                bad = f"bad {kind.value} {value!r} in {name!r}"
                hint = f"{name} must be a {kind.value}"
        elif kind is Kind.BOOLEAN:
            if parse_boolean(value) is None:
                bad = f"bad boolean {value!r} in {name!r}"
                hint = "use true or false"
        elif kind is Kind.ENUM and value in _NEW_ROLES and self.schema_too_old_for_roles:
            bad = f"role {value!r} needs schema pacemaker-3.7 or later"
            hint = (
                f"write {role_spelling(value, self.doc.root.get('validate-with'))!r}, "
                "or raise validate-with (this CIB says "
                f"{self.doc.root.get('validate-with')})"
            )
        elif kind is Kind.ENUM and value not in attr.values:
            bad = f"bad value {value!r} for {name!r}"
            guess = nearest(value, attr.values) or next(
                (v for v in attr.values if v.lower() == value.lower()), None
            )
            hint = f"did you mean {guess!r}?" if guess else f"one of: {', '.join(attr.values)}"
        if bad:
            self.report(element, bad, hint)

    def record_id(self, element: etree._Element, value: str) -> None:
        if element.tag in REFERENCE_ID_ELEMENTS:
            return
        first = self.ids.get(value)
        if first is None:
            self.ids[value] = element
            return
        self.report(
            element,
            f"duplicate id {value!r}",
            f"already used by <{first.tag}> at line {self.doc.line_of(first)}; ids must be unique",
        )

    # -- rules of single elements ----------------------------------------------------------

    def check_semantics(self, element: etree._Element) -> None:
        tag = element.tag
        if tag in _REQUIRED_CHILDREN and element.get("id-ref") is None:
            self.check_children(element)
        if tag == "primitive" and element.get("template") is None:
            for name in ("class", "type"):
                if element.get(name) is None:
                    self.report_missing(
                        element,
                        name,
                        "a primitive needs class and type (or a template)",
                    )
            if element.get("class") == "ocf" and element.get("provider") is None:
                self.report(
                    element,
                    "an ocf resource needs a provider",
                    'e.g. provider="heartbeat" (ocf:heartbeat:IPaddr2)',
                )
        elif tag == "nvpair" and element.get("id-ref") is None:
            self.check_cluster_option(element)
            for name in ("id", "name"):
                if element.get(name) is None:
                    self.report_missing(
                        element,
                        name,
                        "an nvpair needs id and name (value is optional)",
                    )
        elif tag in (
            "meta_attributes",
            "instance_attributes",
            "utilization",
            "cluster_property_set",
            "resource_set",
        ):
            if element.get("id") is None and element.get("id-ref") is None:
                self.report_missing(
                    element,
                    "id",
                    f"give the <{tag}> an id (or an id-ref to another one)",
                )
        elif tag == "nodes":
            seen: dict[str, etree._Element] = {}
            for node in element.iterfind("node"):
                first = seen.setdefault(node.get("id", ""), node)
                if first is not node and node.get("id"):
                    self.report(
                        node,
                        f"duplicate node id {node.get('id')!r}",
                        f"already used by the node at line {self.doc.line_of(first)}",
                    )
        elif tag == "rule":
            self.check_rule(element)
        elif tag == "expression":
            operation = element.get("operation")
            if operation not in ("defined", "not_defined", None) and element.get("value") is None:
                self.report(
                    element,
                    f"expression with operation {operation!r} needs a value",
                    'add value="..." (only defined/not_defined take none)',
                )
        elif tag == "date_expression":
            self.check_date_expression(element)
        elif tag in ("date_spec", "duration"):
            self.check_date_fields(element)
        elif tag in ("rsc_expression", "op_expression"):
            allowed = (
                ("rsc_defaults", "op_defaults") if tag == "rsc_expression" else ("op_defaults",)
            )
            section = next((a.tag for a in element.iterancestors() if a.tag in (
                "rsc_defaults", "op_defaults", "constraints", "resources", "crm_config", "nodes",
                "alerts")), None)  # fmt: skip
            if section not in allowed:
                self.report(
                    element,
                    f"<{tag}> can only be used in rules of {' or '.join(allowed)}",
                    "Pacemaker evaluates it nowhere else; use an <expression> here",
                )
        elif tag == "rsc_location":
            if (
                element.get("rsc") is None
                and element.get("rsc-pattern") is None
                and element.find("resource_set") is None
            ):
                self.report(
                    element,
                    "location constraint names no resource",
                    'add rsc="...", rsc-pattern="..." or a <resource_set>',
                )
            has_rule = element.find("rule") is not None
            if not has_rule and element.get("node") is None and element.find("lifetime") is None:
                self.report(
                    element,
                    "location constraint has neither node nor rule",
                    'add node="..." score="..." or a <rule>',
                )
            if element.get("node") is not None and element.get("score") is None:
                self.report_missing(
                    element, "score", 'a location for a node needs a score, e.g. score="INFINITY"'
                )
            for rule in element.iterfind("rule"):
                if rule.get("id-ref") is None and rule.get("score") is None and \
                        rule.get("score-attribute") is None:  # fmt: skip
                    self.report(
                        rule,
                        "location rule has no score",
                        'add score="INFINITY" (or score-attribute="...")',
                    )
        elif tag == "rsc_colocation" and element.find("resource_set") is None:
            for name in ("rsc", "with-rsc"):
                if element.get(name) is None:
                    self.report_missing(
                        element,
                        name,
                        "a colocation needs rsc and with-rsc, or resource sets",
                    )
        elif tag == "rsc_order" and element.find("resource_set") is None:
            for name in ("first", "then"):
                if element.get(name) is None:
                    self.report_missing(
                        element,
                        name,
                        "an order needs first and then, or resource sets",
                    )
        elif (
            tag == "rsc_ticket"
            and element.find("resource_set") is None
            and element.get("rsc") is None
        ):
            self.report_missing(
                element,
                "rsc",
                "a ticket constraint needs rsc, or resource sets",
            )
        elif tag == "fencing-level":
            targets = [
                n
                for n in ("target", "target-pattern", "target-attribute")
                if element.get(n) is not None
            ]
            if not targets:
                self.report(
                    element,
                    "fencing level names no target",
                    'add target="NODE", target-pattern or target-attribute',
                )
            index = element.get("index", "")
            if index.strip().isdigit() and not 1 <= int(index) <= 9:
                self.report(
                    element, f"fencing level index {index} out of range", "use an index from 1 to 9"
                )

    def check_cluster_option(self, nvpair: etree._Element) -> None:
        parent = nvpair.getparent()
        grandparent = parent.getparent() if parent is not None else None
        if parent is None or parent.tag != "cluster_property_set" or grandparent is None or \
                grandparent.tag != "crm_config":  # fmt: skip
            return
        name, value = nvpair.get("name"), nvpair.get("value")
        if name is None:
            return
        if name not in CLUSTER_OPTIONS:
            # Pacemaker ignores names it does not know (real CIBs carry many old ones).
            return
        expected = option_value_error(name, value) if value is not None else None
        if expected is not None:
            self.report(
                nvpair,
                f"bad value {value!r} for cluster option {name!r}",
                f"{name} takes {expected}",
            )

    def check_children(self, element: etree._Element) -> None:
        allowed, at_most_one, hint = _REQUIRED_CHILDREN[str(element.tag)]
        found = [c for c in element if isinstance(c.tag, str) and c.tag in allowed]
        kinds = " or ".join(f"<{name}>" for name in allowed)
        if not found:
            self.report(element, f"<{element.tag}> has no {kinds}", hint)
        elif at_most_one and len(found) > 1:
            self.report(
                found[1], f"<{element.tag}> holds more than one {kinds}", "keep exactly one"
            )

    def check_rule(self, rule: etree._Element) -> None:
        if rule.get("id-ref") is not None:
            return
        if not any(isinstance(c.tag, str) for c in rule):
            self.report(
                rule,
                "rule has no expressions",
                "add an <expression>, <date_expression> or nested <rule>",
            )
        if rule.get("score") is not None and rule.get("score-attribute") is not None:
            self.report(rule, "rule has both score and score-attribute", "keep one of them")

    def check_date_fields(self, element: etree._Element) -> None:
        for name, value in attributes(element).items():
            if name == "id":
                continue
            if not _DATE_SPEC_VALUE.fullmatch(value):
                self.report(
                    element,
                    f"bad {element.tag} value {value!r} in {name!r}",
                    "use a number or a range such as 9-17",
                )
                continue
            limits = _DATE_SPEC_RANGES.get(name)
            if element.tag == "date_spec" and limits is not None:
                numbers = [int(n) for n in re.findall(r"-?\d+", value.replace(" ", ""))]
                low, high = limits
                if any(not low <= n <= high for n in numbers):
                    self.report(
                        element,
                        f"{name}={value!r} is out of range",
                        f"{name} goes from {low} to {high}",
                    )

    def check_date_expression(self, element: etree._Element) -> None:
        operation = element.get("operation")
        start, end = element.get("start"), element.get("end")
        for name, value in (("start", start), ("end", end)):
            if value is not None and not _ISO_DATE.fullmatch(value.strip()):
                self.report(
                    element,
                    f"bad date {value!r} in {name!r}",
                    "use ISO 8601, e.g. 2025-01-31 or 2025-01-31T08:00:00",
                )
        if operation == "in_range":
            if start is None and end is None:
                self.report(
                    element,
                    "in_range date expression needs start or end",
                    'add start="..." and end="..." (or a <duration>)',
                )
        elif operation == "gt" and start is None:
            self.report(element, "date expression 'gt' needs start", 'add start="..."')
        elif operation == "lt" and end is None:
            self.report(element, "date expression 'lt' needs end", 'add end="..."')
        elif operation == "date_spec" and element.find("date_spec") is None:
            self.report(
                element,
                "date expression 'date_spec' needs a <date_spec>",
                'add <date_spec id="..." hours="9-17"/>',
            )

    # -- cross references ------------------------------------------------------------------

    def check_references(self) -> None:
        for element, name, value, attr in self.references:
            target = self.ids.get(value)
            allowed = [t for t in attr.refers_to if t]
            if target is None:
                candidates = [i for i, el in self.ids.items() if not allowed or el.tag in allowed]
                self.report(
                    element,
                    f"{name}={value!r} refers to a missing id",
                    _did_you_mean(value, candidates, f"define an element with id {value!r} first"),
                )
            elif allowed and target.tag not in allowed:
                kinds = ", ".join(allowed)
                self.report(
                    element,
                    f"{name}={value!r} refers to a <{target.tag}>, not one of: {kinds}",
                    "point it at the right element",
                )


def validate(doc: CibDocument) -> list[Problem]:
    """Every problem in the document, in document order of discovery; [] when valid."""
    return _Validator(doc).run()


def ensure_valid(doc: CibDocument) -> None:
    """Raise ValidationError holding every problem, or return when the CIB is valid."""
    problems = validate(doc)
    if problems:
        raise ValidationError(problems, subject=f"CIB {doc.source}")
