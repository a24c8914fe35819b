"""Live migration inside a group: a member stops before the member before it, so it can
migrate only if that one migrates too; the first member is held up by no one."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from hactl.core.scheduler import output, schedule

NOW = dt.datetime(2024, 5, 1, 12, 0, 0)


def test_a_member_after_an_unmigratable_one_moves_instead() -> None:
    migratable = (
        '<meta_attributes id="{0}-m"><nvpair id="{0}-am" name="allow-migrate" value="true"/>'
        "</meta_attributes>"
    )
    members = "".join(
        f'<primitive id="{r}" class="ocf" provider="pacemaker" type="Dummy">'
        f"{migratable.format(r) if r != 'B' else ''}</primitive>"
        for r in ("A", "B", "C")
    )
    running = "".join(
        f'<lrm_resource id="{r}" class="ocf" provider="pacemaker" type="Dummy">'
        f'<lrm_rsc_op id="{r}_start" operation="start" call-id="{i}" rc-code="0" '
        f'op-status="0" interval="0" transition-key="{i}:1:0:x" on_node="node1"/>'
        "</lrm_resource>"
        for i, r in enumerate(("A", "B", "C"), start=1)
    )
    text = f"""
<cib validate-with="pacemaker-3.0" have-quorum="true">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>
    <resources><group id="G">{members}</group></resources>
    <constraints><rsc_location id="g-on-2" rsc="G" node="node2" score="INFINITY"/></constraints>
  </configuration>
  <status>
    <node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member"
      expected="member"><lrm id="1"><lrm_resources>{running}</lrm_resources></lrm></node_state>
    <node_state id="2" uname="node2" in_ccm="true" crmd="online" join="member"
      expected="member"/>
  </status>
</cib>"""
    ws = schedule(etree.fromstring(text), NOW)
    summary = [" ".join(line.split()) for line in output.transition_summary(ws)]
    assert any(line.startswith("* Migrate A ( node1 -> node2 )") for line in summary), summary
    assert any(line.startswith("* Move B ( node1 -> node2 )") for line in summary), summary
    assert "* Move C ( node1 -> node2 ) due to unmigrateable B stop" in summary, summary
