"""What votequorum makes of the quorum section: the settings it runs with (after the
changes Corosync makes silently) and its verdicts on contradictory options, following
votequorum_readconfig() in Corosync's exec/votequorum.c and votequorum(5).

Pure: a configuration in, settings and findings out. The votequorum plugin runs on the
settings; ``rules.check`` reports the findings with file and line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from hactl.core.config.model import ClusterConfig
from hactl.core.errors import ConfigError, Problem, ValidationError

LMS_WINDOW_DEFAULT = 10000
QDEVICE_TIMEOUT_DEFAULT = 10000
QDEVICE_SYNC_TIMEOUT_DEFAULT = 30000

AtbMode = Literal["none", "lowest", "highest", "list"]
Severity = Literal["error", "warning"]
Finding = tuple[Severity, str, str, str]  # severity, option path, message, hint


@dataclass(frozen=True)
class VotequorumSettings:
    """The quorum configuration as one node's votequorum uses it."""

    expected_votes: int  # this node's initial expected votes
    votes: int  # this node's votes
    node_votes: dict[int, int] = field(default_factory=dict)  # nodelist: nodeid -> votes
    nodelist_expected_votes: int = 0
    configured_expected_votes: int = 0  # quorum.expected_votes, 0 when unset
    two_node: bool = False
    wait_for_all: bool = False
    wait_for_all_autoset: bool = False  # WFA not set explicitly: follows two_node
    last_man_standing: bool = False
    last_man_standing_window: int = LMS_WINDOW_DEFAULT
    auto_tie_breaker: AtbMode = "none"
    auto_tie_breaker_nodes: tuple[int, ...] = ()
    allow_downscale: bool = False
    expected_votes_tracking: bool = False
    qdevice_configured: bool = False
    qdevice_model: str = ""
    qdevice_votes: int = 0
    qdevice_can_operate: bool = False
    qdevice_timeout: int = QDEVICE_TIMEOUT_DEFAULT
    qdevice_sync_timeout: int = QDEVICE_SYNC_TIMEOUT_DEFAULT
    warnings: tuple[str, ...] = ()


def parse_atb_nodes(text: str) -> tuple[AtbMode, tuple[int, ...]]:
    """auto_tie_breaker_node: lowest, highest or a space-separated list of nodeids; anything
    else disables ATB (Corosync logs a warning and goes on)."""
    if text == "lowest":
        return "lowest", ()
    if text == "highest":
        return "highest", ()
    nodes: list[int] = []
    for word in text.split():
        if not word.isdigit() or int(word) == 0:
            break  # strtol stops at the first thing that is not a (non-zero) number
        nodes.append(int(word))
    return ("list", tuple(nodes)) if nodes else ("none", ())


@dataclass(frozen=True)
class _Effective:
    """What votequorum_readconfig() ends up with, before the per-node part."""

    node_votes: dict[int, int]
    nodelist_expected: int
    have_nodelist: bool
    expected: int
    two_node: bool
    wait_for_all: bool
    wfa_autoset: bool
    lms: bool
    atb: AtbMode
    atb_nodes: tuple[int, ...]
    allow_downscale: bool
    ev_tracking: bool
    have_qdevice: bool
    qdevice_votes: int
    qdevice_can_operate: bool


def _analyse(config: ClusterConfig) -> tuple[list[Finding], _Effective | None]:
    """The verdicts and the effective values shared by settings() and findings()."""
    quorum = config.quorum
    findings: list[Finding] = []
    if quorum is None:
        return findings, None
    nodes = config.nodelist
    have_nodelist = bool(nodes)
    node_votes = {
        (node.nodeid if node.nodeid is not None else index + 1): (
            node.quorum_votes if node.quorum_votes is not None else 1
        )
        for index, node in enumerate(nodes)
    }
    nodelist_expected = sum(node_votes.values())
    expected = quorum.expected_votes or 0
    device = quorum.device
    have_qdevice = device is not None and bool(device.model)
    qdevice_votes = -1
    if have_qdevice and device is not None and device.votes is not None:
        qdevice_votes = device.votes
    two_node = bool(quorum.two_node)
    wfa_autoset = quorum.wait_for_all is None
    wait_for_all = bool(quorum.wait_for_all)
    lms = bool(quorum.last_man_standing)
    allow_downscale = bool(quorum.allow_downscale)
    ev_tracking = bool(quorum.expected_votes_tracking) or allow_downscale
    atb: AtbMode = "lowest" if quorum.auto_tie_breaker else "none"
    atb_nodes: tuple[int, ...] = ()
    qdevice_can_operate = have_qdevice

    def error(path: str, message: str, hint: str) -> None:
        findings.append(("error", path, message, hint))

    def warn(path: str, message: str, hint: str) -> None:
        findings.append(("warning", path, message, hint))

    if not have_nodelist and not expected:
        error(
            "quorum.expected_votes",
            "configuration error: nodelist or quorum.expected_votes must be configured!",
            "add a nodelist or set expected_votes",
        )
    if two_node and have_qdevice:
        error(
            "quorum.two_node",
            "configuration error: two_node and quorum device cannot be configured at the "
            "same time!",
            "remove two_node: the quorum device breaks the tie",
        )
    if quorum.auto_tie_breaker_node is not None:
        if atb == "none":
            warn(
                "quorum.auto_tie_breaker_node",
                "auto_tie_breaker_node: is meaningless if auto_tie_breaker is set to 0",
                "set auto_tie_breaker: 1 or remove auto_tie_breaker_node",
            )
        else:
            atb, atb_nodes = parse_atb_nodes(quorum.auto_tie_breaker_node)
            if atb == "none":
                warn(
                    "quorum.auto_tie_breaker_node",
                    "auto_tie_breaker_nodes is not valid. It must be 'lowest', 'highest' or a "
                    "space-separated list of node IDs. auto_tie_breaker is disabled",
                    "fix auto_tie_breaker_node",
                )
    if wfa_autoset:
        wait_for_all = two_node
    if two_node and atb != "none":
        warn(
            "quorum.two_node",
            "two_node and auto_tie_breaker are both specified but are not compatible. "
            "two_node has been disabled, please fix your corosync.conf",
            "use one of them: two_node relies on fencing, auto_tie_breaker on node ids",
        )
        two_node = False  # wait_for_all keeps the value it took from two_node
    if atb != "none" and nodelist_expected % 2 and not wait_for_all:
        if lms:
            error(
                "quorum.auto_tie_breaker",
                "configuration error: auto_tie_breaker & last_man_standing not available in "
                "odd sized cluster",
                "disable last_man_standing, keep auto_tie_breaker and set wait_for_all: 1",
            )
        else:
            warn(
                "quorum.auto_tie_breaker",
                "auto_tie_breaker is set and the cluster has an odd number of nodes. "
                "wait_for_all needs to be set for this configuration but it is missing. "
                "Therefore auto_tie_breaker has been disabled. Please fix your corosync.conf",
                "set wait_for_all: 1",
            )
            atb, atb_nodes = "none", ()
    for enabled, option in (
        (lms, "last_man_standing"),
        (atb != "none", "auto_tie_breaker"),
        (allow_downscale, "allow_downscale"),
    ):
        if have_qdevice and enabled:
            error(
                f"quorum.{option}",
                f"configuration error: quorum.device is not compatible with {option}",
                f"remove {option} or the quorum device",
            )
    if expected and have_qdevice and qdevice_votes == -1:
        error(
            "quorum.device.votes",
            "configuration error: quorum.device.votes must be specified when "
            "quorum.expected_votes is set",
            "set device votes",
        )
    if have_qdevice and qdevice_votes == -1 and have_nodelist and len(nodes) != nodelist_expected:
        error(
            "quorum.device.votes",
            "configuration error: quorum.device.votes must be specified when not all nodes votes 1",
            "set device votes",
        )
    if qdevice_votes > 0 and expected and expected - qdevice_votes < 2:
        error(
            "quorum.device.votes",
            "configuration error: quorum.device.votes is too high or expected_votes is too low",
            "expected_votes must exceed the device's votes by at least 2",
        )
    if have_qdevice and device is not None and device.model != "net":
        error(
            "quorum.device.model",
            f"unknown quorum device model {device.model!r}",
            "the only model is net (corosync-qnetd)",
        )
    if have_qdevice and device is not None and device.model == "net":
        if not device.net.get("host"):
            error("quorum.device.net.host", "quorum.device.net.host is required", "set host")
        algorithm = device.net.get("algorithm", "ffsplit")
        if algorithm not in ("ffsplit", "lms", "test", "2nodelms"):
            error(
                "quorum.device.net.algorithm",
                f"unknown algorithm {algorithm!r}",
                "use ffsplit or lms",
            )
        if algorithm == "ffsplit" and qdevice_votes not in (-1, 1):
            error(
                "quorum.device.votes",
                "the ffsplit algorithm requires quorum.device.votes: 1",
                "set votes to 1",
            )
        if not config.totem.cluster_name:
            error(
                "totem.cluster_name",
                "a quorum device (model net) requires totem.cluster_name",
                "set cluster_name",
            )
    if have_qdevice and qdevice_votes == -1 and not expected and have_nodelist:
        if len(nodes) == nodelist_expected:
            qdevice_votes = nodelist_expected - 1
            nodelist_expected += qdevice_votes
    if lms and any(v > 1 for v in node_votes.values()):
        warn(
            "quorum.last_man_standing",
            "Last Man Standing feature is supported only when all cluster nodes votes are "
            "set to 1. Disabling LMS.",
            "set every node's quorum_votes to 1 or disable last_man_standing",
        )
        lms = False
    if two_node and len(nodes) > 2:
        warn(
            "quorum.two_node",
            f"two_node is ignored while more than 2 nodes are members ({len(nodes)} in the "
            "nodelist)",
            "remove two_node from clusters of 3 or more nodes",
        )
    if allow_downscale:
        warn(
            "quorum.allow_downscale",
            "allow_downscale is documented as incomplete and unsupported",
            "prefer changing expected votes explicitly (hactl quorum expected-votes)",
        )
    if lms and not wait_for_all:
        warn(
            "quorum.last_man_standing",
            "last_man_standing without wait_for_all: a restarted partition can become quorate "
            "alone",
            "set wait_for_all: 1 (votequorum(5) calls it essential)",
        )
    return findings, _Effective(
        node_votes=node_votes,
        nodelist_expected=nodelist_expected,
        have_nodelist=have_nodelist,
        expected=expected,
        two_node=two_node,
        wait_for_all=wait_for_all,
        wfa_autoset=wfa_autoset,
        lms=lms,
        atb=atb,
        atb_nodes=atb_nodes,
        allow_downscale=allow_downscale,
        ev_tracking=ev_tracking,
        have_qdevice=have_qdevice,
        qdevice_votes=max(qdevice_votes, 0),
        qdevice_can_operate=qdevice_can_operate,
    )


def votequorum_findings(config: ClusterConfig) -> list[Finding]:
    return _analyse(config)[0]


def votequorum_settings(
    config: ClusterConfig, local_nodeid: int | None = None
) -> VotequorumSettings:
    """The settings node ``local_nodeid`` runs with. Raises ConfigError with Corosync's
    verdict when votequorum would refuse to start."""
    findings, values = _analyse(config)
    quorum = config.quorum
    if quorum is None or values is None:
        raise ConfigError(
            "no quorum section",
            where=config.source,
            hint="add `quorum { provider: corosync_votequorum }`",
        )
    for severity, path, message, hint in findings:
        if severity == "error":
            raise ConfigError(message, where=f"{config.source}: {path}", hint=hint)
    if values.have_nodelist:
        if local_nodeid is not None and local_nodeid not in values.node_votes:
            raise ConfigError(
                f"node {local_nodeid} is not in the nodelist",
                where=f"{config.source}: nodelist",
                hint="known nodeids: " + ", ".join(map(str, sorted(values.node_votes))),
            )
        votes = values.node_votes.get(local_nodeid, 1) if local_nodeid is not None else 1
        expected = values.nodelist_expected
    else:
        votes = quorum.votes if quorum.votes is not None else 1
        expected = 0
    if values.expected:
        expected = values.expected
    device = quorum.device
    return VotequorumSettings(
        expected_votes=expected,
        votes=votes,
        node_votes=values.node_votes,
        nodelist_expected_votes=values.nodelist_expected,
        configured_expected_votes=values.expected,
        two_node=values.two_node,
        wait_for_all=values.wait_for_all,
        wait_for_all_autoset=values.wfa_autoset,
        last_man_standing=values.lms,
        last_man_standing_window=(
            quorum.last_man_standing_window
            if quorum.last_man_standing_window is not None
            else LMS_WINDOW_DEFAULT
        ),
        auto_tie_breaker=values.atb,
        auto_tie_breaker_nodes=values.atb_nodes,
        allow_downscale=values.allow_downscale,
        expected_votes_tracking=values.ev_tracking,
        qdevice_configured=values.have_qdevice,
        qdevice_model=(device.model or "") if device else "",
        qdevice_votes=values.qdevice_votes,
        qdevice_can_operate=values.qdevice_can_operate,
        qdevice_timeout=(device.timeout or QDEVICE_TIMEOUT_DEFAULT) if device else 0,
        qdevice_sync_timeout=(device.sync_timeout or QDEVICE_SYNC_TIMEOUT_DEFAULT) if device else 0,
        warnings=tuple(m for s, _, m, _ in findings if s == "warning"),
    )


# ---------------------------------------------------------------------- offline edits

#: options `quorum update` may change: pcs's four, and the rest of the quorum section
UPDATABLE_OPTIONS = (
    "auto_tie_breaker",
    "auto_tie_breaker_node",
    "last_man_standing",
    "last_man_standing_window",
    "wait_for_all",
    "two_node",
    "expected_votes",
    "allow_downscale",
    "expected_votes_tracking",
)
_FLAG_OPTIONS = (
    "auto_tie_breaker",
    "last_man_standing",
    "wait_for_all",
    "two_node",
    "allow_downscale",
    "expected_votes_tracking",
)


def update_quorum_options(config: ClusterConfig, changes: dict[str, str]) -> ClusterConfig:
    """``config`` with the quorum options changed as `pcs quorum update` changes them:
    flags take 0 or 1, windows and votes positive integers, an empty value removes the
    option, options are applied in name order, and two_node follows the cluster (set with
    exactly two nodes, no auto_tie_breaker and no quorum device; removed otherwise) unless
    given explicitly. Raises ValidationError naming every bad option; the result still has
    to pass ``rules.check``."""
    problems = []
    where = f"{config.source}: quorum"
    for key, value in changes.items():
        if key not in UPDATABLE_OPTIONS:
            problems.append(
                Problem(
                    f"unknown quorum option {key!r}",
                    where,
                    "one of " + ", ".join(UPDATABLE_OPTIONS),
                )
            )
        elif value and key in _FLAG_OPTIONS and value not in ("0", "1"):
            problems.append(
                Problem(f"{value!r} is not a valid {key} value", f"{where}.{key}", "use 0 or 1")
            )
        elif (
            value
            and key in ("last_man_standing_window", "expected_votes")
            and not (value.isdigit() and int(value) > 0)
        ):
            problems.append(
                Problem(
                    f"{value!r} is not a valid {key} value",
                    f"{where}.{key}",
                    "use a positive integer",
                )
            )
    current = config.quorum
    lms = changes.get("last_man_standing", str(current.last_man_standing or 0) if current else "0")
    if changes.get("last_man_standing_window", "0") not in ("", "0") and lms in ("", "0"):
        problems.append(
            Problem(
                "last_man_standing_window needs last_man_standing enabled as well",
                f"{where}.last_man_standing_window",
                "add last_man_standing=1",
            )
        )
    if problems:
        raise ValidationError(problems, subject="quorum options")
    updated = config
    for key, value in sorted(changes.items()):
        path = f"quorum.{key}"
        updated = updated.set_option(path, value) if value else updated.remove_option(path)
    if "two_node" not in changes:
        quorum = updated.quorum
        has_device = bool(quorum and quorum.device and quorum.device.model)
        atb = bool(quorum and quorum.auto_tie_breaker)
        if len(updated.nodelist) == 2 and not atb and not has_device:
            if quorum is None or quorum.two_node != 1:
                updated = updated.set_option("quorum.two_node", "1")
        elif quorum is not None and quorum.two_node is not None:
            updated = updated.remove_option("quorum.two_node")
    return updated
