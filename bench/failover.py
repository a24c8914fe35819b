"""Resource failover: kill -9 of the node running a resource until it runs on a survivor.

    python bench/failover.py [--quick]

A sandbox of 3 real daemons on loopback (udpu, token 1000 ms, consensus 1200 ms) is
started in a temporary directory and removed afterwards; stonith is disabled and one
resource ``d`` (ocf:hactl:Dummy) is created. Each run SIGKILLs the daemon of the node
running ``d`` and measures, from the kill:
  * started: until the agent's start on a survivor wrote its state file (the start ran);
  * recorded: until a survivor's replicated CIB holds that start with rc 0 (what
    `hactl status` shows).
Then the killed node comes back as after a reboot (its HA_RSCTMP emptied, its daemon
started again) and the next run waits until ``d`` is settled. No Pacemaker cluster runs
beside it (that needs root services); the anchor is Corosync's own bound for noticing the
crash with this configuration (token + consensus). Prints a table and one line of JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lxml import etree

from hactl.core.config.derived import effective_totem
from hactl.core.config.model import ClusterConfig
from hactl.core.daemon.sandbox import Sandbox


def until(predicate: Callable[[], bool], timeout: float, what: str) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            if predicate():
                return time.monotonic() - start
        except Exception:  # a node that does not answer yet
            pass
        time.sleep(0.01)
    raise SystemExit(f"timed out after {timeout}s waiting for {what}")


def hactl(sandbox: Sandbox, node: str, *args: str) -> None:
    env = {**os.environ, "HACTL_SANDBOX_DIR": str(sandbox.root)}
    done = subprocess.run(
        [sys.executable, "-m", "hactl.core.cli.main", "--sandbox", node, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    if done.returncode:
        raise SystemExit(f"hactl {' '.join(args)}: {done.stderr.strip()}")


def state_file(sandbox: Sandbox, node: str) -> Path:
    return sandbox.state_dir(node) / "rsctmp" / "Dummy-d.state"


def started_in_cib(sandbox: Sandbox, asked: str) -> str | None:
    """The node whose latest recorded operation of d is a successful start (as `asked`
    holds the CIB)."""
    cib = etree.fromstring(sandbox.call(asked, "status", timeout=2)["cib"].encode())
    found = [
        state.get("uname")
        for state in cib.iterfind("status/node_state")
        for op in state.iterfind("lrm/lrm_resources/lrm_resource[@id='d']/lrm_rsc_op")
        if op.get("id") == "d_last_0"
        and op.get("operation") == "start"
        and op.get("rc-code") == "0"
        and state.get("crmd") == "online"
    ]
    return found[0] if len(found) == 1 else None


def one_run(sandbox: Sandbox, names: list[str]) -> tuple[float, float]:
    victim = until_running(sandbox, names)
    survivors = [n for n in names if n != victim]
    killed = time.monotonic()
    sandbox.kill(victim)
    until(
        lambda: any(state_file(sandbox, n).exists() for n in survivors), 60, "a start on a survivor"
    )
    started = time.monotonic() - killed
    until(lambda: started_in_cib(sandbox, survivors[0]) in survivors, 60, "the start recorded")
    recorded = time.monotonic() - killed
    state_file(sandbox, victim).unlink(missing_ok=True)  # a reboot empties HA_RSCTMP
    sandbox.start(victim)
    until(lambda: sandbox.formed(names), 60, "the ring with the node back")
    return started, recorded


def until_running(sandbox: Sandbox, names: list[str]) -> str:
    """Where d runs once settled: the CIB and the agents' state files agree."""

    def settled() -> bool:
        where = started_in_cib(sandbox, names[0])
        return where is not None and [n for n in names if state_file(sandbox, n).exists()] == [
            where
        ]

    until(settled, 60, "d Started on exactly one node")
    where = started_in_cib(sandbox, names[0])
    assert where is not None
    return where


def measure(runs: int) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    root = Path(tempfile.mkdtemp(prefix="hactl-bench-failover-"))
    sandbox = Sandbox(root / "sandbox")
    started: list[float] = []
    recorded: list[float] = []
    try:
        sandbox.create(3)
        names = sandbox.nodes()
        for name in names:
            sandbox.start(name)
        until(lambda: sandbox.formed(names), 60, "the ring")
        hactl(sandbox, names[0], "property", "set", "stonith-enabled=false")
        hactl(
            sandbox,
            names[0],
            "resource",
            "create",
            "d",
            "ocf:hactl:Dummy",
            "meta",
            "resource-stickiness=100",
        )  # stays where it moved, as in production
        config = ClusterConfig.load(sandbox.config_path)
        totem = effective_totem(config)
        configured_token = config.totem.token
        for index in range(runs):
            s, r = one_run(sandbox, names)
            print(f"run {index + 1}: started {s:.2f} s, recorded {r:.2f} s", file=sys.stderr)
            started.append(s)
            recorded.append(r)
    finally:
        sandbox.stop_all(timeout=10)
        shutil.rmtree(root, ignore_errors=True)
    bound = (totem.token + totem.consensus) / 1000
    figures = {
        "runs": runs,
        "token_ms": configured_token,
        "effective_token_ms": totem.token,
        "started_s_median": round(statistics.median(started), 3),
        "started_s_max": round(max(started), 3),
        "recorded_s_median": round(statistics.median(recorded), 3),
        "recorded_s_max": round(max(recorded), 3),
        "corosync_crash_bound_s": round(bound, 3),
    }
    table = [
        ("runs", str(runs)),
        ("token (configured / effective for 3 nodes)", f"{configured_token} / {totem.token} ms"),
        ("kill -9 to start on a survivor, median", f"{statistics.median(started):.2f} s"),
        ("kill -9 to start on a survivor, max", f"{max(started):.2f} s"),
        ("kill -9 to start in the CIB, median", f"{statistics.median(recorded):.2f} s"),
        ("kill -9 to start in the CIB, max", f"{max(recorded):.2f} s"),
        ("  Corosync bound to notice the crash", f"{bound:.2f} s"),
    ]
    return table, figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 runs instead of 10")
    args = parser.parse_args()
    table, figures = measure(3 if args.quick else 10)
    width = max(len(what) for what, _ in table)
    for what, value in table:
        print(f"{what:<{width}}  {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
