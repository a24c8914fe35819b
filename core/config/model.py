"""Typed models of the cluster configuration (corosync.conf's totem, nodelist, quorum and
logging sections), read from and written back through the lossless syntax tree.

Every option keeps ``None`` when the file does not set it, so that "explicitly set" and
"default" stay distinguishable (Corosync's rules depend on it: wait_for_all follows two_node
only when it is not set); the values Corosync actually uses are in ``derived.py``.
Values are converted with Corosync's types (uint8/16/32, yes/no, on/off) and a value that does
not convert is refused with Corosync's wording, naming the option, the file and the line.
"""

from __future__ import annotations

import copy
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hactl.core.config import syntax
from hactl.core.errors import ConfigError

# ---------------------------------------------------------------------- value types


def _integer(bits: int, signed: bool = False) -> Callable[[str], int]:
    low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)

    def convert(text: str) -> int:
        # strtoll base 10 with nothing left over, as Corosync's safe_atoq
        if not re.fullmatch(r"[ \t]*[+-]?\d+", text) or not low <= int(text) <= high:
            raise ValueError(f"is expected to be integer in range ({low}..{high})")
        return int(text)

    return convert


UINT8, UINT16, UINT32, INT32, UINT64 = (
    _integer(8),
    _integer(16),
    _integer(32),
    _integer(32, signed=True),
    _integer(64),
)


def _choice(*allowed: str) -> Callable[[str], str]:
    def convert(text: str) -> str:
        if text not in allowed:
            raise ValueError("is expected to be one of " + ", ".join(allowed))
        return text

    return convert


def _yes_no(text: str) -> bool:
    if text in ("yes", "on", "1"):
        return True
    if text in ("no", "off", "0"):
        return False
    raise ValueError("is expected to be yes/on or no/off")


def _text(text: str) -> str:
    return text


class _Verdict(ValueError):
    """A value Corosync refuses with a sentence of its own (the logging options): the
    message is said as it is, the allowed values go in the hint."""

    def __init__(self, message: str, allowed: tuple[str, ...]):
        super().__init__(message)
        self.allowed = allowed


def _logging_flag(key: str, on: tuple[str, ...], off: tuple[str, ...]) -> Callable[[str], bool]:
    def convert(text: str) -> bool:
        if text in on or text in off:
            return text in on
        raise _Verdict(f"unknown value for {key}", on + off)

    return convert


def _logging_word(verdict: str, *allowed: str) -> Callable[[str], str]:
    def convert(text: str) -> str:
        if text not in allowed:
            raise _Verdict(verdict, allowed)
        return text

    return convert


_YES, _NO = ("yes", "on"), ("no", "off")
_FACILITIES = (
    "auth authpriv cron daemon ftp kern lpr mail news syslog user uucp "
    "local0 local1 local2 local3 local4 local5 local6 local7"
).split()
_PRIORITIES = "alert crit debug emerg err error info notice warning".split()


# ---------------------------------------------------------------------- models


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    #: options of this section that hactl does not model, in file order (kept on write)
    other: dict[str, str] = Field(default_factory=dict)
    #: line numbers of the options read, for messages (option -> line)
    lines: dict[str, int] = Field(default_factory=dict, exclude=True, repr=False)
    line: int = Field(default=0, exclude=True, repr=False)


class Interface(_Model):
    """``totem { interface { … } }``: the settings of one link."""

    linknumber: int | None = None
    ringnumber: int | None = None  # Corosync 2.x name of linknumber, still seen in guides
    bindnetaddr: str | None = None
    mcastaddr: str | None = None
    mcastport: int | None = None
    broadcast: bool | None = None
    ttl: int | None = None
    knet_link_priority: int | None = None
    knet_ping_interval: int | None = None
    knet_ping_timeout: int | None = None
    knet_ping_precision: int | None = None
    knet_pong_count: int | None = None
    knet_transport: str | None = None

    @property
    def link(self) -> int:
        if self.linknumber is not None:
            return self.linknumber
        return self.ringnumber or 0


class Totem(_Model):
    version: int | None = None
    cluster_name: str | None = None
    cluster_uuid: str | None = None
    transport: str | None = None
    token: int | None = None
    token_coefficient: int | None = None
    token_retransmit: int | None = None
    token_retransmits_before_loss_const: int | None = None
    token_warning: int | None = None
    hold: int | None = None
    join: int | None = None
    consensus: int | None = None
    merge: int | None = None
    downcheck: int | None = None
    fail_recv_const: int | None = None
    seqno_unchanged_const: int | None = None
    send_join: int | None = None
    max_messages: int | None = None
    window_size: int | None = None
    miss_count_const: int | None = None
    max_network_delay: int | None = None
    heartbeat_failures_allowed: int | None = None
    netmtu: int | None = None
    nodeid: int | None = None
    threads: int | None = None
    config_version: int | None = None
    ip_version: str | None = None
    link_mode: str | None = None
    secauth: str | None = None  # only "on" enables crypto, as in Corosync
    crypto_cipher: str | None = None
    crypto_hash: str | None = None
    crypto_model: str | None = None
    keyfile: str | None = None
    block_unlisted_ips: bool | None = None
    knet_pmtud_interval: int | None = None
    knet_mtu: int | None = None
    knet_compression_model: str | None = None
    knet_compression_threshold: int | None = None
    knet_compression_level: int | None = None
    interfaces: list[Interface] = Field(default_factory=list)


class Node(_Model):
    """``nodelist { node { … } }``."""

    nodeid: int | None = None
    name: str | None = None
    ring_addrs: dict[int, str] = Field(default_factory=dict)  # X -> ringX_addr
    quorum_votes: int | None = None

    @property
    def label(self) -> str:
        """How messages name this node."""
        if self.name:
            return self.name
        return self.ring_addrs.get(0) or f"node {self.nodeid}"


class QuorumDevice(_Model):
    """``quorum { device { … } }``: a quorum device (corosync-qdevice)."""

    model: str | None = None
    votes: int | None = None
    timeout: int | None = None
    sync_timeout: int | None = None
    master_wins: int | None = None
    net: dict[str, str] = Field(default_factory=dict)
    heuristics: dict[str, str] = Field(default_factory=dict)


class Quorum(_Model):
    provider: str | None = None
    expected_votes: int | None = None
    votes: int | None = None  # deprecated per-node votes outside the nodelist
    two_node: int | None = None
    wait_for_all: int | None = None
    last_man_standing: int | None = None
    last_man_standing_window: int | None = None
    auto_tie_breaker: int | None = None
    auto_tie_breaker_node: str | None = None
    allow_downscale: int | None = None
    expected_votes_tracking: int | None = None
    leaving_timeout: int | None = None
    device: QuorumDevice | None = None


class LoggerSubsys(_Model):
    subsys: str = ""
    debug: str | None = None
    to_logfile: bool | None = None
    to_syslog: bool | None = None


class Logging(_Model):
    to_logfile: bool | None = None
    logfile: str | None = None
    to_syslog: bool | None = None
    to_stderr: bool | None = None
    debug: str | None = None
    timestamp: str | None = None
    fileline: bool | None = None
    function_name: bool | None = None
    syslog_facility: str | None = None
    syslog_priority: str | None = None
    logfile_priority: str | None = None
    logger_subsys: list[LoggerSubsys] = Field(default_factory=list)


# option name -> converter, per section. Anything else is kept as text in ``other``.
_CIPHERS = ("none", "aes256", "aes192", "aes128")
_HASHES = ("none", "md5", "sha1", "sha256", "sha384", "sha512")
_TOTEM_TYPES: dict[str, Callable[[str], Any]] = {
    **{
        key: UINT32
        for key in (
            "version nodeid threads token token_coefficient token_retransmit token_warning "
            "hold token_retransmits_before_loss_const join send_join consensus merge downcheck "
            "fail_recv_const seqno_unchanged_const heartbeat_failures_allowed max_network_delay "
            "window_size max_messages miss_count_const knet_pmtud_interval knet_mtu "
            "knet_compression_threshold netmtu"
        ).split()
    },
    "knet_compression_level": INT32,
    "config_version": UINT64,
    "ip_version": _choice("ipv4", "ipv6", "ipv4-6", "ipv6-4"),
    "transport": _choice("knet", "udp", "udpu"),
    "link_mode": _choice("passive", "active", "rr"),
    "secauth": _text,
    "crypto_cipher": _choice(*_CIPHERS),
    "crypto_hash": _choice(*_HASHES),
    "crypto_model": _choice("nss", "openssl", "gcrypt"),
    "block_unlisted_ips": _yes_no,
    "cluster_name": _text,
    "cluster_uuid": _text,
    "keyfile": _text,
    "knet_compression_model": _text,
}
_INTERFACE_TYPES: dict[str, Callable[[str], Any]] = {
    "linknumber": UINT8,
    "ringnumber": UINT8,
    "mcastport": UINT16,
    "ttl": UINT8,
    "knet_link_priority": UINT8,
    "knet_ping_interval": UINT32,
    "knet_ping_timeout": UINT32,
    "knet_ping_precision": UINT32,
    "knet_pong_count": UINT32,
    "knet_transport": _choice("udp", "sctp"),
    "bindnetaddr": _text,
    "mcastaddr": _text,
    "broadcast": _yes_no,
}
_QUORUM_TYPES: dict[str, Callable[[str], Any]] = {
    "provider": _text,
    "expected_votes": UINT32,
    "votes": UINT32,
    "last_man_standing_window": UINT32,
    "leaving_timeout": UINT32,
    **{
        key: UINT8
        for key in (
            "two_node expected_votes_tracking allow_downscale wait_for_all auto_tie_breaker "
            "last_man_standing"
        ).split()
    },
    "auto_tie_breaker_node": _text,
}
_DEVICE_TYPES: dict[str, Callable[[str], Any]] = {
    "model": _text,
    "votes": UINT32,
    "timeout": UINT32,
    "sync_timeout": UINT32,
    "master_wins": UINT8,
}
_NODE_TYPES: dict[str, Callable[[str], Any]] = {
    "nodeid": UINT32,
    "quorum_votes": UINT32,
    "name": _text,
}
# logging values, with Corosync's own verdicts (exec/logconfig.c)
_LOGGING_TYPES: dict[str, Callable[[str], Any]] = {
    **{key: _logging_flag(key, _YES, _NO) for key in ("to_logfile", "to_syslog", "to_stderr")},
    **{key: _logging_flag(key, ("on",), ("off",)) for key in ("fileline", "function_name")},
    "logfile": _text,
    "debug": _logging_word("unknown value for debug", "on", "off", "trace"),
    "timestamp": _logging_word("unknown value for timestamp", "on", "off", "hires"),
    "syslog_facility": _logging_word("unknown syslog facility specified", *_FACILITIES),
    "syslog_priority": _logging_word("unknown syslog priority specified", *_PRIORITIES),
    "logfile_priority": _logging_word("unknown logfile priority specified", *_PRIORITIES),
}
_SUBSYS_TYPES: dict[str, Callable[[str], Any]] = {
    "subsys": _text,
    "debug": _LOGGING_TYPES["debug"],
    "to_logfile": _LOGGING_TYPES["to_logfile"],
    "to_syslog": _LOGGING_TYPES["to_syslog"],
}
_RING_ADDR = re.compile(r"ring(\d)_addr")


class _Reader:
    """Turns the syntax tree into models, converting values with Corosync's types."""

    def __init__(self, source: str):
        self.source = source

    def where(self, line: int) -> str:
        return f"{self.source}:{line}"

    def convert(self, path: str, opt: syntax.Option, types: dict[str, Callable[[str], Any]]) -> Any:
        try:
            return types[opt.key](opt.value)
        except _Verdict as exc:
            raise ConfigError(
                str(exc),
                where=f"{self.where(opt.line)}: {path}",
                hint="one of " + ", ".join(exc.allowed),
            ) from None
        except ValueError as exc:
            raise ConfigError(
                f'Value of key "{path}" {exc}, but "{opt.value}" was given',
                where=self.where(opt.line),
                hint=f"fix {opt.key}",
            ) from None

    def fill(
        self,
        section: syntax.Section,
        path: str,
        types: dict[str, Callable[[str], Any]],
        values: dict[str, Any],
        lines: dict[str, int],
        other: dict[str, str],
    ) -> None:
        for opt in section.options():
            lines[opt.key] = opt.line
            if opt.key in types:
                values[opt.key] = self.convert(f"{path}.{opt.key}", opt, types)
            else:
                other[opt.key] = opt.value

    def model(
        self,
        cls: type[_Model],
        section: syntax.Section,
        path: str,
        types: dict[str, Callable[[str], Any]],
        **extra: Any,
    ) -> Any:
        values: dict[str, Any] = {}
        lines: dict[str, int] = {}
        other: dict[str, str] = {}
        self.fill(section, path, types, values, lines, other)
        return cls(**values, **extra, lines=lines, other=other, line=section.line)

    def totem(self, section: syntax.Section) -> Totem:
        interfaces = [
            self.model(Interface, sub, "totem.interface", _INTERFACE_TYPES)
            for sub in section.sections("interface")
        ]
        return self.model(Totem, section, "totem", _TOTEM_TYPES, interfaces=interfaces)

    def node(self, section: syntax.Section) -> Node:
        values: dict[str, Any] = {}
        lines: dict[str, int] = {}
        other: dict[str, str] = {}
        rings: dict[int, str] = {}
        for opt in section.options():
            lines[opt.key] = opt.line
            match = _RING_ADDR.fullmatch(opt.key)
            if match:
                rings[int(match.group(1))] = opt.value
            elif opt.key in _NODE_TYPES:
                values[opt.key] = self.convert(f"nodelist.node.{opt.key}", opt, _NODE_TYPES)
            else:
                other[opt.key] = opt.value
        return Node(**values, ring_addrs=rings, lines=lines, other=other, line=section.line)

    def quorum(self, section: syntax.Section) -> Quorum:
        device = None
        device_section = section.section("device")
        if device_section is not None:
            net = device_section.section("net")
            heuristics = device_section.section("heuristics")
            device = self.model(
                QuorumDevice,
                device_section,
                "quorum.device",
                _DEVICE_TYPES,
                net={o.key: o.value for o in net.options()} if net else {},
                heuristics={o.key: o.value for o in heuristics.options()} if heuristics else {},
            )
        return self.model(Quorum, section, "quorum", _QUORUM_TYPES, device=device)

    def logging(self, section: syntax.Section) -> Logging:
        subsystems = []
        for sub in section.sections("logger_subsys"):
            model = self.model(LoggerSubsys, sub, "logging.logger_subsys", _SUBSYS_TYPES)
            if not model.subsys:
                # Corosync: "No subsys key in logger_subsys directive"
                raise ConfigError(
                    "No subsys key in logger_subsys directive",
                    where=self.where(sub.line),
                    hint="add `subsys: NAME` (QUORUM, TOTEM, …) to this logger_subsys",
                )
            subsystems.append(model)
        return self.model(Logging, section, "logging", _LOGGING_TYPES, logger_subsys=subsystems)


class ClusterConfig(BaseModel):
    """A whole corosync.conf. ``document`` is the syntax tree it was read from; edits go
    through ``set_option``/``remove_option`` and re-read the models, so that comments and
    order survive and the models never disagree with the text."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    totem: Totem = Field(default_factory=Totem)
    nodelist: list[Node] = Field(default_factory=list)
    quorum: Quorum | None = None
    logging: Logging | None = None
    sections: list[str] = Field(default_factory=list)  # top-level section names, in order
    other: dict[str, str] = Field(default_factory=dict)  # top-level options (compatibility: …)
    source: str = Field(default="corosync.conf", exclude=True)
    document: syntax.Section = Field(default_factory=lambda: syntax.Section(""), exclude=True)

    # ------------------------------------------------------------------ reading

    @classmethod
    def from_document(cls, document: syntax.Section, source: str) -> ClusterConfig:
        reader = _Reader(source)
        totem_section = document.section("totem")
        quorum_section = document.section("quorum")
        logging_section = document.section("logging")
        nodes = [
            reader.node(node)
            for nodelist in document.sections("nodelist")
            for node in nodelist.sections("node")
        ]
        return cls(
            totem=reader.totem(totem_section) if totem_section else Totem(),
            nodelist=nodes,
            quorum=reader.quorum(quorum_section) if quorum_section else None,
            logging=reader.logging(logging_section) if logging_section else None,
            sections=[s.name for s in document.sections()],
            other={o.key: o.value for o in document.options()},
            source=source,
            document=document,
        )

    @classmethod
    def from_text(cls, text: str, source: str = "corosync.conf") -> ClusterConfig:
        return cls.from_document(syntax.parse(text, source), source)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ClusterConfig:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(
                "no such file",
                where=str(path),
                hint="give the path of a corosync.conf (pcs writes /etc/corosync/corosync.conf)",
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read: {exc}", where=str(path)) from None
        return cls.from_text(text, str(path))

    # ------------------------------------------------------------------ writing

    def to_text(self) -> str:
        return syntax.render(self.document)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write atomically (temporary file in the same directory, fsync, rename), keeping
        the mode of the file it replaces."""
        path = Path(path)
        text = self.to_text()
        mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp, mode)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    # ------------------------------------------------------------------ edits

    def _section_for(self, path: str, create: bool) -> tuple[syntax.Section | None, str]:
        *names, key = path.split(".")
        section: syntax.Section | None = self.document
        for name in names:
            assert section is not None
            section = section.ensure_section(name) if create else section.section(name)
            if section is None:
                return None, key
        return section, key

    def set_option(self, path: str, value: str) -> ClusterConfig:
        """A copy of this configuration with ``path`` (``quorum.two_node``) set to
        ``value``; the value is checked exactly as if it had been read from the file."""
        copy = self._copy_document()
        section, key = copy._section_for(path, create=True)
        assert section is not None
        section.set(key, value)
        return ClusterConfig.from_document(copy.document, self.source)

    def remove_option(self, path: str) -> ClusterConfig:
        copy = self._copy_document()
        section, key = copy._section_for(path, create=False)
        if section is not None:
            section.remove(key)
        return ClusterConfig.from_document(copy.document, self.source)

    def _copy_document(self) -> ClusterConfig:
        return ClusterConfig(document=copy.deepcopy(self.document), source=self.source)

    def where(self, section: str, option: str | None = None, line: int | None = None) -> str:
        """``file:line: section.option`` for messages."""
        name = f"{section}.{option}" if option else section
        return f"{self.source}:{line}: {name}" if line else f"{self.source}: {name}"
