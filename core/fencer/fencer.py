"""Running fencing requests: level after level, device after device, through the
fence-agent plugins, with delays, retries within each action's timeout, and history.

A level succeeds only when every device in it succeeds; the next level is tried when one
fails. A reboot across several devices of one level is done as Pacemaker does it: every
device off, then every device on (the offs decide success). Without a topology for the
target, each device able to fence it forms a level of its own, tried by priority.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass

from hactl.core.cib.model import Cib
from hactl.core.cib.schema import parse_duration_ms
from hactl.core.drivers import FenceAgent, FenceResult
from hactl.core.errors import HactlError
from hactl.core.fencemeta import FenceAgentMetadata
from hactl.core.fencer.history import FenceHistoryEntry
from hactl.core.fencer.topology import (
    DEFAULT_TIMEOUT_MS,
    FenceDevice,
    can_fence,
    devices_of,
    levels_for,
)

log = logging.getLogger("hactl.fencer")

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class FenceRequest:
    target: str
    action: str = "reboot"  # reboot, off or on
    origin: str = ""  # the node that asked (the DC, or an admin's node)
    extra_delay_ms: int = 0  # priority-fencing-delay, decided by the scheduler


class Fencer:
    def __init__(
        self,
        node: str,
        cib: Cib,
        agent_for: Callable[[str], FenceAgent],
        *,
        node_attributes: Mapping[str, Mapping[str, str]] | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.time,
        failed: Collection[str] = (),
    ) -> None:
        self.node = node
        self.devices = devices_of(cib)
        #: devices whose monitor failed (the status section shows them failed): not used
        self.failed = frozenset(failed)
        self.levels = cib.configuration.fencing_levels
        options = cib.configuration.options
        configured = options.get("fencing-timeout")
        self.timeout_ms = (parse_duration_ms(configured) if configured else None) or (
            DEFAULT_TIMEOUT_MS
        )
        self._agent_for = agent_for
        self._attributes = node_attributes or {}
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._clock = clock
        self.history: list[FenceHistoryEntry] = []

    # ------------------------------------------------------------------ requests

    async def fence(self, request: FenceRequest) -> FenceHistoryEntry:
        entry = FenceHistoryEntry(request.target, request.action, request.origin, self.node)
        self.history.append(entry)
        levels = levels_for(self.levels, request.target, self._attributes.get(request.target, {}))
        plans = [list(level.devices) for level in levels] or [
            [device.id] for device in await self._capable_devices(request.target)
        ]
        if not plans:
            failed = sorted(self.failed & set(self.devices))
            unused = f" (failed, not used: {', '.join(failed)})" if failed else ""
            return self._finish(
                entry, "failed", f"no fence device can fence {request.target}{unused}"
            )
        reasons = []
        for device_ids in plans:
            ok, reason = await self._run_level(device_ids, request)
            if ok:
                entry.devices = device_ids
                return self._finish(entry, "success", "")
            reasons.append(reason)
        return self._finish(entry, "failed", "; ".join(reasons))

    def _finish(self, entry: FenceHistoryEntry, state: str, reason: str) -> FenceHistoryEntry:
        entry.state, entry.reason, entry.completed = state, reason, self._clock()
        log.log(
            logging.INFO if state == "success" else logging.ERROR,
            "fencing %s (%s) %s%s",
            entry.target,
            entry.action,
            state,
            f": {reason}" if reason else "",
        )
        return entry

    async def _capable_devices(self, target: str) -> list[FenceDevice]:
        capable = [
            d
            for d in self.devices.values()
            if d.id not in self.failed and await self._can_fence(d, target)
        ]
        return sorted(capable, key=lambda d: (-d.priority, d.id))

    async def _can_fence(self, device: FenceDevice, target: str) -> bool:
        agent = self._agent_for(device.agent)
        actions = _agent_actions(agent)
        check = device.host_check(actions)
        if check == "dynamic-list":
            listed = await self._call(device, "list", None, self.timeout_ms)
            return listed.succeeded and can_fence(
                device, target, agent_actions=actions, listed=listed.targets
            )
        if check == "status":
            status = await self._call(device, "status", target, self.timeout_ms)
            return can_fence(device, target, agent_actions=actions, status_ok=status.succeeded)
        return can_fence(device, target, agent_actions=actions)

    # ------------------------------------------------------------------ levels

    async def _run_level(self, device_ids: list[str], request: FenceRequest) -> tuple[bool, str]:
        missing = [d for d in device_ids if d not in self.devices]
        if missing:
            return False, f"level names unknown devices {', '.join(missing)}"
        failed = [d for d in device_ids if d in self.failed]
        if failed:
            return False, f"{', '.join(failed)} failed its monitor"
        devices = [self.devices[d] for d in device_ids]
        unable = [d.id for d in devices if not await self._can_fence(d, request.target)]
        if unable:
            return False, f"{', '.join(unable)} cannot fence {request.target}"
        delay_ms = max(d.delay_ms(request.target, self._rng) for d in devices)
        delay_ms += request.extra_delay_ms
        if delay_ms:
            await self._sleep(delay_ms / 1000)
        if request.action == "reboot" and len(devices) > 1:
            for device in devices:
                ok, reason = await self._run_device(device, "off", request.target)
                if not ok:
                    return False, reason
            for device in devices:  # power back on; the offs decided the outcome
                ok, reason = await self._run_device(device, "on", request.target)
                if not ok:
                    log.warning(
                        "%s: could not turn %s back on: %s", device.id, request.target, reason
                    )
            return True, ""
        for device in devices:
            ok, reason = await self._run_device(device, request.action, request.target)
            if not ok:
                return False, reason
        return True, ""

    async def _run_device(self, device: FenceDevice, action: str, target: str) -> tuple[bool, str]:
        """One action with pcmk_<action>_retries more tries, all within one timeout."""
        deadline = time.monotonic() + device.timeout_ms(action, self.timeout_ms) / 1000
        attempts = device.retries(action) + 1
        result = FenceResult(succeeded=False, output="not tried")
        for _ in range(attempts):
            remaining_ms = int((deadline - time.monotonic()) * 1000)
            if remaining_ms <= 0:
                return False, f"{device.id}: {action} timed out"
            result = await self._call(device, action, target, remaining_ms)
            if result.succeeded:
                return True, ""
        return False, f"{device.id}: {action} failed: {result.output or 'no output'}"

    async def _call(
        self, device: FenceDevice, action: str, target: str | None, timeout_ms: int
    ) -> FenceResult:
        params = dict(device.params)
        if target is not None and target in device.host_map:
            params.setdefault("plug", device.port_for(target))
        agent = self._agent_for(device.agent)
        try:
            return await asyncio.wait_for(
                agent.execute(device.agent_action(action), params, target, timeout_ms),
                timeout_ms / 1000,
            )
        except TimeoutError:
            return FenceResult(succeeded=False, output=f"no answer within {timeout_ms} ms")
        except Exception as exc:  # a plugin's bug is a failed action, not a fencer crash
            log.exception("%s: %s raised", device.id, action)
            return FenceResult(succeeded=False, output=f"{type(exc).__name__}: {exc}")


def _agent_actions(agent: FenceAgent) -> list[str]:
    """The actions an agent's metadata declares (none when it has no usable metadata:
    then only a static list or pcmk_host_check=none can make it eligible)."""
    try:
        return list(FenceAgentMetadata.from_xml(agent.metadata(), source=agent.name).actions)
    except HactlError as exc:
        log.warning("%s: unusable metadata: %s", agent.name, exc)
        return []
