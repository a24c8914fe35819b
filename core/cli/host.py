"""`hactl host`: authenticate to other nodes' remote API (pcs host auth), and set the
passwords of this node's API users.

hactl host auth node1 addr=10.0.0.1 node2 addr=10.0.0.2 -u hacluster -p secret
hactl host list
hactl host status node2
hactl host passwd hacluster            # reads the password from stdin
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from hactl.core.cli.render import OUTPUT_OPTION, OutputFormat, print_json, print_table
from hactl.core.errors import UsageError

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _targets(words: list[str]) -> list[tuple[str, str]]:
    """NODE [addr=ADDR] … -> (node, address); without addr= the node name is the address."""
    targets: list[tuple[str, str]] = []
    for word in words:
        if word.startswith("addr="):
            if not targets:
                raise UsageError(f"{word} before any node name", hint="NODE addr=ADDRESS")
            targets[-1] = (targets[-1][0], word[5:])
        else:
            targets.append((word, word))
    if not targets:
        raise UsageError("no node given", hint="hactl host auth NODE [addr=ADDRESS]…")
    return targets


def _password(password: str | None) -> str:
    if password is not None:
        return password
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("Password: ")
    return sys.stdin.readline().rstrip("\n")


@app.command("auth")
def auth(
    nodes: list[str] = typer.Argument(..., help="NODE [addr=ADDRESS] …"),
    username: str = typer.Option("hacluster", "--username", "-u", help="API user."),
    password: str | None = typer.Option(None, "--password", "-p", help="Password (or stdin)."),
    port: int = typer.Option(2224, "--port", help="The nodes' remote API port."),
) -> None:
    """Authenticate to each node's remote API; its token and certificate are kept."""
    from hactl.core.daemon import remote_client

    secret = _password(password)
    for node, address in _targets(nodes):
        remote_client.authenticate(node, address, port, username, secret)
        print(f"{node}: Authorized")


@app.command("deauth")
def deauth(nodes: list[str] = typer.Argument(..., help="Nodes to forget.")) -> None:
    """Forget the tokens of nodes."""
    from hactl.core.daemon import remote_client

    for node in nodes:
        remote_client.forget(node)


@app.command("list")
def list_hosts(output: OutputFormat = OUTPUT_OPTION) -> None:
    """The nodes this user is authenticated to."""
    from hactl.core.daemon import remote_client

    rows = [
        {"node": node, "address": host["address"], "port": host.get("port", 2224)}
        for node, host in sorted(remote_client.known_hosts().items())
    ]
    if output is OutputFormat.json:
        print_json(rows)
    else:
        print_table(rows, ["node", "address", "port"])


@app.command("status")
def status(
    node: str = typer.Argument(..., help="An authenticated node."),
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """What a node's daemon says about the cluster, over the remote API."""
    from hactl.core.daemon import remote_client

    result = remote_client.call(node, "status")
    summary = {
        "node": result["node"]["name"],
        "cluster": result["cluster_name"],
        "members": result["members"],
        "dc": result["dc_name"],
        "quorate": result["quorate"],
        "cib": ".".join(map(str, result["versions"])),
    }
    if output is OutputFormat.json:
        print_json(summary)
    else:
        for key, value in summary.items():
            print(f"{key}: {value}")


@app.command("passwd")
def passwd(
    user: str = typer.Argument("hacluster", help="API user whose password to set."),
    users_file: Path | None = typer.Option(
        None, "--users-file", help="Default /etc/hactl/api-users."
    ),
    password: str | None = typer.Option(None, "--password", "-p", help="Password (or stdin)."),
) -> None:
    """Set an API user's password on this node (stored as an scrypt hash)."""
    from hactl.core.daemon.remote import default_users_path, write_user

    secret = _password(password)
    if len(secret) < 8:
        raise UsageError("the password is shorter than 8 characters", where=user)
    write_user(users_file or default_users_path(), user, secret)
    print(f"password of {user} set")
