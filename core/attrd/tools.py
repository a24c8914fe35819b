"""``crm_attribute`` and ``attrd_updater`` for agents and admins, as Pacemaker's tools
take them, working on the CIB the command line works on (``CIB_file`` offline, else the
running cluster).

    python -m hactl.core.attrd.tools crm_attribute --promotion -v 10
    python -m hactl.core.attrd.tools attrd_updater -n pingd -U 1000 -d 5s

The local node is ``-N NODE``, else the node the executor runs the agent on
(``OCF_RESKEY_CRM_meta_on_node``), else ``HACTL_NODE_NAME``, else the host name.
In a running cluster attrd_updater's updates go to the local daemon's attribute manager
(hactl.core.attrd.manager), which honours dampening (``-d``: changes within the delay
collapse into one write); on a CIB file values are written at once.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hactl.core.attrd.status import set_transient, transient_value
from hactl.core.commands import nodes, session
from hactl.core.commands.cibtools import Element
from hactl.core.errors import HactlError, NotFoundError, UsageError

#: Pacemaker's exit code for "no such attribute" (CRM_EX_NOSUCH)
NO_SUCH_ATTRIBUTE = 105


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError (one line, exit 2) instead of printing usage."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message, where=self.prog, hint=f"see {self.prog} --help")


@dataclass(frozen=True)
class AttributeRequest:
    """What one invocation asks for, whichever tool it came from."""

    action: str  # update, query, delete
    name: str
    node: str
    transient: bool  # status section (lifetime reboot) rather than the nodes section
    value: str | None = None
    default: str | None = None
    quiet: bool = False
    all_nodes: bool = False
    delay_s: float | None = None  # attrd_updater -d: dampening


def local_node() -> str:
    return (
        os.environ.get("OCF_RESKEY_CRM_meta_on_node")
        or os.environ.get("HACTL_NODE_NAME")
        or socket.gethostname()
    )


def promotion_attribute(resource: str | None) -> str:
    """``master-<resource>``, the resource named without its clone instance number."""
    name = resource or os.environ.get("OCF_RESOURCE_INSTANCE", "")
    if not name:
        raise UsageError(
            "--promotion needs a resource",
            where="crm_attribute",
            hint="give it (--promotion=RSC) or run from an agent (OCF_RESOURCE_INSTANCE)",
        )
    return "master-" + name.split(":", 1)[0]


def parse_crm_attribute(argv: Sequence[str]) -> AttributeRequest:
    parser = _Parser(prog="crm_attribute", allow_abbrev=False)
    actions = parser.add_mutually_exclusive_group()
    actions.add_argument("-v", "--update", metavar="VALUE")
    actions.add_argument("-G", "--query", action="store_true")
    actions.add_argument("-D", "--delete", action="store_true")
    parser.add_argument("-n", "--name")
    parser.add_argument("-N", "--node")
    parser.add_argument("-t", "--type", choices=["nodes", "status", "forever", "reboot"])
    parser.add_argument("-l", "--lifetime", choices=["reboot", "forever"])
    parser.add_argument("-p", "--promotion", nargs="?", const="", metavar="RESOURCE")
    parser.add_argument("-d", "--default")
    parser.add_argument("-q", "--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.promotion is not None:
        name = promotion_attribute(args.promotion or None)
        transient = args.lifetime != "forever"
    else:
        if not args.name:
            raise UsageError("a name is required", where="crm_attribute", hint="-n NAME")
        name = args.name
        transient = args.lifetime == "reboot" or args.type in ("status", "reboot")
        if args.node is None and args.type is None and args.lifetime is None:
            raise UsageError(
                "cluster options are set with `hactl property set`; crm_attribute here "
                "handles node attributes",
                where="crm_attribute",
                hint="give -N NODE or -l reboot|forever",
            )
    action = "update" if args.update is not None else "delete" if args.delete else "query"
    return AttributeRequest(
        action, name, args.node or local_node(), transient, args.update, args.default, args.quiet
    )


def parse_attrd_updater(argv: Sequence[str]) -> AttributeRequest:
    parser = _Parser(prog="attrd_updater", allow_abbrev=False)
    actions = parser.add_mutually_exclusive_group(required=True)
    # -v is Pacemaker's old spelling of --update, still used by agents (ocf:pacemaker:ping)
    actions.add_argument("-U", "--update", "-v", metavar="VALUE")
    actions.add_argument("-B", "--update-both", metavar="VALUE")
    actions.add_argument("-Y", "--update-delay", action="store_true")
    actions.add_argument("-Q", "--query", action="store_true")
    actions.add_argument("-D", "--delete", action="store_true")
    actions.add_argument("-R", "--refresh", action="store_true")
    parser.add_argument("-n", "--name", required=True)
    parser.add_argument("-N", "--node")
    parser.add_argument("-d", "--delay")
    parser.add_argument("-A", "--all", action="store_true")
    parser.add_argument("-p", "--private", action="store_true")
    parser.add_argument("-s", "--set")
    parser.add_argument("-l", "--lifetime")
    args = parser.parse_args(argv)
    if (args.update_both is not None or args.update_delay) and args.delay is None:
        raise UsageError("-B and -Y need -d/--delay", where="attrd_updater")
    value = args.update if args.update is not None else args.update_both
    if value is not None:
        action = "update"
    elif args.delete:
        action = "delete"
    elif args.query:
        action = "query"
    elif args.update_delay:
        action = "delay"
    else:  # a refresh: the manager holds nothing the CIB lacks for long
        action = "noop"
    return AttributeRequest(
        action,
        args.name,
        args.node or local_node(),
        True,
        value,
        all_nodes=args.all,
        delay_s=parse_delay(args.delay, where="attrd_updater -d")
        if args.delay is not None
        else None,
    )


def parse_delay(text: str, *, where: str) -> float:
    """A dampening delay in seconds: a number of seconds, or a duration with a unit (5s,
    500ms, 1min)."""
    from hactl.core.scheduler.unpack import parse_interval_ms

    ms = parse_interval_ms(text.strip())
    if not ms and not re.fullmatch(r"0+\s*[a-z]*", text.strip().lower()):
        raise UsageError(f"delay {text!r} is not a duration", where=where, hint="e.g. 5s or 500ms")
    return ms / 1000


def _permanent_value(root: Element, node: str, name: str) -> str | None:
    return nodes.node_values(root, "instance_attributes", [node]).get(node, {}).get(name)


def _value(root: Element, request: AttributeRequest, node: str) -> str | None:
    if request.transient:
        return transient_value(root, node, request.name)
    return _permanent_value(root, node, request.name)


def _write(root: Element, request: AttributeRequest) -> None:
    value = request.value if request.action == "update" else None
    if request.transient:
        set_transient(root, request.node, request.name, value)
    else:
        nodes.set_node_values(
            root, request.node, "instance_attributes", {request.name: value or ""}, force=False
        )


def _store(handle: session.CibHandle, request: AttributeRequest) -> None:
    """Write the change: a transient attribute of a running cluster as a status patch
    (the agents of every node write theirs at once), anything else as an edit."""
    push_status = getattr(handle, "push_status", None)
    if request.transient and push_status is not None:
        before = handle.get()
        after = before.copy()
        _write(after.root, request)
        push_status(before, after)
        return
    session.edit(handle, lambda root: _write(root, request))


def run_crm_attribute(request: AttributeRequest, handle: session.CibHandle) -> list[str]:
    if request.action != "query":
        _store(handle, request)
        return []
    value = session.read(handle, lambda root: _value(root, request, request.node))
    if value is None:
        value = request.default
    if value is None:
        raise NoSuchAttribute(f"attribute {request.name!r} is not set on {request.node}")
    if request.quiet:
        return [value]
    scope = "status" if request.transient else "nodes"
    return [f"scope={scope}  name={request.name} value={value}"]


def _to_manager(request: AttributeRequest) -> None:
    """The running cluster's attribute manager on this node (dampening applies there)."""
    from hactl.core.daemon.client import call

    arguments: dict[str, Any] = {"node": request.node, "name": request.name}
    if request.action == "update":
        arguments["value"] = request.value
    if request.action == "delay":
        arguments["delay_only"] = True
    if request.delay_s is not None:
        arguments["delay"] = request.delay_s
    call("attrd.update", **arguments)


def run_attrd_updater(request: AttributeRequest, handle: session.CibHandle) -> list[str]:
    live = getattr(handle, "push_status", None) is not None
    if request.action in ("update", "delete", "delay") and live:
        _to_manager(request)
        return []
    if request.action in ("update", "delete"):
        _store(handle, request)
        return []
    if request.action in ("noop", "delay"):
        return []

    def lines(root: Element) -> list[str]:
        targets = nodes.node_names(root) if request.all_nodes else [request.node]
        found = []
        for node in targets:
            value = transient_value(root, node, request.name)
            if value is not None:
                found.append(f'name="{request.name}" host="{node}" value="{value}"')
        return found

    found = session.read(handle, lines)
    if not found:
        raise NoSuchAttribute(f"attribute {request.name!r} is not set on {request.node}")
    return found


class NoSuchAttribute(NotFoundError):
    exit_code = NO_SUCH_ATTRIBUTE


TOOLS: dict[
    str,
    tuple[
        Callable[[Sequence[str]], AttributeRequest],
        Callable[[AttributeRequest, session.CibHandle], list[str]],
    ],
] = {
    "crm_attribute": (parse_crm_attribute, run_crm_attribute),
    "attrd_updater": (parse_attrd_updater, run_attrd_updater),
}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in TOOLS:
        print(f"usage: tools {{{','.join(TOOLS)}}} [OPTIONS]", file=sys.stderr)
        return 2
    tool, rest = args[0], args[1:]
    parse, run = TOOLS[tool]
    try:
        for line in run(parse(rest), session.current_handle()):
            print(line)
    except HactlError as exc:
        for line in exc.lines():
            print(f"{tool}: error: {line}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
