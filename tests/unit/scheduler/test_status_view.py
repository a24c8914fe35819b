"""crm_simulate's status text (hactl simulate): node states, resource flags, dates."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from hactl.core.cli import status_view
from hactl.core.cli.simulate import report
from hactl.core.scheduler import unpack

from .cib_text import NOW, cib, node_state


def _cib(options: str = "", node2: str = "", resources: str = "", lrm1: str = "") -> str:
    """`node2` goes in node2's state before its (empty) history."""
    return cib(
        resources,
        status=node_state("1", lrm1) + node_state("2", extra=node2),
        properties=options,
    )


def _nodes(text: str) -> list[str]:
    ws = unpack.unpack(etree.fromstring(text), NOW, constraints=False)
    return [" ".join(line.split()) for line in status_view.node_lines(ws)]


def test_node_of_poor_health_is_shown_on_its_own() -> None:
    health = (
        '<transient_attributes id="2"><instance_attributes id="a">'
        '<nvpair id="h" name="#health-disk" value="{}"/></instance_attributes>'
        "</transient_attributes>"
    )
    strategy = '<nvpair id="o2" name="node-health-strategy" value="migrate-on-red"/>'
    assert _nodes(_cib(strategy, health.format("red"))) == [
        "* Node node2: online (health is RED)",
        "* Online: [ node1 ]",
    ]
    assert _nodes(_cib(strategy, health.format("yellow")))[0] == (
        "* Node node2: online (health is YELLOW)"
    )
    # without a health strategy the attributes mean nothing
    assert _nodes(_cib("", health.format("red"))) == ["* Online: [ node1 node2 ]"]


def test_resource_on_a_maintenance_node_is_flagged_maintenance() -> None:
    maintenance = (
        '<transient_attributes id="2"><instance_attributes id="a">'
        '<nvpair id="m" name="maintenance" value="true"/></instance_attributes>'
        "</transient_attributes>"
        '<lrm id="2"><lrm_resources><lrm_resource id="a" class="ocf" provider="pacemaker" '
        'type="Dummy"><lrm_rsc_op id="a_start_0" operation="start" interval="0" call-id="1" '
        'rc-code="0" op-status="0" transition-key="1:0:0:x" transition-magic="0:0;1:0:0:x"/>'
        "</lrm_resource></lrm_resources></lrm>"
    )
    text = _cib(
        node2=maintenance,
        resources='<primitive id="a" class="ocf" provider="pacemaker" type="Dummy"/>',
    )
    ws = unpack.unpack(etree.fromstring(text), NOW, constraints=False)
    lines = [" ".join(line.split()) for line in status_view.render(ws)]
    assert "* a (ocf:pacemaker:Dummy): Started node2 (maintenance)" in lines
    assert "* Node node2: maintenance" in lines


def test_effective_time_is_announced_as_given() -> None:
    text, _ = report(etree.fromstring(_cib()), NOW, effective_date="2024-122")
    lines = text.splitlines()
    assert lines[0] == "Setting effective cluster time: 2024-122"
    assert lines[lines.index("Revised Cluster Status:") - 1] == lines[0]


def _op(rsc: str, op: str, rc: int, call: int, status: int = 0) -> str:
    return (
        f'<lrm_rsc_op id="{rsc}_{op}_0" operation="{op}" interval="0" call-id="{call}" '
        f'rc-code="{rc}" op-status="{status}" transition-key="{call}:0:0:x" '
        f'transition-magic="{status}:{rc};{call}:0:0:x"/>'
    )


def _lrm(rsc: str, *ops: str) -> str:
    return (
        f'<lrm_resource id="{rsc}" class="ocf" provider="pacemaker" type="Dummy">'
        + "".join(ops)
        + "</lrm_resource>"
    )


def test_anonymous_clone_instance_shown_alone_goes_by_configured_ids() -> None:
    clone = (
        '<clone id="c"><group id="g">'
        '<primitive id="a" class="ocf" provider="pacemaker" type="Dummy"/>'
        '<primitive id="b" class="ocf" provider="pacemaker" type="Dummy"/>'
        "</group></clone>"
    )
    # a is active on node1, b is not: the instance is partially active, so shown in full
    text = _cib(resources=clone, lrm1=_lrm("a", _op("a", "start", 0, 1)))
    ws = unpack.unpack(etree.fromstring(text), NOW, constraints=False)
    lines = [" ".join(line.split()) for line in status_view.render(ws)]
    at = lines.index("* Clone Set: c [g]:")
    assert lines[at + 1 : at + 5] == [
        "* Resource Group: g:0:",
        "* a (ocf:pacemaker:Dummy): Started node1",
        "* b (ocf:pacemaker:Dummy): Stopped",
        "* Stopped: [ node2 ]",
    ]


def test_pending_start_shown_in_the_current_status_only() -> None:
    text = _cib(
        resources='<primitive id="a" class="ocf" provider="pacemaker" type="Dummy"/>',
        lrm1=_lrm("a", _op("a", "start", 0, 1, status=-1)),
    )
    ws = unpack.unpack(etree.fromstring(text), NOW, constraints=False)
    assert "Starting node1" in status_view.render(ws)[-1]
    assert status_view.render(ws, show_pending=False)[-1].endswith("Started node1")


def test_maintenance_mode_is_announced_and_flags_every_resource() -> None:
    text = _cib(
        options='<nvpair id="o2" name="maintenance-mode" value="true"/>',
        resources='<clone id="c"><primitive id="a" class="ocf" provider="pacemaker" '
        'type="Dummy"/></clone><primitive id="b" class="ocf" provider="pacemaker" type="Dummy"/>',
    )
    ws = unpack.unpack(etree.fromstring(text), NOW, constraints=False)
    banner = [line.strip() for line in status_view.counts(ws) if line.strip()]
    assert banner[0] == "*** Resource management is DISABLED ***"
    lines = [" ".join(line.split()) for line in status_view.render(ws)]
    assert "* Clone Set: c [a] (maintenance):" in lines
    assert "* b (ocf:pacemaker:Dummy): Stopped (maintenance)" in lines


def test_disabled_follows_the_resources_own_target_role() -> None:
    # the clone is stopped by its target-role, but its primitive says Started
    clone = (
        '<clone id="c"><meta_attributes id="cm"><nvpair id="cm1" name="target-role" '
        'value="Stopped"/></meta_attributes><primitive id="a" class="ocf" provider="pacemaker" '
        'type="Dummy"><meta_attributes id="am"><nvpair id="am1" name="target-role" '
        'value="Started"/></meta_attributes></primitive></clone>'
    )
    ws = unpack.unpack(etree.fromstring(_cib(resources=clone)), NOW, constraints=False)
    assert status_view.counts(ws) == []
    assert " ".join(status_view.render(ws)[-2].split()) == "* Clone Set: c [a] (disabled):"


def test_simulated_results_are_stamped_with_the_time_of_the_run() -> None:
    from hactl.core.scheduler import execute, schedule

    cib = etree.fromstring(
        _cib(resources='<primitive id="a" class="ocf" provider="pacemaker" type="Dummy"/>')
    )
    ws = schedule(cib, NOW)
    revised = execute.apply_transition(cib, ws, execute.run_graph(ws))
    stamps = {op.get("last-rc-change") for op in revised.iter("lrm_rsc_op")}
    assert stamps == {str(int(NOW.replace(tzinfo=dt.UTC).timestamp()))}


def test_simulated_result_takes_a_call_id_above_the_resources_history() -> None:
    from hactl.core.scheduler import execute, schedule

    high = _op("a", "start", 0, 4806)
    cib = etree.fromstring(
        _cib(
            resources='<primitive id="a" class="ocf" provider="pacemaker" type="Dummy">'
            '<meta_attributes id="m"><nvpair id="m1" name="target-role" value="Stopped"/>'
            "</meta_attributes></primitive>",
            lrm1=_lrm("a", high),
        )
    )
    ws = schedule(cib, NOW)
    revised = execute.apply_transition(cib, ws, execute.run_graph(ws))
    stop = next(op for op in revised.iter("lrm_rsc_op") if op.get("operation") == "stop")
    assert stop.get("call-id") == "4807"
    after = unpack.unpack(revised, NOW, constraints=False)
    assert status_view.render(after)[-1].endswith("Stopped (disabled)")


def test_status_warns_when_fencing_is_enabled_without_a_device() -> None:
    from hactl.core.cli.status import configuration_warnings

    def warnings(text: str) -> list[str]:
        return configuration_warnings(unpack.unpack(etree.fromstring(text), NOW))

    enabled = _cib().replace('value="false"', 'value="true"')
    assert warnings(enabled) == ["No stonith devices and stonith-enabled is not false"]
    device = '<primitive id="f" class="stonith" type="fence_dummy"/>'
    assert warnings(_cib(resources=device).replace('value="false"', 'value="true"')) == []
    assert warnings(_cib()) == []
