"""The fence-agent metadata model: parsing fence-agents' XML, checking device parameters
against it, deprecated names, and keeping secrets out of what is shown."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hactl.core.errors import PluginError, ValidationError
from hactl.core.fencemeta import (
    MASK,
    FenceAgentMetadata,
    FenceParameter,
    is_secret,
    mask_secrets,
    parse_bool,
    scrub,
)

SAMPLE = FenceAgentMetadata(
    name="fence_sample",
    shortdesc="A sample",
    longdesc="Longer text",
    parameters=(
        FenceParameter(name="action", required=True, default="reboot"),
        FenceParameter(name="ip", obsoletes="ipaddr", shortdesc="address"),
        FenceParameter(name="ipaddr", deprecated=True),
        FenceParameter(name="ipport", type="integer", default="623"),
        FenceParameter(name="lanplus", type="boolean"),
        FenceParameter(name="method", type="select", options=("onoff", "cycle")),
        FenceParameter(name="power_wait", type="second"),
        FenceParameter(name="password", obsoletes="passwd"),
        FenceParameter(name="passwd", deprecated=True),
        FenceParameter(name="devices", required=True, shortdesc="the disks"),
        FenceParameter(name="plug", required=True, obsoletes="port"),
    ),
    actions=("on", "off", "status"),
)


def messages(params: dict[str, str]) -> list[str]:
    return [p.message for p in SAMPLE.problems(params)]


def test_acceptable_parameters_have_no_problem() -> None:
    assert (
        messages(
            {
                "ip": "192.0.2.1",
                "ipport": "624",
                "lanplus": "true",
                "method": "cycle",
                "power_wait": "2.5",
                "devices": "/dev/sdb",
                "pcmk_host_list": "n1",
            }
        )
        == []
    )


def test_unknown_parameter_is_refused_with_a_suggestion() -> None:
    [problem] = SAMPLE.problems({"devices": "d", "ipprt": "1"})
    assert "no parameter 'ipprt'" in problem.message
    assert problem.hint == "did you mean 'ipport'?"
    assert problem.where == "fence_sample"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("ipport", "six", "must be an integer"),
        ("lanplus", "maybe", "must be a boolean"),
        ("method", "twice", "must be one of onoff, cycle"),
        ("power_wait", "-1", "must be a number of seconds"),
        ("ip", "a\nb", "line break"),
    ],
)
def test_bad_values_are_refused(name: str, value: str, expected: str) -> None:
    [message] = messages({"devices": "d", name: value})
    assert expected in message and repr(name) in message


def test_a_bad_secret_value_is_never_echoed() -> None:
    meta = SAMPLE.model_copy(
        update={"parameters": (FenceParameter(name="password", type="integer"),)}
    )
    [problem] = meta.problems({"password": "hunter2"})
    assert "hunter2" not in str(problem) and MASK in str(problem)


def test_missing_required_parameter_is_named_but_action_and_plug_are_the_fencers() -> None:
    assert messages({}) == ["fence_sample needs parameter 'devices'"]


def test_deprecated_and_current_name_must_agree() -> None:
    assert messages({"devices": "d", "ip": "a", "ipaddr": "a"}) == []
    [message] = messages({"devices": "d", "ip": "a", "ipaddr": "b"})
    assert "'ipaddr' and 'ip'" in message


def test_check_raises_with_every_problem() -> None:
    with pytest.raises(ValidationError) as caught:
        SAMPLE.check({"ipport": "x", "bogus": "1"})
    assert len(caught.value.problems) == 3  # bad integer, unknown name, missing devices


def test_canonical_maps_old_names_drops_fencer_params_and_fills_defaults() -> None:
    assert SAMPLE.canonical({"ipaddr": "a", "passwd": "p", "pcmk_delay_max": "5"}) == {
        "action": "reboot",
        "ipport": "623",
        "ip": "a",
        "password": "p",
    }


def test_host_argument_prefers_plug() -> None:
    assert SAMPLE.host_argument() == "plug"


def test_xml_round_trip() -> None:
    assert FenceAgentMetadata.from_xml(SAMPLE.to_xml(), source="x") == SAMPLE


def test_real_fence_agent_metadata_parses(require_tool) -> None:  # type: ignore[no-untyped-def]
    program = require_tool("fence_ipmilan")
    xml = subprocess.run(
        [program], input=b"action=metadata\n", capture_output=True, check=True
    ).stdout
    meta = FenceAgentMetadata.from_xml(xml, source=program)
    assert meta.name == "fence_ipmilan"
    assert meta.parameter("ipport") is not None and meta.parameter("ipport").type == "integer"  # type: ignore[union-attr]
    assert meta.current_name("ipaddr") == "ip" and meta.current_name("passwd") == "password"
    assert "reboot" in meta.actions
    assert (
        meta.problems({"ip": "192.0.2.1", "username": "u", "password": "p", "lanplus": "1"}) == []
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [("<not xml", "not XML"), ("<html/>", "not <resource-agent")],
)
def test_bad_metadata_is_a_plugin_error_naming_the_source(text: str, expected: str) -> None:
    with pytest.raises(PluginError, match=expected) as caught:
        FenceAgentMetadata.from_xml(text, source="/usr/sbin/fence_x")
    assert caught.value.where == "/usr/sbin/fence_x"


def test_secrets_are_recognised_masked_and_scrubbed() -> None:
    assert is_secret("password") and is_secret("passwd") and is_secret("hexadecimal_kg")
    assert not is_secret("username") and not is_secret("ip")
    params = {"username": "admin", "password": "s3cret!", "passwd_script": ""}
    assert mask_secrets(params) == {"username": "admin", "password": MASK, "passwd_script": ""}
    assert scrub("login admin with s3cret! failed", params) == f"login admin with {MASK} failed"


@given(st.sampled_from(["1", "yes", "on", "TRUE", "y"]), st.sampled_from(["0", "no", "off", ""]))
def test_parse_bool(true: str, false: str) -> None:
    assert parse_bool(true) is True and parse_bool(false) is False
    assert parse_bool("perhaps") is None
