"""Data-safety rules of the scheduler: fencing, shutdown and blocked stops.

Each test builds a small CIB and pins one rule Pacemaker's scheduler follows, so that the rule
holds independently of the regression corpus."""

from __future__ import annotations

from lxml import etree

from hactl.core.cib.digest import op_digest
from hactl.core.cli import status_view
from hactl.core.scheduler import execute, history, schedule
from hactl.core.scheduler.model import Action, WorkingSet

from .cib_text import NOW, summary

FENCE_DEVICE = '<primitive id="fence" class="stonith" type="fence_xvm"/>'
VM = (
    '<primitive id="vm" class="ocf" provider="heartbeat" type="VirtualDomain">'
    '<meta_attributes id="vm-m"><nvpair id="vm-m1" name="allow-migrate" value="true"/>'
    "</meta_attributes></primitive>"
)
AGENT = 'class="ocf" provider="heartbeat" type="VirtualDomain"'
ONLINE = 'in_ccm="true" crmd="online" join="member" expected="member"'
LOST = 'in_ccm="false" crmd="offline" join="down" expected="member"'


def _node_state(node_id: int, membership: str, lrm: str = "") -> str:
    return (
        f'<node_state id="{node_id}" uname="node{node_id}" {membership}>'
        f'<lrm id="{node_id}"><lrm_resources>{lrm}</lrm_resources></lrm></node_state>'
    )


def _cib_text(
    resources: str, states: str, constraints: str = "", *, frozen: bool = False, nodes: str = ""
) -> str:
    """Three nodes, fencing enabled with a device; without quorum and no-quorum-policy
    freeze when `frozen`."""
    quorum = "false" if frozen else "true"
    policy = '<nvpair id="o2" name="no-quorum-policy" value="freeze"/>' if frozen else ""
    return f"""
<cib validate-with="pacemaker-3.0" have-quorum="{quorum}" dc-uuid="2">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="true"/>{policy}
    </cluster_property_set></crm_config>
    <nodes>
      <node id="1" uname="node1"/><node id="2" uname="node2"/><node id="3" uname="node3"/>{nodes}
    </nodes>
    <resources>{FENCE_DEVICE}{resources}</resources>
    <constraints>{constraints}</constraints>
  </configuration>
  <status>{states}</status>
</cib>"""


def _schedule(
    resources: str, states: str, constraints: str = "", *, frozen: bool = False, nodes: str = ""
) -> WorkingSet:
    text = _cib_text(resources, states, constraints, frozen=frozen, nodes=nodes)
    return schedule(etree.fromstring(text), NOW)


def _graphed(ws: WorkingSet, name: str) -> Action:
    found = [a for a in ws.actions if a.in_graph and a.name() == name]
    assert found, f"{name} not in the graph: {sorted(a.name() for a in ws.actions if a.in_graph)}"
    return found[0]


def _vm_history(*, migrate_to_pending: bool) -> str:
    """vm started on node1, then a migrate_to node2 (pending or complete)."""
    rc, status, call = (193, -1, -1) if migrate_to_pending else (0, 0, 3)
    return (
        f'<lrm_resource id="vm" {AGENT}>'
        '<lrm_rsc_op id="vm_start" operation="start" interval="0" call-id="2" rc-code="0" '
        'op-status="0" transition-key="2:1:0:x" transition-magic="0:0;2:1:0:x"/>'
        f'<lrm_rsc_op id="vm_last_0" operation="migrate_to" interval="0" call-id="{call}" '
        f'rc-code="{rc}" op-status="{status}" transition-key="3:2:0:x" '
        f'transition-magic="{status}:{rc};3:2:0:x" migrate_source="node1" '
        'migrate_target="node2" last-rc-change="100"/>'
        "</lrm_resource>"
    )


def _vm_probed_stopped() -> str:
    return (
        f'<lrm_resource id="vm" {AGENT}>'
        '<lrm_rsc_op id="vm_last_0" operation="monitor" interval="0" call-id="1" rc-code="7" '
        'op-status="0" transition-key="1:1:7:x" transition-magic="0:7;1:1:7:x"/>'
        "</lrm_resource>"
    )


def test_pending_migrate_to_on_an_unclean_source_stops_the_target_too() -> None:
    """The migration may have reached its target: the resource is stopped there as well as
    (implicitly, by fencing) on the source, before it starts anywhere."""
    ws = _schedule(
        VM,
        _node_state(1, LOST, _vm_history(migrate_to_pending=True))
        + _node_state(2, ONLINE, _vm_probed_stopped())
        + _node_state(3, ONLINE, _vm_probed_stopped()),
    )
    target_stop = _graphed(ws, "vm_stop_0 node2")
    assert not target_stop.pseudo and target_stop.runnable
    assert not target_stop.optional
    start = next(
        a for a in ws.actions if a.in_graph and a.task == "start" and a.rsc is ws.by_id["vm"]
    )
    assert any(first is target_stop for first, _ in start.before)
    # the target is not being fenced: its stop does not wait for node1's fencing
    assert not any(first.task == "stonith" for first, _ in target_stop.before)


def test_pending_migrate_to_on_a_clean_source_stops_nothing_on_the_target() -> None:
    ws = _schedule(
        VM,
        _node_state(1, ONLINE, _vm_history(migrate_to_pending=True))
        + _node_state(2, ONLINE, _vm_probed_stopped())
        + _node_state(3, ONLINE, _vm_probed_stopped()),
    )
    assert not any(
        a.in_graph and a.task == "stop" and a.node is not None and a.node.name == "node2"
        for a in ws.actions
    )


def _started(rsc: str, agent: str, call: int = 2) -> str:
    return (
        f'<lrm_resource id="{rsc}" {agent}>'
        f'<lrm_rsc_op id="{rsc}_last_0" operation="start" interval="0" call-id="{call}" '
        f'rc-code="0" op-status="0" transition-key="{call}:1:0:x" '
        f'transition-magic="0:0;{call}:1:0:x" op-digest="{op_digest({})}"/></lrm_resource>'
    )


FENCE_AGENT = 'class="stonith" type="fence_xvm"'
DUMMY = '<primitive id="d" class="ocf" provider="pacemaker" type="Dummy"/>'
DUMMY_AGENT = 'class="ocf" provider="pacemaker" type="Dummy"'
#: node1 is in the membership, but its history shows a failed stop: it must be fenced
STOP_FAILED = (
    '<lrm_resource id="broken" class="ocf" provider="pacemaker" type="Dummy">'
    '<lrm_rsc_op id="broken_last_0" operation="stop" interval="0" call-id="3" rc-code="1" '
    'op-status="0" transition-key="3:1:0:x" transition-magic="0:1;3:1:0:x"/></lrm_resource>'
)
BROKEN = '<primitive id="broken" class="ocf" provider="pacemaker" type="Dummy"/>'


def test_a_fence_device_on_a_node_being_fenced_and_a_clean_one_stays_put() -> None:
    """A fence device requires no fencing: it counts as active on clean nodes only, so it is
    not multiply active; where fencing stops it, that stop is implied, not scheduled."""
    ws = _schedule(
        BROKEN,
        _node_state(1, ONLINE, _started("fence", FENCE_AGENT) + STOP_FAILED)
        + _node_state(2, ONLINE, _started("fence", FENCE_AGENT))
        + _node_state(3, ONLINE),
    )
    assert any(a.in_graph and a.task == "stonith" and a.node.name == "node1" for a in ws.actions)
    fence = ws.by_id["fence"]
    assert fence.assigned is not None and fence.assigned.name == "node2"
    moved = [
        a.name()
        for a in ws.actions
        if a.in_graph and a.rsc is fence and a.task in ("stop", "start")
    ]
    assert moved == [], moved


def test_a_resource_needing_fencing_on_a_node_being_fenced_and_a_clean_one_is_recovered() -> None:
    """A resource that requires fencing may still be running on the unclean node: it is
    multiply active, stopped everywhere and started once."""
    ws = _schedule(
        DUMMY + BROKEN,
        _node_state(1, ONLINE, _started("d", DUMMY_AGENT) + STOP_FAILED)
        + _node_state(2, ONLINE, _started("d", DUMMY_AGENT))
        + _node_state(3, ONLINE),
    )
    d = ws.by_id["d"]
    graphed = {a.name() for a in ws.actions if a.in_graph and a.rsc is d}
    assert "d_stop_0 node2" in graphed and "d_stop_0 node1" in graphed, graphed
    assert any(name.startswith("d_start_0") for name in graphed), graphed


def _failed_start(params: dict[str, str]) -> str:
    """d failed to start on node1 with `params` (then stopped): its fail count is INFINITY."""
    return (
        f'<lrm_resource id="d" {DUMMY_AGENT}>'
        '<lrm_rsc_op id="d_last_failure_0" operation="start" interval="0" call-id="2" '
        'rc-code="1" op-status="0" transition-key="2:1:0:x" transition-magic="0:1;2:1:0:x" '
        f'last-rc-change="100" op-digest="{op_digest(params)}"/>'
        '<lrm_rsc_op id="d_last_0" operation="stop" interval="0" call-id="3" rc-code="0" '
        'op-status="0" transition-key="3:1:0:x" transition-magic="0:0;3:1:0:x"/>'
        "</lrm_resource>"
    )


FAIL_COUNT = (
    '<transient_attributes id="1"><instance_attributes id="s1">'
    '<nvpair id="s1-fc" name="fail-count-d#start_0" value="INFINITY"/>'
    "</instance_attributes></transient_attributes>"
)
DUMMY_WITH_STATE = (
    '<primitive id="d" class="ocf" provider="pacemaker" type="Dummy">'
    '<instance_attributes id="d-i"><nvpair id="d-i1" name="state" value="/new"/>'
    "</instance_attributes></primitive>"
)
PREFER_NODE1 = '<rsc_location id="d-on-1" rsc="d" node="node1" score="100"/>'


def _after_failed_start(recorded: dict[str, str]) -> WorkingSet:
    node1 = _node_state(1, ONLINE, _failed_start(recorded)).replace(
        "</node_state>", FAIL_COUNT + "</node_state>"
    )
    return _schedule(
        DUMMY_WITH_STATE,
        node1 + _node_state(2, ONLINE) + _node_state(3, ONLINE),
        PREFER_NODE1,
    )


def test_a_fail_count_cleared_for_a_changed_definition_does_not_ban_the_node() -> None:
    """The start failed with other parameters: the fail count is cleared, and the failure
    threshold ignores it (Pacemaker clears it while unpacking, before the threshold check)."""
    ws = _after_failed_start({"state": "/old"})
    d = ws.by_id["d"]
    assert d.assigned is not None and d.assigned.name == "node1"
    assert _graphed(ws, "d_clear_failcount_0 node1")


def test_a_fail_count_of_the_same_definition_bans_the_node() -> None:
    ws = _after_failed_start({"state": "/new"})
    d = ws.by_id["d"]
    assert d.assigned is not None and d.assigned.name != "node1"
    assert not any(a.task == "clear_failcount" for a in ws.actions if a.in_graph)


def test_without_quorum_a_resource_on_a_node_that_cannot_be_fenced_does_not_start_elsewhere() -> (
    None
):
    """no-quorum-policy=freeze: fencing needs quorum, so the stop on the lost node cannot
    happen; the restart it belongs to cannot either: the resource must not run twice."""
    ws = _schedule(
        DUMMY,
        _node_state(1, LOST, _started("d", DUMMY_AGENT)) + _node_state(2, ONLINE),
        frozen=True,
    )
    d = ws.by_id["d"]
    assert not any(a.task == "stonith" and a.in_graph for a in ws.actions)
    assert not any(a.in_graph and a.rsc is d for a in ws.actions if a.task in ("start", "stop"))
    start = next(a for a in ws.actions if a.rsc is d and a.task == "start")
    assert not start.runnable
    lines = summary(ws)
    assert "* Stop d ( node1 ) blocked" in lines, lines


def test_freeze_keeps_an_inactive_resource_stopped() -> None:
    ws = _schedule(DUMMY, _node_state(1, ONLINE) + _node_state(2, ONLINE), frozen=True)
    lines = summary(ws)
    assert any(
        line.startswith("* Start d (") and line.endswith("due to quorum freeze (blocked)")
        for line in lines
    ), lines


def _connection_history() -> str:
    """remote1's connection started on node2; its recurring monitor then failed, long ago."""
    params = {"reconnect_interval": "60s"}
    start = op_digest(params)
    monitor = op_digest(params, interval_ms=20000, timeout_ms=20000)
    agent = 'class="ocf" provider="pacemaker" type="remote"'
    ops = [
        ("remote1_last_0", "start", 0, 2, 0, 0, start),
        ("remote1_monitor_20000", "monitor", 20000, 3, 0, 0, monitor),
        ("remote1_last_failure_0", "monitor", 20000, 3, 1, 4, monitor),
    ]
    return (
        f'<lrm_resource id="remote1" {agent}>'
        + "".join(
            f'<lrm_rsc_op id="{op_id}" operation="{task}" interval="{interval}" '
            f'call-id="{call}" rc-code="{rc}" op-status="{status}" '
            f'transition-key="{call}:1:0:x" transition-magic="{status}:{rc};{call}:1:0:x" '
            f'last-rc-change="1000" op-digest="{digest}"/>'
            for op_id, task, interval, call, rc, status, digest in ops
        )
        + "</lrm_resource>"
    )


CONNECTION = (
    '<primitive id="remote1" class="ocf" provider="pacemaker" type="remote">'
    '<instance_attributes id="r-i"><nvpair id="r-i1" name="reconnect_interval" value="60s"/>'
    '</instance_attributes><operations><op id="r-m" name="monitor" interval="20s"/>'
    "</operations></primitive>"
)
CONNECTION_FAILURES = (
    '<transient_attributes id="2"><instance_attributes id="s2">'
    '<nvpair id="s2-fc" name="fail-count-remote1#monitor_20000" value="1"/>'
    '<nvpair id="s2-lf" name="last-failure-remote1#monitor_20000" value="1000"/>'
    "</instance_attributes></transient_attributes>"
)


def test_a_reconnecting_connection_failure_is_cleared_after_its_remote_node_is_fenced() -> None:
    """reconnect_interval works as a failure timeout: the old failure expires, but the failed
    recurring monitor does not until the remote node has been fenced (it would hide a
    failure still going on); its fail count is cleared after that fencing."""
    node2 = _node_state(2, ONLINE, _connection_history()).replace(
        "</node_state>", CONNECTION_FAILURES + "</node_state>"
    )
    remote_state = (
        '<node_state id="remote1" uname="remote1" remote_node="true" in_ccm="true" '
        'node_fenced="0"/>'
    )
    ws = _schedule(
        CONNECTION,
        _node_state(1, ONLINE) + node2 + _node_state(3, ONLINE) + remote_state,
        nodes='<node id="remote1" type="remote" uname="remote1"/>',
    )
    fencing = _graphed(ws, "stonith 'reboot' remote1")
    clear = _graphed(ws, "remote1_clear_failcount_0 node2")
    assert any(first is fencing for first, _ in clear.before)


def _op(call: int, transition: int, uuid: str = "a" * 36) -> etree._Element:
    status, rc = (-1, 193) if call == -1 else (0, 0)
    return etree.fromstring(
        f'<lrm_rsc_op id="x{call}" call-id="{call}" on_node="node1" '
        f'transition-magic="{status}:{rc};1:{transition}:0:{uuid}"/>'
    )


def test_a_pending_operation_of_an_earlier_transition_is_the_older() -> None:
    """Pacemaker's pe__is_newer_op: a pending start from transition 8 is older than the stop
    transition 9 completed (by the same DC); from another DC, the pending one is newer."""
    pending, done = _op(-1, 8), _op(8, 9)
    assert history.newer(pending, done) == -1
    assert history.newer(done, pending) == 1
    assert history.newer(_op(-1, 10), done) == 1
    assert history.newer(_op(-1, 8, uuid="b" * 36), done) == 1


def test_list_sort_is_glibs_merge_sort() -> None:
    """With a comparison that is not transitive the order depends on the algorithm: GLib
    splits a list of n into n // 2 and the rest and merges, the left first on ties."""

    def rock_paper_scissors(a: str, b: str) -> int:
        beats = {("r", "s"), ("s", "p"), ("p", "r")}
        return 0 if a == b else (1 if (a, b) in beats else -1)

    # merge([r], sort([s, p]) = [p, s]): r before p, then p before s (Python's sort: p, s, r)
    assert history.list_sort(["r", "s", "p"], rock_paper_scissors) == ["r", "p", "s"]
    assert history.list_sort([3, 1, 2, 1], lambda a, b: a - b) == [1, 1, 2, 3]


def test_a_simulated_result_is_recorded_as_crm_simulate_records_it() -> None:
    """A one-time result replaces the last result (in place), a recurring one has its own
    entry; the transition key is crm_simulate's made-up one (no transition, fake uuid)."""
    cib = etree.fromstring(
        _cib_text(
            DUMMY, _node_state(1, ONLINE, _started("d", DUMMY_AGENT)) + _node_state(2, ONLINE)
        )
    )
    ws = schedule(cib, NOW)
    d = ws.by_id["d"]
    node1 = ws.node("node1")
    acts = [
        Action(id=90, task="stop", rsc=d, node=node1, key="d_stop_0"),
        Action(id=91, task="monitor", rsc=d, node=node1, key="d_monitor_10000", interval_ms=10000),
    ]
    revised = execute.apply_transition(cib, ws, acts)
    ops = revised.findall(".//node_state[@uname='node1']//lrm_resource[@id='d']/lrm_rsc_op")
    assert [op.get("id") for op in ops] == ["d_last_0", "d_monitor_10000"]
    assert ops[0].get("operation") == "stop" and ops[0].get("call-id") == "3"
    assert ops[0].get("transition-magic", "").startswith("0:0;3:-1:0:xxxxxxxx-")


def _pending(task: str, interval: int, call: int) -> str:
    """d: started on node1 (call 2), then `task` pending there."""
    return (
        f'<lrm_resource id="d" {DUMMY_AGENT}>'
        '<lrm_rsc_op id="d_last_0" operation="start" interval="0" call-id="2" rc-code="0" '
        f'op-status="0" transition-key="2:1:0:{"a" * 36}" '
        f'transition-magic="0:0;2:1:0:{"a" * 36}" op-digest="{op_digest({})}"/>'
        f'<lrm_rsc_op id="d_{task}_{interval}" operation="{task}" interval="{interval}" '
        f'call-id="{call}" rc-code="193" op-status="-1" transition-key="3:2:0:{"a" * 36}" '
        f'transition-magic="-1:193;3:2:0:{"a" * 36}"/></lrm_resource>'
    )


def _status_line(ws: WorkingSet) -> str:
    return next(x for x in status_view.render(ws) if x.strip().startswith("* d\t")).strip()


def test_a_recurring_monitor_in_progress_is_flagged() -> None:
    ws = _schedule(DUMMY, _node_state(1, ONLINE, _pending("monitor", 10000, -1)))
    assert _status_line(ws).endswith("Started node1 (Monitoring)")


def test_a_resource_active_nowhere_shows_the_action_in_progress_and_its_node() -> None:
    """A start still recorded as in progress, older than a completed stop: the resource is
    stopped, shown as crm_mon shows it, by its pending action and that node."""
    stop_after = _pending("start", 0, 3).replace(
        "</lrm_resource>",
        '<lrm_rsc_op id="d_stop_0" operation="stop" interval="0" call-id="4" rc-code="0" '
        f'op-status="0" transition-key="4:3:0:{"a" * 36}" '
        f'transition-magic="0:0;4:3:0:{"a" * 36}"/></lrm_resource>',
    )
    ws = _schedule(DUMMY, _node_state(1, ONLINE, stop_after))
    assert not ws.by_id["d"].running_on
    assert _status_line(ws).endswith("Starting node1")


def _probe_not_installed() -> str:
    return (
        f'<lrm_resource id="d" {DUMMY_AGENT}>'
        '<lrm_rsc_op id="d_last_0" operation="monitor" interval="0" call-id="1" rc-code="5" '
        'op-status="7" transition-key="1:1:7:x" transition-magic="7:5;1:1:7:x"/>'
        "</lrm_resource>"
    )


def test_a_stopped_resource_shows_why_its_probe_failed() -> None:
    """A probe that found the agent missing (masked as 'not running', the node banned) is
    shown after the stopped resource, with crm_exit_str's text, if the node is online."""
    disabled = DUMMY.replace(
        "/>",
        '><meta_attributes id="d-m"><nvpair id="d-m1" name="target-role" value="Stopped"/>'
        "</meta_attributes></primitive>",
    )
    ws = _schedule(disabled, _node_state(1, ONLINE, _probe_not_installed()))
    assert _status_line(ws).endswith("Stopped (Not installed)  (disabled)")
    ws = _schedule(disabled, _node_state(1, LOST, _probe_not_installed()))
    assert _status_line(ws).endswith("Stopped (disabled)")


def test_nothing_runs_on_a_guest_whose_lost_host_cannot_be_fenced() -> None:
    """Without quorum node1 cannot be fenced: the guest it hosted is unreachable, so the stop
    of what runs there cannot happen either (Pacemaker's pe_can_fence for guests)."""
    container = (
        '<primitive id="vm" class="ocf" provider="heartbeat" type="VirtualDomain">'
        '<meta_attributes id="vm-m"><nvpair id="vm-m1" name="remote-node" value="guest1"/>'
        "</meta_attributes></primitive>"
    )
    vm_agent = 'class="ocf" provider="heartbeat" type="VirtualDomain"'
    text = _cib_text(
        container + DUMMY,
        _node_state(1, LOST, _started("vm", vm_agent))
        + _node_state(2, ONLINE)
        + _node_state(3, ONLINE)
        + '<node_state id="guest1" uname="guest1" remote_node="true" in_ccm="true">'
        f'<lrm id="guest1"><lrm_resources>{_started("d", DUMMY_AGENT)}</lrm_resources></lrm>'
        "</node_state>",
    ).replace('have-quorum="true"', 'have-quorum="false"')
    ws = schedule(etree.fromstring(text), NOW)
    d = ws.by_id["d"]
    assert [n.name for n in d.running_on] == ["guest1"]
    stops = [a for a in ws.actions if a.rsc is d and a.task == "stop"]
    assert stops and not any(a.runnable or a.in_graph for a in stops)
    lines = summary(ws)
    assert any(line.startswith("* Stop d ( guest1 )") and "blocked" in line for line in lines)


def test_fencings_chain_in_node_name_order() -> None:
    """Without concurrent fencing, lost nodes are fenced one after another in Pacemaker's
    node order (by name, digits by value), not in configuration order."""
    text = _cib_text(
        "",
        _node_state(1, ONLINE)
        + _node_state(2, ONLINE)
        + _node_state(10, LOST)
        + _node_state(9, LOST),
        nodes='<node id="10" uname="node10"/><node id="9" uname="node9"/>',
    ).replace(
        'value="true"/>',
        'value="true"/><nvpair id="o3" name="concurrent-fencing" value="false"/>',
        1,
    )
    ws = schedule(etree.fromstring(text), NOW)
    first = _graphed(ws, "stonith 'reboot' node9")
    second = _graphed(ws, "stonith 'reboot' node10")
    assert any(a is first for a, _ in second.before)
    assert not any(a is second for a, _ in first.before)


def test_a_fencing_decided_while_reading_the_status_is_the_oldest_action() -> None:
    """Pacemaker makes it when it finds the node lost, before any other action: node actions
    are listed newest first, so it comes after them (in the graph and when simulated)."""
    ws = _schedule(DUMMY, _node_state(1, LOST, _started("d", DUMMY_AGENT)) + _node_state(2, ONLINE))
    fencing = _graphed(ws, "stonith 'reboot' node1")
    assert fencing.id == min(a.id for a in ws.actions)
    node_actions = [a for a in execute.synapse_order(ws) if a.rsc is None]
    assert node_actions[-1] is fencing


def test_a_dangling_migration_source_is_stopped_by_the_first_stop_made() -> None:
    """vm migrated from node1 to node2 (node1 not yet stopped) and must leave node2 too:
    Pacemaker aborts the dangling migration (node1's stop) before the other stops."""
    ops = [
        ("node1", "vm_last_0", "migrate_to", 3),
        ("node2", "vm_last_0", "migrate_from", 4),
    ]
    histories = {
        node: f'<lrm_resource id="vm" {AGENT}>'
        f'<lrm_rsc_op id="{op_id}" operation="{task}" interval="0" call-id="{call}" '
        f'rc-code="0" op-status="0" transition-key="{call}:1:0:x" '
        f'transition-magic="0:0;{call}:1:0:x" migrate_source="node1" migrate_target="node2" '
        f'op-digest="{op_digest({})}"/></lrm_resource>'
        for node, op_id, task, call in ops
    }
    ws = _schedule(
        VM,
        _node_state(1, ONLINE, histories["node1"])
        + _node_state(2, ONLINE, histories["node2"])
        + _node_state(3, ONLINE),
        '<rsc_location id="vm-not-2" rsc="vm" node="node2" score="-INFINITY"/>',
    )
    source = _graphed(ws, "vm_stop_0 node1")
    current = _graphed(ws, "vm_stop_0 node2")
    assert source.id < current.id


def test_a_monitor_removed_from_the_configuration_is_cancelled_after_the_stop() -> None:
    history = _started("d", DUMMY_AGENT).replace(
        "</lrm_resource>",
        '<lrm_rsc_op id="d_monitor_20000" operation="monitor" interval="20000" call-id="3" '
        'rc-code="0" op-status="0" transition-key="3:1:0:x" transition-magic="0:0;3:1:0:x"/>'
        "</lrm_resource>",
    )
    ws = _schedule(
        DUMMY,
        _node_state(1, ONLINE, history) + _node_state(2, ONLINE),
        '<rsc_location id="d-not-1" rsc="d" node="node1" score="-INFINITY"/>',
    )
    cancel = _graphed(ws, "Cancel d_monitor_20000 node1")
    stop = _graphed(ws, "d_stop_0 node1")
    assert any(first is stop for first, _ in cancel.before)
    assert not any(then.task == "start" for then, _ in cancel.after)
