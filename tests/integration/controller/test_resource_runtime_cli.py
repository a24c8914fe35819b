"""`hactl -f FILE resource cleanup|refresh|failcount` on a CIB whose status holds failures
as the controller records them; Pacemaker's own crm_failcount reads the same fail counts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from lxml import etree

from hactl.core.controller import failures, node_status
from hactl.core.executor.history import OperationRecord, ResourceAgent

CIB = b"""<cib validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">
<configuration><crm_config><cluster_property_set id="o">
<nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
<nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
<resources><primitive id="a" class="ocf" provider="hactl" type="Dummy"/>
<primitive id="b" class="ocf" provider="hactl" type="Dummy"/></resources><constraints/>
</configuration><status/></cib>"""


def failed_cib(path: Path) -> None:
    root = etree.fromstring(CIB)
    for node, rsc, rc, call in (("n1", "a", 7, 1), ("n2", "a", 0, 2), ("n1", "b", 0, 3)):
        key = f"1:{call}:0:00000000-0000-0000-0000-000000000001"
        record = OperationRecord(
            rsc, "monitor", 10000, call, rc, "done", node, 1_795_000_000, transition_key=key
        )
        node_status.record_operation(
            root, ResourceAgent.from_spec(rsc, "ocf:hactl:Dummy"), record, failure=rc != 0
        )
    failures.record_failure(root, "n1", "a", "monitor", 10000, 1_795_000_000)
    failures.record_failure(root, "n1", "a", "monitor", 10000, 1_795_000_100)
    path.write_bytes(etree.tostring(root))


def hactl(*args: str) -> subprocess.CompletedProcess[str]:
    code = "from hactl.core.cli.main import run; run()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=False
    )


def test_failcount_show_reset_cleanup_refresh(
    tmp_path: Path, require_tool: Callable[[str], str]
) -> None:
    cib = tmp_path / "cib.xml"
    failed_cib(cib)
    shown = hactl("-f", str(cib), "resource", "failcount", "show", "a", "--output", "json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == [
        {
            "resource": "a",
            "node": "n1",
            "operation": "monitor_10000",
            "failcount": "2",
            "last_failure": 1_795_000_100,
        }
    ]
    oracle = subprocess.run(
        [require_tool("crm_failcount"), "-G", "-r", "a", "-N", "n1"],
        capture_output=True,
        text=True,
        env={**os.environ, "CIB_file": str(cib)},
        check=False,
    )
    assert "value=2" in oracle.stdout, oracle.stderr

    cleaned = hactl("-f", str(cib), "resource", "cleanup", "a", "node=n1")
    assert (cleaned.returncode, cleaned.stdout) == (0, "Cleaned up a on n1\n")
    root = etree.parse(str(cib)).getroot()
    assert failures.fail_counts(root) == []
    # a's history is gone on n1 only (probed again there); b's and n2's stay
    histories = sorted(
        (str(state.get("uname")), str(rsc.get("id")))
        for state in root.iter("node_state")
        for rsc in state.iter("lrm_resource")
    )
    assert histories == [("n1", "b"), ("n2", "a")]
    subprocess.run([require_tool("crm_verify"), "-x", str(cib)], check=True)

    refreshed = hactl("-f", str(cib), "resource", "refresh", "--node", "n2")
    assert refreshed.returncode == 0, refreshed.stderr
    root = etree.parse(str(cib)).getroot()
    assert [str(r.get("id")) for r in root.iter("lrm_resource")] == ["b"]


def test_bad_scope_is_one_line_with_a_hint(tmp_path: Path) -> None:
    cib = tmp_path / "cib.xml"
    failed_cib(cib)
    before = cib.read_bytes()
    for args, code, message in (
        (("cleanup", "nosuch"), 1, "resource 'nosuch' does not exist"),
        (("failcount", "reset", "a", "node=n9"), 1, "node 'n9' is not in the CIB"),
        (("cleanup", "a", "colour=red"), 2, "unknown option 'colour'"),
        (("failcount", "show", "interval=10s"), 2, "interval= needs operation="),
    ):
        result = hactl("-f", str(cib), "resource", *args)
        assert result.returncode == code, result.stderr
        assert message in result.stderr and "hint" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert cib.read_bytes() == before
