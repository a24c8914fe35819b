"""Fence plugin ``sbd`` (agent name fence_sbd): poison-pill fencing on shared disks.

The fencing side writes a command (``reset``, ``off``) into the target's mailbox on one to
three SBD devices, then waits msgwait: by then the target, which watches its own mailbox,
has fenced itself. A message counts when it reached a majority of the devices, as with the
real `sbd`. The node side is SbdWatcher: it polls its own slot and, on a poison pill, calls
the SelfFence it was given (sysrq in production, a recorder in tests).
"""

from __future__ import annotations

import functools
import socket
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from hactl.core.drivers import (
    FenceAgent,
    FenceResult,
    SharedDiskAdmin,
    SharedDiskHeader,
    SharedDiskSlot,
)
from hactl.core.errors import HactlError, UsageError
from hactl.core.hookspecs import hookimpl
from hactl.plugins.fencing.common import (
    BuiltinFenceAgent,
    FenceDeviceError,
    action_param,
    in_daemon_thread,
    param,
    standard_params,
    target_params,
    wanted_target,
)
from hactl.plugins.fencing.sbd_device import SbdDevice, SbdDeviceError
from hactl.plugins.fencing.sbd_format import (
    Command,
    Header,
    SbdFormatError,
    Timeouts,
    command_name,
)

if TYPE_CHECKING:
    import asyncio

    from hactl.core.fencemeta import FenceAgentMetadata

MAX_DEVICES = 3
POISON = frozenset({Command.reset, Command.off, Command.crashdump})


@functools.cache
def sbd_metadata() -> FenceAgentMetadata:
    """fence_sbd's metadata, built on first use (pydantic: see plugins/fencing/common.py)."""
    from hactl.core.fencemeta import FenceAgentMetadata

    return FenceAgentMetadata(
        name="fence_sbd",
        shortdesc="Fence agent for SBD (poison pill on shared storage)",
        longdesc="Writes a reset or off message into the target node's slot on one to three "
        "shared SBD devices and waits msgwait, by which time the target has fenced itself. "
        "Compatible with the on-disk format of the sbd tool.",
        parameters=(
            action_param(),
            param("devices", "SBD device paths, separated by commas (1 to 3)", required=True),
            param(
                "method",
                "Method to fence (onoff|cycle)",
                "select",
                default="cycle",
                options=("onoff", "cycle"),
            ),
            *target_params(),
            param(
                "sbd_path",
                "Path to the sbd binary (unused: hactl writes the devices itself)",
                default="/usr/sbin/sbd",
            ),
            param("separator", "Separator for CSV created by the list operation", default=","),
            *standard_params(),
        ),
        actions=("off", "reboot", "status", "list", "monitor", "metadata", "validate-all"),
    )


def split_devices(value: str) -> list[str]:
    devices = [d.strip() for d in value.split(",") if d.strip()]
    if not 1 <= len(devices) <= MAX_DEVICES:
        raise UsageError(
            f"{len(devices)} SBD devices given in devices={value!r}",
            hint=f"give 1 to {MAX_DEVICES} devices, separated by commas",
        )
    return devices


def majority(count: int) -> int:
    return count // 2 + 1


@dataclass(frozen=True)
class Delivery:
    """Where one message went: devices written, and why the others were not."""

    written: tuple[str, ...]
    failed: tuple[str, ...]
    msgwait: int

    def reached_majority(self, total: int) -> bool:
        return len(self.written) >= majority(total)


def deliver(devices: Sequence[str], node: str, command: Command, sender: str) -> Delivery:
    """Write ``command`` into ``node``'s mailbox on every device that has a slot for it."""
    written: list[str] = []
    failed: list[str] = []
    msgwait = 0
    for path in devices:
        device = SbdDevice(path)
        try:
            index = device.find_slot(node)
            if index is None:
                failed.append(f"{path}: no slot for {node}")
                continue
            msgwait = max(msgwait, device.header().timeouts.msgwait)
            device.write_message(index, command, sender)
            written.append(path)
        except SbdDeviceError as exc:
            failed.append(str(exc))
    return Delivery(tuple(written), tuple(failed), msgwait)


class SbdFenceAgent(BuiltinFenceAgent, SharedDiskAdmin):
    name = "fence_sbd"

    def __init__(
        self, sender: str | None = None, sleep: Callable[[float], Awaitable[None]] | None = None
    ) -> None:
        import asyncio  # here, not at import: listing plugins need not import asyncio

        self.meta = sbd_metadata()
        self.sender = sender or socket.gethostname()
        self._sleep = sleep or asyncio.sleep

    async def run(self, action: str, options: Mapping[str, str], target: str | None) -> FenceResult:
        devices = split_devices(options["devices"])
        if action == "list":
            return await in_daemon_thread(self._list, devices)
        if action == "monitor":
            return await in_daemon_thread(self._monitor, devices)
        node = wanted_target(options, target, "node")
        if action == "status":
            return await in_daemon_thread(self._status, devices, node)
        command = Command.off if action == "off" else Command.reset
        delivery = await in_daemon_thread(deliver, devices, node, command, self.sender)
        if not delivery.reached_majority(len(devices)):
            raise FenceDeviceError(
                f"{command.name} reached {len(delivery.written)} of {len(devices)} devices, "
                f"needs {majority(len(devices))}: " + "; ".join(delivery.failed)
            )
        await self._sleep(delivery.msgwait)  # the target fences itself within msgwait
        return FenceResult(
            True, "off", f"{command.name} sent to {node} on " + ", ".join(delivery.written)
        )

    # ------------------------------------------------------------------ administration

    def setup(
        self, device: str, timeouts: Mapping[str, int], sector_size: int | None = None
    ) -> SharedDiskHeader:
        wanted = Timeouts(**timeouts)
        if min(wanted.watchdog, wanted.allocate, wanted.loop, wanted.msgwait) < 1:
            raise UsageError("every SBD timeout must be at least 1 second", where=device)
        return _header_info(
            device, SbdDevice(device).create(wanted, sector_size=sector_size or 512)
        )

    def header(self, device: str) -> SharedDiskHeader:
        return _header_info(device, SbdDevice(device).header())

    def slots(self, device: str) -> list[SharedDiskSlot]:
        return [
            SharedDiskSlot(s.index, s.node, s.command_name, s.sender)
            for s in SbdDevice(device).slots()
        ]

    def allocate(self, device: str, node: str) -> int:
        _check_name(node)
        return SbdDevice(device).allocate(node, settle=time.sleep)

    async def message(
        self, devices: list[str], node: str, message: str, sender: str, wait: bool
    ) -> list[str]:
        try:
            command = Command.named(message)
        except SbdFormatError as exc:
            raise UsageError(str(exc)) from None
        _check_name(sender)
        delivery = await in_daemon_thread(deliver, devices, node, command, sender)
        if not delivery.reached_majority(len(devices)):
            raise HactlError(
                f"{message} reached {len(delivery.written)} of {len(devices)} devices, "
                f"needs {majority(len(devices))}",
                where="; ".join(delivery.failed) or None,
                hint=f"allocate a slot for {node} first" if delivery.failed else None,
            )
        if wait and command != Command.exit:
            await self._sleep(delivery.msgwait)
        return list(delivery.written)

    def _list(self, devices: list[str]) -> FenceResult:
        names: dict[str, None] = {}
        for path in devices:
            try:
                names.update((s.node, None) for s in SbdDevice(path).slots())
            except SbdDeviceError as exc:
                raise FenceDeviceError(str(exc)) from None
        return FenceResult(True, output="\n".join(names), targets=tuple(names))

    def _monitor(self, devices: list[str]) -> FenceResult:
        problems = []
        for path in devices:
            try:
                SbdDevice(path).header()
            except SbdDeviceError as exc:
                problems.append(str(exc))
        if len(devices) - len(problems) < majority(len(devices)):
            raise FenceDeviceError("; ".join(problems))
        return FenceResult(True, "on", "; ".join(problems) or "all devices readable")

    def _status(self, devices: list[str], node: str) -> FenceResult:
        readings: list[str] = []
        for path in devices:
            device = SbdDevice(path)
            try:
                index = device.find_slot(node)
                if index is None:
                    continue
                command, _sender = device.read_message(index)
            except SbdDeviceError:
                continue
            readings.append(command_name(command))
        if not readings:
            raise FenceDeviceError(f"{node} has no slot on any readable device")
        poisoned = [r for r in readings if r in {c.name for c in POISON}]
        if poisoned:
            return FenceResult(True, "off", f"{node} has {poisoned[0]} pending")
        return FenceResult(True, "on", f"{node}: " + ", ".join(readings))


def _header_info(device: str, header: Header) -> SharedDiskHeader:
    t = header.timeouts
    return SharedDiskHeader(
        device=device,
        version=header.version,
        uuid=str(header.uuid) if header.uuid else None,
        slots=header.slots,
        sector_size=header.sector_size,
        timeouts={
            "watchdog": t.watchdog,
            "allocate": t.allocate,
            "loop": t.loop,
            "msgwait": t.msgwait,
        },
    )


def _check_name(name: str) -> None:
    if not name or len(name.encode()) > 63 or "\0" in name:
        raise UsageError(f"node name {name!r} must be 1 to 63 bytes", hint="as sbd requires")


# ---------------------------------------------------------------------------- node side


class SelfFence(Protocol):
    """What a node does to itself on a poison pill: in production a hard reset or power
    off (sysrq, or letting a watchdog expire); in tests a recorder."""

    def __call__(self, command: Command, reason: str) -> None: ...


class SysrqSelfFence:
    """Production self-fence: reset (``b``), power off (``o``) or crash (``c``) through
    /proc/sysrq-trigger, immediately, without syncing disks."""

    def __init__(self, trigger: str = "/proc/sysrq-trigger") -> None:
        self.trigger = trigger

    def __call__(self, command: Command, reason: str) -> None:
        key = {Command.off: "o", Command.crashdump: "c"}.get(command, "b")
        with open(self.trigger, "w") as handle:
            handle.write(key)


@dataclass(frozen=True)
class Verdict:
    """What the watcher does after one look at its mailboxes."""

    action: str  # "continue", "acknowledge", "self-fence", "exit"
    command: Command | None = None
    reason: str = ""


def judge(readings: Sequence[tuple[int, str] | None], cluster_healthy: bool) -> Verdict:
    """Decide from one reading per device (None when unreadable). A poison pill on any
    device is obeyed; losing a majority of devices is fatal unless the cluster vouches for
    this node (as sbd's Pacemaker integration does)."""
    for reading in readings:
        if reading is not None and reading[0] in {c.value for c in POISON}:
            command = Command(reading[0])
            return Verdict("self-fence", command, f"{command.name} from {reading[1] or '?'}")
    for reading in readings:
        if reading is not None and reading[0] == Command.exit:
            return Verdict("exit", Command.exit, f"exit from {reading[1] or '?'}")
    readable = sum(r is not None for r in readings)
    if readable < majority(len(readings)) and not cluster_healthy:
        return Verdict(
            "self-fence", Command.reset, f"only {readable} of {len(readings)} SBD devices readable"
        )
    if any(r is not None and r[0] == Command.test for r in readings):
        return Verdict("acknowledge", Command.test, "test message")
    return Verdict("continue")


class SbdWatcher:
    """Watches this node's mailbox on its SBD devices and obeys what it finds."""

    def __init__(
        self,
        devices: Sequence[str],
        node: str,
        self_fence: SelfFence,
        *,
        cluster_healthy: Callable[[], bool] = lambda: False,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        import asyncio

        if not 1 <= len(devices) <= MAX_DEVICES:
            raise UsageError(f"{len(devices)} SBD devices", hint=f"give 1 to {MAX_DEVICES}")
        self.devices = [SbdDevice(p) for p in devices]
        self.node = node
        self.self_fence = self_fence
        self.cluster_healthy = cluster_healthy
        self._sleep = sleep or asyncio.sleep
        self.slots: dict[str, int] = {}

    def start(self) -> None:
        """Claim (or find) this node's slot on every device and clear its mailbox, so a
        stale message from before is not obeyed now, as sbd does when it starts."""
        for device in self.devices:
            index = device.allocate(self.node, settle=time.sleep)
            device.write_message(index, Command.clear, self.node)
            self.slots[device.path] = index

    def check(self) -> Verdict:
        """Look once; acknowledge a test, or self-fence, as the verdict says."""
        readings: list[tuple[int, str] | None] = []
        for device in self.devices:
            try:
                readings.append(device.read_message(self.slots[device.path]))
            except (SbdDeviceError, KeyError):
                readings.append(None)
        verdict = judge(readings, self.cluster_healthy())
        if verdict.action == "acknowledge":
            for device, reading in zip(self.devices, readings, strict=True):
                if reading is not None and reading[0] == Command.test:
                    device.write_message(self.slots[device.path], Command.clear, self.node)
        elif verdict.action == "self-fence" and verdict.command is not None:
            self.self_fence(verdict.command, verdict.reason)
        return verdict

    async def run(self, stop: asyncio.Event) -> Verdict:
        """Check every loop timeout until told to stop, told to exit, or fenced."""
        loop_s = min(d.header().timeouts.loop for d in self.devices)
        while not stop.is_set():
            verdict = await in_daemon_thread(self.check)
            if verdict.action in ("exit", "self-fence"):
                return verdict
            await self._sleep(loop_s)
        return Verdict("continue", reason="stopped")


@hookimpl
def hactl_fence_agent(agent: str) -> FenceAgent | None:
    return SbdFenceAgent() if agent == "fence_sbd" else None


@hookimpl
def hactl_list_fence_agents() -> list[str]:
    return ["fence_sbd"]
