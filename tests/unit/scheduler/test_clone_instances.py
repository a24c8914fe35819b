"""Clone instances as Pacemaker makes them: how many, whether they are distinct, and which
instance a node's history belongs to."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from hactl.core.scheduler import output, schedule
from hactl.core.scheduler.model import WorkingSet

NOW = dt.datetime(2024, 5, 1, 12, 0, 0)


def _cib(resources: str, nodes: int = 2) -> WorkingSet:
    names = [f"node{i}" for i in range(1, nodes + 1)]
    node_list = "".join(f'<node id="{i}" uname="{n}"/>' for i, n in enumerate(names, start=1))
    states = "".join(
        f'<node_state id="{i}" uname="{n}" in_ccm="true" crmd="online" join="member" '
        f'expected="member"><lrm id="{i}"><lrm_resources/></lrm></node_state>'
        for i, n in enumerate(names, start=1)
    )
    text = f"""
<cib validate-with="pacemaker-3.0" have-quorum="true" dc-uuid="1">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
    </cluster_property_set></crm_config>
    <nodes>{node_list}</nodes>
    <resources>{resources}</resources>
    <constraints/>
  </configuration>
  <status>{states}</status>
</cib>"""
    return schedule(etree.fromstring(text), NOW)


def _unique_clone(members: str, clone_max: int) -> str:
    return (
        '<clone id="c"><meta_attributes id="c-m">'
        '<nvpair id="c-u" name="globally-unique" value="true"/>'
        f'<nvpair id="c-max" name="clone-max" value="{clone_max}"/>'
        f"</meta_attributes>{members}</clone>"
    )


def _probes(ws: WorkingSet) -> list[str]:
    return sorted(
        f"{a.rsc.id}@{a.node.name}"
        for a in ws.actions
        if a.rsc is not None and a.node is not None and a.key.endswith("_monitor_0")
    )


def test_lsb_agent_makes_a_unique_clone_anonymous() -> None:
    """lsb agents cannot have distinct instances: globally-unique is ignored, and the clone
    gets at most one instance per node (Pacemaker's pe__force_anon), each node probed once
    for the anonymous resource (by the instance placed there), not once per instance."""
    ws = _cib(_unique_clone('<primitive id="svc" class="lsb" type="svc"/>', clone_max=5))
    clone = ws.by_id["c"]
    assert not clone.globally_unique
    assert (clone.clone_max, clone.clone_node_max) == (2, 1)
    lines = [" ".join(line.split()) for line in output.transition_summary(ws)]
    assert lines == ["* Start svc:0 ( node1 )", "* Start svc:1 ( node2 )"], lines
    assert _probes(ws) == ["svc:0@node1", "svc:1@node2"]


def test_one_lsb_member_makes_a_unique_cloned_group_anonymous() -> None:
    members = (
        '<group id="g"><primitive id="d" class="ocf" provider="heartbeat" type="Dummy"/>'
        '<primitive id="svc" class="lsb" type="svc"/></group>'
    )
    ws = _cib(_unique_clone(members, clone_max=2), nodes=3)
    clone = ws.by_id["c"]
    assert not clone.globally_unique
    assert len(clone.children) == 2


def test_ocf_agents_keep_a_unique_clone_unique() -> None:
    ws = _cib(_unique_clone('<primitive id="d" class="ocf" provider="heartbeat" type="Dummy"/>', 3))
    clone = ws.by_id["c"]
    assert clone.globally_unique
    assert len(clone.children) == 3
