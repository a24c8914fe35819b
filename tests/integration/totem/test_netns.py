"""Several hosts on one machine: each node in its own network namespace, links through
bridges. Multicast between namespaces (udp), and a knet link taken down with
`ip link set … down` that fails over without any membership change. Skips, saying why,
where namespaces are not available; always removes what it created."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import netns  # noqa: E402
from totem_cluster import ProcessCluster  # noqa: E402

REASON = netns.unavailable()
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")

NODES = [1, 2, 3]


def nodelist(links: int) -> list[dict[str, object]]:
    return [
        {"nodeid": i, **{f"ring{n}_addr": netns.address(i, n) for n in range(links)}} for i in NODES
    ]


@pytest.fixture
def two_link_hosts(tmp_path: Path) -> Iterator[tuple[netns.Topology, ProcessCluster]]:
    topology = netns.Topology(NODES, links=2)
    cluster = ProcessCluster(tmp_path)
    try:
        yield topology, cluster
    finally:
        cluster.close()
        topology.close()


def test_udp_multicast_between_namespaces(
    two_link_hosts: tuple[netns.Topology, ProcessCluster],
) -> None:
    topology, cluster = two_link_hosts
    options = {"nodelist": nodelist(1), "mcastaddr": "239.192.77.1", "mcastport": 5405}
    for i in NODES:
        cluster.add(i, "udp", options, netns=topology.netns(i))
    cluster.wait_for(lambda: cluster.one_ring(NODES), 20, "one ring over multicast")
    for i in NODES:
        cluster.nodes[i].command(f"send mcast-{i}")
    cluster.wait_for(
        lambda: all(len(cluster.nodes[i].delivered()) == 3 for i in NODES), 10, "3 deliveries"
    )
    assert cluster.nodes[1].delivered() == cluster.nodes[3].delivered()
    assert cluster.stats(2)["transport"]["mcast"] == "239.192.77.1:5405"


def test_knet_link_down_fails_over_without_membership_change(
    two_link_hosts: tuple[netns.Topology, ProcessCluster],
) -> None:
    topology, cluster = two_link_hosts
    options = {
        "nodelist": nodelist(2),
        "mcastport": 5405,
        "link_mode": "passive",
        "links": {
            "0": {"knet_link_priority": 20, "knet_ping_interval": 100, "knet_ping_timeout": 400},
            "1": {"knet_link_priority": 10, "knet_ping_interval": 100, "knet_ping_timeout": 400},
        },
    }
    for i in NODES:
        cluster.add(i, "knet", options, params={"token": 2000}, netns=topology.netns(i))
    cluster.wait_for(lambda: cluster.one_ring(NODES), 30, "one ring over knet")
    rings_before = {i: len(cluster.nodes[i].configs()) for i in NODES}

    topology.set_link(1, 0, up=False)  # node 1 loses its preferred link
    for n in range(20):
        cluster.nodes[1 + n % 3].command(f"send during-failover-{n}")
        time.sleep(0.1)
    cluster.wait_for(
        lambda: all(len(cluster.nodes[i].delivered()) == 20 for i in NODES),
        20,
        "every message delivered over the remaining link",
    )
    time.sleep(3)  # longer than the token timeout: a membership change would show now
    cluster.pump()
    assert {i: len(cluster.nodes[i].configs()) for i in NODES} == rings_before
    links = cluster.stats(2)["transport"]["links"]
    assert not links["1/0"]["up"] and links["1/1"]["up"] and links["3/0"]["up"]

    topology.set_link(1, 1, up=False)  # and now its last one: node 1 is gone for the others
    cluster.wait_for(lambda: cluster.one_ring([2, 3]), 20, "a ring of 2 and 3")
    topology.set_link(1, 0, up=True)
    topology.set_link(1, 1, up=True)
    cluster.wait_for(lambda: cluster.one_ring(NODES), 30, "node 1 back in the ring")
