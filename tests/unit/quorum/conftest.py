"""A simulated cluster of votequorum instances for the tests.

Totem (core/totem) is not wired to the quorum provider yet, so this harness stands in for
it and says so: it installs memberships and delivers every provider message to every member
of a partition in one agreed order, exactly the guarantees totem gives (virtual synchrony:
the members of a ring see the same messages in the same order), then completes the sync.
Time is a virtual clock in ms.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from hactl.core.config import ClusterConfig, votequorum_settings
from hactl.plugins.quorum.votequorum import VoteQuorum


class SimCluster:
    def __init__(self, conf_text: str, ev_tracking_barrier: int = 0):
        self.config = ClusterConfig.from_text(conf_text, "test.conf")
        self.nodeids = [n.nodeid or i + 1 for i, n in enumerate(self.config.nodelist)]
        self.now = 0
        self.ring_seq = 0
        self.running: dict[int, VoteQuorum] = {}
        self.partitions: list[frozenset[int]] = []
        self.ev_tracking_barrier = ev_tracking_barrier

    # ----------------------------------------------------------------- membership

    def start(self, nodeid: int) -> VoteQuorum:
        settings = votequorum_settings(self.config, nodeid)
        names = {n.nodeid or i + 1: n.label for i, n in enumerate(self.config.nodelist)}
        node = VoteQuorum(
            settings, nodeid, names=names, ev_tracking_barrier=self.ev_tracking_barrier
        )
        self.running[nodeid] = node
        # totem always installs a ring of the node alone before it merges with others
        self._install(frozenset({nodeid}))
        self.partitions.append(frozenset({nodeid}))
        return node

    def stop(self, nodeid: int, clean: bool = False) -> None:
        """A node goes away; ``clean`` lets it announce its leave first (allow_downscale)."""
        node = self.running[nodeid]
        if clean:
            part = self.partition_of(nodeid)
            self.broadcast(part, nodeid, node.leave())
        del self.running[nodeid]
        self.partitions = [p - {nodeid} for p in self.partitions]
        self.partitions = [p for p in self.partitions if p]

    def partition_of(self, nodeid: int) -> frozenset[int]:
        return next(p for p in self.partitions if nodeid in p)

    def form(self, groups: Iterable[Iterable[int]]) -> None:
        """Install new rings: each group (of running nodes) becomes one partition."""
        parts = [frozenset(g) & frozenset(self.running) for g in groups]
        parts = [p for p in parts if p]
        for part in parts:
            self._install(part)
        self.partitions = parts

    def _install(self, part: frozenset[int]) -> None:
        self.ring_seq += 1
        ring = f"{min(part)}.{self.ring_seq:x}"
        queue: list[tuple[int, object]] = []
        for nodeid in sorted(part):
            for msg in self.running[nodeid].membership_changed(ring, part, self.now):
                queue.append((nodeid, msg))
        self._deliver(part, queue)
        for nodeid in sorted(part):
            self.running[nodeid].sync_completed(self.now)

    def _deliver(self, part: frozenset[int], queue: list[tuple[int, object]]) -> None:
        while queue:
            sender, msg = queue.pop(0)
            # every message crosses the wire as bytes, as it will over totem
            data = self.running[sender].encode(msg)
            for nodeid in sorted(part):
                node = self.running[nodeid]
                for reply in node.deliver(sender, node.decode(data), self.now):
                    queue.append((nodeid, reply))

    def broadcast(self, part: frozenset[int], sender: int, messages: list[object]) -> None:
        self._deliver(part, [(sender, m) for m in messages])

    def advance(self, ms: int) -> None:
        """Move the virtual clock, firing timers (and delivering what they send)."""
        end = self.now + ms
        while True:
            due = [
                (d, n)
                for n, q in self.running.items()
                if (d := q.next_deadline()) is not None and d <= end
            ]
            if not due:
                break
            deadline, nodeid = min(due)
            self.now = max(self.now, deadline)
            out = self.running[nodeid].timer_expired(self.now)
            self.broadcast(self.partition_of(nodeid), nodeid, out)
        self.now = end

    # ----------------------------------------------------------------- observations

    def quorate(self, nodeid: int) -> bool:
        return self.running[nodeid].quorate

    def expected(self, nodeid: int) -> int:
        return self.running[nodeid].expected_votes

    def quorum(self, nodeid: int) -> int:
        return self.running[nodeid].quorum


def conf(nodes: int, quorum_options: str = "", votes: dict[int, int] | None = None) -> str:
    """A corosync.conf as pcs writes it, with ``nodes`` nodes and extra quorum options."""
    votes = votes or {}
    node_blocks = "\n".join(
        f"    node {{\n        ring0_addr: 10.0.0.{i}\n        name: n{i}\n        nodeid: {i}\n"
        + (f"        quorum_votes: {votes[i]}\n" if i in votes else "")
        + "    }\n"
        for i in range(1, nodes + 1)
    )
    options = "".join(
        f"    {line.strip()}\n" for line in quorum_options.splitlines() if line.strip()
    )
    return (
        "totem {\n    version: 2\n    cluster_name: sim\n    transport: knet\n}\n\n"
        f"nodelist {{\n{node_blocks}}}\n\n"
        f"quorum {{\n    provider: corosync_votequorum\n{options}}}\n"
    )


@pytest.fixture
def cluster() -> type[SimCluster]:
    """The simulated cluster class (``cluster(conf_text)`` builds one)."""
    return SimCluster


@pytest.fixture
def make_conf():  # type: ignore[no-untyped-def]
    """``make_conf(nodes, quorum_options, votes)``: a pcs-shaped corosync.conf."""
    return conf
