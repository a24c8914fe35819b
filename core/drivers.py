"""The driver contracts that plugins implement: what a transport, a quorum provider, a
resource-agent class and a fence agent must offer to the rest of hactl.

A plugin returns one of these from the matching first-result hook of hookspecs.py; the
core only ever talks to them through these methods.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from hactl.core.agentmeta import AgentMetadata

# --------------------------------------------------------------------------- transports


class Transport(ABC):
    """Moves datagrams between the nodes of one cluster; knows nothing of totem.

    ``start`` begins delivering every datagram received to ``on_datagram(source, data)``
    (``source`` is the peer's address, for logs: the datagram itself says which node sent
    it); ``send`` with ``to=None`` reaches every other member (multicast or one copy per
    peer), with ``to`` a node id only that node.
    """

    #: largest datagram the transport carries; totem fragments above it
    mtu: int = 1400

    @abstractmethod
    async def start(self, on_datagram: Callable[[str, bytes], None]) -> None: ...

    @abstractmethod
    def send(self, data: bytes, to: int | None = None) -> None: ...

    @abstractmethod
    async def stop(self) -> None: ...

    def status(self) -> Mapping[str, object]:
        """What ``corosync-cfgtool -s`` would show: per-peer and per-link state."""
        return {}

    #: told the node ids the transport cannot reach, whenever that set changes
    _on_unreachable: Callable[[frozenset[int]], None] | None = None

    def watch_reachability(self, on_change: Callable[[frozenset[int]], None]) -> None:
        """Call ``on_change(nodes)`` with the node ids this transport cannot reach now
        (knet: every link to the peer down; udpu: its port answered unreachable) each time
        that set changes. Totem fails such a node without waiting for the consensus
        timeout. A transport that cannot tell never calls."""
        self._on_unreachable = on_change

    def _report_unreachable(self, nodes: frozenset[int]) -> None:
        if self._on_unreachable is not None:
            self._on_unreachable(nodes)


# --------------------------------------------------------------------------- quorum


class QuorumProvider(ABC):
    """Decides whether the local partition has quorum: a pure state machine, no I/O.

    The daemon (or a simulation) drives it with what totem agrees on, in this order:

    1. ``membership_changed(ring_id, members, now_ms)`` when a new ring is installed: the
       answer is the provider's messages for the synchronisation of that ring;
    2. ``deliver(sender, message, now_ms)`` for every provider message totem delivers, in
       agreed order, the node's own included (its answer: more messages to send);
    3. ``sync_completed(now_ms)`` once every member's synchronisation messages arrived;
    4. ``timer_expired(now_ms)`` whenever ``now_ms`` reaches ``next_deadline()``.

    Messages are opaque to the caller; ``encode``/``decode`` turn them into bytes for the
    wire. Runtime requests (expected votes, a node's votes, cancelling wait-for-all) check
    locally, raise a HactlError when refused, and return the messages that apply them
    cluster-wide once delivered. A quorum device (qdevice) reports to the provider of its
    node through ``device_*``; providers without device support keep the defaults.
    """

    @property
    @abstractmethod
    def quorate(self) -> bool:
        """Whether this node's partition has quorum now."""

    @abstractmethod
    def membership_changed(
        self, ring_id: str, members: frozenset[int], now_ms: int
    ) -> list[object]: ...

    @abstractmethod
    def deliver(self, sender: int, message: object, now_ms: int) -> list[object]: ...

    @abstractmethod
    def sync_completed(self, now_ms: int) -> None: ...

    def next_deadline(self) -> int | None:
        """When ``timer_expired`` must be called next (ms, the caller's clock), or None."""
        return None

    def timer_expired(self, now_ms: int) -> list[object]:
        return []

    @abstractmethod
    def status(self) -> QuorumStatus:
        """What `hactl quorum status` shows (corosync-quorumtool -s)."""

    @abstractmethod
    def encode(self, message: object) -> bytes: ...

    @abstractmethod
    def decode(self, data: bytes) -> object: ...

    def set_expected_votes(self, expected_votes: int, force: bool = False) -> list[object]:
        raise NotImplementedError(f"{type(self).__name__} has no expected votes")

    def set_votes(self, nodeid: int, votes: int, force: bool = False) -> list[object]:
        raise NotImplementedError(f"{type(self).__name__} has no per-node votes")

    def cancel_wait_for_all(self) -> list[object]:
        raise NotImplementedError(f"{type(self).__name__} has no wait_for_all")

    def leave(self) -> list[object]:
        """This node shuts down cleanly: what to tell the others first."""
        return []

    def device_register(self, name: str, now_ms: int) -> list[object]:
        raise NotImplementedError(f"{type(self).__name__} takes no quorum device")

    def device_poll(self, cast_vote: bool, master_wins: bool, now_ms: int) -> list[object]:
        """The local quorum device is alive and does (or does not) give its votes to this
        partition; ``master_wins`` makes its partition quorate whatever the votes."""
        raise NotImplementedError(f"{type(self).__name__} takes no quorum device")

    def device_unregister(self, now_ms: int) -> list[object]:
        raise NotImplementedError(f"{type(self).__name__} takes no quorum device")


@dataclass(frozen=True)
class QuorumMember:
    nodeid: int
    votes: int
    name: str = ""
    qdevice: str = "NR"  # corosync-quorumtool's column: A/NA,V/NV,MW/NMW or NR
    local: bool = False


@dataclass(frozen=True)
class QuorumStatus:
    """One node's view, field for field what corosync-quorumtool -s prints."""

    provider: str
    node_id: int
    ring_id: str
    quorate: bool
    expected_votes: int
    highest_expected: int
    total_votes: int
    quorum: int
    flags: tuple[str, ...]
    members: tuple[QuorumMember, ...]
    qdevice_name: str = ""
    qdevice_votes: int = 0


# --------------------------------------------------------------------------- agents


class OcfRc(IntEnum):
    """OCF return codes, the one language every agent class's results are mapped onto."""

    SUCCESS = 0
    ERR_GENERIC = 1
    ERR_ARGS = 2
    ERR_UNIMPLEMENTED = 3
    ERR_PERM = 4
    ERR_INSTALLED = 5
    ERR_CONFIGURED = 6
    NOT_RUNNING = 7
    RUNNING_PROMOTED = 8
    FAILED_PROMOTED = 9
    DEGRADED = 190
    DEGRADED_PROMOTED = 191


class OperationStatus(StrEnum):
    """How an operation ended, beside its return code (Pacemaker's execution status)."""

    DONE = "done"  # the agent ran and answered: rc says what it answered
    PENDING = "pending"  # still changing state (systemd activating/deactivating)
    TIMED_OUT = "timed out"
    ERROR = "error"  # could not be run (not executable, the bus unreachable)
    NOT_INSTALLED = "not installed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class OperationRequest:
    """One action to run on one resource agent.

    ``resource`` is the instance name the agent sees (``db:1`` for clone instance 1);
    ``params`` reach OCF agents as ``OCF_RESKEY_<name>`` (``OCF_CHECK_LEVEL`` as it is, and
    the DC's ``crm_feature_set`` here too when known); ``meta`` holds the meta-attributes
    (``clone-max``, ``on_node``, and for a clone notification :func:`notification_meta`)
    and reaches OCF agents as ``OCF_RESKEY_CRM_meta_*`` together with the interval and
    timeout; ``environment`` is added as it is (``HA_SBIN_DIR``, ``PCMK_service``).
    """

    resource: str
    agent: str  # the full spec, e.g. ocf:heartbeat:IPaddr2
    action: str
    params: Mapping[str, str] = field(default_factory=dict)
    meta: Mapping[str, str] = field(default_factory=dict)
    interval_ms: int = 0
    timeout_ms: int = 20000
    environment: Mapping[str, str] = field(default_factory=dict)


#: the instance sets a clone notification describes, each as ``notify_<set>_resource`` and
#: ``notify_<set>_uname`` (only ``_resource`` for inactive), with Pacemaker's old names
NOTIFY_SETS = ("start", "stop", "active", "inactive", "promote", "demote", "promoted", "unpromoted")
_NOTIFY_ALIASES = {"promoted": "master", "unpromoted": "slave"}


def notification_meta(
    kind: str,
    operation: str,
    instances: Mapping[str, Sequence[tuple[str, str]]],
    *,
    all_nodes: Sequence[str] = (),
    available_nodes: Sequence[str] = (),
) -> dict[str, str]:
    """The meta attributes of a clone notification (``meta`` of a ``notify`` request),
    named and formatted as Pacemaker gives them: ``kind`` is pre or post, ``operation``
    start, stop, promote or demote; ``instances`` maps a set of NOTIFY_SETS to its
    (instance, node) pairs. Lists are space-separated; an empty list is a single space."""

    def joined(items: Sequence[str]) -> str:
        return " ".join(items) or " "

    unknown = set(instances) - set(NOTIFY_SETS)
    if unknown:
        raise ValueError(f"unknown notification sets: {', '.join(sorted(unknown))}")
    meta = {
        "notify_type": kind,
        "notify_operation": operation,
        "notify_key_type": kind,
        "notify_key_operation": operation,
        "notify_all_uname": joined(all_nodes),
        "notify_available_uname": joined(available_nodes),
    }
    for name in NOTIFY_SETS:
        pairs = instances.get(name, ())
        for label in (name, _NOTIFY_ALIASES.get(name)):
            if label is None:
                continue
            meta[f"notify_{label}_resource"] = joined([resource for resource, _ in pairs])
            if name != "inactive":
                meta[f"notify_{label}_uname"] = joined([node for _, node in pairs])
    return meta


@dataclass(frozen=True)
class OperationResult:
    """What an agent answered, already mapped to OCF's return codes. ``exit_reason`` is
    the agent's ``ocf-exit-reason:`` line, or hactl's explanation when the agent could
    not answer (missing, not executable, hung, undefined code)."""

    rc: int
    status: str = OperationStatus.DONE
    stdout_tail: str = ""
    stderr_tail: str = ""
    duration_ms: int = 0
    exit_reason: str = ""

    @property
    def ok(self) -> bool:
        return self.status == OperationStatus.DONE and self.rc in (
            OcfRc.SUCCESS,
            OcfRc.DEGRADED,
        )


class AgentClass(ABC):
    """A resource-agent standard (ocf, lsb, systemd, ...): discovers agents, reads their
    metadata and runs their actions, mapping results onto OCF return codes.

    ``execute`` never raises for what the agent did: a missing agent, a hang or garbage
    becomes an OperationResult whose status and exit_reason say so.
    """

    standard: ClassVar[str]

    def providers(self) -> list[str]:
        """Providers of this standard; only OCF has them."""
        return []

    @abstractmethod
    def agents(self, provider: str | None = None) -> list[str]:
        """Agent types installed, for one provider or all."""

    @abstractmethod
    def metadata(self, agent_type: str, provider: str | None = None) -> str:
        """The agent's meta-data XML (OCF's format, synthesised for other standards).
        Raises NotFoundError for an unknown agent, MetadataError when it cannot answer."""

    def describe(self, agent_type: str, provider: str | None = None) -> AgentMetadata:
        """The agent's meta-data as a model (see hactl.core.agentmeta)."""
        from hactl.core.agentmeta import parse_metadata  # pydantic only when needed

        spec = ":".join(p for p in (self.standard, provider, agent_type) if p)
        return parse_metadata(self.metadata(agent_type, provider), source=f"agent {spec}")

    def agent_environment(self, request: OperationRequest) -> dict[str, str]:
        """The variables this class sets for the agent of ``request`` on top of the
        inherited environment (what `hactl resource debug-* --full` shows). By default only
        the caller's extras: most classes pass nothing through the environment."""
        return dict(request.environment)

    @abstractmethod
    async def execute(self, request: OperationRequest) -> OperationResult:
        """Run one action and wait for it, honouring ``request.timeout_ms``."""


# --------------------------------------------------------------------------- fencing


@dataclass(frozen=True)
class FenceResult:
    """What a fence agent answered. For ``status`` and ``monitor``, ``succeeded`` means the
    device answered, and ``power_state`` says what it answered; for ``list``, ``targets``
    holds the names the device can fence. ``output`` never holds a secret."""

    succeeded: bool
    power_state: str | None = None  # on, off, or None when unknown / not asked
    output: str = ""
    duration_ms: int = 0
    targets: tuple[str, ...] = ()


class FenceAgent(ABC):
    """A kind of fence device, named as fence-agents names it (fence_ipmilan, ...).

    ``params`` are a device's parameters under fence-agents' names (deprecated aliases
    included); ``target`` is the node to act on, which the agent maps to its own notion
    (a plug, a domain, an SBD slot) unless ``params`` already name one. Secrets in
    ``params`` travel only in memory or on a child's stdin, never in argv or output.
    """

    name: str

    @abstractmethod
    def metadata(self) -> str:
        """Meta-data XML in fence-agents' format."""

    def validate(self, params: Mapping[str, str]) -> None:
        """Refuse parameters that do not match the metadata (unknown names, bad values,
        required ones missing) with a ValidationError naming each problem."""
        from hactl.core.fencemeta import FenceAgentMetadata  # lxml only when needed

        FenceAgentMetadata.from_xml(self.metadata(), source=self.name).check(params)

    @abstractmethod
    async def execute(
        self, action: str, params: Mapping[str, str], target: str | None, timeout_ms: int
    ) -> FenceResult:
        """Run one action (on, off, reboot, status, list, monitor) against a device.
        A device that cannot be reached or refuses gives ``succeeded=False`` with the
        reason in ``output``; parameters that do not match the metadata raise."""


@dataclass(frozen=True)
class SharedDiskHeader:
    """The header of one poison-pill (SBD) disk, as `sbd dump` shows it."""

    device: str
    version: str
    uuid: str | None
    slots: int
    sector_size: int
    timeouts: Mapping[str, int]  # watchdog, allocate, loop, msgwait (seconds)


@dataclass(frozen=True)
class SharedDiskSlot:
    """One allocated slot of a poison-pill disk, as `sbd list` shows it."""

    index: int
    node: str
    message: str  # clear, test, reset, off, exit, crashdump, or undefined
    sender: str


class SharedDiskAdmin(ABC):
    """What a poison-pill fence agent (fence_sbd) offers administrators beyond fencing:
    preparing its shared disks and reading or writing their slots. The command line finds
    it as ``isinstance(host.fence_agent("fence_sbd"), SharedDiskAdmin)``."""

    @abstractmethod
    def setup(
        self, device: str, timeouts: Mapping[str, int], sector_size: int | None = None
    ) -> SharedDiskHeader:
        """Initialise ``device`` (all slots empty). ``sector_size`` only for image files;
        a block device's own is used. Overwrites what the device held."""

    @abstractmethod
    def header(self, device: str) -> SharedDiskHeader:
        """Read the header; raise a HactlError when the disk is not initialised."""

    @abstractmethod
    def slots(self, device: str) -> list[SharedDiskSlot]:
        """The allocated slots and their mailboxes."""

    @abstractmethod
    def allocate(self, device: str, node: str) -> int:
        """The slot of ``node``, claimed if it had none."""

    @abstractmethod
    async def message(
        self, devices: list[str], node: str, message: str, sender: str, wait: bool
    ) -> list[str]:
        """Write ``message`` into ``node``'s mailbox on ``devices``; with ``wait``, then
        wait msgwait as `sbd message` does. Returns the devices written; raises when
        fewer than a majority were."""
