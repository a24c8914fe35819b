"""Bundles on a small CIB: expansion into replicas (container, IP, connection) and a clone of
the bundled resource whose instance n runs on guest node <bundle>-n."""

from __future__ import annotations

from lxml import etree

from .cib_text import NOW, cib, node_state, scheduled, summary

CIB = cib(
    '<bundle id="web"><podman image="httpd:latest" replicas="2"/>'
    '<network ip-range-start="192.168.10.5" control-port="3121"/>'
    '<primitive id="httpd" class="ocf" provider="heartbeat" type="apache"/></bundle>',
    status=node_state("1") + node_state("2"),
)


def test_bundle_expands_into_named_replicas_and_guest_nodes() -> None:
    ws = scheduled(CIB)
    for name in (
        "web-podman-0",
        "web-podman-1",
        "web-ip-192.168.10.5",
        "web-ip-192.168.10.6",
        "web-0",
        "web-1",
        "web-clone",
        "httpd:0",
        "httpd:1",
    ):
        assert name in ws.by_id, name
    guest = ws.node("web-0")
    assert guest is not None and guest.is_guest
    assert ws.by_id["web-0"].launcher is ws.by_id["web-podman-0"]


def test_replicas_spread_and_instances_follow_their_guest_node() -> None:
    ws = scheduled(CIB)
    hosts = {ws.by_id[f"web-podman-{n}"].assigned.name for n in (0, 1)}  # type: ignore[union-attr]
    assert hosts == {"node1", "node2"}
    for n in (0, 1):
        container = ws.by_id[f"web-podman-{n}"]
        assert ws.by_id[f"web-{n}"].assigned is container.assigned
        instance = ws.by_id[f"httpd:{n}"]
        assert instance.assigned is not None and instance.assigned.name == f"web-{n}"
    # the bundled resource is probed on its own guest node only
    probes = [a.name() for a in ws.actions if a.rsc is ws.by_id["httpd:0"] and a.task == "monitor"]
    assert all(name.endswith(" web-0") for name in probes)
    lines = summary(ws)
    first = [line.split()[1:3] for line in lines[:4]]
    assert first == [
        ["Start", "web-ip-192.168.10.5"],
        ["Start", "web-podman-0"],
        ["Start", "web-0"],
        ["Start", "httpd:0"],
    ]


def test_status_shows_one_line_per_replica() -> None:
    from hactl.core.cli import status_view
    from hactl.core.scheduler import unpack

    ws = unpack.unpack(etree.fromstring(CIB), NOW, constraints=False)
    lines = [" ".join(line.split()) for line in status_view.render(ws)]
    assert "* Container bundle set: web [httpd:latest]:" in lines
    assert "* web-0 (192.168.10.5) (ocf:heartbeat:apache): Stopped" in lines
    assert "* web-1 (192.168.10.6) (ocf:heartbeat:apache): Stopped" in lines
