"""hactl's SBD code against the real `sbd` tool and fence-agents' fence_sbd, on loop devices
with 512-byte and 4 KiB sectors: what hactl writes they read, what they write hactl reads.

The real tool needs a block device (it asks the kernel for the sector size); these tests
attach image files as loop devices and skip, saying why, where that is not possible.
`sbd watch` is never run (it arms a watchdog)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hactl.plugins.fencing.sbd import SbdFenceAgent
from hactl.plugins.fencing.sbd_device import SbdDevice
from hactl.plugins.fencing.sbd_format import Command, Timeouts

SIZES = [512, 4096]


@pytest.fixture
def loop_device(tmp_path: Path) -> Iterator[Callable[[int], str]]:
    """``loop_device(sector_size)`` attaches a fresh 4 MiB image and gives its path."""
    losetup = shutil.which("losetup") or "/usr/sbin/losetup"
    if os.geteuid() != 0 or not os.path.exists(losetup):
        pytest.skip("loop devices need root and losetup")
    attached: list[str] = []

    def attach(sector_size: int) -> str:
        image = tmp_path / f"sbd-{len(attached)}.img"
        with open(image, "wb") as handle:
            handle.truncate(4 << 20)
        done = subprocess.run(
            [losetup, "-f", "--show", "--sector-size", str(sector_size), str(image)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            pytest.skip(f"cannot attach a loop device here: {done.stderr.strip()}")
        attached.append(done.stdout.strip())
        return attached[-1]

    yield attach
    for device in attached:
        subprocess.run([losetup, "-d", device], check=False)


def sbd(program: str, device: str, *args: str) -> str:
    done = subprocess.run(
        [program, "-d", device, *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, f"sbd {' '.join(args)}: rc {done.returncode} {done.stderr}"
    return done.stdout


def hactl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hactl.core.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("sector_size", SIZES)
def test_what_hactl_writes_sbd_reads(loop_device, require_tool, sector_size: int) -> None:  # type: ignore[no-untyped-def]
    program = require_tool("sbd")
    device = loop_device(sector_size)
    setup = hactl(
        "stonith",
        "sbd",
        "device",
        "setup",
        f"device={device}",
        "watchdog-timeout=1",
        "allocate-timeout=1",
        "msgwait-timeout=1",
    )
    assert setup.returncode == 0, setup.stderr
    assert hactl("stonith", "sbd", "device", "allocate", device, "node1").returncode == 0
    sent = hactl(
        "stonith",
        "sbd",
        "device",
        "message",
        device,
        "node1",
        "off",
        "--sender",
        "adm",
        "--no-wait",
    )
    assert sent.returncode == 0, sent.stderr

    dump = sbd(program, device, "dump")
    ours = hactl("stonith", "sbd", "device", "dump", device).stdout
    assert ours == dump, "hactl's dump differs from sbd's"
    assert f"Sector size        : {sector_size}" in dump
    assert sbd(program, device, "list") == "0\tnode1\toff\tadm\n"
    assert hactl("stonith", "sbd", "device", "list", device).stdout == "0\tnode1\toff\tadm\n"


@pytest.mark.parametrize("sector_size", SIZES)
def test_what_sbd_writes_hactl_reads(loop_device, require_tool, sector_size: int) -> None:  # type: ignore[no-untyped-def]
    program = require_tool("sbd")
    device = loop_device(sector_size)
    sbd(program, device, "-1", "1", "-2", "1", "-4", "1", "create")
    sbd(program, device, "allocate", "alpha")
    sbd(program, device, "allocate", "beta")
    sbd(program, device, "-n", "alpha", "message", "beta", "reset")

    header = SbdDevice(device).header()
    assert header.sector_size == sector_size
    assert (header.timeouts.watchdog, header.timeouts.msgwait) == (1, 1)
    assert str(header.uuid) in sbd(program, device, "dump")
    assert [(s.index, s.node, s.command_name, s.sender) for s in SbdDevice(device).slots()] == [
        (0, "alpha", "clear", ""),
        (1, "beta", "reset", "alpha"),
    ]
    status = asyncio.run(SbdFenceAgent().execute("status", {"devices": device}, "beta", 10_000))
    assert status.power_state == "off"


def test_sbd_delivers_to_a_slot_hactl_allocated(loop_device, require_tool) -> None:  # type: ignore[no-untyped-def]
    program = require_tool("sbd")
    device = loop_device(512)
    SbdDevice(device).create(Timeouts(watchdog=1, allocate=1, loop=1, msgwait=1))
    SbdDevice(device).allocate("gamma", settle=lambda _s: None)
    sbd(program, device, "-n", "peer", "message", "GAMMA", "test")  # case-insensitive, as ours
    assert SbdDevice(device).read_message(0) == (Command.test, "peer")


def test_fence_sbd_agrees_with_hactl(loop_device, require_tool) -> None:  # type: ignore[no-untyped-def]
    fence_sbd = require_tool("fence_sbd")
    require_tool("sbd")
    device = loop_device(512)
    agent = SbdFenceAgent(sender="hactl")
    admin_setup = agent.setup(device, {"watchdog": 1, "allocate": 1, "loop": 1, "msgwait": 1})
    assert admin_setup.sector_size == 512
    agent.allocate(device, "node1")

    def real_status() -> int:
        done = subprocess.run(
            [fence_sbd],
            input=f"action=status\ndevices={device}\nplug=node1\n",
            capture_output=True,
            text=True,
            timeout=60,
        )
        return done.returncode

    assert real_status() == 0  # on: mailbox clear
    result = asyncio.run(agent.execute("off", {"devices": device}, "node1", 30_000))
    assert result.succeeded
    assert real_status() == 2  # off: the poison pill hactl wrote


def test_the_watcher_obeys_what_sbd_sends(loop_device, require_tool) -> None:  # type: ignore[no-untyped-def]
    """The node side: real `sbd message` writes, hactl's watcher (with a recording
    self-fence instead of a reboot) acknowledges a test and obeys a reset."""
    from hactl.plugins.fencing.sbd import SbdWatcher

    program = require_tool("sbd")
    device = loop_device(4096)
    sbd(program, device, "-1", "1", "-2", "1", "-4", "1", "create")
    fenced: list[tuple[Command, str]] = []
    watcher = SbdWatcher(
        [device], "node1", lambda command, reason: fenced.append((command, reason))
    )
    watcher.start()
    assert sbd(program, device, "list") == "0\tnode1\tclear\tnode1\n"

    sbd(program, device, "-n", "node2", "message", "node1", "test")
    assert watcher.check().action == "acknowledge"
    assert sbd(program, device, "list") == "0\tnode1\tclear\tnode1\n"

    sbd(program, device, "-n", "node2", "message", "node1", "reset")
    assert watcher.check().action == "self-fence"
    assert fenced == [(Command.reset, "reset from node2")]
