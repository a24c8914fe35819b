"""The executor against real agents: hactl's bundled Dummy through the ocf plugin, and
small OCF agents written by the tests to hang, to count concurrency, or to be missing."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from hactl.core.cib.digest import op_digest
from hactl.core.cib.document import CibDocument, IdProvider
from hactl.core.cib.edit import set_cluster_option
from hactl.core.drivers import OperationRequest, OperationStatus
from hactl.core.executor.executor import Executor, ScheduledOperation, agent_runner
from hactl.core.executor.history import OperationRecord
from hactl.core.plugins import PluginHost


@pytest.fixture
def agents_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private OCF provider `tests` for the agents a test writes."""
    folder = tmp_path / "resource.d"
    (folder / "tests").mkdir(parents=True)
    monkeypatch.setenv("HACTL_OCF_RA_PATH", str(folder))
    monkeypatch.setenv("HA_RSCTMP", str(tmp_path / "rsctmp"))
    (tmp_path / "rsctmp").mkdir()
    return folder / "tests"


def write_agent(folder: Path, name: str, body: str) -> None:
    script = folder / name
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(0o755)


def executor(max_parallel: int = 4, listener: Callable[[OperationRecord], None] | None = None):
    return Executor(
        "node1",
        agent_runner(PluginHost().agent_class),
        max_parallel=max_parallel,
        on_result=listener,
    )


def dummy(action: str, state: Path, interval_ms: int = 0, **extra: object) -> ScheduledOperation:
    request = OperationRequest(
        "dummy",
        "ocf:hactl:Dummy",
        action,
        params={"state": str(state)},
        interval_ms=interval_ms,
        timeout_ms=10000,
    )
    return ScheduledOperation(request, **extra)  # type: ignore[arg-type]


def test_start_monitor_stop_are_recorded_as_pacemaker_does(tmp_path: Path) -> None:
    state = tmp_path / "dummy.state"

    async def scenario() -> list[OperationRecord]:
        ex = executor()
        records = [
            await ex.execute(dummy("monitor", state, expected_rc=7, transition_key="1:2:7:u")),
            await ex.execute(dummy("start", state, transition_key="1:3:0:u")),
            await ex.execute(dummy("monitor", state)),
        ]
        lrm = ex.history.to_xml()
        records.append(await ex.execute(dummy("stop", state)))
        await ex.close()
        test_start_monitor_stop_are_recorded_as_pacemaker_does.lrm = lrm  # type: ignore[attr-defined]
        return records

    probe, start, monitor, stop = asyncio.run(scenario())
    assert (probe.rc, probe.failed) == (7, False)
    assert (start.rc, start.status, start.call_id) == (0, OperationStatus.DONE, 2)
    assert monitor.rc == 0 and stop.rc == 0 and not state.exists()
    assert start.digest == op_digest({"state": str(state)})
    lrm = test_start_monitor_stop_are_recorded_as_pacemaker_does.lrm  # type: ignore[attr-defined]
    (last,) = lrm.iterfind("lrm_resources/lrm_resource/lrm_rsc_op")
    assert last.get("id") == "dummy_last_0" and last.get("operation_key") == "dummy_monitor_0"
    assert last.get("transition-magic") == "0:0;"
    resource = lrm.find("lrm_resources/lrm_resource")
    assert (resource.get("class"), resource.get("provider"), resource.get("type")) == (
        "ocf",
        "hactl",
        "Dummy",
    )


def test_history_is_a_valid_status_section(
    tmp_path: Path, require_tool: Callable[[str], str]
) -> None:
    crm_verify = require_tool("crm_verify")
    state = tmp_path / "dummy.state"

    async def scenario() -> etree._Element:
        ex = Executor("node1", agent_runner(PluginHost().agent_class), node_id="1")
        await ex.execute(
            dummy("start", state, transition_key="1:3:0:2b2d6f4e-0000-4000-8000-000000000001")
        )
        await ex.execute(dummy("monitor", state, interval_ms=10000))
        ex.start_recurring(dummy("monitor", state, interval_ms=10000))
        await ex.close()
        return ex.history.to_xml()

    lrm = asyncio.run(scenario())
    doc = CibDocument.new_empty()
    set_cluster_option(doc, "stonith-enabled", "false", IdProvider(doc))
    nodes = doc.section("nodes", create=True)
    etree.SubElement(nodes, "node", id="1", uname="node1")
    resources = doc.section("resources", create=True)
    primitive = etree.SubElement(resources, "primitive", id="dummy", type="Dummy", provider="hactl")
    primitive.set("class", "ocf")
    status = doc.root.find("status")
    node_state = etree.SubElement(
        status, "node_state", id="1", uname="node1", crmd="online", join="member", expected="member"
    )
    node_state.set("in_ccm", "true")
    node_state.append(lrm)
    path = tmp_path / "cib.xml"
    path.write_bytes(doc.serialize())
    result = subprocess.run(
        [crm_verify, "-x", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "LC_ALL": "C"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert lrm.get("id") == "1"


def test_a_recurring_monitor_reports_only_changes(tmp_path: Path) -> None:
    state = tmp_path / "dummy.state"
    seen: list[OperationRecord] = []

    async def scenario() -> None:
        ex = executor(listener=seen.append)
        await ex.execute(dummy("start", state))
        ex.start_recurring(dummy("monitor", state, interval_ms=100))
        for _ in range(200):  # wait for a few runs, all alike
            await asyncio.sleep(0.05)
            if ex.history.resources["dummy"].recurring.get(("monitor", 100)):
                break
        await asyncio.sleep(0.3)
        state.unlink()  # the resource dies behind the cluster's back
        for _ in range(100):
            await asyncio.sleep(0.05)
            if any(r.rc == 7 for r in seen):
                break
        await asyncio.sleep(0.3)  # more failing runs: reported once
        history = ex.history.resources["dummy"]
        assert history.last_failure is not None and history.last_failure.rc == 7
        assert history.recurring[("monitor", 100)].rc == 7
        await ex.close()

    asyncio.run(scenario())
    monitors = [r.rc for r in seen if r.operation == "monitor"]
    assert monitors == [0, 7]


def test_changed_parameters_recreate_a_recurring_monitor(tmp_path: Path) -> None:
    async def scenario() -> list[tuple[str, str, int]]:
        ex = executor()
        first = dummy("monitor", tmp_path / "a.state", interval_ms=60000)
        ex.start_recurring(first)
        task = ex._recurring[first.recurring_key][1]
        ex.start_recurring(first)  # same parameters: left alone
        assert ex._recurring[first.recurring_key][1] is task
        ex.start_recurring(dummy("monitor", tmp_path / "b.state", interval_ms=60000))
        await asyncio.sleep(0)
        assert task.cancelled() or task.cancelling()
        running = ex.recurring()
        await ex.close()
        return running

    assert asyncio.run(scenario()) == [("dummy", "monitor", 60000)]


def test_a_hanging_agent_is_killed_at_its_timeout(agents_dir: Path, tmp_path: Path) -> None:
    pid_file = tmp_path / "agent.pid"
    write_agent(agents_dir, "Hang", f"echo $$ > {pid_file}\nexec sleep 600\n")

    async def scenario() -> OperationRecord:
        ex = executor()
        request = OperationRequest("stuck", "ocf:tests:Hang", "start", timeout_ms=500)
        record = await ex.execute(ScheduledOperation(request))
        await ex.close()
        return record

    record = asyncio.run(scenario())
    assert record.status == OperationStatus.TIMED_OUT and record.failed
    assert record.to_xml("x").get("op-status") == "2"
    pid = int(pid_file.read_text())
    for _ in range(50):
        if not Path(f"/proc/{pid}").exists():
            break
        asyncio.run(asyncio.sleep(0.05))
    assert not Path(f"/proc/{pid}").exists(), "the agent outlived its timeout"


def test_parallelism_is_bounded_per_node_and_serial_per_resource(
    agents_dir: Path, tmp_path: Path
) -> None:
    running = tmp_path / "running"
    running.mkdir()
    log = tmp_path / "log"
    write_agent(
        agents_dir,
        "Count",
        (
            f"touch {running}/$OCF_RESOURCE_INSTANCE.$$\n"
            f'echo "$OCF_RESOURCE_INSTANCE $(ls {running} | wc -l) '
            f'$(ls {running} | grep -c "^$OCF_RESOURCE_INSTANCE\\.")" >> {log}\n'
            f"sleep 0.2\nrm {running}/$OCF_RESOURCE_INSTANCE.$$\n"
        ),
    )

    async def scenario() -> None:
        ex = executor(max_parallel=2)
        ops = [
            ScheduledOperation(OperationRequest(f"r{i % 3}", "ocf:tests:Count", "start"))
            for i in range(7)
        ]
        records = await asyncio.gather(*(ex.execute(op) for op in ops))
        assert all(r.rc == 0 for r in records)
        assert max(r.queue_ms for r in records) > 0
        await ex.close()

    asyncio.run(scenario())
    lines = [line.split() for line in log.read_text().splitlines()]
    assert len(lines) == 7
    assert max(int(on_node) for _, on_node, _ in lines) <= 2
    assert max(int(same) for _, _, same in lines) == 1


def test_missing_agent_and_broken_runner_are_recorded_failures() -> None:
    async def scenario() -> tuple[OperationRecord, OperationRecord]:
        missing = await executor().execute(
            ScheduledOperation(OperationRequest("x", "ocf:nowhere:Nothing", "start"))
        )

        async def broken(request: OperationRequest):  # type: ignore[no-untyped-def]
            raise RuntimeError("plugin bug")

        crashed = await Executor("node1", broken).execute(
            ScheduledOperation(OperationRequest("y", "ocf:hactl:Dummy", "start"))
        )
        return missing, crashed

    missing, crashed = asyncio.run(scenario())
    assert missing.status == OperationStatus.NOT_INSTALLED and missing.failed
    assert missing.to_xml("m").get("op-status") == "7"
    assert crashed.status == OperationStatus.ERROR and "plugin bug" in crashed.exit_reason


def test_interval_origin_anchors_the_first_run() -> None:
    ex = Executor("n", agent_runner(PluginHost().agent_class), clock=lambda: 1000.25)
    request = OperationRequest("r", "ocf:hactl:Dummy", "monitor", interval_ms=1000)
    anchored = ScheduledOperation(request, interval_origin_s=0.5)
    assert ex._first_delay_s(anchored) == pytest.approx(0.25)
    assert ex._first_delay_s(ScheduledOperation(request)) == pytest.approx(1.0)
