"""The values Corosync actually runs with, computed from a configuration exactly as
exec/totemconfig.c does (the ``runtime.config.totem.*`` keys of corosync-cmapctl).

The traps: the token grows by token_coefficient for each node past two when the nodelist
has three or more nodes, and everything derived from the token (retransmit, hold,
consensus, knet ping timers) uses that grown value; integer truncation happens where
Corosync's C casts truncate.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from hactl.core.config.model import ClusterConfig

TOKEN_TIMEOUT = 3000
TOKEN_COEFFICIENT = 650
TOKEN_RETRANSMITS_BEFORE_LOSS_CONST = 4
TOKEN_WARNING = 75
JOIN_TIMEOUT = 50
MERGE_TIMEOUT = 200
DOWNCHECK_TIMEOUT = 1000
FAIL_TO_RECV_CONST = 2500
SEQNO_UNCHANGED_CONST = 30
MAX_NETWORK_DELAY = 50
WINDOW_SIZE = 50
MAX_MESSAGES = 17
MISS_COUNT_CONST = 5
HZ = 100  # Linux's HZ as seen by userspace: Corosync's timer granularity
MINIMUM_TIMEOUT = (1000 // HZ) * 3
MINIMUM_TIMEOUT_HOLD = int(MINIMUM_TIMEOUT * 0.8 - (1000 // HZ))
UDP_NETMTU = 1500
KNET_MAX_PACKET_SIZE = 65536
KNET_PONG_COUNT = 2
KNET_PING_PRECISION = 2048
KNET_LINK_PRIORITY = 1
DEFAULT_PORT = 5405
LMS_WINDOW = 10000


@dataclass(frozen=True)
class EffectiveLink:
    linknumber: int
    mcastport: int
    knet_link_priority: int
    knet_ping_interval: int
    knet_ping_timeout: int
    knet_ping_precision: int
    knet_pong_count: int
    ttl: int


@dataclass(frozen=True)
class EffectiveTotem:
    transport: str
    token: int
    token_coefficient: int
    token_retransmit: int
    token_retransmits_before_loss_const: int
    token_warning: int
    hold: int
    join: int
    consensus: int
    merge: int
    downcheck: int
    fail_recv_const: int
    seqno_unchanged_const: int
    send_join: int
    max_messages: int
    window_size: int
    miss_count_const: int
    max_network_delay: int
    netmtu: int
    link_mode: str
    crypto_cipher: str
    crypto_hash: str
    links: tuple[EffectiveLink, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _c_int(value: float) -> int:
    """C's conversion of a positive double to int: truncation."""
    return int(value)


def effective_crypto(config: ClusterConfig) -> tuple[str, str]:
    """(cipher, hash): none/none unless secauth: on or crypto_* say otherwise."""
    totem = config.totem
    cipher, hashing = "none", "none"
    if totem.secauth == "on":
        cipher, hashing = "aes256", "sha256"
    return totem.crypto_cipher or cipher, totem.crypto_hash or hashing


def node_count(config: ClusterConfig) -> int:
    """Members of link 0 as Corosync counts them: nodes with a ring0_addr."""
    return sum(1 for node in config.nodelist if 0 in node.ring_addrs)


def effective_totem(config: ClusterConfig) -> EffectiveTotem:
    totem = config.totem
    transport = totem.transport or "knet"
    token = totem.token if totem.token is not None else TOKEN_TIMEOUT
    coefficient = (
        totem.token_coefficient if totem.token_coefficient is not None else TOKEN_COEFFICIENT
    )
    members = node_count(config)
    if members > 2:
        token += (members - 2) * coefficient
    retransmits = (
        totem.token_retransmits_before_loss_const
        if totem.token_retransmits_before_loss_const is not None
        else TOKEN_RETRANSMITS_BEFORE_LOSS_CONST
    )
    retransmit = (
        totem.token_retransmit
        if totem.token_retransmit is not None
        else _c_int(token / (retransmits + 0.2))
    )
    hold = totem.hold if totem.hold is not None else _c_int(retransmit * 0.8 - (1000 // HZ))
    consensus = totem.consensus if totem.consensus is not None else _c_int(1.2 * token)
    cipher, hashing = effective_crypto(config)

    def pick(value: int | None, default: int) -> int:
        return default if value is None else value

    links = []
    broadcast = any(i.broadcast for i in totem.interfaces)
    for interface in sorted(totem.interfaces, key=lambda i: i.link):
        number = interface.link
        pong = interface.knet_pong_count or KNET_PONG_COUNT
        default_port = DEFAULT_PORT + (2 * number if broadcast else number)
        links.append(
            EffectiveLink(
                linknumber=number,
                mcastport=pick(interface.mcastport, default_port),
                knet_link_priority=pick(interface.knet_link_priority, KNET_LINK_PRIORITY),
                # 0 means "not set" for the ping timers, as in totemconfig.c
                knet_ping_interval=interface.knet_ping_interval or token // (pong * 2),
                knet_ping_timeout=interface.knet_ping_timeout or token // pong,
                knet_ping_precision=pick(interface.knet_ping_precision, KNET_PING_PRECISION),
                knet_pong_count=pong,
                ttl=pick(interface.ttl, 1),
            )
        )
    if not links and transport == "knet":
        # knet makes one link per ringX_addr even without interface sections
        rings = sorted({r for node in config.nodelist for r in node.ring_addrs})
        for number in rings or [0]:
            links.append(
                EffectiveLink(
                    number,
                    DEFAULT_PORT + number,
                    KNET_LINK_PRIORITY,
                    token // (KNET_PONG_COUNT * 2),
                    token // KNET_PONG_COUNT,
                    KNET_PING_PRECISION,
                    KNET_PONG_COUNT,
                    1,
                )
            )
    return EffectiveTotem(
        transport=transport,
        token=token,
        token_coefficient=coefficient,
        token_retransmit=retransmit,
        token_retransmits_before_loss_const=retransmits,
        token_warning=pick(totem.token_warning, TOKEN_WARNING),
        hold=hold,
        join=pick(totem.join, JOIN_TIMEOUT),
        consensus=consensus,
        merge=pick(totem.merge, MERGE_TIMEOUT),
        downcheck=pick(totem.downcheck, DOWNCHECK_TIMEOUT),
        fail_recv_const=pick(totem.fail_recv_const, FAIL_TO_RECV_CONST),
        seqno_unchanged_const=pick(totem.seqno_unchanged_const, SEQNO_UNCHANGED_CONST),
        send_join=pick(totem.send_join, 0),
        max_messages=pick(totem.max_messages, MAX_MESSAGES),
        window_size=pick(totem.window_size, WINDOW_SIZE),
        miss_count_const=pick(totem.miss_count_const, MISS_COUNT_CONST),
        max_network_delay=pick(totem.max_network_delay, MAX_NETWORK_DELAY),
        netmtu=totem.netmtu or (KNET_MAX_PACKET_SIZE if transport == "knet" else UDP_NETMTU),
        link_mode=totem.link_mode or "passive",
        crypto_cipher=cipher,
        crypto_hash=hashing,
        links=tuple(links),
    )
