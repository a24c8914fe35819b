"""Well-formed but arbitrary packets (what a buggy or hostile member holding the key could
send) fed to rings in every state: the ring never raises."""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
from totem_sim import World  # noqa: E402

from hactl.core.totem.packets import (  # noqa: E402
    Chunk,
    CommitEntry,
    CommitToken,
    Join,
    Mcast,
    MergeDetect,
    RingId,
    Token,
    encode,
)

nodes = st.integers(1, 5)
small = st.integers(0, 40)
rings = st.builds(RingId, st.integers(0, 40), nodes)
chunks = st.builds(Chunk, small, st.just(0), st.just(1), st.binary(max_size=8))
mcasts = st.builds(
    Mcast,
    rings,
    st.integers(1, 40),
    nodes,
    st.booleans(),
    st.lists(chunks, min_size=1, max_size=3).map(tuple),
)
tokens = st.builds(
    Token,
    rings,
    small,
    small,
    small,
    nodes,
    small,
    small,
    st.booleans(),
    st.booleans(),
    st.lists(small, max_size=5).map(tuple),
).filter(lambda t: t.aru <= t.seq)


@st.composite
def joins(draw: st.DrawFn) -> Join:
    sender = draw(nodes)
    proc = draw(st.frozensets(nodes)) | {sender}
    fail, unreachable = draw(st.frozensets(nodes)), draw(st.frozensets(nodes))
    return Join(sender, draw(small), draw(small), draw(small), proc, fail, unreachable)


@st.composite
def commits(draw: st.DrawFn) -> CommitToken:
    members = tuple(sorted(draw(st.frozensets(nodes, min_size=1))))
    count = draw(st.integers(0, len(members)))
    entries = tuple(
        CommitEntry(members[i], draw(rings), 0, 0, draw(small), draw(small), draw(small))
        for i in range(count)
    )
    return CommitToken(RingId(draw(st.integers(0, 60)), members[0]), draw(small), members, entries)


packets = st.one_of(mcasts, tokens, joins(), commits(), st.builds(MergeDetect, nodes, rings))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(packets, st.integers(0, 3)), min_size=1, max_size=30), st.integers(0, 3))
def test_rings_survive_arbitrary_wellformed_packets(
    script: list[tuple[object, int]], seed: int
) -> None:
    world = World(seed, [1, 2, 3])
    # forged messages are legitimate for a keyholder to send: only crashes matter here
    world.checker.observe = lambda key, event: None  # type: ignore[method-assign]
    for i in (1, 2, 3):
        world.start(i)
    world.run_until(0.05 * seed)  # catch them in gather, commit, recovery or operational
    for packet, pause in script:
        ring = world.nodes[1].ring
        assert ring is not None
        sender = getattr(packet, "sender", 2)
        world._apply(world.nodes[1], ring.receive(world.net.now, encode(packet, sender)))  # type: ignore[arg-type]
        world.run_until(world.net.now + 0.01 * pause)
