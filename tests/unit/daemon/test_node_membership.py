"""`cluster node add|remove`'s nodelist edits: pure text in, checked text out."""

from __future__ import annotations

import pytest

from hactl.core.cli.cluster_nodes import add_node_text, node_names_in, remove_node_text
from hactl.core.config.model import ClusterConfig
from hactl.core.errors import HactlError, UsageError

TWO_NODES = """\
totem {
    version: 2
    cluster_name: demo
    transport: knet
}

nodelist {
    # the first machines
    node {
        ring0_addr: 10.0.0.1
        name: a
        nodeid: 1
    }
    node {
        ring0_addr: 10.0.0.2
        name: b
        nodeid: 7
    }
}

quorum {
    provider: corosync_votequorum
    two_node: 1
}
"""


def test_add_takes_the_next_nodeid_keeps_the_rest_and_drops_two_node() -> None:
    text, nodeid = add_node_text(TWO_NODES, "c", "10.0.0.3", "corosync.conf")
    assert nodeid == 8
    config = ClusterConfig.from_text(text, "new")
    assert [(n.name, n.nodeid, n.ring_addrs[0]) for n in config.nodelist][-1] == (
        "c",
        8,
        "10.0.0.3",
    )
    assert "# the first machines" in text and "two_node" not in text
    assert "        ring0_addr: 10.0.0.3\n" in text  # indented like its siblings
    assert node_names_in(text, "new") == ["a", "b", "c"]


def test_remove_back_to_two_nodes_sets_two_node() -> None:
    three, _ = add_node_text(TWO_NODES, "c", "10.0.0.3", "corosync.conf")
    text = remove_node_text(three, "a", "corosync.conf")
    assert node_names_in(text, "x") == ["b", "c"]
    assert "two_node: 1" in text
    assert remove_node_text(three, "7", "x").count("node {") == 2  # by nodeid too


@pytest.mark.parametrize(
    ("name", "address", "message"),
    [
        ("a", "10.0.0.9", "a is already in the cluster"),
        ("c", "10.0.0.2", "address 10.0.0.2 is already node b's"),
    ],
)
def test_add_refuses_a_taken_name_or_address(name: str, address: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        add_node_text(TWO_NODES, name, address, "corosync.conf")


def test_remove_refuses_an_unknown_or_the_last_node() -> None:
    with pytest.raises(UsageError, match="zz is not in the cluster"):
        remove_node_text(TWO_NODES, "zz", "corosync.conf")
    one = remove_node_text(TWO_NODES, "a", "corosync.conf")
    with pytest.raises(HactlError, match="the last node"):
        remove_node_text(one, "b", "corosync.conf")
