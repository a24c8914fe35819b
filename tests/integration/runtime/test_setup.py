"""`hactl cluster setup` through the remote API of three daemons that have no
configuration yet (pcsd's flow), then `cluster stop`/`start` of one node remotely."""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ADDRESSES = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]


def free_port() -> int:
    for _ in range(100):
        port = random.randrange(20000, 60000, 2)
        try:
            for address in ADDRESSES:
                for kind, number in ((socket.SOCK_STREAM, port), (socket.SOCK_DGRAM, port + 1)):
                    with socket.socket(socket.AF_INET, kind) as probe:
                        probe.bind((address, number))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port")


def hactl(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hactl.core.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


@pytest.fixture
def blank_nodes(tmp_path: Path) -> Iterator[dict[str, Any]]:
    root = tmp_path / "nodes"
    env = {**os.environ, "HACTL_KNOWN_HOSTS": str(root / "known-hosts.json")}
    env.pop("CIB_file", None)
    port = free_port()
    users = root / "api-users"
    root.mkdir()
    assert (
        hactl(env, "host", "passwd", "--users-file", str(users), "-p", "correct horse").returncode
        == 0
    )
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for index, address in enumerate(ADDRESSES, 1):
            state = root / f"node{index}"
            state.mkdir()
            log = open(state / "daemon.log", "wb")  # noqa: SIM115 - the child's
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable, "-m", "hactl.core.cli.main", "daemon",
                        "--config", str(state / "corosync.conf"),
                        "--authkey", str(state / "authkey"),
                        "--state-dir", str(state),
                        "--node", f"node{index}",
                        "--remote-address", address,
                        "--remote-port", str(port),
                        "--api-users", str(users),
                    ],
                    stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True,
                )
            )  # fmt: skip
            log.close()
        yield {"root": root, "env": env, "port": port, "pids": [p.pid for p in processes]}
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if os.environ.get("KEEP"):
            print(root)
        else:
            shutil.rmtree(root, ignore_errors=True)


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail(f"not {what} within {timeout}s")


def status(blank: dict[str, Any], node: int) -> dict[str, Any] | None:
    """`hactl status --output json` of a node, computed in this process (fast polling)."""
    from hactl.core.cli import status as status_cli
    from hactl.core.daemon import client
    from hactl.core.errors import HactlError

    os.environ["HACTL_SOCKET"] = str(blank["root"] / f"node{node}" / "hactl.sock")
    try:
        current = client.cluster_status()
    except HactlError:
        return None
    finally:
        os.environ.pop("HACTL_SOCKET", None)
    return status_cli.as_json(current, status_cli.working_set(current))


def test_setup_start_stop_through_the_remote_api(blank_nodes: dict[str, Any]) -> None:
    env, port, root = blank_nodes["env"], str(blank_nodes["port"]), blank_nodes["root"]
    targets = ["node1", "addr=127.0.0.1", "node2", "addr=127.0.0.2", "node3", "addr=127.0.0.3"]

    # the daemons start without a configuration: only their remote API runs
    def listening(address: str) -> bool:
        try:
            with socket.create_connection((address, int(port)), timeout=1.0):
                return True
        except OSError:
            return False

    wait_for(lambda: all(listening(address) for address in ADDRESSES), 60, "remote APIs up")
    auth = hactl(env, "host", "auth", *targets, "--port", port, "-p", "correct horse")
    assert auth.returncode == 0, auth.stderr
    no_status = hactl({**env, "HACTL_SOCKET": str(root / "node1" / "hactl.sock")}, "status")
    assert no_status.returncode == 1 and "not running" in no_status.stderr

    setup = hactl(
        env, "cluster", "setup", "demo", *targets,
        "--transport", "udpu", "--mcastport", str(int(port) + 1), "--start",
    )  # fmt: skip
    assert setup.returncode == 0, setup.stderr
    for i in (1, 2, 3):
        state = root / f"node{i}"
        assert (state / "authkey").stat().st_mode & 0o777 == 0o400
        assert "cluster_name: demo" in (state / "corosync.conf").read_text()
    assert len({(root / f"node{i}" / "authkey").read_bytes() for i in (1, 2, 3)}) == 1

    def formed() -> bool:
        views = [status(blank_nodes, i) for i in (1, 2, 3)]
        return all(
            v is not None and v["cluster"]["quorate"] and len(v["nodes"]) == 3
            and all(n["state"] == "online" for n in v["nodes"])
            for v in views
        )  # fmt: skip

    wait_for(formed, 30, "formed")
    pids_before = blank_nodes["pids"]
    assert {status(blank_nodes, i)["cluster"]["dc"] for i in (1, 2, 3)} != {None}  # type: ignore[index]

    again = hactl(env, "cluster", "setup", "demo", *targets, "--transport", "udpu")
    assert again.returncode == 1 and "already runs cluster demo" in again.stderr

    stop = hactl(env, "cluster", "stop", "node3")
    assert stop.returncode == 0, stop.stderr

    def node3_offline() -> bool:
        view = status(blank_nodes, 1)
        return (
            view is not None
            and {n["name"]: n["state"] for n in view["nodes"]}["node3"] == "offline"
        )

    wait_for(node3_offline, 40, "node3 stopped cleanly (offline, not unclean)")

    def node3_waiting() -> bool:  # re-executed with only its API
        from hactl.core.daemon import client
        from hactl.core.errors import HactlError

        os.environ["HACTL_SOCKET"] = str(root / "node3" / "hactl.sock")
        try:
            return client.call("status", timeout=2).get("running") is False
        except HactlError:
            return False
        finally:
            os.environ.pop("HACTL_SOCKET", None)

    wait_for(node3_waiting, 40, "node3 waiting with its API only")
    start = hactl(env, "cluster", "start", "node3")
    assert start.returncode == 0, start.stderr
    wait_for(formed, 30, "node3 back")
    # the same processes all along: setup and start re-execute the daemon in place
    assert all(os.path.exists(f"/proc/{pid}") for pid in pids_before)
