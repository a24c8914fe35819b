"""The agent-related `hactl resource` commands: standards, providers, agents, describe,
and debug-start/stop/monitor/promote/demote (run a configured resource's agent here)."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

import typer

from hactl.core.agentmeta import AgentMetadata, AgentSpec
from hactl.core.cib.document import CibDocument
from hactl.core.cib.model import Primitive, build_model
from hactl.core.cib.schema import parse_duration_ms
from hactl.core.cli.render import OUTPUT_OPTION, OutputFormat, print_json
from hactl.core.commands.session import current_handle
from hactl.core.drivers import OperationRequest, OperationResult
from hactl.core.errors import NotFoundError, UsageError
from hactl.core.plugins import PluginHost

#: parameter names whose values are never shown (pcs masks the same kinds of names)
SECRET_NAME = re.compile(r"pass|secret|key|token|credential", re.IGNORECASE)
MASK = "********"
DEBUG_ACTIONS = ("start", "stop", "monitor", "promote", "demote")
DEFAULT_TIMEOUT_MS = 20_000  # Pacemaker's default operation timeout


def resolve_agent(host: PluginHost, name: str) -> AgentSpec:
    """A full spec from what the user wrote; a bare type (``IPaddr2``) is looked up among
    every installed agent, as pcs does, and must be unambiguous."""
    if ":" in name:
        return AgentSpec.parse(name, where="agent")
    matches = [spec for spec in host.list_agents() if spec.rsplit(":", 1)[-1] == name]
    if not matches:
        raise NotFoundError(
            f"no agent named {name!r} is installed", hint="see `hactl resource agents`"
        )
    if len(matches) > 1:
        raise UsageError(f"{name!r} is ambiguous: {', '.join(matches)}", hint="write the full name")
    return AgentSpec.parse(matches[0])


def describe_agent(host: PluginHost, spec: AgentSpec) -> AgentMetadata:
    return host.agent_class(spec.standard).describe(spec.type, spec.provider)


def _print_description(spec: AgentSpec, meta: AgentMetadata, full: bool) -> None:
    print(f"{spec} - {meta.shortdesc}" if meta.shortdesc else str(spec))
    if meta.longdesc:
        print()
        print(meta.longdesc)
    print()
    print("Resource options:")
    shown = [p for p in meta.parameters if full or not (p.advanced or p.deprecated)]
    if not shown:
        print("  (none)")
    for param in shown:
        flags = [
            flag
            for flag, on in (
                ("required", param.required),
                (f"unique group: {param.unique_group}", param.unique_group is not None),
                ("reloadable", param.reloadable),
                ("deprecated", param.deprecated),
                ("advanced", param.advanced),
            )
            if on
        ]
        kind = param.type + (f" ({'|'.join(param.options)})" if param.options else "")
        default = f", default {param.default!r}" if param.default not in (None, "") else ""
        print(f"  {param.name} [{kind}{default}]" + "".join(f" ({f})" for f in flags))
        text = param.longdesc if full else (param.shortdesc or param.longdesc)
        if text:
            print(f"    {text}")
    hidden = len(meta.parameters) - len(shown)
    if hidden:
        print(f"  ({hidden} advanced or deprecated options not shown; use --full)")
    print()
    print("Default operations:")
    for action in meta.actions:
        parts = [f"timeout={action.timeout_ms // 1000}s"] if action.timeout_ms is not None else []
        if action.interval_ms:
            parts.append(f"interval={action.interval_ms // 1000}s")
        if action.role:
            parts.append(f"role={action.role}")
        if action.depth:
            parts.append(f"depth={action.depth}")
        print(f"  {action.name}: {' '.join(parts)}".rstrip())


# ------------------------------------------------------------------------------ debug-*


@dataclass(frozen=True)
class ConfiguredResource:
    """What the CIB says about one primitive: its agent, parameters, meta attributes and
    the timeouts of its one-shot (interval 0) operations."""

    spec: AgentSpec
    params: dict[str, str]
    meta: dict[str, str]
    timeouts_ms: dict[str, int]


def read_primitive(doc: CibDocument, resource: str) -> ConfiguredResource:
    """Primitive ``resource`` of the CIB (its attribute sets without rules merged by score,
    as the cluster reads them)."""
    model = build_model(doc)
    found = model.resource(resource)
    if not isinstance(found, Primitive):
        problem = (
            f"{resource!r} is a {type(found).__name__.lower()}, not a primitive"
            if found is not None
            else f"no resource {resource!r} in the CIB"
        )
        primitives = ", ".join(p.id for p in model.configuration.primitives()) or "none"
        raise NotFoundError(problem, hint=f"primitives: {primitives}")
    element = doc.find_by_id(resource)
    where = doc.where(element) if element is not None else resource
    if not found.standard or not found.type:
        raise UsageError(f"primitive {resource!r} has no class or type", where=where)
    if found.standard == "stonith":
        raise UsageError(
            f"{resource!r} is a fence device, not a resource",
            where=where,
            hint="use `hactl stonith` for fence devices",
        )
    timeouts = {
        op.name: timeout_ms
        for op in found.operations
        if op.interval_ms == 0
        and op.timeout is not None
        and (timeout_ms := parse_duration_ms(op.timeout)) is not None
    }
    return ConfiguredResource(
        spec=AgentSpec.parse(found.agent, where=where),
        params={k: v for k, v in found.params.items() if v is not None},
        meta={k: v for k, v in found.meta.items() if v is not None},
        timeouts_ms=timeouts,
    )


def masked(name: str, value: str) -> str:
    """``value``, or the mask when ``name`` (a parameter, or its OCF variable) looks secret."""
    bare = name.removeprefix("OCF_RESKEY_CRM_meta_").removeprefix("OCF_RESKEY_")
    return MASK if SECRET_NAME.search(bare) else value


def _debug(resource: str, action: str, full: bool, output: OutputFormat) -> None:
    configured = read_primitive(current_handle().get(), resource)
    spec, params, meta = configured.spec, configured.params, configured.meta
    agent_class = PluginHost().agent_class(spec.standard)
    timeout_ms = configured.timeouts_ms.get(action, DEFAULT_TIMEOUT_MS)
    request = OperationRequest(
        resource=resource,
        agent=str(spec),
        action=action,
        params=params,
        meta=meta,
        timeout_ms=timeout_ms,
    )
    result: OperationResult = asyncio.run(agent_class.execute(request))
    environment = {name: masked(name, value) for name, value in {**params}.items()}
    if output is OutputFormat.json:
        print_json(
            {
                "resource": resource,
                "agent": str(spec),
                "action": action,
                "parameters": environment,
                "meta": meta,
                "environment": {
                    name: masked(name, value)
                    for name, value in agent_class.agent_environment(request).items()
                },
                "rc": result.rc,
                "status": str(result.status),
                "exit_reason": result.exit_reason,
                "duration_ms": result.duration_ms,
                "stdout": result.stdout_tail,
                "stderr": _masked_output(result.stderr_tail, params),
            }
        )
    else:
        print(f"Operation {action} for {resource} ({spec}) returned: {result.rc} ({result.status})")
        if result.exit_reason:
            print(f"  reason: {result.exit_reason}")
        print(f"  duration: {result.duration_ms} ms")
        if full:
            print("Environment given to the agent:")
            for name, value in sorted(agent_class.agent_environment(request).items()):
                print(f"  {name}={masked(name, value)}")
        if result.stdout_tail.strip():
            print(" >  stdout:", *result.stdout_tail.rstrip().splitlines(), sep="\n >  ")
        stderr = _masked_output(result.stderr_tail, params)
        if stderr.strip() and (full or not result.ok):
            print(" >  stderr:", *stderr.rstrip().splitlines(), sep="\n >  ")
    if not result.ok and not (action == "monitor" and result.rc in (7, 8)):
        raise typer.Exit(1)


def _masked_output(text: str, params: dict[str, str]) -> str:
    """Agent output with the values of secret parameters replaced (agents may echo them)."""
    for name, value in params.items():
        if value and SECRET_NAME.search(name):
            text = text.replace(value, MASK)
    return text


# ------------------------------------------------------------------------------ commands


def _print_names(names: list[str], output: OutputFormat) -> None:
    """One name a line (nothing at all for none), or a JSON list."""
    if output is OutputFormat.json:
        print_json(names)
    elif names:
        print("\n".join(names))


def register(app: typer.Typer) -> None:
    @app.command("standards")
    def standards(output: OutputFormat = OUTPUT_OPTION) -> None:
        """List the resource-agent standards (classes) installed: ocf, lsb, systemd, …"""
        names = PluginHost().names("agents")
        _print_names(names, output)

    @app.command("providers")
    def providers(output: OutputFormat = OUTPUT_OPTION) -> None:
        """List the OCF providers installed (heartbeat, pacemaker, hactl, …)."""
        names = PluginHost().agent_class("ocf").providers()
        _print_names(names, output)

    @app.command("agents")
    def agents(
        standard: str = typer.Argument(None, help="STANDARD or STANDARD:PROVIDER."),
        output: OutputFormat = OUTPUT_OPTION,
    ) -> None:
        """List agents, all or of one standard (and provider).

        Example: hactl resource agents ocf:heartbeat
        """
        host = PluginHost()
        if standard is None:
            specs = host.list_agents()
        else:
            name, _, provider = standard.partition(":")
            found = host.agent_class(name).agents(provider or None)
            if provider:
                specs = [f"{name}:{provider}:{agent}" for agent in found]
            else:
                specs = [f"{name}:{agent}" for agent in found]
        _print_names(specs, output)

    @app.command("describe")
    def describe(
        agent: str = typer.Argument(..., help="ocf:heartbeat:IPaddr2, lsb:atd, or a bare type."),
        full: bool = typer.Option(False, "--full", help="Show advanced options and long texts."),
        output: OutputFormat = OUTPUT_OPTION,
    ) -> None:
        """Show an agent's parameters and default operations, from its meta-data.

        Example: hactl resource describe ocf:heartbeat:IPaddr2 --output json
        """
        host = PluginHost()
        spec = resolve_agent(host, agent)
        meta = describe_agent(host, spec)
        if output is OutputFormat.json:
            print_json({"agent": str(spec), **meta.model_dump()})
        else:
            _print_description(spec, meta, full)

    def make_debug(action: str) -> None:
        @app.command(
            f"debug-{action}",
            help=f"Run the {action} action of a resource's agent here, with the resource's "
            "configured parameters, showing the result and the agent's output (secrets "
            "masked). The cluster is not told.\n\nExample: "
            f"hactl -f cib.xml resource debug-{action} web --full",
        )
        def debug(
            resource: str = typer.Argument(..., help="The resource's id."),
            full: bool = typer.Option(False, "--full", help="Show parameters and stderr too."),
            output: OutputFormat = OUTPUT_OPTION,
        ) -> None:
            _debug(resource, action, full, output)

    for action in DEBUG_ACTIONS:
        make_debug(action)
