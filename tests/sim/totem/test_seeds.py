"""Thousands of seeded fault schedules (2 to 16 nodes: loss, duplication, reordering,
crashes, restarts, partitions and merges), every step checked by the invariant checker.

The default run takes a sample of seeds; ``-m slow`` runs 3000. A failing seed prints
itself; ``HACTL_SIM_SEED=<seed> python -m pytest tests/sim/totem/test_seeds.py`` replays
exactly that schedule (and only it).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from totem_sim import CONVERGENCE_BOUND_S, Violation, replay_seed, run_schedule  # noqa: E402

DEFAULT_SEEDS = range(24)
SLOW_SEEDS = range(1000, 4000)


def check(seed: int) -> float:
    try:
        outcome = run_schedule(seed)
    except Violation as violation:
        pytest.fail(
            f"seed {seed}: {violation}\n"
            f"replay: HACTL_SIM_SEED={seed} python -m pytest tests/sim/totem/test_seeds.py",
            pytrace=False,
        )
    assert outcome.converge_s <= CONVERGENCE_BOUND_S
    return outcome.converge_s


@pytest.mark.skipif(replay_seed() is None, reason="HACTL_SIM_SEED is not set")
def test_replay_one_seed() -> None:
    seed = replay_seed()
    assert seed is not None
    print(f"seed {seed}: one ring {check(seed):.3f}s after the faults stopped")


@pytest.mark.skipif(replay_seed() is not None, reason="replaying HACTL_SIM_SEED only")
def test_seeded_schedules() -> None:
    worst = max(check(seed) for seed in DEFAULT_SEEDS)
    print(f"{len(DEFAULT_SEEDS)} schedules; worst convergence {worst:.3f}s")


@pytest.mark.slow
@pytest.mark.skipif(replay_seed() is not None, reason="replaying HACTL_SIM_SEED only")
@pytest.mark.parametrize("block", range(30))
def test_thousands_of_seeded_schedules(block: int) -> None:
    seeds = SLOW_SEEDS[block * 100 : (block + 1) * 100]
    worst = max(check(seed) for seed in seeds)
    print(f"seeds {seeds.start}..{seeds.stop - 1}: worst convergence {worst:.3f}s")
