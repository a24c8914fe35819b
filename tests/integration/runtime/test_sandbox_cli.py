"""README's quickstart: `hactl sandbox up`, then commands pointed at its nodes, a crash
and a restart of one node, and `sandbox down` leaving nothing behind."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from hactl.core.daemon.sandbox import Sandbox


def hactl(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HACTL_SANDBOX_DIR": str(root)}
    env.pop("CIB_file", None)
    env.pop("HACTL_SOCKET", None)
    return subprocess.run(
        [sys.executable, "-m", "hactl.core.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_sandbox_up_use_kill_start_down(tmp_path: Path) -> None:
    root = tmp_path / "sandbox"
    try:
        up = hactl(root, "sandbox", "up", "--nodes", "3")
        assert up.returncode == 0, up.stderr
        assert "hactl --sandbox node1 status" in up.stdout
        status = hactl(root, "--sandbox", "node2", "status", "--output", "json")
        assert status.returncode == 0, status.stderr
        data = json.loads(status.stdout)
        assert data["cluster"]["quorate"] and data["cluster"]["resources_configured"] >= 3
        assert {r["id"] for r in data["resources"]} >= {"dummy1", "dummy2"}

        # runtime quorum changes on one node reach the others (corosync-quorumtool -e)
        below = hactl(root, "--sandbox", "node1", "quorum", "expected-votes", "2")
        assert below.returncode == 1 and "below the 3 votes present" in below.stderr
        raised = hactl(root, "--sandbox", "node1", "quorum", "expected-votes", "5", "-o", "json")
        assert raised.returncode == 0 and json.loads(raised.stdout)["expected_votes"] == 5
        seen = hactl(root, "--sandbox", "node3", "quorum", "status", "-o", "json")
        assert json.loads(seen.stdout)["expected_votes"] == 5
        unconfirmed = hactl(root, "--sandbox", "node1", "quorum", "unblock")
        assert unconfirmed.returncode == 2 and "add --yes" in unconfirmed.stderr

        pids = {n["name"]: n["pid"] for n in Sandbox(root).record()["nodes"]}
        assert hactl(root, "sandbox", "kill", "node2").returncode == 0
        table = hactl(root, "sandbox", "status", "--output", "json")
        rows = {r["node"]: r for r in json.loads(table.stdout)["nodes"]}
        assert rows["node2"]["pid"] == "-" and rows["node2"]["state"] == "down"
        assert hactl(root, "sandbox", "start", "node2").returncode == 0
        wrong = hactl(root, "--sandbox", "node9", "status")
        assert wrong.returncode == 1 and "no node 'node9'" in wrong.stderr
    finally:
        down = hactl(root, "sandbox", "down")
    assert down.returncode == 0, down.stderr
    assert not root.exists()
    for pid in pids.values():
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()
    shutil.rmtree(tmp_path, ignore_errors=True)
