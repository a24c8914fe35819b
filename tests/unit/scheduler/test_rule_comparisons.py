"""Node attribute expressions compare as Pacemaker's pcmk__cmp_by_type: an integer or number
is what its text starts with, values that are not compare as strings (ignoring case), and
the default type is numeric only for ordering comparisons."""

from __future__ import annotations

from lxml import etree

from hactl.core.scheduler import rules


def _passes(operation: str, actual: str | None, value: str | None, kind: str = "") -> bool:
    expr = etree.Element("expression", attribute="a", operation=operation)
    if value is not None:
        expr.set("value", value)
    if kind:
        expr.set("type", kind)
    return rules.attribute_expression(expr, {} if actual is None else {"a": actual})


def test_an_integer_is_the_whole_number_its_text_starts_with() -> None:
    assert _passes("eq", "3.4", "3.6", "integer")
    assert not _passes("eq", "3.4", "3.6", "number")
    assert _passes("lt", "10abc", "11", "integer")
    # out of 64-bit range is no integer: compared as strings, "9..." > "1..."
    assert _passes("gt", "99999999999999999999", "100", "integer")


def test_the_default_type_orders_numbers_and_compares_strings_for_equality() -> None:
    assert _passes("gt", "10", "9")  # integers, not text
    assert _passes("gt", "2.5", "2.25")  # a point makes them decimal
    assert not _passes("eq", "1.0", "1")  # equality compares the text
    assert _passes("eq", "Yes", "yes")  # ignoring case


def test_values_that_are_not_numbers_compare_as_strings() -> None:
    assert _passes("lt", "abc", "abd", "integer")
    assert _passes("gt", "B", "a", "number")


def test_a_missing_attribute() -> None:
    assert not _passes("eq", None, "1")
    assert _passes("ne", None, "1")
    assert not _passes("lt", None, "1")
    assert _passes("not_defined", None, None)


def test_an_invalid_type_does_not_pass() -> None:
    assert not _passes("eq", "1", "1", "bogus")
