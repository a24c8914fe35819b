"""The daemon without cluster services: only the remote API (pcsd's role when the cluster
is stopped or not set up yet).

`hactl daemon` runs this way when its configuration file does not exist yet (a node
waiting for `hactl cluster setup`), when ``--api-only`` is given (after `hactl cluster
stop`), or when the node is disabled (`hactl cluster disable`: the marker
``STATE_DIR/autostart-disabled``). The remote API then offers ``setup`` (write the
configuration and the authkey sent by `cluster setup` or `cluster node add`), ``start``,
``enable``, ``disable``, ``destroy`` (what `cluster node remove` does last) and
``status``. Starting the cluster services re-executes the daemon in the same process
(same pid) with the configuration now present, so a service manager sees one
long-running process.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

from hactl.core.cib.store import atomic_write
from hactl.core.config.model import ClusterConfig
from hactl.core.config.rules import check
from hactl.core.daemon import startup
from hactl.core.daemon.api import ApiServer
from hactl.core.daemon.remote import RemoteApi, default_users_path
from hactl.core.errors import ConfigError, HactlError

log = logging.getLogger("hactl")

DISABLED_MARKER = "autostart-disabled"


def disabled(state_dir: Path) -> bool:
    return (state_dir / DISABLED_MARKER).exists()


def set_enabled(state_dir: Path, enabled: bool) -> None:
    marker = state_dir / DISABLED_MARKER
    if enabled:
        marker.unlink(missing_ok=True)
    else:
        state_dir.mkdir(parents=True, exist_ok=True)
        atomic_write(marker, b"cluster services do not start with the daemon\n")


def daemon_argv(options: Any, *, api_only: bool) -> list[str]:
    """The command line that runs the daemon again with the same options."""
    argv = [
        sys.executable,
        "-m",
        "hactl.core.cli.main",
        "daemon",
        "--config",
        str(options.config_path),
        "--authkey",
        str(options.authkey_path),
        "--state-dir",
        str(options.state_dir),
        "--socket",
        str(options.socket_path),
        "--remote-port",
        str(options.remote_port),
    ]
    if options.node:
        argv += ["--node", options.node]
    if options.users_path:
        argv += ["--api-users", str(options.users_path)]
    if options.remote_address:
        argv += ["--remote-address", options.remote_address]
    if options.owner:
        argv += ["--owner", options.owner]
    if api_only:
        argv.append("--api-only")
    return argv


def reexec(options: Any, *, api_only: bool) -> None:
    argv = daemon_argv(options, api_only=api_only)
    log.info("re-executing the daemon %s cluster services", "without" if api_only else "with")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(argv[0], argv)


def write_setup(options: Any, config_text: str, authkey_b64: str) -> ClusterConfig:
    """Check and write what `cluster setup` sent: the configuration must be valid and
    name this node; the key is written mode 0400."""
    config = ClusterConfig.from_text(config_text, str(options.config_path))
    check(config).raise_errors(f"cluster configuration for {options.config_path}")
    startup.local_node(config, options.node)  # this node must be in the nodelist
    try:
        key = base64.b64decode(authkey_b64, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError("the authkey sent is not base64", where="setup") from None
    for path in (options.config_path, options.authkey_path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    keyfile = Path(options.authkey_path)
    atomic_write(keyfile, key)
    os.chmod(keyfile, 0o400)
    atomic_write(Path(options.config_path), config_text.encode())
    os.chmod(options.config_path, 0o644)
    log.info("cluster configuration written by `cluster setup`: %s", options.config_path)
    return config


class StandbyDaemon:
    """The remote API alone, until the cluster services are started."""

    def __init__(self, options: Any, reason: str) -> None:
        if not options.remote_port:
            raise HactlError(
                f"{reason}, and the remote API is off (--remote-port 0): nothing to run",
                where=str(options.config_path),
                hint="create the configuration, or run with a remote API for `cluster setup`",
            )
        self.options = options
        self.reason = reason
        self.lock = startup.StateLock(options.state_dir)
        self._stopping = asyncio.Event()
        self._next: bool | None = None  # start the cluster services after stopping

    async def run(self) -> None:
        self.lock.acquire()
        try:
            await self._run_locked()
        finally:
            self.lock.release()
        if self._next is not None:
            reexec(self.options, api_only=False)

    async def _run_locked(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stopping.set)
        handlers = {
            "ping": self._status,
            "status": self._status,
            "setup": self._setup,
            "start": self._start,
            "enable": self._enable,
            "disable": self._disable,
            "destroy": self._destroy,
        }
        for op in (
            *("cib.get", "cib.push", "quorum", "members", "fault", "stop"),
            *("config.get", "config.set"),
        ):
            handlers[op] = self._not_running
        api = ApiServer(self.options.socket_path, handlers)
        remote = RemoteApi(
            address=self.options.remote_address or "0.0.0.0",
            port=self.options.remote_port,
            users_path=self.options.users_path or default_users_path(),
            state_dir=self.options.state_dir,
            node_name=self.options.node or os.uname().nodename,
            handlers=handlers,
        )
        await api.start()
        await remote.start()
        log.info("cluster services not running (%s); remote API waiting", self.reason)
        await self._stopping.wait()
        await remote.stop()
        await api.stop()

    async def _not_running(self, request: dict[str, Any]) -> dict[str, Any]:
        raise HactlError(
            f"the cluster services are not running on this node: {self.reason}",
            hint="start them with `hactl cluster start`",
        )

    async def _status(self, request: dict[str, Any]) -> dict[str, Any]:
        return {
            "running": False,
            "reason": self.reason,
            "configured": Path(self.options.config_path).exists(),
            "enabled": not disabled(self.options.state_dir),
            "node": {"name": self.options.node, "pid": os.getpid()},
        }

    async def _setup(self, request: dict[str, Any]) -> dict[str, Any]:
        if Path(self.options.config_path).exists() and not request.get("force"):
            raise HactlError(
                "this node already has a cluster configuration",
                where=str(self.options.config_path),
                hint="remove it first (or set up with --force)",
            )
        write_setup(self.options, str(request["config"]), str(request["authkey"]))
        set_enabled(self.options.state_dir, bool(request.get("enable")))
        if request.get("start"):
            self._later_start()
        return await self._status(request)

    def _later_start(self) -> None:
        # answer first; the re-exec happens once the API has stopped
        self._next = True
        asyncio.get_running_loop().call_later(0.2, self._stopping.set)

    async def _start(self, request: dict[str, Any]) -> dict[str, Any]:
        if not Path(self.options.config_path).exists():
            raise HactlError(
                "this node has no cluster configuration",
                where=str(self.options.config_path),
                hint="set the cluster up first: `hactl cluster setup NAME NODE…`",
            )
        self._later_start()
        return {"starting": True, "node": {"name": self.options.node, "pid": os.getpid()}}

    async def _destroy(self, request: dict[str, Any]) -> dict[str, Any]:
        """`pcs cluster destroy` on this node (what `cluster node remove` does last): the
        cluster configuration, the authkey and the node's copy of the CIB are removed."""
        import shutil

        for path in (Path(self.options.config_path), Path(self.options.authkey_path)):
            path.unlink(missing_ok=True)
        shutil.rmtree(Path(self.options.state_dir) / "cib", ignore_errors=True)
        (Path(self.options.state_dir) / "ringid").unlink(missing_ok=True)
        log.info("cluster configuration, authkey and CIB removed (cluster destroy)")
        self.reason = "no cluster configuration (removed from its cluster)"
        return await self._status(request)

    async def _enable(self, request: dict[str, Any]) -> dict[str, Any]:
        set_enabled(self.options.state_dir, True)
        return await self._status(request)

    async def _disable(self, request: dict[str, Any]) -> dict[str, Any]:
        set_enabled(self.options.state_dir, False)
        return await self._status(request)
