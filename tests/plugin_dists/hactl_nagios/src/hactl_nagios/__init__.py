"""The `nagios` agent class: monitoring plugins (Nagios/Icinga style checks) as resources.

A plugin is a program in $NAGIOS_PLUGIN_DIR (default: the checks shipped here). Its
parameters become ``--NAME VALUE`` arguments; it is run for ``monitor`` (and ``start``,
which checks once, as a check has nothing to start). Plugin codes map onto OCF's:
0 OK -> 0, 1 WARNING -> 190 (degraded), 2 CRITICAL and 3 UNKNOWN -> 1.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from hactl.core.drivers import AgentClass, OcfRc, OperationRequest, OperationResult
from hactl.core.hookspecs import hookimpl

SHIPPED = Path(__file__).parent / "plugins"
PLUGIN_CODES = {0: OcfRc.SUCCESS, 1: OcfRc.DEGRADED, 2: OcfRc.ERR_GENERIC, 3: OcfRc.ERR_GENERIC}


def plugin_dir() -> Path:
    return Path(os.environ.get("NAGIOS_PLUGIN_DIR") or SHIPPED)


class NagiosAgentClass(AgentClass):
    standard = "nagios"

    def agents(self, provider: str | None = None) -> list[str]:
        folder = plugin_dir()
        return sorted(p.name for p in folder.iterdir() if os.access(p, os.X_OK))

    def metadata(self, agent_type: str, provider: str | None = None) -> str:
        return (
            f'<resource-agent name="{agent_type}"><version>1.1</version>'
            f'<shortdesc lang="en">Monitoring plugin {agent_type}</shortdesc>'
            '<parameters><parameter name="host" required="1"><content type="string"/>'
            '</parameter><parameter name="port"><content type="integer"/></parameter>'
            '</parameters><actions><action name="start" timeout="20s"/>'
            '<action name="stop" timeout="20s"/>'
            '<action name="monitor" timeout="20s" interval="60s"/></actions></resource-agent>'
        )

    async def execute(self, request: OperationRequest) -> OperationResult:
        started = time.monotonic()
        if request.action == "stop":
            return OperationResult(rc=OcfRc.SUCCESS)
        if request.action not in ("start", "monitor"):
            return OperationResult(rc=OcfRc.ERR_UNIMPLEMENTED, exit_reason="checks only monitor")
        program = plugin_dir() / request.agent.rsplit(":", 1)[-1]
        if not os.access(program, os.X_OK):
            return OperationResult(
                rc=OcfRc.ERR_INSTALLED, status="not installed", exit_reason=f"no plugin {program}"
            )
        argv = [str(program)]
        for name, value in request.params.items():
            argv += [f"--{name}", value]
        process = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(), request.timeout_ms / 1000)
        except TimeoutError:
            process.kill()
            await process.wait()
            return OperationResult(rc=OcfRc.ERR_GENERIC, status="timed out")
        code = process.returncode or 0
        return OperationResult(
            rc=PLUGIN_CODES.get(code, OcfRc.ERR_GENERIC),
            stdout_tail=out.decode()[-1024:],
            stderr_tail=err.decode()[-1024:],
            duration_ms=int((time.monotonic() - started) * 1000),
            exit_reason="" if code == 0 else out.decode().strip().splitlines()[0],
        )


@hookimpl
def hactl_agent_class(standard: str) -> AgentClass | None:
    return NagiosAgentClass() if standard == "nagios" else None


@hookimpl
def hactl_list_agents() -> list[str]:
    return [f"nagios:{name}" for name in NagiosAgentClass().agents()]
