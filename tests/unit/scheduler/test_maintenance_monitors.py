"""No recurring monitor is scheduled for a resource in maintenance mode (Pacemaker's
pcmk__create_recurring_actions skips them), though it keeps running where it is."""

from __future__ import annotations

from .cib_text import cib, node_state, nodes, primitive, running, scheduled


def _cib(maintenance: str) -> str:
    return cib(
        primitive("D", '<operations><op id="D-m" name="monitor" interval="60s"/></operations>'),
        status=node_state("1", running("D", 1)),
        node_list=nodes(1),
        properties=f'<nvpair id="o2" name="maintenance-mode" value="{maintenance}"/>',
    )


def _monitors(maintenance: str) -> list[str]:
    ws = scheduled(_cib(maintenance))
    return [a.name() for a in ws.actions if a.in_graph and a.task == "monitor" and a.interval_ms]


def test_monitor_is_scheduled_normally() -> None:
    assert _monitors("false") == ["D_monitor_60000 node1"]


def test_no_monitor_in_maintenance_mode() -> None:
    assert _monitors("true") == []
