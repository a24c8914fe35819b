"""`set create`'s words: set options, the kind keyword, pairs (with crmsh's @ID and
$ID:NAME=VALUE), and the rule; and the set it writes."""

from __future__ import annotations

import re

import pytest
from lxml import etree

from hactl.core.commands.nvsets import Pair, SetRequest, create_set, parse_set_create
from hactl.core.errors import HactlError, NotFoundError, UsageError

KINDS = {"options": "instance_attributes", "meta": "meta_attributes"}


def test_options_kind_pairs_and_rule() -> None:
    words = ["id=s1", "score=-INF", "options", "a=1", "b=", "rule", "#uname", "eq", "n1"]
    assert parse_set_create(words, KINDS, where="w") == SetRequest(
        tag="instance_attributes",
        set_id="s1",
        score="-INFINITY",
        pairs=[Pair("a", "1"), Pair("b", "")],
        rule_words=["#uname", "eq", "n1"],
    )


def test_references_and_pairs_with_their_own_id() -> None:
    request = parse_set_create(["meta", "@other-pair", "$mine:x=2"], KINDS, where="w")
    assert request.pairs == [Pair(None, reference="other-pair"), Pair("x", "2", pair_id="mine")]


def test_an_implicit_kind_takes_pairs_after_the_set_options() -> None:
    request = parse_set_create(
        ["id=night", "batch-limit=3"], {}, where="w", implicit="cluster_property_set"
    )
    assert (request.tag, request.set_id, request.pairs) == (
        "cluster_property_set",
        "night",
        [Pair("batch-limit", "3")],
    )


@pytest.mark.parametrize(
    ("words", "error", "message"),
    [
        (["id=x"], UsageError, "the set's kind is missing"),
        (["options"], UsageError, "the set has no values"),
        (["options", "a=1", "rule"], UsageError, "'rule' needs an expression"),
        (["options", "a=1", "meta", "b=2"], UsageError, "a set has one kind"),
        (["sore=1", "options", "a=1"], HactlError, "'sore' is not a set option"),
        (["id=a", "id=b", "options", "a=1"], HactlError, "'id' is given more than once"),
        (["options", "a=1", "a=2"], HactlError, "'a' is given more than once"),
        (["options", "@"], HactlError, "does not name an nvpair id"),
        (["options", "$noname=1"], HactlError, "is not $ID:NAME=VALUE"),
    ],
)
def test_bad_words(words: list[str], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=re.escape(message)):
        parse_set_create(words, KINDS, where="w")


def _cib() -> etree._Element:
    return etree.fromstring(
        "<cib><configuration><resources>"
        '<primitive id="r" class="ocf" provider="pacemaker" type="Dummy">'
        '<instance_attributes id="r-ia"><nvpair id="r-ia-a" name="a" value="1"/>'
        "</instance_attributes></primitive></resources></configuration></cib>"
    )


def test_the_set_goes_after_its_kind_with_a_rule_and_a_reference() -> None:
    root = _cib()
    primitive = root.find(".//primitive")
    assert primitive is not None
    request = parse_set_create(
        ["score=5", "options", "@r-ia-a", "b=2", "rule", "defined", "pingd"], KINDS, where="w"
    )
    block = create_set(primitive, request, where="w")
    assert [b.get("id") for b in primitive.findall("instance_attributes")] == [
        "r-ia",
        "r-instance_attributes",
    ]
    assert block.get("score") == "5"
    rule = block.find("rule")
    assert rule is not None and rule.get("score") is None
    assert [(p.get("id-ref"), p.get("name")) for p in block.findall("nvpair")] == [
        ("r-ia-a", None),
        (None, "b"),
    ]


def test_a_reference_must_name_an_nvpair() -> None:
    root = _cib()
    primitive = root.find(".//primitive")
    assert primitive is not None
    for target, message in (("nothere", "does not exist"), ("r-ia", "is a <instance_attributes>")):
        request = parse_set_create(["options", f"@{target}"], KINDS, where="w")
        with pytest.raises(NotFoundError, match=message):
            create_set(primitive, request, where="w")
    assert len(primitive.findall("instance_attributes")) == 1
