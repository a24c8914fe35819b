"""The numbers a ring runs with. The daemon fills them from the configuration (the
``runtime.config.totem.*`` values of hactl.core.config.derived); tests pass their own."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from hactl.core.errors import ConfigError

#: bytes reserved in every datagram for the packet sealer (header + the longest MAC, sha512)
CRYPTO_RESERVE = 96


@dataclass(frozen=True)
class TotemParams:
    """Timers in milliseconds, named as corosync.conf names them."""

    token: int = 1000
    token_retransmit: int = 0  # 0: derived as Corosync does from token
    token_retransmits_before_loss_const: int = 4
    hold: int = 0  # 0: derived from token_retransmit
    join: int = 50
    consensus: int = 0  # 0: 1.2 * token
    merge: int = 200
    seqno_unchanged_const: int = 30
    window_size: int = 50
    max_messages: int = 17
    netmtu: int = 1500
    max_pending_bytes: int = 256 << 20  # propose() refuses beyond this backlog

    def __post_init__(self) -> None:
        for name in ("token", "join", "merge", "window_size", "max_messages", "netmtu"):
            if getattr(self, name) <= 0:
                raise ConfigError(
                    f"totem.{name} must be positive, not {getattr(self, name)}",
                    where=f"totem.{name}",
                    hint="remove it to use the default",
                )
        if self.netmtu < 576:
            raise ConfigError(
                f"totem.netmtu {self.netmtu} is too small", where="totem.netmtu", hint=">= 576"
            )
        if self.max_messages > self.window_size:
            raise ConfigError(
                "totem.max_messages is larger than totem.window_size",
                where="totem.max_messages",
                hint="a node can never send more than the whole ring may per rotation",
            )

    @classmethod
    def from_values(cls, values: Any) -> TotemParams:
        """Build from any object or mapping holding some of the fields (for instance the
        config engineer's EffectiveTotem); unknown names are ignored."""
        get = values.get if isinstance(values, dict) else lambda k: getattr(values, k, None)
        known = {f.name: get(f.name) for f in fields(cls)}
        return cls(**{k: int(v) for k, v in known.items() if v is not None})

    # Derived timers, in seconds (what the ring schedules with).

    @property
    def token_s(self) -> float:
        return self.token / 1000

    @property
    def token_retransmit_s(self) -> float:
        if self.token_retransmit:
            return self.token_retransmit / 1000
        return max(30, self.token / (self.token_retransmits_before_loss_const + 0.2)) / 1000

    @property
    def hold_s(self) -> float:
        if self.hold:
            return self.hold / 1000
        return max(0.0, self.token_retransmit_s * 0.8 - 0.01)

    @property
    def consensus_s(self) -> float:
        return (self.consensus or int(1.2 * self.token)) / 1000

    @property
    def join_s(self) -> float:
        return self.join / 1000

    @property
    def merge_s(self) -> float:
        return self.merge / 1000
