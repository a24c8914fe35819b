"""The ``ocf`` agent class: Open Cluster Framework resource agents.

Agents are found as ``<dir>/<provider>/<type>`` in these ``resource.d`` directories, the
first match winning: the directories listed in ``HACTL_OCF_RA_PATH`` (colon-separated, for
agents kept elsewhere), ``$OCF_ROOT/resource.d`` (OCF_ROOT defaults to /usr/lib/ocf), and
last the agents bundled with hactl (provider ``hactl``).

An action runs the agent with the action as its only argument and the environment
Pacemaker's executor gives (see :meth:`OcfAgentClass.environment`); never through a shell.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
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
from hactl.plugins.agents.metadata import metadata_or_raise
from hactl.plugins.agents.process import invalid_agent_result, not_run_result, run_program

DEFAULT_OCF_ROOT = Path("/usr/lib/ocf")
#: hactl's own agents: an OCF tree of its own (resource.d/hactl/*, lib/hactl/*)
BUNDLED_ROOT = Path(__file__).resolve().parent
OCF_VERSION = ("1", "1")
META_PREFIX = "OCF_RESKEY_CRM_meta_"
#: OCF codes an agent may return; any other becomes a generic error, as in Pacemaker
DEFINED_CODES = frozenset(range(OcfRc.SUCCESS, OcfRc.FAILED_PROMOTED + 1)) | {
    OcfRc.DEGRADED,
    OcfRc.DEGRADED_PROMOTED,
}


def ocf_result_code(exit_code: int) -> int:
    """Pacemaker's mapping of an OCF agent's exit code onto the codes it knows."""
    return exit_code if exit_code in DEFINED_CODES else OcfRc.ERR_GENERIC


def meta_variable(name: str) -> str:
    """The environment variable of meta-attribute ``name`` (``clone-max`` ->
    ``OCF_RESKEY_CRM_meta_clone_max``)."""
    return META_PREFIX + name.replace("-", "_")


class OcfAgentClass(AgentClass):
    standard = "ocf"

    def __init__(self, root: Path | None = None, extra_dirs: Sequence[Path] | None = None):
        self.root = root or Path(os.environ.get("OCF_ROOT") or DEFAULT_OCF_ROOT)
        if extra_dirs is None:
            configured = os.environ.get("HACTL_OCF_RA_PATH", "")
            extra_dirs = [Path(d) for d in configured.split(":") if d]
        # configured directories first: an explicit choice wins over the system's agents
        self.search_dirs = [
            *extra_dirs,
            self.root / "resource.d",
            BUNDLED_ROOT / "resource.d",
        ]

    # ------------------------------------------------------------------ discovery

    def providers(self) -> list[str]:
        found: set[str] = set()
        for directory in self.search_dirs:
            if directory.is_dir():
                found.update(
                    p.name for p in directory.iterdir() if p.is_dir() and not p.name.startswith(".")
                )
        return sorted(found)

    def agents(self, provider: str | None = None) -> list[str]:
        """Agent types (as ``provider:type`` when ``provider`` is None)."""
        from hactl.core.agentmeta import is_agent_name

        found: set[str] = set()
        if provider is not None and not is_agent_name(provider):
            raise UsageError(
                f"{provider!r} is not an OCF provider name",
                hint="letters, digits and _ . + @ - (see `hactl resource providers`)",
            )
        for directory in self.search_dirs:
            provider_dirs = [directory / provider] if provider else directory.glob("*")
            for provider_dir in sorted(provider_dirs):
                if not provider_dir.is_dir() or provider_dir.name.startswith("."):
                    continue
                for agent in provider_dir.iterdir():
                    if agent.is_file() and os.access(agent, os.X_OK):
                        if not agent.name.startswith("."):
                            found.add(
                                agent.name if provider else f"{provider_dir.name}:{agent.name}"
                            )
        return sorted(found)

    def find(self, agent_type: str, provider: str) -> Path | None:
        """Where the agent is, or None. Names are checked first so that ``../x`` cannot
        reach outside the agent directories."""
        from hactl.core.agentmeta import AgentSpec

        AgentSpec.parse(f"ocf:{provider}:{agent_type}")
        for directory in self.search_dirs:
            candidate = directory / provider / agent_type
            if candidate.exists():
                return candidate
        return None

    def _require(self, agent_type: str, provider: str | None) -> Path:
        if not provider:
            raise UsageError(
                f"ocf:{agent_type}: OCF agents need a provider",
                hint="see `hactl resource providers`",
            )
        path = self.find(agent_type, provider)
        if path is None:
            raise NotFoundError(
                f"no OCF agent ocf:{provider}:{agent_type}",
                hint="looked in " + ", ".join(str(d / provider) for d in self.search_dirs),
            )
        return path

    # ------------------------------------------------------------------ running

    def ocf_variables(
        self, request: OperationRequest, provider: str, agent_type: str
    ) -> dict[str, str]:
        """Exactly what Pacemaker's executor sets for an OCF agent, and the caller's extras."""
        variables: dict[str, str] = {}
        for name, value in request.params.items():
            # Pacemaker passes OCF_CHECK_LEVEL (an op attribute) as it is, others prefixed
            variables[name if name == "OCF_CHECK_LEVEL" else f"OCF_RESKEY_{name}"] = value
        for name, value in request.meta.items():
            variables[meta_variable(name)] = value
        variables[meta_variable("timeout")] = str(request.timeout_ms)
        if request.interval_ms:
            variables[meta_variable("interval")] = str(request.interval_ms)
            variables.setdefault(meta_variable("name"), request.action)
        variables.update(
            OCF_RA_VERSION_MAJOR=OCF_VERSION[0],
            OCF_RA_VERSION_MINOR=OCF_VERSION[1],
            OCF_ROOT=str(self.root),
            OCF_EXIT_REASON_PREFIX="ocf-exit-reason:",
            OCF_RESOURCE_INSTANCE=request.resource,
            OCF_RESOURCE_TYPE=agent_type,
            OCF_RESOURCE_PROVIDER=provider,
        )
        variables.update(request.environment)
        return variables

    def environment(
        self, request: OperationRequest, provider: str, agent_type: str
    ) -> dict[str, str]:
        """The environment the agent runs with: this process's own without any inherited
        OCF variables, then :meth:`ocf_variables`."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("OCF_")}
        env.update(self.ocf_variables(request, provider, agent_type))
        return env

    def agent_environment(self, request: OperationRequest) -> dict[str, str]:
        from hactl.core.agentmeta import AgentSpec

        spec = AgentSpec.parse(request.agent)
        return self.ocf_variables(request, spec.provider or "", spec.type)

    def metadata(self, agent_type: str, provider: str | None = None) -> str:
        path = self._require(agent_type, provider)
        assert provider is not None
        request = OperationRequest(
            resource=agent_type, agent=f"ocf:{provider}:{agent_type}", action="meta-data"
        )
        return metadata_or_raise(
            [str(path), "meta-data"],
            self.environment(request, provider, agent_type),
            name=f"agent {request.agent}",
        )

    async def execute(self, request: OperationRequest) -> OperationResult:
        from hactl.core.agentmeta import AgentSpec

        try:
            spec = AgentSpec.parse(request.agent)
        except UsageError as exc:
            return invalid_agent_result(exc)
        provider = spec.provider or ""
        name = f"agent {spec}"
        path = self.find(spec.type, provider) if provider else None
        if path is None:
            return OperationResult(
                rc=OcfRc.ERR_INSTALLED,
                status=OperationStatus.NOT_INSTALLED,
                exit_reason=f"{name} is not installed (no {provider}/{spec.type} in "
                + ", ".join(str(d) for d in self.search_dirs)
                + ")",
            )
        outcome = await run_program(
            [str(path), request.action],
            self.environment(request, provider, spec.type),
            request.timeout_ms,
            name=f"{name} {request.action}",
        )
        if outcome.exit_code is None:
            return not_run_result(outcome)
        rc = ocf_result_code(outcome.exit_code)
        if rc != outcome.exit_code:
            return outcome.to_result(
                rc,
                f"{name} {request.action} returned undefined exit code {outcome.exit_code}"
                + (f" ({outcome.exit_reason})" if outcome.exit_reason else ""),
            )
        return outcome.to_result(rc)


@hookimpl
def hactl_agent_class(standard: str) -> AgentClass | None:
    return OcfAgentClass() if standard == "ocf" else None


@hookimpl
def hactl_list_agents() -> list[str]:
    return [f"ocf:{agent}" for agent in OcfAgentClass().agents()]
