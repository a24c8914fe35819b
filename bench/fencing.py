"""Cost of fence actions through hactl's plugins, beside the real tools doing the same.

    python bench/fencing.py [--quick]

* IPMI status against a BMC on loopback (pyghmi's server, as in the tests): hactl's ipmi
  plugin (one session kept per BMC) vs fence_ipmilan (a process and an ipmitool login per
  call) vs bare `ipmitool power status`.
* SBD: reading every slot of a device: hactl vs `sbd list` (on a loop device when one can
  be attached, else hactl alone on an image file).
* external: fence_dummy status through hactl's external plugin vs fence_dummy run bare.

Prints a table and ends with one line of JSON. Tools that are missing are left out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from hactl.plugins.fencing.external import ExternalFenceAgent, find_program
from hactl.plugins.fencing.ipmi import IpmiFenceAgent
from hactl.plugins.fencing.sbd_device import SbdDevice
from hactl.plugins.fencing.sbd_format import Timeouts

BMC_SERVER = Path(__file__).resolve().parents[1] / "tests/integration/fencing/bmc_server.py"
USER, PASSWORD = "admin", "bench-pass"


def tool(name: str) -> str | None:
    return shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/sbin/{name}") if os.path.exists(p)), None
    )


def timed(run: Callable[[], object], runs: int) -> list[float]:
    run()  # warm up (and, for hactl's ipmi, log in once)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return times


@contextmanager
def loopback_bmc() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, str(BMC_SERVER), str(port), USER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdin is not None and server.stdout is not None
    server.stdin.write(PASSWORD + "\n")
    server.stdin.close()
    server.stdout.readline()
    try:
        yield port
    finally:
        server.kill()
        server.wait()


@contextmanager
def sbd_device(scratch: str) -> Iterator[tuple[str, bool]]:
    """(path, is a loop device) of a fresh SBD device with 16 nodes allocated."""
    image = os.path.join(scratch, "sbd.img")
    with open(image, "wb") as handle:
        handle.truncate(4 << 20)
    losetup = tool("losetup")
    loop = None
    if losetup and os.geteuid() == 0:
        done = subprocess.run([losetup, "-f", "--show", image], capture_output=True, text=True)
        loop = done.stdout.strip() if done.returncode == 0 else None
    path = loop or image
    device = SbdDevice(path)
    device.create(Timeouts(watchdog=1, allocate=1, loop=1, msgwait=1))
    for index in range(16):
        device.allocate(f"node{index}", settle=lambda _s: None)
    try:
        yield path, loop is not None
    finally:
        if loop and losetup:
            subprocess.run([losetup, "-d", loop], check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 runs instead of 50")
    runs = 10 if parser.parse_args().quick else 50
    cases: dict[str, Callable[[], object]] = {}
    scratch = tempfile.mkdtemp(prefix="hactl-bench-fencing-")
    figures: dict[str, dict[str, float]] = {}

    def measure() -> None:
        for label, run in cases.items():
            times = timed(run, runs)
            figures[label] = {
                "median_ms": round(statistics.median(times), 2),
                "min_ms": round(min(times), 2),
                "max_ms": round(max(times), 2),
            }
            row = figures[label]
            print(f"{label:<40} {row['median_ms']:>10} {row['min_ms']:>8} {row['max_ms']:>8}")
        cases.clear()

    print(f"{runs} runs each")
    print(f"{'case':<40} {'median ms':>10} {'min ms':>8} {'max ms':>8}")
    with loopback_bmc() as port:
        params = {
            "ip": "127.0.0.1",
            "ipport": str(port),
            "username": USER,
            "password": PASSWORD,
            "lanplus": "1",
        }
        agent = IpmiFenceAgent("fence_ipmilan")
        cases["ipmi status: hactl"] = lambda: asyncio.run(
            agent.execute("status", params, None, 20_000)
        )
        if fence_ipmilan := tool("fence_ipmilan"):
            request = "".join(f"{k}={v}\n" for k, v in {"action": "status", **params}.items())
            cases["ipmi status: fence_ipmilan"] = lambda: subprocess.run(
                [fence_ipmilan], input=request, capture_output=True, text=True
            )
        if ipmitool := tool("ipmitool"):
            env = {**os.environ, "IPMI_PASSWORD": PASSWORD}
            cases["ipmi status: ipmitool"] = lambda: subprocess.run(
                [
                    ipmitool,
                    "-I",
                    "lanplus",
                    "-H",
                    "127.0.0.1",
                    "-p",
                    str(port),
                    "-U",
                    USER,
                    "-E",
                    "power",
                    "status",
                ],
                env=env,
                capture_output=True,
            )
        measure()

    with sbd_device(scratch) as (path, is_loop):
        where = "loop device" if is_loop else "image file"
        cases[f"sbd list 16 slots: hactl ({where})"] = lambda: SbdDevice(path).slots()
        if (sbd := tool("sbd")) and is_loop:
            cases["sbd list 16 slots: sbd"] = lambda: subprocess.run(
                [sbd, "-d", path, "list"], capture_output=True
            )
        measure()

    if (dummy := find_program("fence_dummy")) is not None:
        state = os.path.join(scratch, "dummy")
        dummy_agent = ExternalFenceAgent("fence_dummy", dummy)
        dummy_agent.metadata()  # read once, as the fencer caches it
        cases["external status: hactl (fence_dummy)"] = lambda: asyncio.run(
            dummy_agent.execute("status", {"status_file": state}, None, 20_000)
        )
        cases["external status: fence_dummy bare"] = lambda: subprocess.run(
            [dummy],
            input=f"action=status\nstatus_file={state}\n",
            capture_output=True,
            text=True,
        )
        measure()

    shutil.rmtree(scratch, ignore_errors=True)
    print(json.dumps({"bench": "fencing", "runs": runs, "figures": figures}))


if __name__ == "__main__":
    main()
