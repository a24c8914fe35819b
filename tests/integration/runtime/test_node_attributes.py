"""`hactl node attribute` on the running cluster: configured attributes, transient ones
(`--lifetime reboot`) and dampened ones (`--delay`, through the node's attribute manager)."""

from __future__ import annotations

import json
import time

from lxml import etree

from .conftest import Cluster


def transient(cluster: Cluster, node: str, name: str, asked: str = "node1") -> str | None:
    """``name``'s value on ``node`` in the status section as ``asked`` holds it."""
    cib = etree.fromstring(cluster.sandbox.call(asked, "cib.get")["cib"].encode())
    found = cib.xpath(
        "status/node_state[@uname=$n]/transient_attributes//nvpair[@name=$a]/@value",
        n=node,
        a=name,
    )
    return str(found[0]) if found else None


def listed(cluster: Cluster, *args: str, node: str = "node1") -> dict[str, dict[str, str]]:
    shown = cluster.hactl("node", "attribute", *args, "--output", "json", node=node)
    assert shown.code == 0, shown.err
    result: dict[str, dict[str, str]] = json.loads(shown.out)
    return result


def test_delay_dampens_a_transient_attribute_and_the_listing_shows_it(cluster: Cluster) -> None:
    """Two values within a 6 s delay through node2's daemon: nothing is written before the
    delay, then only the last value, which every node lists; an empty value deletes it."""
    began = time.monotonic()
    first = cluster.hactl("node", "attribute", "node3", "load=1", "--delay", "6s", node="node2")
    assert first.code == 0, first.err
    second = cluster.hactl(
        "node", "attribute", "node3", "load=2", "--lifetime", "reboot", node="node2"
    )
    assert second.code == 0, second.err
    assert time.monotonic() - began < 5.0, "this machine is too slow for the test's window"
    seen = set()
    while time.monotonic() - began < 5.5:
        seen.add(transient(cluster, "node3", "load"))
        time.sleep(0.1)
    assert seen == {None}, f"written before the dampening delay: {seen}"
    cluster.wait(lambda: transient(cluster, "node3", "load", asked="node3") == "2", 10, "load=2")
    assert listed(cluster, "--lifetime", "reboot", node="node1").get("node3") == {"load": "2"}
    text = cluster.hactl("node", "attribute", "node3", "--lifetime", "reboot", node="node3")
    assert text.code == 0, text.err
    assert text.out.splitlines() == ["Node Attributes (lifetime reboot):", "  node3: load=2"]
    assert "load" not in listed(cluster).get("node3", {}), "a transient value is not configured"

    gone = cluster.hactl(
        "node", "attribute", "node3", "load=", "--lifetime", "reboot", node="node2"
    )
    assert gone.code == 0, gone.err
    cluster.wait(lambda: transient(cluster, "node3", "load") is None, 15, "load deleted")


def test_configured_attributes_are_listed_live(cluster: Cluster) -> None:
    done = cluster.hactl("node", "attribute", "node2", "rack=r2", node="node3")
    assert done.code == 0, done.err
    assert listed(cluster, "node2", node="node1") == {"node2": {"rack": "r2"}}
    assert transient(cluster, "node2", "rack") is None


def test_bad_transient_requests_are_refused_with_one_line(cluster: Cluster) -> None:
    unknown = cluster.hactl("node", "attribute", "node9", "load=1", "--delay", "1s", node="node1")
    assert unknown.code == 1 and "node 'node9' is not in the CIB" in unknown.err
    assert len(unknown.err.strip().splitlines()) == 1
    bad = cluster.hactl("node", "attribute", "node1", "load=1", "--delay", "soon", node="node1")
    assert bad.code == 2 and "delay 'soon' is not a duration" in bad.err
    both = cluster.hactl(
        "node", "attribute", "node1", "a=1", "--delay", "1s", "--lifetime", "forever", node="node1"
    )
    assert both.code == 2 and "--delay dampens transient attributes" in both.err
