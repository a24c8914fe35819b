"""knet's link monitor: heartbeats bring links up and down; link_mode picks routes."""

from __future__ import annotations

import pytest

from hactl.core.errors import ConfigError
from hactl.plugins.transports.knet import KnetTransport, LinkMonitor


def monitor(mode: str) -> LinkMonitor:
    return LinkMonitor([2, 3], {0: 1, 1: 5, 2: 5}, mode=mode, ping_timeout=1.0, pong_count=2)


def bring_up(m: LinkMonitor, peer: int, link: int, now: float) -> None:
    m.pong(peer, link, now - 0.001, now)
    assert m.pong(peer, link, now - 0.001, now + 0.25)


def test_a_link_needs_pong_count_pongs_and_dies_after_the_timeout() -> None:
    m = monitor("passive")
    assert not m.pong(2, 0, 0.0, 0.0)
    assert m.routes(2) == []
    assert m.pong(2, 0, 0.2, 0.25)
    assert m.routes(2) == [0]
    assert m.expire(1.0) == []
    assert m.expire(1.3) == [(2, 0)]
    assert m.routes(2) == []
    assert not m.pong(2, 0, 1.4, 1.4)  # counting starts again


def test_passive_takes_the_highest_priority_then_the_lowest_number() -> None:
    m = monitor("passive")
    for link in (0, 1, 2):
        bring_up(m, 2, link, 0.0)
    assert m.routes(2) == [1]
    m.links[(2, 1)].up = False
    assert m.routes(2) == [2]
    m.links[(2, 2)].up = False
    assert m.routes(2) == [0]


def test_active_uses_every_up_link_and_rr_takes_turns() -> None:
    active, rr = monitor("active"), monitor("rr")
    for m in (active, rr):
        for link in (0, 2):
            bring_up(m, 3, link, 0.0)
    assert active.routes(3) == [0, 2]
    assert [rr.routes(3) for _ in range(4)] == [[0], [2], [0], [2]]


def test_bad_options_are_named() -> None:
    nodes = [{"nodeid": 1, "ring0_addr": "127.0.0.1"}]
    with pytest.raises(ConfigError, match="unknown link_mode"):
        KnetTransport({"nodeid": 1, "nodelist": nodes, "link_mode": "fastest"})
    with pytest.raises(ConfigError, match="not in the nodelist"):
        KnetTransport({"nodeid": 7, "nodelist": nodes})
    with pytest.raises(ConfigError, match="mcastport 70000 is out of range"):
        KnetTransport({"nodeid": 1, "nodelist": nodes, "mcastport": 70000})


def test_params_and_mtu_from_a_real_configuration() -> None:
    """The config engineer's effective totem values fill TotemParams; knet's netmtu of
    65536 is clamped to a UDP datagram, and the ring fits its packets in it."""
    from hactl.core.config import ClusterConfig, effective_totem
    from hactl.core.totem.params import TotemParams

    nodes = "".join(
        f"    node {{\n        nodeid: {i}\n        ring0_addr: 127.0.0.{i}\n    }}\n"
        for i in (1, 2, 3)
    )
    text = (
        "totem {\n    version: 2\n    cluster_name: c\n    transport: knet\n    token: 3000\n}\n"
        f"nodelist {{\n{nodes}}}\nquorum {{\n    provider: corosync_votequorum\n}}\n"
    )
    effective = effective_totem(ClusterConfig.from_text(text))
    params = TotemParams.from_values(effective)
    assert params.token == 3650 and params.consensus == 4380  # token_coefficient applied
    transport = KnetTransport(
        {"nodeid": 1, "nodelist": [{"nodeid": 1, "ring0_addr": "127.0.0.1"}], "netmtu": 65536}
    )
    assert transport.mtu <= 65507 - 8


def test_a_peer_whose_every_link_went_down_is_reported_unreachable() -> None:
    """Only a peer that was reached and lost all its links: one never reached yet is
    unknown (its links may not be up yet), one with a link left is reachable."""
    nodes = [
        {"nodeid": n, "ring0_addr": f"127.0.0.{n}", "ring1_addr": f"127.0.1.{n}"} for n in (1, 2, 3)
    ]
    transport = KnetTransport({"nodeid": 1, "nodelist": nodes, "token": 1000})
    reports: list[frozenset[int]] = []
    transport.watch_reachability(reports.append)
    m = transport.monitor
    for peer, link in ((2, 0), (2, 1), (3, 0)):
        bring_up(m, peer, link, 0.0)
    transport._links_changed()
    assert reports == []  # nothing was lost; node 3's link 1 was never up: no news
    m.links[(2, 0)].last_pong = -10.0  # link 0 to node 2 times out, link 1 stays
    m.expire(0.3)
    transport._links_changed()
    assert reports == []
    m.links[(3, 0)].last_pong = -10.0
    m.expire(0.3)
    transport._links_changed()
    assert reports == [frozenset({3})]
    bring_up(m, 3, 1, 0.5)  # back over the other link
    transport._links_changed()
    assert reports == [frozenset({3}), frozenset()]
