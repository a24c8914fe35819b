"""A third-party distribution (tests/plugin_dists/hactl_nagios) adds an agent class through
the hactl.agents entry points: built and installed into a private site directory, it is
listed, described, and a resource of its class is created in a CIB and run."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def site(install_plugin_dist: Callable[[str], str]) -> Path:
    return Path(install_plugin_dist("hactl_nagios"))


def hactl(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hactl.core.cli.main", *args],
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        timeout=120,
    )


BATCH = """
import contextlib, io, json, sys
from hactl.core.cli.main import run
results = []
for args in json.loads(sys.argv[1]):
    out, err, code = io.StringIO(), io.StringIO(), 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            run(args)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    results.append([code, out.getvalue(), err.getvalue()])
print(json.dumps(results))
"""


def hactl_batch(site: Path, *commands: list[str]) -> list[tuple[int, str, str]]:
    """Several commands in one interpreter that sees the installed distribution."""
    done = subprocess.run(
        [sys.executable, "-c", BATCH, json.dumps(commands)],
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return [(int(code), str(out), str(err)) for code, out, err in json.loads(done.stdout)]


CIB = """<cib validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">
  <configuration><crm_config/><nodes/>
    <resources>
      <primitive id="{id}" class="nagios" type="check_tcp">
        <instance_attributes id="{id}-params">
          <nvpair id="{id}-host" name="host" value="127.0.0.1"/>
          <nvpair id="{id}-port" name="port" value="{port}"/>
        </instance_attributes>
      </primitive>
    </resources><constraints/>
  </configuration><status/>
</cib>
"""


def test_new_class_is_discovered_and_described(site: Path) -> None:
    standards, agents, described = hactl_batch(
        site,
        ["resource", "standards"],
        ["resource", "agents", "nagios"],
        ["resource", "describe", "nagios:check_tcp", "-o", "json"],
    )
    assert "nagios" in standards[1].split()
    assert agents[1].split() == ["nagios:check_tcp"]
    metadata = json.loads(described[1])
    assert metadata["agent"] == "nagios:check_tcp"
    assert [p["name"] for p in metadata["parameters"]] == ["host", "port"]


def test_a_resource_of_the_new_class_runs(site: Path, tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        cib = tmp_path / "cib.xml"
        cib.write_text(CIB.format(id="svc-check", port=port))
        started = hactl(site, "resource", "debug-start", "svc-check", "-f", str(cib))
        assert started.returncode == 0, started.stderr
        assert "returned: 0" in started.stdout and "TCP OK" in started.stdout
    # the listener is closed: the check is critical now
    failed = hactl(site, "resource", "debug-monitor", "svc-check", "-f", str(cib), "-o", "json")
    result = json.loads(failed.stdout)
    assert failed.returncode == 1
    assert result["rc"] == 1 and result["exit_reason"].startswith("TCP CRITICAL")
