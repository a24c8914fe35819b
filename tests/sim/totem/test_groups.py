"""Process groups over simulated rings: joins, leaves, messages, node loss and merges
give every node the same group memberships."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from totem_sim import World  # noqa: E402

from hactl.core.errors import HactlError  # noqa: E402
from hactl.core.totem.groups import (  # noqa: E402
    GroupConfig,
    GroupEvent,
    GroupMember,
    GroupMessage,
    ProcessGroups,
)


class GroupWorld:
    def __init__(self, seed: int, nodes: list[int]) -> None:
        self.world = World(seed, nodes)
        self.groups = {i: ProcessGroups(i) for i in nodes}
        self.seen: dict[int, list[GroupEvent]] = {i: [] for i in nodes}
        self.world.on_event = self.on_event
        for i in nodes:
            self.world.start(i)
        self.world.run_until(3.0)

    def on_event(self, key: tuple[int, int], event: object) -> None:
        node = key[0]
        events, proposals = self.groups[node].handle(event)  # type: ignore[arg-type]
        self.seen[node].extend(events)
        for payload in proposals:
            self.send(node, payload)

    def send(self, node: int, payload: bytes) -> None:
        ring = self.world.nodes[node].ring
        assert ring is not None
        self.world.checker.propose(node, payload)
        self.world._apply(self.world.nodes[node], ring.propose(self.world.net.now, payload))

    def settle(self, seconds: float = 2.0) -> None:
        self.world.run_until(self.world.net.now + seconds)

    def view(self, node: int, group: str) -> set[GroupMember]:
        return self.groups[node].view.get(group, set())


def test_every_node_sees_the_same_groups_and_only_members_get_messages() -> None:
    g = GroupWorld(11, [1, 2, 3])
    g.send(1, g.groups[1].join("crmd", 100))
    g.send(2, g.groups[2].join("crmd", 200))
    g.send(3, g.groups[3].join("attrd", 300))
    g.settle()
    for node in (1, 2, 3):
        assert g.view(node, "crmd") == {GroupMember(1, 100), GroupMember(2, 200)}
        assert g.view(node, "attrd") == {GroupMember(3, 300)}
    g.send(1, g.groups[1].message("crmd", 100, b"hello crmd"))
    g.settle()
    got = {n: [e for e in g.seen[n] if isinstance(e, GroupMessage)] for n in (1, 2, 3)}
    assert [e.payload for e in got[1]] == [b"hello crmd"] == [e.payload for e in got[2]]
    assert got[3] == []
    g.send(2, g.groups[2].leave("crmd", 200))
    g.settle()
    assert all(g.view(n, "crmd") == {GroupMember(1, 100)} for n in (1, 2, 3))
    configs = [e for e in g.seen[3] if isinstance(e, GroupConfig) and e.group == "crmd"]
    assert [c.left for c in configs][-1] == (GroupMember(2, 200),)


def test_node_loss_removes_its_processes_and_merges_announce_them() -> None:
    g = GroupWorld(12, [1, 2, 3])
    g.send(1, g.groups[1].join("crmd", 100))
    g.send(2, g.groups[2].join("crmd", 200))
    g.settle()
    g.world.net.partition([[1, 2], [3]])
    g.settle(4)
    assert g.view(1, "crmd") == {GroupMember(1, 100), GroupMember(2, 200)}
    g.send(3, g.groups[3].join("crmd", 300))  # joins while cut off
    g.world.crash(2)
    g.settle(4)
    assert g.view(1, "crmd") == {GroupMember(1, 100)}
    assert g.view(3, "crmd") == {GroupMember(3, 300)}
    g.world.net.heal()
    g.settle(4)
    assert g.world.converged()
    both = {GroupMember(1, 100), GroupMember(3, 300)}
    assert g.view(1, "crmd") == both == g.view(3, "crmd")


def test_bad_names_and_foreign_payloads() -> None:
    groups = ProcessGroups(1)
    with pytest.raises(HactlError, match="group name"):
        groups.join("", 1)
    with pytest.raises(HactlError, match="group name"):
        groups.join("x" * 200, 1)
    from hactl.core.totem.packets import RingId
    from hactl.core.totem.ring import Delivery

    assert groups.handle(Delivery(1, b"not a group message", RingId(4, 1), 1)) == ([], [])
    assert groups.handle(Delivery(1, b"\x00G\x03\xff\xff", RingId(4, 1), 2)) == ([], [])
    assert groups.malformed == 1
