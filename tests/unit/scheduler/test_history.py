"""Operation history -> state (core/scheduler/history.py), one Pacemaker unpack rule a test."""

from __future__ import annotations

from lxml import etree

from hactl.core.cib.digest import op_digest
from hactl.core.scheduler import graph, schedule

from .cib_text import NOW, summary

MAGIC_UUID = "00000000-0000-0000-0000-000000000000"


def op(rsc: str, node: int, call: int, task: str, rc: int = 0, **attrs: str) -> str:
    """One lrm_rsc_op; `expected` (default 0, 7 for a probe) goes in the transition key."""
    interval = attrs.pop("interval", "0")
    expected = attrs.pop("expected", "7" if task == "monitor" and interval == "0" else "0")
    status = attrs.pop("status", "0")
    # the digest of what the test resources run with (no parameters, the default timeout)
    attrs.setdefault("op-digest", op_digest({}, interval_ms=int(interval), timeout_ms=20000))
    extra = "".join(f' {name}="{value}"' for name, value in attrs.items())
    return (
        f'<lrm_rsc_op id="{rsc}_{task}_{interval}_{call}" operation="{task}" interval="{interval}" '
        f'call-id="{call}" rc-code="{rc}" op-status="{status}" on_node="node{node}" '
        f'last-rc-change="{1700000000 + call}" '
        f'transition-key="{call}:1:{expected}:{MAGIC_UUID}" '
        f'transition-magic="{status}:{rc};{call}:1:{expected}:{MAGIC_UUID}"{extra}/>'
    )


def lrm(rsc: str, *ops: str, agent: str = 'class="ocf" provider="pacemaker" type="Dummy"') -> str:
    return f'<lrm_resource id="{rsc}" {agent}>{"".join(ops)}</lrm_resource>'


def cib(
    resources: str,
    status: dict[int, str],
    *,
    fencing: bool = False,
    states: dict[int, str] | None = None,
    extra_config: str = "",
) -> etree._Element:
    """Two nodes, both members unless `states` gives a node_state's attributes."""
    body = ""
    for n in (1, 2):
        attributes = (states or {}).get(
            n, 'in_ccm="true" crmd="online" join="member" expected="member"'
        )
        history = f'<lrm id="{n}"><lrm_resources>{status.get(n, "")}</lrm_resources></lrm>'
        body += f'<node_state id="{n}" uname="node{n}" {attributes}>{history}</node_state>'
    fence = "true" if fencing else "false"
    stonith = '<primitive id="fence" class="stonith" type="fence_dummy"/>' if fencing else ""
    text = f"""
<cib validate-with="pacemaker-3.0" have-quorum="true" dc-uuid="1">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="{fence}"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>
    <resources>{stonith}{resources}</resources>
    <constraints/>{extra_config}
  </configuration>
  <status>{body}</status>
</cib>"""
    return etree.fromstring(text)


DUMMY = '<primitive id="rsc" class="ocf" provider="pacemaker" type="Dummy"/>'
VM = (
    '<primitive id="vm" class="ocf" provider="heartbeat" type="Xen">'
    '<meta_attributes id="vm-m"><nvpair id="vm-m1" name="allow-migrate" value="true"/>'
    "</meta_attributes></primitive>"
)


def test_failed_migrate_from_leaves_the_resource_active_on_both_nodes() -> None:
    # the source's migrate_to succeeded, the target's migrate_from failed: the resource may
    # be active on either, so it is recovered (stopped on both) where the target is
    migrate = {"migrate_source": "node1", "migrate_target": "node2"}
    status = {
        1: lrm(
            "vm",
            op("vm", 1, 1, "monitor", 7),
            op("vm", 1, 2, "start"),
            op("vm", 1, 3, "migrate_to", **migrate),
            agent='class="ocf" provider="heartbeat" type="Xen"',
        ),
        2: lrm(
            "vm",
            op("vm", 2, 1, "monitor", 7),
            op("vm", 2, 4, "migrate_from", 1, **migrate),
            agent='class="ocf" provider="heartbeat" type="Xen"',
        ),
    }
    ws = schedule(cib(VM, status), NOW)
    vm = ws.by_id["vm"]
    assert [n.name for n in vm.running_on] == ["node2", "node1"]
    assert vm.failed
    stops = sorted(
        a.node.name for a in vm.actions if a.task == "stop" and a.node and not a.optional
    )
    assert stops == ["node1", "node2"]


def test_completed_migration_leaves_only_the_source_to_stop() -> None:
    migrate = {"migrate_source": "node1", "migrate_target": "node2"}
    agent = 'class="ocf" provider="heartbeat" type="Xen"'
    status = {
        1: lrm("vm", op("vm", 1, 2, "start"), op("vm", 1, 3, "migrate_to", **migrate), agent=agent),
        2: lrm(
            "vm",
            op("vm", 2, 1, "monitor", 7),
            op("vm", 2, 4, "migrate_from", **migrate),
            agent=agent,
        ),
    }
    ws = schedule(cib(VM, status), NOW)
    vm = ws.by_id["vm"]
    assert [n.name for n in vm.running_on] == ["node2"]
    assert [n.name for n in vm.dangling] == ["node1"]
    assert not vm.failed


def test_a_degraded_monitor_result_is_a_success() -> None:
    status = {
        1: lrm("rsc", op("rsc", 1, 1, "start"), op("rsc", 1, 2, "monitor", 190, interval="10000"))
    }
    ws = schedule(cib(DUMMY, status), NOW)
    rsc = ws.by_id["rsc"]
    assert not rsc.failed
    assert [n.name for n in rsc.running_on] == ["node1"]
    assert summary(ws) == []


def test_a_probe_that_finds_no_agent_counts_as_stopped_and_bans_the_node() -> None:
    status = {1: lrm("rsc", op("rsc", 1, 1, "monitor", 5))}
    ws = schedule(cib(DUMMY, status), NOW)
    rsc = ws.by_id["rsc"]
    assert rsc.running_on == [] and not rsc.failed
    assert rsc.assigned is not None and rsc.assigned.name == "node2"


def test_multiple_active_block_in_a_blocking_group_blocks_the_group() -> None:
    group = (
        '<group id="g"><meta_attributes id="g-m">'
        '<nvpair id="g-m1" name="multiple-active" value="block"/></meta_attributes>'
        '<primitive id="a" class="ocf" provider="pacemaker" type="Dummy"/>'
        '<primitive id="b" class="ocf" provider="pacemaker" type="Dummy"/></group>'
    )
    status = {
        1: lrm("a", op("a", 1, 1, "start")) + lrm("b", op("b", 1, 2, "start")),
        2: lrm("a", op("a", 2, 1, "start")),
    }
    ws = schedule(cib(group, status), NOW)
    assert ws.by_id["a"].blocked and ws.by_id["b"].blocked
    assert not [
        a
        for a in ws.actions
        if a.rsc is not None and not a.optional and a.runnable and a.task in ("start", "stop")
    ]


def test_op_defaults_on_fail_stop_applies_to_a_failed_monitor() -> None:
    defaults = (
        '<op_defaults><meta_attributes id="od">'
        '<nvpair id="od1" name="on-fail" value="stop"/></meta_attributes></op_defaults>'
    )
    dummy = (
        '<primitive id="rsc" class="ocf" provider="pacemaker" type="Dummy"><operations>'
        '<op id="rsc-mon" name="monitor" interval="10s"/></operations></primitive>'
    )
    status = {
        1: lrm("rsc", op("rsc", 1, 1, "start"), op("rsc", 1, 2, "monitor", 1, interval="10000"))
    }
    ws = schedule(cib(dummy, status, extra_config=defaults), NOW)
    rsc = ws.by_id["rsc"]
    assert rsc.assigned is None
    assert any(a.task == "stop" and not a.optional for a in rsc.actions)


def test_a_resource_thought_active_on_a_node_that_left_gets_the_node_fenced() -> None:
    status = {2: lrm("rsc", op("rsc", 2, 1, "start"))}
    states = {2: 'in_ccm="false" crmd="offline" join="down" expected="down"'}
    ws = schedule(cib(DUMMY, status, fencing=True, states=states), NOW)
    node2 = ws.node("node2")
    assert node2 is not None and node2.unclean
    assert node2.fence_reason == "rsc is thought to be active there"
    assert any(a.task == "stonith" and a.node is node2 for a in ws.actions)


def test_stopping_a_dangling_migration_source_does_not_restart_the_target() -> None:
    migrate = {"migrate_source": "node1", "migrate_target": "node2"}
    agent = 'class="ocf" provider="heartbeat" type="Xen"'
    status = {
        1: lrm("vm", op("vm", 1, 2, "start"), op("vm", 1, 3, "migrate_to", **migrate), agent=agent),
        2: lrm("vm", op("vm", 2, 4, "migrate_from", **migrate), agent=agent),
    }
    ws = schedule(cib(VM, status), NOW)
    vm = ws.by_id["vm"]
    required = sorted(
        (a.task, a.node.name) for a in vm.actions if not a.optional and a.node is not None
    )
    assert required == [("stop", "node1")]
    assert summary(ws) == []


def test_a_partial_migration_continues_to_the_same_target() -> None:
    # migrate_to done on node1, no migrate_from yet on node2 (known there by a probe)
    migrate = {"migrate_source": "node1", "migrate_target": "node2"}
    agent = 'class="ocf" provider="heartbeat" type="Xen"'
    ban = '<rsc_location id="away" rsc="vm" node="node1" score="-INFINITY"/>'
    status = {
        1: lrm("vm", op("vm", 1, 2, "start"), op("vm", 1, 3, "migrate_to", **migrate), agent=agent),
        2: lrm("vm", op("vm", 2, 1, "monitor", 7), agent=agent),
    }
    text = (
        etree.tostring(cib(VM, status))
        .decode()
        .replace("<constraints/>", f"<constraints>{ban}</constraints>")
    )
    ws = schedule(etree.fromstring(text), NOW)
    vm = ws.by_id["vm"]
    assert sorted(n.name for n in vm.running_on) == ["node1", "node2"]
    tasks = sorted(
        (a.task, a.node.name) for a in vm.actions if not a.optional and a.node and not a.pseudo
    )
    # no second migrate_to, and no stop where the migration completes
    assert tasks == [("migrate_from", "node2"), ("stop", "node1")]


def _with_monitor(on_fail: str, meta: str = "") -> str:
    return (
        '<primitive id="rsc" class="ocf" provider="pacemaker" type="Dummy">'
        f'<meta_attributes id="rsc-m">{meta}</meta_attributes><operations>'
        f'<op id="rsc-mon" name="monitor" interval="10s" on-fail="{on_fail}"/></operations>'
        "</primitive>"
    )


def test_an_ignored_failure_ignores_the_migration_threshold_too() -> None:
    threshold = '<nvpair id="rsc-m1" name="migration-threshold" value="1"/>'
    history = lrm("rsc", op("rsc", 1, 1, "start"), op("rsc", 1, 2, "monitor", 1, interval="10000"))
    root = cib(_with_monitor("ignore", threshold), {1: history})
    state = root.find("status/node_state")
    assert state is not None
    state.append(
        etree.fromstring(
            '<transient_attributes id="1"><instance_attributes id="t1">'
            '<nvpair id="t1a" name="fail-count-rsc#monitor_10000" value="1"/>'
            "</instance_attributes></transient_attributes>"
        )
    )
    ws = schedule(root, NOW)
    rsc = ws.by_id["rsc"]
    assert not rsc.failed and rsc.assigned is not None and rsc.assigned.name == "node1"
    assert summary(ws) == []


def test_a_blocking_failure_never_expires() -> None:
    timeout = '<nvpair id="rsc-m1" name="failure-timeout" value="10"/>'
    history = lrm("rsc", op("rsc", 1, 1, "start"), op("rsc", 1, 2, "monitor", 1, interval="10000"))
    root = cib(_with_monitor("block", timeout), {1: history})
    state = root.find("status/node_state")
    assert state is not None
    state.append(
        etree.fromstring(
            '<transient_attributes id="1"><instance_attributes id="t1">'
            '<nvpair id="t1a" name="fail-count-rsc#monitor_10000" value="1"/>'
            '<nvpair id="t1b" name="last-failure-rsc#monitor_10000" value="1700000002"/>'
            "</instance_attributes></transient_attributes>"
        )
    )
    ws = schedule(root, NOW)
    rsc = ws.by_id["rsc"]
    assert rsc.failed and rsc.blocked and not rsc.managed
    # neither the fail count is cleared nor the monitor restarted
    node1 = ws.node("node1")
    assert not [a for a in ws.actions if a.in_graph and a.rsc is rsc and a.node is node1]


def test_what_is_ordered_after_a_blocked_stop_is_blocked() -> None:
    resources = (
        '<primitive id="a" class="ocf" provider="pacemaker" type="Dummy">'
        '<meta_attributes id="a-m"><nvpair id="a-m1" name="target-role" value="Stopped"/>'
        "</meta_attributes></primitive>"
        '<primitive id="b" class="ocf" provider="pacemaker" type="Dummy"/>'
    )
    order = '<rsc_order id="o" first="a" then="b" kind="Mandatory"/>'
    # b's stop failed without fencing: b is blocked, so a cannot stop before it
    status = {
        1: lrm("a", op("a", 1, 1, "start")) + lrm("b", op("b", 1, 2, "stop", 1)),
    }
    text = etree.tostring(cib(resources, status)).decode()
    text = text.replace("<constraints/>", f"<constraints>{order}</constraints>")
    ws = schedule(etree.fromstring(text), NOW)
    assert ws.by_id["b"].blocked
    stop_a = next(a for a in ws.by_id["a"].actions if a.task == "stop")
    assert not stop_a.optional and not stop_a.runnable
    assert summary(ws) == ["* Stop a ( node1 ) due to node availability (blocked)"]


def test_a_failed_stop_fences_a_member_even_without_quorum() -> None:
    status = {1: lrm("rsc", op("rsc", 1, 1, "start"), op("rsc", 1, 2, "stop", 1))}
    root = cib(DUMMY, status, fencing=True)
    root.set("have-quorum", "false")
    ws = schedule(root, NOW)
    node1 = ws.node("node1")
    assert node1 is not None and node1.unclean
    assert node1.fence_reason == "rsc failed there"
    # node1 is still in our membership, so it can be fenced although quorum is lost
    assert any(a.task == "stonith" and a.node is node1 for a in ws.actions)
    assert not ws.by_id["rsc"].blocked


def test_pacemaker_3_names_of_the_removed_resource_options() -> None:
    # 'gone' is no longer configured; rsc keeps a monitor its configuration dropped
    status = {
        1: lrm("gone", op("gone", 1, 1, "start"))
        + lrm("rsc", op("rsc", 1, 2, "start"), op("rsc", 1, 3, "monitor", interval="5000"))
    }
    options = (
        '<nvpair id="o2" name="stop-removed-resources" value="false"/>'
        '<nvpair id="o3" name="cancel-removed-actions" value="false"/>'
    )
    text = etree.tostring(cib(DUMMY, status)).decode()
    text = text.replace('value="false"/>', f'value="false"/>{options}', 1)
    ws = schedule(etree.fromstring(text), NOW)
    gone = ws.by_id["gone"]
    assert gone.orphan and not gone.managed
    assert not [a for a in ws.actions if a.in_graph and a.task in ("stop", "cancel", "delete")]


def test_a_failed_monitor_the_configuration_dropped_is_cancelled_during_recovery() -> None:
    history = lrm(
        "rsc", op("rsc", 1, 1, "start"), op("rsc", 1, 2, "monitor", 1, interval="1", status="4")
    )
    ws = schedule(cib(DUMMY, {1: history}), NOW)
    rsc = ws.by_id["rsc"]
    assert rsc.failed
    tasks = sorted((a.task, a.interval_ms) for a in rsc.actions if a.in_graph and a.node)
    # recovered in place, and the monitor that is no longer configured goes away
    assert ("cancel", 1) in tasks and ("stop", 0) in tasks and ("start", 0) in tasks


def prioritised(priority: int, node: int, name: str) -> tuple[str, str]:
    primitive = (
        f'<primitive id="{name}" class="ocf" provider="pacemaker" type="Dummy">'
        f'<meta_attributes id="{name}-m"><nvpair id="{name}-p" name="priority" '
        f'value="{priority}"/></meta_attributes></primitive>'
    )
    return primitive, lrm(name, op(name, node, 1, "monitor", 7), op(name, node, 2, "start"))


def test_priority_fencing_delay_goes_to_the_lost_node_with_the_weightiest_resources() -> None:
    lost = {2: 'in_ccm="false" crmd="offline" join="down" expected="member"'}

    def delay_for_node2(big_on: int) -> str:
        big, big_history = prioritised(10, big_on, "big")
        small, small_history = prioritised(1, 3 - big_on, "small")
        root = cib(
            big + small,
            {big_on: big_history, 3 - big_on: small_history},
            fencing=True,
            states=lost,
        )
        options = root.find("configuration/crm_config/cluster_property_set")
        assert options is not None
        etree.SubElement(options, "nvpair", id="o2", name="priority-fencing-delay", value="15s")
        ws = schedule(root, NOW)
        (fencing,) = [a for a in ws.actions if a.task == "stonith"]
        assert fencing.node is not None and fencing.node.name == "node2"
        return graph.action_attributes(ws, fencing)["CRM_meta_priority_fencing_delay"]

    assert delay_for_node2(big_on=2) == "15"  # the lost node weighs most: fenced later
    assert delay_for_node2(big_on=1) == "0"  # the survivor weighs most: no delay
