"""votequorum scenarios, one table row per documented behaviour (votequorum(5),
corosync-quorumtool(8), features.md section 2): a configuration, a sequence of events, and
after each event the quorate state, expected votes and quorum seen by one node.

Totem is simulated by the harness in conftest.py (agreed-order delivery per partition)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from hactl.plugins.quorum.votequorum import QuorumRefused


@dataclass
class Scenario:
    name: str
    nodes: int
    options: str = ""
    votes: dict[int, int] = field(default_factory=dict)
    ev_tracking_barrier: int = 0  # the highest expected votes an earlier run persisted
    # (event, expectations {observer: (quorate, expected_votes, quorum)})
    steps: list[tuple[tuple[Any, ...], dict[int, tuple[bool, int, int]]]] = field(
        default_factory=list
    )


Y, N = True, False

SCENARIOS = [
    Scenario(
        "majority of three",
        3,
        steps=[
            (("form", [1, 2, 3]), {1: (Y, 3, 2)}),
            (("form", [1, 2]), {1: (Y, 3, 2)}),
            (("form", [1]), {1: (N, 3, 2)}),
            (("form", [1, 2, 3]), {3: (Y, 3, 2)}),
        ],
    ),
    Scenario(
        "quorum never drops on plain node loss",
        5,
        steps=[
            (("form", [1, 2, 3, 4, 5]), {1: (Y, 5, 3)}),
            (("form", [1, 2, 3], [4, 5]), {1: (Y, 5, 3), 4: (N, 5, 3)}),
            (("form", [1, 2], [3], [4, 5]), {1: (N, 5, 3), 3: (N, 5, 3), 4: (N, 5, 3)}),
        ],
    ),
    Scenario(
        "expected_votes from the quorum section overrides the nodelist",
        3,
        options="expected_votes: 5",
        steps=[
            (("form", [1, 2, 3]), {1: (Y, 5, 3)}),
            (("form", [1, 2]), {1: (N, 5, 3)}),
        ],
    ),
    Scenario(
        "expected votes rise to the votes present",
        3,
        options="expected_votes: 2",
        steps=[
            (("form", [1, 2]), {1: (Y, 2, 2)}),
            (("form", [1, 2, 3]), {1: (Y, 3, 2)}),
        ],
    ),
    Scenario(
        "per-node quorum_votes",
        3,
        votes={1: 3},
        steps=[
            (("form", [1, 2, 3]), {1: (Y, 5, 3)}),
            (("form", [1], [2, 3]), {1: (Y, 5, 3), 2: (N, 5, 3)}),
        ],
    ),
    Scenario(
        "two_node: quorate with one of two nodes, after both were seen",
        2,
        options="two_node: 1",
        steps=[
            (("form", [1]), {1: (N, 2, 1)}),  # two_node implies wait_for_all
            (("form", [1, 2]), {1: (Y, 2, 1)}),
            (("form", [1], [2]), {1: (Y, 2, 1), 2: (Y, 2, 1)}),  # fencing decides
            (("form", [1]), {1: (Y, 2, 1)}),
        ],
    ),
    Scenario(
        "two_node with wait_for_all explicitly off",
        2,
        options="two_node: 1\nwait_for_all: 0",
        steps=[(("form", [1]), {1: (Y, 2, 1)})],
    ),
    Scenario(
        "two_node with auto_tie_breaker: two_node is disabled, the tie-breaker decides",
        2,
        options="two_node: 1\nauto_tie_breaker: 1",
        steps=[
            (("form", [1]), {1: (N, 2, 2)}),  # wait_for_all, set by two_node, remains
            (("form", [1, 2]), {1: (Y, 2, 2)}),
            (("form", [1], [2]), {1: (Y, 2, 2), 2: (N, 2, 2)}),
        ],
    ),
    Scenario(
        "wait_for_all: first quorum only with all nodes, re-armed on loss",
        3,
        options="wait_for_all: 1",
        steps=[
            (("form", [1, 2]), {1: (N, 3, 2)}),
            (("form", [1, 2, 3]), {1: (Y, 3, 2)}),
            (("form", [1, 2]), {1: (Y, 3, 2)}),
            (("form", [1]), {1: (N, 3, 2)}),
            (("form", [1, 2]), {1: (N, 3, 2)}),  # re-armed: waits for all again
            (("form", [1, 2, 3]), {1: (Y, 3, 2)}),
        ],
    ),
    Scenario(
        "unblock cancels wait_for_all",
        3,
        options="wait_for_all: 1",
        steps=[
            (("form", [1, 2]), {1: (N, 3, 2), 2: (N, 3, 2)}),
            (("unblock", 2), {1: (Y, 3, 2), 2: (Y, 3, 2)}),
        ],
    ),
    Scenario(
        "a waiting node joining a quorate partition stops waiting",
        5,
        options="wait_for_all: 1",
        steps=[
            (("form", [1, 2, 3, 4, 5]), {1: (Y, 5, 3)}),
            (("form", [1, 2, 3], [4], [5]), {1: (Y, 5, 3), 4: (N, 5, 3)}),
            # 4 of 5 votes is not "all", yet 4 hears quorate peers that are not waiting
            (("form", [1, 2, 3, 4], [5]), {4: (Y, 5, 3), 5: (N, 5, 3)}),
        ],
    ),
    Scenario(
        "last_man_standing: the votequorum(5) chain of eight nodes",
        8,
        options="last_man_standing: 1\nwait_for_all: 1",
        steps=[
            (("form", list(range(1, 9))), {1: (Y, 8, 5)}),
            (("form", [1, 2, 3, 4, 5]), {1: (Y, 8, 5)}),
            (("wait", 9999), {1: (Y, 8, 5)}),
            (("wait", 1), {1: (Y, 5, 3)}),
            (("form", [1, 2, 3]), {1: (Y, 5, 3)}),
            (("wait", 10000), {1: (Y, 3, 2)}),
            (("form", [1, 2]), {1: (Y, 3, 2)}),
            (("wait", 10000), {1: (Y, 2, 2)}),
            (("form", [1]), {1: (N, 2, 2)}),  # 2 -> 1 needs auto_tie_breaker
        ],
    ),
    Scenario(
        "last_man_standing_window is configurable",
        4,
        options="last_man_standing: 1\nlast_man_standing_window: 20000\nwait_for_all: 1",
        steps=[
            (("form", [1, 2, 3, 4]), {1: (Y, 4, 3)}),
            (("form", [1, 2, 3]), {1: (Y, 4, 3)}),
            (("wait", 10000), {1: (Y, 4, 3)}),
            (("wait", 10000), {1: (Y, 3, 2)}),
        ],
    ),
    Scenario(
        "last_man_standing with auto_tie_breaker goes down to one node",
        4,
        options="last_man_standing: 1\nauto_tie_breaker: 1\nwait_for_all: 1",
        steps=[
            (("form", [1, 2, 3, 4]), {1: (Y, 4, 3)}),
            (("form", [1, 2], [3, 4]), {1: (Y, 4, 3), 3: (N, 4, 3)}),
            (("wait", 10000), {1: (Y, 2, 2)}),
            (("form", [1], [2]), {1: (Y, 2, 2), 2: (N, 2, 2)}),
        ],
    ),
    Scenario(
        "last_man_standing needs one vote per node",
        3,
        options="last_man_standing: 1\nwait_for_all: 1",
        votes={3: 2},
        steps=[
            (("form", [1, 2, 3]), {1: (Y, 4, 3)}),
            (("form", [1, 3]), {1: (Y, 4, 3)}),
            (("wait", 20000), {1: (Y, 4, 3)}),  # disabled: expected stays
        ],
    ),
    Scenario(
        "auto_tie_breaker lowest keeps the half with the lowest nodeid",
        4,
        options="auto_tie_breaker: 1",
        steps=[
            (("form", [1, 2, 3, 4]), {1: (Y, 4, 3)}),
            (("form", [1, 2], [3, 4]), {1: (Y, 4, 3), 3: (N, 4, 3)}),
        ],
    ),
    Scenario(
        "auto_tie_breaker highest",
        4,
        options="auto_tie_breaker: 1\nauto_tie_breaker_node: highest",
        steps=[
            (("form", [1, 2, 3, 4]), {1: (Y, 4, 3)}),
            (("form", [1, 2], [3, 4]), {1: (N, 4, 3), 3: (Y, 4, 3)}),
        ],
    ),
    Scenario(
        "auto_tie_breaker list: first listed node present decides",
        4,
        options="auto_tie_breaker: 1\nauto_tie_breaker_node: 3 1",
        steps=[
            (("form", [1, 2, 3, 4]), {1: (Y, 4, 3)}),
            (("form", [1, 2], [3, 4]), {1: (N, 4, 3), 3: (Y, 4, 3)}),
        ],
    ),
    Scenario(
        "auto_tie_breaker list skips nodes that were not in the cluster",
        4,
        options="auto_tie_breaker: 1\nauto_tie_breaker_node: 4 2",
        steps=[
            (("form", [1, 2, 3]), {1: (Y, 4, 3)}),
            (("form", [1, 2], [3]), {1: (Y, 4, 3), 3: (N, 4, 3)}),
        ],
    ),
    Scenario(
        "auto_tie_breaker only on an exact half split",
        6,
        options="auto_tie_breaker: 1",
        steps=[
            (("form", [1, 2, 3, 4, 5, 6]), {1: (Y, 6, 4)}),
            (("form", [1, 2], [3, 4, 5, 6]), {1: (N, 6, 4), 3: (Y, 6, 4)}),
        ],
    ),
    Scenario(
        "auto_tie_breaker in an odd cluster with wait_for_all",
        3,
        options="auto_tie_breaker: 1\nwait_for_all: 1",
        steps=[
            (("form", [1, 2, 3]), {1: (Y, 3, 2)}),
            # {1} has half of 3 rounded down, but {2,3} may be quorate: ATB must not apply
            (("form", [1], [2, 3]), {1: (N, 3, 2), 2: (Y, 3, 2)}),
        ],
    ),
    Scenario(
        "allow_downscale: a clean leave lowers expected votes down to the configured value",
        5,
        options="expected_votes: 3\nallow_downscale: 1",
        ev_tracking_barrier=3,  # votequorum(5)'s example: the cluster ran with 3 nodes
        steps=[
            (("form", [1, 2, 3]), {1: (Y, 3, 2)}),
            (("form", [1, 2, 3, 4, 5]), {1: (Y, 5, 3)}),
            (("leave", 5), {1: (Y, 4, 3)}),
            (("leave", 4), {1: (Y, 3, 2)}),
            # never below the configured 3: quorum stays 2 (Corosync shows the members
            # left as expected votes, but computes quorum from the configured floor)
            (("leave", 3), {1: (Y, 2, 2)}),
            (("leave", 2), {1: (N, 1, 2)}),
        ],
    ),
    Scenario(
        "allow_downscale with a fresh tracking file counts the nodelist first",
        5,
        options="expected_votes: 3\nallow_downscale: 1",
        steps=[
            # expected votes tracking stands in for expected_votes, and it starts at 0
            (("form", [1, 2, 3]), {1: (Y, 5, 3)}),
            (("form", [1, 2, 3, 4, 5]), {1: (Y, 5, 3)}),
            (("leave", 5), {1: (Y, 4, 3)}),
            (("leave", 4), {1: (Y, 3, 3)}),
            (("leave", 3), {1: (N, 2, 3)}),
        ],
    ),
    Scenario(
        "runtime expected votes (corosync-quorumtool -e)",
        5,
        steps=[
            (("form", [1, 2, 3]), {1: (Y, 5, 3)}),
            (("expected", 1, 3), {1: (Y, 3, 2), 3: (Y, 3, 2)}),
            (("form", [1, 2]), {1: (Y, 3, 2)}),
            (("refused", "expected", 1, 1), {1: (Y, 3, 2)}),  # below the votes present
            (("refused", "expected", 1, 5), {1: (Y, 3, 2)}),  # would lose quorum
            (("expected", 1, 5, "force"), {1: (N, 5, 3)}),
        ],
    ),
    Scenario(
        "runtime node votes (corosync-quorumtool -v -n)",
        3,
        steps=[
            (("form", [1, 2, 3]), {1: (Y, 3, 2)}),
            (("votes", 1, 1, 3), {2: (Y, 5, 3)}),
            (("form", [1], [2, 3]), {1: (Y, 5, 3), 2: (N, 5, 3)}),
            (("refused", "votes", 1, 9, 1), {1: (Y, 5, 3)}),  # unknown node
        ],
    ),
    Scenario(
        "a quorum device's vote joins the count",
        2,
        options="device {\nmodel: net\nvotes: 1\nnet {\nhost: qnetd\n}\n}",
        steps=[
            (("form", [1, 2]), {1: (Y, 3, 2)}),
            (("device", 1, True, False), {1: (Y, 3, 2)}),
            (("form", [1], [2]), {1: (Y, 3, 2), 2: (N, 3, 2)}),
            (("wait", 10000), {1: (N, 3, 2)}),  # no poll within the device timeout
        ],
    ),
]


def run_event(sim: Any, event: tuple[Any, ...]) -> None:
    kind, *args = event
    if kind == "form":
        wanted = {n for group in args for n in group}
        for nodeid in list(sim.running):
            if nodeid not in wanted:
                sim.stop(nodeid)
        for nodeid in sorted(wanted - set(sim.running)):
            sim.start(nodeid)
        sim.form(args)
    elif kind == "leave":
        sim.stop(args[0], clean=True)
        sim.form([p for p in sim.partitions])
    elif kind == "wait":
        sim.advance(args[0])
    elif kind == "refused":
        with pytest.raises(QuorumRefused) as caught:
            run_event(sim, tuple(args))
        assert caught.value.message and caught.value.where
    else:
        nodeid = args[0]
        node = sim.running[nodeid]
        if kind == "expected":
            out = node.set_expected_votes(args[1], force=len(args) > 2)
        elif kind == "votes":
            out = node.set_votes(args[1], args[2])
        elif kind == "unblock":
            out = node.cancel_wait_for_all()
        elif kind == "device":
            out = node.device_register("Qdevice", sim.now)
            out += node.device_poll(args[1], args[2], sim.now)
        else:
            raise AssertionError(f"unknown event {kind}")
        sim.broadcast(sim.partition_of(nodeid), nodeid, out)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_scenario(scenario: Scenario, cluster: Any, make_conf: Any) -> None:
    sim = cluster(
        make_conf(scenario.nodes, scenario.options, scenario.votes),
        ev_tracking_barrier=scenario.ev_tracking_barrier,
    )
    for index, (event, expectations) in enumerate(scenario.steps, start=1):
        run_event(sim, event)
        for observer, wanted in expectations.items():
            seen = (sim.quorate(observer), sim.expected(observer), sim.quorum(observer))
            assert seen == wanted, f"step {index} {event}: node {observer} saw {seen}"


def test_status_flags_and_members_match_quorumtool(cluster: Any, make_conf: Any) -> None:
    sim = cluster(make_conf(2, "two_node: 1"))
    for nodeid in (1, 2):
        sim.start(nodeid)
    sim.form([[1, 2]])
    status = sim.running[1].status()
    assert status.flags == ("2Node", "Quorate", "WaitForAll")
    assert [(m.nodeid, m.votes, m.local) for m in status.members] == [(1, 1, True), (2, 1, False)]
    assert (status.total_votes, status.highest_expected) == (2, 2)
    sim = cluster(make_conf(4, "last_man_standing: 1\nauto_tie_breaker: 1\nallow_downscale: 1"))
    sim.start(1)
    sim.form([[1]])
    assert sim.running[1].status().flags == ("LastManStanding", "AutoTieBreaker", "AllowDownscale")


def test_unblock_without_wait_for_all_is_refused(cluster: Any, make_conf: Any) -> None:
    sim = cluster(make_conf(3))
    sim.start(1)
    sim.form([[1]])
    with pytest.raises(QuorumRefused, match="not waiting for nodes to establish quorum"):
        sim.running[1].cancel_wait_for_all()


def test_messages_survive_the_wire_and_garbage_is_refused(cluster: Any, make_conf: Any) -> None:
    from hactl.core.errors import HactlError

    sim = cluster(make_conf(2))
    node = sim.start(1)
    for message in node.membership_changed("1.1", frozenset({1}), 0):
        assert node.decode(node.encode(message)) == message
    with pytest.raises(HactlError, match="malformed votequorum message"):
        node.decode(b"\xff not json")
