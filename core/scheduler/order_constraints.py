"""rsc_order constraints -> Ordering records with Pacemaker's relation flags.

Follows Pacemaker's unpacking (pcmk_sched_ordering.c): the kind (mandatory, optional,
serialize) and the symmetry give the flags; a symmetrical ordering adds its inverse (stops
and demotes in reverse order); a clone `first` with clone-min (or require-all=false) and a
resource set with require-all=false order their members before a gate pseudo-action that is
runnable once enough of them are. Between two sets, only a set marked sequential="true"
contributes just its end member; otherwise every member is ordered.
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from hactl.core.cib.schema import parse_boolean
from hactl.core.scheduler import scores
from hactl.core.scheduler.actions import (
    ASYMMETRIC,
    FIRST_IMPLIES_THEN,
    FIRST_IMPLIES_THEN_GRAPHED,
    MIN_RUNNABLE,
    ORDERED,
    THEN_IMPLIES_FIRST,
    UNRUNNABLE_FIRST_BLOCKS,
)
from hactl.core.scheduler.model import Ordering, Resource

SYMMETRIC, ASYMMETRIC_ORDER, INVERSE = "symmetric", "asymmetric", "inverse"

_INVERSE_TASK = {
    "start": "stop",
    "stop": "start",
    "promote": "demote",
    "demote": "promote",
    "running": "stopped",
    "stopped": "running",
    "promoted": "demoted",
    "demoted": "promoted",
}

Expand = Callable[[str | None], list[Resource]]


def ordering_kind(element: etree._Element) -> str:
    """mandatory, optional or serialize (a score of 0 is the deprecated way to say optional)."""
    kind = element.get("kind")
    if kind is None:
        score = element.get("score")
        return "optional" if score is not None and scores.parse(score) == 0 else "mandatory"
    kind = kind.strip().lower()
    return kind if kind in ("optional", "serialize") else "mandatory"


def ordering_symmetry(
    element: etree._Element, parent_kind: str, parent_symmetrical: str | None
) -> str:
    kind = parent_kind
    if element.get("kind") is not None or element.get("score") is not None:
        kind = ordering_kind(element)
    symmetrical = parse_boolean(element.get("symmetrical"))
    if symmetrical is None and parent_symmetrical is not None:
        symmetrical = parse_boolean(parent_symmetrical) or False
    if symmetrical is not None:
        # serialize cannot be symmetrical
        return SYMMETRIC if symmetrical and kind != "serialize" else ASYMMETRIC_ORDER
    return ASYMMETRIC_ORDER if kind == "serialize" else SYMMETRIC


def relation_flags(kind: str, first_task: str, symmetry: str) -> int:
    """Pacemaker's ordering_flags_for_kind."""
    if kind != "mandatory":
        return ORDERED  # optional and serialize only order the actions
    if symmetry == ASYMMETRIC_ORDER:
        return ORDERED | ASYMMETRIC
    if symmetry == INVERSE:
        return ORDERED | THEN_IMPLIES_FIRST
    flags = ORDERED | FIRST_IMPLIES_THEN
    if first_task in ("start", "promote"):
        flags |= UNRUNNABLE_FIRST_BLOCKS
    return flags


def gated(
    ident: str,
    gate: str,
    minimum: int,
    firsts: list[Resource],
    first_task: str,
    thens: list[Resource],
    then_task: str,
    flags: int,
) -> list[Ordering]:
    """firsts -> gate (runnable once `minimum` of them are) -> thens."""
    out = [
        Ordering(
            ident, f, first_task, None, "", MIN_RUNNABLE | FIRST_IMPLIES_THEN_GRAPHED, gate, minimum
        )
        for f in firsts
    ]
    out.extend(
        Ordering(ident, None, "", t, then_task, flags | UNRUNNABLE_FIRST_BLOCKS, gate, minimum)
        for t in thens
    )
    return out


def minimum_first_instances(first: Resource, element: etree._Element) -> int:
    """How many instances of a clone `first` must be able to act before `then` may."""
    if first.kind != "clone":
        return 0
    clone_min = first.meta.get("clone-min")
    if clone_min is not None:
        try:
            return max(0, int(clone_min))
        except ValueError:
            return 0
    return 1 if parse_boolean(element.get("require-all")) is False else 0


def unpack_order(
    element: etree._Element,
    expand: Expand,
    set_members: Callable[[etree._Element], list[Resource]],
    resolve: Callable[[etree._Element], etree._Element],
) -> list[Ordering]:
    ident = element.get("id", "")
    kind = ordering_kind(element)
    symmetry = ordering_symmetry(element, kind, None)
    sets = [resolve(s) for s in element.findall("resource_set")]
    if not sets:
        return _simple(element, ident, kind, symmetry, expand)
    out: list[Ordering] = []
    previous: etree._Element | None = None
    for rset in sets:
        out.extend(_within_set(ident, rset, kind, element.get("symmetrical"), set_members))
        if previous is not None:
            out.extend(_between_sets(ident, previous, rset, kind, symmetry, set_members))
            if symmetry == SYMMETRIC:
                out.extend(_between_sets(ident, rset, previous, kind, INVERSE, set_members))
        previous = rset
    return out


def _simple(
    element: etree._Element, ident: str, kind: str, symmetry: str, expand: Expand
) -> list[Ordering]:
    first_task = element.get("first-action", "start")
    then_task = element.get("then-action", first_task)
    flags = relation_flags(kind, first_task, symmetry)
    out: list[Ordering] = []
    for first in expand(element.get("first")):
        for then in expand(element.get("then")):
            minimum = minimum_first_instances(first, element)
            if minimum > 0:
                out.extend(
                    gated(
                        ident,
                        f"clone-one-or-more:{ident}",
                        minimum,
                        list(first.children),
                        first_task,
                        [then],
                        then_task,
                        flags,
                    )
                )
            else:
                out.append(Ordering(ident, first, first_task, then, then_task, flags))
            inverse_first = _INVERSE_TASK.get(then_task)
            inverse_then = _INVERSE_TASK.get(first_task)
            if symmetry == SYMMETRIC and inverse_first and inverse_then:
                inverse_flags = relation_flags(kind, inverse_then, INVERSE)
                out.append(Ordering(ident, then, inverse_first, first, inverse_then, inverse_flags))
    return out


def _within_set(
    ident: str,
    rset: etree._Element,
    parent_kind: str,
    parent_symmetrical: str | None,
    set_members: Callable[[etree._Element], list[Resource]],
) -> list[Ordering]:
    task = rset.get("action", "start")
    kind = ordering_kind(rset) if rset.get("kind") is not None else parent_kind
    sequential = parse_boolean(rset.get("sequential")) is not False
    symmetry = ordering_symmetry(rset, parent_kind, parent_symmetrical)
    flags = relation_flags(kind, task, symmetry)
    members = set_members(rset)
    if len(members) < 2:
        return []
    out: list[Ordering] = []
    if kind == "serialize":
        # each member before every later one
        for index, earlier in enumerate(members):
            for later in members[index + 1 :]:
                out.append(Ordering(ident, earlier, task, later, task, flags))
    elif sequential:
        for earlier, later in zip(members, members[1:], strict=False):
            out.append(Ordering(ident, earlier, task, later, task, flags))
    inverse = _INVERSE_TASK.get(task)
    if symmetry == ASYMMETRIC_ORDER or inverse is None or not sequential:
        return out
    inverse_flags = relation_flags(kind, inverse, INVERSE)
    for earlier, later in zip(members, members[1:], strict=False):
        out.append(Ordering(ident, later, inverse, earlier, inverse, inverse_flags))
    return out


def _between_sets(
    ident: str,
    set1: etree._Element,
    set2: etree._Element,
    kind: str,
    symmetry: str,
    set_members: Callable[[etree._Element], list[Resource]],
) -> list[Ordering]:
    task1 = set1.get("action", "start")
    task2 = set2.get("action", "start")
    require_all = parse_boolean(set1.get("require-all")) is not False
    if symmetry == INVERSE:
        inverse1, inverse2 = _INVERSE_TASK.get(task1), _INVERSE_TASK.get(task2)
        if inverse1 is None or inverse2 is None:
            return []
        task1, task2 = inverse1, inverse2
    if task1 in ("stop", "demote"):
        require_all = True  # one-or-more only holds while starting and promoting
    flags = relation_flags(kind, task1, symmetry)
    members1, members2 = set_members(set1), set_members(set2)
    if not require_all:
        gate = f"one-or-more:{set1.get('id', '')}"
        return gated(ident, gate, 1, members1, task1, members2, task2, flags)
    # only an explicitly sequential set is represented by its end member
    if parse_boolean(set1.get("sequential")) and members1:
        members1 = [members1[0] if symmetry == INVERSE else members1[-1]]
    if parse_boolean(set2.get("sequential")) and members2:
        members2 = [members2[-1] if symmetry == INVERSE else members2[0]]
    return [Ordering(ident, a, task1, b, task2, flags) for a in members1 for b in members2]
