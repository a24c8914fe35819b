"""knet over loopback: three processes with two links each (127.0.0.x and 127.0.1.x)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from totem_cluster import ProcessCluster, free_port_base, loopback_nodelist  # noqa: E402


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[ProcessCluster]:
    cluster = ProcessCluster(tmp_path)
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.mark.parametrize("mode", ["passive", "active", "rr"])
def test_two_links_per_node_carry_one_ring(cluster: ProcessCluster, mode: str) -> None:
    port = free_port_base() + 20 + 4 * ["passive", "active", "rr"].index(mode)
    options = {
        "nodelist": loopback_nodelist(3, links=2),
        "mcastport": port,
        "link_mode": mode,
        "links": {"1": {"knet_link_priority": 10}},
    }
    for nodeid in (1, 2, 3):
        cluster.add(nodeid, "knet", options, params={"token": 1000, "netmtu": 65000})
    cluster.wait_for(lambda: cluster.one_ring([1, 2, 3]), 20, "one ring of 1, 2, 3")
    for i in range(10):
        cluster.nodes[1 + i % 3].command(f"send knet-{i}")
    cluster.wait_for(
        lambda: all(len(cluster.nodes[n].delivered()) == 10 for n in (1, 2, 3)),
        15,
        "10 deliveries everywhere",
    )
    assert cluster.nodes[1].delivered() == cluster.nodes[2].delivered()
    assert cluster.nodes[2].delivered() == cluster.nodes[3].delivered()
    links = cluster.stats(1)["transport"]["links"]
    assert links.keys() == {"2/0", "2/1", "3/0", "3/1"}
    assert all(state["up"] for state in links.values())
