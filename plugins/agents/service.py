"""The ``service`` agent class: ``service:atd`` is the systemd unit where systemd runs and
has that unit, else the LSB init script of that name.

Pacemaker itself looks for /etc/init.d/<name> first and only then for a systemd unit; hactl
prefers the unit where systemd manages the machine, so that a leftover compatibility
script does not hide the unit systemd actually runs.
"""

from __future__ import annotations

from hactl.core.drivers import AgentClass, OperationRequest, OperationResult
from hactl.core.errors import UsageError
from hactl.core.hookspecs import hookimpl
from hactl.plugins.agents.lsb import LsbAgentClass
from hactl.plugins.agents.process import invalid_agent_result
from hactl.plugins.agents.systemd import SystemdAgentClass


class ServiceAgentClass(AgentClass):
    standard = "service"

    def __init__(self, systemd: SystemdAgentClass | None = None, lsb: LsbAgentClass | None = None):
        self.systemd = systemd or SystemdAgentClass()
        self.lsb = lsb or LsbAgentClass()

    def resolve(self, agent_type: str) -> AgentClass:
        """The class that runs ``service:<agent_type>`` on this machine."""
        if self.systemd.reachable() and self.systemd.has_unit(agent_type):
            return self.systemd
        return self.lsb

    def agents(self, provider: str | None = None) -> list[str]:
        found = set(self.lsb.agents(provider))
        if self.systemd.reachable():
            found.update(self.systemd.agents(provider))
        return sorted(found)

    def metadata(self, agent_type: str, provider: str | None = None) -> str:
        return self.resolve(agent_type).metadata(agent_type, provider)

    async def execute(self, request: OperationRequest) -> OperationResult:
        from hactl.core.agentmeta import AgentSpec

        try:
            spec = AgentSpec.parse(request.agent)
        except UsageError as exc:
            return invalid_agent_result(exc)
        target = self.resolve(spec.type)
        resolved = f"{target.standard}:{spec.type}"
        return await target.execute(
            OperationRequest(
                resource=request.resource,
                agent=resolved,
                action=request.action,
                params=request.params,
                meta=request.meta,
                interval_ms=request.interval_ms,
                timeout_ms=request.timeout_ms,
                environment=request.environment,
            )
        )


@hookimpl
def hactl_agent_class(standard: str) -> AgentClass | None:
    return ServiceAgentClass() if standard == "service" else None


@hookimpl
def hactl_list_agents() -> list[str]:
    # the same scripts and units are listed under lsb: and systemd: already
    return []
