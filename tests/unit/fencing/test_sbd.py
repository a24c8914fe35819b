"""SBD on image files: the device operations, the fence_sbd agent (majority of devices,
msgwait), and the node-side watcher obeying its mailbox. Image files stand in for shared
disks here; tests/integration/fencing/test_sbd_interop.py checks the same bytes against
the real `sbd` on loop devices."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hactl.core.drivers import SharedDiskAdmin
from hactl.core.errors import HactlError, UsageError, ValidationError
from hactl.plugins.fencing.sbd import SbdFenceAgent, SbdWatcher, judge
from hactl.plugins.fencing.sbd_device import SbdDevice, SbdDeviceError
from hactl.plugins.fencing.sbd_format import Command, Timeouts

FAST = Timeouts(watchdog=1, allocate=1, loop=1, msgwait=3)


def image(tmp_path: Path, name: str = "sbd.img", size: int = 1 << 20) -> str:
    path = tmp_path / name
    path.write_bytes(b"")
    with open(path, "r+b") as handle:
        handle.truncate(size)
    return str(path)


def no_wait(_seconds: float) -> None:
    pass


class SleepRecorder:
    """Stands in for asyncio.sleep so that msgwait is observed, not waited."""

    def __init__(self) -> None:
        self.slept: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)


class SelfFenceRecorder:
    """The test's self-fence: records instead of rebooting the machine."""

    def __init__(self) -> None:
        self.calls: list[tuple[Command, str]] = []

    def __call__(self, command: Command, reason: str) -> None:
        self.calls.append((command, reason))


# ---------------------------------------------------------------------------- device


@pytest.mark.parametrize("sector_size", [512, 4096])
def test_create_allocate_message_list(tmp_path: Path, sector_size: int) -> None:
    device = SbdDevice(image(tmp_path, size=4 << 20))
    header = device.create(FAST, sector_size=sector_size)
    assert device.header() == header and header.sector_size == sector_size
    assert device.slots() == []
    assert device.allocate("node1", settle=no_wait) == 0
    assert device.allocate("node2", settle=no_wait) == 1
    assert device.allocate("NODE1", settle=no_wait) == 0  # names compare case-insensitively
    device.write_message(1, Command.reset, "node1")
    assert [(s.index, s.node, s.command_name, s.sender) for s in device.slots()] == [
        (0, "node1", "clear", ""),
        (1, "node2", "reset", "node1"),
    ]
    assert device.read_message(1) == (Command.reset, "node1")


def test_create_refuses_a_too_small_device(tmp_path: Path) -> None:
    with pytest.raises(SbdDeviceError, match="too small"):
        SbdDevice(image(tmp_path, size=510 * 512)).create(FAST)


def test_uninitialised_and_missing_devices_say_so(tmp_path: Path) -> None:
    with pytest.raises(SbdDeviceError, match="no SBD header") as caught:
        SbdDevice(image(tmp_path)).header()
    assert caught.value.hint and "setup" in caught.value.hint
    with pytest.raises(SbdDeviceError, match="no such device"):
        SbdDevice(str(tmp_path / "absent")).slots()


def test_a_claimed_slot_taken_meanwhile_is_detected(tmp_path: Path) -> None:
    device = SbdDevice(image(tmp_path))
    device.create(FAST)

    def rival_claims(_seconds: float) -> None:
        # another node writes its name into the same free slot during the settle time
        device.write_message(0, Command.clear, "x")
        with open(device.path, "r+b") as handle:
            handle.seek(512)
            handle.write(b"\x01rival\x00")

    with pytest.raises(SbdDeviceError, match="claimed by another node"):
        device.allocate("node1", settle=rival_claims)


# ---------------------------------------------------------------------------- agent


@pytest.fixture
def three_devices(tmp_path: Path) -> list[str]:
    paths = [image(tmp_path, f"d{i}.img") for i in range(3)]
    for path in paths:
        device = SbdDevice(path)
        device.create(FAST)
        device.allocate("node1", settle=no_wait)
        device.allocate("node2", settle=no_wait)
    return paths


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_off_writes_every_device_and_waits_msgwait(three_devices: list[str]) -> None:
    sleep = SleepRecorder()
    agent = SbdFenceAgent(sender="node1", sleep=sleep)
    params = {"devices": ",".join(three_devices)}
    result = run(agent.execute("off", params, "node2", 20_000))
    assert result.succeeded and result.power_state == "off"
    assert sleep.slept == [FAST.msgwait]
    for path in three_devices:
        assert SbdDevice(path).read_message(1) == (Command.off, "node1")
    status = run(agent.execute("status", params, "node2", 20_000))
    assert status.succeeded and status.power_state == "off"
    assert run(agent.execute("status", params, "node1", 20_000)).power_state == "on"
    listed = run(agent.execute("list", params, None, 20_000))
    assert listed.targets == ("node1", "node2")


def test_reboot_sends_reset_and_plug_names_the_target(three_devices: list[str]) -> None:
    agent = SbdFenceAgent(sender="admin", sleep=SleepRecorder())
    params = {"devices": ",".join(three_devices), "plug": "node1"}
    assert run(agent.execute("reboot", params, "ignored", 20_000)).succeeded
    assert SbdDevice(three_devices[0]).read_message(0) == (Command.reset, "admin")


def test_a_majority_of_devices_suffices(three_devices: list[str], tmp_path: Path) -> None:
    params = {"devices": ",".join(three_devices[:2] + [str(tmp_path / "gone")])}
    agent = SbdFenceAgent(sender="node1", sleep=SleepRecorder())
    assert run(agent.execute("off", params, "node2", 20_000)).succeeded
    assert run(agent.execute("monitor", params, None, 20_000)).succeeded


def test_less_than_a_majority_fails_and_says_why(three_devices: list[str], tmp_path: Path) -> None:
    params = {"devices": ",".join(three_devices[:1] + [str(tmp_path / "a"), str(tmp_path / "b")])}
    agent = SbdFenceAgent(sender="node1", sleep=SleepRecorder())
    result = run(agent.execute("off", params, "node2", 20_000))
    assert not result.succeeded
    assert "reached 1 of 3 devices, needs 2" in result.output and "no such device" in result.output
    assert not run(agent.execute("monitor", params, None, 20_000)).succeeded


def test_unknown_node_fails(three_devices: list[str]) -> None:
    agent = SbdFenceAgent(sender="node1", sleep=SleepRecorder())
    result = run(agent.execute("off", {"devices": three_devices[0]}, "node9", 20_000))
    assert not result.succeeded and "no slot for node9" in result.output


def test_parameters_are_checked(three_devices: list[str]) -> None:
    agent = SbdFenceAgent()
    with pytest.raises(ValidationError):
        agent.validate({"plug": "node1"})  # devices missing
    with pytest.raises(UsageError, match="4 SBD devices"):
        run(agent.execute("status", {"devices": "a,b,c,d"}, "n", 1000))
    with pytest.raises(UsageError, match="no action 'on'"):
        run(agent.execute("on", {"devices": three_devices[0]}, "node1", 1000))


def test_admin_interface(tmp_path: Path) -> None:
    agent = SbdFenceAgent(sleep=SleepRecorder())
    assert isinstance(agent, SharedDiskAdmin)
    path = image(tmp_path)
    header = agent.setup(path, {"watchdog": 2, "allocate": 1, "loop": 1, "msgwait": 4})
    assert header.timeouts["msgwait"] == 4 and agent.header(path) == header
    assert agent.allocate(path, "node1") == 0
    assert run(agent.message([path], "node1", "test", "admin", wait=True)) == [path]
    assert [(s.node, s.message, s.sender) for s in agent.slots(path)] == [
        ("node1", "test", "admin")
    ]
    with pytest.raises(UsageError, match="unknown SBD message"):
        run(agent.message([path], "node1", "poke", "admin", wait=False))
    with pytest.raises(HactlError, match="reached 0 of 1"):
        run(agent.message([path], "nobody", "test", "admin", wait=False))


# ---------------------------------------------------------------------------- watcher


def test_judge() -> None:
    clear, reset = (Command.clear.value, ""), (Command.reset.value, "n2")
    assert judge([clear, clear], cluster_healthy=False).action == "continue"
    verdict = judge([clear, reset, None], cluster_healthy=True)
    assert (verdict.action, verdict.command, verdict.reason) == (
        "self-fence",
        Command.reset,
        "reset from n2",
    )
    assert judge([(Command.test.value, "n2")], False).action == "acknowledge"
    assert judge([(Command.exit.value, "n2")], False).action == "exit"
    assert judge([clear, None, None], cluster_healthy=False).action == "self-fence"
    assert judge([clear, None, None], cluster_healthy=True).action == "continue"


def test_watcher_obeys_its_mailbox(three_devices: list[str]) -> None:
    recorder = SelfFenceRecorder()
    SbdDevice(three_devices[0]).write_message(0, Command.reset, "stale")
    watcher = SbdWatcher(three_devices, "node1", recorder)
    watcher.start()  # clears the stale message, as sbd does on start
    assert watcher.check().action == "continue" and recorder.calls == []

    SbdDevice(three_devices[1]).write_message(0, Command.test, "node2")
    assert watcher.check().action == "acknowledge"
    assert SbdDevice(three_devices[1]).read_message(0) == (Command.clear, "node1")

    agent = SbdFenceAgent(sender="node2", sleep=SleepRecorder())
    assert run(agent.execute("off", {"devices": ",".join(three_devices)}, "node1", 5000)).succeeded
    verdict = watcher.check()
    assert verdict.action == "self-fence" and recorder.calls == [(Command.off, "off from node2")]


def test_watcher_run_loop_ends_on_exit(three_devices: list[str]) -> None:
    watcher = SbdWatcher(three_devices[:1], "node2", SelfFenceRecorder(), sleep=SleepRecorder())
    watcher.start()
    SbdDevice(three_devices[0]).write_message(1, Command.exit, "node1")
    assert run(watcher.run(asyncio.Event())).action == "exit"


def test_sysrq_self_fence_writes_the_key(tmp_path: Path) -> None:
    """The production self-fence, pointed at a file instead of /proc/sysrq-trigger."""
    from hactl.plugins.fencing.sbd import SysrqSelfFence

    trigger = tmp_path / "sysrq-trigger"
    for command, key in ((Command.reset, "b"), (Command.off, "o"), (Command.crashdump, "c")):
        SysrqSelfFence(str(trigger))(command, "test")
        assert trigger.read_text() == key
