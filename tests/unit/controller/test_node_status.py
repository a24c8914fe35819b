"""What the DC writes into the status section: history records, membership, fencing."""

from __future__ import annotations

from lxml import etree

from hactl.core.controller import node_status
from hactl.core.executor.history import OperationRecord, ResourceAgent

CIB = b"""<cib><configuration><nodes><node id="1" uname="n1"/></nodes></configuration>
<status/></cib>"""
AGENT = ResourceAgent.from_spec("a", "ocf:hactl:Dummy")


def op(
    operation: str, rc: int, call_id: int, interval_ms: int = 0, when: int = 100
) -> OperationRecord:
    return OperationRecord("a", operation, interval_ms, call_id, rc, "done", "n1", when)


def ids(cib: etree._Element) -> list[str]:
    return [str(e.get("id")) for e in cib.iter("lrm_rsc_op")]


def test_history_keeps_last_last_failure_and_recurring_and_a_stop_drops_recurring() -> None:
    cib = etree.fromstring(CIB)
    node_status.record_operation(cib, AGENT, op("start", 0, 1), failure=False)
    node_status.record_operation(cib, AGENT, op("monitor", 0, 2, 10000), failure=False)
    assert ids(cib) == ["a_last_0", "a_monitor_10000"]
    node_status.record_operation(cib, AGENT, op("monitor", 7, 3, 10000, when=200), failure=True)
    failure = cib.find(".//lrm_rsc_op[@id='a_last_failure_0']")
    assert failure is not None
    assert (failure.get("call-id"), failure.get("last-rc-change")) == ("3", "200")
    node_status.record_operation(cib, AGENT, op("stop", 0, 4), failure=False)
    assert ids(cib) == ["a_last_failure_0", "a_last_0"]
    resource = cib.find(".//lrm_resource")
    assert resource is not None and dict(resource.attrib) == {
        "id": "a",
        "class": "ocf",
        "provider": "hactl",
        "type": "Dummy",
    }
    node_status.remove_recurring(cib, "n1", "a", "monitor", 10000)  # already gone: no error


def test_membership_and_fencing() -> None:
    cib = etree.fromstring(CIB)
    assert node_status.set_online(cib, "n1", True)
    assert not node_status.set_online(cib, "n1", True)
    node_status.record_operation(cib, AGENT, op("start", 0, 1), failure=False)
    assert node_status.set_online(cib, "n1", False)
    state = cib.find("status/node_state")
    assert state is not None
    # left while expected up: the scheduler sees it unclean
    assert (state.get("in_ccm"), state.get("crmd"), state.get("expected")) == (
        "false",
        "offline",
        "member",
    )
    node_status.record_fenced(cib, "n1")
    assert (state.get("join"), state.get("expected")) == ("down", "down")
    assert state.find("lrm") is None


def test_a_nodes_own_history_replaces_the_recorded_one_in_place() -> None:
    """The patch from the old status to the new one, applied to another copy, gives the
    same status: one lrm, one record per id (no section moved or duplicated)."""
    import dataclasses

    from hactl.core.cib.document import CibDocument
    from hactl.core.cib.patch import apply_patch, diff
    from hactl.core.executor.history import NodeHistory

    before = CibDocument.from_bytes(
        b'<cib admin_epoch="0" epoch="1" num_updates="0"><configuration><crm_config/>'
        b'<nodes><node id="1" uname="n1"/></nodes><resources/><constraints/></configuration>'
        b"<status/></cib>"
    )
    node_status.record_operation(before.root, AGENT, op("start", 0, 1), failure=False)
    node_status.record_operation(before.root, AGENT, op("monitor", 0, 2, 10000), failure=False)
    after = before.copy()
    fresh = NodeHistory("n1", "1")
    probe = dataclasses.replace(op("monitor", 7, 1), expected_rc=7)  # a restarted node's
    fresh.for_resource(AGENT).record(probe)
    node_status.replace_lrm(after.root, "n1", fresh.to_xml())
    assert ids(after.root) == ["a_last_0"] and len(after.root.findall("status/node_state/lrm")) == 1
    replica = before.copy()
    apply_patch(replica, diff(before, after), check_versions=False)
    assert etree.tostring(replica.root.find("status")) == etree.tostring(after.root.find("status"))
    node_status.replace_lrm(after.root, "n1", NodeHistory("n1", "1").to_xml())
    assert ids(after.root) == []
