"""Cluster properties (crm_config): `property set / unset / config`, with Pacemaker's
options, their defaults and types, and the legacy names both spellings of which appear in
real CIBs (stonith-* and fencing-*, stop-orphan-* and stop-removed-*).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lxml import etree

from hactl.core.cib.schema import OPTION_ALIASES, parse_boolean, parse_duration_ms
from hactl.core.commands import cibtools as ct
from hactl.core.commands import nvsets
from hactl.core.commands.cibtools import Element, IdAllocator
from hactl.core.commands.grammar import INFINITY, did_you_mean, nearest
from hactl.core.errors import HactlError, Problem, ValidationError

PROPERTY_SET_ID = "cib-bootstrap-options"


@dataclass(frozen=True)
class ClusterOption:
    name: str
    type: str  # boolean, integer, duration, select, score, percentage, string
    default: str
    choices: tuple[str, ...] = ()
    readonly: bool = False

    @property
    def aliases(self) -> tuple[str, ...]:
        """Older spellings (hactl.core.cib.schema's table), accepted and kept as written."""
        return tuple(old for old, new in OPTION_ALIASES.items() if new == self.name)


_B, _I, _D, _S = "boolean", "integer", "duration", "select"

CLUSTER_OPTIONS: tuple[ClusterOption, ...] = (
    ClusterOption("batch-limit", _I, "0"),
    ClusterOption("cluster-delay", _D, "60s"),
    ClusterOption("cluster-infrastructure", "string", "corosync", readonly=True),
    ClusterOption("cluster-ipc-limit", _I, "500"),
    ClusterOption("cluster-name", "string", ""),
    ClusterOption("cluster-recheck-interval", _D, "15min"),
    ClusterOption("concurrent-fencing", _B, "false"),
    ClusterOption("dc-deadtime", _D, "20s"),
    ClusterOption("dc-uuid", "string", "", readonly=True),
    ClusterOption("dc-version", "string", "", readonly=True),
    ClusterOption("election-timeout", _D, "2min"),
    ClusterOption("enable-acl", _B, "false"),
    ClusterOption("enable-startup-probes", _B, "true"),
    ClusterOption("fence-remote-without-quorum", _B, "false"),
    ClusterOption("fencing-action", _S, "reboot", ("reboot", "off", "poweroff")),
    ClusterOption("fencing-enabled", _B, "true"),
    ClusterOption("fencing-max-attempts", _I, "10"),
    ClusterOption("fencing-reaction", _S, "stop", ("stop", "panic")),
    ClusterOption("fencing-timeout", _D, "60s"),
    ClusterOption("fencing-watchdog-timeout", "string", "0"),
    ClusterOption("have-watchdog", _B, "false", readonly=True),
    ClusterOption("join-finalization-timeout", _D, "30min"),
    ClusterOption("join-integration-timeout", _D, "3min"),
    ClusterOption("load-threshold", "percentage", "80%"),
    ClusterOption("maintenance-mode", _B, "false"),
    ClusterOption("migration-limit", _I, "-1"),
    ClusterOption(
        "no-quorum-policy", _S, "stop", ("stop", "freeze", "ignore", "demote", "fence", "suicide")
    ),
    ClusterOption("node-action-limit", _I, "0"),
    ClusterOption("node-health-base", "score", "0"),
    ClusterOption("node-health-green", "score", "0"),
    ClusterOption("node-health-red", "score", "-INFINITY"),
    ClusterOption(
        "node-health-strategy",
        _S,
        "none",
        ("none", "migrate-on-red", "only-green", "progressive", "custom"),
    ),
    ClusterOption("node-health-yellow", "score", "0"),
    ClusterOption("node-pending-timeout", _D, "0"),
    ClusterOption("pe-error-series-max", _I, "-1"),
    ClusterOption("pe-input-series-max", _I, "4000"),
    ClusterOption("pe-warn-series-max", _I, "5000"),
    ClusterOption(
        "placement-strategy", _S, "default", ("default", "utilization", "minimal", "balanced")
    ),
    ClusterOption("priority-fencing-delay", _D, "0"),
    ClusterOption("remove-after-stop", _B, "false"),
    ClusterOption("shutdown-escalation", _D, "20min"),
    ClusterOption("shutdown-lock", _B, "false"),
    ClusterOption("shutdown-lock-limit", _D, "0"),
    ClusterOption("start-failure-is-fatal", _B, "true"),
    ClusterOption("startup-fencing", _B, "true"),
    ClusterOption("stop-all-resources", _B, "false"),
    ClusterOption("stop-removed-resources", _B, "true"),
    ClusterOption("cancel-removed-actions", _B, "true"),
    ClusterOption("symmetric-cluster", _B, "true"),
    ClusterOption("transition-delay", _D, "0s"),
    ClusterOption("last-lrm-refresh", "string", "", readonly=True),
)

#: corosync.conf options people try to set as properties (the tutorials do)
COROSYNC_OPTIONS = {
    "token",
    "token_retransmits_before_loss_const",
    "token_warning",
    "consensus",
    "join",
    "max_messages",
    "send_join",
    "merge",
    "downcheck",
    "fail_recv_const",
    "seqno_unchanged_const",
    "heartbeat_failures_allowed",
    "window_size",
    "two_node",
    "wait_for_all",
    "last_man_standing",
    "auto_tie_breaker",
    "expected_votes",
}


def find_option(name: str) -> ClusterOption | None:
    current = OPTION_ALIASES.get(name, name)
    return next((o for o in CLUSTER_OPTIONS if o.name == current), None)


def all_names() -> list[str]:
    return [n for o in CLUSTER_OPTIONS for n in (o.name, *o.aliases)]


def _value_problem(option: ClusterOption, value: str) -> str | None:
    if option.type == "boolean" and parse_boolean(value) is None:
        return f"{value!r} is not a boolean (true or false)"
    if option.type == "integer" and not re.fullmatch(r"[+-]?\d+", value):
        return f"{value!r} is not an integer"
    if option.type == "duration" and parse_duration_ms(value) is None:
        return f"{value!r} is not a duration (e.g. 60s, 15min)"
    if option.type == "select" and value.lower() not in option.choices:
        return f"{value!r} is not one of {', '.join(option.choices)}"
    if option.type == "percentage" and not re.fullmatch(r"\d+%?", value):
        return f"{value!r} is not a percentage (e.g. 80%)"
    if option.type == "score" and not re.fullmatch(r"[+-]?(\d+|INFINITY)", value, re.IGNORECASE):
        return f"{value!r} is not a score"
    return None


def _check(values: Mapping[str, str], *, force: bool) -> None:
    problems: list[Problem] = []
    for name, value in values.items():
        option = find_option(name)
        where = f"property {name}"
        if option is None:
            if force:
                continue
            if name in COROSYNC_OPTIONS:
                problems.append(
                    Problem(
                        f"{name!r} is a corosync.conf option, not a cluster property",
                        where=where,
                        hint="set it in corosync.conf (totem/quorum section), "
                        "or --force to store it anyway",
                    )
                )
                continue
            guess = nearest(name, all_names())
            problems.append(
                Problem(
                    f"{name!r} is not a cluster property",
                    where=where,
                    hint=(f"did you mean {guess!r}? " if guess else "")
                    + "`hactl property config --all` lists them; --force stores it anyway",
                )
            )
            continue
        if option.readonly and not force:
            problems.append(
                Problem(f"{name!r} is maintained by the cluster and cannot be set", where=where)
            )
            continue
        if value != "":
            reason = _value_problem(option, value)
            if reason and not force:
                problems.append(
                    Problem(
                        reason,
                        where=where,
                        hint=f"default: {option.default}" if option.default else None,
                    )
                )
    if problems:
        raise ValidationError(problems, subject="property")


def _property_set(root: Element) -> Element | None:
    crm_config = root.find("configuration/crm_config")
    if crm_config is None:
        return None
    blocks = crm_config.findall("cluster_property_set")
    for block in blocks:
        if block.get("id") == PROPERTY_SET_ID:
            return block
    # a set with a rule applies only at times: `property set` means always
    return next((b for b in blocks if b.find("rule") is None), None)


def set_properties(root: Element, values: Mapping[str, str], *, force: bool) -> dict[str, str]:
    """`property set NAME=VALUE…` (an empty value unsets)."""
    if not values:
        raise HactlError(
            "no property given", where="property set", hint="hactl property set NAME=VALUE"
        )
    _check(values, force=force)
    crm_config = ct.section(root, "crm_config")
    ids = IdAllocator(root)
    block = _property_set(root)
    if block is None:
        block = etree.SubElement(
            crm_config, "cluster_property_set", id=ids.allocate(PROPERTY_SET_ID)
        )
    normalized = dict(values)
    # a legacy spelling already present is updated under its own name
    present = {str(p.get("name")) for p in block.findall("nvpair")}
    renamed: dict[str, str] = {}
    for name, value in normalized.items():
        option = find_option(name)
        spellings = (option.name, *option.aliases) if option else (name,)
        target = next((s for s in spellings if s in present), name)
        renamed[target] = value
    for name, value in renamed.items():
        pair = next((p for p in block.findall("nvpair") if p.get("name") == name), None)
        if value == "":
            if pair is not None:
                block.remove(pair)
        elif pair is None:
            etree.SubElement(block, "nvpair", id=ids.sub_id(block, name), name=name, value=value)
        else:
            pair.set("value", value)
    return configured(root)


def property_set_create(root: Element, request: nvsets.SetRequest, *, force: bool) -> Element:
    """`property set create [id=ID] [score=N] NAME=VALUE… [rule EXPRESSION]`: a
    cluster_property_set of its own, read before sets of lower score and only where its
    rule holds (e.g. different values at night)."""
    _check({p.name: p.value or "" for p in request.pairs if p.name is not None}, force=force)
    return nvsets.create_set(
        ct.section(root, "crm_config"),
        request,
        where="property set create",
        default_id=PROPERTY_SET_ID,
    )


def property_set_delete(root: Element, set_ids: Sequence[str]) -> None:
    """`property set delete SET_ID…`."""
    crm_config = root.find("configuration/crm_config")
    scope = [] if crm_config is None else crm_config.findall("cluster_property_set")
    nvsets.delete_sets(root, scope, set_ids, where="property set delete")


def unset_properties(root: Element, names: Sequence[str], *, force: bool) -> dict[str, str]:
    """`property unset NAME…`: refuses a name that is not set (unless --force)."""
    if not names:
        raise HactlError(
            "no property given", where="property unset", hint="hactl property unset NAME"
        )
    current = configured(root)
    for name in names:
        option = find_option(name)
        spellings = (option.name, *option.aliases) if option else (name,)
        if not any(s in current for s in spellings) and not force:
            raise HactlError(
                f"property {name!r} is not set",
                where="property unset",
                hint=did_you_mean(name, current) if current else "no property is set",
            )
    block = _property_set(root)
    if block is not None:
        for name in names:
            option = find_option(name)
            spellings = (option.name, *option.aliases) if option else (name,)
            for pair in list(block.findall("nvpair")):
                if pair.get("name") in spellings:
                    block.remove(pair)
    return configured(root)


def _score(block: Element) -> int:
    text = block.get("score", "0").upper().removeprefix("+")
    if text in ("INFINITY", "INF"):
        return INFINITY
    if text in ("-INFINITY", "-INF"):
        return -INFINITY
    return int(text) if re.fullmatch(r"-?\d+", text) else 0


def configured(root: Element) -> dict[str, str]:
    """Properties that hold always: the cluster_property_sets without a rule, read as
    Pacemaker reads them (higher score first, then document order; first value wins).
    Sets with a rule apply only at times: `rule_sets` lists them."""
    values: dict[str, str] = {}
    crm_config = root.find("configuration/crm_config")
    if crm_config is None:
        return values
    blocks = [b for b in crm_config.findall("cluster_property_set") if b.find("rule") is None]
    for block in sorted(blocks, key=_score, reverse=True):  # sorted() keeps ties in order
        for pair in block.findall("nvpair"):
            values.setdefault(str(pair.get("name")), str(pair.get("value", "")))
    return values


def rule_sets(root: Element) -> list[Element]:
    """The cluster_property_sets with a rule (`property set create … rule …`)."""
    return [
        b
        for b in root.iterfind("configuration/crm_config/cluster_property_set")
        if b.find("rule") is not None
    ]


def with_defaults(root: Element) -> dict[str, str]:
    """Every option: its configured value, else its default (for `property config --all`)."""
    current = configured(root)
    merged: dict[str, str] = {}
    for option in CLUSTER_OPTIONS:
        spelled = next((s for s in (option.name, *option.aliases) if s in current), None)
        merged[spelled or option.name] = current[spelled] if spelled else option.default
    for name, value in current.items():
        merged.setdefault(name, value)
    return dict(sorted(merged.items()))
