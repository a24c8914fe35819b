"""The ``ipmi`` fence plugin against a BMC on loopback (pyghmi's server side, in its own
process), cross-checked with independent clients: ipmitool and fence-agents' fence_ipmilan
must see the power state hactl set, and hactl must see the one they set."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hactl.core.drivers import FenceResult, OcfRc, OperationRequest, OperationResult
from hactl.core.errors import ValidationError
from hactl.core.fencer.device_runner import fence_device_runner
from hactl.core.plugins import PluginHost
from hactl.plugins.fencing.external import ExternalFenceAgent
from hactl.plugins.fencing.ipmi import IpmiFenceAgent

HERE = Path(__file__).resolve().parent
USER, PASSWORD = "admin", "bmc-pass-42"


@dataclass(frozen=True)
class Bmc:
    port: int
    pid: int

    def params(self, **extra: str) -> dict[str, str]:
        return {
            "ip": "127.0.0.1",
            "ipport": str(self.port),
            "username": USER,
            "password": PASSWORD,
            "lanplus": "1",
            "power_wait": "0",
            **extra,
        }


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def broken_flag(tmp_path: Path) -> Path:
    """While this file exists, the ``bmc`` fixture's BMC refuses every power change."""
    return tmp_path / "bmc.broken"


@pytest.fixture
def bmc(broken_flag: Path) -> Iterator[Bmc]:
    port = free_udp_port()
    server = subprocess.Popen(
        [
            *(sys.executable, str(HERE / "bmc_server.py"), str(port), USER),
            *("--fail-when", str(broken_flag)),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdin is not None and server.stdout is not None
    server.stdin.write(PASSWORD + "\n")  # never on its command line
    server.stdin.close()
    assert server.stdout.readline().strip() == "ready"
    try:
        yield Bmc(port, server.pid)
    finally:
        server.kill()
        server.wait()


def run_action(action: str, params: dict[str, str], name: str = "fence_ipmilan"):  # type: ignore[no-untyped-def]
    agent = PluginHost().fence_agent(name)
    assert isinstance(agent, IpmiFenceAgent)
    return asyncio.run(agent.execute(action, params, "node1", 20_000))


def ipmitool(require_tool, bmc: Bmc, *command: str) -> str:  # type: ignore[no-untyped-def]
    program = require_tool("ipmitool")
    done = subprocess.run(
        [
            program,
            "-I",
            "lanplus",
            "-H",
            "127.0.0.1",
            "-p",
            str(bmc.port),
            "-U",
            USER,
            "-E",
            *command,
        ],
        env={**os.environ, "IPMI_PASSWORD": PASSWORD},  # -E: the password from the environment
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def fence_ipmilan_status(require_tool, bmc: Bmc) -> int:  # type: ignore[no-untyped-def]
    program = require_tool("fence_ipmilan")
    request = "".join(f"{k}={v}\n" for k, v in {"action": "status", **bmc.params()}.items())
    done = subprocess.run([program], input=request, capture_output=True, text=True, timeout=60)
    return done.returncode


def test_status_off_on_agree_with_ipmitool_and_fence_ipmilan(bmc: Bmc, require_tool) -> None:  # type: ignore[no-untyped-def]
    status = run_action("status", bmc.params())
    assert (status.succeeded, status.power_state) == (True, "on")
    assert ipmitool(require_tool, bmc, "power", "status") == "Chassis Power is on"

    off = run_action("off", bmc.params())
    assert (off.succeeded, off.power_state) == (True, "off")
    assert ipmitool(require_tool, bmc, "power", "status") == "Chassis Power is off"
    assert fence_ipmilan_status(require_tool, bmc) == 2  # off

    ipmitool(require_tool, bmc, "power", "on")
    assert run_action("status", bmc.params()).power_state == "on"
    assert fence_ipmilan_status(require_tool, bmc) == 0  # on


def test_reboot_onoff_and_cycle(bmc: Bmc, require_tool) -> None:  # type: ignore[no-untyped-def]
    rebooted = run_action("reboot", bmc.params())
    assert (rebooted.succeeded, rebooted.power_state) == (True, "on")
    run_action("off", bmc.params())
    cycled = run_action("reboot", bmc.params(method="cycle"), name="fence_ipmilanplus")
    assert cycled.succeeded
    assert ipmitool(require_tool, bmc, "power", "status") == "Chassis Power is on"


def test_the_tutorials_device_definition_works(bmc: Bmc) -> None:
    """What ../shared/seeds/002 configures (ipaddr, lanplus=1, cipher=1, pcmk_host_list)."""
    params = {
        "pcmk_host_list": "cluster-node1",
        "ipaddr": "127.0.0.1",
        "ipport": str(bmc.port),
        "username": USER,
        "password": PASSWORD,
        "lanplus": "1",
        "cipher": "1",
    }
    result = run_action("status", params)
    assert (result.succeeded, result.power_state) == (True, "on")


def test_deprecated_parameter_names_work(bmc: Bmc) -> None:
    params = {
        "ipaddr": "127.0.0.1",
        "ipport": str(bmc.port),
        "login": USER,
        "passwd": PASSWORD,
        "lanplus": "1",
    }
    assert run_action("monitor", params).succeeded


def test_wrong_password_fails_without_showing_it(bmc: Bmc) -> None:
    result = run_action("status", bmc.params(password="not-the-password"))
    assert not result.succeeded
    assert "not-the-password" not in result.output and "password" in result.output.lower()


def test_a_bmc_refusing_power_changes_fails_each_time_and_works_once_repaired(
    bmc: Bmc, broken_flag: Path
) -> None:
    """A refused command leaves the session usable: the next tries fail at once (they do
    not hang on a re-initialised session), and succeed once the BMC obeys again."""
    broken_flag.touch()
    for _ in range(3):
        started = time.monotonic()
        result = run_action("off", bmc.params())
        assert not result.succeeded and "not supported in present state" in result.output
        assert time.monotonic() - started < 5
    broken_flag.unlink()
    assert run_action("reboot", bmc.params(stonith_status_sleep="0.1")).succeeded
    assert run_action("status", bmc.params()).power_state == "on"


def test_an_unreachable_bmc_fails_within_the_timeout() -> None:
    agent = IpmiFenceAgent("fence_ipmilan")
    params = {
        "ip": "127.0.0.1",
        "ipport": str(free_udp_port()),
        "username": USER,
        "password": PASSWORD,
    }
    result = asyncio.run(agent.execute("status", params, None, 3000))
    assert not result.succeeded


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"username": "a"}, "needs parameter 'ip'"),
        ({"ip": "x", "cipher": "aes"}, "cipher suite 'aes' is not a suite number"),
        ({"ip": "x", "privlvl": "root"}, "must be one of callback, user, operator, administrator"),
        ({"ip": "x", "method": "twice"}, "must be one of onoff, cycle"),
        ({"ip": "x", "lanplus": "perhaps"}, "must be a boolean"),
        ({"ip": "x", "target": "0x20"}, "bridging"),
    ],
)
def test_parameters_that_do_not_match_the_metadata_are_refused(
    params: dict[str, str], expected: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        IpmiFenceAgent("fence_ipmilan").validate(params)
    assert expected in "\n".join(caught.value.lines())


def test_metadata_is_fence_ipmilans_parameter_set(require_tool) -> None:  # type: ignore[no-untyped-def]
    """Every parameter of the real fence_ipmilan that a device definition may carry is
    accepted by ours (apart from the ipmitool-only ones listed here)."""
    from hactl.core.fencemeta import FenceAgentMetadata

    program = require_tool("fence_ipmilan")
    real = FenceAgentMetadata.from_xml(
        subprocess.run([program], input=b"action=metadata\n", capture_output=True).stdout,
        source=program,
    )
    ours = IpmiFenceAgent("fence_ipmilan").meta
    ipmitool_only = {
        "sudo",
        "use_sudo",
        "sudo_path",
        "disable_timeout",
        "verbose_level",
        "version",
        "help",
    }
    missing = {p.name for p in real.parameters} - {p.name for p in ours.parameters}
    assert missing <= ipmitool_only


def test_port_as_ip_takes_the_bmc_address_from_the_target(bmc: Bmc) -> None:
    params = {k: v for k, v in bmc.params(port_as_ip="1").items() if k != "ip"}
    agent = IpmiFenceAgent("fence_ipmilan")
    result = asyncio.run(agent.execute("status", params, "127.0.0.1", 20_000))
    assert (result.succeeded, result.power_state) == (True, "on")


def test_the_command_line_reads_the_password_from_stdin(bmc: Bmc) -> None:
    args = [f"{k}={v}" for k, v in bmc.params().items() if k != "password"]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "hactl.core.cli.main",
            "stonith",
            "test",
            "fence_ipmilan",
            "--action",
            "off",
            "--password-stdin",
            "-o",
            "json",
            *args,
        ],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert PASSWORD not in done.stdout + done.stderr
    assert '"power_state": "off"' in done.stdout


def test_a_fence_device_resource_checks_its_bmc_on_start_and_monitor(bmc: Bmc) -> None:
    """The executor's side of a stonith resource (core/fencer/device_runner.py): start and
    monitor ask the BMC, a probe of a device not started here finds it stopped, and a BMC
    that stopped answering fails the monitor with a reason that keeps the password out."""
    started: set[str] = set()

    async def no_other_agents(request: OperationRequest) -> OperationResult:
        raise AssertionError(f"not a fence device: {request.agent}")

    runner = fence_device_runner(no_other_agents, PluginHost().fence_agent, started.__contains__)
    params = {**bmc.params(), "pcmk_host_list": "node1", "crm_feature_set": "3.19.0"}

    def run(action: str, interval_ms: int = 0, timeout_ms: int = 20_000) -> OperationResult:
        request = OperationRequest(
            "f1",
            "stonith:fence_ipmilan",
            action,
            params,
            interval_ms=interval_ms,
            timeout_ms=timeout_ms,
        )
        return asyncio.run(runner(request))

    assert run("monitor").rc == OcfRc.NOT_RUNNING  # a probe: not started here
    assert run("start").rc == OcfRc.SUCCESS
    started.add("f1")
    assert run("monitor").rc == OcfRc.SUCCESS
    assert run("monitor", interval_ms=60_000).rc == OcfRc.SUCCESS
    os.kill(bmc.pid, signal.SIGKILL)  # the BMC is gone
    failed = run("monitor", interval_ms=60_000, timeout_ms=3_000)
    assert failed.rc == OcfRc.ERR_GENERIC and failed.exit_reason
    assert PASSWORD not in failed.exit_reason
    assert run("stop").rc == OcfRc.SUCCESS


def test_fence_ipmilan_run_as_an_external_agent_gets_the_password_on_stdin_only(
    bmc: Bmc, require_tool
) -> None:  # type: ignore[no-untyped-def]
    """fence-agents' own fence_ipmilan through the ``external`` plugin (as with any
    fence_* program): while it runs, its command line (read from /proc) holds no password;
    the parameters went on its stdin. (What fence_ipmilan passes to ipmitool is its own
    business: hactl's ``ipmi`` plugin, the default for this name, runs no program at all.)"""
    program = require_tool("fence_ipmilan")
    agent = ExternalFenceAgent("fence_ipmilan", program)
    seen: list[bytes] = []

    async def scenario() -> FenceResult:
        task = asyncio.ensure_future(agent.execute("status", bmc.params(), "node1", 20_000))
        while not task.done():
            for child in _children(os.getpid()):
                try:
                    seen.append(Path(f"/proc/{child}/cmdline").read_bytes())
                except OSError:
                    continue
            await asyncio.sleep(0.01)
        return await task

    result = asyncio.run(scenario())
    assert result.succeeded and result.power_state == "on", result.output
    agent_argv = [argv for argv in seen if b"fence_ipmilan" in argv]
    assert agent_argv, "fence_ipmilan was never seen running"
    assert not [argv for argv in agent_argv if PASSWORD.encode() in argv]


def _children(pid: int) -> list[int]:
    try:
        listed = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(child) for child in listed]
