"""Bad input stops `hactl daemon` at start, with the file, the line and the reason."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

GOOD = """\
totem {
    version: 2
    cluster_name: t
    transport: udpu
}
nodelist {
    node {
        ring0_addr: 127.0.0.1
        name: n1
        nodeid: 1
    }
}
quorum {
    provider: corosync_votequorum
}
"""


def daemon(tmp_path: Path, config: str, *extra: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "corosync.conf"
    path.write_text(config)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "hactl.core.cli.main",
            "daemon",
            "--config",
            str(path),
            "--state-dir",
            str(tmp_path / "state"),
            "--authkey",
            str(tmp_path / "authkey"),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_bad_value_names_the_file_and_line(tmp_path: Path) -> None:
    line = one_line(daemon(tmp_path, GOOD.replace("version: 2", "version: 2\n    token: soon")))
    assert f"{tmp_path}/corosync.conf:3" in line and "token" in line


def test_a_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    broken = GOOD.replace("    node {\n        ring0_addr", "    node {{\n        ring0_addr")
    line = one_line(daemon(tmp_path, broken + "}\n", "--node", "n1"))
    assert f"{tmp_path}/corosync.conf:" in line


def test_a_missing_authkey_is_named(tmp_path: Path) -> None:
    knet = GOOD.replace(
        "transport: udpu", "transport: knet\n    crypto_cipher: aes256\n    crypto_hash: sha256"
    )
    line = one_line(daemon(tmp_path, knet, "--node", "n1"))
    assert f"{tmp_path}/authkey" in line and "authkey is missing" in line
    assert "hactl cluster keygen" in line


def test_a_node_not_in_the_nodelist(tmp_path: Path) -> None:
    line = one_line(daemon(tmp_path, GOOD, "--node", "elsewhere"))
    assert "not in the nodelist" in line and "n1" in line
    assert not (tmp_path / "state").exists()  # refused before touching anything


def test_commands_without_a_daemon_say_what_to_do(tmp_path: Path) -> None:
    env = {**os.environ, "HACTL_SOCKET": str(tmp_path / "none.sock")}
    env.pop("CIB_file", None)
    for args in (["status"], ["resource", "create", "x", "ocf:hactl:Dummy"]):
        done = subprocess.run(
            [sys.executable, "-m", "hactl.core.cli.main", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=30,
        )
        line = one_line(done)
        assert "no running hactl cluster" in line
        assert "-f FILE" in line and "hactl sandbox up" in line


def test_the_local_api_refuses_other_users_with_401_and_logs_it(tmp_path: Path) -> None:
    """The socket is 0660 root:haclient; even when someone opens it wider, the daemon
    checks the caller's credentials (SO_PEERCRED) on every connection."""
    import pwd
    import shutil
    import signal
    import time

    import pytest

    if os.getuid() != 0:
        pytest.skip("needs root to act as another user")
    nobody = pwd.getpwnam("nobody")
    system_python = "/usr/bin/python3"
    if not os.access(system_python, os.X_OK):
        pytest.skip("no system python3 for the other user")
    config = tmp_path / "corosync.conf"
    config.write_text(GOOD)
    import tempfile

    state = Path(tempfile.mkdtemp(prefix="hactl-401-"))  # tmp_path's parents are 0700
    log = open(tmp_path / "daemon.log", "wb")  # noqa: SIM115 - the child's
    daemon = subprocess.Popen(
        [
            sys.executable, "-m", "hactl.core.cli.main", "daemon", "--config", str(config),
            "--state-dir", str(state), "--node", "n1", "--remote-port", "0",
        ],
        stdout=log, stderr=log, start_new_session=True,
    )  # fmt: skip
    log.close()
    try:
        sock = state / "hactl.sock"
        deadline = time.monotonic() + 30
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sock.exists(), (tmp_path / "daemon.log").read_text()
        os.chmod(state, 0o755)
        os.chmod(sock, 0o666)
        probe = (
            "import json, socket, sys\n"
            "s = socket.socket(socket.AF_UNIX)\n"
            f"s.connect({str(sock)!r})\n"
            's.sendall(b\'{"op": "status"}\\n\')\n'
            "sys.stdout.write(s.recv(65536).decode())\n"
        )
        done = subprocess.run(
            [system_python, "-c", probe],  # ours may live where nobody cannot read
            capture_output=True,
            text=True,
            timeout=30,
            user=nobody.pw_uid,
            group=nobody.pw_gid,
            extra_groups=[],
        )
        assert done.stdout, done.stderr
        answer = json.loads(done.stdout)
        assert answer["ok"] is False and answer["code"] == 401, done.stdout + done.stderr
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if "refused" in (tmp_path / "daemon.log").read_text():
                break
            time.sleep(0.1)
        assert f"uid {nobody.pw_uid}" in (tmp_path / "daemon.log").read_text()
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=15)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        shutil.rmtree(state, ignore_errors=True)
