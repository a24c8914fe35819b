"""`hactl agent check PATH`: what ocf-tester checks, for people who write agents.

The agent runs through the ocf agent class exactly as the cluster would run it, in this
order: meta-data, validate-all, monitor (stopped), start, monitor, start again, promote /
monitor / demote / monitor when it is promotable, then whichever of reload-agent, reload,
notify and migrate_to + migrate_from it advertises (and a monitor after them), stop,
monitor, stop again, and an unknown action. Each check gets a verdict (PASS, FAIL, WARN,
SKIP) and a reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import typer

from hactl.core.agentmeta import CHECKED_TYPES, AgentMetadata, AgentSpec
from hactl.core.cli.render import OutputFormat, print_json, print_table
from hactl.core.drivers import (
    AgentClass,
    OcfRc,
    OperationRequest,
    OperationResult,
    notification_meta,
)
from hactl.core.errors import HactlError, UsageError
from hactl.core.plugins import PluginHost

app = typer.Typer(no_args_is_help=True, help="Check resource agents.")

CHECK_RESOURCE = "hactl-agent-check"
CHECK_TIMEOUT_MS = 30_000


@dataclass
class Verdict:
    check: str
    verdict: str  # PASS, FAIL, WARN, SKIP
    detail: str = ""


class AgentChecker:
    """Runs the checks against one agent of one class and collects the verdicts."""

    def __init__(self, agent_class: AgentClass, spec: AgentSpec, params: Mapping[str, str]):
        self.agent_class = agent_class
        self.spec = spec
        self.params = dict(params)
        self.verdicts: list[Verdict] = []

    def record(self, check: str, verdict: str, detail: str = "") -> bool:
        self.verdicts.append(Verdict(check, verdict, detail))
        return verdict != "FAIL"

    def run_action(
        self, action: str, timeout_ms: int, meta: Mapping[str, str] | None = None
    ) -> OperationResult:
        request = OperationRequest(
            resource=CHECK_RESOURCE,
            agent=str(self.spec),
            action=action,
            params=self.params,
            meta=meta or {},
            timeout_ms=timeout_ms,
        )
        return asyncio.run(self.agent_class.execute(request))

    def expect(
        self,
        check: str,
        action: str,
        expected: int,
        meta: AgentMetadata | None,
        request_meta: Mapping[str, str] | None = None,
    ) -> bool:
        advertised = meta.action(action) if meta else None
        timeout = advertised.timeout_ms if advertised and advertised.timeout_ms else None
        result = self.run_action(action, timeout or CHECK_TIMEOUT_MS, request_meta)
        if result.rc == expected and result.status == "done":
            return self.record(check, "PASS", f"returned {result.rc} in {result.duration_ms} ms")
        why = f"expected {expected} ({OcfRc(expected).name}), got {result.rc}"
        if result.rc in OcfRc.__members__.values():
            why += f" ({OcfRc(result.rc).name})"
        if result.status != "done":
            why += f", {result.status}"
        if result.exit_reason:
            why += f": {result.exit_reason}"
        elif result.stderr_tail.strip():
            why += ": " + result.stderr_tail.strip().splitlines()[-1]
        return self.record(check, "FAIL", why)

    def run(self) -> list[Verdict]:
        meta = self.check_metadata()
        if meta is None:
            for name in ("validate-all", "lifecycle"):
                self.record(name, "SKIP", "no usable meta-data")
            return self.verdicts
        if meta.has_action("validate-all"):
            self.expect("validate-all", "validate-all", OcfRc.SUCCESS, meta)
        else:
            self.record("validate-all", "WARN", "validate-all is not advertised")
        if not self.expect("monitor when stopped", "monitor", OcfRc.NOT_RUNNING, meta):
            self.record("lifecycle", "SKIP", "the resource is not stopped to begin with")
            return self.verdicts
        if self.expect("start", "start", OcfRc.SUCCESS, meta):
            self.expect("monitor when started", "monitor", OcfRc.SUCCESS, meta)
            self.expect("start when started (idempotent)", "start", OcfRc.SUCCESS, meta)
            if meta.promotable:
                if self.expect("promote", "promote", OcfRc.SUCCESS, meta):
                    self.expect("monitor when promoted", "monitor", OcfRc.RUNNING_PROMOTED, meta)
                    self.expect("demote", "demote", OcfRc.SUCCESS, meta)
                    self.expect("monitor when demoted", "monitor", OcfRc.SUCCESS, meta)
            self.check_optional_actions(meta)
        self.expect("stop", "stop", OcfRc.SUCCESS, meta)
        self.expect("monitor when stopped again", "monitor", OcfRc.NOT_RUNNING, meta)
        self.expect("stop when stopped (idempotent)", "stop", OcfRc.SUCCESS, meta)
        self.expect("unknown action", "hactl-no-such-action", OcfRc.ERR_UNIMPLEMENTED, None)
        return self.verdicts

    def check_optional_actions(self, meta: AgentMetadata) -> None:
        """The actions an agent may advertise, run while it is started: each must succeed
        and leave it running."""
        node = socket.gethostname()
        for reload in ("reload-agent", "reload"):
            if meta.has_action(reload):
                self.expect(reload, reload, OcfRc.SUCCESS, meta)
        if meta.has_action("notify"):
            notification = notification_meta(
                "pre", "start", {"start": [(CHECK_RESOURCE, node)]}, all_nodes=[node]
            )
            self.expect("notify", "notify", OcfRc.SUCCESS, meta, notification)
        if meta.has_action("migrate_to") and meta.has_action("migrate_from"):
            # to and from this same node: the resource must end up running here
            migration = {"migrate_source": node, "migrate_target": node}
            self.expect("migrate_to", "migrate_to", OcfRc.SUCCESS, meta, migration)
            self.expect("migrate_from", "migrate_from", OcfRc.SUCCESS, meta, migration)
        if any(meta.has_action(a) for a in ("reload-agent", "reload", "notify", "migrate_to")):
            self.expect("monitor after those", "monitor", OcfRc.SUCCESS, meta)

    def check_metadata(self) -> AgentMetadata | None:
        try:
            meta = self.agent_class.describe(self.spec.type, self.spec.provider)
        except HactlError as exc:
            self.record("meta-data", "FAIL", "; ".join(exc.lines()))
            return None
        self.record("meta-data", "PASS", f"{len(meta.parameters)} parameters, valid XML")
        missing = [a for a in ("start", "stop", "monitor") if not meta.has_action(a)]
        if missing:
            self.record("mandatory actions advertised", "FAIL", "missing: " + ", ".join(missing))
        else:
            self.record("mandatory actions advertised", "PASS", "start, stop, monitor")
        problems = meta.check_params(self.params)
        if problems:
            self.record("parameters", "FAIL", "; ".join(str(p) for p in problems))
        else:
            self.record("parameters", "PASS", f"{len(self.params)} given")
        for param in meta.parameters:
            if param.default is not None and param.type in CHECKED_TYPES:
                reason = param.value_problem(param.default)
                if reason:
                    self.record("parameter defaults", "WARN", f"{param.name}: default {reason}")
        return meta


def _parse_options(options: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for option in options:
        name, sep, value = option.partition("=")
        if not sep or not name:
            raise UsageError(f"-o {option!r} is not NAME=VALUE", hint="e.g. -o ip=192.0.2.10")
        params[name] = value
    return params


def _private_agent_tree(path: Path, provider: str | None, scratch: Path) -> AgentSpec:
    """A resource.d in ``scratch`` holding only the agent at ``path`` (linked), so that the
    agent is run by that path and no other agent of the same name is."""
    if not path.exists():
        raise UsageError(f"{path}: no such file", hint="give the agent's path")
    path = path.absolute()
    spec = AgentSpec.parse(f"ocf:{provider or path.parent.name}:{path.name}", where=str(path))
    link = scratch / str(spec.provider) / spec.type
    link.parent.mkdir()
    link.symlink_to(path)
    return spec


@contextlib.contextmanager
def _searched_first(directory: str) -> Iterator[None]:
    """HACTL_OCF_RA_PATH with ``directory`` first, for the duration of the block."""
    previous = os.environ.get("HACTL_OCF_RA_PATH")
    os.environ["HACTL_OCF_RA_PATH"] = directory + (f":{previous}" if previous else "")
    try:
        yield
    finally:
        if previous is None:
            del os.environ["HACTL_OCF_RA_PATH"]
        else:
            os.environ["HACTL_OCF_RA_PATH"] = previous


@app.command("check")
def check(
    agent: str = typer.Argument(..., help="Path of an OCF agent, or ocf:PROVIDER:TYPE."),
    option: list[str] = typer.Option([], "-o", help="A parameter NAME=VALUE (repeatable)."),
    provider: str = typer.Option(
        None, "--provider", help="Provider to run a path as (default: its directory's name)."
    ),
    # only the long form: -o means a parameter here, as in ocf-tester
    output: OutputFormat = typer.Option(
        OutputFormat.text, "--output", help="Output format: text or json."
    ),
) -> None:
    """Run an agent through its lifecycle and say, check by check, what is wrong.

    Exits 1 when any check fails. Example:
    hactl agent check /usr/lib/ocf/resource.d/heartbeat/Dummy -o state=/tmp/d.state
    """
    params = _parse_options(option)
    with tempfile.TemporaryDirectory(prefix="hactl-agent-check-") as scratch:
        if ":" in agent and not os.path.exists(agent):
            spec = AgentSpec.parse(agent, where="agent")
            verdicts = AgentChecker(PluginHost().agent_class(spec.standard), spec, params).run()
        else:
            spec = _private_agent_tree(Path(agent), provider, Path(scratch))
            with _searched_first(scratch):
                ocf = PluginHost().agent_class("ocf")
                verdicts = AgentChecker(ocf, spec, params).run()
    failed = sum(v.verdict == "FAIL" for v in verdicts)
    if output is OutputFormat.json:
        print_json({"agent": str(spec), "failed": failed, "checks": [asdict(v) for v in verdicts]})
    else:
        print(f"Checking {spec} ({agent})")
        print_table([asdict(v) for v in verdicts], ["check", "verdict", "detail"])
        print(
            f"{len(verdicts) - failed} of {len(verdicts)} checks passed"
            if not failed
            else f"{failed} of {len(verdicts)} checks FAILED"
        )
    if failed:
        raise typer.Exit(1)
