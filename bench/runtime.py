"""The running cluster: how fast a sandbox forms, commits a change and notices a crash.

    python bench/runtime.py [--quick]

A sandbox of real daemons on loopback (udpu, token 1000 ms) is started in a temporary
directory and removed afterwards. Rows:
  * formation: from starting N daemons to every node synced and quorate with one DC;
  * change: one CIB change through the API of a node (read, edit, push through the DC,
    safe delivery, persisted everywhere), from the DC and from another node;
  * status: one `status` API call (the whole CIB comes back);
  * crash noticed: SIGKILL of a non-DC node until every survivor's membership lacks it,
    beside Corosync's bound for the same configuration (token + consensus, as computed
    by hactl.core.config.derived, which is Corosync's own arithmetic);
  * DC failover: SIGKILL of the DC until the survivors agree on a new DC and are synced.
No real Pacemaker/Corosync cluster is run beside it (that needs root services); the
Corosync bound is the anchor. Prints a table and ends with one line of JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from lxml import etree
from sandbox_driving import until

from hactl.core.config.derived import effective_totem
from hactl.core.config.model import ClusterConfig
from hactl.core.daemon.client import LiveCibHandle, call
from hactl.core.daemon.sandbox import Sandbox


def on(sandbox: Sandbox, node: str) -> None:
    os.environ["HACTL_SOCKET"] = str(sandbox.socket(node))


def members(sandbox: Sandbox, node: str) -> list[int]:
    on(sandbox, node)
    result: list[int] = call("status", timeout=2)["members"]
    return result


def change_ms(sandbox: Sandbox, node: str, count: int) -> list[float]:
    on(sandbox, node)
    times = []
    for index in range(count):
        started = time.perf_counter()
        handle = LiveCibHandle()
        doc = handle.get()
        resources = doc.section("resources", create=True)
        etree.SubElement(
            resources, "primitive", {"id": f"b-{node}-{index}", "class": "ocf", "type": "Dummy"}
        )
        handle.push(doc)
        times.append((time.perf_counter() - started) * 1000)
    return times


def measure(size: int, changes: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One sandbox of ``size`` nodes: every row's figure."""
    root = Path(tempfile.mkdtemp(prefix="hactl-bench-"))
    sandbox = Sandbox(root / "sandbox")
    try:
        sandbox.create(size, owner_pid=os.getpid())
        names = sandbox.nodes()
        started = time.monotonic()
        for name in names:
            sandbox.start(name)
        until(lambda: sandbox.formed(names), 60, "the ring")
        formation = time.monotonic() - started
        on(sandbox, names[0])
        dc = int(call("status")["dc"])
        dc_name = f"node{dc}"
        other = next(n for n in names if n != dc_name)
        from_dc = change_ms(sandbox, dc_name, changes)
        from_other = change_ms(sandbox, other, changes)
        on(sandbox, other)
        started_status = time.perf_counter()
        for _ in range(changes):
            call("status")
        status_ms = (time.perf_counter() - started_status) * 1000 / changes

        totem = effective_totem(ClusterConfig.load(sandbox.config_path))
        bound_s = (totem.token + totem.consensus) / 1000
        victim = next(n for n in reversed(names) if n not in (dc_name, other))
        survivors = [n for n in names if n != victim]
        expected = sorted(sandbox.node(n)["id"] for n in survivors)
        sandbox.kill(victim)
        crash = until(
            lambda: all(members(sandbox, n) == expected for n in survivors), 30, "the crash seen"
        )

        live = [n for n in survivors if n != dc_name]
        remaining = sorted(sandbox.node(n)["id"] for n in live)
        sandbox.kill(dc_name)

        def new_dc() -> bool:
            views = [sandbox.views([n])[n] for n in live]
            return all(
                v is not None
                and v["members"] == remaining
                and v["phase"] == "synced"
                and v["dc"] == min(remaining)
                for v in views
            )

        failover = until(new_dc, 30, "a new DC")
    finally:
        sandbox.stop_all(timeout=10)
        shutil.rmtree(root, ignore_errors=True)
    prefix = f"n{size}"
    p95 = round(sorted(from_dc + from_other)[int(0.95 * (2 * changes - 1))], 1)
    figures = {
        f"{prefix}_formation_s": round(formation, 3),
        f"{prefix}_change_from_dc_ms_median": round(statistics.median(from_dc), 1),
        f"{prefix}_change_from_other_ms_median": round(statistics.median(from_other), 1),
        f"{prefix}_change_ms_p95": p95,
        f"{prefix}_status_ms": round(status_ms, 2),
        f"{prefix}_crash_noticed_s": round(crash, 3),
        f"{prefix}_corosync_bound_s": round(bound_s, 3),
        f"{prefix}_dc_failover_s": round(failover, 3),
    }
    table = [
        ("formation (start to quorate, synced)", f"{formation:.2f} s"),
        ("change from the DC (median)", f"{statistics.median(from_dc):.1f} ms"),
        ("change from another node (median)", f"{statistics.median(from_other):.1f} ms"),
        ("change p95", f"{p95} ms"),
        ("status call (whole CIB)", f"{status_ms:.2f} ms"),
        ("crash noticed (SIGKILL, non-DC)", f"{crash:.2f} s"),
        ("  Corosync bound: token + consensus", f"{bound_s:.2f} s"),
        ("DC failover (SIGKILL of the DC)", f"{failover:.2f} s"),
    ]
    return [{"nodes": size, "what": what, "value": value} for what, value in table], figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer changes, 3 nodes only")
    args = parser.parse_args()
    sizes = [3] if args.quick else [3, 5]
    changes = 10 if args.quick else 40
    rows: list[dict[str, Any]] = []
    figures: dict[str, Any] = {}
    for size in sizes:
        size_rows, size_figures = measure(size, changes)
        rows += size_rows
        figures.update(size_figures)
    width = max(len(r["what"]) for r in rows)
    print(f"{'nodes':>5}  {'what':<{width}}  value")
    for row in rows:
        print(f"{row['nodes']:>5}  {row['what']:<{width}}  {row['value']}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
