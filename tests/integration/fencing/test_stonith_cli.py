"""`hactl stonith list|describe|test|sbd device ...`, run as the command line runs them
(``hactl.core.cli.main.run``): output, exit codes, one-line errors, masked secrets."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hactl.core.cli.main import run


def hactl(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        run(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(err: str, *fragments: str) -> None:
    lines = err.strip().splitlines()
    assert lines and all(line.startswith("hactl: error: ") for line in lines), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


# ---------------------------------------------------------------------------- agents


def test_list_names_bundled_and_installed_agents(capsys, require_tool) -> None:  # type: ignore[no-untyped-def]
    require_tool("fence_dummy")
    code, out, _ = hactl(capsys, "stonith", "list", "--nodesc")
    names = out.split()
    assert code == 0 and {"fence_ipmilan", "fence_sbd", "fence_virsh", "fence_dummy"} <= set(names)


def test_list_with_descriptions_and_a_filter(capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = hactl(capsys, "stonith", "list", "ipmilan")
    assert code == 0
    assert "fence_ipmilan - Fence agent for IPMI" in out.splitlines()
    code, out, _ = hactl(capsys, "stonith", "list", "sbd", "-o", "json")
    assert {
        "name": "fence_sbd",
        "shortdesc": "Fence agent for SBD (poison pill on shared storage)",
    } in json.loads(out)


def test_describe(capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = hactl(capsys, "stonith", "describe", "fence_sbd")
    assert code == 0
    assert out.startswith("fence_sbd - ")
    assert "  devices (required): SBD device paths" in out
    assert "  port " not in out  # deprecated names only with --full
    assert "  port (deprecated)" in hactl(capsys, "stonith", "describe", "fence_sbd", "--full")[1]
    code, out, _ = hactl(capsys, "stonith", "describe", "fence_ipmilan", "-o", "json")
    meta = json.loads(out)
    assert meta["name"] == "fence_ipmilan"
    assert {"name": "method", "options": ["onoff", "cycle"]}.items() <= next(
        p for p in meta["parameters"] if p["name"] == "method"
    ).items()


def test_describe_an_unknown_agent_is_one_line(capsys) -> None:  # type: ignore[no-untyped-def]
    code, _, err = hactl(capsys, "stonith", "describe", "fence_nosuchthing")
    assert code == 1
    assert_one_line_error(err, "fence_nosuchthing")


# ---------------------------------------------------------------------------- test


def test_status_exit_codes_follow_fence_agents(capsys, recorder_on_path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    state = tmp_path / "state"
    args = ["stonith", "test", recorder_on_path, f"state_file={state}"]
    assert hactl(capsys, *args, "--action", "on")[0] == 0
    code, out, _ = hactl(capsys, *args)
    assert code == 0 and "fence_recorder status: ON (" in out
    code, out, _ = hactl(capsys, *args, "--action", "off")
    assert code == 0 and "fence_recorder off: succeeded, now off (" in out
    assert hactl(capsys, *args)[0] == 2
    code, out, _ = hactl(capsys, *args, "--action", "list")
    assert code == 0 and out.splitlines()[:2] == ["node1", "node2"]


def test_a_failing_device_is_one_line_and_exit_1(capsys, recorder_on_path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, _, err = hactl(
        capsys, "stonith", "test", recorder_on_path, f"state_file={tmp_path / 'missing'}"
    )
    assert code == 1
    assert_one_line_error(err, "fence_recorder status failed")


def test_json_masks_the_password_unless_asked(capsys, recorder_on_path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    args = [
        "stonith",
        "test",
        recorder_on_path,
        "--action",
        "on",
        f"state_file={tmp_path / 's'}",
        "password=sw0rdfish",
        "leak=1",
        "-o",
        "json",
    ]
    code, out, err = hactl(capsys, *args)
    assert code == 0 and "sw0rdfish" not in out + err
    assert json.loads(out)["params"]["password"] == "********"
    code, out, _ = hactl(capsys, *args, "--show-secrets")
    assert json.loads(out)["params"]["password"] == "sw0rdfish"
    assert "sw0rdfish" not in json.loads(out)["output"]  # the agent's own output stays scrubbed


def test_password_from_stdin_reaches_the_agent(
    capsys,
    recorder_on_path,
    tmp_path: Path,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    record = tmp_path / "request.json"
    monkeypatch.setattr(sys, "stdin", io.StringIO("from-stdin\n"))
    code, out, _ = hactl(
        capsys,
        "stonith",
        "test",
        recorder_on_path,
        "--password-stdin",
        f"state_file={tmp_path / 's'}",
        f"record={record}",
        "--action",
        "on",
    )
    assert code == 0
    assert json.loads(record.read_text())["stdin"]["password"] == "from-stdin"


def test_password_never_in_the_agents_process_list(recorder_on_path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """While the agent runs, no process on the machine shows the password in its argv."""
    params = [f"state_file={tmp_path / 's'}", "hang=3", "--action", "on", "--password-stdin"]
    child = subprocess.Popen(
        [sys.executable, "-m", "hactl.core.cli.main", "stonith", "test", recorder_on_path, *params],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None
    child.stdin.write("pw-in-memory-only\n")
    child.stdin.close()
    seen_agent = False
    deadline = time.monotonic() + 60
    while child.poll() is None and time.monotonic() < deadline:
        listing = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
        assert "pw-in-memory-only" not in listing
        seen_agent = seen_agent or "fence_recorder" in listing
        time.sleep(0.1)
    child.wait(timeout=30)
    assert child.stderr is not None
    assert child.returncode == 0, child.stderr.read()
    assert seen_agent, "the agent was never seen running"


@pytest.mark.parametrize(
    ("args", "code", "fragments"),
    [
        (["stonith", "test", "fence_dummy", "status_file"], 2, ["not name=value"]),
        (["stonith", "test", "fence_dummy", "a=1", "a=2"], 2, ["given twice"]),
        (["stonith", "test", "fence_dummy", "bogus=1"], 1, ["no parameter 'bogus'"]),
        (["stonith", "test", "fence_sbd", "--action", "fly", "devices=/x"], 2, ["no action 'fly'"]),
        (
            ["stonith", "test", "fence_ipmilan", "ip=h", "ipport=x", "password=topsecret"],
            1,
            ["must be an integer"],
        ),
    ],
)
def test_bad_input_is_refused_on_one_line(
    capsys,
    args: list[str],
    code: int,  # type: ignore[no-untyped-def]
    fragments: list[str],
    require_tool,
) -> None:
    require_tool("fence_dummy")
    got, _, err = hactl(capsys, *args)
    assert got == code
    assert_one_line_error(err, *fragments)
    assert "topsecret" not in err


# ---------------------------------------------------------------------------- sbd


def blank_image(tmp_path: Path, name: str = "sbd.img") -> str:
    path = tmp_path / name
    with open(path, "wb") as handle:
        handle.truncate(1 << 20)
    return str(path)


def test_sbd_device_cycle_on_an_image(capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    device = blank_image(tmp_path)
    code, out, err = hactl(
        capsys,
        "stonith",
        "sbd",
        "device",
        "setup",
        f"device={device}",
        "watchdog-timeout=3",
        "allocate-timeout=1",
        "msgwait-timeout=1",
    )
    assert code == 0, err
    assert "512-byte sectors, msgwait 1 s" in out
    code, _, err = hactl(capsys, "stonith", "sbd", "device", "setup", f"device={device}")
    assert code == 2
    assert_one_line_error(err, "already holds an SBD header", "--force")

    assert hactl(capsys, "stonith", "sbd", "device", "allocate", device, "node1")[0] == 0
    code, out, _ = hactl(
        capsys,
        "stonith",
        "sbd",
        "device",
        "message",
        device,
        "node1",
        "test",
        "--sender",
        "admin",
        "--no-wait",
    )
    assert code == 0 and out.strip() == f"test sent to node1 on {device}"
    assert hactl(capsys, "stonith", "sbd", "device", "list", device)[1] == "0\tnode1\ttest\tadmin\n"

    code, out, _ = hactl(capsys, "stonith", "sbd", "device", "dump", device)
    assert out.splitlines()[0] == f"==Dumping header on disk {device}"
    assert "Timeout (watchdog) : 3" in out and "Timeout (msgwait)  : 1" in out

    code, out, _ = hactl(capsys, "stonith", "sbd", "device", "status", device, "-o", "json")
    [entry] = json.loads(out)
    assert code == 0 and entry["status"] == "healthy"
    assert entry["slots"] == [{"index": 0, "node": "node1", "message": "test", "sender": "admin"}]


def test_sbd_status_reports_an_unhealthy_device(capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    blank = blank_image(tmp_path)
    code, out, _ = hactl(capsys, "stonith", "sbd", "device", "status", blank)
    assert code == 1 and f"{blank}: unhealthy (no SBD header" in out


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["setup"], ["0 devices given"]),
        (["setup", "device=/a", "watchdog-timeout=0"], [">= 1"]),
        (["setup", "device=/a", "colour=red"], ["unknown setup option 'colour=red'"]),
        (["setup", "device=/a", "device=/b", "device=/c", "device=/d"], ["4 devices given"]),
        (["message", "/nonexistent", "node1", "reset"], ["no such device"]),
        (["dump", "/nonexistent"], ["/nonexistent: no such device"]),
    ],
)
def test_sbd_bad_input_is_one_line(capsys, args: list[str], fragments: list[str]) -> None:  # type: ignore[no-untyped-def]
    code, _, err = hactl(capsys, "stonith", "sbd", "device", *args)
    assert code in (1, 2)
    assert_one_line_error(err, *fragments)


def test_sbd_message_to_an_unknown_node(capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    device = blank_image(tmp_path)
    hactl(capsys, "stonith", "sbd", "device", "setup", f"device={device}")
    code, _, err = hactl(capsys, "stonith", "sbd", "device", "message", device, "ghost", "off")
    assert code == 1
    assert_one_line_error(err, "no slot for ghost")
