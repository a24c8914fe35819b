"""What is probed on a guest node: nothing that itself launches a guest node, a bundle's
containers included (Pacemaker's pcmk__probe_rsc_on_node asks at each level)."""

from __future__ import annotations

from hactl.core.scheduler.model import WorkingSet

from .cib_text import cib, node_state, scheduled


def _running(rsc: str, node: str, rsc_class: str = "ocf", agent: str = "VirtualDomain") -> str:
    provider = ' provider="heartbeat"' if rsc_class == "ocf" else ""
    return (
        f'<lrm_resource id="{rsc}" class="{rsc_class}"{provider} type="{agent}">'
        f'<lrm_rsc_op id="{rsc}_last_0" operation_key="{rsc}_start_0" operation="start" '
        f'call-id="1" rc-code="0" op-status="0" interval="0" on_node="{node}" '
        f'transition-key="1:1:0:x" transition-magic="0:0;1:1:0:x"/></lrm_resource>'
    )


def _with_guest(resources: str, constraints: str = "", guest_history: str = "") -> WorkingSet:
    """node1 runs guest1's VM (vm) and its connection, next to `resources`; guest1's
    history is `guest_history`."""
    vm = (
        '<primitive id="vm" class="ocf" provider="heartbeat" type="VirtualDomain">'
        '<meta_attributes id="vm-m"><nvpair id="vm-m1" name="remote-node" value="guest1"/>'
        "</meta_attributes></primitive>"
    )
    states = (
        node_state("1", _running("vm", "node1") + _running("guest1", "node1", agent="remote"))
        + node_state("2")
        + '<node_state id="guest1" uname="guest1" remote_node="true" in_ccm="true" '
        'crmd="online"><lrm id="guest1"><lrm_resources>'
        f"{guest_history}</lrm_resources></lrm></node_state>"
    )
    return scheduled(cib(vm + resources, constraints, states))


def _cib() -> WorkingSet:
    """node1 runs guest1's VM and its connection; a one-replica bundle is yet to start."""
    return _with_guest(
        '<bundle id="web"><podman image="httpd:latest" replicas="1"/>'
        '<network ip-range-start="192.168.10.5" control-port="3121"/>'
        '<primitive id="httpd" class="ocf" provider="heartbeat" type="apache"/></bundle>'
    )


def _probed_on(ws: WorkingSet, rsc_id: str) -> list[str]:
    return sorted(
        a.node.name
        for a in ws.actions
        if a.rsc is not None
        and a.rsc.id == rsc_id
        and a.node is not None
        and a.task == "monitor"
        and not a.interval_ms
    )


def test_a_bundle_container_is_not_probed_on_a_guest_node() -> None:
    ws = _cib()
    guest = ws.node("guest1")
    assert guest is not None and guest.is_guest and guest.online
    # the container launches the bundle's own guest node, so guest1 cannot run it
    assert _probed_on(ws, "web-podman-0") == ["node1", "node2"]
    # what launches no guest node is probed there as anywhere
    assert "guest1" in _probed_on(ws, "web-ip-192.168.10.5")


def test_a_recurring_cancel_on_a_guest_node_waits_for_no_connection_start() -> None:
    """A monitor removed from the configuration is cancelled on the guest node; Pacemaker's
    apply_launcher_ordering orders recurring actions after the connection's start, but not
    one of no known task such as a cancel, which therefore never waits for (or is blocked
    by) a connection start."""
    monitor = (
        '<lrm_resource id="D" class="ocf" provider="heartbeat" type="Dummy">'
        '<lrm_rsc_op id="D_last_0" operation_key="D_start_0" operation="start" call-id="1" '
        'rc-code="0" op-status="0" interval="0" on_node="guest1" '
        'transition-key="1:1:0:x" transition-magic="0:0;1:1:0:x"/>'
        '<lrm_rsc_op id="D_monitor_10000" operation_key="D_monitor_10000" operation="monitor" '
        'call-id="2" rc-code="0" op-status="0" interval="10000" on_node="guest1" '
        'transition-key="2:1:0:x" transition-magic="0:0;2:1:0:x"/></lrm_resource>'
    )
    ws = _with_guest(
        '<primitive id="D" class="ocf" provider="heartbeat" type="Dummy"/>',
        '<rsc_location id="l" rsc="D" node="guest1" score="INFINITY"/>',
        monitor,
    )
    cancel = next(a for a in ws.actions if a.task == "cancel")
    assert cancel.node is not None and cancel.node.name == "guest1"
    assert not any(b.task == "start" and b.rsc is ws.by_id["guest1"] for b, _ in cancel.before)
    assert cancel.runnable and cancel.in_graph
