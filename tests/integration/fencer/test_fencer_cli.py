"""`hactl stonith fence|confirm|history` and `stonith level verify`, run as the command line
runs them, with the real fence_dummy program of fence-agents: in its `type=fail` mode it
stands in for broken fencing hardware (it times out waiting for the power to go off), in its
file mode for a working power switch (the "power" is a file). Devices and levels are made
with `hactl -f cib.xml stonith create / level add`."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

from hactl.core.cli.main import run
from hactl.core.fencer.history import HISTORY_NAME


@dataclass
class Result:
    code: int
    out: str
    err: str


Hactl = Callable[..., Result]


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "state"
    directory.mkdir()
    monkeypatch.setenv("HACTL_STATE_DIR", str(directory))
    monkeypatch.setenv("HACTL_NODE_NAME", "node1")  # the node the command runs on
    monkeypatch.setenv("HACTL_CACHE_DIR", str(tmp_path / "cache"))  # agent metadata cache
    return directory


@pytest.fixture
def hactl(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Hactl:
    """``hactl("-f", cib, "stonith", "fence", "node2", stdin="yes")``"""

    def invoke(*args: str | Path, stdin: str = "") -> Result:
        monkeypatch.delenv("CIB_file", raising=False)
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        try:
            run([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err
        return Result(code, captured.out, captured.err)

    return invoke


def one_line_error(result: Result, *fragments: str) -> None:
    lines = result.err.strip().splitlines()
    assert result.code != 0
    assert len(lines) == 1 and lines[0].startswith("hactl: error: "), result.err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def ok(result: Result) -> Result:
    assert result.code == 0, result.err
    return result


@pytest.fixture
def cluster(hactl: Hactl, tmp_path: Path, require_tool: Callable[[str], str]) -> Path:
    """node1..node3; node2 has a topology: level 1 a broken device, level 2 a working one;
    node3 can only be fenced by the broken device."""
    require_tool("fence_dummy")
    cib = tmp_path / "cib.xml"
    for node in ("node1", "node2", "node3"):
        ok(hactl("-f", cib, "node", "attribute", node, "rack=1", "--force"))
    ok(
        hactl(
            "-f", cib, "stonith", "create", "broken", "fence_dummy", "type=fail",
            "power_timeout=1", "pcmk_host_list=node2,node3", "pcmk_reboot_retries=0",
            "pcmk_off_retries=0",
        )
    )  # fmt: skip
    ok(
        hactl(
            "-f", cib, "stonith", "create", "switch", "fence_dummy",
            f"status_file={tmp_path / 'power'}", "pcmk_host_list=node2",
        )
    )  # fmt: skip
    ok(hactl("-f", cib, "stonith", "level", "add", "1", "node2", "broken"))
    ok(hactl("-f", cib, "stonith", "level", "add", "2", "node2", "switch"))
    return cib


def history_json(hactl: Hactl, *args: str) -> list[dict[str, object]]:
    result: list[dict[str, object]] = json.loads(
        ok(hactl("stonith", "history", *args, "-o", "json")).out
    )
    return result


def test_fence_falls_back_to_level_2_and_records_it(
    hactl: Hactl, cluster: Path, tmp_path: Path
) -> None:
    result = ok(hactl("-f", cluster, "stonith", "fence", "node2"))
    assert result.out == "Node: node2 fenced (by switch)\n"
    assert (tmp_path / "power").read_text() == "on"  # a reboot: off, then on again
    ok(hactl("-f", cluster, "stonith", "fence", "node2", "--off"))
    assert (tmp_path / "power").read_text() == "off"
    records = history_json(hactl)  # the latest first, as stonith_admin --history
    assert [(r["target"], r["action"], r["state"], r["devices"]) for r in records] == [
        ("node2", "off", "success", ["switch"]),
        ("node2", "reboot", "success", ["switch"]),
    ]
    assert all(r["origin"] == "node1" and r["executioner"] == "node1" for r in records)


def test_a_failed_request_exits_1_with_the_reason_and_the_history_shows_both(
    hactl: Hactl, cluster: Path
) -> None:
    ok(hactl("-f", cluster, "stonith", "fence", "node2"))
    failed = hactl("-f", cluster, "stonith", "fence", "node3")
    assert failed.code == 1
    one_line_error(failed, "stonith fence node3", "unable to fence node3", "broken", "power OFF")
    lines = ok(hactl("stonith", "history")).out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("reboot of node3 failed (broken: reboot failed: ")
    assert "last-failed='" in lines[0]
    assert lines[1].startswith("reboot of node2 successful: delegate=node1, client=hactl.")
    assert ", origin=node1, completed='" in lines[1]
    assert ok(hactl("stonith", "history", "node3")).out.splitlines() == lines[:1]


def test_confirm_asks_unless_forced(hactl: Hactl) -> None:
    refused = hactl("stonith", "confirm", "node2", stdin="no\n")
    assert refused.out.startswith("WARNING: If node node2 is not powered off")
    one_line_error(refused, "node2 was not confirmed fenced", "--force")
    assert hactl("stonith", "confirm", "node2", stdin="").code == 1  # no answer is no
    assert history_json(hactl) == []
    alone = " (in this node's history: no cluster runs here)\n"  # no daemon answers here
    assert ok(hactl("stonith", "confirm", "node2", stdin="yes\n")).out.endswith(
        "Node: node2 confirmed fenced" + alone
    )
    assert ok(hactl("stonith", "confirm", "node3", "--force")).out == (
        "Node: node3 confirmed fenced" + alone
    )
    records = history_json(hactl)
    assert [(r["target"], r["action"], r["state"], r["executioner"]) for r in records] == [
        ("node3", "off", "success", "manual"),
        ("node2", "off", "success", "manual"),
    ]
    line = ok(hactl("stonith", "history", "node3")).out
    assert line.startswith("off of node3 successful: delegate=manual, ")


def test_cleanup_one_node_then_all(hactl: Hactl) -> None:
    for node in ("node2", "node3", "node2"):
        ok(hactl("stonith", "confirm", node, "--force"))
    assert ok(hactl("stonith", "history", "node2", "--cleanup")).out == (
        "cleaning up fencing-history of node2: 2 entries removed\n"
    )
    assert [r["target"] for r in history_json(hactl)] == ["node3"]
    assert json.loads(ok(hactl("stonith", "history", "--cleanup", "-o", "json")).out) == {
        "removed": 1
    }
    assert ok(hactl("stonith", "history")).out == "No fencing history\n"


def test_pcs_history_verbs(hactl: Hactl) -> None:
    for node in ("node2", "node3"):
        ok(hactl("stonith", "confirm", node, "--force"))
    shown = ok(hactl("stonith", "history", "show", "node3")).out.splitlines()
    assert len(shown) == 1 and shown[0].startswith("off of node3 successful")
    assert ok(hactl("stonith", "history", "cleanup", "node3")).out.endswith(": 1 entry removed\n")
    assert [r["target"] for r in history_json(hactl, "show")] == ["node2"]
    result = hactl("stonith", "history", "node2", "node3")
    assert result.code == 2
    one_line_error(result, "one node at most")


def test_unknown_node(hactl: Hactl, cluster: Path) -> None:
    one_line_error(
        hactl("-f", cluster, "stonith", "fence", "node22"), "node 'node22'", "did you mean 'node2'"
    )
    assert history_json(hactl) == []


def test_no_fence_devices(hactl: Hactl, tmp_path: Path) -> None:
    cib = tmp_path / "empty.xml"
    ok(hactl("-f", cib, "node", "attribute", "node2", "rack=1", "--force"))
    one_line_error(
        hactl("-f", cib, "stonith", "fence", "node2"),
        "no fence devices are configured",
        "hactl stonith create",
    )


def test_no_device_can_fence_the_node(hactl: Hactl, cluster: Path) -> None:
    result = hactl("-f", cluster, "stonith", "fence", "node1")
    one_line_error(result, "unable to fence node1", "no fence device can fence node1")
    assert [r["state"] for r in history_json(hactl)] == ["failed"]


def test_a_device_the_status_shows_failed_is_not_used(
    hactl: Hactl, cluster: Path, tmp_path: Path
) -> None:
    """node2's level 2 device ("switch") failed its monitor on node1 as the status section
    records it: level 1 fails as ever, level 2 is not tried, the power stays as it was."""
    doc = etree.parse(str(cluster))
    status = doc.getroot().find("status")
    if status is None:
        status = etree.SubElement(doc.getroot(), "status")
    status.append(
        etree.fromstring(
            '<node_state id="1" uname="node1"><lrm id="1"><lrm_resources>'
            '<lrm_resource id="switch" class="stonith" type="fence_dummy">'
            '<lrm_rsc_op id="switch_monitor_60000" operation="monitor" call-id="4" '
            'rc-code="1" op-status="0" interval="60000"/></lrm_resource>'
            "</lrm_resources></lrm></node_state>"
        )
    )
    doc.write(str(cluster))
    result = hactl("-f", cluster, "stonith", "fence", "node2")
    one_line_error(result, "unable to fence node2", "switch failed its monitor")
    assert not (tmp_path / "power").exists()


def test_a_missing_history_directory_stops_fencing_before_it_starts(
    hactl: Hactl, cluster: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "no-such-state"
    monkeypatch.setenv("HACTL_STATE_DIR", str(missing))
    for args in (
        ("-f", cluster, "stonith", "fence", "node2", "--off"),
        ("stonith", "confirm", "node2", "--force"),
        ("stonith", "history"),
        ("stonith", "history", "--cleanup"),
    ):
        one_line_error(hactl(*args), str(missing), "the state directory does not exist")
    assert not (tmp_path / "power").exists()  # nothing was fenced
    assert not missing.exists()


def test_a_damaged_history_is_named_and_cleanup_recovers(hactl: Hactl, state_dir: Path) -> None:
    ok(hactl("stonith", "confirm", "node2", "--force"))
    path = state_dir / HISTORY_NAME
    path.write_text("garbage\n" + path.read_text() + '{"target": "node')  # and a cut last line
    one_line_error(hactl("stonith", "history"), f"{path}:1", "--cleanup")
    ok(hactl("stonith", "history", "--cleanup"))
    assert history_json(hactl) == []


def test_level_verify(hactl: Hactl, cluster: Path) -> None:
    assert ok(hactl("-f", cluster, "stonith", "level", "verify")).out == (
        "fencing topology is valid\n"
    )
    ok(hactl("-f", cluster, "stonith", "level", "add", "3", "node2", "gone", "--force"))
    ok(hactl("-f", cluster, "stonith", "level", "add", "1", "node9", "switch", "--force"))
    result = hactl("-f", cluster, "stonith", "level", "verify")
    assert result.code == 1
    lines = result.err.strip().splitlines()
    assert len(lines) == 2, result.err
    assert lines[0].startswith("hactl: error: fencing level fl-node2-3: fence device 'gone'")
    assert lines[1].startswith("hactl: error: fencing level fl-node9-1: node 'node9' does not")
    assert "(hint: did you mean 'node3'?)" in lines[1]


def test_config_masks_fence_passwords(hactl: Hactl, tmp_path: Path) -> None:
    cib = tmp_path / "ipmi.xml"
    ok(
        hactl(
            "-f", cib, "stonith", "create", "ipmi-n2", "fence_ipmilan", "ip=192.0.2.12",
            "username=admin", "password=s3cret-pw", "pcmk_host_list=node2",
        )
    )  # fmt: skip
    text = ok(hactl("-f", cib, "stonith", "config")).out
    as_json = ok(hactl("-f", cib, "stonith", "config", "-o", "json")).out
    for shown in (text, as_json):
        assert "s3cret-pw" not in shown
        assert "********" in shown and "admin" in shown
    assert "password=********" in text
    revealed = ok(hactl("-f", cib, "stonith", "config", "ipmi-n2", "--show-secrets")).out
    assert "password=s3cret-pw" in revealed
    assert b"s3cret-pw" in cib.read_bytes()  # masking is for display only
