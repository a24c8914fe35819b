"""Real processes, real sockets: totem nodes over udpu on loopback addresses
(127.0.0.x), encrypted with AES-256-GCM from a random authkey."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from totem_cluster import ProcessCluster, free_port_base, loopback_nodelist  # noqa: E402

TOKEN_MS = 1000
CONSENSUS_MS = 1200


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[ProcessCluster]:
    cluster = ProcessCluster(tmp_path)
    try:
        yield cluster
    finally:
        cluster.close()


def start_udpu(cluster: ProcessCluster, count: int, port: int) -> None:
    options = {"nodelist": loopback_nodelist(count), "mcastport": port}
    for nodeid in range(1, count + 1):
        cluster.add(nodeid, "udpu", options, params={"token": TOKEN_MS})


def test_three_processes_agree_on_order_and_survive_a_crash(cluster: ProcessCluster) -> None:
    start_udpu(cluster, 3, free_port_base())
    cluster.wait_for(lambda: cluster.one_ring([1, 2, 3]), 20, "one ring of 1, 2, 3")
    for round_ in range(20):
        for nodeid in (1, 2, 3):
            cluster.nodes[nodeid].command(f"send m{round_}-from-{nodeid}")
    cluster.wait_for(
        lambda: all(len(cluster.nodes[i].delivered()) == 60 for i in (1, 2, 3)),
        20,
        "60 deliveries everywhere",
    )
    orders = [cluster.nodes[i].delivered() for i in (1, 2, 3)]
    assert orders[0] == orders[1] == orders[2]
    assert sorted(orders[0]) == sorted(f"m{r}-from-{n}" for r in range(20) for n in (1, 2, 3))

    cluster.kill(3)
    took = cluster.wait_for(lambda: cluster.one_ring([1, 2]), 15, "a ring of 1, 2")
    # no consensus wait: the dead process's port answers ICMP unreachable to both
    assert took < TOKEN_MS / 1000 + 0.8 < (TOKEN_MS + CONSENSUS_MS) / 1000
    transitional = cluster.nodes[1].configs(transitional=True)[-1]
    assert transitional["members"] == [1, 2] and transitional["left"] == [3]
    cluster.nodes[2].command("send after-the-crash")
    cluster.wait_for(
        lambda: all(cluster.nodes[i].delivered()[-1:] == ["after-the-crash"] for i in (1, 2)),
        10,
        "delivery in the new ring",
    )
    stats = cluster.stats(1)
    assert stats["sealer"]["bad_auth"] == 0 and stats["sealer"]["opened"] > 0


def test_a_node_with_another_key_is_never_admitted(cluster: ProcessCluster, tmp_path: Path) -> None:
    port = free_port_base() + 10
    options = {"nodelist": loopback_nodelist(3), "mcastport": port}
    cluster.add(1, "udpu", options)
    cluster.add(2, "udpu", options)
    intruder_dir = tmp_path / "intruder"
    intruder_dir.mkdir()
    intruder = ProcessCluster(intruder_dir)  # its own random authkey
    try:
        intruder.add(3, "udpu", options)
        cluster.wait_for(lambda: cluster.one_ring([1, 2]), 20, "a ring of 1, 2")
        intruder.wait_for(lambda: bool(intruder.nodes[3].configs()), 20, "the intruder alone")
        assert intruder.nodes[3].configs()[-1]["members"] == [3]
        # the intruder's merge-detects keep coming, and keep failing authentication
        cluster.wait_for(
            lambda: cluster.stats(1)["sealer"]["bad_auth"] > 0, 10, "dropped intruder packets"
        )
        assert cluster.stats(1)["members"] == [1, 2]
    finally:
        intruder.close()


def test_bad_configuration_is_one_line(cluster: ProcessCluster) -> None:
    options = {"nodelist": [{"nodeid": 1, "ring0_addr": "not-an-address"}], "mcastport": 5405}
    node = cluster.add(1, "udpu", options)
    node.process.wait(timeout=30)
    cluster.pump()
    errors = [r for r in node.records if r.get("event") == "error"]
    assert node.process.returncode == 1
    assert errors and "is not an IP address" in errors[0]["message"]
    assert "nodelist.node[0].ring0_addr" in errors[0]["message"]
