"""router_node in the graph XML: an action on a remote node is carried out by the cluster
node hosting its connection; while the connection moves, what must happen before it leaves
goes through the old host and the rest through the new one."""

from __future__ import annotations

from lxml import etree

from hactl.core.scheduler import output, schedule
from hactl.core.scheduler.model import WorkingSet

from .cib_text import NOW


def _op(rsc: str, task: str, node: str, call: int, rc: int = 0) -> str:
    return (
        f'<lrm_rsc_op id="{rsc}_{task}_{call}" operation="{task}" call-id="{call}" '
        f'rc-code="{rc}" op-status="0" interval="0" transition-key="{call}:1:{rc}:x" '
        f'transition-magic="0:{rc};{call}:1:{rc}:x" on_node="{node}"/>'
    )


def _schedule(connection_home: str, a_location: str) -> WorkingSet:
    """remote1's connection runs on node1 and is sent to `connection_home`; A and B run on
    remote1, A is sent to `a_location` (B stays)."""
    text = f"""
<cib validate-with="pacemaker-3.0" have-quorum="true" dc-uuid="1">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>
    <resources>
      <primitive id="remote1" class="ocf" provider="pacemaker" type="remote">
        <meta_attributes id="r-m"><nvpair id="r-m1" name="allow-migrate" value="false"/>
        </meta_attributes>
      </primitive>
      <primitive id="A" class="ocf" provider="heartbeat" type="Dummy"/>
      <primitive id="B" class="ocf" provider="heartbeat" type="Dummy">
        <operations><op id="B-mon" name="monitor" interval="10s"/></operations>
      </primitive>
    </resources>
    <constraints>
      <rsc_location id="l-conn" rsc="remote1" node="{connection_home}" score="INFINITY"/>
      <rsc_location id="l-a" rsc="A" node="{a_location}" score="INFINITY"/>
      <rsc_location id="l-b" rsc="B" node="remote1" score="INFINITY"/>
    </constraints>
  </configuration>
  <status>
    <node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member"
      expected="member"><lrm id="1"><lrm_resources>
      <lrm_resource id="remote1" class="ocf" provider="pacemaker" type="remote">
        {_op("remote1", "start", "node1", 1)}</lrm_resource>
      <lrm_resource id="A" class="ocf" provider="heartbeat" type="Dummy">
        {_op("A", "monitor", "node1", 2, 7)}</lrm_resource>
      <lrm_resource id="B" class="ocf" provider="heartbeat" type="Dummy">
        {_op("B", "monitor", "node1", 3, 7)}</lrm_resource>
    </lrm_resources></lrm></node_state>
    <node_state id="2" uname="node2" in_ccm="true" crmd="online" join="member"
      expected="member"><lrm id="2"><lrm_resources>
      <lrm_resource id="remote1" class="ocf" provider="pacemaker" type="remote">
        {_op("remote1", "monitor", "node2", 1, 7)}</lrm_resource>
      <lrm_resource id="A" class="ocf" provider="heartbeat" type="Dummy">
        {_op("A", "monitor", "node2", 2, 7)}</lrm_resource>
      <lrm_resource id="B" class="ocf" provider="heartbeat" type="Dummy">
        {_op("B", "monitor", "node2", 3, 7)}</lrm_resource>
    </lrm_resources></lrm></node_state>
    <node_state id="remote1" uname="remote1" remote_node="true"><lrm id="remote1">
      <lrm_resources>
      <lrm_resource id="A" class="ocf" provider="heartbeat" type="Dummy">
        {_op("A", "start", "remote1", 4)}</lrm_resource>
      <lrm_resource id="B" class="ocf" provider="heartbeat" type="Dummy">
        {_op("B", "start", "remote1", 5)}</lrm_resource>
    </lrm_resources></lrm></node_state>
  </status>
</cib>"""
    return schedule(etree.fromstring(text), NOW)


def _routes(ws: WorkingSet) -> dict[tuple[str, str], str | None]:
    graph = etree.fromstring(output.graph_xml(ws).encode())
    return {
        (op.get("operation_key", ""), op.get("on_node", "")): op.get("router_node")
        for op in graph.iter("rsc_op", "crm_event")
    }


def test_actions_on_a_remote_node_go_through_the_connection_host() -> None:
    routes = _routes(_schedule("node1", "node2"))
    assert routes[("A_stop_0", "remote1")] == "node1"
    # cluster nodes' own actions carry no router
    assert routes[("A_start_0", "node2")] is None


def test_a_moving_connection_routes_stops_through_the_old_host_and_starts_the_new() -> None:
    ws = _schedule("node2", "node2")
    assert ws.by_id["remote1"].assigned is not None
    assert ws.by_id["remote1"].assigned.name == "node2"
    routes = _routes(ws)
    assert routes[("remote1_start_0", "node2")] is None
    assert routes[("A_stop_0", "remote1")] == "node1"
    # B stays on remote1; its monitor is set up again once the connection is on node2
    assert routes[("B_monitor_10000", "remote1")] == "node2"
