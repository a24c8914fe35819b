"""A clone's action is required for an ordering only through its instances' actions on the
node of what follows it (Pacemaker computes a clone's flags for an ordering with then's
node): a second instance promoted elsewhere does not restart what runs after the
promotion next to an instance promoted already."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from hactl.core.scheduler import output, schedule

NOW = dt.datetime(2024, 5, 1, 12, 0, 0)
#: the digest of an agent's parameters when it has none (Pacemaker's, feature set 3.0.9)
DIGEST = "f2317cad3d54cec5d7d7aa7d0bf35cf8"


def _op(rsc: str, node: str, call: int, task: str, agent: str) -> str:
    return (
        f'<lrm_resource id="{rsc}" class="ocf" provider="pacemaker" type="{agent}">'
        f'<lrm_rsc_op id="{rsc}_last_0" operation_key="{rsc}_{task}_0" operation="{task}" '
        f'call-id="{call}" rc-code="0" op-status="0" interval="0" '
        f'transition-key="{call}:1:0:x" on_node="{node}" crm_feature_set="3.0.9" '
        f'op-digest="{DIGEST}"/></lrm_resource>'
    )


def _state(node_id: str, node: str, history: str) -> str:
    return f"""
    <node_state id="{node_id}" uname="{node}" in_ccm="true" crmd="online" join="member"
      expected="member">
      <transient_attributes id="{node_id}"><instance_attributes id="t{node_id}">
        <nvpair id="m{node_id}" name="master-P" value="10"/>
      </instance_attributes></transient_attributes>
      <lrm id="{node_id}"><lrm_resources>{history}</lrm_resources></lrm>
    </node_state>"""


def test_a_promotion_elsewhere_does_not_restart_what_follows_the_promoted_instance() -> None:
    text = f"""
<cib validate-with="pacemaker-3.7" have-quorum="true" admin_epoch="0" epoch="1"
  num_updates="0">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>
    <resources>
      <clone id="P-clone">
        <meta_attributes id="P-m">
          <nvpair id="P-p" name="promotable" value="true"/>
          <nvpair id="P-pm" name="promoted-max" value="2"/>
        </meta_attributes>
        <primitive id="P" class="ocf" provider="pacemaker" type="Stateful"/>
      </clone>
      <primitive id="X" class="ocf" provider="pacemaker" type="Dummy"/>
    </resources>
    <constraints>
      <rsc_location id="x-on-1" rsc="X" node="node1" score="100"/>
      <rsc_order id="p-then-x" first="P-clone" first-action="promote" then="X"
        then-action="start"/>
    </constraints>
  </configuration>
  <status>{
        _state(
            "1",
            "node1",
            _op("P", "node1", 2, "promote", "Stateful") + _op("X", "node1", 3, "start", "Dummy"),
        )
    }
    {_state("2", "node2", _op("P", "node2", 4, "start", "Stateful"))}
  </status>
</cib>"""
    ws = schedule(etree.fromstring(text), NOW)
    summary = [" ".join(line.split()) for line in output.transition_summary(ws)]
    assert any(
        line.startswith("* Promote P:1 ( Unpromoted -> Promoted node2 )") for line in summary
    ), summary
    assert not any(" X " in line for line in summary), summary
