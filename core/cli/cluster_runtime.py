"""The `hactl cluster` commands that act on running nodes (registered into the cluster
noun by :func:`register`):

hactl cluster setup NAME node1 addr=10.0.0.1 node2 addr=10.0.0.2 [--start] [--enable]
hactl cluster start|stop|enable|disable [--all | NODE…]   # no NODE: this node
hactl cluster status | members | links                     # this node's view

Nodes are reached through their remote API (authenticate first with `hactl host auth`);
this node through its local socket.
"""

from __future__ import annotations

import base64
import ipaddress
import secrets
import socket
import sys
from typing import Any

import typer

from hactl.core.cli.render import OUTPUT_OPTION, OutputFormat, print_json
from hactl.core.config.authkey import DEFAULT_KEY_BYTES
from hactl.core.errors import HactlError, UsageError

TRANSPORTS = ("knet", "udpu", "udp")


def build_config(
    name: str, nodes: list[tuple[str, str]], transport: str, mcastport: int | None
) -> str:
    """corosync.conf text for a new cluster, as pcs writes it (crypto on knet only, two_node
    for two nodes), checked by hactl.core.config before anything is sent."""
    from hactl.core.config.model import ClusterConfig
    from hactl.core.config.rules import check

    crypto = "    crypto_cipher: aes256\n    crypto_hash: sha256\n" if transport == "knet" else ""
    interface = (
        f"    interface {{\n        linknumber: 0\n        mcastport: {mcastport}\n    }}\n"
        if mcastport
        else ""
    )
    node_text = "".join(
        f"    node {{\n        ring0_addr: {address}\n        name: {node}\n"
        f"        nodeid: {index}\n    }}\n"
        for index, (node, address) in enumerate(nodes, 1)
    )
    two_node = "    two_node: 1\n" if len(nodes) == 2 else ""
    text = (
        f"totem {{\n    version: 2\n    cluster_name: {name}\n    transport: {transport}\n"
        f"{crypto}{interface}}}\n\nnodelist {{\n{node_text}}}\n\n"
        f"quorum {{\n    provider: corosync_votequorum\n{two_node}}}\n\n"
        "logging {\n    to_stderr: yes\n    to_syslog: yes\n    timestamp: on\n}\n"
    )
    check(ClusterConfig.from_text(text, "generated corosync.conf")).raise_errors(
        "the generated configuration"
    )
    return text


def _numeric(node: str, address: str) -> str:
    try:
        ipaddress.ip_address(address)
        return address
    except ValueError:
        pass
    try:
        return socket.gethostbyname(address)
    except OSError:
        raise UsageError(
            f"cannot resolve {address!r}", where=node, hint=f"give it: {node} addr=ADDRESS"
        ) from None


def _targets(words: list[str]) -> list[tuple[str, str]]:
    targets: list[tuple[str, str]] = []
    for word in words:
        if word.startswith("addr="):
            if not targets:
                raise UsageError(f"{word} before any node name", hint="NODE addr=ADDRESS")
            targets[-1] = (targets[-1][0], word[5:])
        elif "=" in word:
            raise UsageError(f"unknown node option {word!r}", hint="only addr=ADDRESS is known")
        else:
            targets.append((word, word))
    return targets


def _nodes_for(nodes: list[str], all_nodes: bool) -> list[str] | None:
    """The nodes named, every node of the cluster with --all, or None for this node."""
    if all_nodes and nodes:
        raise UsageError("give --all or node names, not both")
    if not all_nodes:
        return nodes or None
    from hactl.core.daemon import client, remote_client

    try:
        names: dict[str, str] = client.call("status", timeout=5)["nodes"]
        return list(names.values())
    except HactlError:
        known = sorted(remote_client.known_hosts())
        if not known:
            raise UsageError(
                "no cluster here to take the nodes from, and no known hosts",
                hint="name the nodes, or `hactl host auth` them first",
            ) from None
        return known


def _on_nodes(op: str, nodes: list[str] | None, **arguments: Any) -> list[tuple[str, Any]]:
    from hactl.core.daemon import client, remote_client

    if nodes is None:
        return [("this node", client.call(op, **arguments))]
    results = []
    failures: list[str] = []
    for node in nodes:
        try:
            results.append((node, remote_client.call(node, op, **arguments)))
        except HactlError as exc:
            failures.append(f"{node}: {exc.lines()[0]}")
    for line in failures:
        print(f"hactl: error: {line}", file=sys.stderr)
    if failures:
        raise HactlError(f"{len(failures)} of {len(nodes)} node(s) failed", where=op)
    return results


def register(app: typer.Typer) -> None:
    @app.command("setup")
    def setup(
        name: str = typer.Argument(..., help="Cluster name."),
        nodes: list[str] = typer.Argument(..., help="NODE [addr=ADDRESS] …"),
        transport: str = typer.Option("knet", "--transport", help="knet, udpu or udp."),
        mcastport: int | None = typer.Option(None, "--mcastport", help="UDP port (5405)."),
        start: bool = typer.Option(False, "--start", help="Start the cluster on every node."),
        enable: bool = typer.Option(False, "--enable", help="Start it at every boot."),
        force: bool = typer.Option(False, "--force", help="Overwrite existing configurations."),
    ) -> None:
        """Write the configuration and a new authkey to every node through its remote API
        (authenticate to each first: `hactl host auth NODE…`)."""
        if transport not in TRANSPORTS:
            raise UsageError(
                f"unknown transport {transport!r}", where="--transport", hint="knet, udpu or udp"
            )
        targets = [(node, _numeric(node, address)) for node, address in _targets(nodes)]
        if not targets:
            raise UsageError("no nodes given", hint="hactl cluster setup NAME NODE…")
        text = build_config(name, targets, transport, mcastport)
        key = base64.b64encode(secrets.token_bytes(DEFAULT_KEY_BYTES)).decode()
        for node, _ in _on_nodes(
            "setup",
            [node for node, _ in targets],
            config=text,
            authkey=key,
            start=start,
            enable=enable,
            force=force,
        ):
            print(f"{node}: cluster configuration and authkey written")
        if start:
            print("Starting the cluster on every node…")

    def _service(op: str, past: str, **arguments: Any) -> Any:
        def command(
            nodes: list[str] = typer.Argument(None, help="Nodes (default: this node)."),
            all_nodes: bool = typer.Option(False, "--all", help="Every node of the cluster."),
        ) -> None:
            for node, _ in _on_nodes(op, _nodes_for(nodes or [], all_nodes), **arguments):
                print(f"{node}: {past}")

        return command

    app.command("start", help="Start the cluster services (this node, NODE…, or --all).")(
        _service("start", "starting")
    )
    app.command("stop", help="Stop the cluster services cleanly (the DC moves resources away).")(
        _service("stop", "stopping")
    )
    app.command("enable", help="Start the cluster services at boot.")(_service("enable", "enabled"))
    app.command("disable", help="Do not start the cluster services at boot.")(
        _service("disable", "disabled")
    )

    @app.command("status")
    def status(output: OutputFormat = OUTPUT_OPTION) -> None:
        """The cluster as this node sees it (`hactl status`, shorter)."""
        from hactl.core.cli import status as status_cli
        from hactl.core.daemon import client

        current = client.cluster_status()
        ws = status_cli.working_set(current)
        if output is OutputFormat.json:
            print_json(status_cli.as_json(current, ws))
        else:
            print("\n".join(status_cli.text_lines(current, ws, full=False)))

    @app.command("members")
    def members(output: OutputFormat = OUTPUT_OPTION) -> None:
        """The membership, as `corosync-cmapctl -m members` prints it."""
        from hactl.core.daemon import client

        view = client.call("members")
        if output is OutputFormat.json:
            print_json(view)
            return
        for node_id in view["members"]:
            prefix = f"runtime.members.{node_id}"
            address = view["addresses"].get(str(node_id), "")
            print(f"{prefix}.config_version (u64) = 0")
            print(f"{prefix}.ip (str) = r(0) ip({address}) ")
            print(f"{prefix}.join_count (u32) = 1")
            print(f"{prefix}.status (str) = joined")

    @app.command("links")
    def links(output: OutputFormat = OUTPUT_OPTION) -> None:
        """Link status, as `corosync-cfgtool -s` prints it: per link, each node connected
        or not (knet: its heartbeats; other transports: whether it is a member)."""
        from hactl.core.daemon import client

        view = client.call("members")
        me = int(view["local"])
        transport = view["transport"]
        heartbeats: dict[str, dict[str, Any]] = transport.get("links") or {}
        numbers = sorted({int(key.split("/")[1]) for key in heartbeats}) or [0]
        node_ids = sorted(int(n) for n in view["addresses"])

        def state(node_id: int, number: int) -> str:
            if node_id == me:
                return "localhost"
            if heartbeats:
                link = heartbeats.get(f"{node_id}/{number}")
                return "connected" if link and link.get("up") else "disconnected"
            return "connected" if node_id in view["members"] else "disconnected"

        table = {number: {n: state(n, number) for n in node_ids} for number in numbers}
        if output is OutputFormat.json:
            print_json(
                {
                    "local": me,
                    "transport": transport.get("transport"),
                    "links": {
                        str(k): {str(n): v for n, v in row.items()} for k, row in table.items()
                    },
                }
            )
            return
        print(f"Local node ID {me}, transport {transport.get('transport', '?')}")
        for number, row in table.items():
            print(f"LINK ID {number} udp")
            if number == 0:
                print(f"\taddr\t= {view['addresses'][str(me)]}")
            print("\tstatus:")
            for node_id, text in row.items():
                print(f"\t\tnodeid: {node_id:>3}:\t{text}")
