"""Attribute sets of their own: ``set create`` / ``set delete`` on resources, nodes, cluster
properties and the defaults sections.

Pacemaker lets an element carry several name/value sets (instance_attributes,
meta_attributes, utilization, cluster_property_set), each with a ``score`` (the order in
which they are read: higher first, then document order; the first value of a name wins)
and a ``rule`` (the set applies only where it holds). pcs writes such sets only for
resource and operation defaults (``resource defaults set create``); hactl takes the same
grammar everywhere a set can hang::

    … set create OWNER [id=SET_ID] [score=N] KIND NAME=VALUE… [rule EXPRESSION]

A pair may be written in crmsh's notation for references: ``@NVPAIR_ID`` is a reference
to another nvpair (``<nvpair id-ref=…>``, whose name and value Pacemaker reads in its
place) and ``$NVPAIR_ID:NAME=VALUE`` gives a pair the id others refer to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from lxml import etree

from hactl.core.cib.document import is_valid_id
from hactl.core.commands import cibtools as ct
from hactl.core.commands.cibtools import Element, IdAllocator
from hactl.core.commands.grammar import did_you_mean, parse_score, split_pair
from hactl.core.commands.rules import parse_rule, rule_element
from hactl.core.errors import HactlError, NotFoundError, UsageError

#: the set options pcs's `defaults set create` takes
SET_OPTIONS = ("id", "score")
#: tags Pacemaker reads as name/value sets
NVSET_TAGS = ("instance_attributes", "meta_attributes", "utilization", "cluster_property_set")


@dataclass
class Pair:
    name: str | None  # None: a reference
    value: str | None = None
    pair_id: str | None = None  # $ID:NAME=VALUE
    reference: str | None = None  # @ID


@dataclass
class SetRequest:
    """A parsed ``set create``: the set's tag, options, pairs and rule words."""

    tag: str
    set_id: str | None = None
    score: str | None = None
    pairs: list[Pair] = field(default_factory=list)
    rule_words: list[str] = field(default_factory=list)


def _pair(word: str, where: str) -> Pair:
    if word.startswith("@"):
        reference = word[1:]
        if not is_valid_id(reference):
            raise HactlError(
                f"{word!r} does not name an nvpair id",
                where=where,
                hint="write @NVPAIR_ID (the id of a name/value pair shown by --full config)",
            )
        return Pair(None, reference=reference)
    pair_id = None
    if word.startswith("$"):
        pair_id, colon, word = word[1:].partition(":")
        if not colon or not is_valid_id(pair_id):
            raise HactlError(
                f"'${pair_id}{colon}{word}' is not $ID:NAME=VALUE",
                where=where,
                hint="e.g. $web-port:port=8080 (a pair with the id web-port)",
            )
    name, value = split_pair(word, where=where)
    return Pair(name, value, pair_id=pair_id)  # NAME= in a new set: an empty value


def parse_set_create(
    words: Sequence[str], kinds: Mapping[str, str], *, where: str, implicit: str | None = None
) -> SetRequest:
    """``[id=ID] [score=N] KIND PAIR… [rule EXPRESSION]`` -> SetRequest.

    ``kinds`` maps the keywords to set tags (``meta`` -> meta_attributes); with
    ``implicit`` (property sets: one kind only) pairs need no keyword. Everything after
    ``rule`` is the rule."""
    words = list(words)
    rule_words: list[str] = []
    if "rule" in words:
        at = words.index("rule")
        words, rule_words = words[:at], words[at + 1 :]
        if not rule_words:
            raise UsageError(
                "'rule' needs an expression", where=where, hint="e.g. rule #uname eq node1"
            )
    tag = implicit
    options: dict[str, str] = {}
    pairs: list[Pair] = []
    for word in words:
        if word in kinds:
            if tag is not None and implicit is None:
                raise UsageError(
                    f"a set has one kind: {word!r} comes after another",
                    where=where,
                    hint="create one set per kind",
                )
            tag = kinds[word]
            continue
        name = word.partition("=")[0]
        if tag is None or (implicit is not None and name in SET_OPTIONS and not pairs):
            option, value = split_pair(word, where=where, keywords=(*kinds, "rule"))
            if option not in SET_OPTIONS:
                raise HactlError(
                    f"{option!r} is not a set option",
                    where=where,
                    hint=did_you_mean(option, SET_OPTIONS)
                    + (f"; values go after {' | '.join(kinds)}" if kinds else ""),
                )
            if option in options:
                raise HactlError(f"{option!r} is given more than once", where=where)
            options[option] = value
            continue
        pairs.append(_pair(word, where))
    if tag is None:
        raise UsageError(
            "the set's kind is missing",
            where=where,
            hint=f"write {' | '.join(kinds)} NAME=VALUE…",
        )
    if not pairs:
        raise UsageError("the set has no values", where=where, hint="add NAME=VALUE pairs")
    names = [p.name for p in pairs if p.name is not None]
    for name in names:
        if names.count(name) > 1:
            raise HactlError(f"{name!r} is given more than once", where=where)
    return SetRequest(
        tag=tag,
        set_id=options.get("id"),
        score=parse_score(options["score"], where=where) if "score" in options else None,
        pairs=pairs,
        rule_words=rule_words,
    )


def _check_reference(root: Element, reference: str, where: str) -> None:
    target = ct.find_id(root, reference)
    if target is None or target.tag != "nvpair" or target.get("id-ref") is not None:
        known = [str(p.get("id")) for p in root.iterfind("configuration//nvpair[@id]")]
        raise NotFoundError(
            f"nvpair {reference!r} does not exist"
            if target is None
            else f"{reference!r} is a <{target.tag}>, not a name/value pair",
            where=where,
            hint=did_you_mean(reference, known) if known else "refer to an existing nvpair id",
        )


def create_set(
    parent: Element,
    request: SetRequest,
    *,
    where: str,
    allow_rsc: bool = False,
    allow_op: bool = False,
    default_id: str | None = None,
) -> Element:
    """Validate everything, then append the set to ``parent`` (after its sets of the same
    kind, so it is read after them when scores tie)."""
    root = parent.getroottree().getroot()
    new_ids = [i for i in (request.set_id, *(p.pair_id for p in request.pairs)) if i]
    for new_id in new_ids:
        ct.check_new_id(root, new_id, where=where)
        if ct.elements(root, "./configuration/nodes/node//*[@id=$i]", i=new_id):
            raise HactlError(
                f"id {new_id!r} is already in use", where=where, hint="choose another id"
            )
        if new_ids.count(new_id) > 1:
            raise HactlError(f"id {new_id!r} is given twice", where=where)
    for pair in request.pairs:
        if pair.reference is not None:
            _check_reference(root, pair.reference, where)
    tree = (
        parse_rule(request.rule_words, allow_rsc=allow_rsc, allow_op=allow_op)
        if request.rule_words
        else None
    )
    ids = IdAllocator(root)
    for new_id in new_ids:
        ids.book(new_id)
    set_id = request.set_id or (
        ids.allocate(default_id) if default_id else ids.sub_id(parent, request.tag)
    )
    block = etree.Element(request.tag, id=set_id)
    siblings = parent.findall(request.tag)
    if siblings:
        siblings[-1].addnext(block)
    else:
        parent.append(block)
    if request.score is not None:
        block.set("score", request.score)
    if tree is not None:
        rule = rule_element(block, tree, ids)
        rule.attrib.pop("score", "")  # a set's rule has no score of its own
    for pair in request.pairs:
        if pair.reference is not None:
            etree.SubElement(block, "nvpair", {"id-ref": pair.reference})
            continue
        assert pair.name is not None and pair.value is not None
        pair_id = pair.pair_id or ids.sub_id(block, pair.name)
        etree.SubElement(block, "nvpair", id=pair_id, name=pair.name, value=pair.value)
    return block


def delete_sets(
    root: Element, scope: Sequence[Element], set_ids: Sequence[str], *, where: str
) -> None:
    """`… set delete SET_ID…`: the sets with these ids among those under ``scope``; an nvpair
    elsewhere that refers into them stops the deletion."""
    if not set_ids:
        raise UsageError("no set given", where=where, hint="give the ids of the sets to delete")
    sets = {
        str(block.get("id")): block
        for element in scope
        for block in element.iter(*NVSET_TAGS)
        if block.get("id") is not None
    }
    for set_id in set_ids:
        if set_id not in sets:
            raise NotFoundError(
                f"set {set_id!r} does not exist",
                where=where,
                hint=did_you_mean(set_id, sets) if sets else "there are no sets here",
            )
    check_not_referred_to(root, [sets[s] for s in set_ids], where=where)
    ct.remove_elements(sets[s] for s in set_ids)


def check_not_referred_to(root: Element, doomed: Sequence[Element], *, where: str) -> None:
    """Refuse to remove elements holding an nvpair that an nvpair elsewhere refers to
    (Pacemaker refuses a CIB with a dangling id-ref)."""
    inside = {id(e) for element in doomed for e in element.iter()}
    targets = {str(p.get("id")) for e in doomed for p in e.iter("nvpair") if p.get("id")}
    for pair in root.iterfind("configuration//nvpair[@id-ref]"):
        if pair.get("id-ref") in targets and id(pair) not in inside:
            owner = pair.getparent()
            owner_id = owner.get("id") if owner is not None else None
            raise HactlError(
                f"nvpair {pair.get('id-ref')!r} is referred to from set {owner_id!r}",
                where=where,
                hint="delete the referring set first",
            )
