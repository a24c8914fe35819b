"""`hactl cluster`: cluster-wide setup and the running cluster (setup, start/stop, node
add/remove, status, members, links, cib, verify, keygen)."""

from __future__ import annotations

from pathlib import Path

import typer

from hactl.core.cli import cluster_config, cluster_nodes, cluster_runtime
from hactl.core.cli.render import OUTPUT_OPTION, OutputFormat, print_json
from hactl.core.config.authkey import DEFAULT_AUTHKEY, DEFAULT_KEY_BYTES, write_authkey

app = typer.Typer(no_args_is_help=True, help="Set up and manage the cluster.")
cluster_config.register(app)
cluster_runtime.register(app)
node_app = typer.Typer(no_args_is_help=True, help="Add or remove nodes of the running cluster.")
cluster_nodes.register(node_app)
app.add_typer(node_app, name="node")


@app.command("keygen")
def keygen(
    file: Path = typer.Argument(Path(DEFAULT_AUTHKEY), help="Where to write the key."),
    size: int = typer.Option(
        DEFAULT_KEY_BYTES, "--size", "-s", help="Key size in bytes (128 to 4096)."
    ),
    force: bool = typer.Option(False, "--force", help="Replace an existing key file."),
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Generate the cluster's authentication key, as corosync-keygen does: random bytes
    (256 by default), file mode 0400. An existing key is kept unless --force. Copy the key
    to every node; nodes with different keys cannot form a cluster.

    Example: hactl cluster keygen /etc/corosync/authkey --size 512
    """
    written = write_authkey(file, size, force)
    if output is OutputFormat.json:
        print_json({"path": str(written), "bytes": size, "mode": "0400"})
    else:
        print(f"Writing corosync key to {written} ({size * 8} bits).")
