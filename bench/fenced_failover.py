"""Failover with fencing: kill -9 of the node running a resource, the DC fences it through
its BMC, then the resource starts on a survivor.

    python bench/fenced_failover.py [--quick]

A sandbox of 3 real daemons on loopback is started in a temporary directory and removed
afterwards, with stonith-enabled=true and one fence_ipmilan device per node (hactl's ``ipmi``
plugin), each pointing at a BMC of its own: pyghmi's server side
(tests/integration/fencing/bmc_server.py) on 127.0.0.1, which records the time of every
power change. A Dummy ``d`` prefers a node other than the DC. Each run SIGKILLs that
node's daemon and measures, from the kill:
  * fenced: until its BMC was asked to power it off (the DC's fencer logged in, asked);
  * started: until the Dummy's start on a survivor wrote its state file;
and the start's delay after the power-off. The killed node then comes back (its daemon
started again, as after the reboot the fencing did) and the next run waits until ``d``
is back on it. No Pacemaker cluster runs beside it (that needs root services and real
BMCs); the anchor is Corosync's own bound for noticing the crash with this configuration
(token + consensus), which any stack's fencing waits for. Prints a table and one line of
JSON.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lxml import etree
from sandbox_driving import hactl, until

from hactl.core.daemon.sandbox import Sandbox

BMC_SERVER = Path(__file__).resolve().parent.parent / "tests/integration/fencing/bmc_server.py"
USER, PASSWORD = "admin", "bench-bmc-pass"
#: the sandbox's totem: token 1000 ms, consensus 1.2 x token (Corosync's default)
CRASH_BOUND_S = 1.0 + 1.2


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_bmc(record: Path) -> tuple[subprocess.Popen[str], int]:
    port = free_udp_port()
    process = subprocess.Popen(
        [sys.executable, str(BMC_SERVER), str(port), USER, "--record", str(record)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(PASSWORD + "\n")
    process.stdin.close()
    if process.stdout.readline().strip() != "ready":
        raise SystemExit("the BMC server did not start")
    return process, port


def power_offs(record: Path) -> list[float]:
    if not record.exists():
        return []
    changes = [json.loads(line) for line in record.read_text().splitlines() if line]
    return [c["time"] for c in changes if c["action"] == "off"]


def running_on(sandbox: Sandbox, asked: str, resource: str) -> str | None:
    """The node whose replicated history shows ``resource`` last started, rc 0."""
    cib = etree.fromstring(sandbox.call(asked, "status")["cib"].encode())
    found = [
        state.get("uname")
        for state in cib.iterfind("status/node_state")
        for op in state.iterfind(f".//lrm_resource[@id='{resource}']/lrm_rsc_op")
        if op.get("id") == f"{resource}_last_0"
        and op.get("operation") in ("start", "monitor")
        and op.get("rc-code") == "0"
    ]
    return str(found[0]) if len(found) == 1 else None


def dc_of(sandbox: Sandbox, names: list[str]) -> str:
    dc = sandbox.call(names[0], "status")["dc_name"]
    return str(dc)


def state_file(sandbox: Sandbox, node: str) -> Path:
    return sandbox.state_dir(node) / "rsctmp" / "Dummy-d.state"


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):6.2f} s median, {max(values):6.2f} s max"


def measure(runs: int) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    root = Path(tempfile.mkdtemp(prefix="hactl-bench-fencing-"))
    bmcs: dict[str, tuple[subprocess.Popen[str], int, Path]] = {}
    sandbox = Sandbox(root / "sandbox")
    try:
        for name in ("node1", "node2", "node3"):
            record = root / f"bmc-{name}.jsonl"
            process, port = start_bmc(record)
            bmcs[name] = (process, port, record)
        sandbox.create(3)
        names = sandbox.nodes()
        for name in names:
            sandbox.start(name)
        until(lambda: sandbox.formed(names), 90, "the cluster formed")
        hactl(sandbox, "node1", "property", "set", "stonith-enabled=true")
        for name, (_, port, _) in bmcs.items():
            hactl(
                sandbox,
                "node1",
                *("stonith", "create", f"fence-{name}", "fence_ipmilan", "ip=127.0.0.1"),
                *(f"ipport={port}", f"username={USER}", f"password={PASSWORD}", "lanplus=1"),
                *("power_wait=0", f"pcmk_host_list={name}"),
            )
        dc = dc_of(sandbox, names)
        victim = next(n for n in names if n != dc)
        hactl(sandbox, "node1", "resource", "create", "d", "ocf:hactl:Dummy")
        hactl(sandbox, "node1", "constraint", "location", "d", "prefers", f"{victim}=100")
        fenced, started, after_off = [], [], []
        for _ in range(runs):
            until(lambda: running_on(sandbox, dc, "d") == victim, 60, f"d on {victim}")
            survivors = tuple(n for n in names if n != victim)
            for node in survivors:
                state_file(sandbox, node).unlink(missing_ok=True)
            offs_before = len(power_offs(bmcs[victim][2]))
            killed_at = time.time()
            sandbox.kill(victim)
            until(
                lambda s=survivors: any(state_file(sandbox, n).exists() for n in s),
                60,
                "d started on a survivor",
            )
            start_at = min(
                state_file(sandbox, n).stat().st_mtime
                for n in survivors
                if state_file(sandbox, n).exists()
            )
            offs = power_offs(bmcs[victim][2])[offs_before:]
            if not offs or offs[0] > start_at:
                raise SystemExit("d started before its node was fenced: a safety violation")
            fenced.append(offs[0] - killed_at)
            started.append(start_at - killed_at)
            after_off.append(start_at - offs[0])
            # the fenced node reboots: its agents' state is gone, its daemon starts again
            shutil.rmtree(sandbox.state_dir(victim) / "rsctmp", ignore_errors=True)
            sandbox.start(victim)
            until(lambda: sandbox.formed(names), 90, f"{victim} back in the cluster")
    finally:
        if sandbox.exists():
            sandbox.down()
        for process, _, _ in bmcs.values():
            process.send_signal(signal.SIGKILL)
            process.wait()
        shutil.rmtree(root, ignore_errors=True)
    rows = [
        ("kill -9 -> BMC asked to power off", summary(fenced)),
        ("kill -9 -> Dummy started on a survivor", summary(started)),
        ("power off -> Dummy started", summary(after_off)),
        ("anchor: Corosync notices the crash (token + consensus)", f"{CRASH_BOUND_S:6.2f} s"),
    ]
    figures = {
        "runs": runs,
        "fenced_median_s": round(statistics.median(fenced), 3),
        "started_median_s": round(statistics.median(started), 3),
        "started_max_s": round(max(started), 3),
        "start_after_power_off_median_s": round(statistics.median(after_off), 3),
        "corosync_crash_bound_s": CRASH_BOUND_S,
    }
    return rows, figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 runs instead of 6")
    args = parser.parse_args()
    rows, figures = measure(2 if args.quick else 6)
    width = max(len(label) for label, _ in rows)
    print(f"fenced failover, {figures['runs']} runs (3 real daemons, a BMC per node)")
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
