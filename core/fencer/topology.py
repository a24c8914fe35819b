"""Fence devices and fencing levels, as Pacemaker's fencer decides them; no I/O."""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hactl.core.cib.model import Cib, FencingLevel, Primitive
from hactl.core.cib.schema import parse_duration_ms
from hactl.core.errors import HactlError

#: fence-agents' actions the fencer asks for, and Pacemaker's default retries per action
ACTIONS = ("reboot", "off", "on", "list", "status", "monitor")
DEFAULT_RETRIES = 2
DEFAULT_TIMEOUT_MS = 60_000  # fencing-timeout (stonith-timeout)
HOST_CHECKS = ("static-list", "dynamic-list", "status", "none")


class FencingConfigError(HactlError):
    """A fencing option that cannot be used."""


@dataclass(frozen=True)
class FenceDevice:
    """One stonith resource: its agent, the agent's parameters and the fencer's options."""

    id: str
    agent: str
    params: Mapping[str, str]  # what the agent gets (pcmk_* removed)
    options: Mapping[str, str]  # the pcmk_* options
    priority: int = 0
    enabled: bool = True

    @property
    def host_map(self) -> dict[str, str]:
        """``pcmk_host_map``: node -> the agent's name for it (``n1:1;n2:2,3``; a backslash
        escapes the next character)."""
        raw = self.options.get("pcmk_host_map", "")
        result: dict[str, str] = {}
        for entry in _split_unescaped(raw, ";, \t"):
            node, sep, port = _partition_unescaped(entry, ":=")
            if not sep or not node:
                raise FencingConfigError(
                    f"pcmk_host_map entry {entry!r} is not NODE:PORT",
                    where=f"stonith device {self.id}",
                    hint="e.g. pcmk_host_map=node1:1;node2:2",
                )
            result[node] = port
        return result

    @property
    def host_list(self) -> list[str]:
        return [h for h in re.split(r"[\s,;]+", self.options.get("pcmk_host_list", "")) if h]

    def host_check(self, agent_actions: Iterable[str] = ()) -> str:
        """``pcmk_host_check``, or Pacemaker's default: static-list when a list or map is
        configured, else dynamic-list when the agent can list, else status, else none."""
        configured = self.options.get("pcmk_host_check")
        if configured is not None:
            if configured not in HOST_CHECKS:
                raise FencingConfigError(
                    f"pcmk_host_check={configured!r} is not one of {', '.join(HOST_CHECKS)}",
                    where=f"stonith device {self.id}",
                )
            return configured
        if self.host_list or self.options.get("pcmk_host_map"):
            return "static-list"
        actions = set(agent_actions)
        if "list" in actions:
            return "dynamic-list"
        if "status" in actions:
            return "status"
        return "none"

    def port_for(self, target: str) -> str:
        """The name the agent uses for ``target``: its host-map entry, else the node."""
        return self.host_map.get(target, target)

    def agent_action(self, action: str) -> str:
        """``pcmk_<action>_action``: the agent's own name for an action."""
        return self.options.get(f"pcmk_{action}_action", action)

    def timeout_ms(self, action: str, cluster_timeout_ms: int = DEFAULT_TIMEOUT_MS) -> int:
        raw = self.options.get(f"pcmk_{action}_timeout")
        value = parse_duration_ms(raw) if raw else None
        return value if value is not None else cluster_timeout_ms

    def retries(self, action: str) -> int:
        raw = self.options.get(f"pcmk_{action}_retries")
        try:
            return max(0, int(raw)) if raw else DEFAULT_RETRIES
        except ValueError:
            raise FencingConfigError(
                f"pcmk_{action}_retries={raw!r} is not a number",
                where=f"stonith device {self.id}",
            ) from None

    def delay_ms(self, target: str, rng: random.Random) -> int:
        """The delay before fencing ``target``: pcmk_delay_base (one value, or a per-node
        map ``n1:5s;n2:0``) plus a random part up to pcmk_delay_max beyond it."""
        base_ms = 0
        raw_base = self.options.get("pcmk_delay_base", "")
        if raw_base:
            if ":" in raw_base:
                entries = dict(
                    _partition_unescaped(e, ":")[::2] for e in _split_unescaped(raw_base, ";, ")
                )
                raw_base = entries.get(target, "0")
            base_ms = parse_duration_ms(raw_base) or 0
        max_ms = parse_duration_ms(self.options.get("pcmk_delay_max", "0") or "0") or 0
        if max_ms > base_ms:
            return base_ms + rng.randint(0, max_ms - base_ms)
        return base_ms


def _split_unescaped(text: str, separators: str) -> list[str]:
    parts, current, escaped = [], "", False
    for char in text:
        if escaped:
            current, escaped = current + char, False
        elif char == "\\":
            escaped = True
        elif char in separators:
            if current:
                parts.append(current)
            current = ""
        else:
            current += char
    if current:
        parts.append(current)
    return parts


def _partition_unescaped(text: str, separators: str) -> tuple[str, str, str]:
    for i, char in enumerate(text):
        if char in separators and (i == 0 or text[i - 1] != "\\"):
            return text[:i].replace("\\", ""), char, text[i + 1 :].replace("\\", "")
    return text.replace("\\", ""), "", ""


def devices_of(cib: Cib) -> dict[str, FenceDevice]:
    """Every stonith primitive of the configuration, by id."""
    devices = {}
    for primitive in cib.configuration.primitives():
        if primitive.standard != "stonith" or not primitive.type:
            continue
        devices[primitive.id] = _device(primitive)
    return devices


def _device(primitive: Primitive) -> FenceDevice:
    params = {k: v or "" for k, v in primitive.params.items()}
    meta = primitive.meta
    try:
        priority = int(meta.get("priority") or 0)
    except ValueError:
        priority = 0
    return FenceDevice(
        id=primitive.id,
        agent=str(primitive.type),
        params={k: v for k, v in params.items() if not k.startswith("pcmk_")},
        options={k: v for k, v in params.items() if k.startswith("pcmk_")},
        priority=priority,
        enabled=(meta.get("target-role") or "Started").lower() != "stopped",
    )


def can_fence(
    device: FenceDevice,
    target: str,
    *,
    agent_actions: Iterable[str] = (),
    listed: Iterable[str] | None = None,
    status_ok: bool | None = None,
) -> bool:
    """Whether ``device`` can fence ``target``. ``listed`` is what the device's ``list``
    answered (dynamic-list), ``status_ok`` whether its ``status`` for the target
    succeeded (status); either is None when not asked."""
    if not device.enabled:
        return False
    check = device.host_check(agent_actions)
    if check == "static-list":
        return target in device.host_list or target in device.host_map
    if check == "dynamic-list":
        return listed is not None and device.port_for(target) in set(listed)
    if check == "status":
        return bool(status_ok)
    return True  # none: the device is trusted to reach every node


def levels_for(
    levels: Iterable[FencingLevel], target: str, attributes: Mapping[str, str]
) -> list[FencingLevel]:
    """The fencing levels that apply to ``target`` (by name, name pattern or node
    attribute), in the order they are tried. Two levels with one index for one target
    are a configuration error, as in Pacemaker."""
    applying = []
    for level in levels:
        if level.target is not None:
            matches = level.target == target
        elif level.target_pattern is not None:
            matches = re.search(level.target_pattern, target) is not None
        elif level.target_attribute is not None:
            matches = attributes.get(level.target_attribute) == level.target_value
        else:
            matches = False
        if matches:
            applying.append(level)
    seen: dict[int, str] = {}
    for level in applying:
        if level.index in seen:
            raise FencingConfigError(
                f"levels {seen[level.index]} and {level.id} both are level {level.index} "
                f"for {target}",
                where="fencing-topology",
                hint="give each level of a node its own index",
            )
        seen[level.index] = level.id
    return sorted(applying, key=lambda level: level.index)
