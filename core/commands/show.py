"""Read views of the configuration: plain data (for ``--output json``) and pcs-like text
(for ``resource config``, ``constraint config``, ``config``)."""

from __future__ import annotations

from typing import Any

from hactl.core.commands import cibtools as ct
from hactl.core.commands import fencing, nodes, properties
from hactl.core.commands.cibtools import Element
from hactl.core.commands.constraint import constraints
from hactl.core.commands.nvsets import NVSET_TAGS
from hactl.core.commands.rules import rule_text
from hactl.core.commands.tags_alerts import alerts, find_tag, tags
from hactl.core.fencemeta import mask_secrets

_NVSET_TITLES = {
    "instance_attributes": "Attributes",
    "meta_attributes": "Meta Attributes",
    "utilization": "Utilization",
    "cluster_property_set": "Cluster Properties",
}

# ------------------------------------------------------------------------- data


def _nvpair_item(pair: Element) -> tuple[str, str]:
    """name -> value; a reference to another nvpair as ``@ID`` -> ``NAME=VALUE`` of it."""
    reference = pair.get("id-ref")
    if reference is None:
        return str(pair.get("name")), str(pair.get("value", ""))
    target = ct.find_id(pair.getroottree().getroot(), reference)
    resolved = f"{target.get('name')}={target.get('value', '')}" if target is not None else ""
    return f"@{reference}", resolved


def nvsets_data_of(blocks: list[Element]) -> list[dict[str, Any]]:
    return [
        {
            "id": b.get("id"),
            **({"rule": rule_text(rule)} if (rule := b.find("rule")) is not None else {}),
            **({"score": b.get("score")} if b.get("score") else {}),
            "nvpairs": dict(_nvpair_item(p) for p in b.findall("nvpair")),
        }
        for b in blocks
    ]


def nvsets_data(element: Element) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for tag in NVSET_TAGS:
        blocks = element.findall(tag)
        if blocks:
            data[tag] = nvsets_data_of(blocks)
    return data


def resource_data(element: Element) -> dict[str, Any]:
    """A resource as plain data; fence devices' secret parameters (passwords) are masked."""
    data: dict[str, Any] = {"id": element.get("id"), "kind": element.tag}
    if element.get("description") is not None:
        data["description"] = element.get("description")
    if element.tag == "primitive":
        data["agent"] = ":".join(
            p for p in (element.get("class"), element.get("provider"), element.get("type")) if p
        )
        if element.get("template"):
            data["template"] = element.get("template")
    data.update(nvsets_data(element))
    if ct.is_stonith(element):
        for block in data.get("instance_attributes", []):
            block["nvpairs"] = mask_secrets(block["nvpairs"])
    ops = element.findall("operations/op")
    if ops:
        data["operations"] = [
            {**{str(k): str(v) for k, v in op.attrib.items()}, **nvsets_data(op)} for op in ops
        ]
    members = [child for child in element if child.tag in ct.RESOURCE_TAGS]
    if members:
        data["members"] = [resource_data(m) for m in members]
    return data


def resources_data(
    root: Element, ids: list[str] | None = None, *, stonith: bool | None = None
) -> list[dict[str, Any]]:
    section = root.find("configuration/resources")
    if section is None:
        return []
    if ids:
        return [resource_data(ct.find_resource(root, i, where="config")) for i in ids]
    chosen = []
    for element in section:
        if element.tag not in ct.RESOURCE_TAGS:
            continue
        if stonith is not None and ct.is_stonith(element) != stonith:
            continue
        chosen.append(resource_data(element))
    return chosen


def utilization_data(root: Element, resource_ids: list[str]) -> dict[str, dict[str, str]]:
    """Resource -> utilization, for `resource utilization [RESOURCE]`."""
    chosen = (
        [ct.find_resource(root, r, where="resource utilization") for r in resource_ids]
        if resource_ids
        else ct.all_resources(root)
    )
    return {str(e.get("id")): v for e in chosen if (v := ct.nvset_values(e, "utilization"))}


def status_rows(root: Element, resource_ids: list[str]) -> list[dict[str, str]]:
    """What `resource status` can say offline: agent, target role, managed."""
    chosen = (
        [ct.find_resource(root, r, where="resource status") for r in resource_ids]
        if resource_ids
        else [e for e in ct.all_resources(root) if e.tag != "template"]
    )
    rows = []
    for element in chosen:
        meta = ct.nvset_values(element, "meta_attributes")
        agent = (element.get("class"), element.get("provider"), element.get("type"))
        rows.append(
            {
                "id": str(element.get("id")),
                "kind": element.tag,
                "agent": ":".join(p for p in agent if p),
                "target-role": meta.get("target-role", "Started"),
                "managed": "false" if meta.get("is-managed") == "false" else "true",
            }
        )
    return rows


def tag_data(root: Element, tag_ids: list[str]) -> dict[str, list[str]]:
    """Tag -> its resources, for `tag config [TAG…]`."""
    found = {str(t.get("id")): [str(o.get("id")) for o in t.findall("obj_ref")] for t in tags(root)}
    for tag_id in tag_ids:
        find_tag(root, tag_id, "tag config")
    return {k: v for k, v in found.items() if not tag_ids or k in tag_ids}


def constraint_data(element: Element) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": element.tag.removeprefix("rsc_"),
        **{str(k): str(v) for k, v in element.attrib.items()},
    }
    rules = element.findall("rule")
    if rules:
        data["rules"] = [
            {
                "id": r.get("id"),
                **({"score": r.get("score")} if r.get("score") else {}),
                **(
                    {"score-attribute": r.get("score-attribute")}
                    if r.get("score-attribute")
                    else {}
                ),
                **({"role": r.get("role")} if r.get("role") else {}),
                "expression": rule_text(r),
            }
            for r in rules
        ]
    sets = element.findall("resource_set")
    if sets:
        data["sets"] = [
            {
                **{str(k): str(v) for k, v in s.attrib.items()},
                "resources": [str(r.get("id")) for r in s.findall("resource_ref")],
            }
            for s in sets
        ]
    return data


def constraints_data(root: Element) -> list[dict[str, Any]]:
    return [constraint_data(c) for c in constraints(root)]


def config_data(root: Element) -> dict[str, Any]:
    """The whole configuration as plain data (`config --output json`)."""
    defaults: dict[str, Any] = {}
    for name in ("rsc_defaults", "op_defaults"):
        section = root.find(f"configuration/{name}")
        if section is not None:
            defaults[name] = nvsets_data(section).get("meta_attributes", [])
    return {
        "properties": properties.configured(root),
        "property_sets": nvsets_data_of(
            list(root.iterfind("configuration/crm_config/cluster_property_set"))
        ),
        "nodes": [
            {"id": n.get("id"), "uname": n.get("uname"), **nvsets_data(n)}
            for n in root.iterfind("configuration/nodes/node")
        ],
        "resources": resources_data(root, stonith=False),
        "stonith": resources_data(root, stonith=True),
        "fencing_levels": fencing.level_rows(root),
        "constraints": constraints_data(root),
        **defaults,
        "tags": [
            {"id": t.get("id"), "resources": [str(o.get("id")) for o in t.findall("obj_ref")]}
            for t in tags(root)
        ],
        "alerts": [
            {
                **{str(k): str(v) for k, v in a.attrib.items()},
                **nvsets_data(a),
                "recipients": [
                    {**{str(k): str(v) for k, v in r.attrib.items()}, **nvsets_data(r)}
                    for r in a.findall("recipient")
                ],
            }
            for a in alerts(root)
        ],
    }


# ------------------------------------------------------------------------- text


def _pairs(values: dict[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in values.items())


def _nvset_lines(data: dict[str, Any], indent: str) -> list[str]:
    lines = []
    for tag in NVSET_TAGS:
        for block in data.get(tag, []):
            extra = f" (score: {block['score']})" if "score" in block else ""
            extra += f" (rule: {block['rule']})" if "rule" in block else ""
            lines.append(f"{indent}{_NVSET_TITLES[tag]}: {block['id']}{extra}")
            for name, value in block["nvpairs"].items():
                pair = f"{name} ({value})" if name.startswith("@") else f"{name}={value}"
                lines.append(f"{indent}  {pair}")
    return lines


def resource_lines(data: dict[str, Any], indent: str = "") -> list[str]:
    kind = data["kind"]
    if kind == "primitive":
        agent = data.get("agent", "").split(":")
        labels = ["class", "provider", "type"] if len(agent) == 3 else ["class", "type"]
        described = " ".join(f"{label}={part}" for label, part in zip(labels, agent, strict=False))
        lines = [f"{indent}Resource: {data['id']} ({described})"]
    else:
        lines = [f"{indent}{kind.capitalize()}: {data['id']}"]
    if "description" in data:
        lines.append(f"{indent}  Description: {data['description']}")
    lines += _nvset_lines(data, indent + "  ")
    if data.get("operations"):
        lines.append(f"{indent}  Operations:")
        for op in data["operations"]:
            lines.append(f"{indent}    {op['name']}: {op['id']}")
            options = {
                k: v for k, v in op.items() if k not in ("id", "name") and isinstance(v, str)
            }
            if options:
                lines.append(f"{indent}      {_pairs(options)}")
            lines += _nvset_lines(op, indent + "      ")
    for member in data.get("members", []):
        lines += resource_lines(member, indent + "  ")
    return lines


def _role(text: str | None) -> str:
    return f"{text} " if text else ""


def constraint_lines(data: dict[str, Any], *, full: bool) -> list[str]:
    ident = f" (id: {data['id']})" if full else ""
    kind = data["kind"]
    skip = {
        "kind",
        "id",
        "rules",
        "sets",
        "rsc",
        "with-rsc",
        "first",
        "then",
        "first-action",
        "then-action",
        "rsc-role",
        "with-rsc-role",
        "node",
        "score",
        "ticket",
        "rsc-pattern",
        "role",
    }
    options = {k: v for k, v in data.items() if k not in skip and isinstance(v, str)}
    target = (
        f"resource '{data['rsc']}'"
        if "rsc" in data
        else (f"resource pattern '{data['rsc-pattern']}'" if "rsc-pattern" in data else "")
    )
    if "sets" in data:
        head = {
            "location": "Location",
            "order": "Order",
            "colocation": "Colocation",
            "ticket": "Ticket",
        }[kind]
        lines = [f"  {head} Set Constraint:{ident}"]
        for resource_set in data["sets"]:
            set_options = {k: v for k, v in resource_set.items() if k not in ("id", "resources")}
            lines.append(
                "    Resource Set: "
                + " ".join(resource_set["resources"])
                + (f" ({_pairs(set_options)})" if set_options else "")
                + (f" (id: {resource_set['id']})" if full else "")
            )
        extra = {k: v for k, v in options.items()}
        if "score" in data:
            extra["score"] = data["score"]
        if "ticket" in data:
            extra["ticket"] = data["ticket"]
        if extra:
            lines.append(f"    {_pairs(extra)}")
        return lines
    if kind == "location":
        role = _role(data.get("role"))
        if "rules" in data:
            lines = [f"  {role}{target}{ident}".replace("  ", "  ", 1)]
            lines.append("    Rules:")
            for rule in data["rules"]:
                score = (
                    f"score={rule['score']}"
                    if "score" in rule
                    else f"score-attribute={rule.get('score-attribute')}"
                )
                lines.append(f"      Rule: {score}" + (f" (id: {rule['id']})" if full else ""))
                lines.append(f"        {rule['expression']}")
        else:
            score = str(data.get("score", "INFINITY"))
            verb = "avoids" if score.startswith("-") else "prefers"
            lines = [
                f"  {role}{target} {verb} node '{data.get('node')}' with score "
                f"{score.lstrip('-') if verb == 'avoids' else score}{ident}"
            ]
    elif kind == "order":
        lines = [
            f"  {data.get('first-action', 'start')} resource '{data.get('first')}' then "
            f"{data.get('then-action', 'start')} resource '{data.get('then')}'{ident}"
        ]
        if "score" in data:
            options["score"] = data["score"]
    elif kind == "colocation":
        lines = [
            f"  {_role(data.get('rsc-role'))}resource '{data.get('rsc')}' with "
            f"{_role(data.get('with-rsc-role'))}resource '{data.get('with-rsc')}'{ident}"
        ]
        options = {"score": str(data.get("score", "")), **options}
    else:
        lines = [
            f"  {_role(data.get('rsc-role'))}{target} depends on ticket "
            f"'{data.get('ticket')}'{ident}"
        ]
    if options:
        lines.append(f"    {_pairs(options)}")
    return lines


def constraints_text(items: list[dict[str, Any]], *, full: bool) -> list[str]:
    lines: list[str] = []
    for kind, title in (
        ("location", "Location Constraints:"),
        ("colocation", "Colocation Constraints:"),
        ("order", "Order Constraints:"),
        ("ticket", "Ticket Constraints:"),
    ):
        chosen = [c for c in items if c["kind"] == kind]
        if chosen:
            lines.append(title)
            for item in chosen:
                lines += constraint_lines(item, full=full)
    return lines


def config_text(root: Element) -> list[str]:
    """Everything, as `hactl config` prints it."""
    data = config_data(root)
    name = data["properties"].get("cluster-name")
    lines = [f"Cluster Name: {name}"] if name else []
    if data["resources"]:
        lines.append("Resources:")
        for item in data["resources"]:
            lines += resource_lines(item, "  ")
    if data["stonith"]:
        lines.append("Stonith Devices:")
        for item in data["stonith"]:
            lines += resource_lines(item, "  ")
    if data["fencing_levels"]:
        lines.append("Fencing Levels:")
        for level in data["fencing_levels"]:
            lines.append(
                f"  Target: {level['target']}  Level {level['index']} - {level['devices']}"
            )
    lines += constraints_text(data["constraints"], full=True)
    for key, title in (
        ("rsc_defaults", "Resources Defaults:"),
        ("op_defaults", "Operations Defaults:"),
    ):
        for block in data.get(key, []):
            lines.append(f"{title}\n  Meta Attributes: {block['id']}")
            lines += [f"    {k}={v}" for k, v in block["nvpairs"].items()]
    if data["alerts"]:
        lines.append("Alerts:")
        for alert in data["alerts"]:
            lines.append(f"  Alert: {alert['id']} (path={alert['path']})")
            for recipient in alert["recipients"]:
                lines.append(f"    Recipient: {recipient['id']} (value={recipient['value']})")
    if data["tags"]:
        lines.append("Tags:")
        lines += [f"  {t['id']}: {' '.join(t['resources'])}" for t in data["tags"]]
    node_values = nodes.node_values(root, "instance_attributes")
    if node_values:
        lines.append("Node Attributes:")
        lines += [f"  {n}: {_pairs(v)}" for n, v in node_values.items()]
    if data["properties"]:
        lines.append("Cluster Properties: cib-bootstrap-options")
        lines += [f"  {k}={v}" for k, v in data["properties"].items()]
    lines += property_rule_set_lines(root)
    return lines


def property_rule_set_lines(root: Element) -> list[str]:
    """The property sets that hold only where their rule does, as `property config` and
    `config` show them after the properties that always hold."""
    data = {"cluster_property_set": nvsets_data_of(properties.rule_sets(root))}
    return _nvset_lines(data, "")
