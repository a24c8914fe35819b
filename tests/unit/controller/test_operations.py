"""A graph action becomes the executor's operation from what the graph carries alone: the
real scheduler's graph for a CIB with rule-dependent parameters, op timeouts and a clone."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from hactl.core.controller.operations import scheduled_operation
from hactl.core.controller.transition import GraphAction, TransitionGraph
from hactl.core.scheduler import schedule
from hactl.core.scheduler.output import graph_xml

CIB = b"""<cib admin_epoch="0" epoch="1" num_updates="0" have-quorum="1"><configuration><crm_config>
<cluster_property_set id="o"><nvpair id="o1" name="stonith-enabled" value="false"/>
</cluster_property_set></crm_config>
<nodes><node id="1" uname="n1"><instance_attributes id="n1-ia">
<nvpair id="n1-site" name="site" value="east"/></instance_attributes></node></nodes>
<resources><primitive id="d" class="ocf" provider="heartbeat" type="Dummy">
<instance_attributes id="d-east" score="10"><rule id="r" score="0">
<expression id="e" attribute="site" operation="eq" value="east"/></rule>
<nvpair id="d-e" name="state" value="/east"/></instance_attributes>
<instance_attributes id="d-any"><nvpair id="d-a" name="state" value="/any"/>
<nvpair id="d-x" name="fake" value="1"/></instance_attributes>
<operations><op id="m1" name="monitor" interval="10s" timeout="7s"/>
<op id="s1" name="start" interval="0" timeout="9s"/></operations></primitive>
<clone id="c"><meta_attributes id="c-m"><nvpair id="c-m1" name="clone-max" value="1"/>
</meta_attributes><primitive id="s" class="ocf" provider="hactl" type="Stateful"/></clone>
</resources><op_defaults><meta_attributes id="od"><nvpair id="od1" name="timeout" value="33s"/>
</meta_attributes></op_defaults></configuration><status>
<node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member">
<lrm id="1"><lrm_resources><lrm_resource id="d" class="ocf" provider="heartbeat" type="Dummy">
<lrm_rsc_op id="d_last_0" operation_key="d_monitor_0" operation="monitor" call-id="1"
 rc-code="7" op-status="0" interval="0" on_node="n1" transition-key="1:1:7:u"
 transition-magic="0:7;1:1:7:u" last-rc-change="1" exec-time="1" queue-time="0"
 op-digest="x"/></lrm_resource></lrm_resources></lrm></node_state>
</status></cib>"""
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def graph_actions() -> dict[str, GraphAction]:
    root = etree.fromstring(CIB)
    graph = TransitionGraph.from_xml(graph_xml(schedule(root, NOW)))
    return {s.action.operation_key: s.action for s in graph.synapses if not s.action.is_pseudo}


def test_parameters_timeout_and_target_rc_are_the_graphs() -> None:
    actions = graph_actions()
    start = scheduled_operation(actions["d_start_0"], 3, "u1")
    request = start.request
    assert (request.resource, request.agent, request.action) == (
        "d",
        "ocf:heartbeat:Dummy",
        "start",
    )
    graph_params = {
        k: v for k, v in actions["d_start_0"].attributes.items() if not k.startswith("CRM_")
    }
    assert request.params == graph_params and request.params["fake"] == "1"
    assert (request.interval_ms, request.timeout_ms) == (0, 9000)
    assert (start.expected_rc, start.transition_key) == (
        0,
        f"3:{actions['d_start_0'].action_id}:0:u1",
    )
    monitor = scheduled_operation(actions["d_monitor_10000"], 3, "u1")
    assert (monitor.request.interval_ms, monitor.request.timeout_ms) == (10000, 7000)
    assert monitor.request.params == request.params
    probe = scheduled_operation(actions["s:0_monitor_0"], 3, "u1")
    assert probe.expected_rc == 7 and probe.request.interval_ms == 0
    assert probe.request.timeout_ms == 33000  # op_defaults, as the graph says


def test_the_graph_is_not_read_again_from_the_cib() -> None:
    """What the graph says runs, even where the CIB would now say otherwise."""
    action = graph_actions()["d_start_0"]
    edited = GraphAction(
        action.action_id,
        action.kind,
        action.operation,
        action.operation_key,
        action.node,
        action.resource,
        {**action.attributes, "state": "/from-graph", "CRM_meta_timeout": "5000"},
    )
    op = scheduled_operation(edited, 1, "u")
    assert op.request.params["state"] == "/from-graph"
    assert op.request.timeout_ms == 5000
    assert not any(k.startswith("CRM_meta_") for k in op.request.params)


def test_clone_meta_and_cancel_and_an_orphan() -> None:
    actions = graph_actions()
    op = scheduled_operation(actions["s:0_monitor_0"], 1, "u")
    assert (op.request.resource, op.request.meta["clone_max"]) == ("s:0", "1")
    cancel = GraphAction(
        9,
        "rsc_op",
        "cancel",
        "d_monitor_10000",
        "n1",
        dict(actions["d_start_0"].resource),
        {"CRM_meta_interval": "10000", "CRM_meta_operation": "monitor"},
    )
    stop_it = scheduled_operation(cancel, 1, "u")
    assert (stop_it.request.action, stop_it.request.interval_ms, stop_it.request.resource) == (
        "cancel",
        10000,
        "d",
    )
    orphan = GraphAction(
        2, "rsc_op", "stop", "gone_stop_0", "n1", {"id": "gone", "class": "ocf", "type": "Dummy"}
    )
    op = scheduled_operation(orphan, 1, "u")
    assert (op.request.resource, op.request.agent, op.request.params) == ("gone", "ocf:Dummy", {})
    assert op.request.timeout_ms == 20000
