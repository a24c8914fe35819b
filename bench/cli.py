"""Start-up time of the command line: median wall time of `hactl --help` and
`hactl plugins list`, beside a bare interpreter start for scale.

    python bench/cli.py [--quick]

Runs the installed console script directly (not a pyenv shim), prints a table and ends
with one line of JSON. Aim (issue 2): both under 150 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import sysconfig
import time


def wall_times(argv: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 runs instead of 30")
    runs = 5 if parser.parse_args().quick else 30
    script = os.path.join(sysconfig.get_path("scripts"), "hactl")
    cases = {
        "python -c pass (floor)": [sys.executable, "-c", "pass"],
        "hactl --help": [script, "--help"],
        "hactl plugins list": [script, "plugins", "list"],
    }
    figures: dict[str, dict[str, float]] = {}
    print(f"{'command':<28} {'median ms':>10} {'min ms':>8} {'max ms':>8}   ({runs} runs)")
    for label, argv in cases.items():
        wall_times(argv, 1)  # warm the page cache
        times = wall_times(argv, runs)
        figures[label] = {
            "median_ms": round(statistics.median(times), 1),
            "min_ms": round(min(times), 1),
            "max_ms": round(max(times), 1),
        }
        row = figures[label]
        print(f"{label:<28} {row['median_ms']:>10} {row['min_ms']:>8} {row['max_ms']:>8}")
    print(json.dumps({"bench": "cli", "runs": runs, "figures": figures}))


if __name__ == "__main__":
    main()
