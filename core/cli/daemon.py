"""`hactl daemon`: run this node's daemon in the foreground (systemd runs it so).

hactl daemon                                   # /etc/hactl/corosync.conf, /var/lib/hactl
hactl daemon --config c.conf --state-dir /tmp/n1 --node node1
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import typer

from hactl.core.daemon import paths

app = typer.Typer(
    invoke_without_command=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback(invoke_without_command=True)
def daemon(
    config: Path | None = typer.Option(
        None, "--config", "-c", help="Cluster configuration (default /etc/hactl/corosync.conf)."
    ),
    authkey: Path | None = typer.Option(
        None, "--authkey", help="Cluster key (default /etc/hactl/authkey; totem.keyfile wins)."
    ),
    state_dir: Path | None = typer.Option(
        None, "--state-dir", help="Where the CIB and the node's state live (/var/lib/hactl)."
    ),
    socket: Path | None = typer.Option(
        None, "--socket", help="The local API socket (default STATE_DIR/hactl.sock)."
    ),
    node: str | None = typer.Option(
        None,
        "--node",
        help="Which nodelist entry this is (name, address or id; default: host name).",
    ),
    remote_port: int = typer.Option(
        2224, "--remote-port", help="The remote API's TLS port on ring0_addr (0: none)."
    ),
    api_users: Path | None = typer.Option(
        None, "--api-users", help="Remote API users (default /etc/hactl/api-users)."
    ),
    remote_address: str | None = typer.Option(
        None, "--remote-address", help="Where the remote API listens (default ring0_addr)."
    ),
    api_only: bool = typer.Option(
        False, "--api-only", help="Only the remote API: the cluster services are stopped."
    ),
    boot: bool = typer.Option(
        False, "--boot", help="Started at boot: honour `hactl cluster disable` (the unit's)."
    ),
    owner: str | None = typer.Option(
        None,
        "--owner",
        help="PID[:START] of a process this daemon belongs to (a sandbox's test): the "
        "daemon ends, with its agents, once that process is gone.",
    ),
) -> None:
    """Run the node daemon in the foreground: totem ring, quorum, replicated CIB, DC,
    local API. SIGTERM stops it cleanly (the DC records the node's shutdown first)."""
    # the daemon works on the cluster's CIB, never a file: CIB_file (pcs's -f) inherited
    # from a shell would send its agents' crm_attribute calls to that file instead
    os.environ.pop("CIB_file", None)
    from hactl.core.daemon import logs
    from hactl.core.daemon.node import DaemonOptions, NodeDaemon
    from hactl.core.daemon.owner import Owner, end_with

    lease = Owner.parse(owner) if owner is not None else None

    state = state_dir or paths.state_dir()
    options = DaemonOptions(
        config_path=config or paths.config_dir() / paths.CONFIG_NAME,
        authkey_path=authkey or paths.config_dir() / paths.AUTHKEY_NAME,
        state_dir=state,
        socket_path=socket or (state / paths.SOCKET_NAME if state_dir else paths.socket_path()),
        node=node,
        remote_port=remote_port,
        users_path=api_users,
        remote_address=remote_address,
        owner=str(lease) if lease is not None else None,
    )
    if lease is not None:
        end_with(lease)
    from hactl.core.daemon.standby import StandbyDaemon, disabled

    reason = None
    if api_only:
        reason = "stopped by `hactl cluster stop`"
    elif not options.config_path.exists():
        reason = f"no cluster configuration at {options.config_path} yet"
    elif boot and disabled(state):
        reason = "disabled at boot (`hactl cluster enable`)"
    if reason is not None:
        logs.configure(None, str(options.config_path))
        asyncio.run(StandbyDaemon(options, reason).run())
        return
    node_daemon = NodeDaemon(options)  # every bad input is refused here, before any I/O
    logs.configure(node_daemon.config.logging, str(options.config_path))
    asyncio.run(node_daemon.run())
