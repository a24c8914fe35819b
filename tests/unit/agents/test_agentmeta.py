"""The OCF meta-data model: parsing real-shaped XML, precise errors, parameter checks."""

from __future__ import annotations

import pytest

from hactl.core.agentmeta import (
    AgentSpec,
    MetadataError,
    duration_ms,
    parse_metadata,
    render_metadata,
)
from hactl.core.errors import UsageError

GOOD = """<?xml version="1.0"?>
<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">
<resource-agent name="Web" version="2.0">
<version>1.1</version>
<longdesc lang="de">Ein Dienst</longdesc>
<longdesc lang="en">A web
   service</longdesc>
<shortdesc lang="en">Web</shortdesc>
<parameters>
<parameter name="port" required="1" unique-group="listen">
  <shortdesc lang="en">Port</shortdesc>
  <content type="integer"/>
</parameter>
<parameter name="mode" reloadable="true">
  <content type="select" default="fast"><option value="fast"/><option value="safe"/></content>
</parameter>
<parameter name="debug" unique="1"><content type="boolean" default="false"/></parameter>
<parameter name="old">
  <deprecated><replaced-with name="mode"/></deprecated>
  <content type="string"/>
</parameter>
</parameters>
<actions>
<action name="start" timeout="60s"/>
<action name="monitor" timeout="20" interval="10s" depth="10" role="Promoted"/>
<action name="monitor" timeout="20s" interval="11s" role="Unpromoted"/>
<action name="stop" timeout="PT1M30S"/>
</actions>
</resource-agent>
"""


def test_parses_parameters_actions_and_descriptions() -> None:
    meta = parse_metadata(GOOD, source="agent ocf:acme:Web")
    assert (meta.name, meta.version, meta.ocf_version) == ("Web", "2.0", "1.1")
    assert meta.longdesc == "A web service"  # English chosen, whitespace folded
    port = meta.parameter("port")
    assert port is not None and port.required and port.type == "integer"
    assert port.unique_group == "listen"
    mode = meta.parameter("mode")
    assert mode is not None and mode.reloadable and mode.options == ("fast", "safe")
    assert mode.default == "fast"
    debug = meta.parameter("debug")
    assert debug is not None and debug.unique_group == "debug"  # old unique="1"
    old = meta.parameter("old")
    assert old is not None and old.deprecated and old.replaced_with == ("mode",)
    start = meta.action("start")
    assert start is not None and start.timeout_ms == 60_000
    promoted = meta.action("monitor", role="Promoted")
    assert promoted is not None and (promoted.interval_ms, promoted.depth) == (10_000, 10)
    assert promoted.timeout_ms == 20_000  # a bare number is seconds
    unpromoted = meta.action("monitor", role="Unpromoted")
    assert unpromoted is not None and unpromoted.interval_ms == 11_000
    stop = meta.action("stop")
    assert stop is not None and stop.timeout_ms == 90_000
    assert not meta.promotable


def test_check_params_reports_every_problem() -> None:
    meta = parse_metadata(GOOD)
    problems = meta.check_params(
        {"mode": "slow", "debug": "maybe", "colour": "red", "old": "x"}, where="resource web"
    )
    text = [str(p) for p in problems]
    assert any("'slow' is not one of fast, safe" in t for t in text)
    assert any("'maybe' is not a boolean" in t for t in text)
    assert any("has no parameter 'colour'" in t and "its parameters: port" in t for t in text)
    assert any("'old'" in t and "deprecated" in t and "use mode" in t for t in text)
    assert any("requires parameter 'port'" in t for t in text)
    assert all(t.startswith("resource web: ") for t in text)
    assert meta.check_params({"port": "80"}) == []
    assert meta.check_params({"port": "eighty"})[0].message.endswith("is not an integer")


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        ("", "meta-data is empty"),
        ("usage: agent {start|stop}", "not well-formed XML"),
        ("<resource-agent name='x'><parameters>", "not well-formed XML"),
        ("<agent name='x'/>", "root element is <agent>"),
        ("<resource-agent/>", "<resource-agent> has no name"),
        (
            "<resource-agent name='x'><parameters><parameter/></parameters></resource-agent>",
            "<parameter> has no name",
        ),
        (
            "<resource-agent name='x'><actions><action name='start' timeout='soon'/>"
            "</actions></resource-agent>",
            "timeout='soon' is not a duration",
        ),
        (
            "<resource-agent name='x'><parameters><parameter name='a' required='perhaps'/>"
            "</parameters></resource-agent>",
            "required='perhaps' is not a boolean",
        ),
    ],
)
def test_bad_metadata_is_a_precise_error(xml: str, expected: str) -> None:
    with pytest.raises(MetadataError) as caught:
        parse_metadata(xml, source="agent ocf:acme:Bad")
    lines = caught.value.lines()
    assert any(expected in line for line in lines), lines
    assert all(line.startswith("agent ocf:acme:Bad") for line in lines)


def test_error_names_the_line() -> None:
    xml = "<resource-agent name='x'>\n<actions>\n<action timeout='1s'/>\n</actions>\n"
    xml += "</resource-agent>"
    with pytest.raises(MetadataError) as caught:
        parse_metadata(xml, source="agent ocf:acme:Bad")
    assert caught.value.lines()[0].startswith("agent ocf:acme:Bad line 3:")


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("20", 20_000),
        ("20s", 20_000),
        ("500ms", 500),
        ("2min", 120_000),
        ("1h", 3_600_000),
        ("PT1M30S", 90_000),
        ("P1D", 86_400_000),
        ("0", 0),
    ],
)
def test_durations(text: str, ms: int) -> None:
    assert duration_ms(text) == ms


@pytest.mark.parametrize("text", ["", "s", "10 parsecs", "PT", "-5s", "P1X", "1.5s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        duration_ms(text)


def test_rendered_metadata_parses_back() -> None:
    xml = render_metadata(
        "atd",
        shortdesc="Deferred execution",
        actions=(("start", "15s", None), ("monitor", "15s", "15s")),
        special_tag="LSB",
        special={"Provides": "atd"},
    )
    meta = parse_metadata(xml)
    assert meta.name == "atd" and meta.shortdesc == "Deferred execution"
    monitor = meta.action("monitor")
    assert monitor is not None and monitor.interval_ms == 15_000
    assert "<Provides>atd</Provides>" in xml


def test_agent_specs() -> None:
    assert str(AgentSpec.parse("ocf:heartbeat:IPaddr2")) == "ocf:heartbeat:IPaddr2"
    assert AgentSpec.parse("lsb:atd").provider is None
    assert AgentSpec.parse("systemd:getty@tty1.service").type == "getty@tty1.service"
    for bad, why in [
        ("Dummy", "not an agent name"),
        ("ocf:Dummy", "need a provider"),
        ("ocf:../..:Dummy", "characters"),
        ("lsb:", "characters"),
        ("a:b:c:d", "not an agent name"),
    ]:
        with pytest.raises(UsageError, match=why):
            AgentSpec.parse(bad)
