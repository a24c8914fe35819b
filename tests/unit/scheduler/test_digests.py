"""Operation digests: the recorded digests compared with the resource's definition now
decide a restart, a reload, a re-created monitor or nothing (Pacemaker's
pcmk__check_action_config)."""

from __future__ import annotations

from lxml import etree

from hactl.core.cib.digest import op_digest, params_digest
from hactl.core.scheduler import schedule
from hactl.core.scheduler.model import WorkingSet
from hactl.core.scheduler.output import transition_summary

from .cib_text import NOW


def test_digests_are_pacemakers() -> None:
    # recorded by Pacemaker in its regression cases for these parameters
    assert op_digest({"ip": "127.0.0.21"}) == "3a22d030a9e3ca76e31ac20cba1fc707"
    assert (
        op_digest({"ip": "127.0.0.21"}, interval_ms=5000, timeout_ms=20000)
        == "7b951d973d9519a529dd16b12226905d"
    )
    # a restart digest with no non-reloadable parameter set is that of no parameters
    assert params_digest({"allow-migrate": "1"}, keep={"state"}) == (
        "f2317cad3d54cec5d7d7aa7d0bf35cf8"
    )
    # a secure digest drops the secrets (and, filtered twice, a recurring op's timeout)
    secure = params_digest(
        {"ipaddr": "192.168.48.21", "login": "admin", "passwd": "x", "CRM_meta_interval": "1"},
        drop={"passwd"},
    )
    assert secure == "d14015b540c7f9c28236b218d7e48232"


def _cib(
    params: str,
    start: str,
    *,
    monitor: str = "",
    ops: str = '<op id="D-m" name="monitor" interval="10s"/>',
    after: str = "",
    attrs: str = "",
) -> etree._Element:
    return etree.fromstring(f"""
<cib validate-with="pacemaker-3.0" have-quorum="true" dc-uuid="1" crm_feature_set="3.19.0">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/></nodes>
    <resources>
      <primitive id="D" class="ocf" provider="heartbeat" type="Dummy">
        <instance_attributes id="D-i">{params}</instance_attributes>
        <operations>{ops}</operations>
      </primitive>
    </resources>
  </configuration>
  <status>
    <node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member" expected="member">
      <transient_attributes id="1"><instance_attributes id="s">{attrs}</instance_attributes>
      </transient_attributes>
      <lrm id="1"><lrm_resources>
        <lrm_resource id="D" class="ocf" provider="heartbeat" type="Dummy">
          <lrm_rsc_op id="D_last_0" operation="start" call-id="1" rc-code="0" op-status="0"
            interval="0" transition-key="1:1:0:x" on_node="node1" {start}/>
          {monitor}
          {after}
        </lrm_resource>
      </lrm_resources></lrm>
    </node_state>
  </status>
</cib>
""")


def _pair(name: str, value: str) -> str:
    return f'<nvpair id="D-{name}" name="{name}" value="{value}"/>'


def _monitor(digest: str) -> str:
    return (
        '<lrm_rsc_op id="D_monitor_10000" operation="monitor" call-id="2" rc-code="0" '
        f'op-status="0" interval="10000" transition-key="2:1:0:x" op-digest="{digest}"/>'
    )


MONITOR_OK = _monitor(op_digest({"state": "/a"}, interval_ms=10000, timeout_ms=20000))


def _graph(ws: WorkingSet) -> list[str]:
    return sorted(a.name() for a in ws.actions if a.in_graph)


def test_unchanged_definition_does_nothing() -> None:
    start = f'op-digest="{op_digest({"state": "/a"})}"'
    ws = schedule(_cib(_pair("state", "/a"), start, monitor=MONITOR_OK), NOW)
    assert _graph(ws) == []


def test_changed_parameter_restarts_an_agent_without_reload() -> None:
    start = f'op-digest="{op_digest({"state": "/a"})}"'
    ws = schedule(_cib(_pair("state", "/b"), start, monitor=MONITOR_OK), NOW)
    assert transition_summary(ws) == [
        "  * Restart    D            ( node1 )  due to resource definition change"
    ]
    assert _graph(ws) == ["D_monitor_10000 node1", "D_start_0 node1", "D_stop_0 node1"]


def test_reloadable_parameter_change_reloads() -> None:
    # the agent can reload: only 'state' needs a restart, and it did not change
    old = {"state": "/a", "level": "1"}
    start = (
        f'op-digest="{op_digest(old)}" op-force-restart=" state " '
        f'op-restart-digest="{params_digest(old, keep={"state"})}"'
    )
    params = _pair("state", "/a") + _pair("level", "2")
    ws = schedule(_cib(params, start, monitor=MONITOR_OK), NOW)
    assert transition_summary(ws) == ["  * Reload     D            ( node1 )"]
    # the monitor is re-created with the new parameters, after the reload
    assert _graph(ws) == ["D_monitor_10000 node1", "D_reload-agent_0 node1"]
    monitor = next(a for a in ws.actions if a.task == "monitor" and a.in_graph)
    assert "reload-agent" in [f.task for f, _ in monitor.before]


def test_non_reloadable_parameter_change_restarts_a_reloadable_agent() -> None:
    old = {"state": "/a", "level": "1"}
    start = (
        f'op-digest="{op_digest(old)}" op-force-restart=" state " '
        f'op-restart-digest="{params_digest(old, keep={"state"})}"'
    )
    ws = schedule(_cib(_pair("state", "/b") + _pair("level", "1"), start), NOW)
    assert transition_summary(ws) == [
        "  * Restart    D            ( node1 )  due to resource definition change"
    ]


def test_monitor_timeout_change_recreates_only_the_monitor() -> None:
    start = f'op-digest="{op_digest({"state": "/a"})}"'
    ops = '<op id="D-m" name="monitor" interval="10s" timeout="30s"/>'
    ws = schedule(_cib(_pair("state", "/a"), start, monitor=MONITOR_OK, ops=ops), NOW)
    assert transition_summary(ws) == []
    assert _graph(ws) == ["D_monitor_10000 node1"]


def test_change_where_the_resource_stopped_does_nothing() -> None:
    # the history since the last stop is what counts: a stopped resource is started anew
    start = f'op-digest="{op_digest({"state": "/a"})}"'
    stop = (
        '<lrm_rsc_op id="D_stop_0" operation="stop" call-id="3" rc-code="0" op-status="0" '
        'interval="0" transition-key="3:1:0:x" op-digest="x"/>'
    )
    cib = _cib(_pair("state", "/b"), start, after=stop)
    cib.find(".//primitive").append(
        etree.fromstring(
            '<meta_attributes id="D-m"><nvpair id="D-t" name="target-role" value="Stopped"/>'
            "</meta_attributes>"
        )
    )
    ws = schedule(cib, NOW)
    assert _graph(ws) == []


def test_only_secret_change_counts_only_live() -> None:
    old = {"state": "/a", "password": "old"}
    start = (
        f'op-digest="{op_digest(old)}" op-secure-params=" password " '
        f'op-secure-digest="{params_digest(old, drop={"password"})}"'
    )
    cib = _cib(_pair("state", "/a") + _pair("password", "****"), start)
    # a CIB file may have had its secrets masked: nothing changed but the mask
    assert transition_summary(schedule(cib, NOW, sanitized=True)) == []
    assert transition_summary(schedule(cib, NOW)) == [
        "  * Restart    D            ( node1 )  due to resource definition change"
    ]


def test_definition_change_clears_the_fail_count() -> None:
    start = f'op-digest="{op_digest({"state": "/a"})}"'
    attrs = '<nvpair id="f" name="fail-count-D#monitor_10000" value="1"/>'
    ws = schedule(_cib(_pair("state", "/b"), start, attrs=attrs), NOW)
    assert "D_clear_failcount_0 node1" in _graph(ws)


def test_change_during_a_pending_start_restarts_without_reload() -> None:
    # a reload cannot follow a start still in progress: the resource stops and starts again
    old = {"state": "/a", "level": "1"}
    start = (
        f'op-digest="{op_digest(old)}" op-force-restart=" state " '
        f'op-restart-digest="{params_digest(old, keep={"state"})}"'
    )
    cib = _cib(_pair("state", "/a") + _pair("level", "2"), start)
    pending = cib.find(".//lrm_rsc_op")
    pending.set("op-status", "-1")
    pending.set("call-id", "-1")
    assert transition_summary(schedule(cib, NOW)) == ["  * Restart    D            ( node1 )"]


def test_promoted_instance_restarting_for_a_change_is_demoted_first() -> None:
    cib = etree.fromstring(f"""
<cib validate-with="pacemaker-3.0" have-quorum="true" dc-uuid="1" crm_feature_set="3.19.0">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/></nodes>
    <resources><clone id="C">
      <meta_attributes id="C-m"><nvpair id="C-p" name="promotable" value="true"/>
        <nvpair id="C-n" name="clone-max" value="1"/></meta_attributes>
      <primitive id="S" class="ocf" provider="pacemaker" type="Stateful">
        <instance_attributes id="S-i">{_pair("state", "/b")}</instance_attributes>
      </primitive></clone></resources>
    <constraints/>
  </configuration>
  <status>
    <node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member" expected="member">
      <transient_attributes id="1"><instance_attributes id="s">
        <nvpair id="pm" name="master-S" value="10"/></instance_attributes></transient_attributes>
      <lrm id="1"><lrm_resources>
        <lrm_resource id="S" class="ocf" provider="pacemaker" type="Stateful">
          <lrm_rsc_op id="S_start_0" operation="start" call-id="1" rc-code="0" op-status="0"
            interval="0" transition-key="1:1:0:x" op-digest="{op_digest({"state": "/a"})}"/>
          <lrm_rsc_op id="S_promote_0" operation="promote" call-id="2" rc-code="0"
            op-status="0" interval="0" transition-key="2:1:0:x"
            op-digest="{op_digest({"state": "/a"})}"/>
        </lrm_resource>
      </lrm_resources></lrm>
    </node_state>
  </status>
</cib>""")
    ws = schedule(cib, NOW)
    assert transition_summary(ws) == [
        "  * Restart    S:0          ( Promoted node1 )  due to resource definition change"
    ]
    assert {"S_demote_0 node1", "S_stop_0 node1", "S_start_0 node1", "S_promote_0 node1"} <= set(
        _graph(ws)
    )


def test_a_failed_start_with_since_changed_parameters_has_its_fail_count_cleared() -> None:
    # the start failed (it runs nowhere); the definition changed since: try it afresh
    cib = _cib(_pair("state", "/b"), f'op-digest="{op_digest({"state": "/a"})}"')
    start = cib.find(".//lrm_rsc_op")
    start.set("id", "D_last_failure_0")
    start.set("rc-code", "1")
    attrs = cib.find(".//transient_attributes/instance_attributes")
    attrs.append(etree.fromstring('<nvpair id="f" name="fail-count-D#start_0" value="INFINITY"/>'))
    ws = schedule(cib, NOW)
    assert "D_clear_failcount_0 node1" in _graph(ws)
    # unchanged, the failure stands
    cib.find(".//primitive//nvpair").set("value", "/a")
    assert "D_clear_failcount_0 node1" not in _graph(schedule(cib, NOW))


def test_a_monitor_recorded_before_the_last_start_is_started_again() -> None:
    # the monitor ran, then the resource started again: that monitor is gone with it
    digest = op_digest({"state": "/a"})
    restart = (
        '<lrm_rsc_op id="D_start_again" operation="start" call-id="3" rc-code="0" '
        f'op-status="0" interval="0" transition-key="3:1:0:x" op-digest="{digest}"/>'
    )
    cib = _cib(_pair("state", "/a"), f'op-digest="{digest}"', monitor=MONITOR_OK, after=restart)
    assert _graph(schedule(cib, NOW)) == ["D_monitor_10000 node1"]
    # recorded after the last start, it runs: nothing to do
    cib = _cib(_pair("state", "/a"), f'op-digest="{digest}"', monitor=MONITOR_OK)
    assert _graph(schedule(cib, NOW)) == []
