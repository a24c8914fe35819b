"""A monitor for the Stopped role is scheduled on every node where the resource is not to
run, also where no action can run (an offline node): there it is unrunnable, left out of
the transition (Pacemaker's recurring_op_for_inactive)."""

from __future__ import annotations

from .cib_text import cib, node_state, primitive, running, scheduled

CIB = cib(
    primitive(
        "R",
        '<operations><op id="R-stopped" name="monitor" interval="300s" role="Stopped"/>'
        "</operations>",
    ),
    status=node_state("1", running("R", 1))
    + '<node_state id="2" uname="node2" in_ccm="false" crmd="offline" join="down" '
    'expected="down"/>',
)


def test_a_stopped_role_monitor_on_an_offline_node_is_unrunnable() -> None:
    ws = scheduled(CIB)
    monitors = {
        a.node.name: a
        for a in ws.actions
        if a.task == "monitor" and a.interval_ms == 300000 and a.node is not None
    }
    assert set(monitors) == {"node2"}, monitors
    assert not monitors["node2"].optional
    assert not monitors["node2"].runnable
    assert not monitors["node2"].in_graph
