"""What `hactl daemon` checks before it runs anything; each failure is one HactlError that
names the file (and line) and the reason, so a broken node never half-starts.

* the cluster configuration: corosync.conf syntax and Corosync's start-up rules
  (hactl.core.config), errors with ``file:line``;
* the authkey (unless the configuration runs without crypto): present, readable, 128 to
  4096 bytes, as corosync-keygen writes it;
* which node of the nodelist this is: ``--node NAME|ID`` or, without it, the host name;
* the state directory: created if missing, and locked (a second daemon on the same state
  directory is refused, naming the pid that holds it).
"""

from __future__ import annotations

import fcntl
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from hactl.core.config.authkey import MAX_KEY_BYTES, MIN_KEY_BYTES
from hactl.core.config.derived import effective_crypto
from hactl.core.config.model import ClusterConfig, Node
from hactl.core.config.rules import check
from hactl.core.errors import ConfigError, HactlError


@dataclass(frozen=True)
class LocalNode:
    nodeid: int
    name: str
    address: str  # ring0_addr


def load_config(path: Path) -> ClusterConfig:
    """The configuration, refused when Corosync would refuse to start with it."""
    config = ClusterConfig.load(path)
    check(config).raise_errors(f"cluster configuration {path}")
    if not config.nodelist:
        raise ConfigError(
            "no nodelist: hactl needs every node listed",
            where=str(path),
            hint="add `nodelist { node { ring0_addr: … nodeid: 1 name: … } … }`",
        )
    return config


def crypto_enabled(config: ClusterConfig) -> bool:
    return effective_crypto(config) != ("none", "none")


def authkey_path(config: ClusterConfig, default: Path) -> Path:
    keyfile = config.totem.keyfile
    return Path(keyfile) if keyfile else default


def load_authkey(path: Path) -> bytes:
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            "the authkey is missing",
            where=str(path),
            hint=f"create it with `hactl cluster keygen {path}` and copy it to every node",
        ) from None
    except IsADirectoryError:
        raise ConfigError("the authkey path is a directory", where=str(path)) from None
    except PermissionError:
        raise ConfigError(
            "cannot read the authkey: permission denied",
            where=str(path),
            hint="run the daemon as root (the key is mode 0400)",
        ) from None
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise ConfigError(
            f"the authkey has {len(key)} bytes; {MIN_KEY_BYTES} to {MAX_KEY_BYTES} are needed",
            where=str(path),
            hint="make a new one with `hactl cluster keygen --force` and copy it to every node",
        )
    return key


def local_node(config: ClusterConfig, wanted: str | None) -> LocalNode:
    """This node's entry in the nodelist: ``wanted`` (a name, an address or a node id),
    else the entry whose name is this host's name."""
    wanted = wanted or socket.gethostname()
    for node in config.nodelist:
        ids = {str(node.nodeid), node.name or "", *node.ring_addrs.values()}
        if wanted in ids:
            return _local(config, node)
    names = ", ".join(node.label for node in config.nodelist)
    raise ConfigError(
        f"this node ({wanted}) is not in the nodelist",
        where=f"{config.source}: nodelist",
        hint=f"start with --node NAME, one of: {names}",
    )


def _local(config: ClusterConfig, node: Node) -> LocalNode:
    if node.nodeid is None:
        raise ConfigError(
            f"node {node.label} has no nodeid",
            where=f"{config.source}:{node.line}: nodelist.node",
            hint="give every node a `nodeid:` (1, 2, 3, …)",
        )
    address = node.ring_addrs.get(0)
    if address is None:
        raise ConfigError(
            f"node {node.label} has no ring0_addr",
            where=f"{config.source}:{node.line}: nodelist.node",
            hint="give every node a `ring0_addr:`",
        )
    return LocalNode(node.nodeid, node.name or address, address)


def node_names(config: ClusterConfig) -> dict[int, str]:
    return {n.nodeid: n.name or n.ring_addrs.get(0, "") for n in config.nodelist if n.nodeid}


class StateLock:
    """An exclusive lock on the state directory, held for the daemon's life."""

    NAME = "hactld.pid"

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o750)
        except OSError as exc:
            raise HactlError(
                f"cannot create the state directory: {exc.strerror}",
                where=str(self.state_dir),
                hint="create it, or give another with --state-dir",
            ) from None
        path = self.state_dir / self.NAME
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise HactlError(
                f"another hactl daemon (pid {holder}) runs on this state directory",
                where=str(self.state_dir),
                hint="stop it first, or give this one its own --state-dir",
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
