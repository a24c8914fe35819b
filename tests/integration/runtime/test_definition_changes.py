"""A resource's definition changes on a live cluster of three real daemons: the DC compares
the digests the executor recorded with the new definition (operation digests, as
Pacemaker does) and reloads, restarts or re-creates a monitor accordingly.

Everything is real: `hactl` commands, the DC's scheduler and controller, the nodes'
executors and hactl's OCF Dummy agent, whose meta-data marks ``fake`` reloadable (its
``reload-agent`` writes the new value into the state file, as its start does) and
``state`` not. What the DC initiated is read from its log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lxml import etree

from .test_resources import START, configure, running_on, state_file, without_stonith

#: the ``cluster`` fixture of this directory's conftest (a 3-node sandbox)
Cluster = Any


def history(cluster: Cluster, node: str, where: str, rsc: str) -> dict[str, etree._Element]:
    """The resource's lrm_rsc_op records on `where`, by id, in `node`'s CIB."""
    cib = etree.fromstring(cluster.status(node)["cib"].encode())
    path = f"status/node_state[@uname='{where}']/lrm/lrm_resources/lrm_resource[@id='{rsc}']"
    return {op.get("id", ""): op for op in cib.iterfind(f"{path}/lrm_rsc_op")}


class DcLog:
    """What the DC initiated since the last look."""

    def __init__(self, cluster: Cluster) -> None:
        self.path: Path = cluster.sandbox.state_dir(cluster.status("node1")["dc_name"]) / (
            "daemon.log"
        )
        self.offset = self.path.stat().st_size

    def initiated(self) -> list[str]:
        text = self.path.read_bytes()[self.offset :].decode(errors="replace")
        self.offset += len(text.encode())
        return [
            line.split("initiating ", 1)[1].strip()
            for line in text.splitlines()
            if "initiating " in line
        ]


def test_definition_changes_reload_restart_or_recreate_the_monitor(
    cluster: Cluster, tmp_path: Path
) -> None:
    without_stonith(cluster)
    configure(
        cluster, "resource", "create", "r", "ocf:hactl:Dummy", "fake=one",
        "op", "monitor", "interval=5s",
    )  # fmt: skip
    cluster.wait(lambda: running_on(cluster, "node2", "r"), START, "r Started")
    where = running_on(cluster, "node2", "r")
    assert where is not None
    state = state_file(cluster, where, "Dummy", "r")
    cluster.wait(lambda: state.exists() and state.read_text() == "one\n", START, "r started")
    cluster.wait(lambda: "r_monitor_5000" in history(cluster, "node1", where, "r"), 10, "monitor")
    ops = history(cluster, "node1", where, "r")
    start = ops["r_last_0"]
    # the agent reloads: the start records what a reload cannot apply (not `fake`)
    assert start.get("operation") == "start" and start.get("op-restart-digest")
    restart_params = (start.get("op-force-restart") or "").split()
    assert "state" in restart_params and "fake" not in restart_params
    monitor_digest = ops["r_monitor_5000"].get("op-digest")

    # a reloadable parameter: reload where it runs, and a monitor with the new parameters
    log = DcLog(cluster)
    configure(cluster, "resource", "update", "r", "fake=two")
    cluster.wait(lambda: state.read_text() == "two\n", START, "r reloaded (fake=two)")
    cluster.wait(
        lambda: (
            history(cluster, "node1", where, "r")["r_monitor_5000"].get("op-digest")
            != monitor_digest
        ),
        START,
        "the monitor re-created with fake=two",
    )
    initiated = log.initiated()
    assert f"r_reload-agent_0 on {where}" in initiated, initiated
    assert f"r_monitor_5000 on {where}" in initiated, initiated
    assert not any(a.startswith(("r_stop_0", "r_start_0")) for a in initiated), initiated
    ops = history(cluster, "node1", where, "r")
    # the reload is recorded as the start it stands for, with the new definition's digest
    assert ops["r_last_0"].get("operation") == "start"
    assert int(ops["r_last_0"].get("call-id", "0")) > int(start.get("call-id", "0"))
    assert ops["r_last_0"].get("op-digest") != start.get("op-digest")

    # a parameter a reload cannot apply: the resource restarts, started with the new state
    # file (the stop runs with the new definition too, as Pacemaker's does, so the old file
    # stays behind)
    moved = tmp_path / "r.state"
    configure(cluster, "resource", "update", "r", f"state={moved}")
    cluster.wait(lambda: moved.exists(), START, "r restarted")
    assert moved.read_text() == "two\n"
    cluster.wait(lambda: running_on(cluster, "node1", "r") == where, START, f"r on {where}")
    initiated = log.initiated()
    assert f"r_stop_0 on {where}" in initiated and f"r_start_0 on {where}" in initiated
    assert not any(a.startswith("r_reload-agent_0") for a in initiated), initiated
    cluster.wait(
        lambda: "r_monitor_5000" in history(cluster, "node1", where, "r"), START, "monitor back"
    )

    # a monitor's own definition (its timeout): only that monitor is re-created
    before = history(cluster, "node1", where, "r")["r_monitor_5000"].get("op-digest")
    configure(cluster, "resource", "update", "r", "op", "monitor", "interval=5s", "timeout=40s")
    cluster.wait(
        lambda: history(cluster, "node1", where, "r")["r_monitor_5000"].get("op-digest") != before,
        START,
        "the monitor re-created with timeout=40s",
    )
    initiated = log.initiated()
    assert initiated == [f"r_monitor_5000 on {where}"], initiated

    # an added monitor starts; removing it cancels it, nothing else happens
    configure(cluster, "resource", "op", "add", "r", "monitor", "interval=7s")
    cluster.wait(
        lambda: "r_monitor_7000" in history(cluster, "node1", where, "r"), START, "7s monitor"
    )
    configure(cluster, "resource", "op", "remove", "r", "monitor", "interval=7s")
    cluster.wait(
        lambda: "r_monitor_7000" not in history(cluster, "node1", where, "r"),
        START,
        "7s monitor cancelled",
    )
    initiated = log.initiated()
    assert f"r_monitor_7000 on {where}" in initiated, initiated
    assert not any(a.startswith(("r_stop_0", "r_start_0", "r_reload")) for a in initiated)
    assert moved.read_text() == "two\n"
