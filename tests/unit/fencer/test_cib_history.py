"""The fencing history in the CIB's status section: recorded, read back, bounded, cleaned
up, what crm_mon lists as failed or pending, the status sections, and a CIB holding it still
passes the real crm_verify."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from lxml import etree

from hactl.core.cib.document import CibDocument
from hactl.core.cli.status_view import fencing_lines
from hactl.core.fencer import cib_history
from hactl.core.fencer.history import FenceHistoryEntry, HistoryRecord, format_time

T0 = 1_795_316_544.25


def entry(target: str, state: str, at: float, action: str = "reboot") -> FenceHistoryEntry:
    return FenceHistoryEntry(
        target,
        action,
        origin="node1",
        executioner="node1",
        state=state,
        devices=["ipmi-n2", "pdu"] if state == "success" else [],
        reason="" if state == "success" else "ipmi-n2: off failed: 0xd5",
        completed=at,
    )


def cib() -> CibDocument:
    return CibDocument.new_empty()


def test_events_read_back_as_recorded_oldest_first() -> None:
    doc = cib()
    assert cib_history.records(doc.root) == []
    cib_history.record(doc.root, entry("node2", "failed", T0), "hactl-controller")
    cib_history.record(doc.root, entry("node2", "success", T0 + 1), "hactl-controller")
    cib_history.record(doc.root, entry("node3", "success", T0 + 1), "hactl.77")
    records = cib_history.records(doc.root)
    assert [r.entry for r in records] == [
        entry("node2", "failed", T0),
        entry("node2", "success", T0 + 1),
        entry("node3", "success", T0 + 1),
    ]
    assert [r.client for r in records] == ["hactl-controller", "hactl-controller", "hactl.77"]
    assert [r.entry.target for r in cib_history.records(doc.root, "node3")] == ["node3"]
    # the section leads the status (before the many node_states); ids are unique
    section = doc.root.find("status")[0]  # type: ignore[index]
    assert section.tag == "fencing_history"
    ids = [e.get("id") for e in section]
    assert len(set(ids)) == 3


def test_a_same_millisecond_event_gets_its_own_id() -> None:
    doc = cib()
    for _ in range(3):
        cib_history.record(doc.root, entry("node2", "failed", T0), "c")
    ids = [e.get("id") for e in doc.root.iterfind("status/fencing_history/fence_event")]
    assert len(set(ids)) == 3


def test_only_the_latest_events_are_kept() -> None:
    doc = cib()
    for i in range(cib_history.KEEP + 5):
        cib_history.record(doc.root, entry("node2", "failed", T0 + i), "c")
    records = cib_history.records(doc.root)
    assert len(records) == cib_history.KEEP
    assert records[0].entry.completed == T0 + 5


def test_cleanup_of_one_node_then_of_all() -> None:
    doc = cib()
    for target in ("node2", "node3", "node2"):
        cib_history.record(doc.root, entry(target, "success", T0), "c")
    assert cib_history.cleanup(doc.root, "node2") == 2
    assert [r.entry.target for r in cib_history.records(doc.root)] == ["node3"]
    assert cib_history.cleanup(doc.root) == 1
    assert doc.root.find("status/fencing_history") is None  # no empty section left
    assert cib_history.cleanup(doc.root) == 0


def test_failures_are_listed_until_the_node_is_fenced_or_confirmed() -> None:
    def record(target: str, state: str, at: float, action: str = "reboot") -> HistoryRecord:
        return HistoryRecord(entry(target, state, at, action), "c")

    history = [
        record("node2", "failed", T0),
        record("node2", "failed", T0 + 1),  # the latest failure of node2's reboots
        record("node3", "failed", T0),
        record("node3", "success", T0 + 2, "off"),  # node3 confirmed down since
        record("node4", "success", T0),
        record("node4", "failed", T0 + 3),  # a failure after a success still counts
    ]
    failed = cib_history.unresolved_failures(history)
    assert [(r.entry.target, r.entry.completed) for r in failed] == [
        ("node4", T0 + 3),
        ("node2", T0 + 1),
    ]


def test_a_cib_with_fencing_history_passes_crm_verify(
    tmp_path: Path, require_tool: Callable[[str], str]
) -> None:
    crm_verify = require_tool("crm_verify")
    doc = CibDocument.from_bytes(
        b'<cib validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">'
        b'<configuration><crm_config><cluster_property_set id="o">'
        b'<nvpair id="o-s" name="stonith-enabled" value="false"/></cluster_property_set>'
        b'</crm_config><nodes><node id="1" uname="node1"/></nodes><resources/>'
        b'<constraints/></configuration><status><node_state id="1" uname="node1" '
        b'in_ccm="true" crmd="online" join="member" expected="member"/></status></cib>'
    )
    cib_history.record(doc.root, entry("node2", "failed", T0), "hactl-controller")
    cib_history.record(doc.root, entry("node2", "success", T0 + 1), "hactl-controller")
    path = tmp_path / "cib.xml"
    path.write_bytes(etree.tostring(doc.root))
    done = subprocess.run([crm_verify, "-V", "-x", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "error" not in done.stderr.lower(), done.stderr


def test_a_pending_request_is_replaced_by_its_outcome_or_failed_by_a_new_dc() -> None:
    doc = cib()
    pending = FenceHistoryEntry("node2", "reboot", "node1", "", state="pending")
    ident = cib_history.record(doc.root, pending, "c")
    (shown,) = cib_history.records(doc.root)
    assert shown.line() == "reboot of node2 pending: client=c, origin=node1"
    assert cib_history.unresolved_failures([shown]) == []
    cib_history.forget(doc.root, ident)
    assert cib_history.records(doc.root) == []
    # a DC died while fencing: the next one finds the request pending and fails it
    cib_history.record(doc.root, pending, "c")
    assert cib_history.fail_pending(doc.root, "the DC running it left", T0) == 1
    (stale,) = cib_history.records(doc.root)
    assert (stale.entry.state, stale.entry.reason, stale.entry.completed) == (
        "failed",
        "the DC running it left",
        T0,
    )
    assert cib_history.fail_pending(doc.root, "again", T0) == 0


def test_status_sections_as_crm_mon_prints_them() -> None:
    history = [
        HistoryRecord(entry("node2", "failed", T0), "hactl-controller"),
        HistoryRecord(entry("node3", "success", T0 + 1), "hactl-controller"),
        HistoryRecord(FenceHistoryEntry("node4", "off", "node1", "", "pending"), "hactl.9"),
    ]
    assert fencing_lines([], full=False) == []
    assert fencing_lines([], full=True) == ["", "Fencing History:", "  * none recorded"]
    assert fencing_lines(history, full=False) == [
        "",
        "Failed Fencing Actions:",
        "  * reboot of node2 failed (ipmi-n2: off failed: 0xd5): delegate=node1, "
        f"client=hactl-controller, origin=node1, last-failed='{format_time(T0)}'",
        "",
        "Pending Fencing Actions:",
        "  * off of node4 pending: client=hactl.9, origin=node1",
    ]
    full = fencing_lines(history, full=True)
    assert full[full.index("Fencing History:") + 1 :] == [
        "  * off of node4 pending: client=hactl.9, origin=node1",
        "  * reboot of node3 successful: delegate=node1, client=hactl-controller, "
        f"origin=node1, completed='{format_time(T0 + 1)}'",
        "  * reboot of node2 failed (ipmi-n2: off failed: 0xd5): delegate=node1, "
        f"client=hactl-controller, origin=node1, last-failed='{format_time(T0)}'",
    ]


def test_carry_over_keeps_what_a_controller_recorded() -> None:
    mine, replica = cib(), cib()
    cib_history.record(mine.root, entry("node2", "success", T0), "c")
    cib_history.record(replica.root, entry("node3", "failed", T0), "c")
    assert cib_history.carry_over(mine.root, replica.root)
    assert [r.entry.target for r in cib_history.records(replica.root)] == ["node2"]
    assert not cib_history.carry_over(mine.root, replica.root)  # nothing new the second time
    assert not cib_history.carry_over(cib().root, replica.root)  # nothing to carry
