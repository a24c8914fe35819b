"""The DC rule: deterministic from the agreed membership, re-chosen only when the DC leaves."""

from hypothesis import given
from hypothesis import strategies as st

from hactl.core.controller.dc import choose_dc


def test_start_lowest_member() -> None:
    assert choose_dc([3, 1, 2], [None, None, None]) == 1


def test_dc_kept_while_member_even_when_a_lower_node_joins() -> None:
    assert choose_dc([1, 2, 3], [None, 2, 2]) == 2


def test_dc_left_lowest_remaining() -> None:
    assert choose_dc([2, 3], [1, 1]) == 2


def test_partitions_merge_lower_dc_keeps_the_job() -> None:
    assert choose_dc([1, 2, 3, 4, 5], [1, 1, 4, 4, 4]) == 1


def test_empty() -> None:
    assert choose_dc([], []) is None


@given(
    st.sets(st.integers(1, 50), min_size=1),
    st.lists(st.one_of(st.none(), st.integers(1, 50))),
)
def test_always_a_member_and_independent_of_order(members: set[int], dcs: list[int | None]) -> None:
    chosen = choose_dc(members, dcs)
    assert chosen in members
    assert chosen == choose_dc(sorted(members, reverse=True), list(reversed(dcs)))
