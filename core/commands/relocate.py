"""`resource relocate`: move resources to the nodes they would choose without stickiness
(pcs's `resource relocate dry-run|run|show|clear`).

The scheduler runs on a copy of the CIB, status included, in which the chosen resources
(and everything inside them) have the meta attribute resource-stickiness=0; the starts,
promotions and migrations of that transition say where each resource would rather be.
`run` pins them there with INFINITY location constraints named ``pcs-relocate-…`` (pcs's
ids, so `pcs resource relocate clear` and this `clear` each remove the other's), waits
until the cluster has settled and removes them again: stickiness then keeps the resources
where they went. The scheduler is pure; the time is the caller's.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from hactl.core.commands import cibtools as ct
from hactl.core.errors import HactlError
from hactl.core.scheduler import WorkingSet, schedule
from hactl.core.scheduler.model import Resource

CONSTRAINT_PREFIX = "pcs-relocate-"
_WHERE = "resource relocate"
#: the actions that put a resource on a node (pcs reads the same three from the graph)
_PLACING_TASKS = ("start", "migrate_from", "promote")


@dataclass(frozen=True)
class Relocation:
    """One location constraint `run` makes: ``resource`` prefers ``node`` (INFINITY), in
    the promoted role when ``promoted``."""

    resource: str
    node: str
    promoted: bool
    #: the instance or primitive whose action asked for it (``D:1`` for a clone's)
    instance: str

    def describe(self) -> str:
        role = " role=Promoted" if self.promoted else ""
        return f"{self.resource} prefers {self.node}=INFINITY{role}"


@dataclass(frozen=True)
class Placement:
    """Where a primitive (or clone instance) runs now and where it would without stickiness."""

    resource: str
    current: tuple[str, ...]
    optimal: str | None

    @property
    def moves(self) -> bool:
        return self.optimal is not None and self.current != (self.optimal,)


def _chosen(root: ct.Element, names: Sequence[str]) -> list[ct.Element]:
    """The named resources (all top-level ones when none is named); fence devices refused."""
    resources = root.find("configuration/resources")
    if not names:
        return [] if resources is None else [el for el in resources if el.tag in ct.RESOURCE_TAGS]
    chosen = []
    for name in dict.fromkeys(names):
        element = ct.find_resource(root, name, where=_WHERE)
        if ct.is_stonith(element):
            raise HactlError(
                f"{name!r} is a fence device, not a resource to relocate",
                where=_WHERE,
                hint="name resources only (`hactl resource status` lists them)",
            )
        chosen.append(element)
    return chosen


def without_stickiness(root: ct.Element, names: Sequence[str]) -> tuple[ct.Element, set[str]]:
    """A copy of the CIB in which the chosen resources and their members have
    resource-stickiness=0, and the ids of those resources."""
    chosen_ids = [str(el.get("id")) for el in _chosen(root, names)]
    copied = copy.deepcopy(root)
    ids = ct.IdAllocator(copied)
    affected: set[str] = set()
    for element in _chosen(copied, chosen_ids if names else ()):
        for member in element.iter("primitive", "group", "clone", "master", "bundle"):
            affected.add(str(member.get("id")))
            # drop every stickiness the member sets (rule-bound sets too), then set 0
            ct.remove_elements(
                ct.elements(member, "meta_attributes/nvpair[@name='resource-stickiness']")
            )
            override = etree.Element("meta_attributes", id=ids.sub_id(member, "meta_attributes"))
            etree.SubElement(
                override,
                "nvpair",
                id=ids.sub_id(override, "resource-stickiness"),
                name="resource-stickiness",
                value="0",
            )
            member.insert(0, override)
    return copied, affected


def optimal_placement(root: ct.Element, names: Sequence[str], now: dt.datetime) -> WorkingSet:
    """The scheduler's decisions on the CIB with the chosen resources' stickiness at 0."""
    unstuck, _affected = without_stickiness(root, names)
    return schedule(unstuck, now)


def _constraint_target(rsc: Resource) -> str:
    """What the constraint names: a clone's or bundle's instance moves through its
    clone/bundle (the only place a constraint may name), anything else by its own id."""
    outer: Resource | None = rsc.parent
    target = rsc.id.split(":")[0]
    while outer is not None:
        if outer.kind in ("clone", "bundle"):
            target = outer.id
        outer = outer.parent
    return target


def plan(root: ct.Element, names: Sequence[str], now: dt.datetime) -> list[Relocation]:
    """The constraints `run` would make for the named resources (all when none is named),
    in the order the scheduler created the actions asking for them."""
    unstuck, affected = without_stickiness(root, names)
    ws = schedule(unstuck, now)
    placing = sorted(
        (
            act
            for act in ws.actions
            if act.in_graph
            and not act.pseudo
            and act.task in _PLACING_TASKS
            and act.rsc is not None
            and act.rsc.is_primitive
            and act.node is not None
        ),
        key=lambda act: act.id,
    )
    # per instance: the last start (or migration) and the last promotion count, as in pcs
    started: dict[str, str] = {}
    promoted: dict[str, str] = {}
    targets: dict[str, str] = {}
    for act in placing:
        assert act.rsc is not None and act.node is not None  # filtered above
        target = _constraint_target(act.rsc)
        if names and target not in affected and act.rsc.id.split(":")[0] not in affected:
            continue
        targets[act.rsc.id] = target
        (promoted if act.task == "promote" else started)[act.rsc.id] = act.node.name
    # a promotion pins the promoted role (where it starts follows), as pcs writes it
    return [
        Relocation(target, promoted[instance], True, instance)
        if instance in promoted
        else Relocation(target, started[instance], False, instance)
        for instance, target in targets.items()
    ]


def placements(ws: WorkingSet) -> list[Placement]:
    """Every primitive (clone instances one by one): where it runs and where it would."""
    return [
        Placement(
            rsc.id,
            tuple(sorted(node.name for node in rsc.running_on)),
            rsc.assigned.name if rsc.assigned is not None else None,
        )
        for rsc in ws.all_resources()
        if rsc.is_primitive and not rsc.orphan
    ]


def add_constraints(root: ct.Element, relocations: Sequence[Relocation]) -> list[str]:
    """Write the relocation constraints; their ids, in order."""
    constraints = ct.section(root, "constraints")
    ids = ct.IdAllocator(root)
    made = []
    for relocation in relocations:
        constraint_id = ids.allocate(CONSTRAINT_PREFIX + relocation.resource)
        element = etree.SubElement(
            constraints,
            "rsc_location",
            id=constraint_id,
            rsc=relocation.resource,
            node=relocation.node,
            score="INFINITY",
        )
        if relocation.promoted:
            element.set("role", "Promoted")
        made.append(constraint_id)
    return made


def clear(root: ct.Element) -> list[str]:
    """Remove every relocation constraint (those `run` left behind); their ids."""
    found = [
        element
        for element in root.iterfind("configuration/constraints/rsc_location")
        if str(element.get("id", "")).startswith(CONSTRAINT_PREFIX)
    ]
    ct.remove_elements(found)
    return [str(element.get("id")) for element in found]
