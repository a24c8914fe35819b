"""Runs totem nodes as separate processes (``python -m hactl.core.totem.tool``), optionally
inside network namespaces, and follows what they print. Shared by the integration tests
and bench/totem.py."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Record = dict[str, Any]


@dataclass
class NodeProcess:
    nodeid: int
    process: subprocess.Popen[str]
    records: list[Record] = field(default_factory=list)
    inbox: queue.Queue[Record] = field(default_factory=queue.Queue)

    def command(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def configs(self, transitional: bool = False) -> list[Record]:
        return [
            r
            for r in self.records
            if r.get("event") == "config" and r["transitional"] == transitional
        ]

    def delivered(self) -> list[str]:
        return [r["text"] for r in self.records if r.get("event") == "deliver"]

    @property
    def alive(self) -> bool:
        return self.process.poll() is None


class ProcessCluster:
    """Start with :meth:`add`; always :meth:`close` (kills only the processes it started)."""

    def __init__(self, workdir: Path, *, cluster_name: str = "hactl-test") -> None:
        self.workdir = workdir
        self.cluster_name = cluster_name
        self.nodes: dict[int, NodeProcess] = {}
        self.keyfile = workdir / "authkey"
        if not self.keyfile.exists():
            self.keyfile.write_bytes(os.urandom(256))

    def add(
        self,
        nodeid: int,
        transport: str,
        transport_options: dict[str, Any],
        *,
        params: dict[str, int] | None = None,
        crypto: dict[str, str] | None = None,
        netns: str | None = None,
    ) -> NodeProcess:
        crypto = crypto or {"cipher": "aes256", "hash": "sha256"}
        config = {
            "nodeid": nodeid,
            "cluster_name": self.cluster_name,
            "transport": transport,
            "transport_options": transport_options,
            "crypto": crypto,
            "keyfile": None if crypto["cipher"] == crypto["hash"] == "none" else str(self.keyfile),
            "params": params or {"token": 1000},
            "state_dir": str(self.workdir),
        }
        path = self.workdir / f"node{nodeid}.json"
        path.write_text(json.dumps(config))
        argv = [sys.executable, "-m", "hactl.core.totem.tool", str(path)]
        if netns is not None:
            argv = ["ip", "netns", "exec", netns, *argv]
        # PYTHONSAFEPATH: the repository root must not shadow the installed package (nor
        # key stevedore's entry-point cache on a stale egg-info found there)
        process = subprocess.Popen(
            argv,
            cwd=self.workdir,
            env={**os.environ, "PYTHONSAFEPATH": "1"},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        node = NodeProcess(nodeid, process)
        threading.Thread(target=self._follow, args=(node,), daemon=True).start()
        self.nodes[nodeid] = node
        return node

    @staticmethod
    def _follow(node: NodeProcess) -> None:
        assert node.process.stdout is not None
        for line in node.process.stdout:
            try:
                record = json.loads(line)
            except ValueError:
                record = {"event": "garbage", "line": line}
            node.inbox.put(record)

    def pump(self) -> None:
        for node in self.nodes.values():
            while True:
                try:
                    node.records.append(node.inbox.get_nowait())
                except queue.Empty:
                    break

    def wait_for(self, condition: Callable[[], bool], timeout: float, what: str) -> float:
        """Wait until ``condition()``; returns the seconds it took, fails with ``what``."""
        start = time.monotonic()
        while True:
            self.pump()
            if condition():
                return time.monotonic() - start
            if time.monotonic() - start > timeout:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}: {self}")
            for node in self.nodes.values():
                errors = [r for r in node.records if r.get("event") == "error"]
                if errors:
                    raise AssertionError(f"node {node.nodeid} failed: {errors[0]['message']}")
            time.sleep(0.01)

    def one_ring(self, members: list[int]) -> bool:
        """Every listed node's last regular configuration is the same ring of ``members``."""
        lasts = []
        for nodeid in members:
            configs = self.nodes[nodeid].configs()
            if not configs:
                return False
            lasts.append(configs[-1])
        return all(c["members"] == members and c["ring"] == lasts[0]["ring"] for c in lasts)

    def stats(self, nodeid: int, timeout: float = 30.0) -> Record:
        node = self.nodes[nodeid]
        seen = sum(1 for r in node.records if r.get("event") == "stats")
        node.command("stats")
        self.wait_for(
            lambda: sum(1 for r in node.records if r.get("event") == "stats") > seen,
            timeout,
            f"stats of node {nodeid}",
        )
        return [r for r in node.records if r.get("event") == "stats"][-1]

    def kill(self, nodeid: int) -> None:
        node = self.nodes[nodeid]
        if node.alive:
            node.process.kill()
            node.process.wait(timeout=10)

    def close(self) -> None:
        for node in self.nodes.values():
            if node.alive:
                try:
                    node.command("quit")
                    node.process.wait(timeout=3)
                except (OSError, subprocess.TimeoutExpired):
                    node.process.kill()
                    node.process.wait(timeout=10)
            for stream in (node.process.stdin, node.process.stdout, node.process.stderr):
                if stream is not None:
                    stream.close()

    def __str__(self) -> str:
        parts = []
        for n in self.nodes.values():
            text = f"node {n.nodeid}: {'up' if n.alive else 'down'}, last config "
            text += str((n.configs() or [{}])[-1].get("members"))
            if not n.alive and n.process.stderr is not None:
                text += f", stderr {n.process.stderr.read()[-300:]!r}"
            parts.append(text)
        return "; ".join(parts)


def loopback_nodelist(count: int, links: int = 1) -> list[dict[str, Any]]:
    """Nodes 1..count on 127.0.0.(10+i); link n of node i on 127.0.(n+1).(10+i)."""
    return [
        {"nodeid": i, **{f"ring{n}_addr": f"127.0.{n}.{10 + i}" for n in range(links)}}
        for i in range(1, count + 1)
    ]


def free_port_base() -> int:
    """A port (and the few after it) unlikely to collide with parallel runs."""
    return 20000 + (os.getpid() * 7) % 30000
