"""The systemd class over the real D-Bus protocol: a private dbus-daemon, and a test
service (fake_systemd.py) standing in for systemd, which cannot run here. A last test
talks to the real systemd and runs only where PID 1 is systemd."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from hactl.core.drivers import OcfRc, OperationRequest, OperationResult, OperationStatus
from hactl.core.errors import NotFoundError
from hactl.plugins.agents.lsb import LsbAgentClass
from hactl.plugins.agents.service import ServiceAgentClass
from hactl.plugins.agents.systemd import SystemdAgentClass, SystemdUnavailable

FAKE = Path(__file__).parent / "fake_systemd.py"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[str]:
    daemon_path = shutil.which("dbus-daemon")
    if daemon_path is None:
        pytest.skip("dbus-daemon is not installed (.ci/run installs it)")
    socket_path = tmp_path / "bus"
    daemon = subprocess.Popen(
        [
            daemon_path,
            "--session",
            "--nofork",
            "--nopidfile",
            f"--address=unix:path={socket_path}",
            "--print-address=1",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert daemon.stdout is not None
        address = daemon.stdout.readline().strip()
        assert address.startswith("unix:"), address
        yield address
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)


@pytest.fixture
def web_port() -> int:
    return free_port()


@pytest.fixture
def fake_systemd(bus: str, tmp_path: Path, web_port: int) -> Iterator[Path]:
    units = {
        "hactl-test-web.service": {
            "description": "Test web server",
            "command": [sys.executable, "-m", "http.server", str(web_port), "--bind", "127.0.0.1"],
            "start_delay": 0.3,
        },
        "hactl-test-crash.service": {
            "description": "Exits at once",
            "command": [sys.executable, "-c", "raise SystemExit(3)"],
            "start_delay": 10,  # it dies long before: the job fails as soon as it does
        },
        "hactl-test-slow.service": {
            "description": "Takes long to start",
            "command": [sys.executable, "-c", "import time; time.sleep(60)"],
            "start_delay": 5,
        },
        "hactl-test.socket": {"description": "A socket unit", "command": ["sleep", "60"]},
    }
    units_file = tmp_path / "units.json"
    units_file.write_text(json.dumps(units))
    events = tmp_path / "events.jsonl"
    events.touch()
    server = subprocess.Popen(
        [sys.executable, str(FAKE), bus, str(units_file), str(events)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        assert server.stdout.readline().strip() == "ready"
        yield events
    finally:
        server.terminate()
        server.wait(timeout=10)


def page_status(url: str, within_s: float = 15) -> int:
    """The page's HTTP status, retrying while the server is still starting to listen."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as page:
                status: int = page.status
                return status
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def call(
    systemd: SystemdAgentClass, agent: str, action: str, timeout_ms: int = 10_000
) -> OperationResult:
    return asyncio.run(
        systemd.execute(
            OperationRequest(resource="web", agent=agent, action=action, timeout_ms=timeout_ms)
        )
    )


def test_start_monitor_stop_over_dbus(
    bus: str, fake_systemd: Path, tmp_path: Path, web_port: int
) -> None:
    runtime = tmp_path / "run-systemd"
    systemd = SystemdAgentClass(bus=bus, runtime_dir=runtime)
    assert call(systemd, "systemd:hactl-test-web", "monitor").rc == OcfRc.NOT_RUNNING
    started = call(systemd, "systemd:hactl-test-web", "start")
    assert (started.rc, started.status) == (OcfRc.SUCCESS, OperationStatus.DONE), started
    override = runtime / "hactl-test-web.service.d" / "50-hactl.conf"
    text = override.read_text()
    assert "Restart=no" in text and "Before=hactl.service" in text
    assert "Description=Cluster Controlled hactl-test-web.service" in text
    assert page_status(f"http://127.0.0.1:{web_port}/") == 200  # the unit really runs
    assert call(systemd, "systemd:hactl-test-web", "monitor").rc == OcfRc.SUCCESS
    assert call(systemd, "systemd:hactl-test-web", "start").rc == OcfRc.SUCCESS  # idempotent
    stopped = call(systemd, "systemd:hactl-test-web", "stop")
    assert stopped.rc == OcfRc.SUCCESS, stopped
    assert not override.exists()
    assert call(systemd, "systemd:hactl-test-web", "monitor").rc == OcfRc.NOT_RUNNING
    assert call(systemd, "systemd:hactl-test-web", "stop").rc == OcfRc.SUCCESS  # idempotent
    events = [json.loads(line) for line in fake_systemd.read_text().splitlines()]
    members = [e["member"] for e in events]
    assert "Subscribe" in members and members.count("Reload") == 2  # drop-in added, removed
    assert {
        "member": "StartUnit",
        "path": "/org/freedesktop/systemd1",
        "body": ["hactl-test-web.service", "replace"],
    } in events


def test_failures_are_clear(bus: str, fake_systemd: Path, tmp_path: Path) -> None:
    systemd = SystemdAgentClass(bus=bus, runtime_dir=tmp_path / "rt")
    crash = call(systemd, "systemd:hactl-test-crash", "start")
    assert crash.rc == OcfRc.ERR_GENERIC
    assert "start job for hactl-test-crash.service failed with result 'failed'" in crash.exit_reason
    assert call(systemd, "systemd:hactl-test-crash", "monitor").rc == OcfRc.NOT_RUNNING
    missing = call(systemd, "systemd:nope", "start")
    assert (missing.rc, missing.status) == (OcfRc.ERR_INSTALLED, OperationStatus.NOT_INSTALLED)
    assert "nope.service" in missing.exit_reason
    began = time.monotonic()
    slow = call(systemd, "systemd:hactl-test-slow", "start", timeout_ms=800)
    assert time.monotonic() - began < 3
    assert (slow.rc, slow.status) == (OcfRc.ERR_GENERIC, OperationStatus.TIMED_OUT)
    assert "did not finish within 800 ms" in slow.exit_reason
    pending = call(systemd, "systemd:hactl-test-slow", "monitor")
    assert pending.status == OperationStatus.PENDING  # still activating
    unknown = call(systemd, "systemd:hactl-test-web", "promote")
    assert unknown.rc == OcfRc.ERR_UNIMPLEMENTED
    call(systemd, "systemd:hactl-test-slow", "stop", timeout_ms=10_000)


def test_an_unwritable_drop_in_directory_is_reported(
    bus: str, fake_systemd: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    systemd = SystemdAgentClass(bus=bus, runtime_dir=blocker)
    result = call(systemd, "systemd:hactl-test-web", "start")
    assert (result.rc, result.status) == (OcfRc.ERR_GENERIC, OperationStatus.ERROR)
    assert "cannot change the systemd drop-in" in result.exit_reason
    assert call(systemd, "systemd:hactl-test-web", "monitor").rc == OcfRc.NOT_RUNNING


def test_listing_and_metadata(bus: str, fake_systemd: Path) -> None:
    systemd = SystemdAgentClass(bus=bus)
    agents = systemd.agents()
    assert "hactl-test-web" in agents and "hactl-test.socket" in agents
    meta = systemd.describe("hactl-test-web")
    assert meta.longdesc == "Test web server"
    assert meta.shortdesc == "systemd unit file for hactl-test-web"
    monitor = meta.action("monitor")
    assert monitor is not None and monitor.interval_ms == 60_000
    with pytest.raises(NotFoundError, match="no systemd unit nope.service"):
        systemd.metadata("nope")
    through_execute = call(systemd, "systemd:hactl-test-web", "meta-data")
    assert through_execute.rc == 0 and "Test web server" in through_execute.stdout_tail
    assert call(systemd, "systemd:nope", "meta-data").status == OperationStatus.NOT_INSTALLED


def test_service_picks_systemd_where_it_runs(bus: str, fake_systemd: Path, tmp_path: Path) -> None:
    scripts = tmp_path / "init.d"
    scripts.mkdir()
    script = scripts / "legacy"
    script.write_text('#!/bin/sh\n[ "$1" = status ] && exit 3\nexit 0\n')
    script.chmod(0o755)
    service = ServiceAgentClass(
        systemd=SystemdAgentClass(bus=bus, runtime_dir=tmp_path / "rt"), lsb=LsbAgentClass(scripts)
    )
    assert service.resolve("hactl-test-web").standard == "systemd"
    assert service.resolve("legacy").standard == "lsb"
    assert "legacy" in service.agents() and "hactl-test-web" in service.agents()
    result = asyncio.run(
        service.execute(OperationRequest(resource="l", agent="service:legacy", action="monitor"))
    )
    assert result.rc == OcfRc.NOT_RUNNING


def test_unreachable_bus_is_a_clear_error(tmp_path: Path) -> None:
    systemd = SystemdAgentClass(bus=f"unix:path={tmp_path}/no-bus", runtime_dir=tmp_path)
    result = call(systemd, "systemd:x", "monitor")
    assert result.status == OperationStatus.ERROR
    assert "cannot reach systemd over D-Bus" in result.exit_reason
    with pytest.raises(SystemdUnavailable, match="cannot list systemd units"):
        systemd.agents()


def test_real_systemd() -> None:
    """Against the real systemd: only where it is PID 1 (never `systemd --user` here)."""
    if Path("/proc/1/comm").read_text().strip() != "systemd":
        pytest.skip("PID 1 is not systemd on this machine")
    systemd = SystemdAgentClass()
    agents = systemd.agents()
    assert agents, "systemd lists no unit files"
    unit = next((a for a in agents if a in ("dbus", "systemd-journald")), agents[0])
    assert systemd.describe(unit).shortdesc == f"systemd unit file for {unit}"
    result = call(systemd, f"systemd:{unit}", "monitor")
    assert result.status in (OperationStatus.DONE, OperationStatus.PENDING)
    assert result.rc in (OcfRc.SUCCESS, OcfRc.NOT_RUNNING, OcfRc.ERR_GENERIC)
