"""Resource failover: kill -9 of the node running a resource until it runs on a survivor.

    python bench/failover.py [--quick]

A sandbox of 3 real daemons on loopback (the sandbox's transport, token 1000 ms) is
started in a temporary directory and removed afterwards; stonith is disabled and one
resource ``d`` (resource-agents' ocf:heartbeat:Dummy, a shell agent as Pacemaker users
run) is created. Each run SIGKILLs the daemon of the node running ``d`` and measures, from
the kill:
  * started: until the agent's start on a survivor wrote its state file (the start ran);
  * recorded: until a survivor's replicated CIB holds that start with rc 0 (what
    `hactl status` shows);
  * the phases, from the survivors' daemon logs: the transport reported the node
    unreachable, the new ring, the CIB synced (DC known), the transition computed, the
    start initiated, the agent's answer.
Half the runs kill a node that is not the DC, half the DC itself (``d`` is moved there
first). Then the killed node comes back as after a reboot (its HA_RSCTMP emptied, its
daemon started again) and the next run waits until ``d`` is settled. No Pacemaker cluster
runs beside it (that needs root services); the anchor is Corosync's own bound for
noticing the crash with this configuration (token + consensus).

Then N resources (``--resources``, default 500; ocf:heartbeat:Dummy) are pushed in one
configuration change to a fresh 3-node sandbox, and the time until the CIB shows every one
started is measured (probes on every node, starts, monitors; at most 4 operations at once
per node, status written in batches). ``--only failover|mass`` runs one part. Prints a
table and one line of JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lxml import etree
from sandbox_driving import hactl, until

from hactl.core.config.derived import effective_totem
from hactl.core.config.model import ClusterConfig
from hactl.core.daemon.sandbox import Sandbox


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


#: what the survivors' logs say, in the order it happens after a crash
PHASES = (
    (
        "unreachable",
        "transport reported the node unreachable",
        r"transport cannot reach nodes \[\d",
    ),
    ("ring", "new ring without it", r"hactl\.totem INFO: new membership"),
    ("synced", "CIB synced, DC known", r"synced ring"),
    ("scheduled", "transition computed", r"transition \d+: [1-9]\d* actions"),
    ("initiated", "start initiated", r"initiating d_start_0"),
    ("answered", "agent answered", r"d_start_0: rc 0"),
)
_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ")


def phase_times(sandbox: Sandbox, survivors: list[str], killed_at: float) -> dict[str, float]:
    """Seconds from the kill to the first survivor log line of each phase."""
    found: dict[str, float] = {}
    for node in survivors:
        for line in (sandbox.state_dir(node) / "daemon.log").read_text().splitlines():
            stamp = _STAMP.match(line)
            if stamp is None:
                continue
            at = dt.datetime.strptime(stamp.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            if at < killed_at - 0.002:
                continue
            for key, _, pattern in PHASES:
                if re.search(pattern, line) and (key not in found or at - killed_at < found[key]):
                    found[key] = max(0.0, at - killed_at)
    return found


def dc_of(sandbox: Sandbox, names: list[str]) -> str:
    return str(sandbox.call(names[0], "status", timeout=2)["dc_name"])


def place(sandbox: Sandbox, names: list[str], target: str) -> None:
    """Run d on ``target`` (move, settle, clear: stickiness keeps it there)."""
    if until_running(sandbox, names) == target:
        return
    hactl(sandbox, names[0], "resource", "move", "d", target)
    until(lambda: started_in_cib(sandbox, names[0]) == target, 60, f"d moved to {target}")
    hactl(sandbox, names[0], "resource", "clear", "d")
    until_running(sandbox, names)


def one_run(
    sandbox: Sandbox, names: list[str], kill_dc: bool
) -> tuple[float, float, dict[str, float], bool]:
    """One kill (of the DC when ``kill_dc`` and d could be placed there): the times and
    whether the killed node was the DC."""
    dc = dc_of(sandbox, names)
    try:
        place(sandbox, names, dc if kill_dc else next(n for n in names if n != dc))
    except SystemExit as exc:  # counted as what it turns out to be, and said
        print(f"placing d failed ({exc}); killing where it runs", file=sys.stderr)
        hactl(sandbox, names[0], "resource", "clear", "d")
    victim = until_running(sandbox, names)
    kill_dc = victim == dc_of(sandbox, names)
    survivors = [n for n in names if n != victim]
    killed = time.monotonic()
    killed_at = time.time()
    sandbox.kill(victim)
    until(
        lambda: any(state_file(sandbox, n).exists() for n in survivors), 60, "a start on a survivor"
    )
    started = time.monotonic() - killed
    until(lambda: started_in_cib(sandbox, survivors[0]) in survivors, 60, "the start recorded")
    recorded = time.monotonic() - killed
    phases = phase_times(sandbox, survivors, killed_at)
    state_file(sandbox, victim).unlink(missing_ok=True)  # a reboot empties HA_RSCTMP
    sandbox.start(victim)
    until(lambda: sandbox.formed(names), 60, "the ring with the node back")
    return started, recorded, phases, kill_dc


def until_running(sandbox: Sandbox, names: list[str]) -> str:
    """Where d runs once settled: the CIB and the agents' state files agree."""
    found: list[str] = []

    def settled() -> bool:
        where = started_in_cib(sandbox, names[0])
        holders = [n for n in names if state_file(sandbox, n).exists()]
        if where is None or holders != [where]:
            return False
        found.append(where)
        return True

    until(settled, 60, "d Started on exactly one node")
    return found[-1]


def start_cluster(root: Path) -> tuple[Sandbox, list[str]]:
    sandbox = Sandbox(root / "sandbox")
    sandbox.create(3, owner_pid=os.getpid())
    names = sandbox.nodes()
    for name in names:
        sandbox.start(name)
    until(lambda: sandbox.formed(names), 60, "the ring")
    hactl(sandbox, names[0], "property", "set", "stonith-enabled=false")
    return sandbox, names


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s median, {max(values):.2f} s max"


def measure_failover(runs: int) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    root = Path(tempfile.mkdtemp(prefix="hactl-bench-failover-"))
    results: dict[bool, list[tuple[float, float, dict[str, float]]]] = {False: [], True: []}
    try:
        sandbox, names = start_cluster(root)
        hactl(
            sandbox,
            names[0],
            *("resource", "create", "d", "ocf:heartbeat:Dummy"),
            *("meta", "resource-stickiness=100"),
        )  # stays where it moved, as in production
        config = ClusterConfig.load(sandbox.config_path)
        totem = effective_totem(config)
        for index in range(2 * runs):
            s, r, phases, kill_dc = one_run(sandbox, names, index % 2 == 1)
            steps = ", ".join(f"{k} {v:.2f}" for k, v in sorted(phases.items(), key=lambda x: x[1]))
            print(
                f"run {index + 1} ({'DC' if kill_dc else 'not the DC'}): started {s:.2f} s, "
                f"recorded {r:.2f} s [{steps}]",
                file=sys.stderr,
            )
            results[kill_dc].append((s, r, phases))
    finally:
        sandbox.stop_all(timeout=10)
        shutil.rmtree(root, ignore_errors=True)
    bound = (totem.token + totem.consensus) / 1000
    figures: dict[str, Any] = {
        "runs": runs,
        "transport": config.totem.transport or "knet",
        "token_ms": config.totem.token,
        "effective_token_ms": totem.token,
        "corosync_crash_bound_s": round(bound, 3),
    }
    table = [
        ("runs (each kind)", str(runs)),
        (
            "token (configured / effective for 3 nodes)",
            f"{config.totem.token} / {totem.token} ms, {figures['transport']}",
        ),
    ]
    for kill_dc, label, key in ((False, "a node", "node"), (True, "the DC", "dc")):
        if not results[kill_dc]:
            continue
        figures[f"{key}_runs"] = len(results[kill_dc])
        started = [s for s, _, _ in results[kill_dc]]
        recorded = [r for _, r, _ in results[kill_dc]]
        figures[f"{key}_started_s_median"] = round(statistics.median(started), 3)
        figures[f"{key}_started_s_max"] = round(max(started), 3)
        figures[f"{key}_recorded_s_median"] = round(statistics.median(recorded), 3)
        figures[f"{key}_recorded_s_max"] = round(max(recorded), 3)
        table.append(
            (f"kill -9 of {label} ({len(started)} runs): start ran on a survivor", summary(started))
        )
        table.append((f"kill -9 of {label}: start in the CIB", summary(recorded)))
        for phase, what, _ in PHASES:
            times = [p[phase] for _, _, p in results[kill_dc] if phase in p]
            if times:
                figures[f"{key}_{phase}_s_median"] = round(statistics.median(times), 3)
                table.append((f"  {what}", f"{statistics.median(times):.2f} s median"))
    table.append(("Corosync's bound to notice the crash (token + consensus)", f"{bound:.2f} s"))
    return table, figures


def started_everywhere(sandbox: Sandbox, asked: str, prefix: str) -> int:
    """How many resources named ``prefix*`` the CIB shows started (rc 0) on a member."""
    cib = etree.fromstring(sandbox.call(asked, "cib.get", timeout=10)["cib"].encode())
    return sum(
        1
        for state in cib.iterfind("status/node_state[@crmd='online']")
        for op in state.iterfind("lrm/lrm_resources/lrm_resource/lrm_rsc_op")
        if op.get("id", "").startswith(prefix)
        and op.get("id", "").endswith("_last_0")
        and op.get("operation") == "start"
        and op.get("rc-code") == "0"
    )


def measure_mass_start(count: int) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """``count`` Dummy resources pushed in one CIB change; time until all are started."""
    root = Path(tempfile.mkdtemp(prefix="hactl-bench-massstart-"))
    try:
        sandbox, names = start_cluster(root)
        got = sandbox.call(names[0], "cib.get", timeout=10)
        cib = etree.fromstring(got["cib"].encode())
        resources = cib.find("configuration/resources")
        assert resources is not None
        for index in range(count):
            etree.SubElement(
                resources,
                "primitive",
                id=f"m{index}",
                attrib={"class": "ocf", "provider": "heartbeat", "type": "Dummy"},
            )
        base = [int(cib.get("admin_epoch", "0")), int(cib.get("epoch", "0"))]
        began = time.monotonic()
        sandbox.call(names[0], "cib.push", timeout=60, cib=etree.tostring(cib).decode(), base=base)
        pushed = time.monotonic() - began
        progress: list[tuple[float, int]] = []

        def all_started() -> bool:
            done = started_everywhere(sandbox, names[0], "m")
            progress.append((time.monotonic() - began, done))
            return done >= count

        until(all_started, 900, f"{count} resources started")
        took = time.monotonic() - began
        placed = {
            n: len(list((sandbox.state_dir(n) / "rsctmp").glob("Dummy-m*.state"))) for n in names
        }
        log = "".join((sandbox.state_dir(n) / "daemon.log").read_text() for n in names)
        transitions = len(re.findall(r"transition \d+: \d+ actions", log))
    finally:
        sandbox.stop_all(timeout=30)
        shutil.rmtree(root, ignore_errors=True)
    half = next(t for t, done in progress if done >= count // 2)
    table = [
        (f"{count} resources on 3 nodes, from nothing: all started", f"{took:.1f} s"),
        ("  configuration pushed", f"{pushed:.2f} s"),
        ("  half of them started", f"{half:.1f} s"),
        ("  per node (state files)", ", ".join(f"{n} {c}" for n, c in placed.items())),
        ("  transitions", str(transitions)),
    ]
    figures = {
        "mass_resources": count,
        "mass_started_s": round(took, 2),
        "mass_half_started_s": round(half, 2),
        "mass_transitions": transitions,
    }
    return table, figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 runs of each kind instead of 10")
    parser.add_argument(
        "--resources", type=int, default=500, help="how many resources start from nothing"
    )
    parser.add_argument("--only", choices=("failover", "mass"), help="run one of the two")
    args = parser.parse_args()
    table: list[tuple[str, str]] = []
    figures: dict[str, Any] = {}
    if args.only != "mass":
        table, figures = measure_failover(3 if args.quick else 10)
    if args.only != "failover":
        mass_table, mass_figures = measure_mass_start(args.resources)
        table += mass_table
        figures.update(mass_figures)
    width = max(len(what) for what, _ in table)
    for what, value in table:
        print(f"{what:<{width}}  {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
