"""Start-up time of the command line: median wall time of `hactl --help` and
`hactl plugins list`, beside a bare interpreter start (the floor) for scale.

    python bench/cli.py [--quick]

Runs the installed console script directly (not a pyenv shim), as an installed package runs:
hactl's modules are compiled once beforehand into a private PYTHONPYCACHEPREFIX (the
environment may forbid writing .pyc files beside the sources), and one warm-up run of each
command caches whatever else it imports, so no run pays for compiling Python source.
The commands take turns run by run (a shared machine's load changes from minute to minute).
Prints wall and CPU (user+sys) time, each also above the floor, names the .pth files that
import modules at every interpreter start (they weigh on the floor and on hactl alike), shows
where each command's imports above the floor go (`python -X importtime`, the least of 5 runs,
each library charged with everything it pulls in), and ends with one line of JSON.
Aim (issue 2): both commands under 150 ms.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

AIM_MS = 150.0


def timed_run(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user+sys) milliseconds of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
    wall = (time.perf_counter() - started) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000


def interleaved_runs(
    cases: dict[str, list[str]], runs: int, env: dict[str, str]
) -> dict[str, tuple[list[float], list[float]]]:
    """Each case's wall and CPU times, the cases taking turns run by run, so that a shared
    machine's changing load weighs on the floor and on each command alike."""
    times: dict[str, tuple[list[float], list[float]]] = {label: ([], []) for label in cases}
    for _ in range(runs):
        for label, argv in cases.items():
            wall, cpu = timed_run(argv, env)
            times[label][0].append(wall)
            times[label][1].append(cpu)
    return times


def startup_pth_imports(env: dict[str, str]) -> dict[str, float]:
    """Modules that site-packages' .pth files import at every interpreter start, with the
    median import time of each (from `python -X importtime -c pass`)."""
    modules: dict[str, str] = {}
    for path in sorted(Path(sysconfig.get_path("purelib")).glob("*.pth")):
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith(("import ", "import\t")):
                for name in re.findall(r"\bimport\s+(\w+)|__import__\(['\"](\w+)", line):
                    module = name[0] or name[1]
                    if module not in ("os", "sys"):
                        modules.setdefault(module, path.name)
    costs: dict[str, list[float]] = {module: [] for module in modules}
    for _ in range(5):
        probe = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "pass"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        for line in probe.stderr.splitlines():
            match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|\s{1,4}(\w+)$", line)
            if match and match.group(2) in costs:
                costs[match.group(2)].append(int(match.group(1)) / 1000)
    return {
        f"{modules[module]} imports {module}": round(statistics.median(times), 1)
        for module, times in costs.items()
        if times
    }


@dataclass
class ImportNode:
    name: str
    self_us: int
    cumulative_us: int
    children: list[ImportNode] = field(default_factory=list)


def import_tree(stderr: str) -> list[ImportNode]:
    """The roots of `-X importtime`'s report (printed children first, indented by depth)."""
    pending: list[tuple[int, ImportNode]] = []
    for line in stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( +)(\S+)$", line)
        if not match:
            continue
        depth = (len(match.group(3)) - 1) // 2
        node = ImportNode(match.group(4), int(match.group(1)), int(match.group(2)))
        while pending and pending[-1][0] == depth + 1:
            node.children.insert(0, pending.pop()[1])
        pending.append((depth, node))
    return [node for _, node in pending]


def charge(nodes: list[ImportNode], costs: dict[str, int], under_hactl: bool) -> None:
    """hactl's modules are charged their own time; anything else they (or the console script)
    import is charged as a whole to the library's top-level name."""
    for node in nodes:
        if node.name.split(".")[0] == "hactl":
            costs["hactl's own modules"] = costs.get("hactl's own modules", 0) + node.self_us
            charge(node.children, costs, True)
        elif under_hactl:
            costs[node.name] = costs.get(node.name, 0) + node.cumulative_us


def import_costs(argv: list[str], env: dict[str, str], runs: int = 5) -> dict[str, float]:
    """Import time (ms) of what ``argv`` imports beyond a bare interpreter start, by library:
    the least of ``runs`` runs, each entry taken on its own."""
    floor = {n.name for n in import_tree(_importtime([sys.executable, "-c", "pass"], env))}
    best: dict[str, int] = {}
    for _ in range(runs):
        costs: dict[str, int] = {}
        roots = [n for n in import_tree(_importtime(argv, env)) if n.name not in floor]
        charge(roots, costs, under_hactl=True)
        for name, micros in costs.items():
            best[name] = min(best.get(name, micros), micros)
    ranked = sorted(best.items(), key=lambda item: -item[1])
    return {name: round(micros / 1000, 1) for name, micros in ranked if micros >= 1000}


def _importtime(argv: list[str], env: dict[str, str]) -> str:
    """What `-X importtime` reports for ``argv`` (a Python script or the interpreter's args)."""
    args = argv[1:] if argv[0] == sys.executable else argv
    command = [sys.executable, "-X", "importtime", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, check=True).stderr


def compile_bytecode(env: dict[str, str], commands: list[list[str]]) -> None:
    import hactl

    for package_dir in hactl.__path__:
        compileall.compile_dir(package_dir, quiet=1)
    for argv in commands:
        subprocess.run(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 runs instead of 30")
    runs = 5 if parser.parse_args().quick else 30
    script = os.path.join(sysconfig.get_path("scripts"), "hactl")
    cases = {
        "python -c pass (floor)": [sys.executable, "-c", "pass"],
        "hactl --help": [script, "--help"],
        "hactl plugins list": [script, "plugins", "list"],
    }
    load_1min = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="hactl-bench-cli-") as cache:
        env = dict(os.environ, PYTHONPYCACHEPREFIX=cache)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        sys.pycache_prefix = cache
        compile_bytecode(env, list(cases.values()))
        print(
            f"bytecode compiled once into {cache} (PYTHONPYCACHEPREFIX),"
            " as an installed package has"
        )
        print(
            f"load average (1 min) at start: {load_1min:.2f} on {os.cpu_count()} CPUs"
            + ("  -- busy machine, figures are inflated" if load_1min > 0.5 else "")
        )
        pth = startup_pth_imports(env)
        for what, ms in pth.items():
            print(
                f"every interpreter start: {what}, {ms} ms (environment, not hactl; in the floor)"
            )
        print()
        print(
            f"{'command':<24} {'median ms':>9} {'min ms':>7} {'max ms':>7} {'above floor':>11}"
            f" {'cpu ms':>7} {'cpu above floor':>15}   ({runs} runs)"
        )
        figures: dict[str, dict[str, float]] = {}
        floor_wall = floor_cpu = 0.0
        for label, (walls, cpus) in interleaved_runs(cases, runs, env).items():
            wall, cpu = statistics.median(walls), statistics.median(cpus)
            if not figures:
                floor_wall, floor_cpu = wall, cpu
            figures[label] = row = {
                "median_ms": round(wall, 1),
                "min_ms": round(min(walls), 1),
                "max_ms": round(max(walls), 1),
                "above_floor_ms": round(wall - floor_wall, 1),
                "cpu_median_ms": round(cpu, 1),
                "cpu_above_floor_ms": round(cpu - floor_cpu, 1),
            }
            print(
                f"{label:<24} {row['median_ms']:>9} {row['min_ms']:>7} {row['max_ms']:>7}"
                f" {row['above_floor_ms']:>11} {row['cpu_median_ms']:>7}"
                f" {row['cpu_above_floor_ms']:>15}"
            )
        imports = {label: import_costs(argv, env) for label, argv in list(cases.items())[1:]}
    for label, costs in imports.items():
        print(f"\n{label}: imports above the floor, ms (least of 5 runs; >= 1 ms shown)")
        for name, ms in costs.items():
            print(f"  {name:<36} {ms:>6}")
        print(f"  {'total':<36} {round(sum(costs.values()), 1):>6}")
    met = all(figures[label]["median_ms"] < AIM_MS for label in list(cases)[1:])
    print(f"\naim: both commands' median under {AIM_MS:.0f} ms: {'met' if met else 'not met'}")
    print(
        json.dumps(
            {
                "bench": "cli",
                "runs": runs,
                "bytecode": "precompiled",
                "load_1min": round(load_1min, 2),
                "startup_pth_ms": pth,
                "aim_ms": AIM_MS,
                "aim_met": met,
                "figures": figures,
                "imports_ms": imports,
            }
        )
    )


if __name__ == "__main__":
    main()
