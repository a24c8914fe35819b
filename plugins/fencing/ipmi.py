"""Fence plugin ``ipmi`` (agent names fence_ipmilan, fence_ipmilanplus): power control of a
node through its BMC over IPMI-over-LAN, with pyghmi as the client.

Parameters are fence_ipmilan's, so an existing device definition works unchanged. The
password stays in this process's memory: no ipmitool command line to show it in.
"""

from __future__ import annotations

import shlex
import subprocess
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hactl.core.drivers import FenceAgent, FenceResult
from hactl.core.errors import Problem, ValidationError
from hactl.core.hookspecs import hookimpl
from hactl.plugins.fencing.common import (
    BuiltinFenceAgent,
    FenceDeviceError,
    action_param,
    in_daemon_thread,
    param,
    standard_params,
    target_params,
)

if TYPE_CHECKING:
    from hactl.core.fencemeta import FenceAgentMetadata

PRIVILEGE_LEVELS = {"callback": 1, "user": 2, "operator": 3, "administrator": 4}
#: RMCP+ cipher suites are numbered 0 to 17; pyghmi implements 17 and 3 (it proposes 17 and
#: falls back to 3), so a device asking for another suite gets one of those: the same or
#: stronger authentication, integrity and confidentiality
HIGHEST_CIPHER_SUITE = 17
_CHASSIS_NETFN, _CHASSIS_CONTROL, _POWER_CYCLE = 0x00, 0x02, 0x02
PASSWORD_SCRIPT_TIMEOUT_S = 10

#: one pyghmi Command per BMC and credentials (see IpmiFenceAgent._run_blocking)
_SESSIONS: dict[tuple[str, ...], Any] = {}
_SESSION_LOCKS: dict[tuple[str, ...], threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _session_lock(key: tuple[str, ...]) -> threading.Lock:
    with _LOCKS_GUARD:
        return _SESSION_LOCKS.setdefault(key, threading.Lock())


def _session_usable(command: Any) -> bool:
    """Whether pyghmi's session under ``command`` is still logged in and not broken."""
    session = getattr(command, "ipmi_session", None)
    return bool(getattr(session, "logged", 0)) and not getattr(session, "broken", True)


def _metadata(name: str, lanplus_default: str) -> FenceAgentMetadata:
    from hactl.core.fencemeta import FenceAgentMetadata

    return FenceAgentMetadata(
        name=name,
        shortdesc="Fence agent for IPMI" + (" (IPMIv2 lanplus)" if lanplus_default == "1" else ""),
        longdesc="Powers a node off, on or through a cycle with its BMC's IPMI-over-LAN "
        "interface (pyghmi client, RMCP+ cipher suites 17 and 3, IPMI 1.5 when the BMC "
        "offers nothing else). Parameters are those of fence-agents' fence_ipmilan.",
        parameters=(
            action_param(),
            param(
                "auth",
                "IPMI Lan Auth type (negotiated with the BMC)",
                "select",
                options=("md5", "password", "none"),
            ),
            param(
                "cipher",
                "Ciphersuite to use (0-17, as ipmitool -C; hactl negotiates suite 17, else 3)",
            ),
            param("hexadecimal_kg", "Hexadecimal-encoded Kg key for IPMIv2 authentication"),
            param("ip", "IP address or hostname of fencing device", obsoletes="ipaddr"),
            param("ipaddr", "IP address or hostname of fencing device", deprecated=True),
            param(
                "ipport", "TCP/UDP port to use for connection with device", "integer", default="623"
            ),
            param(
                "lanplus",
                "Use Lanplus to improve security of connection",
                "boolean",
                default=lanplus_default,
            ),
            param("username", "Login name", obsoletes="login"),
            param("login", "Login name", deprecated=True),
            param(
                "method", "Method to fence", "select", default="onoff", options=("onoff", "cycle")
            ),
            param("password", "Login password or passphrase", obsoletes="passwd"),
            param("passwd", "Login password or passphrase", deprecated=True),
            param(
                "password_script", "Script to run to retrieve password", obsoletes="passwd_script"
            ),
            param("passwd_script", "Script to run to retrieve password", deprecated=True),
            param(
                "privlvl",
                "Privilege level on IPMI device",
                "select",
                default="administrator",
                options=tuple(PRIVILEGE_LEVELS),
            ),
            param("port_as_ip", 'Make "port/plug" to be an alias to IP address', "boolean"),
            param(
                "ipmitool_path",
                "Path to ipmitool binary (unused: hactl speaks IPMI itself)",
                default="/usr/bin/ipmitool",
            ),
            param("ipmitool_timeout", "Timeout (sec) for IPMI operation", default="2"),
            param(
                "target",
                "Bridge IPMI requests to the remote target address (not supported by hactl)",
            ),
            *target_params(),
            *standard_params(power_wait="2"),
        ),
        actions=("on", "off", "reboot", "status", "monitor", "metadata", "validate-all"),
    )


class IpmiFenceAgent(BuiltinFenceAgent):
    def __init__(self, name: str) -> None:
        self.name = name
        self.meta = _metadata(name, "1" if name == "fence_ipmilanplus" else "0")

    def validate(self, params: Mapping[str, str]) -> None:
        from hactl.core.fencemeta import parse_bool

        super().validate(params)
        options = self.meta.canonical(params)
        problems = []
        if not options.get("ip") and not parse_bool(options.get("port_as_ip", "0")):
            problems.append(
                Problem(
                    f"{self.name} needs parameter 'ip'",
                    where=self.name,
                    hint="the address of the BMC",
                )
            )
        cipher = options.get("cipher", "")
        if cipher and not (cipher.isdigit() and int(cipher) <= HIGHEST_CIPHER_SUITE):
            problems.append(
                Problem(
                    f"cipher suite {cipher!r} is not a suite number (0 to 17)",
                    where=self.name,
                    hint="as ipmitool -C; hactl negotiates suite 17, else 3",
                )
            )
        if options.get("target"):
            problems.append(
                Problem(
                    "IPMI bridging ('target') is not supported",
                    where=self.name,
                    hint="address the target BMC directly",
                )
            )
        if problems:
            raise ValidationError(problems, subject=f"{self.name} parameters")

    async def run(self, action: str, options: Mapping[str, str], target: str | None) -> FenceResult:
        return await in_daemon_thread(self._run_blocking, action, options, target)

    # pyghmi is synchronous (its own select loop); everything below runs in a worker thread.
    # pyghmi keeps one logged-in session per BMC and credentials, and a second Command for
    # the same ones would re-initialise (break) it: so one Command per BMC is kept here,
    # used by one action at a time, and replaced when its session fails.

    def _run_blocking(
        self, action: str, options: Mapping[str, str], target: str | None
    ) -> FenceResult:
        password = self._password(options)
        key = (
            self._address(options, target),
            options.get("ipport", "623"),
            options.get("username", ""),
            password,
            options.get("hexadecimal_kg", ""),
            options.get("privlvl", "administrator"),
        )
        with _session_lock(key):
            session = _SESSIONS.get(key)
            if session is None:
                session = _SESSIONS[key] = self._connect(options, target, password)
            try:
                return self._act(session, action, options)
            except FenceDeviceError:
                raise
            except Exception as exc:  # noqa: BLE001 - pyghmi fails in many ways
                # A BMC refusing one command (a completion code) leaves the session logged
                # in, and a new Command would re-initialise it and hang: keep it then.
                if not _session_usable(session):
                    _SESSIONS.pop(key, None)
                raise FenceDeviceError(f"{self._where(options, target)}: {exc}") from None

    def _act(self, session: Any, action: str, options: Mapping[str, str]) -> FenceResult:
        if action in ("status", "monitor"):
            state = self._power(session)
            return FenceResult(True, state, f"Status: {state.upper()}")
        if action in ("on", "off"):
            self._switch(session, action, options)
            return FenceResult(True, action, f"Success: Powered {action.upper()}")
        return self._reboot(session, options)

    def _where(self, options: Mapping[str, str], target: str | None) -> str:
        return f"BMC {self._address(options, target)}:{options.get('ipport', '623')}"

    def _address(self, options: Mapping[str, str], target: str | None) -> str:
        from hactl.core.fencemeta import parse_bool

        if parse_bool(options.get("port_as_ip", "0")):
            return options.get("plug") or target or ""
        return options.get("ip", "")

    def _connect(self, options: Mapping[str, str], target: str | None, password: str) -> Any:
        # pyghmi on first use only: listing plugins must not pay for importing it
        from pyghmi import exceptions as pyghmi_exceptions
        from pyghmi.ipmi import command as ipmi_command

        from hactl.core.fencemeta import parse_bool

        kg = options.get("hexadecimal_kg")
        try:
            command = ipmi_command.Command(
                bmc=self._address(options, target),
                userid=options.get("username", ""),
                password=password,
                port=int(options.get("ipport", "623")),
                kg=bytes.fromhex(kg) if kg else None,
                privlevel=PRIVILEGE_LEVELS[options.get("privlvl", "administrator")],
            )
        except (pyghmi_exceptions.IpmiException, OSError, ValueError) as exc:
            reason = str(exc) if str(exc) not in ("", "None") else "no answer"
            raise FenceDeviceError(
                f"{self._where(options, target)}: login failed: {reason}"
            ) from None
        # pyghmi falls back to IPMI 1.5 by itself; lanplus=1 asks for 2.0 (RMCP+) only
        if parse_bool(options.get("lanplus", "0")) and command.ipmi_session.ipmiversion != 2.0:
            raise FenceDeviceError(
                f"{self._where(options, target)}: the BMC offers only IPMI 1.5, and lanplus=1 "
                "requires IPMI 2.0 (RMCP+)"
            )
        return command

    def _password(self, options: Mapping[str, str]) -> str:
        script = options.get("password_script")
        if not script:
            return options.get("password", "")
        try:
            done = subprocess.run(
                shlex.split(script),
                capture_output=True,
                text=True,
                timeout=PASSWORD_SCRIPT_TIMEOUT_S,
                check=True,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise FenceDeviceError(f"password_script failed: {type(exc).__name__}") from None
        return done.stdout.splitlines()[0] if done.stdout else ""

    @staticmethod
    def _power(session: Any) -> str:
        state: str = session.get_power()["powerstate"]
        return state

    def _switch(self, session: Any, state: str, options: Mapping[str, str]) -> None:
        """Ask for ``state``, then poll until the BMC reports it or power_timeout passes."""
        session.set_power(state)
        deadline = time.monotonic() + float(options.get("power_timeout", "20"))
        interval = float(options.get("stonith_status_sleep", "1"))
        while self._power(session) != state:
            if time.monotonic() >= deadline:
                raise FenceDeviceError(
                    f"still not {state} {options.get('power_timeout', '20')} s after asking"
                )
            time.sleep(interval)
        time.sleep(float(options.get("power_wait", "0")))

    def _reboot(self, session: Any, options: Mapping[str, str]) -> FenceResult:
        from pyghmi import exceptions as pyghmi_exceptions

        if options.get("method") == "cycle":
            session.raw_command(netfn=_CHASSIS_NETFN, command=_CHASSIS_CONTROL, data=[_POWER_CYCLE])
            return FenceResult(True, "on", "Success: Power cycled")
        self._switch(session, "off", options)
        try:
            self._switch(session, "on", options)
        except (FenceDeviceError, pyghmi_exceptions.IpmiException) as exc:
            # the node is off, so fencing succeeded; only the power-on after it failed
            return FenceResult(True, "off", f"Success: Rebooted, but power on failed: {exc}")
        return FenceResult(True, "on", "Success: Rebooted")


@hookimpl
def hactl_fence_agent(agent: str) -> FenceAgent | None:
    if agent in ("fence_ipmilan", "fence_ipmilanplus"):
        return IpmiFenceAgent(agent)
    return None


@hookimpl
def hactl_list_fence_agents() -> list[str]:
    return ["fence_ipmilan", "fence_ipmilanplus"]
