"""Score arithmetic and rule evaluation."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from hactl.core.scheduler import rules, scores

from .cib_text import NOW

INF = scores.INFINITY


def test_minus_infinity_wins() -> None:
    assert scores.add(INF, -INF) == -INF
    assert scores.add(-INF, INF) == -INF
    assert scores.add(INF, 5) == INF
    assert scores.add(999_999, 5) == INF
    assert scores.add(-999_999, -5) == -INF


@given(st.integers(-2 * INF, 2 * INF), st.integers(-2 * INF, 2 * INF))
def test_add_is_commutative_and_bounded(a: int, b: int) -> None:
    total = scores.add(a, b)
    assert total == scores.add(b, a)
    assert -INF <= total <= INF


def test_parse_and_render() -> None:
    assert scores.parse("INFINITY") == INF
    assert scores.parse("+INFINITY") == INF
    assert scores.parse("-infinity") == -INF
    assert scores.parse("42") == 42
    assert scores.parse("junk", 7) == 7
    assert scores.render(INF) == "INFINITY"
    assert scores.render(-INF) == "-INFINITY"


def _rule(xml: str) -> etree._Element:
    return etree.fromstring(xml)


def test_attribute_expressions() -> None:
    rule = _rule(
        '<rule id="r" score="10" boolean-op="and">'
        '<expression id="e1" attribute="site" operation="eq" value="a"/>'
        '<expression id="e2" attribute="ram" operation="gt" value="1024" type="number"/>'
        "</rule>"
    )
    assert rules.evaluate(rule, {"site": "a", "ram": "2048"}, NOW)
    assert not rules.evaluate(rule, {"site": "a", "ram": "512"}, NOW)
    assert not rules.evaluate(rule, {"site": "b", "ram": "2048"}, NOW)
    either = _rule(
        '<rule id="r" boolean-op="or">'
        '<expression id="e1" attribute="x" operation="defined"/>'
        '<expression id="e2" attribute="y" operation="not_defined"/>'
        "</rule>"
    )
    assert rules.evaluate(either, {"x": "1", "y": "1"}, NOW)
    assert not rules.evaluate(either, {"y": "1"}, NOW)


def test_date_expressions() -> None:
    in_range = _rule(
        '<rule id="r"><date_expression id="d" operation="in_range" start="2024-01-01" '
        'end="2024-12-31"/></rule>'
    )
    assert rules.evaluate(in_range, {}, NOW)
    assert not rules.evaluate(in_range, {}, dt.datetime(2025, 1, 2))
    spec = _rule(
        '<rule id="r"><date_expression id="d" operation="date_spec">'
        '<date_spec id="s" hours="9-17" weekdays="1-5"/></date_expression></rule>'
    )
    assert rules.evaluate(spec, {}, NOW)  # a Wednesday at noon
    assert not rules.evaluate(spec, {}, dt.datetime(2024, 5, 4, 12))  # a Saturday
    assert rules.parse_datetime("2005-020") == dt.datetime(2005, 1, 20)


def test_score_attribute() -> None:
    rule = _rule('<rule id="r" score-attribute="pingd"/>')
    assert rules.rule_score(rule, {"pingd": "200"}) == 200
    assert rules.rule_score(rule, {}) == -INF
