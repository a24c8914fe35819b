"""Cost of running an agent action through hactl's ocf class, beside the agent run bare
and Pacemaker's own `crm_resource --validate` (which runs validate-all the same way).

    python bench/agents.py [--quick]

Agent: ocf:heartbeat:Dummy (Debian's resource-agents), else hactl's bundled ocf:hactl:Dummy.
Prints a table and ends with one line of JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable

from hactl.core.drivers import OperationRequest
from hactl.plugins.agents.ocf import OcfAgentClass


def timed(run: Callable[[], object], runs: int) -> list[float]:
    run()  # warm up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 runs instead of 100")
    runs = 10 if parser.parse_args().quick else 100
    ocf = OcfAgentClass()
    provider = "heartbeat" if ocf.find("Dummy", "heartbeat") else "hactl"
    path = ocf.find("Dummy", provider)
    assert path is not None
    scratch = tempfile.mkdtemp(prefix="hactl-bench-")
    state = os.path.join(scratch, "dummy.state")
    params = {"state": state}

    def hactl_action(action: str) -> Callable[[], object]:
        request = OperationRequest(
            resource="bench", agent=f"ocf:{provider}:Dummy", action=action, params=params
        )
        return lambda: asyncio.run(ocf.execute(request))

    bare_env = {
        **os.environ,
        **ocf.environment(
            OperationRequest(
                resource="bench", agent=f"ocf:{provider}:Dummy", action="monitor", params=params
            ),
            provider,
            "Dummy",
        ),
    }

    cases: dict[str, Callable[[], object]] = {
        "agent run bare (monitor)": lambda: subprocess.run(
            [str(path), "monitor"], env=bare_env, capture_output=True
        ),
        "hactl ocf execute (monitor)": hactl_action("monitor"),
        "hactl ocf execute (validate-all)": hactl_action("validate-all"),
    }
    crm_resource = shutil.which("crm_resource") or (
        "/usr/sbin/crm_resource" if os.path.exists("/usr/sbin/crm_resource") else None
    )
    if crm_resource and provider == "heartbeat":
        cases["crm_resource --validate"] = lambda: subprocess.run(
            [
                crm_resource,
                "--validate",
                "--class",
                "ocf",
                "--provider",
                provider,
                "--agent",
                "Dummy",
                "--option",
                f"state={state}",
            ],
            capture_output=True,
        )

    figures: dict[str, dict[str, float]] = {}
    print(f"agent: ocf:{provider}:Dummy   ({runs} runs each)")
    print(f"{'case':<34} {'median ms':>10} {'min ms':>8} {'max ms':>8}")
    for label, run in cases.items():
        times = timed(run, runs)
        figures[label] = {
            "median_ms": round(statistics.median(times), 2),
            "min_ms": round(min(times), 2),
            "max_ms": round(max(times), 2),
        }
        row = figures[label]
        print(f"{label:<34} {row['median_ms']:>10} {row['min_ms']:>8} {row['max_ms']:>8}")

    # many monitors at once, as the executor runs them: actions per second
    concurrent = 20 if runs == 10 else 100
    request = OperationRequest(
        resource="bench", agent=f"ocf:{provider}:Dummy", action="monitor", params=params
    )

    async def many() -> None:
        await asyncio.gather(*(ocf.execute(request) for _ in range(concurrent)))

    started = time.perf_counter()
    asyncio.run(many())
    elapsed = time.perf_counter() - started
    rate = round(concurrent / elapsed, 1)
    print(f"{concurrent} concurrent monitors: {elapsed * 1000:.0f} ms ({rate} actions/s)")
    shutil.rmtree(scratch, ignore_errors=True)
    print(
        json.dumps(
            {
                "bench": "agents",
                "agent": f"ocf:{provider}:Dummy",
                "runs": runs,
                "figures": figures,
                "concurrent_monitors_per_s": rate,
            }
        )
    )


if __name__ == "__main__":
    main()
