"""Hand-written totem scenarios on the memory network, each checked by the simulation's
invariant checker at every step (agreed order, no duplicates or inventions, EVS)."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from totem_sim import SIM_PARAMS, World  # noqa: E402

from hactl.core.totem.packets import RingId  # noqa: E402
from hactl.core.totem.params import TotemParams  # noqa: E402
from hactl.core.totem.ring import Backpressure, ConfigChange, Delivery, Ring, State  # noqa: E402


def started(seed: int, nodes: list[int], params: TotemParams = SIM_PARAMS) -> World:
    world = World(seed, nodes, params)
    for i in nodes:
        world.start(i)
    world.run_until(3.0)
    assert world.converged(), {i: world.nodes[i].ring.state for i in nodes}  # type: ignore[union-attr]
    return world


def regular_configs(world: World, node: int) -> list[ConfigChange]:
    seen: list[ConfigChange] = []
    world.on_event = lambda key, e: (
        seen.append(e)
        # type: ignore[func-returns-value]
        if (key[0] == node and isinstance(e, ConfigChange) and not e.transitional)
        else None
    )
    return seen


def test_three_nodes_form_one_ring_and_agree_on_order() -> None:
    world = started(1, [1, 2, 3])
    sent = [world.propose(1 + i % 3) for i in range(300)]
    world.run_until(world.net.now + 2)
    orders = [world.checker.delivered[world.nodes[i].key] for i in (1, 2, 3)]
    assert orders[0] == orders[1] == orders[2]
    assert sorted(orders[0]) == sorted(p for p in sent if p)


def test_a_sixteen_mebibyte_message_is_fragmented_and_reassembled() -> None:
    world = started(2, [1, 2, 3])
    got: dict[int, bytes] = {}
    world.on_event = lambda key, e: (
        got.__setitem__(key[0], e.payload)
        # type: ignore[func-returns-value]
        if (isinstance(e, Delivery) and len(e.payload) > 1000)
        else None
    )
    big = world.propose(2, size=16 << 20)
    assert big is not None
    ring = world.nodes[2].ring
    assert ring is not None and len(ring.queue[0].fragments) > 12000  # MTU-sized pieces
    started_at = world.net.now
    while len(got) < 3 and world.net.now < started_at + 120:
        world.run_until(world.net.now + 1)
    assert got == {1: big, 2: big, 3: big}


def test_safe_delivery_waits_until_every_member_holds_the_message() -> None:
    world = started(3, [1, 2, 3])
    checked: list[int] = []

    def on_event(key: tuple[int, int], event: object) -> None:
        if isinstance(event, Delivery) and event.safe:
            for node in world.nodes.values():
                log = node.ring.log  # type: ignore[union-attr]
                assert log is not None
                assert event.seq in log.buffer or event.seq <= log.floor or event.seq <= log.aru
            checked.append(key[0])

    world.on_event = on_event
    world.net.faults.loss = 0.2  # retransmissions happen; safety must still hold
    for i in range(30):
        world.propose(1 + i % 3, safe=True)
    world.run_until(world.net.now + 0.3)
    world.net.faults.loss = 0.0
    world.run_until(world.net.now + 3)
    assert len(checked) >= 90


def test_a_crash_gives_a_transitional_then_a_regular_configuration() -> None:
    world = started(4, [1, 2, 3])
    events: list[ConfigChange] = []
    world.on_event = lambda key, e: (
        events.append(e)
        # type: ignore[func-returns-value]
        if (key[0] == 1 and isinstance(e, ConfigChange))
        else None
    )
    old = world.nodes[1].ring.ring_id  # type: ignore[union-attr]
    world.crash(3)
    crash_at = world.net.now
    while not world.converged():
        world.run_until(world.net.now + 0.01)
    took = world.net.now - crash_at
    assert took < SIM_PARAMS.token_s + SIM_PARAMS.consensus_s + 0.2
    transitional, regular = events
    assert transitional.transitional and transitional.members == (1, 2)
    assert transitional.left == (3,)
    assert not regular.transitional and regular.members == (1, 2)
    assert old is not None and regular.ring > old


def crash_until_converged(world: World, victim: int) -> float:
    world.crash(victim)
    crash_at = world.net.now
    while not world.converged():
        world.run_until(world.net.now + 0.005)
    return world.net.now - crash_at


@pytest.mark.parametrize("victim", [1, 2, 3])
def test_a_crash_every_survivor_cannot_reach_skips_the_consensus_wait(victim: int) -> None:
    world = World(40 + victim, [1, 2, 3], port_unreachable=True)
    for i in (1, 2, 3):
        world.start(i)
    world.run_until(3.0)
    took = crash_until_converged(world, victim)
    # token loss, then a join exchange: no consensus timeout
    assert took < SIM_PARAMS.token_s + 0.1 < SIM_PARAMS.token_s + SIM_PARAMS.consensus_s
    survivors = [i for i in (1, 2, 3) if i != victim]
    assert world.nodes[survivors[0]].ring.log.members == tuple(survivors)  # type: ignore[union-attr]


def test_one_transports_report_alone_fails_no_node_that_answers() -> None:
    """Node 1's transport claims node 2 is unreachable (a wrong report), node 3 dies: only
    node 3 leaves, after the consensus timeout, since node 2 keeps sending joins."""
    world = started(44, [1, 2, 3])
    ring = world.nodes[1].ring
    assert ring is not None
    world._apply(world.nodes[1], ring.set_unreachable(world.net.now, frozenset({2, 3})))
    took = crash_until_converged(world, 3)
    assert world.nodes[1].ring.log.members == (1, 2)  # type: ignore[union-attr]
    assert took > SIM_PARAMS.consensus_s  # node 2 never reported 3: no shortcut


def test_a_partition_is_not_mistaken_for_a_crash() -> None:
    """Silently dropped datagrams (no port unreachable): both sides wait the consensus
    timeout as before, and merge when healed."""
    world = World(45, [1, 2, 3, 4], port_unreachable=True)
    for i in (1, 2, 3, 4):
        world.start(i)
    world.run_until(3.0)
    world.net.partition([[1, 2], [3, 4]])
    cut_at = world.net.now
    while not all(
        world.nodes[i].ring.state is State.OPERATIONAL  # type: ignore[union-attr]
        and len(world.nodes[i].ring.log.members) == 2  # type: ignore[union-attr]
        for i in (1, 2, 3, 4)
    ):
        world.run_until(world.net.now + 0.005)
    assert world.net.now - cut_at > SIM_PARAMS.token_s + SIM_PARAMS.consensus_s - 0.3
    world.net.heal()
    world.run_until(world.net.now + 3)
    assert world.converged()


def test_partitions_form_their_own_rings_and_merge_when_healed() -> None:
    world = started(5, [1, 2, 3, 4, 5])
    world.net.partition([[1, 2], [3, 4, 5]])
    for i in range(20):
        world.propose(1 + i % 5)
    world.run_until(world.net.now + 4)
    rings = {world.nodes[i].ring.ring_id for i in range(1, 6)}  # type: ignore[union-attr]
    assert len(rings) == 2
    assert world.nodes[1].ring.log.members == (1, 2)  # type: ignore[union-attr]
    world.net.heal()
    world.run_until(world.net.now + 3)
    assert world.converged()
    assert world.nodes[3].ring.log.members == (1, 2, 3, 4, 5)  # type: ignore[union-attr]


def test_a_restarted_node_never_reuses_a_ring_id() -> None:
    world = started(6, [1])
    first = world.nodes[1].ring.ring_id  # type: ignore[union-attr]
    assert first is not None and world.nodes[1].disk_ring_seq == first.seq
    world.crash(1)
    world.start(1)
    world.run_until(world.net.now + 1)
    second = world.nodes[1].ring.ring_id  # type: ignore[union-attr]
    assert second is not None and second > first


def test_a_lossy_network_still_delivers_everything_in_order() -> None:
    world = started(7, [1, 2, 3, 4])
    world.net.faults.loss = 0.05
    world.net.faults.duplicate = 0.05
    world.net.faults.max_delay = 0.004
    sent = [world.propose(1 + i % 4) for i in range(400)]
    world.run_until(world.net.now + 3)
    world.net.faults.loss = world.net.faults.duplicate = 0.0
    world.run_until(world.net.now + 4)
    assert world.converged()
    for i in range(1, 5):
        node = world.nodes[i]
        mine = [p for p in sent if p and p.startswith(f"{i}:".encode())]
        assert set(mine) <= set(world.checker.delivered[node.key])  # own messages never lost
    ring = world.nodes[1].ring
    assert ring is not None and ring.stats["messages_retransmitted"] > 0


def test_garbage_and_misuse_are_refused_cleanly() -> None:
    ring = Ring(1, TotemParams(max_pending_bytes=1000))
    ring.start(0.0)
    rng = random.Random(9)
    for _ in range(2000):
        ring.receive(0.1, bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 80))))
    assert ring.stats["malformed"] > 0
    with pytest.raises(Backpressure, match="wait to be sent"):
        ring.propose(0.2, bytes(2000))
    with pytest.raises(Exception, match="out of range"):
        Ring(0, TotemParams())


def test_flow_control_bounds_messages_per_rotation() -> None:
    params = TotemParams(token=1000, window_size=20, max_messages=5, hold=180)
    world = started(8, [1, 2, 3], params)
    for i in range(300):
        world.propose(1 + i % 3)
    tokens: list[int] = []
    original = world._apply

    def spy(node, ready):  # type: ignore[no-untyped-def]
        tokens.append(sum(1 for s in ready.sends if s.to is None))
        original(node, ready)

    world._apply = spy  # type: ignore[method-assign]
    world.run_until(world.net.now + 3)
    assert max(tokens) <= 20
    assert all(world.nodes[i].ring.state is State.OPERATIONAL for i in (1, 2, 3))  # type: ignore[union-attr]


def test_ring_ids_order_by_seq_first() -> None:
    assert RingId(8, 9) < RingId(12, 1)
    assert RingId(8, 1) < RingId(8, 2)


def test_the_protocol_modules_do_no_io() -> None:
    """The pure parts import nothing that reaches a clock, a socket, a thread, a process,
    a file or randomness; only the shells may: runner.py (the asyncio driver) and tool.py
    (a standalone node for tests and benchmarks)."""
    import ast

    import hactl.core.totem as package

    forbidden = {"socket", "time", "threading", "asyncio", "random", "subprocess", "os", "io"}
    folder = Path(package.__file__).parent
    for source in sorted(folder.glob("*.py")):
        if source.name in ("runner.py", "tool.py"):
            continue
        tree = ast.parse(source.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in forbidden, f"{source.name} imports {name}"
