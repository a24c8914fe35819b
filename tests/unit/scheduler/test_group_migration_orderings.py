"""A migratable group ordered after a resource that moves by a restart: the ordering is
the group's, so its members still migrate (the group's stop, not its members', becomes
unmigratable), and no member's migrate_to waits for that resource's start (the group
has no migrate_to to order: Pacemaker's pcmk__order_migration_equivalents)."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from hactl.core.scheduler import execute, output, schedule

NOW = dt.datetime(2024, 5, 1, 12, 0, 0)
#: the digest of a Dummy's parameters when it has none (Pacemaker's, feature set 3.0.9)
DIGEST = "f2317cad3d54cec5d7d7aa7d0bf35cf8"


def _running(rsc: str, call: int) -> str:
    return (
        f'<lrm_resource id="{rsc}" class="ocf" provider="pacemaker" type="Dummy">'
        f'<lrm_rsc_op id="{rsc}_last_0" operation_key="{rsc}_start_0" operation="start" '
        f'call-id="{call}" rc-code="0" op-status="0" interval="0" '
        f'transition-key="{call}:1:0:x" on_node="node1" crm_feature_set="3.0.9" '
        f'op-digest="{DIGEST}"/></lrm_resource>'
    )


CIB = f"""
<cib validate-with="pacemaker-3.7" have-quorum="true" admin_epoch="0" epoch="1"
  num_updates="0">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>
    <resources>
      <primitive id="F" class="ocf" provider="pacemaker" type="Dummy"/>
      <group id="G">
        <meta_attributes id="G-m"><nvpair id="G-am" name="allow-migrate" value="true"/>
        </meta_attributes>
        <primitive id="a" class="ocf" provider="pacemaker" type="Dummy"/>
        <primitive id="b" class="ocf" provider="pacemaker" type="Dummy"/>
      </group>
    </resources>
    <constraints>
      <rsc_location id="f-on-2" rsc="F" node="node2" score="100"/>
      <rsc_order id="f-then-g" first="F" then="G"/>
      <rsc_colocation id="g-with-f" rsc="G" with-rsc="F" score="INFINITY"/>
    </constraints>
  </configuration>
  <status>
    <node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member"
      expected="member"><lrm id="1"><lrm_resources>
      {_running("F", 1)}{_running("a", 2)}{_running("b", 3)}
    </lrm_resources></lrm></node_state>
    <node_state id="2" uname="node2" in_ccm="true" crmd="online" join="member"
      expected="member"/>
  </status>
</cib>"""


def test_members_of_a_migratable_group_migrate_after_a_moved_primary() -> None:
    ws = schedule(etree.fromstring(CIB), NOW)
    summary = [" ".join(line.split()) for line in output.transition_summary(ws)]
    assert summary == [
        "* Move F ( node1 -> node2 )",
        "* Migrate a ( node1 -> node2 )",
        "* Migrate b ( node1 -> node2 )",
    ], summary
    # the whole transition can run (no member's migrate_to waits on F's start)
    done = execute.run_graph(ws)
    assert len(done) == sum(1 for a in ws.actions if a.in_graph)
