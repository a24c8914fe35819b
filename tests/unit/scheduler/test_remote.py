"""Remote and guest nodes on small CIBs: the rules of pcmk_sched_remote.c, pinned one by one."""

from __future__ import annotations

from lxml import etree

from hactl.core.scheduler import output, schedule
from hactl.core.scheduler.model import Action, WorkingSet

from .cib_text import NOW

OP = (
    'call-id="{call}" rc-code="{rc}" op-status="0" interval="0" '
    'transition-key="1:1:{expect}:x" on_node="{node}"'
)


def _op(rsc: str, task: str, node: str, rc: int = 0, call: int = 1, expect: int = 0) -> str:
    attrs = OP.format(call=call, rc=rc, expect=expect, node=node)
    return f'<lrm_rsc_op id="{rsc}_{task}" operation="{task}" {attrs}/>'


def _cib(resources: str, status: str, constraints: str = "", stonith: bool = True) -> str:
    return f"""
<cib validate-with="pacemaker-3.0" have-quorum="true" dc-uuid="1">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="{"true" if stonith else "false"}"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>
    <resources>{resources}</resources>
    <constraints>{constraints}</constraints>
  </configuration>
  <status>
    <node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member" expected="member">
      <lrm id="1"><lrm_resources>{status}</lrm_resources></lrm>
    </node_state>
    <node_state id="2" uname="node2" in_ccm="true" crmd="online" join="member" expected="member"/>
  </status>
</cib>
"""


REMOTE = """
<primitive id="fence" class="stonith" type="fence_xvm"/>
<primitive id="remote1" class="ocf" provider="pacemaker" type="remote"/>
<primitive id="D" class="ocf" provider="heartbeat" type="Dummy"/>
"""


def _find(ws: WorkingSet, name: str) -> Action:
    return next(a for a in ws.actions if a.name() == name)


def test_remote_connection_makes_a_node_that_fence_devices_avoid() -> None:
    status = "".join(
        f'<lrm_resource id="{r}" class="x" type="y">{_op(r, "monitor", "node1", 7, 1, 7)}'
        "</lrm_resource>"
        for r in ("fence", "remote1", "D")
    )
    ws = schedule(etree.fromstring(_cib(REMOTE, status)), NOW)
    node = ws.node("remote1")
    assert node is not None and node.is_remote and not node.is_guest
    # the connection is placed first, so its node is up for the others
    assert node.online
    assert ws.by_id["fence"].allowed is not None
    assert ws.by_id["fence"].allowed["remote1"] < -999999
    assert ws.by_id["remote1"].allowed is not None
    assert ws.by_id["remote1"].allowed["remote1"] < -999999
    # probes on the remote node wait for the connection to start; none for connections
    probe = _find(ws, "D_monitor_0 remote1")
    start = _find(ws, "remote1_start_0 node1")
    assert any(first is start for first, _ in probe.before)
    assert not any(a.name() == "remote1_monitor_0 remote1" for a in ws.actions)


def test_stop_on_a_remote_node_precedes_the_connection_stop() -> None:
    status = (
        '<lrm_resource id="remote1" class="ocf" provider="pacemaker" type="remote">'
        + _op("remote1", "start", "node1")
        + "</lrm_resource>"
    )
    remote_status = (
        '<node_state id="remote1" uname="remote1"><lrm id="remote1"><lrm_resources>'
        '<lrm_resource id="D" class="ocf" provider="heartbeat" type="Dummy">'
        + _op("D", "start", "remote1")
        + "</lrm_resource></lrm_resources></lrm></node_state>"
    )
    resources = REMOTE.replace(
        'type="remote"/>',
        'type="remote"><meta_attributes id="m"><nvpair id="m1" name="target-role" '
        'value="Stopped"/></meta_attributes></primitive>',
    )
    text = _cib(resources, status).replace("</status>", remote_status + "</status>")
    ws = schedule(etree.fromstring(text), NOW)
    stop_d = _find(ws, "D_stop_0 remote1")
    stop_conn = _find(ws, "remote1_stop_0 node1")
    assert stop_d.in_graph and stop_conn.in_graph
    assert any(first is stop_d for first, _ in stop_conn.before)
    # a remote node never gets a shutdown action
    assert not any(a.task == "do_shutdown" for a in ws.actions)


def test_guest_node_resource_starts_after_launcher_and_connection() -> None:
    resources = """
<primitive id="vm" class="ocf" provider="heartbeat" type="VirtualDomain">
  <meta_attributes id="vm-m">
    <nvpair id="vm-m1" name="remote-node" value="guest1"/>
  </meta_attributes>
</primitive>
<primitive id="D" class="ocf" provider="heartbeat" type="Dummy"/>
"""
    constraints = '<rsc_location id="l" rsc="D" node="guest1" score="INFINITY"/>'
    ws = schedule(etree.fromstring(_cib(resources, "", constraints, stonith=False)), NOW)
    guest = ws.node("guest1")
    assert guest is not None and guest.is_guest
    assert guest.attrs["#kind"] == "container"
    connection = ws.by_id["guest1"]
    assert connection.launcher is ws.by_id["vm"]
    # the connection runs beside its launcher
    assert connection.assigned is ws.by_id["vm"].assigned
    start_d = _find(ws, "D_start_0 guest1")
    firsts = {first.name() for first, _ in start_d.before}
    host = connection.assigned.name  # type: ignore[union-attr]
    assert {f"vm_start_0 {host}", f"guest1_start_0 {host}"} <= firsts
    # no probe on a guest whose launcher is not running
    assert not any(a.name() == "D_monitor_0 guest1" for a in ws.actions)
    assert any(
        line.split() == ["*", "Start", "D", "(", "guest1", ")"]
        for line in output.transition_summary(ws)
    )


def test_failed_launcher_fences_its_guest_with_a_pseudo_action() -> None:
    resources = """
<primitive id="fence" class="stonith" type="fence_xvm"/>
<primitive id="vm" class="ocf" provider="heartbeat" type="VirtualDomain">
  <meta_attributes id="vm-m">
    <nvpair id="vm-m1" name="remote-node" value="guest1"/>
  </meta_attributes>
</primitive>
<primitive id="D" class="ocf" provider="heartbeat" type="Dummy"/>
"""
    status = (
        '<lrm_resource id="vm" class="ocf" provider="heartbeat" type="VirtualDomain">'
        + _op("vm", "start", "node1")
        + '<lrm_rsc_op id="vm_mon" operation="monitor" call-id="2" rc-code="7" op-status="0" '
        'interval="10000" transition-key="1:1:0:x" on_node="node1"/>'
        "</lrm_resource>"
        '<lrm_resource id="guest1" class="ocf" provider="pacemaker" type="remote">'
        + _op("guest1", "start", "node1")
        + "</lrm_resource>"
    )
    guest_status = (
        '<node_state id="guest1" uname="guest1"><lrm id="guest1"><lrm_resources>'
        '<lrm_resource id="D" class="ocf" provider="heartbeat" type="Dummy">'
        + _op("D", "start", "guest1")
        + "</lrm_resource></lrm_resources></lrm></node_state>"
    )
    text = _cib(resources, status).replace("</status>", guest_status + "</status>")
    ws = schedule(etree.fromstring(text), NOW)
    fencing = _find(ws, "stonith 'reboot' guest1")
    assert fencing.pseudo and fencing.in_graph
    assert fencing.reason == "guest is unclean"
    stop_d = _find(ws, "D_stop_0 guest1")
    assert stop_d.pseudo and any(first is fencing for first, _ in stop_d.before)
    stop_vm = _find(ws, "vm_stop_0 node1")
    assert any(first is stop_vm for first, _ in fencing.before)
    lines = output.transition_summary(ws)
    assert lines[0] == "  * Fence (reboot) guest1 (resource: vm) 'guest is unclean'"


def test_failed_connection_monitor_fences_the_remote_node_first() -> None:
    status = (
        '<lrm_resource id="remote1" class="ocf" provider="pacemaker" type="remote">'
        + _op("remote1", "start", "node1")
        + '<lrm_rsc_op id="remote1_mon" operation="monitor" call-id="2" rc-code="1" '
        'op-status="4" interval="60000" transition-key="1:1:0:x" on_node="node1"/>'
        "</lrm_resource>"
    )
    remote_state = '<node_state id="remote1" uname="remote1"/>'
    text = _cib(REMOTE, status).replace("</status>", remote_state + "</status>")
    ws = schedule(etree.fromstring(text), NOW)
    fencing = _find(ws, "stonith 'reboot' remote1")
    assert fencing.in_graph and fencing.reason == "remote connection is unrecoverable"
    lines = output.transition_summary(ws)
    assert lines[0] == "  * Fence (reboot) remote1 'remote connection is unrecoverable'"


def test_exclusive_discovery_bans_and_skips_probes_elsewhere() -> None:
    constraints = (
        '<rsc_location id="l" rsc="D" node="node2" score="0" resource-discovery="exclusive"/>'
    )
    resources = '<primitive id="D" class="ocf" provider="heartbeat" type="Dummy"/>'
    ws = schedule(etree.fromstring(_cib(resources, "", constraints, stonith=False)), NOW)
    rsc = ws.by_id["D"]
    assert rsc.assigned is not None and rsc.assigned.name == "node2"
    assert not any(a.name() == "D_monitor_0 node1" for a in ws.actions)
    assert any(a.name() == "D_monitor_0 node2" for a in ws.actions)


def test_failure_of_a_launched_resource_restarts_its_launcher() -> None:
    resources = """
<primitive id="box" class="ocf" provider="heartbeat" type="Dummy"/>
<primitive id="app" class="ocf" provider="heartbeat" type="Dummy">
  <meta_attributes id="app-m"><nvpair id="app-m1" name="container" value="box"/></meta_attributes>
</primitive>
"""
    status = (
        '<lrm_resource id="box" class="ocf" provider="heartbeat" type="Dummy">'
        + _op("box", "start", "node1")
        + "</lrm_resource>"
        '<lrm_resource id="app" class="ocf" provider="heartbeat" type="Dummy">'
        + _op("app", "start", "node1")
        + '<lrm_rsc_op id="app_mon" operation="monitor" call-id="2" rc-code="7" op-status="0" '
        'interval="10000" transition-key="1:1:0:x" on_node="node1"/>'
        "</lrm_resource>"
    )
    ws = schedule(etree.fromstring(_cib(resources, status, stonith=False)), NOW)
    # on-fail defaults to restart-container: the launcher restarts, then what it runs
    stop_box = _find(ws, "box_stop_0 node1")
    start_box = _find(ws, "box_start_0 node1")
    start_app = _find(ws, "app_start_0 node1")
    assert stop_box.in_graph and start_box.in_graph and start_app.in_graph
    assert any(first is start_box for first, _ in start_app.before)
    assert any(first is _find(ws, "app_stop_0 node1") for first, _ in stop_box.before)
