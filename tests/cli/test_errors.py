"""Bad input: a one-line error naming what and where, with a hint, exit 1 (2 for usage),
and the CIB file byte for byte as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

SETUP = [
    "property set stonith-enabled=false",
    "resource create vip ocf:heartbeat:IPaddr2 ip=192.0.2.10 cidr_netmask=24",
    "resource create web ocf:heartbeat:Dummy",
]


@pytest.fixture
def cib(hactl, tmp_path: Path) -> Path:
    path = tmp_path / "cib.xml"
    for command in SETUP:
        assert hactl(f"-f {path} {command}").code == 0
    return path


@pytest.mark.parametrize(
    ("command", "code", "says", "hint"),
    [
        ("resource delete vipp", 1, "resource 'vipp' does not exist", "did you mean 'vip'?"),
        (
            "resource create vip ocf:heartbeat:Dummy",
            1,
            "id 'vip' is already in use",
            "another name",
        ),
        (
            "resource create d1 ocf:heartbeat:Dummy mata fake=1",
            1,
            "'mata' is not a NAME=VALUE pair",
            "did you mean 'meta'?",
        ),
        (
            "resource create d1 ocf:heartbeat:Dummy op monitr interval=10s",
            1,
            "'monitr' is not an action",
            "did you mean 'monitor'?",
        ),
        (
            "resource create d1 ocf:heartbeat:Dummy --grup g",
            2,
            "unknown option '--grup'",
            "did you mean '--group'?",
        ),
        (
            "resource create d1 ocf:heartbeat:Dummy bogus=1",
            1,
            "has no parameter 'bogus'",
            "--force",
        ),
        ("resource create d1 ocf:heartbeat:IPaddr2", 1, "requires parameter 'ip'", "--force"),
        ("resource create d1 ocf:heartbeat:NoSuchAgent", 1, "not available here", "--force"),
        (
            "resource create d1 ocf:heartbeat:Dummy op monitor interval=10s op monitor interval=10",
            1,
            "interval 10 twice",
            "different interval",
        ),
        ("resource create", 2, "missing arguments", "usage:"),
        ("constraint location vip prefers node1=lots", 1, "'lots' is not a score", "INFINITY"),
        ("constraint location vip prefers node1=2000000", 1, "out of range", "1000000"),
        (
            "constraint location vip rule score=10 pingd eqq 5",
            1,
            "'eqq' is not a comparison",
            "did you mean 'eq'?",
        ),
        ("constraint location vip rule (pingd eq 5", 1, "missing ')'", "close every"),
        (
            "constraint order vip then nothere",
            1,
            "resource 'nothere' does not exist",
            "expected one of",
        ),
        ("constraint order vip thn web", 2, "A then B", "hactl constraint order"),
        (
            "constraint colocation add web wiht vip",
            2,
            "expected [ROLE] A with [ROLE] B",
            "did you mean 'with'?",
        ),
        ("constraint colocation add web with vip lots", 1, "'lots' is not a score", "INFINITY"),
        (
            "constraint order vip then web kind=Mandatry",
            1,
            "not a valid order kind",
            "did you mean 'Mandatory'?",
        ),
        ("constraint remove location-x", 1, "constraint 'location-x' does not exist", "hint"),
        (
            "property set stonith-enabld=false",
            1,
            "not a cluster property",
            "did you mean 'stonith-enabled'?",
        ),
        ("property set no-quorum-policy=sometimes", 1, "not one of", "default: stop"),
        ("resource meta vip target-role=Sleeping", 1, "'Sleeping' is not a role", "hint"),
        ("resource group add g vip nothere", 1, "resource 'nothere' does not exist", "hint"),
        ("tag create t1 vip nothere", 1, "resource 'nothere' does not exist", "hint"),
        (
            "stonith level add 1 node1 nofence",
            1,
            "fence device 'nofence' does not exist",
            "--force",
        ),
        ("node attribute node9 rack=1", 1, "node 'node9' is not in the CIB", "--force"),
        (
            "resource craete d1 ocf:heartbeat:Dummy",
            2,
            "no such command 'resource craete'",
            "did you mean `hactl resource create`?",
        ),
        ("constraint colocation ad web with vip", 2, "'constraint colocation ad'", "add`?"),
        (
            "resource config --output yaml",
            2,
            "hactl resource config: Invalid value for '--output'",
            "see `hactl resource config --help`",
        ),
        ("resource cleanup --node", 2, "'--node' requires an argument", "--help`"),
    ],
)
def test_bad_input_is_one_line_and_leaves_the_cib_alone(
    hactl, cib: Path, command: str, code: int, says: str, hint: str
) -> None:
    before = cib.read_bytes()
    result = hactl(f"-f {cib} {command}")
    assert result.code == code, result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert says in lines[0] and hint in lines[0], lines[0]
    assert "Traceback" not in result.err
    assert cib.read_bytes() == before


def test_without_f_and_without_a_cluster_it_says_to_use_f(hactl) -> None:
    result = hactl("resource create x ocf:heartbeat:Dummy")
    assert result.code == 1
    assert "no running hactl cluster" in result.err and "-f FILE" in result.err


def test_a_cib_file_that_is_not_xml_is_named_with_its_line(hactl, tmp_path: Path) -> None:
    path = tmp_path / "broken.xml"
    path.write_text("<cib>\n<configuration>\n")
    result = hactl(f"-f {path} resource config")
    assert result.code == 1
    assert f"{path}:" in result.err and "not well-formed" in result.err
    assert path.read_text() == "<cib>\n<configuration>\n"


def test_force_lets_unknown_parameters_through_with_a_warning(hactl, cib: Path) -> None:
    result = hactl(f"-f {cib} resource create d1 ocf:heartbeat:Dummy bogus=1 --force")
    assert result.code == 0, result.err
    assert "warning" in result.err and "bogus" in result.err


def test_f_may_come_anywhere_and_needs_a_file(hactl, tmp_path: Path) -> None:
    path = tmp_path / "new.xml"
    assert not path.exists()
    assert hactl(f"resource create d1 ocf:heartbeat:Dummy -f {path}").code == 0
    assert hactl(f"resource -f {path} create d2 ocf:heartbeat:Dummy").code == 0
    assert "d1" in path.read_text() and "d2" in path.read_text()
    result = hactl("resource config -f")
    assert result.code == 2 and "-f needs" in result.err
