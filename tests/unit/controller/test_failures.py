"""Fail counts, last failures, cleanup and refresh on a CIB root, as Pacemaker names them."""

from __future__ import annotations

import pytest
from lxml import etree

from hactl.core.attrd.status import transient_values
from hactl.core.controller import failures
from hactl.core.controller.node_status import record_operation
from hactl.core.errors import NotFoundError
from hactl.core.executor.history import OperationRecord, ResourceAgent

CIB = b"""<cib><configuration><nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
<resources><group id="g"><primitive id="a" class="ocf" provider="hactl" type="Dummy"/>
<primitive id="b" class="ocf" provider="hactl" type="Dummy"/></group>
<clone id="c"><primitive id="s" class="ocf" provider="hactl" type="Stateful"/></clone>
</resources></configuration><status/></cib>"""


def root() -> etree._Element:
    return etree.fromstring(CIB)


def record(
    resource: str, operation: str, node: str, rc: int, interval_ms: int = 0
) -> OperationRecord:
    return OperationRecord(
        resource, operation, interval_ms, 1, rc, "done", node, 100, expected_rc=0
    )


def test_failures_count_up_and_a_fatal_one_is_infinity() -> None:
    cib = root()
    assert failures.record_failure(cib, "n1", "a", "monitor", 10000, 1000) == 1
    assert failures.record_failure(cib, "n1", "a", "monitor", 10000, 1005) == 2
    assert failures.record_failure(cib, "n2", "s:1", "start", 0, 1010, fatal=True) >= 1_000_000
    assert transient_values(cib, "n1") == {
        "fail-count-a#monitor_10000": "2",
        "last-failure-a#monitor_10000": "1005",
    }
    # a clone instance counts under the clone's primitive name
    assert transient_values(cib, "n2")["fail-count-s#start_0"] == "INFINITY"
    shown = failures.fail_counts(cib)
    assert [(f.node, f.resource, f.operation, f.count_text, f.last_failure) for f in shown] == [
        ("n1", "a", "monitor_10000", "2", 1005),
        ("n2", "s", "start_0", "INFINITY", 1010),
    ]
    assert [f.resource for f in failures.fail_counts(cib, "g")] == ["a"]
    assert failures.fail_counts(cib, operation="monitor") == shown[:1]
    assert failures.fail_counts(cib, operation="monitor_5000") == []


def test_last_failure_is_a_time_not_a_capped_score() -> None:
    cib = root()
    failures.record_failure(cib, "n1", "a", "monitor", 10000, 1_795_000_000)
    assert failures.fail_counts(cib)[0].last_failure == 1_795_000_000


def test_cleanup_forgets_only_failed_resources_and_refresh_forgets_all() -> None:
    cib = root()
    agent_a = ResourceAgent.from_spec("a", "ocf:hactl:Dummy")
    agent_b = ResourceAgent.from_spec("b", "ocf:hactl:Dummy")
    record_operation(cib, agent_a, record("a", "start", "n1", 1), failure=True)
    failures.record_failure(cib, "n1", "a", "start", 0, 100)
    record_operation(cib, agent_b, record("b", "start", "n1", 0), failure=False)
    assert failures.forget_history(cib, failed_only=True) == [("n1", "a")]
    assert failures.fail_counts(cib) == []
    assert [e.get("id") for e in cib.iter("lrm_resource")] == ["b"]
    assert failures.forget_history(cib, "g", failed_only=False) == [("n1", "b")]
    assert list(cib.iter("lrm_resource")) == []


def test_unknown_resource_or_node_is_refused() -> None:
    with pytest.raises(NotFoundError, match="resource 'x' does not exist"):
        failures.fail_counts(root(), "x")
    with pytest.raises(NotFoundError, match="node 'n9'"):
        failures.clear_fail_counts(root(), node="n9")
