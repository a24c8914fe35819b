"""Fence devices and fencing topology (`stonith create / update / delete / level …`).

A fence device is a primitive of class ``stonith``: creating one is resource creation with
the fence agent's meta-data; the parameters Pacemaker itself reads (``pcmk_host_list``,
``pcmk_delay_max``, …) are accepted for every agent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lxml import etree

from hactl.core.agentmeta import AgentMetadata
from hactl.core.commands import cibtools as ct
from hactl.core.commands.cibtools import Element, IdAllocator
from hactl.core.commands.grammar import did_you_mean
from hactl.core.errors import HactlError, NotFoundError

#: instance parameters the fencer handles itself, valid for every fence device
FENCER_PARAMETERS = (
    "pcmk_host_map",
    "pcmk_host_list",
    "pcmk_host_check",
    "pcmk_host_argument",
    "pcmk_delay_max",
    "pcmk_delay_base",
    "pcmk_action_limit",
    "pcmk_on_action",
    "pcmk_on_timeout",
    "pcmk_on_retries",
    "pcmk_off_action",
    "pcmk_off_timeout",
    "pcmk_off_retries",
    "pcmk_reboot_action",
    "pcmk_reboot_timeout",
    "pcmk_reboot_retries",
    "pcmk_list_action",
    "pcmk_list_timeout",
    "pcmk_list_retries",
    "pcmk_monitor_action",
    "pcmk_monitor_timeout",
    "pcmk_monitor_retries",
    "pcmk_status_action",
    "pcmk_status_timeout",
    "pcmk_status_retries",
    "priority",
)
#: what fence agents mark required but the fencer supplies from the target
SUPPLIED_BY_FENCER = ("port", "plug", "nodename", "action")


def without_fencer_parameters(metadata: AgentMetadata) -> AgentMetadata:
    """The agent's meta-data as a device's parameters are checked: the fencer's own
    parameters added, and the target-naming ones not required."""
    from hactl.core.agentmeta import Parameter

    parameters = [
        p.model_copy(update={"required": False}) if p.name in SUPPLIED_BY_FENCER else p
        for p in metadata.parameters
    ]
    known = {p.name for p in parameters}
    parameters += [Parameter(name=n) for n in FENCER_PARAMETERS if n not in known]
    return metadata.model_copy(update={"parameters": tuple(parameters)})


def _target(text: str) -> dict[str, str]:
    """A level's target as pcs writes it: NODE, regexp%PATTERN, attrib%NAME=VALUE."""
    if text.startswith("regexp%"):
        return {"target-pattern": text.removeprefix("regexp%")}
    if text.startswith("attrib%"):
        name, sep, value = text.removeprefix("attrib%").partition("=")
        if not sep or not name:
            raise HactlError(f"{text!r} is not attrib%NAME=VALUE", where="stonith level")
        return {"target-attribute": name, "target-value": value}
    return {"target": text}


def _target_label(level: Element) -> str:
    if level.get("target-pattern") is not None:
        return f"regexp%{level.get('target-pattern')}"
    if level.get("target-attribute") is not None:
        return f"attrib%{level.get('target-attribute')}={level.get('target-value')}"
    return str(level.get("target"))


def level_add(
    root: Element,
    index: str,
    target: str,
    devices: Sequence[str],
    *,
    level_id: str | None,
    force: bool,
) -> Element:
    """`stonith level add LEVEL TARGET DEVICE…`: id fl-TARGET-LEVEL."""
    where = f"stonith level add {index} {target}"
    if not re.fullmatch(r"[1-9]\d*", index):
        raise HactlError(
            f"level {index!r} is not a positive integer", where=where, hint="levels are 1, 2, …"
        )
    if not devices:
        raise HactlError(
            "no fence device given", where=where, hint="hactl stonith level add 1 NODE DEVICE"
        )
    stonith_ids = [str(e.get("id")) for e in ct.all_resources(root) if ct.is_stonith(e)]
    for device in devices:
        if device not in stonith_ids and not force:
            raise NotFoundError(
                f"fence device {device!r} does not exist",
                where=where,
                hint=(did_you_mean(device, stonith_ids) + " " if stonith_ids else "")
                + "or --force",
            )
    attributes = _target(target)
    if "target" in attributes and not force:
        from hactl.core.commands.nodes import node_names

        names = node_names(root)
        if names and target not in names:
            raise NotFoundError(
                f"node {target!r} is not in the CIB",
                where=where,
                hint=did_you_mean(target, names) + " or --force",
            )
    for level in root.iterfind("configuration/fencing-topology/fencing-level"):
        if level.get("index") == index and _target_label(level) == target:
            raise HactlError(
                f"level {index} for {target} exists already ({level.get('id')})",
                where=where,
                hint="remove it first: hactl stonith level remove " + index + " " + target,
            )
    ids = IdAllocator(root)
    if level_id:
        ct.check_new_id(root, level_id, where=where)
        new_id = level_id
    else:
        new_id = ids.allocate(f"fl-{target.split('%')[-1]}-{index}")
    return etree.SubElement(
        ct.section(root, "fencing-topology"),
        "fencing-level",
        {"id": new_id, **attributes, "index": index, "devices": ",".join(devices)},
    )


def levels(root: Element) -> list[Element]:
    return list(root.iterfind("configuration/fencing-topology/fencing-level"))


def level_remove(
    root: Element, index: str | None, target: str | None, devices: Sequence[str]
) -> list[str]:
    """`stonith level remove LEVEL [TARGET] [DEVICE…]` / `stonith level clear [TARGET]`."""
    chosen = [
        level
        for level in levels(root)
        if (index is None or level.get("index") == index)
        and (target is None or _target_label(level) == target)
        and (not devices or str(level.get("devices")).split(",") == list(devices))
    ]
    if not chosen and index is not None:
        raise NotFoundError(
            f"no fencing level {index}" + (f" for {target}" if target else ""),
            where="stonith level remove",
            hint="see `hactl stonith level config`",
        )
    ct.remove_elements(chosen)
    topology = root.find("configuration/fencing-topology")
    if topology is not None and len(topology) == 0:
        ct.remove_elements([topology])
    return [str(level.get("id")) for level in chosen]


def level_rows(root: Element) -> list[dict[str, str]]:
    return [
        {
            "id": str(level.get("id")),
            "target": _target_label(level),
            "index": str(level.get("index")),
            "devices": str(level.get("devices")),
        }
        for level in levels(root)
    ]


def remove_device_from_levels(root: Element, device: str) -> None:
    for level in levels(root):
        members = str(level.get("devices", "")).split(",")
        if device in members:
            remaining = [m for m in members if m != device]
            if remaining:
                level.set("devices", ",".join(remaining))
            else:
                ct.remove_elements([level])
    topology = root.find("configuration/fencing-topology")
    if topology is not None and len(topology) == 0:
        ct.remove_elements([topology])
