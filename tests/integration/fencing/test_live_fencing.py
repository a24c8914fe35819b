"""Fencing in a running cluster: three real daemons on loopback, a BMC per node.

Every node has a fence device (the ``ipmi`` plugin, fence_ipmilan's parameters) pointing at
its own BMC: pyghmi's server side, in a process of its own on 127.0.0.1, recording every
power change it is asked for with its time. Nothing is a double: the DC's fencer logs in to
the BMC over RMCP+ and powers the node off and on; the node's daemon itself is killed with
SIGKILL (the BMC cannot cut a daemon's power, so the test does it at the moment it chooses).

Bounds: a crashed node leaves the membership within about 6 s on a loaded machine (token
1000 ms, consensus 1200 ms), then one transition fences it (an IPMI login, off, on: well
under a second on loopback) and starts the resource elsewhere. FAILOVER allows 30 s.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from lxml import etree

from hactl.core.cli import status as status_cli
from hactl.core.cli.main import run

HERE = Path(__file__).resolve().parent


def runtime_helpers() -> ModuleType:
    """The sandbox helpers of tests/integration/runtime (its conftest: Cluster,
    start_cluster, stop_cluster), loaded by path: test directories are not packages."""
    spec = importlib.util.spec_from_file_location(
        "hactl_runtime_helpers", HERE.parent / "runtime" / "conftest.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


RUNTIME = runtime_helpers()
Cluster = Any  # RUNTIME.Cluster: `hactl` against a sandbox node, wait(), status()
USER, PASSWORD = "admin", "bmc-secret-7731"
START = 20.0
FAILOVER = 30.0


@dataclass
class Bmc:
    node: str
    port: int
    record: Path
    broken_flag: Path  # while it exists, the BMC refuses every power change
    process: subprocess.Popen[str] = field(repr=False)

    def break_down(self) -> None:
        self.broken_flag.touch()

    def changes(self) -> list[dict[str, Any]]:
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines() if line]


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_bmc(node: str, directory: Path) -> Bmc:
    port = free_udp_port()
    record = directory / f"bmc-{node}.jsonl"
    process = subprocess.Popen(
        [
            *(sys.executable, str(HERE / "bmc_server.py"), str(port), USER),
            *("--record", str(record), "--fail-when", str(directory / f"bmc-{node}.broken")),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(PASSWORD + "\n")  # never on a command line
    process.stdin.close()
    assert process.stdout.readline().strip() == "ready"
    return Bmc(node, port, record, directory / f"bmc-{node}.broken", process)


@dataclass
class FencedCluster:
    cluster: Cluster
    bmcs: dict[str, Bmc]
    dc: str
    victim: str  # a node other than the DC, where the Dummy ``d`` prefers to run


@pytest.fixture
def fenced_cluster(tmp_path: Path) -> Iterator[FencedCluster]:
    """A 3-node sandbox with stonith-enabled=true, one fence_ipmilan device per node, and a
    Dummy ``d`` that prefers a node other than the DC."""
    env_before = dict(os.environ)
    bmcs: dict[str, Bmc] = {}
    for name in ("node1", "node2", "node3"):  # the sandbox's names
        bmcs[name] = start_bmc(name, tmp_path)
    sandbox = RUNTIME.start_cluster(tmp_path / "sandbox", 3)
    try:
        cluster = RUNTIME.Cluster(sandbox)
        names = sandbox.nodes()
        cluster.wait(lambda: cluster.formed(names), RUNTIME.FORM_TIMEOUT, "formed")
        # pcs's batch workflow: the CIB to a file, edits offline, one push through the DC
        edited = tmp_path / "edited.xml"
        edited.write_text(sandbox.call("node1", "cib.get")["cib"])
        offline(edited, "property", "set", "stonith-enabled=true")
        for name, bmc in bmcs.items():
            offline(
                edited,
                *("stonith", "create", f"fence-{name}", "fence_ipmilan", "ip=127.0.0.1"),
                *(f"ipport={bmc.port}", f"username={USER}", f"password={PASSWORD}"),
                *("lanplus=1", "power_wait=0", f"pcmk_host_list={name}"),
                # a broken BMC answers at once: keep the retries within the test's patience
                "pcmk_reboot_timeout=10s",
            )
        dc = str(sandbox.call("node1", "status")["dc_name"])
        victim = next(n for n in names if n != dc)
        offline(edited, "resource", "create", "d", "ocf:hactl:Dummy")
        offline(edited, "constraint", "location", "d", "prefers", f"{victim}=100")
        configure(cluster, "cluster", "cib-push", str(edited), "--config")
        yield FencedCluster(cluster, bmcs, dc, victim)
    finally:
        for name in ("node1", "node2", "node3"):  # kept for a failure's post-mortem
            log = sandbox.root / name / "daemon.log"
            if log.exists():
                shutil.copy(log, tmp_path / f"{name}.log")
        RUNTIME.stop_cluster(sandbox)
        for bmc in bmcs.values():
            bmc.process.kill()
            bmc.process.wait()
        os.environ.clear()
        os.environ.update(env_before)


def offline(cib: Path, *args: str) -> None:
    """`hactl -f CIB ARGS…`, run in this process (no interpreter start-up per edit)."""
    try:
        run(["-f", str(cib), *args])
    except SystemExit as exc:
        assert not exc.code, f"hactl -f {cib} {' '.join(args)} exited {exc.code}"
    finally:
        os.environ.pop("CIB_file", None)  # -f sets it for the command's duration


def configure(cluster: Cluster, *args: str, node: str = "node1") -> None:
    result = cluster.hactl(*args, node=node)
    assert result.code == 0, f"hactl {' '.join(args)}: {result.err}"


def status_json(cluster: Cluster, node: str) -> dict[str, Any]:
    """What `hactl status -o json` prints on ``node``, computed here from its daemon's
    status: polling through a process per call would be slow on a loaded machine (the
    tests run the real command where its output is checked)."""
    current = cluster.status(node)
    data: dict[str, Any] = status_cli.as_json(current, status_cli.working_set(current))
    return data


def status_text(cluster: Cluster, node: str, *, full: bool = False) -> str:
    """What `hactl status [--full]` prints on ``node`` (computed here, as status_json)."""
    current = cluster.status(node)
    return "\n".join(status_cli.text_lines(current, status_cli.working_set(current), full=full))


def started_on(cluster: Cluster, node: str, resource: str) -> list[str]:
    return [
        where
        for entry in status_json(cluster, node)["resources"]
        if entry["id"] == resource and entry["role"] == "started"
        for where in entry["nodes"]
    ]


def state_file(cluster: Cluster, node: str, resource: str) -> Path:
    return cluster.sandbox.state_dir(node) / "rsctmp" / f"Dummy-{resource}.state"


def last_start(cluster: Cluster, asked: str, node: str, resource: str) -> etree._Element | None:
    """The resource's last one-shot operation on ``node`` when it is a successful start,
    from the status section ``asked`` holds."""
    cib = etree.fromstring(cluster.status(asked)["cib"].encode())
    for op in cib.iterfind(f"status/node_state[@uname='{node}']//lrm_rsc_op"):
        if op.get("id") == f"{resource}_last_0" and op.get("operation") == "start":
            return op if op.get("rc-code") == "0" else None
    return None


def place_off_dc(fenced: FencedCluster, resource: str) -> tuple[str, str]:
    """Wait until the fixture's Dummy runs where it prefers; (its node, the DC)."""
    cluster, dc, victim = fenced.cluster, fenced.dc, fenced.victim
    cluster.wait(
        lambda: started_on(cluster, dc, resource) == [victim], START, f"{resource} on {victim}"
    )
    assert state_file(cluster, victim, resource).exists()
    return victim, dc


def test_the_dc_fences_a_killed_node_before_its_resource_starts_elsewhere(
    fenced_cluster: FencedCluster,
) -> None:
    cluster = fenced_cluster.cluster
    victim, dc = place_off_dc(fenced_cluster, "d")
    survivors = [n for n in cluster.sandbox.nodes() if n != victim]
    assert not any(b.changes() for b in fenced_cluster.bmcs.values())  # nobody fenced yet

    cluster.sandbox.kill(victim)
    killed_at = time.time()
    took = cluster.wait(
        lambda: (
            started_on(cluster, dc, "d") in ([s] for s in survivors)
            and any(state_file(cluster, s, "d").exists() for s in survivors)
        ),
        FAILOVER,
        "d Started on a survivor",
    )
    print(f"\nkill -9 of {victim} to d seen started on a survivor by `hactl status`: {took:.2f}s")

    (moved_to,) = started_on(cluster, dc, "d")
    changes = fenced_cluster.bmcs[victim].changes()
    assert [c["action"] for c in changes][:2] in (["off", "on"], ["cycle"]), changes
    fenced_at = changes[0]["time"]
    assert killed_at < fenced_at
    # the agent's start wrote its state file after the BMC cut the power (ns mtime), and
    # the recorded start's last-rc-change (whole seconds) is not before it either
    started_at = state_file(cluster, moved_to, "d").stat().st_mtime
    assert fenced_at < started_at, (fenced_at, started_at)
    start = last_start(cluster, dc, moved_to, "d")
    assert start is not None and int(start.get("last-rc-change", "0")) >= int(fenced_at)
    print(
        f"fenced {fenced_at - killed_at:.2f}s after the kill, d's agent started "
        f"{started_at - fenced_at:.2f}s after the power off, "
        f"{started_at - killed_at:.2f}s after the kill"
    )
    # exactly once: one survivor runs it, the other never did; no other BMC was touched
    assert [s for s in survivors if state_file(cluster, s, "d").exists()] == [moved_to]
    assert not any(b.changes() for n, b in fenced_cluster.bmcs.items() if n != victim)
    time.sleep(1)  # a second start would show by now
    assert started_on(cluster, dc, "d") == [moved_to]

    # the history: in every survivor's status (replicated) and `stonith history`
    success = f"reboot of {victim} successful: delegate={dc}, client=hactl-controller, origin={dc}"
    for node in survivors:
        cluster.wait(
            lambda n=node: success in status_text(cluster, n, full=True),
            5,
            f"{node} showing the fencing",
        )
    full = cluster.hactl("status", "--full", node=moved_to).out
    assert "Failed Fencing Actions" not in full, full
    listed = cluster.hactl("stonith", "history", node=moved_to)
    assert listed.code == 0 and listed.out.splitlines()[0].startswith(success), listed
    as_json = json.loads(cluster.hactl("stonith", "history", "-o", "json", node=dc).out)
    assert [(e["target"], e["state"], e["devices"]) for e in as_json] == [
        (victim, "success", [f"fence-{victim}"])
    ]
    # an administrator fences it again from the other survivor: that joins the history too
    other = next(n for n in survivors if n != moved_to)
    fenced = cluster.hactl("stonith", "fence", victim, "--off", node=other)
    assert fenced.code == 0 and fenced.out.strip() == f"Node: {victim} fenced (by fence-{victim})"
    cluster.wait(
        lambda: (
            [e["action"] for e in status_json(cluster, dc)["fencing_history"]] == ["off", "reboot"]
        ),
        5,
        "the administrator's fencing in the cluster's history",
    )
    assert fenced_cluster.bmcs[victim].changes()[-1]["action"] == "off"
    latest = status_json(cluster, dc)["fencing_history"][0]
    assert (latest["origin"], latest["executioner"]) == (other, other)
    # the password went nowhere but the CIB's device definition
    shown = [
        full,
        cluster.hactl("status", "-o", "json", node=dc).out,
        cluster.hactl("stonith", "config", node=dc).out,
        cluster.hactl("stonith", "config", "-o", "json", node=dc).out,
        listed.out,
        *((cluster.sandbox.root / n / "daemon.log").read_text() for n in survivors),
    ]
    assert not [text for text in shown if PASSWORD in text]
    for node in survivors:
        pid = cluster.sandbox.node(node)["pid"]
        assert PASSWORD.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes()


def test_a_node_whose_fencing_fails_keeps_its_resource_until_confirmed_down(
    fenced_cluster: FencedCluster,
) -> None:
    cluster = fenced_cluster.cluster
    victim, dc = place_off_dc(fenced_cluster, "d")
    survivors = [n for n in cluster.sandbox.nodes() if n != victim]
    other = next(n for n in survivors if n != dc)
    fenced_cluster.bmcs[victim].break_down()

    cluster.sandbox.kill(victim)
    failed = f"reboot of {victim} failed"
    # (a status update the DC sent just before the ring changed can wait out the replica's
    # 25 s change timeout before it is sent again: hence more than FAILOVER here)
    cluster.wait(lambda: failed in status_text(cluster, other), 45, "a failed fencing")
    # the DC keeps trying (stonith-max-attempts, 10), and d waits: never started elsewhere
    deadline = time.monotonic() + 4
    while time.monotonic() < deadline:
        assert not any(state_file(cluster, s, "d").exists() for s in survivors)
        assert started_on(cluster, other, "d") in ([], [victim])
        time.sleep(0.2)
    attempts = [c for c in fenced_cluster.bmcs[victim].changes() if c["action"] == "off"]
    assert len(attempts) >= 3 and not any(c["ok"] for c in attempts), attempts
    status = cluster.hactl("status", node=other)
    assert "Failed Fencing Actions:" in status.out, status.out
    assert f"* Node {victim}: UNCLEAN (offline)" in status.out, status.out

    refused = cluster.hactl("stonith", "confirm", dc, "--force", node=other)
    assert refused.code == 1 and "is a member of the cluster right now" in refused.err

    confirmed = cluster.hactl("stonith", "confirm", victim, "--force", node=other)
    assert confirmed.code == 0, confirmed.err
    assert confirmed.out.strip() == f"Node: {victim} confirmed fenced"
    took = cluster.wait(
        lambda: started_on(cluster, dc, "d") in ([s] for s in survivors),
        START,
        "d Started once confirmed",
    )
    print(f"\nd started {took:.2f}s after `stonith confirm {victim}`")
    assert [s for s in survivors if state_file(cluster, s, "d").exists()] == started_on(
        cluster, dc, "d"
    )
    # the confirmation leads the history by design: the DC stamps it when it takes it, a
    # try still in flight then is completed by it (not recorded as one more failure), and
    # no new try starts once it is taken; no failure is outstanding any more
    history = cluster.hactl("stonith", "history", node=dc).out.splitlines()
    assert history[0].startswith(f"off of {victim} successful: delegate=manual"), history
    assert any(line.startswith(failed) for line in history[1:]), history
    assert "Failed Fencing Actions" not in status_text(cluster, dc)

    cleaned = cluster.hactl("stonith", "history", "--cleanup", node=dc)
    assert cleaned.code == 0 and "entries removed" in cleaned.out, cleaned
    cluster.wait(
        lambda: not any(status_json(cluster, n)["fencing_history"] for n in survivors),
        5,
        "the history cleaned up on every node",
    )
    assert cluster.hactl("stonith", "history", node=other).out == "No fencing history\n"


def test_fencing_a_running_member_through_the_dc_recovers_its_resources(
    fenced_cluster: FencedCluster,
) -> None:
    """`stonith fence` of a member that still runs: its outcome goes to the DC, which marks
    the node fenced and starts its resource elsewhere; the node, learning it was fenced,
    leaves the cluster (Pacemaker's controller exits then). The BMC cannot stop a daemon,
    so d's agent state stays on the victim: what a power cut would have ended."""
    cluster = fenced_cluster.cluster
    victim, dc = place_off_dc(fenced_cluster, "d")
    other = next(n for n in cluster.sandbox.nodes() if n not in (victim, dc))
    survivors = sorted([dc, other])

    fenced = cluster.hactl("stonith", "fence", victim, node=other)
    assert fenced.code == 0, fenced.err
    assert fenced.out.strip() == f"Node: {victim} fenced (by fence-{victim})"
    assert [c["action"] for c in fenced_cluster.bmcs[victim].changes()] in (
        ["off", "on"],
        ["cycle"],
    )
    took = cluster.wait(
        lambda: started_on(cluster, dc, "d") in ([s] for s in survivors),
        FAILOVER,
        "d recovered on a survivor",
    )
    print(f"\nd started on a survivor {took:.2f}s after `stonith fence {victim}` returned")
    ids = sorted(cluster.sandbox.node(n)["id"] for n in survivors)
    cluster.wait(
        lambda: all(cluster.members_seen(n) == ids for n in survivors),
        FAILOVER,
        f"{victim} out of the ring",
    )
    log = (cluster.sandbox.root / victim / "daemon.log").read_text()
    assert "this node was fenced (reboot by" in log, log[-2000:]
    latest = status_json(cluster, dc)["fencing_history"][0]
    assert (latest["target"], latest["state"], latest["origin"], latest["executioner"]) == (
        victim,
        "success",
        other,
        other,
    )
    # fenced and gone cleanly: not unclean, so the DC fences nothing more
    assert "UNCLEAN" not in status_text(cluster, dc)
    assert len(status_json(cluster, dc)["fencing_history"]) == 1
    assert [c["action"] for c in fenced_cluster.bmcs[victim].changes()] in (
        ["off", "on"],
        ["cycle"],
    )


def resource_entry(cluster: Cluster, node: str, resource: str) -> dict[str, Any]:
    entries = [e for e in status_json(cluster, node)["resources"] if e["id"] == resource]
    assert len(entries) == 1, entries
    return entries[0]


@pytest.mark.slow  # a third cluster: keeps the default run of this file near a minute
def test_a_fence_device_whose_monitor_fails_is_shown_failed_and_not_used(
    fenced_cluster: FencedCluster,
) -> None:
    cluster = fenced_cluster.cluster
    dc, victim = fenced_cluster.dc, fenced_cluster.victim
    device = f"fence-{victim}"
    cluster.wait(
        lambda: resource_entry(cluster, dc, device)["role"] == "started", START, f"{device} up"
    )
    configure(cluster, "stonith", "update", device, "op", "monitor", "interval=2s")
    bmc = fenced_cluster.bmcs[victim]
    bmc.process.kill()  # the BMC stops answering: the device's monitor fails
    bmc.process.wait()
    cluster.wait(
        lambda: any(f["resource"] == device for f in status_json(cluster, dc)["failed_actions"]),
        FAILOVER,
        f"{device}'s monitor failed",
    )
    text = cluster.hactl("status", node=dc).out
    assert "Failed Resource Actions:" in text and f"* {device}_" in text, text

    cluster.sandbox.kill(victim)  # fencing it now cannot use the failed device
    cluster.wait(
        lambda: f"reboot of {victim} failed" in status_text(cluster, dc),
        FAILOVER,
        "the fencing failed",
    )
    history = json.loads(cluster.hactl("stonith", "history", "-o", "json", node=dc).out)
    assert history[0]["state"] == "failed" and device in history[0]["reason"], history
    assert "not used" in history[0]["reason"] or "failed its monitor" in history[0]["reason"]
    assert bmc.changes() == []  # no power change was even asked of it
