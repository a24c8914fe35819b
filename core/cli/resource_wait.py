"""``--wait[=SECONDS]`` of the resource commands that change where resources run (pcs's
option): after the change, wait until the running cluster has settled, and ``resource
restart``, which needs a settled cluster twice.

Settled is what crm_resource --wait checks: the scheduler, run here on the live CIB,
has nothing left to do (no transition in progress: an action dispatched but not yet
recorded is still wanted), so every resource is in the state its configuration asks.
A timeout is one line and exit 1; the change itself stays made.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import time

import typer

from hactl.core.cli import cib_command as cc
from hactl.core.commands import resource as rc
from hactl.core.errors import HactlError, UsageError

#: pcs's default when --wait has no value: 60 minutes
DEFAULT_WAIT_S = 3600.0
POLL_S = 0.25


def take_wait(args: list[str] | None) -> tuple[list[str], float | None]:
    """The words without ``--wait`` / ``--wait=SECONDS``, and the wait (None: no wait)."""
    rest: list[str] = []
    wait: float | None = None
    for word in args or []:
        if word == "--wait":
            wait = DEFAULT_WAIT_S
        elif word.startswith("--wait="):
            text = word.split("=", 1)[1]
            try:
                wait = float(text)
            except ValueError:
                wait = -1.0
            if not wait > 0:
                raise UsageError(
                    f"--wait takes a number of seconds, not {text!r}",
                    where="--wait",
                    hint="--wait (60 minutes) or --wait=SECONDS",
                )
        else:
            rest.append(word)
    if wait is not None and os.environ.get("CIB_file"):
        raise UsageError(
            "--wait needs the running cluster, not a CIB file",
            where="--wait",
            hint="drop -f to act on the running cluster, or drop --wait",
        )
    return rest, wait


def pending_actions(root: object, now: dt.datetime) -> list[str]:
    """What the scheduler would still do on this CIB (resource actions and fencing)."""
    from hactl.core.controller.transition import TransitionGraph
    from hactl.core.scheduler import schedule
    from hactl.core.scheduler.output import graph_xml

    graph = TransitionGraph.from_xml(graph_xml(schedule(copy.deepcopy(root), now)))  # type: ignore[arg-type]
    return [
        f"{s.action.operation_key} on {s.action.node}"
        for s in graph.synapses
        if not s.action.is_pseudo
    ]


def wait_settled(timeout_s: float, what: str) -> None:
    """Poll the live CIB until nothing is pending; HactlError (exit 1) at the timeout."""
    from hactl.core.daemon.client import LiveCibHandle

    deadline = time.monotonic() + timeout_s
    while True:
        root = LiveCibHandle().get().root
        pending = pending_actions(root, dt.datetime.now(dt.UTC))
        if not pending:
            return
        if time.monotonic() >= deadline:
            shown = ", ".join(pending[:3]) + (
                f" and {len(pending) - 3} more" if len(pending) > 3 else ""
            )
            raise HactlError(
                f"the cluster did not settle within {timeout_s:g}s after {what}: "
                f"still to do: {shown}",
                where="--wait",
                hint="the change was made; `hactl status` shows what runs where",
            )
        time.sleep(POLL_S)


def report(names: list[str]) -> None:
    """Where each named resource runs now, as pcs says it after --wait."""
    from hactl.core.daemon.client import LiveCibHandle
    from hactl.core.scheduler.unpack import unpack

    ws = unpack(copy.deepcopy(LiveCibHandle().get().root), dt.datetime.now(dt.UTC))
    for name in names:
        nodes = sorted(
            {
                node.name
                for rsc in ws.all_resources()
                if rsc.is_primitive and rsc.id.split(":")[0] == name
                for node in rsc.running_on
            }
        )
        if not nodes:
            print(f"Resource '{name}' is not running on any node")
        else:
            where = ", ".join(f"'{n}'" for n in nodes)
            print(f"Resource '{name}' is running on node{'s' if len(nodes) > 1 else ''} {where}")


def after_change(wait: float | None, names: list[str], what: str) -> None:
    if wait is None:
        return
    wait_settled(wait, what)
    report(names)


def register(app: typer.Typer) -> None:
    @app.command("restart", context_settings=cc.PCS_ARGS)
    def restart(
        args: list[str] = typer.Argument(None, metavar="RESOURCE [--wait[=SECONDS]]"),
    ) -> None:
        """Stop a resource and start it again (target-role Stopped, settled, then removed),
        in the running cluster; --wait also waits for the start.

        Example: hactl resource restart web --wait=60
        """
        words, wait = take_wait(args)
        words = cc.words(words)
        cc.need(words, 1, "hactl resource restart RESOURCE [--wait[=SECONDS]]")
        if os.environ.get("CIB_file"):
            raise UsageError(
                "restart needs the running cluster, not a CIB file",
                where="resource restart",
                hint="drop -f",
            )
        name = words[0]
        cc.edit(lambda root, notes: rc.enable(root, [name], enabled=False))
        try:
            wait_settled(wait or DEFAULT_WAIT_S, f"stopping {name}")
        finally:
            cc.edit(lambda root, notes: rc.enable(root, [name], enabled=True))
        print(f"{name} restarted")
        after_change(wait, [name], f"starting {name}")
