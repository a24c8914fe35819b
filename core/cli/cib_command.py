"""What every CIB-editing command of the CLI shares: pcs-style free arguments, --force,
running a use case on the current CIB handle, printing warnings, agent meta-data lookup."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import typer

from hactl.core.agentmeta import AgentMetadata, AgentSpec, parse_metadata
from hactl.core.commands import session
from hactl.core.commands.cibtools import Element
from hactl.core.commands.grammar import did_you_mean
from hactl.core.errors import HactlError, UsageError

T = TypeVar("T")

#: pcs's grammar: free words (op, meta, NAME=VALUE, negative scores) reach the command as is
PCS_ARGS: dict[str, Any] = {"allow_extra_args": True, "ignore_unknown_options": True}
FORCE = typer.Option(False, "--force", help="Do it even though a check says no (pcs's --force).")


def words(args: Sequence[str] | None, *, known_options: Sequence[str] = ()) -> list[str]:
    """The free words of a command; a leftover ``--option`` is a typo of a known one."""
    result = list(args or [])
    for word in result:
        if word.startswith("--") and len(word) > 2:
            raise UsageError(
                f"unknown option {word!r}",
                hint=did_you_mean(word, [*known_options, "--force", "--output"]),
            )
    return result


def need(args: Sequence[str], count: int, usage: str) -> None:
    if len(args) < count:
        raise UsageError("missing arguments", hint=f"usage: {usage}")


def edit(use_case: Callable[[Element, session.Notes], T]) -> T:
    notes = session.Notes()
    try:
        return session.edit(session.current_handle(), lambda root: use_case(root, notes))
    finally:
        warn(notes)


def read(use_case: Callable[[Element], T]) -> T:
    return session.read(session.current_handle(), use_case)


def warn(notes: session.Notes) -> None:
    for message in notes.warnings:
        print(f"hactl: warning: {message}", file=sys.stderr)


def resolve_agent(text: str, *, force: bool = False) -> AgentSpec:
    """STANDARD[:PROVIDER]:TYPE, or a bare TYPE when exactly one installed agent has it
    (pcs accepts `Filesystem` for ocf:heartbeat:Filesystem). With --force, an agent name
    Pacemaker accepts but hactl would refuse (an LSB script's path) is kept as written."""
    if ":" in text:
        try:
            return AgentSpec.parse(text, where="agent")
        except UsageError:
            parts = text.split(":")
            if not force or len(parts) not in (2, 3) or not all(parts):
                raise
            provider = parts[1] if len(parts) == 3 else None
            return AgentSpec(standard=parts[0], provider=provider, type=parts[-1])
    from hactl.core.plugins import PluginHost

    matches = [a for a in PluginHost().list_agents() if a.split(":")[-1] == text]
    if len(matches) == 1:
        return AgentSpec.parse(matches[0], where="agent")
    if len(matches) > 1:
        raise HactlError(
            f"agent name {text!r} is ambiguous: {', '.join(matches)}",
            where="agent",
            hint="write the full STANDARD:PROVIDER:TYPE",
        )
    raise HactlError(
        f"no installed agent is called {text!r}",
        where="agent",
        hint="write STANDARD:PROVIDER:TYPE (e.g. ocf:heartbeat:IPaddr2), "
        "with --force if it is not installed here",
    )


def agent_metadata(spec: AgentSpec, *, force: bool, notes: session.Notes) -> AgentMetadata | None:
    """The agent's meta-data from its agent-class (or fencing) plugin. An agent that is not
    installed here stops the command unless --force, which proceeds unchecked."""
    from hactl.core.commands.fencing import without_fencer_parameters
    from hactl.core.plugins import PluginHost

    try:
        if spec.standard == "stonith":
            xml = PluginHost().fence_agent(spec.type).metadata()
            return without_fencer_parameters(parse_metadata(xml, source=f"agent {spec}"))
        return PluginHost().agent_class(spec.standard).describe(spec.type, spec.provider)
    except HactlError as exc:
        if force:
            notes.warn(
                f"agent {spec} cannot be checked ({exc.message}); going on unchecked (--force)"
            )
            return None
        raise HactlError(
            f"agent {spec} is not available here: {exc.message}",
            where="agent",
            hint="check the name (`hactl resource agents`), or use --force to configure it anyway",
        ) from None
