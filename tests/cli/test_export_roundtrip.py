"""Round trip: `config export pcs-commands`, replayed on an empty CIB, gives an equivalent
configuration, for the CIBs of Pacemaker's scheduler regression cases.

Equivalent means the same meaning, compared on a canonical form: every resource,
operation, constraint, fencing level, tag and alert with its id and settings; rules by
their text (their inner ids are generated); name/value sets merged as Pacemaker reads them
(first set wins; their ids are generated) unless one has a score, a rule or a reference
to another nvpair (then each set in order, with its id, score, rule and the name and value
a reference resolves to); legacy role names as the new ones; attributes
left out replaced by their defaults (an order's then-action is its first-action, a
colocation's roles are Started and its score 0; +INFINITY is INFINITY). Node entries are
kept by the cluster as nodes join: nodes are compared by their attributes and utilization.

A CIB using what the grammar cannot express (ACLs, references to whole sets…)
must be refused by the export with a one-line error naming the element. The normal run
takes every 20th case and the small cases of EXTENSION_CASES; `-m slow` takes all 520
and prints the counts.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from hactl.core.commands.grammar import LEGACY_ROLES
from hactl.core.commands.rules import rule_text

CASES = sorted(Path("/work/shared/conformance/scheduler/cases/xml").glob("*.xml"))
ROLE_ATTRIBUTES = ("role", "rsc-role", "with-rsc-role", "first-role", "then-role")
NVSET_TAGS = ("instance_attributes", "meta_attributes", "utilization")


def _role(value: str | None) -> str | None:
    return None if value is None else LEGACY_ROLES.get(value.lower(), value)


def _pair(pair: etree._Element) -> tuple[str, str]:
    """(name, value) of an nvpair; a reference as ('@ID', 'NAME=VALUE' of its target)."""
    reference = pair.get("id-ref")
    if reference is None:
        return str(pair.get("name")), str(pair.get("value"))
    found = pair.getroottree().getroot().xpath("//nvpair[@id=$i]", i=reference)
    target = found[0] if isinstance(found, list) and found else None
    assert isinstance(target, etree._Element), f"dangling nvpair reference {reference}"
    return f"@{reference}", f"{target.get('name')}={target.get('value')}"


def _special(block: etree._Element) -> bool:
    return (
        block.find("rule") is not None
        or block.get("score") is not None
        or any(p.get("id-ref") for p in block.findall("nvpair"))
    )


def _sets(element: etree._Element | None, tag: str) -> Any:
    """Plain sets merged as Pacemaker reads them (first set wins); when one has a score,
    a rule or a reference, every set of the kind in order: id, score, rule, pairs."""
    if element is None:
        return {}
    blocks = [b for b in element.findall(tag) if b.find("nvpair") is not None]
    if any(_special(b) for b in blocks):
        return [
            (
                b.get("id"),
                b.get("score"),
                [rule_text(r) for r in b.findall("rule")],
                [_pair(p) for p in b.findall("nvpair")],
            )
            for b in blocks
        ]
    merged: dict[str, str] = {}
    for block in blocks:
        for pair in block.findall("nvpair"):
            name, value = _pair(pair)
            merged.setdefault(name, value)
    return merged


def _nvsets(element: etree._Element) -> tuple[Any, ...]:
    return tuple(_sets(element, tag) for tag in NVSET_TAGS)


def _attributes(element: etree._Element, drop: tuple[str, ...] = ()) -> dict[str, str]:
    result = {str(k): str(v) for k, v in element.attrib.items() if k not in drop}
    for name in ROLE_ATTRIBUTES:
        if name in result:
            result[name] = str(_role(result[name]))
    return result


def _resource(element: etree._Element) -> Any:
    """A resource with its attributes (description too), its three kinds of sets, and
    its operations (primitives), members (groups, clones) or containers (bundles)."""
    instance, meta, utilization = _nvsets(element)
    if element.tag in ("primitive", "template"):
        ops = sorted(
            (sorted(_attributes(op).items()), repr(_nvsets(op))) for op in element.iter("op")
        )
        return ("primitive", _attributes(element), instance, meta, utilization, ops)
    if element.tag == "master" and isinstance(meta, dict):
        meta = {"promotable": "true", **meta}
    kind = "clone" if element.tag == "master" else element.tag
    inner: list[Any] = [_resource(c) for c in element if c.tag in ("primitive", "group")]
    if element.tag == "bundle":
        parts = [
            (part.tag, _attributes(part), [_attributes(m) for m in part])
            for part in element
            if part.tag in ("docker", "podman", "rkt", "network", "storage")
        ]
        inner.append(sorted(parts, key=repr))
    return (kind, _attributes(element), instance, meta, utilization, inner)


def _constraint(element: etree._Element) -> Any:
    attributes = _attributes(element)
    rules = element.findall("rule")
    if element.tag == "rsc_order":
        attributes.setdefault("first-action", "start")
        attributes.setdefault("then-action", attributes["first-action"])
    if "score" in attributes:
        attributes["score"] = attributes["score"].removeprefix("+")
    if element.tag == "rsc_colocation":
        if "score-attribute" not in attributes:
            attributes.setdefault("score", "0")
        attributes.setdefault("rsc-role", "Started")
        attributes.setdefault("with-rsc-role", "Started")
    if element.tag == "rsc_location" and len(rules) == 1 and rules[0].get("role"):
        attributes.setdefault("role", str(_role(rules[0].get("role"))))
    rule_forms = [
        (rule.get("id"), rule.get("score"), rule.get("score-attribute"), rule_text(rule))
        for rule in rules
    ]
    sets = [
        (_attributes(s, drop=("id",)), [str(r.get("id")) for r in s.findall("resource_ref")])
        for s in element.findall("resource_set")
    ]
    return (element.tag, attributes, rule_forms, sets)


def canonical(path: Path) -> Any:
    root = etree.parse(str(path)).getroot()
    config = root.find("configuration")
    assert config is not None
    properties = _sets(config.find("crm_config"), "cluster_property_set")
    nodes = {
        str(n.get("uname") or n.get("id")): (
            _sets(n, "instance_attributes"),
            _sets(n, "utilization"),
        )
        for n in config.iterfind("nodes/node")
        if n.find("instance_attributes/nvpair") is not None
        or n.find("utilization/nvpair") is not None
    }
    resources_section = config.find("resources")
    children = [
        r
        for r in (resources_section if resources_section is not None else [])
        if isinstance(r.tag, str)
    ]
    # templates are not scheduled: where they sit among the resources does not matter
    resources = [_resource(r) for r in children if r.tag != "template"]
    templates = sorted((_resource(r) for r in children if r.tag == "template"), key=repr)
    constraints_section = config.find("constraints")
    constraints = [
        _constraint(c)
        for c in (constraints_section if constraints_section is not None else [])
        if isinstance(c.tag, str)
    ]
    defaults = {
        name: _sets(config.find(name), "meta_attributes")
        for name in ("rsc_defaults", "op_defaults")
    }
    levels = [_attributes(level) for level in config.iterfind("fencing-topology/fencing-level")]
    tags = {
        str(t.get("id")): [str(o.get("id")) for o in t.findall("obj_ref")]
        for t in config.iterfind("tags/tag")
    }
    alerts = [
        (
            _attributes(a),
            _sets(a, "instance_attributes"),
            _sets(a, "meta_attributes"),
            [
                (_attributes(r), _sets(r, "instance_attributes"), _sets(r, "meta_attributes"))
                for r in a.findall("recipient")
            ],
        )
        for a in config.iterfind("alerts/alert")
    ]
    return {
        "properties": properties,
        "nodes": nodes,
        "resources": resources,
        "templates": templates,
        "constraints": constraints,
        "defaults": defaults,
        "levels": levels,
        "tags": tags,
        "alerts": alerts,
    }


def round_trip(hactl, case: Path, tmp_path: Path) -> str:
    """'equal', or 'refused' (the export named what it cannot express); fails otherwise."""
    exported = hactl(f"-f {case} config export pcs-commands")
    if exported.code != 0:
        assert exported.code == 1 and len(exported.err.strip().splitlines()) == 1, exported.err
        assert "cannot be written as hactl commands" in exported.err, exported.err
        return "refused"
    rebuilt = tmp_path / f"{case.stem}.rebuilt.xml"
    for line in exported.out.splitlines():
        words = shlex.split(line)
        assert words[0] == "hactl"
        result = hactl(shlex.join(["-f", str(rebuilt), *words[1:]]))
        assert result.code == 0, f"{case.name}: {line}\n{result.err}"
    if not exported.out.strip():
        rebuilt.write_bytes(
            b"<cib><configuration><crm_config/><nodes/><resources/><constraints/></configuration></cib>"
        )
    assert canonical(rebuilt) == canonical(case), case.name
    return "equal"


#: small cases for each construct that needs hactl's additions to pcs's grammar: a group's
#: instance attributes, sets with rules and scores on resources, nodes and properties,
#: an operation's own parameters, descriptions, an nvpair reference
EXTENSION_CASES = (
    "group11",
    "cluster-specific-params",
    "date-1",
    "date-3",
    "multiple-monitor-one-failed",
    "migration-ping-pong",
    "nvpair-id-ref",
)
QUICK_CASES = sorted({*CASES[::20], *(c for c in CASES if c.stem in EXTENSION_CASES)})


@pytest.mark.parametrize("case", QUICK_CASES, ids=lambda p: p.stem)
def test_export_replays_to_an_equivalent_configuration(hactl, tmp_path: Path, case: Path) -> None:
    round_trip(hactl, case, tmp_path)


@pytest.mark.slow
def test_export_round_trip_over_all_cases(hactl, tmp_path: Path, capsys) -> None:
    outcomes: dict[str, list[str]] = {"equal": [], "refused": [], "failed": []}
    for case in CASES:
        try:
            outcomes[round_trip(hactl, case, tmp_path)].append(case.stem)
        except AssertionError as exc:
            outcomes["failed"].append(f"{case.stem}: {str(exc).splitlines()[0]}")
    with capsys.disabled():
        print(
            f"\nround trip: {len(outcomes['equal'])} equal, {len(outcomes['refused'])} refused, "
            f"{len(outcomes['failed'])} failed of {len(CASES)} cases"
        )
        for line in outcomes["failed"]:
            print("  " + line)
    assert outcomes["failed"] == []


XML = Path("/work/shared/conformance/scheduler/cases/xml")


def _set_value(xpath: str, attribute: str, value: str | None) -> Any:
    def alter(root: etree._Element) -> None:
        found = root.xpath(xpath)
        assert isinstance(found, list) and found, xpath
        element = found[0]
        assert isinstance(element, etree._Element)
        if value is None:
            del element.attrib[attribute]
        else:
            element.set(attribute, value)

    return alter


def _remove(xpath: str) -> Any:
    def alter(root: etree._Element) -> None:
        found = root.xpath(xpath)
        assert isinstance(found, list) and found, xpath
        element = found[0]
        assert isinstance(element, etree._Element)
        parent = element.getparent()
        assert parent is not None
        parent.remove(element)

    return alter


@pytest.mark.parametrize(
    ("case", "alter"),
    [
        ("group11", _set_value("//group/meta_attributes/nvpair", "value", "Stopped")),
        ("group11", _set_value("//group", "description", "changed")),
        ("group11", _set_value("//group/instance_attributes/nvpair", "value", "stopped")),
        ("1494", _set_value("//clone/primitive/instance_attributes/nvpair", "value", "x")),
        ("1494", _set_value("//clone/primitive", "type", "Stateful")),
        ("bundle-interleave-start", _set_value("//bundle/podman", "replicas", "7")),
        ("bundle-interleave-start", _set_value("//bundle/primitive", "type", "Dummy")),
        ("params-1", _set_value("//op/instance_attributes/nvpair", "value", "other")),
        ("migration-ping-pong", _set_value("//primitive[@description]", "description", "x")),
        ("cluster-specific-params", _set_value("//expression", "value", "clusterC")),
        ("cluster-specific-params", _set_value("//instance_attributes", "score", "5")),
        ("date-3", _set_value("//cluster_property_set", "score", "0")),
        ("date-1", _set_value("//node//date_expression", "end", "2006-001")),
        ("nvpair-id-ref", _set_value("//nvpair[@id-ref]", "id-ref", "rsc1-monitor-10")),
        ("nvpair-id-ref", _set_value("//nvpair[@name='fake']", "value", "other")),
        ("nvpair-id-ref", _remove("//primitive[@id='rsc2']/instance_attributes")),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_the_comparison_finds_a_deliberate_difference(case: str, alter: Any, tmp_path) -> None:
    """The canonical form must not be blind: one change anywhere makes it unequal."""
    original = XML / f"{case}.xml"
    tree = etree.parse(str(original))
    alter(tree.getroot())
    altered = tmp_path / f"{case}.altered.xml"
    tree.write(str(altered))
    try:
        different = canonical(altered) != canonical(original)
    except AssertionError:  # a reference altered to point nowhere is refused outright
        different = True
    assert different


EXTENSIONS = [
    "property set stonith-enabled=false",
    "property set create id=night score=10 batch-limit=30 rule date-spec hours=0-6",
    "node attribute node1 rack=r1 --force",
    "node set create node1 id=n1-later attribute rack=r2 rule date gt 2030-01-01",
    "node set create node1 id=n1-cap utilization cpu=8 rule defined big",
    "resource create db ocf:heartbeat:Dummy state=/run/db fake= "
    "op monitor interval=20s op_params depth=0 trace_ra= op_meta record-pending=true",
    "resource set create db id=db-east score=5 options state=/run/east rule '#cluster-name' eq e",
    "resource set create db id=db-shared options '$db-port:fake=5432'",
    "resource create web ocf:heartbeat:Dummy --group g",
    "resource set create web options @db-port",
    "resource set create g options target_role=started",
    "resource set create g meta resource-stickiness=5 rule date-spec weekdays=1-5",
    "resource description g 'the web group'",
    "resource create ping ocf:heartbeat:Dummy clone",
    "resource set create ping-clone options multiplier=100",
    "resource description ping-clone 'one per node'",
    "stonith create f1 fence_dummy --force",
    "stonith description f1 'a fence device'",
    "resource bundle create b container docker image=img replicas=2",
    "resource description b 'a bundle'",
]


def test_the_extensions_round_trip(hactl, tmp_path: Path) -> None:
    """What hactl adds to pcs's grammar is exported with it, and replays to the same."""
    built = tmp_path / "extensions.xml"
    for command in EXTENSIONS:
        result = hactl(f"-f {built} {command}")
        assert result.code == 0, f"{command}: {result.err}"
    assert round_trip(hactl, built, tmp_path) == "equal"
    exported = hactl(f"-f {built} config export pcs-commands").out
    for word in ("op_params depth=0", "@db-port", "'$db-port:fake=5432'", "node set create"):
        assert word in exported, word
