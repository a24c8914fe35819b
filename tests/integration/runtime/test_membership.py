"""`hactl cluster node add|remove` on a running cluster of real daemons: a fourth sandbox
node (its daemon waiting with only its remote API) is added through the remote API of
every node, joins the ring, and is removed again, its resources moved away first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lxml import etree

#: a reload, then a new ring with the new node (token 1 s, consensus 1.2 s) and slack
JOIN = 30.0


def cib_of(cluster: Any, node: str) -> etree._Element:
    return etree.fromstring(cluster.status(node)["cib"].encode())


def node_ids_in_cib(cluster: Any, node: str) -> tuple[set[str], set[str]]:
    cib = cib_of(cluster, node)
    return (
        {n.get("id", "") for n in cib.iterfind("configuration/nodes/node")},
        {s.get("id", "") for s in cib.iterfind("status/node_state")},
    )


def expected_votes(cluster: Any, node: str) -> int:
    return int(cluster.status(node)["quorum"]["expected_votes"])


def token_ms(cluster: Any, node: str) -> int:
    """The token timeout the node's ring runs with (Corosync's runtime.config.totem.token):
    the configured 1000 ms plus token_coefficient (650 ms) per node above two."""
    return int(cluster.status(node)["totem"]["token"])


def test_a_node_is_added_to_a_running_cluster_then_removed(
    fresh_cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cluster, sandbox = fresh_cluster, fresh_cluster.sandbox
    assert {token_ms(cluster, n) for n in sandbox.nodes()} == {1650}
    monkeypatch.setenv("HACTL_KNOWN_HOSTS", str(tmp_path / "known-hosts.json"))
    made = cluster.hactl("sandbox", "add-node")
    assert made.code == 0 and "node4: waiting to be added" in made.out, made.err
    unknown = cluster.hactl("cluster", "node", "add", "node4", "addr=127.0.0.4", node="node1")
    assert unknown.code == 2 and "not authenticated to node1, node2, node3, node4" in unknown.err
    assert "nodeid: 4" not in sandbox.config_of("node1").read_text()  # nothing changed
    hosts = [word for i in (1, 2, 3, 4) for word in (f"node{i}", f"addr=127.0.0.{i}")]
    port = str(sandbox.record()["remote_port"])
    password = sandbox.password_path.read_text().strip()
    auth = cluster.hactl("host", "auth", *hosts, "--port", port, "-p", password)
    assert auth.code == 0, auth.err

    taken = cluster.hactl("cluster", "node", "add", "node5", "addr=127.0.0.2", node="node1")
    assert taken.code == 2 and "address 127.0.0.2 is already node node2's" in taken.err
    assert taken.err.count("\n") == 1 and "Traceback" not in taken.err

    added = cluster.hactl(
        "cluster", "node", "add", "node4", "addr=127.0.0.4", "--start", node="node1"
    )
    assert added.code == 0, added.err
    four = ["node1", "node2", "node3", "node4"]
    took = cluster.wait(lambda: cluster.formed(four), JOIN, "node4 in the ring")
    print(f"node4 joined {took:.2f}s after `cluster node add`")
    cluster.wait(lambda: all(expected_votes(cluster, n) == 4 for n in four), 5, "4 votes")
    # a reload derives the token timeout again for the node count, as Corosync's does
    assert {token_ms(cluster, n) for n in four} == {2300}
    for name in four:
        assert "name: node4" in sandbox.config_of(name).read_text()
    cluster.wait(lambda: "4" in node_ids_in_cib(cluster, "node2")[1], 5, "node4 in the CIB")
    members = cluster.hactl("cluster", "members", node="node3")
    assert "runtime.members.4.ip (str) = r(0) ip(127.0.0.4)" in members.out, members.err

    # a resource on node4 moves away before node4 leaves
    for args in (
        ("property", "set", "stonith-enabled=false"),
        ("resource", "create", "d", "ocf:hactl:Dummy"),
        ("constraint", "location", "d", "prefers", "node4=50"),
    ):
        done = cluster.hactl(*args, node="node2")
        assert done.code == 0, done.err

    def runs_on() -> set[str]:
        return {n for n in four if (sandbox.state_dir(n) / "rsctmp/Dummy-d.state").exists()}

    cluster.wait(lambda: runs_on() == {"node4"}, 20, "d started on node4")

    removed = cluster.hactl("cluster", "node", "remove", "node4", node="node2")
    assert removed.code == 0, removed.err
    three = ["node1", "node2", "node3"]
    assert cluster.formed(three)
    assert len(runs_on()) == 1 and "node4" not in runs_on()
    cluster.wait(lambda: all(expected_votes(cluster, n) == 3 for n in three), 5, "3 votes")
    assert {token_ms(cluster, n) for n in three} == {1650}
    cluster.wait(
        lambda: all(
            node_ids_in_cib(cluster, n) == ({"1", "2", "3"}, {"1", "2", "3"}) for n in three
        ),
        5,
        "node4 gone from every CIB",
    )
    for name in three:
        assert "node4" not in sandbox.config_of(name).read_text()
    assert not sandbox.config_of("node4").exists()  # `cluster destroy` on the removed node
    again = cluster.hactl("cluster", "node", "remove", "node4", node="node1")
    assert again.code == 2 and "node4 is not in the cluster" in again.err
