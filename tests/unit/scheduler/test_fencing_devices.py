"""Fencing needs a device: with fencing enabled but no fence device (nor have-watchdog),
Pacemaker fences nobody and leaves every resource where it is (unmanaged), so nothing
starts, stops or moves until fencing can be done."""

from __future__ import annotations

from lxml import etree

from hactl.core.scheduler import schedule
from hactl.core.scheduler.model import WorkingSet

from .cib_text import NOW, summary

FENCE_DEVICE = '<primitive id="fence" class="stonith" type="fence_xvm"/>'
DUMMY = '<primitive id="{0}" class="ocf" provider="pacemaker" type="Dummy"/>'


def _history(rsc: str, *ops: tuple[str, int]) -> str:
    entries = "".join(
        f'<lrm_rsc_op id="{rsc}_{op}_{call}" operation="{op}" interval="0" call-id="{call}" '
        f'rc-code="{rc}" op-status="{0 if rc == 0 else 4}" '
        f'transition-key="{call}:0:0:x" transition-magic="0:{rc};{call}:0:0:x"/>'
        for call, (op, rc) in enumerate(ops, start=1)
    )
    agent = 'class="ocf" provider="pacemaker" type="Dummy"'
    return f'<lrm_resource id="{rsc}" {agent}>{entries}</lrm_resource>'


def _schedule(
    resources: str, *, options: str = "", node1: str = "", node2: str = "", lost: bool = False
) -> WorkingSet:
    """Two nodes; node2 left the membership unexpectedly when `lost`."""
    membership = 'in_ccm="false" crmd="offline"' if lost else 'in_ccm="true" crmd="online"'
    text = f"""
<cib validate-with="pacemaker-3.0" have-quorum="true" dc-uuid="1">
  <configuration>
    <crm_config><cluster_property_set id="o">{options}</cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>
    <resources>{resources}</resources>
    <constraints/>
  </configuration>
  <status>
    <node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member"
      expected="member"><lrm id="1"><lrm_resources>{node1}</lrm_resources></lrm></node_state>
    <node_state id="2" uname="node2" {membership} join="member"
      expected="member"><lrm id="2"><lrm_resources>{node2}</lrm_resources></lrm></node_state>
  </status>
</cib>"""
    return schedule(etree.fromstring(text), NOW)


def test_without_a_device_nothing_starts() -> None:
    ws = _schedule(DUMMY.format("a"))
    assert ws.by_id["a"].assigned is None
    assert not any(a.task == "start" for a in ws.actions if a.in_graph)
    # the probes still run: they only read the state
    assert any(a.task == "monitor" and a.in_graph for a in ws.actions)


def test_a_device_or_a_watchdog_lets_resources_start() -> None:
    with_device = _schedule(FENCE_DEVICE + DUMMY.format("a"))
    with_watchdog = _schedule(
        DUMMY.format("a"), options='<nvpair id="o1" name="have-watchdog" value="true"/>'
    )
    for ws in (with_device, with_watchdog):
        assert any(line.startswith("* Start a ") for line in summary(ws))


def test_fencing_disabled_needs_no_device() -> None:
    ws = _schedule(
        DUMMY.format("a"), options='<nvpair id="o1" name="stonith-enabled" value="false"/>'
    )
    assert any(line.startswith("* Start a ") for line in summary(ws))


def test_a_lost_node_is_fenced_only_with_a_device() -> None:
    running = _history("a", ("start", 0))
    without = _schedule(DUMMY.format("a"), node2=running, lost=True)
    assert without.by_id["a"].running_on[0].unclean
    assert summary(without) == []
    assert not any(a.task == "stonith" for a in without.actions)

    with_device = _schedule(FENCE_DEVICE + DUMMY.format("a"), node2=running, lost=True)
    lines = summary(with_device)
    assert any(line.startswith("* Fence (reboot) node2") for line in lines), lines
    assert "* Move a ( node2 -> node1 )" in lines, lines


def test_a_failed_stop_is_recovered_by_fencing_only_with_a_device() -> None:
    failed_stop = _history("a", ("start", 0), ("stop", 1))
    # the stop's on-fail is fence (fencing is enabled), but no device can do it
    ws = _schedule(DUMMY.format("a"), node1=failed_stop)
    assert not any(a.task == "stonith" for a in ws.actions)
    assert summary(ws) == []
    ws = _schedule(FENCE_DEVICE + DUMMY.format("a"), node1=failed_stop)
    lines = summary(ws)
    assert any(line.startswith("* Fence (reboot) node1") for line in lines), lines
    assert "* Recover a ( node1 -> node2 )" in lines, lines
