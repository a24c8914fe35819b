"""The scheduler on small CIBs: placement, actions, and that it does no I/O."""

from __future__ import annotations

import builtins
import socket
import subprocess
from pathlib import Path

import pytest
from lxml import etree

from hactl.core.scheduler import execute, output, schedule

from .cib_text import NOW, cib, node_state, primitive

CIB = cib(
    primitive("A") + f'<group id="G">{primitive("B")}{primitive("C")}</group>',
    '<rsc_location id="l1" rsc="A" node="node2" score="100"/>'
    '<rsc_colocation id="c1" rsc="G" with-rsc="A" score="INFINITY"/>'
    '<rsc_order id="o1" first="A" then="G"/>',
    node_state("1") + node_state("2"),
)


def _ws():  # type: ignore[no-untyped-def]
    return schedule(etree.fromstring(CIB), NOW)


def test_placement_follows_location_and_colocation() -> None:
    ws = _ws()
    placed = {
        r.id: (r.assigned.name if r.assigned else None)
        for r in ws.all_resources()
        if r.is_primitive
    }
    assert placed == {"A": "node2", "B": "node2", "C": "node2"}
    summary = output.transition_summary(ws)
    assert [line.split()[1:3] for line in summary] == [
        ["Start", "A"],
        ["Start", "B"],
        ["Start", "C"],
    ]


def test_order_constraint_orders_the_starts() -> None:
    ws = _ws()
    fired = [a.name() for a in execute.run_graph(ws)]
    assert fired.index("A_start_0 node2") < fired.index("B_start_0 node2")
    assert fired.index("B_start_0 node2") < fired.index("C_start_0 node2")
    # probes come before the start they protect
    assert fired.index("A_monitor_0 node1") < fired.index("A_start_0 node2")


def test_scheduler_does_no_io(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("the scheduler must not do I/O")

    cib = etree.fromstring(CIB)
    monkeypatch.setattr(builtins, "open", forbidden)
    monkeypatch.setattr(Path, "read_text", forbidden)
    monkeypatch.setattr(socket, "socket", forbidden)
    monkeypatch.setattr(subprocess, "Popen", forbidden)
    ws = schedule(cib, NOW)
    fired = execute.run_graph(ws)
    execute.apply_transition(cib, ws, fired)
    assert output.dot(ws).startswith(' digraph "g" {')


def test_cli_reports_bad_xml(tmp_path: Path) -> None:
    bad = tmp_path / "cib.xml"
    bad.write_text("<cib><configuration>")
    argv = ["simulate", "-x", str(bad), "-S"]
    result = subprocess.run(
        ["python3", "-m", "hactl.core.cli.main", *argv], capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"{bad}:1" in result.stderr


def test_cli_reports_schema_errors(tmp_path: Path) -> None:
    from hactl.core.cli import simulate

    if simulate._schema("pacemaker-3.0") is None:
        pytest.skip("Pacemaker's CIB schemas are not installed (pacemaker-cli-utils)")
    bad = tmp_path / "cib.xml"
    bad.write_text(CIB.replace("<constraints>", "<constraints><rsc_bogus id='x'/>"))
    result = subprocess.run(
        ["python3", "-m", "hactl.core.cli.main", "simulate", "-x", str(bad), "-S"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "rsc_bogus" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
