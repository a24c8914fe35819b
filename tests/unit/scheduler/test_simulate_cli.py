"""`hactl simulate` injections as crm_simulate makes them: --op-fail, --node-up of a node the
CIB lacks (with the 'Performing Requested Modifications' block), and -L."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .cib_text import cib, node_state, primitive

CIB = cib(
    primitive("rsc1", '<operations><op id="rsc1-mon" name="monitor" interval="10s"/></operations>'),
    status=node_state("1") + node_state("2"),
)


def simulate(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["python3", "-m", "hactl.core.cli.main", "simulate", *argv],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


@pytest.fixture
def cib_file(tmp_path: Path) -> Path:
    path = tmp_path / "cib.xml"
    path.write_text(CIB)
    return path


def section(text: str, title: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index(title) + 1
    out = []
    for line in lines[start:]:
        if not line.strip():
            break
        out.append(" ".join(line.split()))
    return out


def test_op_fail_fails_the_action_records_the_failure_and_aborts(cib_file: Path) -> None:
    result = simulate("-x", str(cib_file), "-S", "-F", "rsc1_start_0@node1=1")
    assert result.returncode == 0, result.stderr
    executed = section(result.stdout, "Executing Cluster Transition:")
    start = executed.index("* Resource action: rsc1 start on node1")
    assert executed[start + 1].startswith("Pretending action ")
    assert executed[start + 1].endswith(" failed with rc=1")
    # a failed start counts INFINITY (start-failure-is-fatal)
    assert executed[start + 2] == (
        "* Injecting attribute fail-count-rsc1#start_0=INFINITY into /node_state '1'"
    )
    assert executed[start + 3].startswith("* Injecting attribute last-failure-rsc1#start_0=")
    # the graph is aborted: the monitor that was to follow the start does not run
    assert not any("monitor=10000" in line for line in executed)
    revised = result.stdout.split("Revised Cluster Status:")[1]
    assert "FAILED node1" in revised


def test_op_fail_malformed_is_a_usage_error(cib_file: Path) -> None:
    result = simulate("-x", str(cib_file), "-S", "-F", "rsc1_start_0")
    assert result.returncode == 2
    assert "--op-fail" in result.stderr and "Traceback" not in result.stderr


def test_options_combine_and_repeat_as_crm_simulate_s(cib_file: Path) -> None:
    combined = simulate("-x", str(cib_file), "-SsQ")
    assert combined.returncode == 0, combined.stderr
    assert "pcmk__primitive_assign: rsc1 allocation score on node1: 0" in combined.stdout
    repeated = simulate("-x", str(cib_file), "-S", "-u", "node3", "-u", "node4")
    assert section(repeated.stdout, "Performing Requested Modifications:") == [
        "* Bringing node node3 online",
        "* Bringing node node4 online",
    ]
    unknown = simulate("-x", str(cib_file), "--bogus")
    assert unknown.returncode == 2
    assert unknown.stderr.count("\n") == 1 and "--bogus" in unknown.stderr


def test_a_simulation_imports_neither_typer_nor_pydantic(cib_file: Path) -> None:
    """Their import costs more than scheduling a few hundred resources (bench/scheduler.py)."""
    probe = (
        "import sys\n"
        "from hactl.core.cli import main\n"
        "main.run(['simulate', '-x', sys.argv[1], '-R'])\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'typer', 'pydantic'}))\n"
    )
    result = subprocess.run(
        ["python3", "-c", probe, str(cib_file)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[]"


def test_node_up_adds_a_node_the_cib_lacks(cib_file: Path) -> None:
    result = simulate("-x", str(cib_file), "-S", "-u", "node3")
    assert result.returncode == 0, result.stderr
    current = result.stdout.split("Performing Requested Modifications:")[0]
    assert "node3" not in current  # the status before the change
    assert section(result.stdout, "Performing Requested Modifications:") == [
        "* Bringing node node3 online"
    ]
    assert "* Resource action: rsc1 monitor on node3" in section(
        result.stdout, "Executing Cluster Transition:"
    )
    revised = result.stdout.split("Revised Cluster Status:")[1]
    assert "Online: [ node1 node2 node3 ]" in revised


def test_node_up_matches_crm_simulate(cib_file: Path, require_tool: Callable[[str], str]) -> None:
    crm_simulate = require_tool("crm_simulate")
    argv = ["-x", str(cib_file), "-S", "-u", "node3", "-d", "node2"]
    ours = simulate(*argv)
    theirs = subprocess.run([crm_simulate, *argv], capture_output=True, text=True, timeout=60)
    assert ours.returncode == theirs.returncode == 0
    for title in ("Performing Requested Modifications:", "Transition Summary:"):
        assert section(ours.stdout, title) == section(theirs.stdout, title)
    executed = "Executing Cluster Transition:"
    assert sorted(section(ours.stdout, executed)) == sorted(section(theirs.stdout, executed))


def test_live_without_a_daemon_is_one_clear_line(tmp_path: Path) -> None:
    result = simulate("-L", "-S", env={"HACTL_SOCKET": str(tmp_path / "none.sock")})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "-L" in lines[0] and "hint:" in lines[0]
    assert "Traceback" not in result.stderr


@pytest.fixture
def cib_server(tmp_path: Path) -> Iterator[Path]:
    """A stand-in for the node daemon's local API (answers cib.get on a real Unix socket):
    running a whole cluster here would test the daemon, not simulate's use of its CIB."""
    path = tmp_path / "api.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            request = json.loads(conn.makefile("rb").readline())
            assert request["op"] == "cib.get"
            reply = {"ok": True, "result": {"cib": CIB}}
            conn.sendall(json.dumps(reply).encode() + b"\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield path
    thread.join(timeout=10)
    server.close()


def test_live_reads_the_cib_from_the_daemon(cib_server: Path) -> None:
    result = simulate("-L", "-S", env={"HACTL_SOCKET": str(cib_server)})
    assert result.returncode == 0, result.stderr
    assert section(result.stdout, "Transition Summary:") == ["* Start rsc1 ( node1 )"]
