"""The `acme` agent class: executables in $ACME_AGENT_DIR, called as `SCRIPT ACTION`, with
their exit code already an OCF code."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from hactl.core.drivers import AgentClass, OperationRequest, OperationResult
from hactl.core.hookspecs import hookimpl


def _agent_dir() -> Path:
    return Path(os.environ.get("ACME_AGENT_DIR", "/opt/acme/agents"))


class AcmeAgents(AgentClass):
    standard = "acme"

    def agents(self, provider: str | None = None) -> list[str]:
        folder = _agent_dir()
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []

    def metadata(self, agent_type: str, provider: str | None = None) -> str:
        return f'<resource-agent name="{agent_type}"><parameters/><actions/></resource-agent>'

    async def execute(self, request: OperationRequest) -> OperationResult:
        agent_type = request.agent.rsplit(":", 1)[-1]
        started = time.monotonic()
        env = {**os.environ, **{f"ACME_{k.upper()}": v for k, v in request.params.items()}}
        proc = await asyncio.create_subprocess_exec(
            str(_agent_dir() / agent_type),
            request.action,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), request.timeout_ms / 1000)
        return OperationResult(
            rc=proc.returncode or 0,
            stdout_tail=out.decode()[-1024:],
            stderr_tail=err.decode()[-1024:],
            duration_ms=int((time.monotonic() - started) * 1000),
        )


@hookimpl
def hactl_agent_class(standard: str) -> AgentClass | None:
    return AcmeAgents() if standard == "acme" else None


@hookimpl
def hactl_list_agents() -> list[str]:
    return [f"acme:{name}" for name in AcmeAgents().agents()]
