"""A graph action becomes the executor's operation; what the graph lacks comes from the CIB."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from hactl.core.controller.operations import scheduled_operation
from hactl.core.controller.transition import GraphAction

CIB = b"""<cib><configuration><crm_config/>
<nodes><node id="1" uname="n1"><instance_attributes id="n1-ia">
<nvpair id="n1-site" name="site" value="east"/></instance_attributes></node></nodes>
<resources><clone id="c"><meta_attributes id="c-m"><nvpair id="c-m1" name="clone-max" value="2"/>
</meta_attributes><primitive id="s" class="ocf" provider="hactl" type="Stateful">
<instance_attributes id="s-east" score="10"><rule id="r" score="0">
<expression id="e" attribute="site" operation="eq" value="east"/></rule>
<nvpair id="s-e" name="state" value="/east"/></instance_attributes>
<instance_attributes id="s-any"><nvpair id="s-a" name="state" value="/any"/>
<nvpair id="s-x" name="extra" value="1"/></instance_attributes>
<meta_attributes id="s-m"><nvpair id="s-m1" name="target-role" value="Started"/></meta_attributes>
<operations><op id="m1" name="monitor" interval="10s" role="Promoted" timeout="7s"/>
<op id="m2" name="monitor" interval="11s" role="Unpromoted"/></operations></primitive></clone>
</resources><op_defaults><meta_attributes id="od"><nvpair id="od1" name="timeout" value="33s"/>
</meta_attributes></op_defaults></configuration><status/></cib>"""
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
PRIMITIVE = {"id": "s:0", "class": "ocf", "provider": "hactl", "type": "Stateful"}


def action(operation: str, key: str, **attributes: str) -> GraphAction:
    return GraphAction(7, "rsc_op", operation, key, "n1", PRIMITIVE, attributes)


def test_parameters_meta_timeout_and_target_rc_come_from_the_cib() -> None:
    root = etree.fromstring(CIB)
    op = scheduled_operation(
        root, action("monitor", "s:1_monitor_10000", interval="10000"), 3, "u1", NOW
    )
    request = op.request
    # the clone instance is named as the node's history knows it (the operation key)
    assert (request.resource, request.agent, request.action) == (
        "s:1",
        "ocf:hactl:Stateful",
        "monitor",
    )
    assert request.params == {"state": "/east", "extra": "1"}  # the rule holds for n1
    assert request.meta == {"clone-max": "2", "target-role": "Started", "clone": "1"}
    assert (request.interval_ms, request.timeout_ms) == (10000, 7000)
    assert (op.expected_rc, op.transition_key) == (8, "3:7:8:u1")


def test_probe_defaults_and_what_the_graph_gives_wins() -> None:
    root = etree.fromstring(CIB)
    probe = scheduled_operation(root, action("monitor", "s:0_monitor_0", probe="1"), 1, "u", NOW)
    assert (probe.expected_rc, probe.request.timeout_ms, probe.request.interval_ms) == (7, 33000, 0)
    given = action(
        "start", "s:0_start_0", state="/given", CRM_meta_timeout="5000", CRM_meta_op_target_rc="0"
    )
    start = scheduled_operation(root, given, 1, "u", NOW)
    assert start.request.params["state"] == "/given"
    assert (start.request.timeout_ms, start.expected_rc) == (5000, 0)
    cancel = scheduled_operation(
        root, action("cancel", "s:0_monitor_11000", interval="11000"), 1, "u", NOW
    )
    assert (cancel.request.action, cancel.request.interval_ms, cancel.request.resource) == (
        "cancel",
        11000,
        "s:0",
    )


def test_an_orphan_is_stopped_without_configuration() -> None:
    root = etree.fromstring(CIB)
    orphan = GraphAction(
        2, "rsc_op", "stop", "gone_stop_0", "n1", {"id": "gone", "class": "ocf", "type": "Dummy"}
    )
    op = scheduled_operation(root, orphan, 1, "u", NOW)
    assert (op.request.resource, op.request.agent, op.request.params) == ("gone", "ocf:Dummy", {})
    assert op.request.timeout_ms == 33000  # op_defaults still apply
