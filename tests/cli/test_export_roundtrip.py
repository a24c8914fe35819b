"""Round trip: `config export pcs-commands`, replayed on an empty CIB, gives an equivalent
configuration, for the CIBs of Pacemaker's scheduler regression cases.

Equivalent means the same meaning, compared on a canonical form: every resource,
operation, constraint, fencing level, tag and alert with its id and settings; rules by
their text (their inner ids are generated); name/value sets merged as Pacemaker reads them
(first set wins; their ids are generated); legacy role names as the new ones; attributes
left out replaced by their defaults (an order's then-action is its first-action, a
colocation's roles are Started and its score 0; +INFINITY is INFINITY). Node entries are
kept by the cluster as nodes join: nodes are compared by their attributes and utilization.

A CIB using what the grammar cannot express (templates, ACLs, sets with rules…)
must be refused by the export with a one-line error naming the element. The normal run
takes every 20th case; `-m slow` takes all 520 and prints the counts.
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


def _role(value: str | None) -> str | None:
    return None if value is None else LEGACY_ROLES.get(value.lower(), value)


def _sets(element: etree._Element, tag: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for block in element.findall(tag):
        for pair in block.findall("nvpair"):
            merged.setdefault(str(pair.get("name")), str(pair.get("value")))
    return merged


def _attributes(element: etree._Element, drop: tuple[str, ...] = ()) -> dict[str, str]:
    result = {str(k): str(v) for k, v in element.attrib.items() if k not in drop}
    for name in ROLE_ATTRIBUTES:
        if name in result:
            result[name] = str(_role(result[name]))
    return result


def _resource(element: etree._Element) -> Any:
    if element.tag in (element.tag, "template"):
        ops = sorted(
            (sorted(_attributes(op).items()), sorted(_sets(op, "instance_attributes").items()))
            for op in element.iter("op")
        )
        return (
            "primitive",
            _attributes(element),
            _sets(element, "instance_attributes"),
            _sets(element, "meta_attributes"),
            _sets(element, "utilization"),
            ops,
        )
    meta = _sets(element, "meta_attributes")
    if element.tag == "bundle":
        parts = [
            (part.tag, _attributes(part), [_attributes(m) for m in part])
            for part in element
            if part.tag in ("docker", "podman", "rkt", "network", "storage")
        ]
        inner = [_resource(p) for p in element.findall("primitive")]
        return ("bundle", element.get("id"), meta, sorted(parts, key=repr), inner)
    if element.tag == "master":
        meta = {"promotable": "true", **meta}
    children = [_resource(c) for c in element if c.tag in ("primitive", "group")]
    kind = "clone" if element.tag == "master" else element.tag
    return (kind, element.get("id"), meta, children)


def _defaults(section: etree._Element | None) -> Any:
    """Plain defaults merged; sets with rules or scores one by one, with id, score, rule."""
    if section is None:
        return {}
    blocks = section.findall("meta_attributes")
    if (
        len(blocks) <= 1
        and section.find("meta_attributes/rule") is None
        and not any(b.get("score") for b in blocks)
    ):
        return _sets(section, "meta_attributes")
    return [
        (
            b.get("id"),
            b.get("score"),
            [rule_text(r) for r in b.findall("rule")],
            [(p.get("name"), p.get("value")) for p in b.findall("nvpair")],
        )
        for b in blocks
    ]


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
    crm_config = config.find("crm_config")
    properties = _sets(crm_config, "cluster_property_set") if crm_config is not None else {}
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
    defaults = {name: _defaults(config.find(name)) for name in ("rsc_defaults", "op_defaults")}
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


@pytest.mark.parametrize("case", CASES[::20], ids=lambda p: p.stem)
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
