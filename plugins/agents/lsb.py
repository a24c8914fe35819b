"""The ``lsb`` agent class: System V init scripts in /etc/init.d (``HACTL_LSB_DIR``).

Pacemaker runs ``status`` for ``monitor`` and maps LSB's codes onto OCF's
(:func:`lsb_result_code`); meta-data is synthesised from the script's
``### BEGIN INIT INFO`` header.
"""

from __future__ import annotations

import os
from pathlib import Path

from hactl.core.drivers import (
    AgentClass,
    OcfRc,
    OperationRequest,
    OperationResult,
    OperationStatus,
)
from hactl.core.errors import NotFoundError, UsageError
from hactl.core.hookspecs import hookimpl
from hactl.plugins.agents.process import invalid_agent_result, not_run_result, run_program

DEFAULT_LSB_DIR = Path("/etc/init.d")

LSB_STATUS_OK = 0
LSB_STATUS_VAR_PID = 1  # dead, but a pid file exists
LSB_STATUS_VAR_LOCK = 2  # dead, but a lock file exists
LSB_STATUS_NOT_RUNNING = 3
LSB_STATUS_NOT_INSTALLED = 150
LSB_STATUS_INSUFFICIENT_PRIV = 151

_STATUS_TO_OCF = {
    LSB_STATUS_OK: OcfRc.SUCCESS,
    LSB_STATUS_VAR_PID: OcfRc.NOT_RUNNING,
    LSB_STATUS_VAR_LOCK: OcfRc.NOT_RUNNING,
    LSB_STATUS_NOT_RUNNING: OcfRc.NOT_RUNNING,
    LSB_STATUS_NOT_INSTALLED: OcfRc.ERR_INSTALLED,
    LSB_STATUS_INSUFFICIENT_PRIV: OcfRc.ERR_PERM,
}

#: header fields kept in the synthesised meta-data, in the order Pacemaker shows them
HEADER_FIELDS = (
    "Provides",
    "Required-Start",
    "Required-Stop",
    "Should-Start",
    "Should-Stop",
    "Default-Start",
    "Default-Stop",
)
ACTIONS = (
    ("meta-data", "5s", None),
    ("start", "15s", None),
    ("stop", "15s", None),
    ("status", "15s", None),
    ("restart", "15s", None),
    ("force-reload", "15s", None),
    ("monitor", "15s", "15s"),
)


def lsb_result_code(action: str, exit_code: int) -> int:
    """Pacemaker's mapping: status has LSB's own codes; other actions share 0-7 with OCF."""
    if action in ("status", "monitor"):
        return _STATUS_TO_OCF.get(exit_code, OcfRc.ERR_GENERIC)
    return exit_code if 0 <= exit_code <= OcfRc.NOT_RUNNING else OcfRc.ERR_GENERIC


def read_init_info(script: Path) -> dict[str, str]:
    """The fields of an init script's ``### BEGIN INIT INFO`` block; a Description may
    continue on lines starting ``#`` and a tab or two spaces."""
    fields: dict[str, str] = {}
    in_header = False
    last_field = None
    with script.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            text = line.rstrip("\n")
            if text.startswith("### BEGIN INIT INFO"):
                in_header = True
                continue
            if not in_header:
                continue
            if text.startswith("### END INIT INFO"):
                break
            if last_field == "Description" and text.startswith(("#  ", "#\t")):
                fields["Description"] += " " + text[1:].strip()
                continue
            last_field = None
            if text.startswith("# ") and ":" in text:
                key, _, value = text[2:].partition(":")
                key = key.strip()
                if key not in fields:
                    fields[key] = value.strip()
                    last_field = key
    return fields


class LsbAgentClass(AgentClass):
    standard = "lsb"

    def __init__(self, directory: Path | None = None):
        self.directory = directory or Path(os.environ.get("HACTL_LSB_DIR") or DEFAULT_LSB_DIR)

    def agents(self, provider: str | None = None) -> list[str]:
        if provider or not self.directory.is_dir():
            return []
        return sorted(
            p.name
            for p in self.directory.iterdir()
            if p.is_file() and os.access(p, os.X_OK) and not p.name.startswith(".")
        )

    def script(self, agent_type: str) -> Path:
        """The script's path (not checked for existence); rejects names with paths in them."""
        from hactl.core.agentmeta import AgentSpec

        AgentSpec.parse(f"lsb:{agent_type}")
        return self.directory / agent_type

    def metadata(self, agent_type: str, provider: str | None = None) -> str:
        from hactl.core.agentmeta import render_metadata

        if provider:
            raise UsageError(f"lsb:{provider}:{agent_type}: LSB agents have no provider")
        script = self.script(agent_type)
        if not script.is_file():
            raise NotFoundError(f"no LSB agent lsb:{agent_type}", hint=f"looked for {script}")
        info = read_init_info(script)
        return render_metadata(
            agent_type,
            shortdesc=info.get("Short-Description", ""),
            longdesc=info.get("Description", ""),
            actions=ACTIONS,
            special_tag="LSB",
            special={name: info.get(name, "") for name in HEADER_FIELDS},
        )

    async def execute(self, request: OperationRequest) -> OperationResult:
        from hactl.core.agentmeta import AgentSpec

        try:
            spec = AgentSpec.parse(request.agent)
        except UsageError as exc:
            return invalid_agent_result(exc)
        if request.action == "meta-data":  # synthesised, never run: scripts do not know it
            try:
                return OperationResult(rc=OcfRc.SUCCESS, stdout_tail=self.metadata(spec.type))
            except NotFoundError as exc:
                return OperationResult(
                    rc=OcfRc.ERR_INSTALLED,
                    status=OperationStatus.NOT_INSTALLED,
                    exit_reason=exc.message,
                )
        script = self.script(spec.type)
        action = "status" if request.action == "monitor" else request.action
        name = f"agent {spec}"
        # LSB scripts get no parameters: only this process's environment, plus the caller's
        env = {k: v for k, v in os.environ.items() if not k.startswith("OCF_")}
        env.update(request.environment)
        outcome = await run_program(
            [str(script), action], env, request.timeout_ms, name=f"{name} {action}"
        )
        if outcome.exit_code is None:
            return not_run_result(outcome)
        rc = lsb_result_code(action, outcome.exit_code)
        if action == "status" and outcome.exit_code not in _STATUS_TO_OCF:
            return outcome.to_result(
                rc, f"{name} status returned {outcome.exit_code}, not an LSB status code"
            )
        if action != "status" and rc != outcome.exit_code:
            return outcome.to_result(
                rc, f"{name} {action} returned {outcome.exit_code}, not an LSB code (0-7)"
            )
        return outcome.to_result(rc, agent_reason=False)


@hookimpl
def hactl_agent_class(standard: str) -> AgentClass | None:
    return LsbAgentClass() if standard == "lsb" else None


@hookimpl
def hactl_list_agents() -> list[str]:
    return [f"lsb:{agent}" for agent in LsbAgentClass().agents()]
