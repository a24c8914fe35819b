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
from typing import Any, TypeVar

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

# asyncio and the D-Bus client (systemd_bus, jeepney) are imported where used: importing
# this plugin (`hactl plugins list`) should import neither
UNIT_SUFFIXES = (".service", ".socket", ".mount", ".timer", ".path")
DEFAULT_RUNTIME_DIR = Path("/run/systemd/system")
OVERRIDE_NAME = "50-hactl.conf"
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
        from hactl.plugins.agents import systemd_bus

        async with systemd_bus.connect(self.bus) as systemd:
            files = await systemd.unit_files()
        units = {Path(path).name for path, _state in files}
        return sorted(agent_type_of(u) for u in units if u.endswith(UNIT_SUFFIXES))

    def agents(self, provider: str | None = None) -> list[str]:
        import asyncio

        from hactl.plugins.agents.systemd_bus import DBusErrorResponse

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
        from hactl.plugins.agents import systemd_bus

        async with systemd_bus.connect(self.bus) as systemd:
            path = await systemd.load_unit(unit)
            load_state = await systemd.property(path, "LoadState")
            description = await systemd.property(path, "Description")
        return str(load_state), str(description)

    def metadata(self, agent_type: str, provider: str | None = None) -> str:
        import asyncio

        from hactl.core.agentmeta import AgentSpec, render_metadata
        from hactl.plugins.agents.systemd_bus import DBusErrorResponse

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
        from hactl.plugins.agents.systemd_bus import DBusErrorResponse

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
        from hactl.plugins.agents import systemd_bus

        if action not in ("monitor", "status", "start", "stop", "restart"):
            return (
                OcfRc.ERR_UNIMPLEMENTED,
                OperationStatus.ERROR,
                f"action {action} is not implemented for systemd resources",
            )
        async with systemd_bus.connect(self.bus) as systemd:
            try:
                path = await systemd.load_unit(unit)
            except systemd_bus.DBusErrorResponse as exc:
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
                await systemd.reload()
            jobs = await systemd.subscribe_jobs()
            job = await systemd.queue_job(action, unit)
            result = await systemd_bus.job_result(jobs, job)
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
            state = await systemd.settled_state(path)
            wanted_active = action != "stop"
            if (state == "active") != wanted_active:
                return OcfRc.ERR_GENERIC, OperationStatus.DONE, f"{unit} is {state} after {action}"
            return OcfRc.SUCCESS, OperationStatus.DONE, ""


@hookimpl
def hactl_agent_class(standard: str) -> AgentClass | None:
    return SystemdAgentClass() if standard == "systemd" else None


@hookimpl
def hactl_list_agents() -> list[str]:
    try:
        return [f"systemd:{agent}" for agent in SystemdAgentClass().agents()]
    except SystemdUnavailable:
        return []  # no systemd here: nothing to offer, which is not an error for a listing
