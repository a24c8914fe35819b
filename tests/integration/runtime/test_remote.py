"""The remote API of real daemons: TLS with a pinned certificate, the hacluster-style
user and password, tokens per node, and 401 (logged) for wrong or missing credentials."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests


def test_host_auth_then_remote_calls_and_every_bad_credential_gets_401(
    cluster: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("HACTL_KNOWN_HOSTS", str(tmp_path / "known-hosts.json"))
    sandbox = cluster.sandbox
    port = str(sandbox.record()["remote_port"])
    password = sandbox.password_path.read_text().strip()

    wrong = cluster.hactl(
        "host", "auth", "node2", "addr=127.0.0.2", "--port", port, "-u", "hacluster", "-p", "nope"
    )
    assert wrong.code == 1 and "401 unauthorized" in wrong.err, wrong.err
    assert len(wrong.err.strip().splitlines()) == 1

    good = cluster.hactl(
        "host", "auth", "node2", "addr=127.0.0.2", "node3", "addr=127.0.0.3",
        "--port", port, "-u", "hacluster", "-p", password,
    )  # fmt: skip
    assert good.code == 0, good.err
    assert "node2: Authorized" in good.out and "node3: Authorized" in good.out
    hosts = json.loads((tmp_path / "known-hosts.json").read_text())
    assert set(hosts) == {"node2", "node3"} and hosts["node2"]["token"]
    assert password not in (tmp_path / "known-hosts.json").read_text()

    remote = cluster.hactl("host", "status", "node3", "--output", "json")
    assert remote.code == 0, remote.err
    assert json.loads(remote.out)["members"] == [1, 2, 3]

    cert = hosts["node2"]["cert"]
    url = f"https://127.0.0.2:{port}/remote/status"
    assert requests.post(url, json={}, verify=cert, timeout=10).status_code == 401
    bogus = {"Authorization": "Bearer not-a-token"}
    assert requests.post(url, json={}, headers=bogus, verify=cert, timeout=10).status_code == 401
    ok = requests.post(
        url, json={}, headers={"Authorization": f"Bearer {hosts['node2']['token']}"},
        verify=cert, timeout=10,
    )  # fmt: skip
    assert ok.status_code == 200 and ok.json()["result"]["node"]["name"] == "node2"
    # a token is per node: node2's token does not open node3
    other = f"https://127.0.0.3:{port}/remote/status"
    stolen = {"Authorization": f"Bearer {hosts['node2']['token']}"}
    response = requests.post(
        other, json={}, headers=stolen, verify=hosts["node3"]["cert"], timeout=10
    )
    assert response.status_code == 401

    log = (sandbox.state_dir("node2") / "daemon.log").read_text()
    assert "401 for POST /remote/auth" in log and "401 for POST /remote/status" in log
    assert password not in log

    # node2's entry pointed at node3's address: node3's certificate is not the pinned one
    hosts["node2"]["address"] = "127.0.0.3"
    (tmp_path / "known-hosts.json").write_text(json.dumps(hosts))
    result = cluster.hactl("host", "status", "node2")
    assert result.code == 1 and "certificate" in result.err, result.err
