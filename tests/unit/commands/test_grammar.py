"""pcs's argv grammar: pairs, keyword groups, operations, scores, roles, typo hints."""

from __future__ import annotations

import pytest

from hactl.core.commands.grammar import (
    Operation,
    parse_operations,
    parse_pairs,
    parse_role,
    parse_score,
    split_groups,
)
from hactl.core.errors import HactlError, UsageError


def test_split_groups_at_whole_keywords_only() -> None:
    head, groups = split_groups(
        ["ip=1", "op=x", "op", "monitor", "interval=10s", "meta", "a=b", "op", "start"],
        ("op", "meta"),
    )
    assert head == ["ip=1", "op=x"]
    assert groups == [("op", ["monitor", "interval=10s"]), ("meta", ["a=b"]), ("op", ["start"])]


def test_operations_start_at_each_bare_word() -> None:
    assert parse_operations(["monitor", "interval=10s", "timeout=5s", "start", "timeout=60s"]) == [
        Operation("monitor", {"interval": "10s", "timeout": "5s"}),
        Operation("start", {"timeout": "60s"}),
    ]
    with pytest.raises(UsageError):
        parse_operations(["interval=10s"])


def test_an_operation_takes_its_own_parameters_and_meta_attributes() -> None:
    words = "monitor interval=120 op_params depth=0 trace_ra=1 op_meta timeout=45 start".split()
    assert parse_operations(words) == [
        Operation(
            "monitor", {"interval": "120"}, {"depth": "0", "trace_ra": "1"}, {"timeout": "45"}
        ),
        Operation("start"),
    ]
    with pytest.raises(UsageError, match="'op_params' needs NAME=VALUE pairs"):
        parse_operations(["monitor", "op_params"])
    with pytest.raises(HactlError, match="given more than once"):
        parse_operations("monitor op_params a=1 op_params a=2".split())
    with pytest.raises(UsageError, match="^op monitor: 'op_meta' needs"):
        parse_operations(["monitor", "op_meta", "timeout"])  # a bare word: the next action


def test_pairs_refuse_typos_with_the_nearest_keyword() -> None:
    with pytest.raises(HactlError, match="did you mean 'meta'"):
        parse_pairs(["mata"], keywords=("op", "meta"))
    with pytest.raises(HactlError, match="more than once"):
        parse_pairs(["a=1", "a=2"])
    assert parse_pairs(["a=", "b=c=d"]) == {"a": "", "b": "c=d"}


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("INFINITY", "INFINITY"),
        ("+INFINITY", "INFINITY"),
        ("-inf", "-INFINITY"),
        ("100", "100"),
        ("-1000000", "-1000000"),
    ],
)
def test_scores(text: str, score: str) -> None:
    assert parse_score(text) == score


@pytest.mark.parametrize("text", ["abc", "1000001", "1.5", ""])
def test_bad_scores(text: str) -> None:
    with pytest.raises(HactlError, match="score"):
        parse_score(text)


def test_roles_accept_legacy_names() -> None:
    assert parse_role("master") == "Promoted"
    assert parse_role("Slave") == "Unpromoted"
    assert parse_role("started") == "Started"
    with pytest.raises(HactlError, match="did you mean 'Promoted'"):
        parse_role("Promted")
