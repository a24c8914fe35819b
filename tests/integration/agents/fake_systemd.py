"""A stand-in for systemd on a private D-Bus bus (systemd itself cannot run here, and
`systemd --user` must not be started on shared machines).

It serves, over the real D-Bus protocol, the part of org.freedesktop.systemd1 that
hactl's systemd class uses: Manager.LoadUnit/GetUnit/StartUnit/StopUnit/RestartUnit/
ListUnitFiles/Subscribe/Reload, the JobRemoved signal, and the Unit properties through
org.freedesktop.DBus.Properties.Get. A unit is a real process (its "command"): active
while it runs, failed when it dies.

usage: python fake_systemd.py BUS_ADDRESS UNITS_JSON EVENT_LOG
UNITS_JSON maps unit names to {"description": str, "command": [argv], "start_delay": s}.
Every call is appended to EVENT_LOG as one JSON line.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import signal
import sys
from dataclasses import dataclass, field
from typing import Any

from jeepney import DBusAddress, MessageType, new_error, new_method_return, new_signal
from jeepney.bus_messages import MatchRule, message_bus
from jeepney.io.asyncio import DBusRouter, open_dbus_router

NAME = "org.freedesktop.systemd1"
MANAGER_PATH = "/org/freedesktop/systemd1"
MANAGER = f"{NAME}.Manager"
UNIT_PREFIX = "/org/freedesktop/systemd1/unit/"


def unit_path(name: str) -> str:
    return UNIT_PREFIX + "".join(c if c.isalnum() else f"_{ord(c):02x}" for c in name)


@dataclass
class Unit:
    name: str
    description: str = ""
    command: list[str] = field(default_factory=list)
    start_delay: float = 0.1
    load_state: str = "loaded"
    active_state: str = "inactive"
    process: asyncio.subprocess.Process | None = None


class FakeSystemd:
    def __init__(self, router: DBusRouter, units: dict[str, Any], log_path: str):
        self.router = router
        self.units = {
            name: Unit(
                name,
                spec.get("description", ""),
                spec.get("command", []),
                spec.get("start_delay", 0.1),
            )
            for name, spec in units.items()
        }
        self.by_path = {unit_path(name): unit for name, unit in self.units.items()}
        self.jobs = itertools.count(1)
        self.log_path = log_path

    def log(self, **event: Any) -> None:
        with open(self.log_path, "a") as out:
            out.write(json.dumps(event) + "\n")

    async def reply(self, call: Any, signature: str | None = None, *body: Any) -> None:
        await self.router.send(new_method_return(call, signature, body))

    async def error(self, call: Any, name: str, text: str) -> None:
        await self.router.send(new_error(call, name, "s", (text,)))

    async def job_removed(self, job_id: int, job: str, unit: Unit, result: str) -> None:
        emitter = DBusAddress(MANAGER_PATH, interface=MANAGER)
        await self.router.send(
            new_signal(emitter, "JobRemoved", "uoss", (job_id, job, unit.name, result))
        )

    async def run_job(self, job_id: int, job: str, unit: Unit, action: str) -> None:
        if action in ("stop", "restart") and unit.process is not None:
            unit.active_state = "deactivating"
            process, unit.process = unit.process, None
            process.send_signal(signal.SIGTERM)
            await process.wait()
            unit.active_state = "inactive"
        if action in ("start", "restart") and unit.process is None:
            unit.active_state = "activating"
            unit.process = await asyncio.create_subprocess_exec(*unit.command)
            process = unit.process
            exited = asyncio.ensure_future(process.wait())
            done, _ = await asyncio.wait({exited}, timeout=unit.start_delay)
            if done:  # died while activating: the job fails
                unit.active_state, unit.process = "failed", None
                await self.job_removed(job_id, job, unit, "failed")
                return
            unit.active_state = "active"
            asyncio.get_running_loop().create_task(self.watch(unit, process, exited))
        if action == "stop":
            unit.active_state = "inactive"
        await self.job_removed(job_id, job, unit, "done")

    async def watch(
        self, unit: Unit, process: asyncio.subprocess.Process, exited: asyncio.Future[int]
    ) -> None:
        code = await exited
        if unit.process is process:  # died by itself, not stopped
            unit.process, unit.active_state = None, "failed" if code else "inactive"

    async def stop_all(self) -> None:
        """Asked to exit (SIGTERM): the units' processes end with it, as at a shutdown."""
        for unit in self.units.values():
            if unit.process is not None:
                unit.process.kill()
                await unit.process.wait()

    def load(self, name: str) -> Unit:
        if name not in self.units:  # as systemd: an object for any name, not found
            self.units[name] = Unit(name, load_state="not-found")
            self.by_path[unit_path(name)] = self.units[name]
        return self.units[name]

    async def handle(self, call: Any) -> None:
        member = call.header.fields.get(3)  # HeaderFields.member
        path = call.header.fields.get(1)
        body = call.body
        self.log(member=member, path=path, body=list(body))
        if path == MANAGER_PATH and member == "LoadUnit":
            await self.reply(call, "o", unit_path(self.load(body[0]).name))
        elif path == MANAGER_PATH and member == "GetUnit":
            unit = self.units.get(body[0])
            if unit is None or unit.load_state == "not-found":
                await self.error(call, f"{NAME}.NoSuchUnit", f"Unit {body[0]} not loaded.")
            else:
                await self.reply(call, "o", unit_path(unit.name))
        elif path == MANAGER_PATH and member in ("StartUnit", "StopUnit", "RestartUnit"):
            unit = self.units.get(body[0])
            if unit is None or unit.load_state == "not-found":
                await self.error(call, f"{NAME}.NoSuchUnit", f"Unit {body[0]} not found.")
                return
            job_id = next(self.jobs)
            job = f"/org/freedesktop/systemd1/job/{job_id}"
            await self.reply(call, "o", job)
            action = member.removesuffix("Unit").lower()
            asyncio.get_running_loop().create_task(self.run_job(job_id, job, unit, action))
        elif path == MANAGER_PATH and member == "ListUnitFiles":
            files = [
                (f"/lib/systemd/system/{n}", "disabled")
                for n, u in self.units.items()
                if u.load_state == "loaded"
            ]
            await self.reply(call, "a(ss)", files)
        elif path == MANAGER_PATH and member in ("Subscribe", "Reload"):
            await self.reply(call)
        elif member == "Get" and path in self.by_path:
            unit = self.by_path[path]
            values = {
                "ActiveState": unit.active_state,
                "LoadState": unit.load_state,
                "Description": unit.description,
                "Id": unit.name,
                "SubState": "running" if unit.active_state == "active" else "dead",
            }
            if body[1] not in values:
                await self.error(call, "org.freedesktop.DBus.Error.UnknownProperty", body[1])
            else:
                await self.reply(call, "v", ("s", values[body[1]]))
        else:
            await self.error(call, "org.freedesktop.DBus.Error.UnknownMethod", str(member))


async def main() -> None:
    address, units_file, log_path = sys.argv[1:4]
    with open(units_file) as handle:
        units = json.load(handle)
    async with open_dbus_router(address) as router:
        calls: asyncio.Queue[Any] = asyncio.Queue()
        router.filter(MatchRule(type="method_call"), queue=calls)
        reply = await router.send_and_get_reply(message_bus.RequestName(NAME))
        assert reply.body == (1,), reply.body  # primary owner
        systemd = FakeSystemd(router, units, log_path)
        stopping = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)
        print("ready", flush=True)
        stop = asyncio.ensure_future(stopping.wait())
        while True:
            call = asyncio.ensure_future(calls.get())
            await asyncio.wait({call, stop}, return_when=asyncio.FIRST_COMPLETED)
            if stop.done():
                break
            if call.result().header.message_type == MessageType.method_call:
                await systemd.handle(call.result())
        await systemd.stop_all()


if __name__ == "__main__":
    asyncio.run(main())
