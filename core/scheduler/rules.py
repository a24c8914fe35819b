"""Evaluation of CIB rules (`<rule>` with expressions, date expressions and date specs).

Pure: the node attributes and the time are passed in.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from lxml import etree

from hactl.core.scheduler import scores


def parse_datetime(text: str) -> dt.datetime | None:
    """An ISO 8601 date and time as Pacemaker accepts it (calendar, ordinal or week dates)."""
    value = text.strip().replace("T", " ")
    date_part, _, time_part = value.partition(" ")
    try:
        if re.fullmatch(r"\d{4}-\d{3}", date_part):
            year, day = date_part.split("-")
            day0 = dt.datetime(int(year), 1, 1) + dt.timedelta(days=int(day) - 1)
        elif re.fullmatch(r"\d{4}-W\d{2}-\d", date_part):
            day0 = dt.datetime.strptime(date_part + "", "%G-W%V-%u")
        elif re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", date_part):
            year, month, mday = date_part.split("-")
            day0 = dt.datetime(int(year), int(month), int(mday))
        else:
            return None
    except ValueError:
        return None
    time_part = re.sub(r"(Z|[+-]\d{2}:?\d{2})$", "", time_part.strip())
    if time_part:
        pieces = [int(p) for p in time_part.split(":")]
        while len(pieces) < 3:
            pieces.append(0)
        day0 = day0.replace(hour=pieces[0], minute=pieces[1], second=pieces[2])
    return day0


def _duration(element: etree._Element) -> dt.timedelta:
    def get(name: str) -> int:
        return int(element.get(name, "0") or 0)

    days = get("days") + 7 * get("weeks") + 30 * get("months") + 365 * get("years")
    return dt.timedelta(
        days=days, hours=get("hours"), minutes=get("minutes"), seconds=get("seconds")
    )


def _in_ranges(spec: str, value: int) -> bool:
    for part in spec.split(","):
        low, _, high = part.partition("-")
        try:
            if high:
                if int(low) <= value <= int(high):
                    return True
            elif int(low) == value:
                return True
        except ValueError:
            return False
    return False


def _date_spec(spec: etree._Element, now: dt.datetime) -> bool:
    iso = now.isocalendar()
    fields = {
        "hours": now.hour,
        "minutes": now.minute,
        "seconds": now.second,
        "monthdays": now.day,
        "weekdays": iso[2],
        "yeardays": now.timetuple().tm_yday,
        "months": now.month,
        "weeks": iso[1],
        "years": now.year,
        "weekyears": iso[0],
    }
    for name, value in fields.items():
        wanted = spec.get(name)
        if wanted is not None and not _in_ranges(wanted, value):
            return False
    return True


def date_expression(expr: etree._Element, now: dt.datetime) -> bool:
    operation = expr.get("operation", "in_range")
    start_text, end_text = expr.get("start"), expr.get("end")
    start = parse_datetime(start_text) if start_text else None
    end = parse_datetime(end_text) if end_text else None
    if operation == "date_spec":
        spec = expr.find("date_spec")
        return spec is not None and _date_spec(spec, now)
    if operation == "gt":
        return start is not None and now > start
    if operation == "lt":
        return end is not None and now < end
    # in_range
    if end is None and start is not None:
        duration = expr.find("duration")
        if duration is not None:
            end = start + _duration(duration)
    if start is not None and now < start:
        return False
    return not (end is not None and now > end)


#: what C's strtoll and strtod read at the start of a value (the rest is ignored)
_LEADING_INTEGER = re.compile(r"\s*[+-]?\d+")
_LEADING_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_INT64 = 2**63


def _leading_integer(text: str) -> int | None:
    found = _LEADING_INTEGER.match(text)
    if found is None:
        return None
    value = int(found.group())
    return value if -_INT64 <= value < _INT64 else None  # out of range: no integer


def _leading_number(text: str) -> float | None:
    found = _LEADING_NUMBER.match(text)
    return float(found.group()) if found is not None else None


def _compare(kind: str, left: str, right: str) -> int:
    """Compare as Pacemaker's pcmk__cmp_by_type: integers and numbers are what their text
    starts with (3.4 is the integer 3); values that are none compare as strings, and
    strings compare ignoring case."""
    if kind in ("number", "integer"):
        parse = _leading_integer if kind == "integer" else _leading_number
        a, b = parse(left), parse(right)
        if a is not None and b is not None:
            return (a > b) - (a < b)
        kind = "string"
    if kind == "version":
        pa = [int(p) for p in re.findall(r"\d+", left)]
        pb = [int(p) for p in re.findall(r"\d+", right)]
        return (pa > pb) - (pa < pb)
    a_text, b_text = left.lower(), right.lower()
    return (a_text > b_text) - (a_text < b_text)


def attribute_expression(expr: etree._Element, attrs: Mapping[str, str]) -> bool:
    name = expr.get("attribute", "")
    operation = expr.get("operation", "")
    actual = attrs.get(name)
    if operation == "defined":
        return actual is not None
    if operation == "not_defined":
        return actual is None
    wanted = expr.get("value")
    if expr.get("value-source") == "param" or expr.get("value-source") == "meta":
        wanted = attrs.get(wanted or "", None)
    kind = (expr.get("type") or "").lower()
    if not kind:
        # Pacemaker's default: ordering comparisons are numeric (decimal if either value
        # has a point), equality compares strings
        if operation in ("lt", "lte", "gt", "gte"):
            kind = "number" if "." in (actual or "") + (wanted or "") else "integer"
        else:
            kind = "string"
    if kind not in ("string", "integer", "number", "version"):
        return False  # an invalid type: the expression does not pass
    if actual is None or wanted is None:
        # a missing value is less than any value; only equality can be decided
        missing = (actual is None) == (wanted is None)
        return {"eq": missing, "ne": not missing}.get(operation, False)
    order = _compare(kind, actual, wanted)
    return {
        "eq": order == 0,
        "ne": order != 0,
        "lt": order < 0,
        "lte": order <= 0,
        "gt": order > 0,
        "gte": order >= 0,
    }.get(operation, False)


def evaluate(rule: etree._Element, attrs: Mapping[str, str], now: dt.datetime) -> bool:
    """Whether a `<rule>` holds for a node with these attributes at this time."""
    combine_any = rule.get("boolean-op", "and") == "or"
    results: list[bool] = []
    for child in rule:
        if not isinstance(child.tag, str):
            continue
        if child.tag == "expression":
            results.append(attribute_expression(child, attrs))
        elif child.tag == "date_expression":
            results.append(date_expression(child, now))
        elif child.tag == "rule":
            results.append(evaluate(child, attrs, now))
        elif child.tag == "rsc_expression":
            # matches the agent of the resource being configured (passed as #rsc-* keys)
            results.append(
                all(
                    child.get(field) is None or child.get(field) == attrs.get(f"#rsc-{field}")
                    for field in ("class", "provider", "type")
                )
            )
        elif child.tag == "op_expression":
            results.append(child.get("name") is None or child.get("name") == attrs.get("#op-name"))
    if not results:
        return True
    return any(results) if combine_any else all(results)


def rule_score(rule: etree._Element, attrs: Mapping[str, str]) -> int:
    """The score a location rule gives: `score`, or the node attribute `score-attribute` names."""
    attribute = rule.get("score-attribute")
    if attribute is not None:
        return scores.parse(attrs.get(attribute), 0) if attribute in attrs else -scores.INFINITY
    return scores.parse(rule.get("score"), 0)
