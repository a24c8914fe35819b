"""Events that hactl broadcasts to every plugin (alerts, metrics, logging plugins).

Each is a frozen dataclass so that a listener cannot change what the next one sees, and so
that new fields can be added without breaking existing listeners.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class MembershipEvent:
    """A new ring (configuration) was installed."""

    ring_id: str
    members: tuple[int, ...]
    joined: tuple[int, ...] = ()
    left: tuple[int, ...] = ()
    transitional: bool = False


@dataclass(frozen=True)
class QuorumEvent:
    """The local partition's quorum state was recomputed."""

    quorate: bool
    total_votes: int
    expected_votes: int
    quorum: int
    members: tuple[int, ...] = ()
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class OperationEvent:
    """A resource operation finished on a node (Pacemaker's lrm_rsc_op, in short)."""

    node: str
    resource: str
    operation: str
    interval_ms: int
    rc: int
    status: str
    exec_ms: int = 0
    output_tail: str = ""


@dataclass(frozen=True)
class FenceEvent:
    """A fencing request finished."""

    target: str
    action: str
    succeeded: bool
    devices: tuple[str, ...] = ()
    executioner: str | None = None
    origin: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class CibChangeEvent:
    """The CIB changed: its new version and the v2 patchset that produced it."""

    admin_epoch: int
    epoch: int
    num_updates: int
    patch_xml: str = ""
    sections: tuple[str, ...] = field(default_factory=tuple)
