"""History entries with one call id (an operation and its last failure) are read in the
order of their last change (Pacemaker's pe__is_newer_op): a monitor that failed and has
since succeeded clears its on-fail=block."""

from __future__ import annotations

from .cib_text import cib, lrm_resource, node_state, nodes, primitive, scheduled


def _op(ident: str, task: str, call: int, rc: int, interval: int, changed: int) -> str:
    return (
        f'<lrm_rsc_op id="{ident}" operation="{task}" call-id="{call}" rc-code="{rc}" '
        f'op-status="0" interval="{interval}" last-rc-change="{changed}" '
        f'transition-key="{call}:1:0:x" transition-magic="0:{rc};{call}:1:0:x" on_node="node1"/>'
    )


def _blocked(failure_changed: int) -> bool:
    history = (
        _op("A_last_0", "start", 1, 0, 0, 100)
        + _op("A_monitor_10000", "monitor", 2, 0, 10000, 300)
        + _op("A_last_failure_0", "monitor", 2, 1, 10000, failure_changed)
    )
    monitor = (
        '<operations><op id="A-mon" name="monitor" interval="10s" on-fail="block"/></operations>'
    )
    text = cib(
        primitive("A", monitor),
        status=node_state("1", lrm_resource("A", history)),
        node_list=nodes(1),
    )
    return scheduled(text).by_id["A"].blocked


def test_a_failure_followed_by_a_success_of_the_same_monitor_is_cleared() -> None:
    assert not _blocked(failure_changed=200)  # failed at 200, succeeded at 300


def test_a_failure_after_the_last_success_still_blocks() -> None:
    assert _blocked(failure_changed=400)
