"""`hactl cluster node add|remove`: grow or shrink a running cluster (pcs's semantics).

hactl cluster node add node4 addr=10.0.0.4 [--start] [--enable]
hactl cluster node remove node4

add: the new node gets the cluster's configuration (with itself in the nodelist) and the
authkey through its remote API, then every node of the cluster gets the new configuration
and reloads it: its transport hears the new node, votequorum's expected votes follow the
nodelist; with --start the new node starts and joins the ring.
remove: the node stops cleanly (the DC moves its resources away first), every other node
gets the configuration without it and reloads (the DC drops it from the CIB's nodes and
status), and the removed node's configuration and authkey are deleted (`pcs cluster
destroy` there). Every node must be authenticated (`hactl host auth NODE…`).

The nodelist edits are pure functions on the file's text (comments and layout kept);
two_node follows the node count as pcs sets it.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import typer

from hactl.core.config.model import ClusterConfig
from hactl.core.config.rules import check
from hactl.core.config.syntax import Option, Section, parse, render
from hactl.core.errors import HactlError, UsageError

#: how long `node remove` waits for the node to leave the ring after its clean stop
LEAVE_TIMEOUT_S = 60.0
#: how long `node remove` tries to reach the stopped node to delete its configuration
DESTROY_WAIT_S = 30.0


def _checked(text: str, source: str) -> str:
    config = ClusterConfig.from_text(text, source)
    check(config).raise_errors("the new configuration")
    return text


def _follow_two_node(root: Section, count: int) -> None:
    """pcs's rule: two_node with exactly two nodes, unless auto_tie_breaker or a device."""
    quorum = root.ensure_section("quorum")
    if quorum.get("auto_tie_breaker") == "1" or quorum.section("device") is not None:
        return
    if count == 2:
        quorum.set("two_node", "1")
    else:
        quorum.remove("two_node")


def add_node_text(text: str, name: str, address: str, source: str) -> tuple[str, int]:
    """``text`` with node ``name`` at ``address`` appended to the nodelist, under the next
    free nodeid; refused when the name or the address is taken."""
    root = parse(text, source)
    nodelist = root.section("nodelist")
    if nodelist is None:
        raise HactlError("the configuration has no nodelist", where=source)
    nodes = nodelist.sections("node")
    for node in nodes:
        if name in (node.get("name"), node.get("ring0_addr")):
            raise UsageError(f"{name} is already in the cluster", where=source)
        if address in (node.get(key) for key in ("ring0_addr", "name")):
            raise UsageError(
                f"address {address} is already node {node.get('name') or node.get('nodeid')}'s",
                where=source,
                hint=f"give the new node its own address: {name} addr=ADDRESS",
            )
    nodeid = 1 + max((int(n.get("nodeid") or 0) for n in nodes), default=0)
    indent = nodes[-1].options()[0].indent if nodes and nodes[-1].options() else None
    entry = Section("node")
    for key, value in (("ring0_addr", address), ("name", name), ("nodeid", str(nodeid))):
        entry.children.append(Option(key, value, indent=indent))
    nodelist.children.append(entry)
    _follow_two_node(root, len(nodes) + 1)
    return _checked(render(root), source), nodeid


def remove_node_text(text: str, name: str, source: str) -> str:
    """``text`` without node ``name`` (its name, address or nodeid)."""
    root = parse(text, source)
    nodelist = root.section("nodelist")
    nodes = nodelist.sections("node") if nodelist is not None else []
    matching = [n for n in nodes if name in (n.get("name"), n.get("ring0_addr"), n.get("nodeid"))]
    if nodelist is None or not matching:
        known = ", ".join(n.get("name") or n.get("ring0_addr") or "?" for n in nodes)
        raise UsageError(f"{name} is not in the cluster", where=source, hint=f"nodes: {known}")
    if len(nodes) == 1:
        raise UsageError(
            f"{name} is the last node of the cluster",
            where=source,
            hint="`hactl cluster destroy` removes a whole cluster",
        )
    nodelist.children = [c for c in nodelist.children if c is not matching[0]]
    _follow_two_node(root, len(nodes) - 1)
    return _checked(render(root), source)


def node_names_in(text: str, source: str) -> list[str]:
    config = ClusterConfig.from_text(text, source)
    return [n.name or n.ring_addrs.get(0, "") for n in config.nodelist]


# ----------------------------------------------------------------------------- commands


def _local_config() -> dict[str, Any]:
    from hactl.core.daemon import client

    result: dict[str, Any] = client.call("config.get")
    return result


def _reload_everywhere(nodes: list[str], text: str) -> None:
    """Send the configuration to every node in ``nodes``; each checks, writes and reloads."""
    from hactl.core.daemon import remote_client

    failures = []
    for node in nodes:
        try:
            remote_client.call(node, "config.set", config=text)
            print(f"{node}: configuration updated and reloaded")
        except HactlError as exc:
            failures.append(f"{node}: {exc.lines()[0]}")
    for line in failures:
        print(f"hactl: error: {line}", file=sys.stderr)
    if failures:
        raise HactlError(
            f"{len(failures)} of {len(nodes)} node(s) did not take the new configuration",
            hint="those nodes still run the old nodelist: copy this node's corosync.conf "
            "there and restart their daemon",
        )


def _authenticated(nodes: list[str]) -> None:
    """Every node the command will reach must be authenticated: checked before any change,
    so that a missing token cannot leave the cluster half changed."""
    from hactl.core.daemon import remote_client

    known = remote_client.known_hosts()
    missing = [node for node in nodes if node not in known]
    if missing:
        raise UsageError(
            f"not authenticated to {', '.join(missing)}",
            where=str(remote_client.known_hosts_path()),
            hint=f"run `hactl host auth {' '.join(missing)}` first",
        )


def _members() -> list[str]:
    from hactl.core.daemon import client

    view = client.call("status", timeout=5)
    names: dict[str, str] = view["nodes"]
    return [names.get(str(n), str(n)) for n in view["members"]]


def register(node_app: typer.Typer) -> None:
    @node_app.command("add")
    def add(
        name: str = typer.Argument(..., help="The new node's name."),
        options: list[str] = typer.Argument(None, metavar="[addr=ADDRESS]"),
        start: bool = typer.Option(False, "--start", help="Start the cluster on the new node."),
        enable: bool = typer.Option(False, "--enable", help="Start it there at every boot."),
    ) -> None:
        """Add a node to the running cluster: its configuration and the authkey go to it,
        every node reloads the new nodelist (authenticate to every node first).

        Example: hactl cluster node add node4 addr=10.0.0.4 --start
        """
        from hactl.core.cli.cluster_runtime import _numeric
        from hactl.core.daemon import remote_client

        address = name
        for word in options or []:
            option, sep, value = word.partition("=")
            if option != "addr" or not sep or not value:
                raise UsageError(f"unknown node option {word!r}", hint="only addr=ADDRESS is known")
            address = value
        address = _numeric(name, address)
        current = _local_config()
        source = str(current["path"])
        text, nodeid = add_node_text(str(current["config"]), name, address, source)
        _authenticated(node_names_in(text, source))
        try:
            key = Path(current["authkey_path"]).read_bytes()
        except OSError as exc:
            raise HactlError(
                f"cannot read the authkey: {exc.strerror}",
                where=str(current["authkey_path"]),
                hint="run as root on a cluster node",
            ) from None
        import base64

        remote_client.call(
            name,
            "setup",
            config=text,
            authkey=base64.b64encode(key).decode(),
            start=False,
            enable=enable,
        )
        print(f"{name}: cluster configuration and authkey written (nodeid {nodeid})")
        _reload_everywhere([n for n in node_names_in(text, source) if n != name], text)
        if start:
            remote_client.call(name, "start")
            print(f"{name}: starting")

    @node_app.command("remove")
    def remove(name: str = typer.Argument(..., help="The node to remove.")) -> None:
        """Remove a node: it stops cleanly (its resources move away first), every other node
        reloads the nodelist without it, and its cluster configuration is deleted.

        Example: hactl cluster node remove node4
        """
        from hactl.core.daemon import remote_client

        current = _local_config()
        source = str(current["path"])
        if name in (current["local"], str(current["nodeid"])):
            raise UsageError(
                f"{name} is the node this command talks through",
                hint="run `hactl cluster node remove` on another node of the cluster",
            )
        text = remove_node_text(str(current["config"]), name, source)
        _authenticated([name, *node_names_in(text, source)])
        try:
            remote_client.call(name, "stop")
            print(f"{name}: stopping (its resources move away first)")
        except HactlError as exc:
            if name in _members():
                raise
            print(f"hactl: warning: {name}: {exc.lines()[0]} (not a member: going on)")
        deadline = time.monotonic() + LEAVE_TIMEOUT_S
        while name in _members():
            if time.monotonic() > deadline:
                raise HactlError(
                    f"{name} did not leave the ring within {LEAVE_TIMEOUT_S:g}s",
                    hint=f"see its log; `hactl cluster stop {name}` then try again",
                )
            time.sleep(0.1)
        _reload_everywhere(node_names_in(text, source), text)
        # the stopped node comes back with only its remote API (re-executed): then destroy
        deadline = time.monotonic() + DESTROY_WAIT_S
        while True:
            try:
                remote_client.call(name, "destroy")
                print(f"{name}: cluster configuration removed")
                return
            except HactlError as exc:
                if time.monotonic() > deadline:
                    print(f"hactl: warning: {name}: {exc.lines()[0]}", file=sys.stderr)
                    print("hactl: warning: remove its configuration there by hand", file=sys.stderr)
                    return
                time.sleep(0.2)
