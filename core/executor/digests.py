"""The digests an operation's record carries, as Pacemaker's controller records them.

Besides ``op-digest`` (all parameters), what the agent's meta-data says adds two more, so
that the scheduler can tell what kind of change happened (core/scheduler/digests.py):

- an agent that can reload (OCF 1.1 ``reload-agent``, or an older agent's ``reload``) gets
  ``op-restart-digest`` of the parameters a reload cannot apply, listed in
  ``op-force-restart``: those not marked ``reloadable`` (for an older agent: those marked
  ``unique``). Only one-time operations carry it: monitors are not reloaded.
- an agent with secrets gets ``op-secure-digest`` of all but them, listed in
  ``op-secure-params``: the parameters marked ``private``, or where none is, those named
  password, passwd or user.

Pure; the executor reads each agent's meta-data once (`AgentParams.from_metadata`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hactl.core.cib.digest import (
    INTERVAL_META,
    TIMEOUT_META,
    digest_of,
    filter_for_digest,
    op_digest,
)

if TYPE_CHECKING:
    from hactl.core.agentmeta import AgentMetadata
    from hactl.core.plugins import PluginHost

#: secrets by name, for agents that mark none private
_IMPLICIT_SECRETS = ("password", "passwd", "user")
#: agent standards whose agents take parameters (and so have digests beyond op-digest)
PARAMETER_STANDARDS = ("ocf", "stonith")


@dataclass(frozen=True)
class AgentParams:
    """What an agent's meta-data says about its parameters, for the digests."""

    #: the action that reloads it: "reload-agent" (OCF 1.1), "reload" (older), or None
    reload_action: str | None
    #: every parameter, in meta-data order
    names: tuple[str, ...]
    #: parameters a reload cannot apply
    force_restart: tuple[str, ...]
    secrets: tuple[str, ...]

    @classmethod
    def from_metadata(cls, metadata: AgentMetadata) -> AgentParams:
        """Pacemaker's reading (controld_cache_metadata): reload-agent counts only for an
        agent of OCF 1.1 or later, reload only for an older one."""
        ocf_1_1 = _version(metadata.ocf_version) >= (1, 1)
        if ocf_1_1 and metadata.has_action("reload-agent"):
            reload_action: str | None = "reload-agent"
            force = tuple(p.name for p in metadata.parameters if not p.reloadable)
        elif not ocf_1_1 and metadata.has_action("reload"):
            reload_action = "reload"
            force = tuple(p.name for p in metadata.parameters if p.unique_group == p.name)
        else:
            reload_action, force = None, ()
        names = tuple(p.name for p in metadata.parameters)
        secrets = tuple(p.name for p in metadata.parameters if p.private)
        if not secrets:
            secrets = tuple(n for n in names if n in _IMPLICIT_SECRETS)
        return cls(reload_action, names, force, secrets)


def _version(text: str) -> tuple[int, ...]:
    parts: list[int] = []
    for part in text.strip().split("."):
        if not part.isdigit():
            break
        parts.append(int(part))
    return tuple(parts)


@dataclass(frozen=True)
class RecordDigests:
    """The digest attributes of one ``lrm_rsc_op`` (None: not recorded)."""

    digest: str
    restart_digest: str | None = None
    force_restart: str | None = None
    secure_digest: str | None = None
    secure_params: str | None = None


def _word_list(names: tuple[str, ...]) -> str:
    """A list the scheduler searches for " NAME " in: spaces around every name."""
    return f" {' '.join(names)} " if names else ""


def record_digests(
    params: Mapping[str, str],
    *,
    interval_ms: int,
    timeout_ms: int,
    agent: AgentParams | None,
) -> RecordDigests:
    """The digests of an operation run with the agent parameters `params` (Pacemaker's
    add_op_digest_to_xml, append_restart_list and append_secure_list); without the agent's
    meta-data only op-digest."""
    digest = op_digest(params, interval_ms=interval_ms, timeout_ms=timeout_ms)
    if agent is None:
        return RecordDigests(digest)
    restart_digest = force_restart = None
    if agent.reload_action is not None and not interval_ms:
        restart = {n: params[n] for n in agent.force_restart if n in params}
        restart_digest = digest_of(restart)
        force_restart = _word_list(agent.force_restart)
    secure_digest = secure_params = None
    if agent.secrets:
        full = {**params, TIMEOUT_META: str(timeout_ms)}
        if interval_ms:
            full[INTERVAL_META] = str(interval_ms)
        secure = {n: v for n, v in filter_for_digest(full).items() if n not in agent.secrets}
        secure_digest = digest_of(secure)
        secure_params = _word_list(agent.secrets)
    return RecordDigests(digest, restart_digest, force_restart, secure_digest, secure_params)


def agent_params_reader(
    describe: Callable[[str, str | None, str], AgentMetadata],
) -> Callable[[str], AgentParams | None]:
    """``agent params of a spec`` over ``describe(standard, provider, type)`` (in the
    daemon the agent classes' describe); an agent whose meta-data cannot be read, or of a
    standard without parameters, gives None: its records carry op-digest only."""
    from hactl.core.errors import HactlError

    def read(spec: str) -> AgentParams | None:
        parts = spec.split(":")
        standard, provider, agent_type = (
            (parts[0], parts[1], parts[2]) if len(parts) == 3 else (parts[0], None, parts[-1])
        )
        if standard not in PARAMETER_STANDARDS:
            return None
        try:
            return AgentParams.from_metadata(describe(standard, provider, agent_type))
        except HactlError:
            return None

    return read


def host_agent_params(host: PluginHost) -> Callable[[str], AgentParams | None]:
    """`agent_params_reader` over the plugins' agents: a resource agent's class describes
    it; a fence device's agent gives its meta-data (the daemon's executor uses this)."""
    from hactl.core.agentmeta import parse_metadata

    def describe(standard: str, provider: str | None, agent_type: str) -> AgentMetadata:
        if standard == "stonith":
            text = host.fence_agent(agent_type).metadata()
            return parse_metadata(text, source=f"fence agent {agent_type}")
        return host.agent_class(standard).describe(agent_type, provider)

    return agent_params_reader(describe)
