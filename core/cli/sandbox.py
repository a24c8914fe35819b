"""`hactl sandbox`: a complete cluster of daemons on this machine (loopback only).

hactl sandbox up --nodes 3        # generate config and key, start, wait for quorum
hactl --sandbox node2 status      # any command, pointed at one sandbox node
hactl sandbox kill node1          # SIGKILL: a crash, as the others see it
hactl sandbox start node1
hactl sandbox partition node1,node2 node3   # the daemons' fault switch; `heal` undoes it
hactl sandbox add-node            # one more node, waiting for `hactl cluster node add`
hactl sandbox down                # stop every node cleanly and remove the sandbox
"""

from __future__ import annotations

import os
import subprocess
import sys

import typer

from hactl.core.cli.render import OUTPUT_OPTION, OutputFormat, print_json, print_table
from hactl.core.daemon.sandbox import Sandbox
from hactl.core.errors import UsageError

app = typer.Typer(add_completion=False, context_settings={"help_option_names": ["-h", "--help"]})

#: what `sandbox up` configures: no fencing devices on a laptop, and a few bundled resources
STARTER_COMMANDS = [
    ["property", "set", "stonith-enabled=false"],
    ["resource", "create", "dummy1", "ocf:hactl:Dummy", "op", "monitor", "interval=10s"],
    ["resource", "create", "dummy2", "ocf:hactl:Dummy", "op", "monitor", "interval=10s"],
    ["resource", "create", "stateful1", "ocf:hactl:Stateful", "promotable"],
]


def _hactl(node: str, args: list[str]) -> None:
    command = [sys.executable, "-m", "hactl.core.cli.main", "--sandbox", node, *args]
    done = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy())
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise UsageError(f"`hactl {' '.join(args)}` failed on the sandbox")


@app.command("up")
def up(
    nodes: int = typer.Option(3, "--nodes", "-n", help="How many nodes (1 to 16)."),
    empty: bool = typer.Option(False, "--empty", help="Do not configure starter resources."),
    timeout: float = typer.Option(60.0, "--timeout", help="Seconds to wait for quorum."),
    owner: int = typer.Option(
        None,
        "--owner",
        help="A pid (a script's $$): the daemons end themselves once it is gone.",
    ),
) -> None:
    """Start a local cluster of N daemons and wait until it is quorate."""
    sandbox = Sandbox.default()
    sandbox.create(nodes, owner_pid=owner)
    names = sandbox.nodes()
    for name in names:
        sandbox.start(name)
    sandbox.wait_until(lambda: sandbox.formed(names), timeout, "a quorate membership")
    if not empty:
        for args in STARTER_COMMANDS:
            _hactl(names[0], args)
    view = sandbox.views(names[:1])[names[0]] or {}
    print(f"Sandbox cluster of {nodes} node(s) is up in {sandbox.root}")
    print(f"  DC: {view.get('dc_name')}; quorate: {view.get('quorate')}")
    print("Use it:")
    print(f"  hactl --sandbox {names[0]} status")
    print(f"  hactl --sandbox {names[0]} resource create web ocf:hactl:Dummy")
    print(f"  export HACTL_SOCKET={sandbox.socket(names[0])}   # then plain `hactl status`")
    print("  hactl sandbox kill node1 / start node1 / down")
    remote_port = sandbox.record()["remote_port"]
    print(
        f"Remote API: https://127.0.0.N:{remote_port}, user hacluster, password in "
        f"{sandbox.password_path}:"
    )
    print(
        f"  hactl host auth node1 addr=127.0.0.1 --port {remote_port} -u hacluster "
        f"< {sandbox.password_path}"
    )


@app.command("status")
def status(output: OutputFormat = OUTPUT_OPTION) -> None:
    """Each sandbox node: its daemon's pid, and what it sees."""
    sandbox = Sandbox.default()
    rows = []
    views = sandbox.views()
    for name in sandbox.nodes():
        entry = sandbox.node(name)
        view = views[name]
        state = "down" if view is None else view.get("phase", "api-only")
        if view is not None and "phase" not in view:  # only its remote API runs
            view = None
        rows.append(
            {
                "node": name,
                "id": entry["id"],
                "address": entry["address"],
                "pid": entry["pid"] if sandbox.alive(name) else "-",
                "state": state,
                "members": "-" if view is None else ",".join(map(str, view["members"])),
                "dc": "-" if view is None else view["dc_name"],
                "quorate": "-" if view is None else ("yes" if view["quorate"] else "no"),
            }
        )
    if output is OutputFormat.json:
        print_json({"dir": str(sandbox.root), "nodes": rows})
    else:
        print(f"Sandbox in {sandbox.root}")
        print_table(rows, ["node", "id", "address", "pid", "state", "members", "dc", "quorate"])


@app.command("down")
def down() -> None:
    """Stop every node cleanly and remove the sandbox."""
    sandbox = Sandbox.default()
    sandbox.record()
    sandbox.down()
    print(f"Sandbox in {sandbox.root} stopped and removed")


@app.command("kill")
def kill(node: str = typer.Argument(..., help="Node name (node1, …).")) -> None:
    """SIGKILL the node's daemon: a crash, for the other nodes."""
    pid = Sandbox.default().kill(node)
    print(f"{node}: killed (pid {pid})")


@app.command("stop")
def stop(node: str = typer.Argument(..., help="Node name (node1, …).")) -> None:
    """Stop the node's daemon cleanly (SIGTERM)."""
    clean = Sandbox.default().stop(node)
    print(f"{node}: stopped" + ("" if clean else " (had to be killed)"))


@app.command("start")
def start(node: str = typer.Argument(..., help="Node name (node1, …).")) -> None:
    """Start the node's daemon again (it rejoins and gets the current CIB)."""
    pid = Sandbox.default().start(node)
    print(f"{node}: started (pid {pid})")


@app.command("add-node")
def add_node() -> None:
    """Make one more node (the next name and loopback address) whose daemon waits, with
    only its remote API, to be added: `hactl cluster node add` does that."""
    sandbox = Sandbox.default()
    entry = sandbox.add_node()
    remote_port = sandbox.record()["remote_port"]
    name, address = entry["name"], entry["address"]
    print(f"{name}: waiting to be added (pid {entry['pid']}, address {address})")
    print("Add it (authenticate every node first):")
    print(
        f"  hactl host auth {name} addr={address} --port {remote_port} -u hacluster "
        f"< {sandbox.password_path}"
    )
    print(f"  hactl --sandbox node1 cluster node add {name} addr={address} --start")


@app.command("partition")
def partition(
    groups: list[str] = typer.Argument(..., help="Groups of nodes, comma-separated: n1,n2 n3."),
) -> None:
    """Split the sandbox: each node stops hearing the nodes of the other groups."""
    sandbox = Sandbox.default()
    members = [[sandbox.node(n)["name"] for n in g.split(",") if n] for g in groups]
    if len(members) < 2:
        raise UsageError("give at least two groups", hint="hactl sandbox partition n1,n2 n3")
    ids = {name: sandbox.node(name)["id"] for group in members for name in group}
    for group in members:
        others = [ids[n] for g in members if g is not group for n in g]
        for name in group:
            sandbox.call(name, "fault", block=others)
    print("partitioned: " + " | ".join(",".join(g) for g in members))


@app.command("heal")
def heal() -> None:
    """Undo `sandbox partition`: every node hears every node again."""
    sandbox = Sandbox.default()
    for name in sandbox.nodes():
        if sandbox.alive(name):
            sandbox.call(name, "fault", block=[])
    print("healed")
