"""The controller's loop against a scripted node side (a test double: here a dispatch that
answers with chosen return codes instead of running agents; the integration tests run real
agents) and a virtual clock: an unexpected result aborts and the scheduler runs again, a
lost node's actions fail without a fail count, the recheck interval follows the clock."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from lxml import etree

from hactl.core.cib.document import CibDocument
from hactl.core.controller.failures import fail_counts
from hactl.core.controller.manager import ClusterController, NodeUnreachable
from hactl.core.executor.executor import ScheduledOperation
from hactl.core.executor.history import OperationRecord
from hactl.core.fencer.history import FenceHistoryEntry

CIB = b"""<cib validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0"
have-quorum="1"><configuration><crm_config><cluster_property_set id="o">
<nvpair id="o1" name="stonith-enabled" value="false"/>
<nvpair id="o2" name="cluster-recheck-interval" value="2min"/></cluster_property_set></crm_config>
<nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
<resources><primitive id="a" class="ocf" provider="hactl" type="Dummy"/></resources>
<constraints><rsc_location id="l" rsc="a" node="n1" score="100"/></constraints>
</configuration><status/></cib>"""


@dataclass
class ScriptedNodes:
    """Answers each operation: ``fail`` maps (node, action) to the rc to answer once."""

    fail: dict[tuple[str, str], int] = field(default_factory=dict)
    unreachable: set[str] = field(default_factory=set)
    running: dict[str, str] = field(default_factory=dict)  # resource -> node
    calls: list[tuple[str, str]] = field(default_factory=list)
    call_id: int = 0

    async def dispatch(self, node: str, op: ScheduledOperation) -> OperationRecord:
        if node in self.unreachable:
            raise NodeUnreachable(f"{node} is gone")
        request = op.request
        self.calls.append((node, request.action))
        self.call_id += 1
        rc = self.fail.pop((node, request.action), None)
        if rc is None:
            here = self.running.get(request.resource) == node
            rc = (0 if here else 7) if request.action == "monitor" else 0
            if request.action == "start":
                self.running[request.resource] = node
            if request.action == "stop":
                self.running.pop(request.resource, None)
        return OperationRecord(
            request.resource,
            request.action,
            request.interval_ms,
            self.call_id,
            rc,
            "done",
            node,
            100,
            transition_key=op.transition_key,
            digest=op.digest,
            expected_rc=op.expected_rc,
        )

    async def fence(self, target: str, action: str, priority_delay_ms: int) -> object:
        raise AssertionError("fencing is disabled here")


def run(nodes: ScriptedNodes, steps) -> ClusterController:  # type: ignore[no-untyped-def]
    now = [1_000_000.0]
    changes: list[str] = []

    async def scenario() -> ClusterController:
        controller = ClusterController(
            CibDocument.from_bytes(CIB),
            dc_uuid="1",
            dispatch=nodes.dispatch,
            fence=nodes.fence,  # type: ignore[arg-type]
            clock=lambda: now[0],
            on_cib_change=lambda doc: changes.append(doc.root.get("num_updates", "")),
        )
        task = asyncio.create_task(controller.run())
        controller.set_membership({"n1", "n2"})
        await asyncio.wait_for(controller.settle(), 10)
        await steps(controller, now)
        controller.stop()
        await task
        assert changes == sorted(changes, key=int)  # every status change bumped num_updates
        return controller

    return asyncio.run(scenario())


def test_failed_start_aborts_counts_infinity_and_the_resource_moves() -> None:
    nodes = ScriptedNodes(fail={("n1", "start"): 1})

    async def steps(controller: ClusterController, now: list[float]) -> None:
        pass

    controller = run(nodes, steps)
    assert nodes.running == {"a": "n2"}
    first = controller.transitions[0]
    assert first.failed == ["a_start_0 on n1"] and first.abort_reason
    counts = fail_counts(controller.cib.root)
    assert [(f.node, f.operation, f.count_text) for f in counts] == [("n1", "start_0", "INFINITY")]


def test_lost_node_is_no_failure_and_recheck_follows_the_clock() -> None:
    nodes = ScriptedNodes()

    async def steps(controller: ClusterController, now: list[float]) -> None:
        assert nodes.running == {"a": "n1"}
        count = len(controller.transitions)
        controller.tick()
        assert controller.idle  # not yet: 2min have not passed
        now[0] += 121
        controller.tick()
        await asyncio.wait_for(controller.settle(), 10)
        assert len(controller.transitions) == count + 1
        nodes.unreachable.add("n1")
        nodes.running.clear()
        controller.set_membership({"n2"})
        await asyncio.wait_for(controller.settle(), 10)

    controller = run(nodes, steps)
    assert nodes.running == {"a": "n2"}
    assert fail_counts(controller.cib.root) == []
    state = controller.cib.root.find("status/node_state[@uname='n1']")
    assert state is not None and state.get("in_ccm") == "false"
    assert etree.tostring(controller.cib.root).count(b"a_last_0") == 2


def test_a_configuration_change_runs_the_scheduler_again() -> None:
    nodes = ScriptedNodes()

    async def steps(controller: ClusterController, now: list[float]) -> None:
        assert nodes.running == {"a": "n1"}
        changed = controller.cib.copy()
        primitive = changed.root.find(".//primitive[@id='a']")
        assert primitive is not None
        etree.SubElement(
            etree.SubElement(primitive, "meta_attributes", id="a-m"),
            "nvpair",
            id="a-role",
            name="target-role",
            value="Stopped",
        )
        controller.replace_cib(changed)
        await asyncio.wait_for(controller.settle(), 10)

    controller = run(nodes, steps)
    assert nodes.running == {}
    assert nodes.calls[-1] == ("n1", "stop")
    assert controller.transitions[-1].dispatched == ["a_stop_0 on n1"]


def test_a_removed_resource_is_stopped_and_its_history_forgotten() -> None:
    nodes = ScriptedNodes()

    async def steps(controller: ClusterController, now: list[float]) -> None:
        assert nodes.running == {"a": "n1"}
        changed = controller.cib.copy()
        primitive = changed.root.find(".//primitive[@id='a']")
        assert primitive is not None
        primitive.getparent().remove(primitive)  # type: ignore[union-attr]
        location = changed.root.find(".//rsc_location[@id='l']")
        location.getparent().remove(location)  # type: ignore[union-attr]
        controller.replace_cib(changed)
        await asyncio.wait_for(controller.settle(), 10)

    controller = run(nodes, steps)
    assert nodes.running == {}
    assert controller.cib.root.find(".//lrm_resource[@id='a']") is None
    deletes = [s for t in controller.transitions for s in t.dispatched if "_delete_" in s]
    assert sorted(deletes) == ["a_delete_0 on n1", "a_delete_0 on n2"]  # once per node


UNFENCING_CIB = CIB.replace(b'value="false"', b'value="true"').replace(
    b"<resources>",
    b'<resources><primitive id="f" class="stonith" type="fence_dummy"><meta_attributes id="fm">'
    b'<nvpair id="fm1" name="provides" value="unfencing"/></meta_attributes></primitive>',
)


def test_an_unfencing_leaves_the_node_up_and_is_done_once() -> None:
    fenced: list[tuple[str, str]] = []
    nodes = ScriptedNodes()

    async def fence(target: str, action: str, priority_delay_ms: int) -> FenceHistoryEntry:
        fenced.append((target, action))
        return FenceHistoryEntry(target, action, "n1", "n1", state="success", devices=["f"])

    async def scenario() -> ClusterController:
        controller = ClusterController(
            CibDocument.from_bytes(UNFENCING_CIB),
            dc_uuid="1",
            dispatch=nodes.dispatch,
            fence=fence,  # type: ignore[arg-type]
            clock=lambda: 1_000_000.0,
        )
        task = asyncio.create_task(controller.run())
        controller.set_membership({"n1", "n2"})
        await asyncio.wait_for(controller.settle(), 10)
        controller.request_transition("again")
        await asyncio.wait_for(controller.settle(), 10)
        controller.stop()
        await task
        return controller

    controller = asyncio.run(scenario())
    assert sorted(fenced) == [("n1", "on"), ("n2", "on")]  # each node once, none rebooted
    assert nodes.running["a"] == "n1"
    for node in ("n1", "n2"):
        state = controller.cib.root.find(f"status/node_state[@uname='{node}']")
        assert state is not None and state.get("in_ccm") == "true", node
        attributes = {pair.get("name"): pair.get("value") for pair in state.iter("nvpair")}
        assert attributes["#node-unfenced"] == "1000000"
        assert attributes["#digests-all"].startswith("f:fence_dummy:")
