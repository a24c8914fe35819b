"""Histories of an anonymous clone of groups (Pacemaker's find_anonymous_clone): a second
history of a member already active on a node goes to another instance active there (a
removed one), so two extra histories of the same group make one removed instance."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from hactl.core.scheduler import unpack

NOW = dt.datetime(2024, 5, 1, 12, 0, 0)


def test_the_extra_histories_of_a_cloned_group_share_one_removed_instance() -> None:
    def history(rid: str, call: int) -> str:
        return (
            f'<lrm_resource id="{rid}" class="ocf" provider="pacemaker" type="Dummy">'
            f'<lrm_rsc_op id="{rid}_start" operation="start" call-id="{call}" rc-code="0" '
            f'op-status="0" interval="0" transition-key="{call}:1:0:x" on_node="node1"/>'
            "</lrm_resource>"
        )

    histories = "".join(
        history(rid, call) for call, rid in enumerate(("B:1", "B:0", "A:1", "A:0"), start=1)
    )
    text = f"""
<cib validate-with="pacemaker-3.0" have-quorum="true">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/></nodes>
    <resources><clone id="C">
      <meta_attributes id="c-m"><nvpair id="c-max" name="clone-max" value="1"/></meta_attributes>
      <group id="G">
        <primitive id="A" class="ocf" provider="pacemaker" type="Dummy"/>
        <primitive id="B" class="ocf" provider="pacemaker" type="Dummy"/>
      </group>
    </clone></resources>
    <constraints/>
  </configuration>
  <status><node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member"
    expected="member"><lrm id="1"><lrm_resources>{histories}</lrm_resources></lrm>
  </node_state></status>
</cib>"""
    ws = unpack.unpack(etree.fromstring(text), NOW)
    instances = ws.by_id["C"].children
    assert len(instances) == 2  # the configured one and one removed instance
    configured, removed = instances
    assert not configured.orphan and removed.orphan
    for instance in instances:
        assert all(p.running_on for p in instance.primitives()), instance.id
