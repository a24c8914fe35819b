"""The ``systemd`` agent class: systemd units driven over D-Bus, as Pacemaker does.

``systemd:httpd`` is the unit ``httpd.service`` (``.socket``, ``.mount``, ``.timer`` and
``.path`` units are named in full). Start and stop are jobs (StartUnit/StopUnit with mode
"replace"): the action waits for the job's JobRemoved signal, then for the unit's
ActiveState to settle. Before a start, a runtime drop-in
``/run/systemd/system/<unit>.d/50-hactl.conf`` tells systemd not to restart the unit
itself (``Restart=no``) and to stop it after hactl at shutdown; stop removes it.

Switches (environment): ``HACTL_SYSTEMD_BUS`` (a D-Bus address; the system bus by
default) and ``HACTL_SYSTEMD_RUNTIME_DIR`` (where drop-ins go; /run/systemd/system).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from jeepney import DBusAddress, MessageType, new_method_call
from jeepney.bus_messages import MatchRule, message_bus
from jeepney.wrappers import DBusErrorResponse, unwrap_msg

from hactl.core.drivers import (
    AgentClass,
    OcfRc,
    OperationRequest,
    OperationResult,
    OperationStatus,
)
from hactl.core.errors import HactlError, NotFoundError, UsageError
from hactl.core.hookspecs import hookimpl
from hactl.plugins.agents.process import invalid_agent_result

# asyncio and jeepney's asyncio router are imported where used: importing this plugin
# (`hactl plugins list`) should not import asyncio
if TYPE_CHECKING:
    import asyncio

    from jeepney.io.asyncio import DBusRouter

SYSTEMD = "org.freedesktop.systemd1"
MANAGER = DBusAddress("/org/freedesktop/systemd1", bus_name=SYSTEMD, interface=f"{SYSTEMD}.Manager")
UNIT_INTERFACE = f"{SYSTEMD}.Unit"
UNIT_SUFFIXES = (".service", ".socket", ".mount", ".timer", ".path")
DEFAULT_RUNTIME_DIR = Path("/run/systemd/system")
OVERRIDE_NAME = "50-hactl.conf"
#: how often the unit's state is read while it is activating or deactivating
SETTLE_POLL_S = 0.1
#: the bus must answer simple calls (listing, meta-data) within this
CALL_TIMEOUT_S = 10.0
ACTIONS = (
    ("start", "100s", None),
    ("stop", "100s", None),
    ("status", "100s", None),
    ("monitor", "100s", "60s"),
    ("meta-data", "5s", None),
)

T = TypeVar("T")


class SystemdUnavailable(HactlError):
    """systemd could not be reached over D-Bus."""


def unit_name(agent_type: str) -> str:
    """The unit an agent type names: ``httpd`` -> ``httpd.service``."""
    return agent_type if agent_type.endswith(UNIT_SUFFIXES) else f"{agent_type}.service"


def agent_type_of(unit: str) -> str:
    """The agent type users write for a unit: services without their suffix."""
    return unit.removesuffix(".service")


def active_state_result(state: str) -> tuple[int, OperationStatus]:
    """Pacemaker's reading of a unit's ActiveState for monitor."""
    if state in ("active", "reloading"):
        return OcfRc.SUCCESS, OperationStatus.DONE
    if state in ("activating", "deactivating"):
        return OcfRc.ERR_GENERIC, OperationStatus.PENDING
    return OcfRc.NOT_RUNNING, OperationStatus.DONE


def _run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine from sync code, also when an event loop runs in this thread."""
    import asyncio
    import concurrent.futures

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


class _Systemd:
    """The few Manager and Unit calls the class makes, on one connection."""

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

    async def load_unit(self, unit: str) -> str:
        (path,) = await self.call(MANAGER, "LoadUnit", "s", unit)
        return str(path)

    async def property(self, path: str, name: str) -> Any:
        properties = DBusAddress(
            path, bus_name=SYSTEMD, interface="org.freedesktop.DBus.Properties"
        )
        ((_signature, value),) = await self.call(properties, "Get", "ss", UNIT_INTERFACE, name)
        return value

    async def subscribe_jobs(self) -> asyncio.Queue[Any]:
        """A queue receiving systemd's JobRemoved signals (Subscribe makes systemd send them)."""
        import asyncio

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


class SystemdAgentClass(AgentClass):
    standard = "systemd"

    def __init__(self, bus: str | None = None, runtime_dir: Path | None = None):
        self.bus = bus or os.environ.get("HACTL_SYSTEMD_BUS") or "SYSTEM"
        self.runtime_dir = runtime_dir or Path(
            os.environ.get("HACTL_SYSTEMD_RUNTIME_DIR") or DEFAULT_RUNTIME_DIR
        )

    def reachable(self) -> bool:
        """Whether systemd manages this machine (or a bus was configured for it)."""
        return self.bus != "SYSTEM" or DEFAULT_RUNTIME_DIR.is_dir()

    def has_unit(self, agent_type: str) -> bool:
        try:
            self.metadata(agent_type)
        except (NotFoundError, SystemdUnavailable):
            return False
        return True

    def _where(self) -> str:
        return "the system bus" if self.bus == "SYSTEM" else self.bus

    # ------------------------------------------------------------------ discovery

    async def _list_units(self) -> list[str]:
        from jeepney.io.asyncio import open_dbus_router

        async with open_dbus_router(self.bus) as router:
            (files,) = await _Systemd(router).call(MANAGER, "ListUnitFiles")
        units = {Path(path).name for path, _state in files}
        return sorted(agent_type_of(u) for u in units if u.endswith(UNIT_SUFFIXES))

    def agents(self, provider: str | None = None) -> list[str]:
        import asyncio

        if provider:
            return []
        try:
            return _run_sync(asyncio.wait_for(self._list_units(), CALL_TIMEOUT_S))
        except (OSError, EOFError, TimeoutError, DBusErrorResponse, KeyError) as exc:
            raise SystemdUnavailable(
                f"cannot list systemd units over D-Bus ({self._where()}): "
                f"{exc or type(exc).__name__}",
                hint="is systemd running as PID 1? (set HACTL_SYSTEMD_BUS for another bus)",
            ) from None

    async def _describe_unit(self, unit: str) -> tuple[str, str]:
        from jeepney.io.asyncio import open_dbus_router

        async with open_dbus_router(self.bus) as router:
            systemd = _Systemd(router)
            path = await systemd.load_unit(unit)
            load_state = await systemd.property(path, "LoadState")
            description = await systemd.property(path, "Description")
        return str(load_state), str(description)

    def metadata(self, agent_type: str, provider: str | None = None) -> str:
        import asyncio

        from hactl.core.agentmeta import AgentSpec, render_metadata

        AgentSpec.parse(f"systemd:{agent_type}")
        unit = unit_name(agent_type)
        try:
            load_state, description = _run_sync(
                asyncio.wait_for(self._describe_unit(unit), CALL_TIMEOUT_S)
            )
        except DBusErrorResponse as exc:
            raise NotFoundError(f"no systemd unit {unit}: {exc.name}") from None
        except (OSError, EOFError, TimeoutError, KeyError) as exc:
            raise SystemdUnavailable(
                f"cannot reach systemd over D-Bus ({self._where()}): {exc or type(exc).__name__}",
                hint="is systemd running as PID 1? (set HACTL_SYSTEMD_BUS for another bus)",
            ) from None
        if load_state not in ("loaded", "masked"):
            raise NotFoundError(f"no systemd unit {unit} (LoadState {load_state})")
        return render_metadata(
            agent_type,
            shortdesc=f"systemd unit file for {agent_type}",
            longdesc=description,
            actions=ACTIONS,
            special_tag="systemd",
        )

    # ------------------------------------------------------------------ overrides

    def override_path(self, unit: str) -> Path:
        return self.runtime_dir / f"{unit}.d" / OVERRIDE_NAME

    def write_override(self, unit: str) -> bool:
        """Write the drop-in (atomically); True when it was not there already."""
        text = f"[Unit]\nDescription=Cluster Controlled {unit}\nBefore=hactl.service\n"
        if unit.endswith(".service"):
            text += "\n[Service]\nRestart=no\n"
        path = self.override_path(unit)
        if path.exists() and path.read_text() == text:
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as tmp:
            tmp.write(text)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp.name, 0o644)
        os.replace(tmp.name, path)
        return True

    def remove_override(self, unit: str) -> bool:
        try:
            self.override_path(unit).unlink()
        except FileNotFoundError:
            return False
        return True

    # ------------------------------------------------------------------ running

    async def execute(self, request: OperationRequest) -> OperationResult:
        import asyncio

        from hactl.core.agentmeta import AgentSpec

        try:
            spec = AgentSpec.parse(request.agent)
        except UsageError as exc:
            return invalid_agent_result(exc)
        if request.action == "meta-data":
            return await self._metadata_result(spec.type)
        unit = unit_name(spec.type)
        started = time.monotonic()
        try:
            async with asyncio.timeout(request.timeout_ms / 1000):
                rc, status, reason = await self._execute(unit, request.action)
        except TimeoutError:
            rc, status = OcfRc.ERR_GENERIC, OperationStatus.TIMED_OUT
            reason = (
                f"systemd {request.action} of {unit} did not finish within {request.timeout_ms} ms"
            )
        except DBusErrorResponse as exc:
            rc, status = OcfRc.ERR_GENERIC, OperationStatus.ERROR
            detail = " ".join(map(str, exc.data))
            reason = f"systemd refused {request.action} of {unit}: {exc.name}: {detail}"
        except (OSError, EOFError) as exc:
            rc, status = OcfRc.ERR_GENERIC, OperationStatus.ERROR
            reason = f"cannot reach systemd over D-Bus ({self._where()}): {exc}"
        return OperationResult(
            rc=rc,
            status=status,
            duration_ms=int((time.monotonic() - started) * 1000),
            exit_reason=reason,
        )

    async def _metadata_result(self, agent_type: str) -> OperationResult:
        import asyncio

        try:
            xml = await asyncio.to_thread(self.metadata, agent_type)
        except NotFoundError as exc:
            return OperationResult(
                rc=OcfRc.ERR_INSTALLED,
                status=OperationStatus.NOT_INSTALLED,
                exit_reason=exc.message,
            )
        except SystemdUnavailable as exc:
            return OperationResult(
                rc=OcfRc.ERR_GENERIC, status=OperationStatus.ERROR, exit_reason=exc.message
            )
        return OperationResult(rc=OcfRc.SUCCESS, stdout_tail=xml)

    async def _execute(self, unit: str, action: str) -> tuple[int, OperationStatus, str]:
        from jeepney.io.asyncio import open_dbus_router

        if action not in ("monitor", "status", "start", "stop", "restart"):
            return (
                OcfRc.ERR_UNIMPLEMENTED,
                OperationStatus.ERROR,
                f"action {action} is not implemented for systemd resources",
            )
        async with open_dbus_router(self.bus) as router:
            systemd = _Systemd(router)
            try:
                path = await systemd.load_unit(unit)
            except DBusErrorResponse as exc:
                return (
                    OcfRc.ERR_INSTALLED,
                    OperationStatus.NOT_INSTALLED,
                    f"no unit {unit}: {exc.name}",
                )
            load_state = await systemd.property(path, "LoadState")
            if load_state == "not-found":
                return OcfRc.ERR_INSTALLED, OperationStatus.NOT_INSTALLED, f"no unit {unit}"
            if action in ("monitor", "status"):
                state = str(await systemd.property(path, "ActiveState"))
                rc, status = active_state_result(state)
                return rc, status, "" if rc == OcfRc.SUCCESS else f"{unit} is {state}"
            try:
                changed = (
                    self.write_override(unit)
                    if action == "start"
                    else (action == "stop" and self.remove_override(unit))
                )
            except OSError as exc:
                return (
                    OcfRc.ERR_PERM if isinstance(exc, PermissionError) else OcfRc.ERR_GENERIC,
                    OperationStatus.ERROR,
                    f"cannot change the systemd drop-in {self.override_path(unit)}: {exc.strerror}",
                )
            if changed:
                await systemd.call(MANAGER, "Reload")
            jobs = await systemd.subscribe_jobs()
            method = {"start": "StartUnit", "stop": "StopUnit", "restart": "RestartUnit"}[action]
            (job,) = await systemd.call(MANAGER, method, "ss", unit, "replace")
            result = await _job_result(jobs, str(job))
            if result == "timeout":
                return (
                    OcfRc.ERR_GENERIC,
                    OperationStatus.TIMED_OUT,
                    f"systemd {action} job for {unit} timed out",
                )
            if result != "done":
                return (
                    OcfRc.ERR_GENERIC,
                    OperationStatus.ERROR,
                    f"systemd {action} job for {unit} failed with result '{result}'",
                )
            state = await _settled_state(systemd, path)
            wanted_active = action != "stop"
            if (state == "active") != wanted_active:
                return OcfRc.ERR_GENERIC, OperationStatus.DONE, f"{unit} is {state} after {action}"
            return OcfRc.SUCCESS, OperationStatus.DONE, ""


async def _job_result(jobs: asyncio.Queue[Any], job_path: str) -> str:
    while True:
        message = await jobs.get()
        if message.header.message_type != MessageType.signal:
            continue
        _job_id, path, _unit, result = message.body
        if path == job_path:
            return str(result)


async def _settled_state(systemd: _Systemd, path: str) -> str:
    """The unit's ActiveState once it is no longer changing."""
    import asyncio

    while True:
        state = str(await systemd.property(path, "ActiveState"))
        if state not in ("activating", "deactivating", "reloading"):
            return state
        await asyncio.sleep(SETTLE_POLL_S)


@hookimpl
def hactl_agent_class(standard: str) -> AgentClass | None:
    return SystemdAgentClass() if standard == "systemd" else None


@hookimpl
def hactl_list_agents() -> list[str]:
    try:
        return [f"systemd:{agent}" for agent in SystemdAgentClass().agents()]
    except SystemdUnavailable:
        return []  # no systemd here: nothing to offer, which is not an error for a listing
