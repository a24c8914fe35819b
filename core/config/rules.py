"""The option rules Corosync applies when it starts (exec/totemconfig.c, exec/votequorum.c),
checked on a configuration without running anything.

``check`` returns errors (Corosync refuses to start) and warnings (Corosync starts but
silently ignores or changes something, or the combination is documented as unsafe). Each
problem names the option, the file and the line; messages keep Corosync's wording where it
has one, so that a search for the message finds Corosync's documentation too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hactl.core.config.derived import (
    MINIMUM_TIMEOUT,
    MINIMUM_TIMEOUT_HOLD,
    effective_crypto,
    effective_totem,
)
from hactl.core.config.model import ClusterConfig, Quorum
from hactl.core.config.quorum import votequorum_findings
from hactl.core.errors import Problem, ValidationError

QUORUM_PROVIDERS = ("corosync_votequorum", "votequorum")
KNET_MAX_HOST = 65536


@dataclass
class Findings:
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def raise_errors(self, subject: str) -> None:
        if self.errors:
            raise ValidationError(self.errors, subject=subject)


class _Checker:
    def __init__(self, config: ClusterConfig):
        self.config = config
        self.found = Findings()

    def _where(self, path: str, line: int | None) -> str:
        return f"{self.config.source}:{line}: {path}" if line else f"{self.config.source}: {path}"

    def error(self, path: str, line: int | None, message: str, hint: str) -> None:
        self.found.errors.append(Problem(message, self._where(path, line), hint))

    def warn(self, path: str, line: int | None, message: str, hint: str) -> None:
        self.found.warnings.append(Problem(message, self._where(path, line), hint))

    # ------------------------------------------------------------------ totem

    def totem(self) -> None:
        config = self.config
        totem = config.totem
        line = totem.lines.get
        if "totem" not in config.sections:
            self.error("totem", 0, "no totem section", "add `totem { version: 2 cluster_name: … }`")
            return
        if totem.version != 2:
            self.error(
                "totem.version",
                line("version", totem.line),
                "This totem parser can only parse version 2 configurations.",
                "set `version: 2` in the totem section",
            )
        effective = effective_totem(config)
        transport = effective.transport
        for option, value in (
            ("token", effective.token),
            ("token_retransmit", effective.token_retransmit),
            ("join", effective.join),
            ("consensus", effective.consensus),
            ("merge", effective.merge),
            ("downcheck", effective.downcheck),
            ("max_network_delay", effective.max_network_delay),
        ):
            if value < MINIMUM_TIMEOUT:
                self.error(
                    f"totem.{option}",
                    line(option, totem.line),
                    f"The {option} timeout parameter ({value} ms) may not be less than "
                    f"({MINIMUM_TIMEOUT} ms).",
                    f"raise {option} to at least {MINIMUM_TIMEOUT}",
                )
        if effective.hold < MINIMUM_TIMEOUT_HOLD:
            self.error(
                "totem.hold",
                line("hold", totem.line),
                f"The token hold timeout parameter ({effective.hold} ms) may not be less than "
                f"({MINIMUM_TIMEOUT_HOLD} ms).",
                "raise hold (or token)",
            )
        if effective.token_warning > 100:
            self.error(
                "totem.token_warning",
                line("token_warning", totem.line),
                f"The token warning parameter ({effective.token_warning}%) must be between "
                "0 (disabled) and 100.",
                "use a percentage of the token timeout",
            )
        if effective.consensus < effective.join:
            self.error(
                "totem.consensus",
                line("consensus", totem.line),
                f"The consensus timeout parameter ({effective.consensus} ms) may not be less "
                f"than join timeout ({effective.join} ms).",
                "leave consensus unset (1.2 x token) or raise it",
            )
        elif totem.consensus is not None and effective.consensus < int(1.2 * effective.token):
            self.warn(
                "totem.consensus",
                line("consensus", totem.line),
                f"consensus ({effective.consensus} ms) is below 1.2 x token "
                f"({int(1.2 * effective.token)} ms), the documented minimum",
                "leave consensus unset so that Corosync computes it",
            )
        cipher, hashing = effective_crypto(config)
        if transport != "knet" and (cipher != "none" or hashing != "none"):
            self.error(
                "totem.crypto_cipher",
                line("crypto_cipher", line("crypto_hash", line("secauth", totem.line))),
                "crypto_cipher & crypto_hash are only valid for the Knet transport.",
                "use `transport: knet` or remove the crypto options",
            )
        elif cipher != "none" and hashing == "none":
            self.error(
                "totem.crypto_cipher",
                line("crypto_cipher", totem.line),
                "crypto_cipher requires crypto_hash with value other than none",
                "set crypto_hash (sha256 is the usual choice)",
            )
        self.interfaces(transport)
        if transport in ("udp", "udpu"):
            self.warn(
                "totem.transport",
                line("transport", totem.line),
                f"transport {transport} is deprecated (one link, no encryption)",
                "knet is the default and recommended transport",
            )

    def interfaces(self, transport: str) -> None:
        totem = self.config.totem
        seen: dict[int, int] = {}
        for interface in totem.interfaces:
            where_line = interface.lines.get
            number = interface.link
            path = "totem.interface"
            if number in seen:
                self.warn(
                    f"{path}.linknumber",
                    where_line("linknumber", where_line("ringnumber", interface.line)),
                    f"link {number} is configured twice (line {seen[number]}); "
                    "the later block overrides the earlier",
                    "give each interface block its own linknumber",
                )
            seen[number] = interface.line
            if "ringnumber" in interface.lines and interface.linknumber is None:
                self.warn(
                    f"{path}.ringnumber",
                    where_line("ringnumber"),
                    "ringnumber is Corosync 2's name; Corosync 3 reads linknumber",
                    "rename ringnumber to linknumber",
                )
            if number > 7:
                self.error(
                    f"{path}.linknumber",
                    where_line("linknumber", interface.line),
                    f"link number {number} is out of range (0..7)",
                    "knet has links 0 to 7",
                )
            if transport != "knet" and number != 0:
                self.error(
                    f"{path}.linknumber",
                    where_line("linknumber", interface.line),
                    f"only link 0 is valid for the {transport} transport",
                    "use linknumber 0 or transport knet",
                )
            if interface.ttl is not None and interface.ttl != 1 and transport != "udp":
                self.error(
                    f"{path}.ttl",
                    where_line("ttl"),
                    f"Can only set ttl on multicast transport types for interface {number}",
                    "remove ttl or use transport udp",
                )
            if (
                interface.knet_link_priority is not None
                and interface.knet_link_priority != 1
                and transport != "knet"
            ):
                self.error(
                    f"{path}.knet_link_priority",
                    where_line("knet_link_priority"),
                    f"Can only set link priority on knet transport type for interface {number}",
                    "remove knet_link_priority or use transport knet",
                )
            knet_only = [
                key
                for key in (
                    "knet_ping_interval",
                    "knet_ping_timeout",
                    "knet_ping_precision",
                    "knet_pong_count",
                    "knet_transport",
                )
                if key in interface.lines
            ]
            if transport != "knet" and knet_only:
                self.warn(
                    f"{path}.{knet_only[0]}",
                    where_line(knet_only[0]),
                    f"{knet_only[0]} is ignored by the {transport} transport",
                    "remove it or use transport knet",
                )
            if (interface.knet_ping_interval is None) != (interface.knet_ping_timeout is None):
                given = (
                    "knet_ping_interval"
                    if interface.knet_ping_timeout is None
                    else ("knet_ping_timeout")
                )
                self.warn(
                    f"{path}.{given}",
                    where_line(given),
                    "knet_ping_interval and knet_ping_timeout are a pair: the other one is "
                    "computed from the token timeout",
                    "set both",
                )
            if transport == "knet":
                for key in ("bindnetaddr", "mcastaddr", "broadcast"):
                    if key in interface.lines:
                        self.warn(
                            f"{path}.{key}",
                            where_line(key),
                            f"{key} is only used by the udp/udpu transports; knet ignores it",
                            "remove it, knet takes addresses from the nodelist",
                        )
            if transport == "udp" and interface.mcastaddr is None and not interface.broadcast:
                self.error(
                    f"{path}.mcastaddr",
                    interface.line,
                    f"No multicast address specified for interface {number}",
                    "set mcastaddr (or broadcast: yes)",
                )
        if transport != "knet" and len(seen) > 1:
            self.error(
                "totem.interface",
                totem.interfaces[1].line,
                f"{len(seen)} is too many configured interfaces for non-Knet transport.",
                "use transport knet for several links",
            )

    # ------------------------------------------------------------------ nodelist

    def nodelist(self, transport: str) -> None:
        nodes = self.config.nodelist
        if not nodes:
            bound = any(i.bindnetaddr for i in self.config.totem.interfaces)
            if "totem" in self.config.sections and (transport != "udp" or not bound):
                self.error(
                    "nodelist",
                    0,
                    "No interfaces defined",
                    "add a nodelist with a node { ring0_addr: … nodeid: … } per node",
                )
            return
        nodeids: dict[int, int] = {}
        link_counts = {len(node.ring_addrs) for node in nodes}
        for node in nodes:
            where_line = node.lines.get
            if 0 not in node.ring_addrs and not node.name:
                self.error(
                    "nodelist.node.ring0_addr",
                    node.line,
                    "node has neither ring0_addr nor name",
                    "every node needs ring0_addr",
                )
            if node.nodeid is None:
                if transport == "knet":
                    address = node.ring_addrs.get(0, node.name or "?")
                    self.error(
                        "nodelist.node.nodeid",
                        node.line,
                        "Knet requires an explicit nodeid to be specified for address "
                        f"'{address}'.",
                        "give every node a nodeid (1, 2, …)",
                    )
                continue
            if node.nodeid == 0:
                self.error(
                    "nodelist.node.nodeid",
                    where_line("nodeid"),
                    "nodeid 0 is reserved",
                    "use nodeids from 1",
                )
            elif transport == "knet" and node.nodeid >= KNET_MAX_HOST:
                self.error(
                    "nodelist.node.nodeid",
                    where_line("nodeid"),
                    f"Knet requires nodeid to be less than {KNET_MAX_HOST} for address "
                    f"'{node.ring_addrs.get(0, '?')}'.",
                    "use small nodeids",
                )
            if node.nodeid in nodeids:
                self.error(
                    "nodelist.node.nodeid",
                    where_line("nodeid"),
                    f"Nodeid {node.nodeid} appears twice in corosync.conf",
                    f"the other is at line {nodeids[node.nodeid]}; nodeids are unique",
                )
            else:
                nodeids[node.nodeid] = where_line("nodeid", node.line)
            bad = sorted(r for r in node.ring_addrs if r > 7)
            if bad:
                self.error(
                    f"nodelist.node.ring{bad[0]}_addr",
                    where_line(f"ring{bad[0]}_addr"),
                    f"ring{bad[0]}_addr is out of range (links 0..7)",
                    "use ring0_addr to ring7_addr",
                )
        if len(link_counts) > 1 or any(len(n.ring_addrs) > 1 for n in nodes):
            if any(not node.name for node in nodes):
                self.error(
                    "nodelist.node.name",
                    next(n.line for n in nodes if not n.name),
                    "for a multi-link configuration, all nodes must have a 'name' attribute",
                    "add `name: …` to every node",
                )
            if len(link_counts) > 1:
                self.error(
                    "nodelist.node",
                    nodes[0].line,
                    "Not all nodes have the same number of links",
                    "give every node the same ringX_addr options",
                )
        if transport != "knet" and any(len(n.ring_addrs) > 1 for n in nodes):
            self.error(
                "nodelist.node.ring1_addr",
                next(n.lines.get("ring1_addr", n.line) for n in nodes if len(n.ring_addrs) > 1),
                f"the {transport} transport has one link: only ring0_addr is used",
                "use transport knet for several links",
            )

    # ------------------------------------------------------------------ quorum

    def quorum(self) -> None:
        config = self.config
        quorum = config.quorum
        if quorum is None or quorum.provider is None:
            self.warn(
                "quorum.provider",
                quorum.line if quorum else 0,
                "no quorum provider: the cluster runs without quorum and Pacemaker "
                "cannot connect to it",
                "add `quorum { provider: corosync_votequorum }`",
            )
            return
        line = quorum.lines.get
        if quorum.provider not in QUORUM_PROVIDERS:
            self.error(
                "quorum.provider",
                line("provider", quorum.line),
                f"unknown quorum provider {quorum.provider!r}",
                "use corosync_votequorum",
            )
            return
        self.votequorum(quorum)

    def votequorum(self, quorum: Quorum) -> None:
        for severity, path, message, hint in votequorum_findings(self.config):
            option = path.rsplit(".", 1)[-1]
            section = quorum.device if path.startswith("quorum.device.") else quorum
            line = (section.lines.get(option) if section else None) or quorum.line
            if severity == "error":
                self.error(path, line, message, hint)
            else:
                self.warn(path, line, message, hint)


def check(config: ClusterConfig) -> Findings:
    """Every rule of Corosync's startup on ``config``: errors and warnings."""
    checker = _Checker(config)
    checker.totem()
    checker.nodelist(config.totem.transport or "knet")
    checker.quorum()
    return checker.found


def load_checked(path: str) -> tuple[ClusterConfig, Findings]:
    """Load ``path`` and refuse it (ValidationError, one line per problem) when Corosync
    would refuse to start with it."""
    config = ClusterConfig.load(path)
    findings = check(config)
    findings.raise_errors(f"cluster configuration {path}")
    return config, findings
