"""Edges of the transition graph (crm_simulate -D) on small CIBs, one Pacemaker rule a test."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from hactl.core.scheduler import WorkingSet, execute, output, schedule

NOW = dt.datetime(2024, 5, 1, 12, 0, 0)

NODE_STATE = (
    '<node_state id="{id}" uname="node{id}" in_ccm="true" crmd="online" join="member" '
    'expected="member">{lrm}</node_state>'
)


def cib(resources: str, constraints: str = "", status: dict[int, str] | None = None) -> str:
    """A two-node CIB (node1, node2) without fencing; `status` maps a node number to the
    lrm_resource elements of its history."""
    status = status or {}
    states = "".join(
        NODE_STATE.format(
            id=n,
            lrm=f'<lrm id="{n}"><lrm_resources>{status[n]}</lrm_resources></lrm>'
            if n in status
            else "",
        )
        for n in (1, 2)
    )
    return f"""
<cib validate-with="pacemaker-3.0" have-quorum="true" dc-uuid="1">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>
    <resources>{resources}</resources>
    <constraints>{constraints}</constraints>
  </configuration>
  <status>{states}</status>
</cib>"""


def history(rsc: str, *ops: tuple[str, int, int]) -> str:
    """An lrm_resource for a Dummy with (operation, interval ms, rc) entries in call order."""
    entries = "".join(
        f'<lrm_rsc_op id="{rsc}_{op}_{interval}" operation="{op}" interval="{interval}" '
        f'call-id="{call}" rc-code="{rc}" op-status="0" '
        f'transition-key="{call}:0:0:00000000-0000-0000-0000-000000000000" '
        f'transition-magic="0:{rc};{call}:0:0:00000000-0000-0000-0000-000000000000"/>'
        for call, (op, interval, rc) in enumerate(ops, start=1)
    )
    return (
        f'<lrm_resource id="{rsc}" class="ocf" provider="pacemaker" type="Dummy">'
        f"{entries}</lrm_resource>"
    )


def dummy(rid: str, extra: str = "") -> str:
    agent = 'class="ocf" provider="pacemaker" type="Dummy"'
    return f'<primitive id="{rid}" {agent}>{extra}</primitive>'


def run(text: str) -> WorkingSet:
    return schedule(etree.fromstring(text), NOW)


def edges(ws: WorkingSet) -> set[tuple[str, str]]:
    out = set()
    for line in output.dot(ws).splitlines():
        if " -> " in line:
            first, _, rest = line.partition(" -> ")
            out.add((first.strip('"'), rest.split('"')[1]))
    return out


def test_clone_of_groups_is_running_once_each_group_is_running() -> None:
    ws = run(
        cib(
            '<clone id="grp-clone"><group id="grp">'
            + dummy("a")
            + dummy("b")
            + "</group></clone>"
        )
    )
    graph = edges(ws)
    assert ("grp:0_running_0", "grp-clone_running_0") in graph
    assert not any(f.startswith("grp:0_start_0") and t == "grp-clone_running_0" for f, t in graph)


def test_group_waits_for_a_whole_group_it_is_ordered_after() -> None:
    ws = run(
        cib(
            '<group id="g1">' + dummy("a") + dummy("b") + "</group>"
            '<group id="g2">' + dummy("c") + "</group>",
            '<rsc_order id="o" first="g1" then="g2"/>',
        )
    )
    graph = edges(ws)
    assert ("g1_running_0", "g2_start_0") in graph
    assert ("g1_start_0", "g2_start_0") not in graph


def test_promotable_clone_promoted_follows_only_instance_promotions() -> None:
    ws = run(
        cib(
            '<clone id="ms"><meta_attributes id="m">'
            '<nvpair id="m1" name="promotable" value="true"/>'
            '<nvpair id="m2" name="clone-max" value="1"/></meta_attributes>'
            + dummy("s")
            + "</clone>",
            '<rsc_location id="l" rsc="ms" node="node1" score="10" role="Promoted"/>',
        )
    )

    graph = edges(ws)
    assert ("ms_promote_0", "ms_promoted_0") not in graph
    assert ("s:0_promote_0 node1", "ms_promoted_0") in graph
    fired = [a.key for a in execute.run_graph(ws)]
    assert fired.index("ms_promoted_0") > fired.index("ms_promote_0")
