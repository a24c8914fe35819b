"""What a configuration reload (corosync-cfgtool -R) can and cannot change.

Corosync re-reads the file on every node but keeps the running value of the keys it cannot
change live (exec/cfg.c remove_ro_entries, votequorum's read-only keys), logging it and
going on: the file and the cluster then disagree until a full restart. ``reload_findings``
names each such change before it is made, with the line in the new file.
"""

from __future__ import annotations

from hactl.core.config.model import ClusterConfig
from hactl.core.errors import Problem

#: read only while running (knet builds with crypto reconfiguration, as Corosync 3.1+)
RESTART_ONLY = frozenset(
    {
        "totem.version",
        "totem.threads",
        "totem.ip_version",
        "totem.ip_dscp",
        "totem.netmtu",
        "totem.interface.bindnetaddr",
        "totem.interface.mcastaddr",
        "totem.interface.broadcast",
        "totem.interface.mcastport",
        "totem.interface.ttl",
        "totem.transport",
        "totem.cluster_name",
        "quorum.provider",
        "quorum.allow_downscale",
        "quorum.wait_for_all",
        "quorum.last_man_standing",
        "quorum.last_man_standing_window",
        "quorum.expected_votes_tracking",
        "quorum.auto_tie_breaker",
        "quorum.auto_tie_breaker_node",
    }
)


def _options(config: ClusterConfig) -> dict[str, tuple[str, int]]:
    """path -> (value, line); of repeated sections (interfaces) the first counts."""
    found: dict[str, tuple[str, int]] = {}
    for path, option in config.document.walk():
        found.setdefault(path, (option.value, option.line))
    return found


def reload_findings(running: ClusterConfig, new: ClusterConfig) -> list[Problem]:
    """Changes from ``running`` to ``new`` that a reload would not apply, one warning each;
    also a node whose nodeid changed (Corosync diverges silently on that)."""
    before, after = _options(running), _options(new)
    problems: list[Problem] = []
    for path in sorted(set(before) | set(after)):
        if path not in RESTART_ONLY and not path.startswith("system."):
            continue
        old, new_value = before.get(path), after.get(path)
        if (old and old[0]) == (new_value and new_value[0]):
            continue
        line = new_value[1] if new_value else 0
        shown = new_value[0] if new_value else "(removed)"
        problems.append(
            Problem(
                f"changed to {shown!r}: a reload keeps the running value "
                f"{old[0] if old else '(unset)'!r}",
                f"{new.source}:{line}: {path}" if line else f"{new.source}: {path}",
                "restart the whole cluster for this change",
            )
        )
    old_ids = {n.name or n.ring_addrs.get(0): n.nodeid for n in running.nodelist}
    for node in new.nodelist:
        key = node.name or node.ring_addrs.get(0)
        if key in old_ids and old_ids[key] != node.nodeid:
            problems.append(
                Problem(
                    f"node {key} changed nodeid from {old_ids[key]} to {node.nodeid}",
                    f"{new.source}:{node.lines.get('nodeid', node.line)}: nodelist.node.nodeid",
                    "remove the node and add it back under its new id instead",
                )
            )
    return problems
