"""rsc_colocation constraints -> Colocation records, as Pacemaker unpacks them.

Follows pcmk_sched_colocation.c: in a sequential set of positive score each member is
colocated with the one before it, in a negative one with every member before it, and a set
marked sequential="false" colocates nothing inside; between two consecutive sets the first
set (its first member, unless it is marked non-sequential) is colocated with the second (its
last member, likewise). A template or tag in `rsc` or `with-rsc` turns both sides into sets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from hactl.core.cib.schema import parse_boolean
from hactl.core.scheduler import scores
from hactl.core.scheduler.model import Colocation, Resource, Role, parse_role


@dataclass
class _Set:
    members: list[Resource]
    role: Role | None
    #: None when the set does not say (then it counts as sequential)
    sequential: bool | None
    score: int | None


def unpack_colocation(
    element: etree._Element,
    expand: Callable[[str | None], list[Resource]],
    set_members: Callable[[etree._Element], list[Resource]],
    resolve: Callable[[etree._Element], etree._Element],
    is_resource: Callable[[str | None], bool],
) -> list[Colocation]:
    ident = element.get("id", "")
    score = scores.parse(element.get("score"), 0)
    # without a valid influence, a critical dependent influences (Pacemaker's unpack_influence)
    influence = parse_boolean(element.get("influence"))
    attribute = element.get("node-attribute", "#uname")
    sets = [
        _Set(
            set_members(resolve(s)),
            parse_role(resolve(s).get("role")),
            parse_boolean(resolve(s).get("sequential")),
            scores.parse(resolve(s).get("score")) if resolve(s).get("score") else None,
        )
        for s in element.findall("resource_set")
    ]
    rsc, with_rsc = element.get("rsc"), element.get("with-rsc")
    if not sets and not (is_resource(rsc) and is_resource(with_rsc)):
        # a template or tag names a set: both sides become sets
        sets = [
            _Set(expand(rsc), parse_role(element.get("rsc-role")), None, None),
            _Set(expand(with_rsc), parse_role(element.get("with-rsc-role")), None, None),
        ]
    out: list[Colocation] = []

    def colocate(
        dependent: Resource, primary: Resource, value: int, roles: tuple[Role | None, Role | None]
    ) -> None:
        influences = dependent.critical if influence is None else influence
        out.append(
            Colocation(ident, dependent, primary, value, roles[0], roles[1], attribute, influences)
        )

    if not sets:
        for dependent in expand(rsc):
            for primary in expand(with_rsc):
                roles = (
                    parse_role(element.get("rsc-role")),
                    parse_role(element.get("with-rsc-role")),
                )
                colocate(dependent, primary, score, roles)
        return out
    previous: _Set | None = None
    for rset in sets:
        local = rset.score if rset.score is not None else score
        if local != 0 and rset.sequential is not False:
            for index, member in enumerate(rset.members):
                earlier = rset.members[:index] if local < 0 else rset.members[index - 1 : index]
                for other in earlier:
                    colocate(member, other, local, (rset.role, rset.role))
        if previous is not None and score != 0:
            firsts = previous.members
            if previous.sequential is not False:
                firsts = firsts[:1]
            lasts = rset.members
            if rset.sequential is not False:
                lasts = lasts[-1:]
            for dependent in firsts:
                for primary in lasts:
                    colocate(dependent, primary, score, (previous.role, rset.role))
        previous = rset
    return out
