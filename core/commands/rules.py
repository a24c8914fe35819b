"""pcs's rule language: parse it, write it as Pacemaker rule XML, and print it back.

Grammar (words are case-insensitive keywords; ``and``/``or`` bind equally, left to right,
runs of the same operator folding into one rule, as pcs does)::

    expr    := term (("and" | "or") term)*
    term    := "(" expr ")"
             | ("defined" | "not_defined") ATTR
             | ATTR ("eq"|"ne"|"lt"|"gt"|"lte"|"gte") [TYPE] VALUE
                                           TYPE: string integer number version
             | "date" ("gt" | "lt") DATE
             | "date" "in_range" [DATE] "to" (DATE | "duration" PART=N…)
             | "date-spec" PART=RANGE…
             | "resource" STANDARD:[PROVIDER]:TYPE                       (rsc_defaults rules)
             | "op" NAME ["interval=" DURATION]                          (op_defaults rules)

The parser is a pure function of its words; :func:`rule_element` writes the tree with pcs's
ids (``<parent>-rule``, ``<rule>-expr``, ``<expr>-datespec``, ``<expr>-duration``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from lxml import etree

from hactl.core.commands.cibtools import Element, IdAllocator
from hactl.core.commands.grammar import did_you_mean
from hactl.core.errors import HactlError

UNARY_ATTR_OPS = ("defined", "not_defined")
BINARY_ATTR_OPS = ("eq", "ne", "lt", "gt", "lte", "gte")
ATTR_TYPES = ("string", "integer", "number", "version")
DATE_SPEC_PARTS = {
    "hours": (0, 23),
    "minutes": (0, 59),
    "seconds": (0, 59),
    "monthdays": (1, 31),
    "weekdays": (1, 7),
    "yeardays": (1, 366),
    "months": (1, 12),
    "weeks": (1, 53),
    "years": (0, 9999),
    "weekyears": (0, 9999),
    "moon": (0, 7),
}
DURATION_PARTS = ("years", "months", "weeks", "days", "hours", "minutes", "seconds")
_KEYWORDS = (
    ("and", "or", "date", "date-spec", "in_range", "to", "duration", "resource", "op")
    + UNARY_ATTR_OPS
    + BINARY_ATTR_OPS
)
_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([ T]\d{2}(:\d{2}(:\d{2})?)?([.,]\d+)?\s*(Z|[+-]\d{2}(:?\d{2})?)?)?$"
    r"|^\d{4}-W\d{2}-\d$|^\d{4}-\d{3}$"
)
_INTEGER = re.compile(r"^[+-]?\d+$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_VERSION = re.compile(r"^\d+(\.\d+)*$")
_RANGE = re.compile(r"^(\d+)(?:-(\d+))?$")


class RuleError(HactlError):
    """A rule that does not parse or names something invalid; says where in the rule."""


# ------------------------------------------------------------------------------ tree


@dataclass(frozen=True)
class AttrExpr:
    attribute: str
    operation: str
    value: str | None = None
    type: str | None = None


@dataclass(frozen=True)
class DateExpr:
    operation: str  # gt, lt, in_range, date_spec
    start: str | None = None
    end: str | None = None
    parts: tuple[tuple[str, str], ...] = ()  # date_spec or duration parts


@dataclass(frozen=True)
class RscExpr:
    standard: str | None
    provider: str | None
    type: str | None


@dataclass(frozen=True)
class OpExpr:
    name: str
    interval: str | None = None


@dataclass(frozen=True)
class BoolExpr:
    operator: str  # and / or
    children: tuple[Expr, ...] = field(default_factory=tuple)


Expr = AttrExpr | DateExpr | RscExpr | OpExpr | BoolExpr


# ---------------------------------------------------------------------------- parser


_TOKEN = re.compile(r"\"([^\"]*)\"|'([^']*)'|(\(|\))|([^\s()]+)")


def tokenize(words: Sequence[str]) -> list[str]:
    """argv words -> tokens: a rule may come as many words or as one quoted string;
    parentheses are tokens of their own and a quoted value keeps its spaces."""
    tokens: list[str] = []
    for match in _TOKEN.finditer(" ".join(words)):
        double, single, paren, plain = match.groups()
        tokens.append(next(t for t in (double, single, paren, plain) if t is not None))
    return tokens


class _Parser:
    def __init__(self, tokens: list[str], *, allow_rsc: bool, allow_op: bool) -> None:
        self.tokens = tokens
        self.pos = 0
        self.allow_rsc = allow_rsc
        self.allow_op = allow_op
        self.strict = True

    # --- helpers
    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, what: str) -> str:
        token = self.peek()
        if token is None:
            raise self.error(f"the rule ends where {what} was expected")
        self.pos += 1
        return token

    def error(self, message: str, hint: str | None = None) -> RuleError:
        shown = " ".join(self.tokens)
        return RuleError(
            f"{message} (at word {self.pos + 1} of {shown!r})",
            where="rule",
            hint=hint or "see `hactl constraint --help` for the rule syntax",
        )

    # --- grammar
    def parse(self) -> BoolExpr:
        if not self.tokens:
            raise self.error("the rule is empty", "e.g. #uname eq node1")
        tree = self.expr()
        if self.peek() is not None:
            token = self.peek() or ""
            raise self.error(
                f"unexpected {token!r}",
                did_you_mean(token, ("and", "or")) if token not in ("(", ")") else None,
            )
        return tree if isinstance(tree, BoolExpr) else BoolExpr("and", (tree,))

    def expr(self) -> Expr:
        left = self.term()
        operator: str | None = None
        operands: list[Expr] = []
        while (token := self.peek()) is not None and token.lower() in ("and", "or"):
            self.pos += 1
            current = token.lower()
            right = self.term()
            if operator is None or operator == current:
                operands.append(right)
            else:
                left = BoolExpr(operator, (left, *operands))
                operands = [right]
            operator = current
        if operator is not None:
            return BoolExpr(operator, (left, *operands))
        return left

    def term(self) -> Expr:
        token = self.take("an expression")
        lowered = token.lower()
        if token == "(":
            inner = self.expr()
            if self.peek() != ")":
                raise self.error("missing ')'", "close every '(' with ')'")
            self.pos += 1
            return inner
        if token == ")":
            raise self.error("unexpected ')'")
        if lowered in UNARY_ATTR_OPS:
            attribute = self.take(f"an attribute name after {token!r}")
            self.check_name(attribute)
            return AttrExpr(attribute, lowered)
        if lowered == "date" and (self.peek() or "").lower() in ("gt", "lt", "in_range"):
            return self.date()
        if lowered in ("date-spec", "date_spec"):
            return DateExpr("date_spec", parts=self.parts(DATE_SPEC_PARTS, "date-spec"))
        if lowered == "resource" and self.allow_rsc:
            return self.resource()
        if lowered == "op" and self.allow_op:
            return self.operation()
        return self.attribute(token)

    def check_name(self, name: str) -> None:
        if name in ("(", ")") or name.lower() in ("and", "or"):
            raise self.error(f"{name!r} is not an attribute name")

    def attribute(self, attribute: str) -> AttrExpr:
        self.check_name(attribute)
        operator = self.peek()
        if operator is None:
            raise self.error(
                f"{attribute!r} needs an operator and a value",
                "e.g. " + f"{attribute} eq VALUE, or defined {attribute}",
            )
        if operator.lower() not in BINARY_ATTR_OPS:
            self.pos += 1
            raise self.error(
                f"{operator!r} is not a comparison",
                did_you_mean(operator.lower(), BINARY_ATTR_OPS + UNARY_ATTR_OPS),
            )
        self.pos += 1
        value_type: str | None = None
        candidate = self.peek()
        following = self.tokens[self.pos + 1] if self.pos + 1 < len(self.tokens) else None
        if (
            candidate is not None
            and candidate.lower() in ATTR_TYPES
            and following is not None
            and following not in ("(", ")")
            and following.lower() not in ("and", "or")
        ):
            value_type = candidate.lower()
            self.pos += 1
        value = self.take(f"a value after {operator!r}")
        if value in ("(", ")"):
            raise self.error(f"{value!r} is not a value")
        checks = {"integer": _INTEGER, "number": _NUMBER, "version": _VERSION}
        if self.strict and value_type in checks and not checks[value_type].match(value):
            raise self.error(
                f"{value!r} is not a valid {value_type}", f"write a {value_type} after the type"
            )
        return AttrExpr(attribute, operator.lower(), value, value_type)

    def date_value(self, what: str) -> str:
        value = self.take(what)
        if self.strict and not _DATE.match(value):
            raise self.error(
                f"{value!r} is not an ISO 8601 date", "e.g. 2025-01-31 or 2025-01-31T08:00"
            )
        return value

    def date(self) -> DateExpr:
        operation = self.take("gt, lt or in_range").lower()
        if operation in ("gt", "lt"):
            value = self.date_value(f"a date after 'date {operation}'")
            return (
                DateExpr(operation, start=value)
                if operation == "gt"
                else DateExpr(operation, end=value)
            )
        start: str | None = None
        if (self.peek() or "").lower() != "to":
            start = self.date_value("a start date after 'in_range'")
        if (self.take("'to'")).lower() != "to":
            self.pos -= 1
            raise self.error(f"expected 'to', found {self.peek()!r}")
        if (self.peek() or "").lower() == "duration":
            self.pos += 1
            if start is None:
                raise self.error(
                    "'duration' needs a start date", "date in_range DATE to duration …"
                )
            return DateExpr(
                "in_range", start=start, parts=self.parts(dict.fromkeys(DURATION_PARTS), "duration")
            )
        end = self.date_value("an end date after 'to'")
        return DateExpr("in_range", start=start, end=end)

    def parts(
        self, allowed: dict[str, tuple[int, int]] | dict[str, None], what: str
    ) -> tuple[tuple[str, str], ...]:
        found: list[tuple[str, str]] = []
        while (token := self.peek()) is not None and "=" in token:
            self.pos += 1
            name, _, value = token.partition("=")
            if name not in allowed:
                raise self.error(f"{name!r} is not a {what} part", did_you_mean(name, allowed))
            if any(name == seen for seen, _ in found):
                raise self.error(f"{what} part {name!r} is given twice")
            bounds = allowed[name]
            if bounds is None:
                if not _INTEGER.match(value):
                    raise self.error(f"{what} {name}={value!r} is not an integer")
            else:
                self.check_range(name, value, bounds)
            found.append((name, value))
        if not found:
            raise self.error(
                f"{what} needs at least one PART=VALUE",
                f"e.g. {what} " + ("hours=9-16 weekdays=1-5" if what == "date-spec" else "hours=1"),
            )
        return tuple(found)

    def check_range(self, name: str, value: str, bounds: tuple[int, int]) -> None:
        match = _RANGE.match(value)
        low, high = bounds
        if match is None:
            raise self.error(f"date-spec {name}={value!r} is not N or N-M")
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) else first
        if not (low <= first <= high and low <= last <= high) or first > last:
            raise self.error(f"date-spec {name}={value!r} is outside {low}-{high}")

    def resource(self) -> RscExpr:
        spec = self.take("STANDARD:PROVIDER:TYPE after 'resource'")
        parts = spec.split(":")
        if len(parts) != 3:
            raise self.error(
                f"{spec!r} is not STANDARD:PROVIDER:TYPE", "leave a part empty to match any"
            )
        standard, provider, kind = (p or None for p in parts)
        return RscExpr(standard, provider, kind)

    def operation(self) -> OpExpr:
        name = self.take("an operation name after 'op'")
        interval: str | None = None
        token = self.peek()
        if token is not None and token.startswith("interval="):
            self.pos += 1
            interval = token.partition("=")[2]
        return OpExpr(name, interval)


def parse_rule(
    words: Sequence[str], *, allow_rsc: bool = False, allow_op: bool = False, strict: bool = True
) -> BoolExpr:
    """Parse rule words into a tree; raises RuleError naming the word that is wrong.
    Without ``strict`` (--force) a value that does not fit its type is kept as written."""
    parser = _Parser(tokenize(words), allow_rsc=allow_rsc, allow_op=allow_op)
    parser.strict = strict
    return parser.parse()


# ------------------------------------------------------------------------------ XML


def _schema_at_least(root: Element, major: int, minor: int) -> bool:
    match = re.match(
        r"pacemaker-(\d+)\.(\d+)", str(root.getroottree().getroot().get("validate-with", ""))
    )
    return match is None or (int(match.group(1)), int(match.group(2))) >= (major, minor)


def rule_element(
    parent: Element, tree: BoolExpr, ids: IdAllocator, *, rule_id: str | None = None
) -> Element:
    """Append ``tree`` to ``parent`` as a <rule>; returns it."""
    return _write(parent, tree, ids, rule_id)


def _write(parent: Element, expr: Expr, ids: IdAllocator, rule_id: str | None = None) -> Element:
    if isinstance(expr, BoolExpr):
        element = etree.SubElement(
            parent,
            "rule",
            {"id": rule_id or ids.sub_id(parent, "rule"), "boolean-op": expr.operator},
        )
        if not _schema_at_least(parent, 3, 9):
            element.set("score", "0")
        for child in expr.children:
            _write(element, child, ids)
        return element
    if isinstance(expr, AttrExpr):
        element = etree.SubElement(
            parent,
            "expression",
            {
                "id": ids.sub_id(parent, "expr"),
                "attribute": expr.attribute,
                "operation": expr.operation,
            },
        )
        if expr.value is not None:
            element.set("value", expr.value)
        if expr.type is not None:
            legacy = expr.type == "integer" and not _schema_at_least(parent, 3, 5)
            element.set("type", "number" if legacy else expr.type)
        return element
    if isinstance(expr, DateExpr):
        element = etree.SubElement(
            parent,
            "date_expression",
            {"id": ids.sub_id(parent, "expr"), "operation": expr.operation},
        )
        if expr.start is not None:
            element.set("start", expr.start)
        if expr.end is not None:
            element.set("end", expr.end)
        if expr.operation in ("date_spec", "in_range") and expr.parts:
            tag = "date_spec" if expr.operation == "date_spec" else "duration"
            suffix = "datespec" if tag == "date_spec" else "duration"
            etree.SubElement(element, tag, {"id": ids.sub_id(element, suffix), **dict(expr.parts)})
        return element
    if isinstance(expr, RscExpr):
        label = "-".join(p for p in (expr.standard, expr.provider, expr.type) if p)
        element = etree.SubElement(
            parent, "rsc_expression", {"id": ids.sub_id(parent, f"rsc-{label}")}
        )
        for attribute, value in (
            ("class", expr.standard),
            ("provider", expr.provider),
            ("type", expr.type),
        ):
            if value:
                element.set(attribute, value)
        return element
    element = etree.SubElement(
        parent, "op_expression", {"id": ids.sub_id(parent, f"op-{expr.name}"), "name": expr.name}
    )
    if expr.interval:
        element.set("interval", expr.interval)
    return element


# ----------------------------------------------------------------------------- text


def rule_text(rule: Element) -> str:
    """A <rule> element in pcs's rule language (what `constraint config` shows, and what
    `config export pcs-commands` writes back)."""
    return _text(rule, top=True)


def _text(element: Element, *, top: bool = False) -> str:
    tag = element.tag
    if tag == "rule":
        operator = str(element.get("boolean-op", "and"))
        children = [_text(child) for child in element if isinstance(child.tag, str)]
        joined = f" {operator} ".join(children)
        return joined if top or len(children) < 2 else f"({joined})"
    if tag == "expression":
        operation = str(element.get("operation"))
        attribute = str(element.get("attribute"))
        if operation in UNARY_ATTR_OPS:
            return f"{operation} {attribute}"
        kind = element.get("type")
        value = str(element.get("value", ""))
        return " ".join(p for p in (attribute, operation, kind, _quote(value)) if p)
    if tag == "date_expression":
        operation = str(element.get("operation"))
        if operation == "gt":
            return f"date gt {_quote(str(element.get('start')))}"
        if operation == "lt":
            return f"date lt {_quote(str(element.get('end')))}"
        if operation == "date_spec":
            spec = element.find("date_spec")
            return "date-spec " + _parts(spec)
        duration = element.find("duration")
        start = element.get("start")
        head = f"date in_range {_quote(start)} to" if start else "date in_range to"
        if duration is not None:
            return f"{head} duration {_parts(duration)}"
        return f"{head} {_quote(str(element.get('end')))}"
    if tag == "rsc_expression":
        return "resource " + ":".join(
            str(element.get(a, "")) for a in ("class", "provider", "type")
        )
    if tag == "op_expression":
        interval = element.get("interval")
        return f"op {element.get('name')}" + (f" interval={interval}" if interval else "")
    return ""


def _parts(element: Element | None) -> str:
    if element is None:
        return ""
    return " ".join(f"{k!s}={v!s}" for k, v in element.attrib.items() if k != "id")


def _quote(value: str) -> str:
    return value if value and not re.search(r"[\s()]", value) else f'"{value}"'
