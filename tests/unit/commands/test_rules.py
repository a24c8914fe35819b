"""pcs's rule language: parsing, the XML written (checked by the real crm_verify in
tests/cli), the text printed back, and one-line errors naming the bad word."""

from __future__ import annotations

import pytest
from lxml import etree

from hactl.core.commands.cibtools import IdAllocator
from hactl.core.commands.rules import (
    AttrExpr,
    BoolExpr,
    DateExpr,
    RuleError,
    parse_rule,
    rule_element,
    rule_text,
)


def _write(text: str, schema: str = "pacemaker-3.9") -> etree._Element:
    root = etree.fromstring(
        f'<cib validate-with="{schema}"><configuration><constraints>'
        '<rsc_location id="location-R" rsc="R"/></constraints></configuration></cib>'
    )
    location = root.find(".//rsc_location")
    assert location is not None
    return rule_element(location, parse_rule(text.split()), IdAllocator(root))


def test_or_of_unary_and_binary_expressions() -> None:
    tree = parse_rule("not_defined pingd or pingd lte 0".split())
    assert tree == BoolExpr(
        "or", (AttrExpr("pingd", "not_defined"), AttrExpr("pingd", "lte", "0", None))
    )


def test_same_precedence_left_to_right_like_pcs() -> None:
    tree = parse_rule("a eq 1 and b eq 2 or c eq 3".split())
    assert tree.operator == "or"
    inner = tree.children[0]
    assert isinstance(inner, BoolExpr) and inner.operator == "and"


def test_parentheses_and_types() -> None:
    tree = parse_rule(["#uname eq node1 and (cpus gt integer 4 or ver gte version 2.1)"])
    assert tree.operator == "and"
    group = tree.children[1]
    assert isinstance(group, BoolExpr)
    assert group.children[0] == AttrExpr("cpus", "gt", "4", "integer")
    assert group.children[1] == AttrExpr("ver", "gte", "2.1", "version")


def test_dates() -> None:
    tree = parse_rule(
        "date gt 2024-01-01 and date in_range 2024-01-01 to duration months=2 "
        "and date-spec hours=9-16 weekdays=1-5 and date in_range to 2025-01-01".split()
    )
    assert tree.children == (
        DateExpr("gt", start="2024-01-01"),
        DateExpr("in_range", start="2024-01-01", parts=(("months", "2"),)),
        DateExpr("date_spec", parts=(("hours", "9-16"), ("weekdays", "1-5"))),
        DateExpr("in_range", end="2025-01-01"),
    )


def test_xml_ids_follow_pcs() -> None:
    rule = _write(
        "#uname eq n1 and (date-spec hours=9-16 or date in_range 2024-01-01 to duration days=1)"
    )
    ids = [e.get("id") for e in rule.iter()]
    assert ids == [
        "location-R-rule",
        "location-R-rule-expr",
        "location-R-rule-rule",
        "location-R-rule-rule-expr",
        "location-R-rule-rule-expr-datespec",
        "location-R-rule-rule-expr-1",
        "location-R-rule-rule-expr-1-duration",
    ]
    assert rule.get("boolean-op") == "and"
    assert rule.get("score") is None  # schema 3.9 and later has no score on inner rules


def test_older_schemas_get_number_for_integer_and_a_rule_score() -> None:
    rule = _write("cpus gt integer 4", schema="pacemaker-3.0")
    expression = rule.find("expression")
    assert expression is not None and expression.get("type") == "number"
    assert rule.get("score") == "0"


@pytest.mark.parametrize(
    "text",
    [
        "not_defined pingd or pingd lte 0",
        "#uname eq node1 and (date-spec hours=9-16 weekdays=1-5 or date gt 2024-01-01)",
        "date in_range 2024-01-01 to duration months=2",
        "x gt integer 5",
    ],
)
def test_text_round_trip(text: str) -> None:
    assert rule_text(_write(text)) == text


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("x eqq 5", "did you mean 'eq'"),
        ("( x eq 1", "missing ')'"),
        ("date-spec hours=25", "outside 0-23"),
        ("date-spec hour=2", "did you mean 'hours'"),
        ("x gt integer abc", "not a valid integer"),
        ("", "empty"),
        ("date in_range 2024 to 2025-01-01", "ISO 8601"),
        ("defined", "ends where"),
        ("x eq 1 y eq 2", "unexpected 'y'"),
    ],
)
def test_errors_name_the_word(text: str, says: str) -> None:
    with pytest.raises(RuleError) as caught:
        parse_rule(text.split())
    assert says in str(caught.value)
    assert len(str(caught.value).splitlines()) == 1
