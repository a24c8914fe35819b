"""node-pending-timeout: a node that became a member (in_ccm holds since when) but has not
joined the process group within the timeout is fenced (Pacemaker's pending_too_long)."""

from __future__ import annotations

import calendar

from .cib_text import NOW, cib, node_state, scheduled, summary

EPOCH = calendar.timegm(NOW.timetuple())


def _summary(member_seconds_ago: int, timeout: str) -> list[str]:
    # node2 has been a member since then, its controller not yet up
    joining = f'<node_state id="2" in_ccm="{EPOCH - member_seconds_ago}" crmd="0"/>'
    text = cib(
        '<primitive id="fence" class="stonith" type="fence_xvm"/>',
        status=node_state("1") + joining,
        properties=f'<nvpair id="o2" name="node-pending-timeout" value="{timeout}"/>',
        fencing=True,
    )
    return summary(scheduled(text))


def test_a_node_pending_past_the_timeout_is_fenced() -> None:
    fence = "* Fence (reboot) node2 'peer pending timed out on joining the process group'"
    assert fence in _summary(member_seconds_ago=600, timeout="300s")


def test_a_node_still_within_the_timeout_or_without_one_waits() -> None:
    assert not any("Fence" in line for line in _summary(member_seconds_ago=60, timeout="300s"))
    assert not any("Fence" in line for line in _summary(member_seconds_ago=600, timeout="0"))
