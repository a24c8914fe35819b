"""The systemd agent class's D-Bus client: the few Manager and Unit calls it makes, on one
connection. A module apart so that importing the plugin (`hactl plugins list`) does not
import jeepney or asyncio."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from jeepney import DBusAddress, MessageType, new_method_call
from jeepney.bus_messages import MatchRule, message_bus
from jeepney.io.asyncio import DBusRouter, open_dbus_router
from jeepney.wrappers import DBusErrorResponse, unwrap_msg

__all__ = ["DBusErrorResponse", "SystemdBus", "connect", "job_result"]

SYSTEMD = "org.freedesktop.systemd1"
MANAGER = DBusAddress("/org/freedesktop/systemd1", bus_name=SYSTEMD, interface=f"{SYSTEMD}.Manager")
UNIT_INTERFACE = f"{SYSTEMD}.Unit"
JOB_METHODS = {"start": "StartUnit", "stop": "StopUnit", "restart": "RestartUnit"}
#: how often the unit's state is read while it is activating or deactivating
SETTLE_POLL_S = 0.1


@asynccontextmanager
async def connect(bus: str) -> AsyncIterator[SystemdBus]:
    """A connection to systemd on ``bus`` (``SYSTEM`` or a D-Bus address)."""
    async with open_dbus_router(bus) as router:
        yield SystemdBus(router)


class SystemdBus:
    def __init__(self, router: DBusRouter):
        self.router = router

    async def call(
        self, address: DBusAddress, method: str, signature: str | None = None, *args: Any
    ) -> tuple[Any, ...]:
        reply = await self.router.send_and_get_reply(
            new_method_call(address, method, signature, args)
        )
        body: tuple[Any, ...] = unwrap_msg(reply)
        return body

    async def unit_files(self) -> list[tuple[str, str]]:
        """(path, enablement state) of every unit file systemd knows."""
        (files,) = await self.call(MANAGER, "ListUnitFiles")
        return [(str(path), str(state)) for path, state in files]

    async def load_unit(self, unit: str) -> str:
        (path,) = await self.call(MANAGER, "LoadUnit", "s", unit)
        return str(path)

    async def property(self, path: str, name: str) -> Any:
        properties = DBusAddress(
            path, bus_name=SYSTEMD, interface="org.freedesktop.DBus.Properties"
        )
        ((_signature, value),) = await self.call(properties, "Get", "ss", UNIT_INTERFACE, name)
        return value

    async def reload(self) -> None:
        """systemd rereads its unit files (and drop-ins)."""
        await self.call(MANAGER, "Reload")

    async def subscribe_jobs(self) -> asyncio.Queue[Any]:
        """A queue receiving systemd's JobRemoved signals (Subscribe makes systemd send them)."""
        rule = MatchRule(type="signal", interface=MANAGER.interface, member="JobRemoved")
        queue: asyncio.Queue[Any] = asyncio.Queue()
        self.router.filter(rule, queue=queue)
        await self.call(message_bus, "AddMatch", "s", rule.serialise())
        try:
            await self.call(MANAGER, "Subscribe")
        except DBusErrorResponse as exc:
            if "AlreadySubscribed" not in str(exc.name):
                raise
        return queue

    async def queue_job(self, action: str, unit: str) -> str:
        """Start, stop or restart ``unit`` (mode "replace"); the job's object path."""
        (job,) = await self.call(MANAGER, JOB_METHODS[action], "ss", unit, "replace")
        return str(job)

    async def settled_state(self, path: str) -> str:
        """The unit's ActiveState once it is no longer changing."""
        while True:
            state = str(await self.property(path, "ActiveState"))
            if state not in ("activating", "deactivating", "reloading"):
                return state
            await asyncio.sleep(SETTLE_POLL_S)


async def job_result(jobs: asyncio.Queue[Any], job_path: str) -> str:
    """The result systemd reports for the job ``job_path`` ("done", "failed", "timeout"...)."""
    while True:
        message = await jobs.get()
        if message.header.message_type != MessageType.signal:
            continue
        _job_id, path, _unit, result = message.body
        if path == job_path:
            return str(result)
