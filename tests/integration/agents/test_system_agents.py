"""Agents that change the machine, each confined to something the test creates and removes:
heartbeat/IPaddr2 in a network namespace, heartbeat/Filesystem on a loop device in a
private mount namespace, and the LSB class with the real /etc/init.d/atd."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from hactl.core.agentmeta import parse_metadata
from hactl.core.drivers import OcfRc, OperationRequest, OperationStatus
from hactl.plugins.agents.lsb import LsbAgentClass

from .conftest import require_system_agent, run

HELPER = Path(__file__).parent / "run_actions.py"


def actions_in(prefix: list[str], spec: str, params: dict[str, str], *actions: str) -> list[Any]:
    done = subprocess.run(
        [*prefix, sys.executable, str(HELPER), spec, json.dumps(params), *actions],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    results: list[Any] = json.loads(done.stdout)
    return results


@pytest.fixture
def netns() -> Iterator[str]:
    if shutil.which("ip") is None:
        pytest.skip("iproute2 is not installed")
    name = f"hactl-t-{uuid.uuid4().hex[:8]}"
    created = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if created.returncode != 0:
        pytest.skip(f"network namespaces are not available here: {created.stderr.strip()}")
    try:
        for command in (
            ["link", "add", "v0", "type", "veth", "peer", "name", "v1"],
            ["link", "set", "v0", "up"],
            ["link", "set", "v1", "up"],
            ["link", "set", "lo", "up"],
            ["addr", "add", "198.51.100.1/24", "dev", "v0"],
        ):
            subprocess.run(["ip", "-n", name, *command], check=True, capture_output=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


def test_ipaddr2_in_a_network_namespace(netns: str) -> None:
    require_system_agent("heartbeat", "IPaddr2")
    params = {"ip": "198.51.100.50", "cidr_netmask": "24", "nic": "v0"}
    results = actions_in(
        ["ip", "netns", "exec", netns],
        "ocf:heartbeat:IPaddr2",
        params,
        "validate-all",
        "monitor",
        "start",
        "monitor",
    )
    assert [(r["action"], r["rc"]) for r in results] == [
        ("validate-all", 0),
        ("monitor", 7),
        ("start", 0),
        ("monitor", 0),
    ], results
    shown = subprocess.run(
        ["ip", "-n", netns, "addr", "show", "dev", "v0"], capture_output=True, text=True, check=True
    ).stdout
    assert "198.51.100.50/24" in shown
    results = actions_in(
        ["ip", "netns", "exec", netns], "ocf:heartbeat:IPaddr2", params, "stop", "monitor", "stop"
    )
    assert [(r["action"], r["rc"]) for r in results] == [("stop", 0), ("monitor", 7), ("stop", 0)]
    shown = subprocess.run(
        ["ip", "-n", netns, "addr", "show", "dev", "v0"], capture_output=True, text=True, check=True
    ).stdout
    assert "198.51.100.50" not in shown


@pytest.fixture
def loop_device(tmp_path: Path) -> Iterator[str]:
    for tool in ("losetup", "mkfs.ext4", "unshare"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    image = tmp_path / "fs.img"
    with image.open("wb") as handle:
        handle.truncate(16 * 1024 * 1024)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], check=True, capture_output=True)
    attached = subprocess.run(
        ["losetup", "-f", "--show", str(image)], capture_output=True, text=True
    )
    if attached.returncode != 0:
        pytest.skip(f"loop devices are not available here: {attached.stderr.strip()}")
    device = attached.stdout.strip()
    try:
        yield device
    finally:
        subprocess.run(["losetup", "-d", device], capture_output=True)


def test_filesystem_on_a_loop_device(loop_device: str, tmp_path: Path) -> None:
    require_system_agent("heartbeat", "Filesystem")
    mountpoint = tmp_path / "mnt"
    mountpoint.mkdir()
    params = {"device": loop_device, "directory": str(mountpoint), "fstype": "ext4"}
    # one private mount namespace for the whole sequence: the host's mounts are untouched
    results = actions_in(
        ["unshare", "--mount", "--propagation", "private"],
        "ocf:heartbeat:Filesystem",
        params,
        "monitor",
        "start",
        "monitor",
        "start",
        "stop",
        "monitor",
        "stop",
    )
    assert [(r["action"], r["rc"]) for r in results] == [
        ("monitor", 7),
        ("start", 0),
        ("monitor", 0),
        ("start", 0),
        ("stop", 0),
        ("monitor", 7),
        ("stop", 0),
    ], results
    with open("/proc/self/mounts") as mounts:
        assert str(mountpoint) not in mounts.read()


def test_lsb_atd() -> None:
    script = Path("/etc/init.d/atd")
    if not os.access(script, os.X_OK):
        pytest.skip("/etc/init.d/atd is not installed (package at; .ci/run installs it)")
    lsb = LsbAgentClass()
    assert "atd" in lsb.agents()
    meta = lsb.describe("atd")
    assert meta.shortdesc and meta.has_action("monitor")

    def rc(action: str) -> int:
        result = run(lsb, OperationRequest(resource="atd", agent="lsb:atd", action=action))
        assert result.status == OperationStatus.DONE, result
        return result.rc

    def settles_at(expected: int) -> bool:
        """atd's script returns from start/stop before atd has written or removed its pid
        file: status is polled for a moment, as the cluster's next monitor would come."""
        deadline = time.monotonic() + 10
        while rc("monitor") != expected:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    was_running = rc("monitor") == OcfRc.SUCCESS
    try:
        if was_running:
            assert rc("stop") == 0 and settles_at(OcfRc.NOT_RUNNING)
        assert rc("monitor") == OcfRc.NOT_RUNNING
        assert rc("start") == 0 and settles_at(OcfRc.SUCCESS)
        assert rc("start") == 0  # start when started
        assert rc("stop") == 0 and settles_at(OcfRc.NOT_RUNNING)
        assert rc("stop") == 0  # stop when stopped
    finally:
        if was_running:
            rc("start")


def test_lsb_bad_scripts(tmp_path: Path) -> None:
    weird = tmp_path / "weird"
    weird.write_text("#!/bin/sh\nexit 4\n")
    weird.chmod(0o755)
    (tmp_path / "plain").write_text("#!/bin/sh\nexit 0\n")
    lsb = LsbAgentClass(tmp_path)
    assert lsb.agents() == ["weird"]
    status = run(lsb, OperationRequest(resource="w", agent="lsb:weird", action="monitor"))
    assert status.rc == OcfRc.ERR_GENERIC and "not an LSB status code" in status.exit_reason
    start = run(lsb, OperationRequest(resource="w", agent="lsb:weird", action="start"))
    assert start.rc == 4  # LSB and OCF share 0-7 outside status
    plain = run(lsb, OperationRequest(resource="p", agent="lsb:plain", action="start"))
    assert plain.rc == OcfRc.ERR_PERM and "not executable" in plain.exit_reason
    meta = run(lsb, OperationRequest(resource="w", agent="lsb:weird", action="meta-data"))
    assert meta.rc == 0 and '<resource-agent name="weird">' in meta.stdout_tail
    missing = run(lsb, OperationRequest(resource="m", agent="lsb:missing", action="start"))
    assert (missing.rc, missing.status) == (OcfRc.ERR_INSTALLED, OperationStatus.NOT_INSTALLED)


def test_lsb_metadata_as_pacemaker_synthesises_it() -> None:
    """`crm_resource --show-metadata lsb:atd` (Pacemaker's own synthesis) as the oracle."""
    crm_resource = shutil.which("crm_resource") or "/usr/sbin/crm_resource"
    if not os.access(crm_resource, os.X_OK) or not os.access("/etc/init.d/atd", os.X_OK):
        pytest.skip("needs crm_resource and /etc/init.d/atd (.ci/run installs both)")
    shown = subprocess.run(
        [crm_resource, "--show-metadata", "lsb:atd"], capture_output=True, check=True, timeout=60
    ).stdout
    theirs = parse_metadata(shown, source="crm_resource")
    ours_xml = LsbAgentClass().metadata("atd")
    ours = parse_metadata(ours_xml, source="hactl")
    assert (ours.name, ours.shortdesc, ours.longdesc) == (
        theirs.name,
        theirs.shortdesc,
        theirs.longdesc,
    )
    assert ours.actions == theirs.actions and ours.parameters == theirs.parameters

    def special(xml: bytes | str) -> dict[str, str]:
        data = xml.encode() if isinstance(xml, str) else xml
        element = etree.fromstring(data).find("special")
        assert element is not None and element.get("tag") == "LSB"
        return {child.tag: " ".join((child.text or "").split()) for child in element}

    assert special(ours_xml) == special(shown)
