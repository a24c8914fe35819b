"""The DC's controller and fencing, on the real scheduler with the real fencer: a new DC
that starts from a CIB the old membership left (node2 unclean, quorum as it was) fences
nothing until it knows the current membership and quorum, and then only with quorum.

The nodes' side is a test double (a dispatch answering without running agents: the
integration tests run real daemons); the fence device is fence-agents' fence_dummy."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from hactl.core.cib.document import CibDocument
from hactl.core.cib.model import build_model
from hactl.core.controller.manager import ClusterController, fence_through
from hactl.core.executor.executor import ScheduledOperation
from hactl.core.executor.history import OperationRecord
from hactl.core.fencer import cib_history
from hactl.core.fencer.fencer import FenceHistoryEntry, Fencer
from hactl.core.fencer.history import newest_first
from hactl.core.plugins import PluginHost


def stale_cib(power: Path) -> bytes:
    """What node3 holds when it becomes DC alone: quorum as the {1, 3} ring had it, node2
    lost earlier (unclean: it left while expected up), node1 still recorded up."""
    states = "".join(
        f'<node_state id="{i}" uname="node{i}" in_ccm="{up}" crmd="{crmd}" join="member" '
        'expected="member"/>'
        for i, up, crmd in ((1, "true", "online"), (2, "false", "offline"), (3, "true", "online"))
    )
    return (
        '<cib validate-with="pacemaker-3.9" epoch="3" num_updates="0" admin_epoch="0" '
        'have-quorum="1" dc-uuid="3"><configuration><crm_config>'
        '<cluster_property_set id="o"><nvpair id="o1" name="stonith-enabled" value="true"/>'
        "</cluster_property_set></crm_config><nodes>"
        + "".join(f'<node id="{i}" uname="node{i}"/>' for i in (1, 2, 3))
        + '</nodes><resources><primitive id="fd" class="stonith" type="fence_dummy">'
        '<instance_attributes id="fd-ia">'
        '<nvpair id="fd-h" name="pcmk_host_list" value="node1 node2 node3"/>'
        '<nvpair id="fd-t" name="type" value="file"/>'
        f'<nvpair id="fd-s" name="status_file" value="{power}"/>'
        "</instance_attributes></primitive></resources><constraints/></configuration>"
        f"<status>{states}</status></cib>"
    ).encode()


async def answer(node: str, op: ScheduledOperation) -> OperationRecord:
    request = op.request
    rc = 7 if request.action == "monitor" and not request.interval_ms else 0
    return OperationRecord(
        request.resource,
        request.action,
        request.interval_ms,
        1,
        rc,
        "done",
        node,
        100,
        transition_key=op.transition_key,
        expected_rc=op.expected_rc,
    )


def test_a_new_dc_fences_only_once_it_knows_membership_and_quorum(
    tmp_path: Path, require_tool: Callable[[str], str]
) -> None:
    require_tool("fence_dummy")
    power = tmp_path / "power"
    power.write_text("on")
    asked: list[str] = []

    async def scenario() -> list[FenceHistoryEntry]:
        controller: ClusterController
        real = fence_through(
            lambda: Fencer("node3", build_model(controller.cib), PluginHost().fence_agent),
            origin="node3",
        )

        async def fence(target: str, action: str, priority_delay_ms: int) -> FenceHistoryEntry:
            asked.append(target)
            return await real(target, action, priority_delay_ms)

        controller = ClusterController(
            CibDocument.from_bytes(stale_cib(power)), dc_uuid="3", dispatch=answer, fence=fence
        )
        task = asyncio.ensure_future(controller.run())
        await asyncio.wait_for(controller.settle(), 30)
        assert asked == []  # the stale quorum and membership fenced nothing
        assert controller.transitions[-1].abort_reason == (
            "fencing waits until this DC knows the membership"
        )
        # the truth: node3 is alone, without quorum: still nothing
        controller.set_quorum(False)
        controller.set_membership({"node3"})
        await asyncio.wait_for(controller.settle(), 30)
        assert asked == []
        # node1 is back, quorum with it: now node2 (and only node2) is fenced
        controller.set_membership({"node1", "node3"})
        controller.set_quorum(True)
        await asyncio.wait_for(controller.settle(), 30)
        controller.stop()
        await task
        return [r.entry for r in cib_history.records(controller.cib.root)]

    history = asyncio.run(scenario())
    assert asked == ["node2"]
    assert [(e.target, e.state, e.executioner) for e in history] == [("node2", "success", "node3")]


def test_a_confirmation_completes_the_dc_attempt_in_flight_and_leads_the_history(
    tmp_path: Path,
) -> None:
    """`stonith confirm` reaching the DC while its own fencing of the node runs: the
    attempt, failing afterwards, is completed by the confirmation (no failure is recorded
    above it), no attempt follows, and the node counts as fenced. The fence device is a
    test double here (an attempt that fails when the test says), as the point is when
    its answer comes."""
    clock = [1000.0]
    asked: list[str] = []

    async def scenario() -> ClusterController:
        attempt_running = asyncio.Event()
        answer_now = asyncio.Event()

        async def fence(target: str, action: str, priority_delay_ms: int) -> FenceHistoryEntry:
            asked.append(target)
            attempt_running.set()
            await answer_now.wait()
            clock[0] += 1
            return FenceHistoryEntry(
                target, action, "node3", "node3", state="failed", completed=clock[0]
            )

        controller = ClusterController(
            CibDocument.from_bytes(stale_cib(tmp_path / "power")),
            dc_uuid="3",
            dispatch=answer,
            fence=fence,
            clock=lambda: clock[0],
        )
        task = asyncio.ensure_future(controller.run())
        controller.set_membership({"node1", "node3"})
        await asyncio.wait_for(attempt_running.wait(), 30)
        clock[0] += 1
        confirmation = FenceHistoryEntry(
            "node2", "off", "node1", "manual", state="success", completed=clock[0] - 100
        )
        controller.fenced_elsewhere(confirmation, "hactl.42")
        answer_now.set()
        await asyncio.wait_for(controller.settle(), 30)
        controller.stop()
        await task
        return controller

    controller = asyncio.run(scenario())
    assert asked == ["node2"]  # nothing more once it was confirmed
    history = newest_first(cib_history.records(controller.cib.root))
    assert [(r.entry.state, r.entry.executioner) for r in history] == [("success", "manual")]
    assert history[0].entry.completed == 1001.0  # stamped when the DC took it
    state = controller.cib.root.find("status/node_state[@id='2']")
    assert state is not None and state.get("expected") == "down"
