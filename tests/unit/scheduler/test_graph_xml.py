"""Graph XML action details (core/scheduler/graph.py) on a small CIB."""

from __future__ import annotations

from lxml import etree

from hactl.core.scheduler import output, schedule

from .cib_text import NOW

CIB = """
<cib validate-with="pacemaker-3.0" have-quorum="true" dc-uuid="1">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/></nodes>
    <resources>
      <primitive id="ip" class="ocf" provider="heartbeat" type="IPaddr2">
        <instance_attributes id="ip-p"><nvpair id="ip-p1" name="ip" value="10.0.0.5"/>
        </instance_attributes>
        <operations>
          <op id="ip-start" name="start" interval="0" timeout="30s"/>
          <op id="ip-mon" name="monitor" interval="10s" timeout="15s"/>
        </operations>
      </primitive>
    </resources>
    <op_defaults><meta_attributes id="od">
      <nvpair id="od1" name="record-pending" value="true"/>
    </meta_attributes></op_defaults>
    <constraints/>
  </configuration>
  <status><node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member"
    expected="member"/></status>
</cib>"""


def actions() -> dict[str, etree._Element]:
    ws = schedule(etree.fromstring(CIB), NOW)
    root = etree.fromstring(output.graph_xml(ws).encode())
    found = {}
    for synapse in root.iter("synapse"):
        action_set = synapse.find("action_set")
        assert action_set is not None
        for action in action_set:
            found[action.get("operation_key", "")] = action
    return found


def attributes(action: etree._Element) -> dict[str, str]:
    element = action.find("attributes")
    assert element is not None
    return dict(element.attrib)


def test_a_start_carries_parameters_op_meta_and_defaults() -> None:
    start = actions()["ip_start_0"]
    primitive = start.find("primitive")
    assert primitive is not None
    assert dict(primitive.attrib) == {
        "id": "ip",
        "class": "ocf",
        "provider": "heartbeat",
        "type": "IPaddr2",
    }
    assert attributes(start) == {
        "CRM_meta_name": "start",
        "CRM_meta_on_node": "node1",
        "CRM_meta_on_node_uuid": "1",
        "CRM_meta_record_pending": "true",
        "CRM_meta_timeout": "30000",
        "ip": "10.0.0.5",
    }


def test_a_probe_expects_not_running_and_takes_the_monitor_timeout() -> None:
    probe = attributes(actions()["ip_monitor_0"])
    assert probe["CRM_meta_op_target_rc"] == "7"
    assert probe["CRM_meta_timeout"] == "15000"
    assert "CRM_meta_interval" not in probe


def test_a_recurring_monitor_carries_its_interval() -> None:
    monitor = attributes(actions()["ip_monitor_10000"])
    assert monitor["CRM_meta_interval"] == "10000"
    assert monitor["CRM_meta_name"] == "monitor"
    assert "CRM_meta_op_target_rc" not in monitor


def test_the_graph_carries_the_controllers_delays_and_failure_offsets() -> None:
    ws = schedule(etree.fromstring(CIB), NOW)
    root = etree.fromstring(output.graph_xml(ws).encode())
    assert dict(root.attrib) == {
        "cluster-delay": "60s",
        "fencing-timeout": "60s",
        "failed-stop-offset": "INFINITY",
        "failed-start-offset": "INFINITY",
        "transition_id": "0",
    }
