"""The order resources are placed in under a utilization placement strategy: after priority
and the score where each runs, a higher score on the first node of the cluster's node order
goes first, where nodes that cannot run resources (standby) come last."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from hactl.core.scheduler import output, schedule

NOW = dt.datetime(2024, 5, 1, 12, 0, 0)


def _running(rsc: str, node: str) -> str:
    return (
        f'<lrm_resource id="{rsc}" class="ocf" provider="pacemaker" type="Dummy">'
        f'<lrm_rsc_op id="{rsc}_start" operation="start" call-id="1" rc-code="0" '
        f'op-status="0" interval="0" transition-key="1:1:0:x" on_node="{node}"/>'
        "</lrm_resource>"
    )


def test_a_resource_on_a_standby_node_is_placed_after_one_that_may_stay() -> None:
    cpu = '<utilization id="{0}-u"><nvpair id="{0}-cpu" name="cpu" value="1"/></utilization>'
    nodes = "".join(
        f'<node id="{n}" uname="{n}">{cpu.format(n)}{extra}</node>'
        for n, extra in (
            (
                "node1",
                '<instance_attributes id="n1-a">'
                '<nvpair id="n1-s" name="standby" value="on"/></instance_attributes>',
            ),
            ("node2", ""),
        )
    )
    resources = "".join(
        f'<primitive id="{r}" class="ocf" provider="pacemaker" type="Dummy">{cpu.format(r)}'
        "</primitive>"
        for r in ("rsc1", "rsc2")
    )
    states = "".join(
        f'<node_state id="{n}" uname="{n}" in_ccm="true" crmd="online" join="member" '
        f'expected="member"><lrm id="{n}"><lrm_resources>{_running(r, n)}</lrm_resources>'
        "</lrm></node_state>"
        for n, r in (("node1", "rsc1"), ("node2", "rsc2"))
    )
    text = f"""
<cib validate-with="pacemaker-3.0" have-quorum="true">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
      <nvpair id="o2" name="placement-strategy" value="balanced"/>
    </cluster_property_set></crm_config>
    <nodes>{nodes}</nodes>
    <resources>{resources}</resources>
    <constraints/>
    <rsc_defaults><meta_attributes id="d">
      <nvpair id="d1" name="resource-stickiness" value="100"/>
    </meta_attributes></rsc_defaults>
  </configuration>
  <status>{states}</status>
</cib>"""
    ws = schedule(etree.fromstring(text), NOW)
    # both weigh 100 where they run; on node2 (first in node order, node1 being standby)
    # rsc2 weighs more, so it keeps node2's only cpu and rsc1 has nowhere to go
    assert ws.by_id["rsc2"].assigned is not None
    assert ws.by_id["rsc2"].assigned.name == "node2"
    assert ws.by_id["rsc1"].assigned is None


def test_an_instance_active_where_it_may_no_longer_run_is_placed_after_the_others() -> None:
    """Pacemaker's pcmk__cmp_instance: the instance banned where it runs (its fail count
    reached the threshold) comes after an inactive one, which so takes the free node."""
    failed = (
        '<transient_attributes id="2"><instance_attributes id="ta2">'
        '<nvpair id="fc" name="fail-count-A#start_0" value="INFINITY"/>'
        "</instance_attributes></transient_attributes>"
    )
    states = (
        '<node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member" '
        'expected="member"/>'
        '<node_state id="2" uname="node2" in_ccm="true" crmd="online" join="member" '
        f'expected="member">{failed}<lrm id="2"><lrm_resources>{_running("A", "node2")}'
        "</lrm_resources></lrm></node_state>"
    )
    text = f"""
<cib validate-with="pacemaker-3.0" have-quorum="true">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>
    <resources><clone id="AC">
      <primitive id="A" class="ocf" provider="pacemaker" type="Dummy"/>
    </clone></resources>
    <constraints/>
  </configuration>
  <status>{states}</status>
</cib>"""
    ws = schedule(etree.fromstring(text), NOW)
    summary = [" ".join(line.split()) for line in output.transition_summary(ws)]
    assert "* Stop A:0 ( node2 ) due to node availability" in summary, summary
    assert "* Start A:1 ( node1 )" in summary, summary


def test_an_optional_anti_colocation_that_leaves_no_node_is_undone() -> None:
    """Pacemaker's apply_this_with: A avoids B (-5000) but may only run where B runs, so the
    anti-colocation is reverted and A runs beside B rather than nowhere."""
    dummy = '<primitive id="{0}" class="ocf" provider="pacemaker" type="Dummy"/>'
    online = "".join(
        f'<node_state id="{n}" uname="node{n}" in_ccm="true" crmd="online" join="member" '
        'expected="member"/>'
        for n in (1, 2)
    )
    text = f"""
<cib validate-with="pacemaker-3.0" have-quorum="true">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>
    <resources>{dummy.format("A")}{dummy.format("B")}</resources>
    <constraints>
      <rsc_location id="b-on-2" rsc="B" node="node2" score="INFINITY"/>
      <rsc_location id="a-not-1" rsc="A" node="node1" score="-INFINITY"/>
      <rsc_colocation id="a-avoids-b" rsc="A" with-rsc="B" score="-5000"/>
    </constraints>
  </configuration>
  <status>{online}</status>
</cib>"""
    ws = schedule(etree.fromstring(text), NOW)
    assert ws.by_id["B"].assigned is not None and ws.by_id["B"].assigned.name == "node2"
    assert ws.by_id["A"].assigned is not None and ws.by_id["A"].assigned.name == "node2"


def _with_group(score: str) -> dict[str, str | None]:
    """Group G of A and B (B stopped by its target-role) and C colocated with G."""
    dummy = '<primitive id="{0}" class="ocf" provider="pacemaker" type="Dummy">{1}</primitive>'
    stopped = (
        '<meta_attributes id="b-m"><nvpair id="b-t" name="target-role" value="Stopped"/>'
        "</meta_attributes>"
    )
    online = "".join(
        f'<node_state id="{n}" uname="node{n}" in_ccm="true" crmd="online" join="member" '
        'expected="member"/>'
        for n in (1, 2)
    )
    text = f"""
<cib validate-with="pacemaker-3.0" have-quorum="true">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>
    <resources>
      <group id="G">{dummy.format("A", "")}{dummy.format("B", stopped)}</group>
      {dummy.format("C", "")}
    </resources>
    <constraints>
      <rsc_colocation id="c-with-g" rsc="C" with-rsc="G" score="{score}"/>
    </constraints>
  </configuration>
  <status>{online}</status>
</cib>"""
    ws = schedule(etree.fromstring(text), NOW)
    return {r: (n.name if (n := ws.by_id[r].assigned) else None) for r in ("A", "B", "C")}


def test_a_mandatory_colocation_with_a_group_needs_its_last_member() -> None:
    """Pacemaker's colocate_with_group: with INFINITY the whole group must be placed, so C
    follows the last member (stopped, so C cannot run); an optional colocation follows the
    first member."""
    mandatory = _with_group("INFINITY")
    assert mandatory["A"] is not None and mandatory["B"] is None
    assert mandatory["C"] is None
    optional = _with_group("100")
    assert optional["C"] is not None and optional["C"] == optional["A"]


def _a_with_b(a_meta: str, influence: str = "") -> dict[str, str | None]:
    """A (banned from node1 by a location) colocated with B; both run on node1."""
    running = "".join(_running(r, "node1") for r in ("A", "B"))
    states = (
        '<node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member" '
        f'expected="member"><lrm id="1"><lrm_resources>{running}</lrm_resources></lrm>'
        "</node_state>"
        '<node_state id="2" uname="node2" in_ccm="true" crmd="online" join="member" '
        'expected="member"/>'
    )
    text = f"""
<cib validate-with="pacemaker-3.0" have-quorum="true">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>
    <resources>
      <primitive id="A" class="ocf" provider="pacemaker" type="Dummy">{a_meta}</primitive>
      <primitive id="B" class="ocf" provider="pacemaker" type="Dummy"/>
    </resources>
    <constraints>
      <rsc_location id="a-not-1" rsc="A" node="node1" score="-INFINITY"/>
      <rsc_colocation id="a-with-b" rsc="A" with-rsc="B" score="INFINITY" {influence}/>
    </constraints>
  </configuration>
  <status>{states}</status>
</cib>"""
    ws = schedule(etree.fromstring(text), NOW)
    return {r: (n.name if (n := ws.by_id[r].assigned) else None) for r in ("A", "B")}


def test_a_dependent_that_is_not_critical_does_not_pull_its_primary_along() -> None:
    """Pacemaker's unpack_influence: without an influence attribute, a colocation takes
    its dependent's critical meta attribute (default true)."""
    assert _a_with_b("") == {"A": "node2", "B": "node2"}
    not_critical = (
        '<meta_attributes id="a-m"><nvpair id="a-c" name="critical" value="false"/>'
        "</meta_attributes>"
    )
    assert _a_with_b(not_critical) == {"A": None, "B": "node1"}
    # an explicit influence wins over critical; an invalid one is ignored
    assert _a_with_b(not_critical, 'influence="true"') == {"A": "node2", "B": "node2"}
    assert _a_with_b(not_critical, 'influence="maybe"') == {"A": None, "B": "node1"}


def test_a_mandatory_colocation_with_a_clone_avoids_its_blocked_instances() -> None:
    """Pacemaker's pcmk__clone_apply_coloc_score: only unblocked instances host S."""

    def history(rsc: str, node: str, failed: bool) -> str:
        monitor = (
            f'<lrm_rsc_op id="{rsc}_mon_{node}" operation="monitor" call-id="2" rc-code="1" '
            f'op-status="0" interval="10000" transition-key="2:1:0:x" on_node="{node}"/>'
            if failed
            else ""
        )
        return (
            f'<lrm_resource id="{rsc}" class="ocf" provider="pacemaker" type="Dummy">'
            f'<lrm_rsc_op id="{rsc}_start_{node}" operation="start" call-id="1" rc-code="0" '
            f'op-status="0" interval="0" transition-key="1:1:0:x" on_node="{node}"/>{monitor}'
            "</lrm_resource>"
        )

    states = "".join(
        f'<node_state id="{n}" uname="node{n}" in_ccm="true" crmd="online" join="member" '
        f'expected="member"><lrm id="{n}"><lrm_resources>{lrm}</lrm_resources></lrm>'
        "</node_state>"
        for n, lrm in (
            (1, history("P", "node1", failed=True) + history("S", "node1", failed=False)),
            (2, history("P", "node2", failed=False)),
        )
    )
    text = f"""
<cib validate-with="pacemaker-3.0" have-quorum="true">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>
    <resources>
      <clone id="PC"><primitive id="P" class="ocf" provider="pacemaker" type="Dummy">
        <operations><op id="P-m" name="monitor" interval="10s" on-fail="block"/></operations>
      </primitive></clone>
      <primitive id="S" class="ocf" provider="pacemaker" type="Dummy"/>
    </resources>
    <constraints>
      <rsc_colocation id="s-with-p" rsc="S" with-rsc="PC" score="INFINITY"/>
    </constraints>
  </configuration>
  <status>{states}</status>
</cib>"""
    ws = schedule(etree.fromstring(text), NOW)
    assert ws.by_id["S"].assigned is not None and ws.by_id["S"].assigned.name == "node2"


def test_capacity_counts_only_the_nodes_a_resource_may_run_on() -> None:
    """Pacemaker's pcmk__ban_insufficient_capacity: rsc2 (4 cpus) must run with rsc1, which
    is banned from node1 (4 cpus); node2 (2 cpus) cannot hold both, so rsc1 is checked
    alone and runs there, while rsc2 finds no room."""
    cpu = '<utilization id="{0}-u"><nvpair id="{0}-cpu" name="cpu" value="{1}"/></utilization>'
    online = "".join(
        f'<node_state id="{n}" uname="{n}" in_ccm="true" crmd="online" join="member" '
        'expected="member"/>'
        for n in ("node1", "node2")
    )
    text = f"""
<cib validate-with="pacemaker-3.0" have-quorum="true">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
      <nvpair id="o2" name="placement-strategy" value="utilization"/>
    </cluster_property_set></crm_config>
    <nodes>
      <node id="node1" uname="node1">{cpu.format("node1", 4)}</node>
      <node id="node2" uname="node2">{cpu.format("node2", 2)}</node>
    </nodes>
    <resources>
      <primitive id="rsc1" class="ocf" provider="pacemaker" type="Dummy"/>
      <primitive id="rsc2" class="ocf" provider="pacemaker" type="Dummy">{cpu.format("rsc2", 4)}
      </primitive>
    </resources>
    <constraints>
      <rsc_location id="rsc1-not-1" rsc="rsc1" node="node1" score="-INFINITY"/>
      <rsc_colocation id="rsc2-with-rsc1" rsc="rsc2" with-rsc="rsc1" score="INFINITY"/>
    </constraints>
  </configuration>
  <status>{online}</status>
</cib>"""
    ws = schedule(etree.fromstring(text), NOW)
    assert ws.by_id["rsc1"].assigned is not None and ws.by_id["rsc1"].assigned.name == "node2"
    assert ws.by_id["rsc2"].assigned is None


def test_a_clone_instance_makes_room_for_the_clones_colocated_with_it() -> None:
    """Pacemaker's pcmk__colocated_resources and pcmk__clone_add_utilization: an instance
    of C1 needs room for one instance of C2, which must run with it."""
    cpu = '<utilization id="{0}-u"><nvpair id="{0}-cpu" name="cpu" value="{1}"/></utilization>'
    online = "".join(
        f'<node_state id="{n}" uname="{n}" in_ccm="true" crmd="online" join="member" '
        'expected="member"/>'
        for n in ("node1", "node2")
    )
    one = '<meta_attributes id="{0}-m"><nvpair id="{0}-max" name="clone-max" value="1"/>'
    text = f"""
<cib validate-with="pacemaker-3.0" have-quorum="true">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
      <nvpair id="o2" name="placement-strategy" value="utilization"/>
    </cluster_property_set></crm_config>
    <nodes>
      <node id="node1" uname="node1">{cpu.format("node1", 2)}</node>
      <node id="node2" uname="node2">{cpu.format("node2", 8)}</node>
    </nodes>
    <resources>
      <clone id="C1">{one.format("C1")}</meta_attributes>
        <primitive id="R1" class="ocf" provider="pacemaker" type="Dummy">{cpu.format("R1", 2)}
        </primitive></clone>
      <clone id="C2">{one.format("C2")}</meta_attributes>
        <primitive id="R2" class="ocf" provider="pacemaker" type="Dummy">{cpu.format("R2", 2)}
        </primitive></clone>
    </resources>
    <constraints>
      <rsc_colocation id="c2-with-c1" rsc="C2" with-rsc="C1" score="INFINITY"/>
    </constraints>
  </configuration>
  <status>{online}</status>
</cib>"""
    ws = schedule(etree.fromstring(text), NOW)
    placed = {r.id: (r.assigned.name if r.assigned else None) for r in ws.all_resources()}
    assert placed["R1:0"] == "node2" and placed["R2:0"] == "node2", placed
