"""`hactl stonith fence|confirm|history` and `stonith level verify`: fencing a node from
this one with the fence devices of the CIB, confirming a node down by hand, the fencing
history, and checking the fencing topology (pcs's grammar; history lines as
stonith_admin --history prints them).

Where a cluster runs (a daemon answers here and no ``-f FILE`` is given), the history is
the cluster's: the status section of the CIB, which the DC writes and every node holds.
`fence` and `confirm` tell their outcome to the DC's controller (API ``fence.record``),
as Pacemaker's fencer notifies its controller: it records it, and after a success the
node counts as fenced (it leaves the cluster if it still runs) and its resources are
recovered; `history` shows the cluster's merged with what this node's own file holds
from before (``--cleanup`` clears both). Without a cluster they work on this node's file
(``<state dir>/fencing-history``) alone."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, TypeVar

import typer

from hactl.core.attrd.tools import local_node
from hactl.core.cib.document import CibDocument
from hactl.core.cib.model import Cib, build_model, merged
from hactl.core.cli import cib_command as cc
from hactl.core.cli.render import OUTPUT_OPTION, OutputFormat, print_json
from hactl.core.commands import cibtools as ct
from hactl.core.commands import fencing, session
from hactl.core.commands.cibtools import Element
from hactl.core.commands.grammar import did_you_mean
from hactl.core.commands.nodes import node_names
from hactl.core.errors import HactlError, NotFoundError, Problem, UsageError, ValidationError
from hactl.core.fencer import cib_history
from hactl.core.fencer.device_runner import failed_devices
from hactl.core.fencer.fencer import FenceHistoryEntry, Fencer, FenceRequest
from hactl.core.fencer.history import (
    MANUAL,
    FenceHistory,
    HistoryRecord,
    newest_first,
    one_line,
)
from hactl.core.fencer.topology import devices_of
from hactl.core.plugins import PluginHost

CONFIRM_ANSWERS = ("yes", "y")
HISTORY_VERBS = ("show", "cleanup")  # pcs's `stonith history show|cleanup [NODE]`


def _client() -> str:
    """Who asked, as the fencer's history names a client (stonith_admin.<pid>)."""
    return f"hactl.{os.getpid()}"


def _check_node(cib: Cib, target: str, where: str) -> None:
    """An unknown node is refused when the CIB lists its nodes (pcs checks the cluster's)."""
    names = [n.uname for n in cib.configuration.nodes]
    if names and target not in names:
        raise NotFoundError(
            f"node {target!r} is not in the cluster",
            where=where,
            hint=did_you_mean(target, names),
        )


def _fence(doc: CibDocument, target: str, action: str, me: str) -> FenceHistoryEntry:
    """Run the fencer here (on node ``me``) with the CIB's devices, levels and node
    attributes; devices its status section shows failed are not used."""
    cib = build_model(doc)
    if not devices_of(cib):
        raise HactlError(
            "no fence devices are configured",
            where=f"stonith fence {target}",
            hint="create one: hactl stonith create NAME AGENT pcmk_host_list=NODE …",
        )
    attributes = {
        node.uname: {k: v or "" for k, v in merged(node.instance_attributes).items()}
        for node in cib.configuration.nodes
    }
    fencer = Fencer(
        me,
        cib,
        PluginHost().fence_agent,
        node_attributes=attributes,
        failed=failed_devices(doc.root),
    )
    # The command reports the outcome itself; the fencer's log lines are for the daemon's log.
    quiet = logging.NullHandler()
    logger = logging.getLogger("hactl")
    logger.addHandler(quiet)
    try:
        return asyncio.run(fencer.fence(FenceRequest(target, action, origin=me)))
    finally:
        logger.removeHandler(quiet)


def _running_cluster() -> dict[str, Any] | None:
    """The local daemon's status when a cluster runs here and no -f FILE is given; None
    when the command is to work on this node's own history alone."""
    if os.environ.get("CIB_file"):
        return None
    from hactl.core.daemon import client

    try:
        status: dict[str, Any] = client.call("status")
    except client.DaemonUnreachable:
        return None
    return None if status.get("running") is False else status


T = TypeVar("T")


def _edit_cluster_status(edit: Callable[[Element], T]) -> T:
    """Apply ``edit(root)`` to the running cluster's status section through the DC (as a
    patch of what changed); what ``edit`` returned."""
    from hactl.core.daemon.client import LiveCibHandle

    handle = LiveCibHandle()
    before = handle.get()
    after = before.copy()
    result = edit(after.root)
    handle.push_status(before, after)
    return result


def _confirm_in_cluster(status: dict[str, Any], entry: FenceHistoryEntry) -> None:
    """Record ``entry`` (a manual confirmation) in the running cluster: the DC's controller
    finds the node fenced and recovers what it ran."""
    node = entry.target
    names = {str(n) for n in status["nodes"].values()}
    members = {status["nodes"].get(str(m)) for m in status["members"]}
    where = f"stonith confirm {node}"
    if node not in names:
        raise NotFoundError(
            f"node {node!r} is not in the cluster", where=where, hint=did_you_mean(node, names)
        )
    if node in members:
        raise HactlError(
            f"{node} is a member of the cluster right now, not down",
            where=where,
            hint="confirm only a node you checked is powered off; "
            f"`hactl stonith fence {node}` fences a running one",
        )
    _record(status, entry)


def _record(status: dict[str, Any] | None, entry: FenceHistoryEntry) -> None:
    """Keep a request's outcome: told to the running cluster's DC (which records it and
    acts on a success), else in this node's file."""
    if not status:
        FenceHistory().append(entry, _client())
        return
    from hactl.core.daemon import client

    client.call("fence.record", entry=asdict(entry), client=_client())


def _merged(records: list[HistoryRecord]) -> list[HistoryRecord]:
    """One record per request: the cluster's copy and a node's file may hold the same."""
    seen: set[tuple[object, ...]] = set()
    merged = []
    for record in records:
        e = record.entry
        key = (e.target, e.action, e.state, e.executioner, round(e.completed or 0.0, 3))
        if key not in seen:
            seen.add(key)
            merged.append(record)
    return newest_first(merged)


def register(app: typer.Typer) -> None:
    level_app = next(
        g.typer_instance
        for g in app.registered_groups
        if g.name == "level" and g.typer_instance is not None
    )  # stonith_config's `stonith level` group, registered before this

    @app.command("fence")
    def fence(
        node: str = typer.Argument(..., help="The node to fence."),
        off: bool = typer.Option(False, "--off", help="Power it off instead of rebooting it."),
    ) -> None:
        """Fence a node now, from this node, with the fence devices of the CIB (level after
        level when a fencing topology is configured); the outcome joins the fencing
        history. Exit 1 with the reason when every device failed.

        Example: hactl stonith fence node2 --off
        """
        status = _running_cluster()
        if not status:
            FenceHistory().check_writable()  # before powering anything off
        doc = session.current_handle().get()
        cib = build_model(doc)
        where = f"stonith fence {node}"
        _check_node(cib, node, where)
        me = status["node"]["name"] if status else local_node()
        entry = _fence(doc, node, "off" if off else "reboot", me)
        _record(status, entry)
        if not entry.succeeded:
            raise HactlError(
                f"unable to fence {node}: {one_line(entry.reason)}",
                where=where,
                hint="check the devices with `hactl stonith test`; the history keeps the outcome",
            )
        print(f"Node: {node} fenced (by {', '.join(entry.devices)})")

    @app.command("confirm")
    def confirm(
        node: str = typer.Argument(..., help="The node an administrator checked is down."),
        force: bool = typer.Option(
            False, "--force", "--yes", help="Do not ask (you checked the node is off)."
        ),
    ) -> None:
        """Confirm that NODE is down without fencing it (you powered it off, or checked it
        is): in a running cluster the DC then counts it as fenced and recovers its resources
        elsewhere (a node that is a member right now is refused). Recorded as a successful
        "off" by "manual" in the fencing history. Asks for 'yes' on stdin
        unless --force.

        Example: hactl stonith confirm node2 --force
        """
        status = _running_cluster()
        if not status:
            FenceHistory().check_writable()
        if not force:
            print(
                f"WARNING: If node {node} is not powered off or it does have access to shared "
                "resources, data corruption and/or cluster failure may occur. "
                "Type 'yes' to continue: ",
                end="",
                flush=True,
            )
            answer = sys.stdin.readline().strip().lower()
            if answer not in CONFIRM_ANSWERS:
                print()
                raise HactlError(
                    f"{node} was not confirmed fenced",
                    where="stonith confirm",
                    hint="type yes, or pass --force once you are sure the node is off",
                )
        me = status["node"]["name"] if status else local_node()
        entry = FenceHistoryEntry(node, "off", me, MANUAL, state="success", completed=time.time())
        if status:
            _confirm_in_cluster(status, entry)
        else:
            FenceHistory().append(entry, _client())
        scope = "" if status else " (in this node's history: no cluster runs here)"
        print(f"Node: {node} confirmed fenced{scope}")

    @app.command("history")
    def show_history(
        args: list[str] = typer.Argument(
            None, metavar="[show|cleanup] [NODE]", help="pcs's verbs; NODE: only its requests."
        ),
        cleanup: bool = typer.Option(
            False, "--cleanup", help="Forget the history (of NODE only, when given)."
        ),
        output: OutputFormat = OUTPUT_OPTION,
    ) -> None:
        """Show the fencing requests, latest first: the running cluster's (what the DC
        fenced, what was confirmed) and this node's own; --cleanup (or pcs's
        `history cleanup [NODE]`) forgets them.

        Example: hactl stonith history node2 -o json
        """
        words = list(args or [])
        if words and words[0] in HISTORY_VERBS:
            cleanup = cleanup or words.pop(0) == "cleanup"
        if len(words) > 1:
            raise UsageError(
                f"one node at most, not {' '.join(words)}",
                where="stonith history",
                hint="hactl stonith history [show|cleanup] [NODE]",
            )
        node = words[0] if words else None
        history = FenceHistory()
        status = _running_cluster()
        if cleanup:
            dropped = history.cleanup(node)
            if status:
                dropped += _edit_cluster_status(lambda root: cib_history.cleanup(root, node))
            if output is OutputFormat.json:
                print_json({"removed": dropped})
            else:
                scope = f" of {node}" if node else ""
                noun = "entry" if dropped == 1 else "entries"
                print(f"cleaning up fencing-history{scope}: {dropped} {noun} removed")
            return
        records = history.records(node)
        if status:
            cib = CibDocument.from_bytes(status["cib"].encode(), source="the cluster's CIB")
            records += cib_history.records(cib.root, node)
        records = _merged(records)
        if output is OutputFormat.json:
            print_json([r.as_dict() for r in records])
            return
        if not records:
            print("No fencing history" + (f" for {node}" if node else ""))
        for record in records:
            print(record.line())

    @level_app.command("verify")
    def level_verify() -> None:
        """Check the fencing topology: every level's devices exist in the CIB and every
        level's target node exists. One line per problem, exit 1 when there is any.

        Example: hactl -f cib.xml stonith level verify
        """
        problems = cc.read(topology_problems)
        if problems:
            raise ValidationError(problems, subject="fencing topology")
        print("fencing topology is valid")


def topology_problems(root: Element) -> list[Problem]:
    """What pcs's `stonith level verify` reports: unknown devices, unknown target nodes."""
    stonith_ids = [str(e.get("id")) for e in ct.all_resources(root) if ct.is_stonith(e)]
    nodes = node_names(root)
    problems = []
    for level in fencing.levels(root):
        where = f"fencing level {level.get('id')}"
        for device in str(level.get("devices", "")).split(","):
            if device and device not in stonith_ids:
                problems.append(
                    Problem(
                        f"fence device {device!r} does not exist",
                        where=where,
                        hint=did_you_mean(device, stonith_ids)
                        if stonith_ids
                        else "create it with `hactl stonith create`",
                    )
                )
        target = level.get("target")
        if target is not None and target not in nodes:
            problems.append(
                Problem(
                    f"node {target!r} does not exist",
                    where=where,
                    hint=did_you_mean(target, nodes) if nodes else "the CIB lists no nodes",
                )
            )
    return problems
