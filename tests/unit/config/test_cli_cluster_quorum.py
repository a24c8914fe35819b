"""`hactl cluster keygen` and the offline `hactl quorum` commands, run as a user runs them."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from hactl.core.cli.main import run

DATA = Path(__file__).parent / "data"


def hactl(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        run(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def copy(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copy(DATA / name, target)
    return target


# ---------------------------------------------------------------------- keygen


def test_keygen_writes_256_random_bytes_mode_0400(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "authkey"
    code, out, _ = hactl(capsys, "cluster", "keygen", str(key))
    assert code == 0 and str(key) in out
    data = key.read_bytes()
    assert len(data) == 256
    assert stat.S_IMODE(key.stat().st_mode) == 0o400
    assert data.hex() not in out  # the secret is never printed
    other = tmp_path / "other"
    hactl(capsys, "cluster", "keygen", str(other))
    assert other.read_bytes() != data


def test_keygen_refuses_to_overwrite_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "authkey"
    hactl(capsys, "cluster", "keygen", str(key), "--size", "128")
    before = key.read_bytes()
    code, _, err = hactl(capsys, "cluster", "keygen", str(key))
    assert code == 1 and "already exists" in err and "--force" in err
    assert err.count("\n") == 1 and key.read_bytes() == before
    code, _, _ = hactl(capsys, "cluster", "keygen", str(key), "--force", "--size", "4096")
    assert code == 0 and len(key.read_bytes()) == 4096 and key.read_bytes()[:128] != before
    assert [p.name for p in tmp_path.iterdir()] == ["authkey"]  # no temporary file left


@pytest.mark.parametrize("size", ["127", "4097"])
def test_keygen_size_out_of_range_is_a_usage_error(
    size: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = hactl(capsys, "cluster", "keygen", str(tmp_path / "k"), "--size", size)
    assert code == 2 and "--size" in err and "128 to 4096" in err
    assert not (tmp_path / "k").exists()


def test_keygen_into_missing_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = hactl(capsys, "cluster", "keygen", str(tmp_path / "no" / "authkey"))
    assert code == 1 and "no such directory" in err and "Traceback" not in err


def test_key_is_accepted_by_the_real_corosync_keygen_format(tmp_path: Path) -> None:
    """corosync reads between 128 and 4096 bytes; the real corosync-keygen writes 0400."""
    tool = shutil.which("corosync-keygen")
    if tool is None:
        pytest.skip("corosync-keygen is not installed")
    theirs = tmp_path / "theirs"
    subprocess.run([tool, "-k", str(theirs)], check=True, capture_output=True)
    ours = tmp_path / "ours"
    subprocess.run(
        [sys.executable, "-m", "hactl.core.cli.main", "cluster", "keygen", str(ours)], check=True
    )
    assert len(ours.read_bytes()) == len(theirs.read_bytes())
    assert stat.S_IMODE(ours.stat().st_mode) == stat.S_IMODE(theirs.stat().st_mode)


# ---------------------------------------------------------------------- quorum


def test_status_prints_what_corosync_quorumtool_prints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conf = copy(tmp_path, "seed-two-node-udpu.conf")
    code, out, _ = hactl(capsys, "quorum", "status", "-c", str(conf), "--members", "1,2")
    assert code == 0
    assert (
        "Quorum provider:  corosync_votequorum\nNodes:            2\nNode ID:          1\n" in out
    )
    assert "Quorate:          Yes" in out
    assert (
        "Expected votes:   2\nHighest expected: 2\nTotal votes:      2\nQuorum:           1  \n"
        in out
    )
    assert "Flags:            2Node Quorate WaitForAll \n" in out
    assert "    Nodeid      Votes Name\n         1          1 192.168.1.1 (local)\n" in out


def test_status_not_quorate_exits_2_like_quorumtool(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conf = copy(tmp_path, "seed-two-node-udpu.conf")
    code, out, _ = hactl(capsys, "quorum", "status", "-c", str(conf), "--members", "2")
    assert code == 2
    assert (
        "Quorum:           1 Activity blocked" in out
        and "Flags:            2Node WaitForAll" in out
    )
    code, out, _ = hactl(capsys, "quorum", "status", "-c", str(conf), "-m", "1,2", "-o", "json")
    data = json.loads(out)
    assert (data["quorate"], data["quorum"], data["flags"]) == (
        True,
        1,
        ["2Node", "Quorate", "WaitForAll"],
    )
    assert [m["nodeid"] for m in data["members"]] == [1, 2]


def test_calc_follows_the_last_man_standing_chain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conf = copy(tmp_path, "seed-knet-lms.conf")
    code, out, _ = hactl(
        capsys,
        "quorum",
        "calc",
        "-c",
        str(conf),
        "1,2,3",
        "1,2",
        "1",
        "--gap-ms",
        "10000",
        "-o",
        "json",
    )
    rows = json.loads(out)
    assert [(r["quorate"], r["expected"], r["quorum"]) for r in rows] == [
        (True, 3, 2),
        (True, 3, 2),  # lost a node; the window has not expired yet when the ring forms
        (False, 2, 2),  # window expired at 2 nodes -> expected 2; 2 -> 1 needs ATB
    ]


def test_update_changes_the_file_and_keeps_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conf = copy(tmp_path, "seed-knet-lms.conf")
    before = conf.read_text()
    code, out, err = hactl(
        capsys, "quorum", "update", "-c", str(conf), "wait_for_all=1", "last_man_standing_window="
    )
    assert code == 0, err
    after = conf.read_text()
    assert "wait_for_all: 1" in after and "last_man_standing_window" not in after
    # as pcs: two_node goes on a cluster of three nodes, the rest stays as it was
    assert after.replace("wait_for_all: 1", "wait_for_all: 0") == before.replace(
        "last_man_standing_window: 10000\n", ""
    ).replace("two_node: 0\n", "")
    code, out, _ = hactl(capsys, "quorum", "config", "-c", str(conf), "-o", "json")
    data = json.loads(out)
    assert data["options"]["wait_for_all"] == "1" and data["effective"]["wait_for_all"] is True


def test_update_refuses_a_contradiction_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conf = copy(tmp_path, "pcs-qdevice.conf")
    before = conf.read_text()
    code, _, err = hactl(capsys, "quorum", "update", "-c", str(conf), "two_node=1")
    assert code == 1
    assert "two_node and quorum device cannot be configured at the same time" in err
    assert f"{conf}:" in err and "quorum.two_node" in err
    assert conf.read_text() == before
    code, _, err = hactl(
        capsys, "quorum", "update", "-c", str(conf), "colour=blue", "wait_for_all=2"
    )
    assert code == 1 and "unknown quorum option 'colour'" in err
    assert "quorum.wait_for_all: '2' is not a valid wait_for_all value (hint: use 0 or 1)" in err
    code, _, err = hactl(capsys, "quorum", "update", "-c", str(conf), "two_node=yes")
    assert code == 1 and "'yes' is not a valid two_node value" in err
    assert conf.read_text() == before


def test_expected_votes_and_unblock(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conf = copy(tmp_path, "pcs-setup-knet.conf")  # 3 nodes, wait_for_all + last_man_standing
    code, out, _ = hactl(capsys, "quorum", "status", "-c", str(conf), "-m", "1,2")
    assert code == 2  # waiting for all
    code, out, err = hactl(capsys, "quorum", "unblock", "-c", str(conf), "-m", "1,2")
    assert code == 2 and "if node(s) node3 are not powered off" in err and "--yes" in err
    code, out, _ = hactl(
        capsys, "quorum", "unblock", "-c", str(conf), "-m", "1,2", "--yes", "-o", "json"
    )
    assert code == 0 and json.loads(out)["quorate"] is True
    code, out, err = hactl(capsys, "quorum", "unblock", "-c", str(conf), "-m", "1,2,3", "--yes")
    assert code == 1 and "cluster is not waiting for nodes to establish quorum" in err
    code, out, err = hactl(capsys, "quorum", "expected-votes", "1", "-c", str(conf), "-m", "1,2")
    assert code == 1 and "below the 2 votes present" in err
    code, out, err = hactl(
        capsys, "quorum", "expected-votes", "2", "-c", str(conf), "-m", "1,2,3", "-o", "json"
    )
    assert code == 1 and "below the 3 votes present" in err
    code, out, err = hactl(capsys, "quorum", "expected-votes", "9", "-c", str(conf), "-m", "1,2,3")
    assert code == 1 and "would lose quorum" in err and "--force" in err
    code, out, err = hactl(
        capsys,
        "quorum",
        "expected-votes",
        "9",
        "-c",
        str(conf),
        "-m",
        "1,2,3",
        "--force",
        "-o",
        "json",
    )
    data = json.loads(out)
    assert (data["expected_votes"], data["quorum"], data["quorate"]) == (9, 5, False)


def test_bad_config_file_is_one_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conf = tmp_path / "broken.conf"
    conf.write_text("totem {\n    version: 2\n")
    code, _, err = hactl(capsys, "quorum", "status", "-c", str(conf), "-m", "1")
    assert (
        code == 1
        and err
        == f"hactl: error: {conf}:1: Missing closing brace for section 'totem' "
        "(hint: add the `}` that ends this section)\n"
    )
    code, _, err = hactl(capsys, "quorum", "config", "-c", str(tmp_path / "missing.conf"))
    assert code == 1 and "no such file" in err
    code, _, err = hactl(
        capsys, "quorum", "status", "-c", str(copy(tmp_path, "pcs-qdevice.conf")), "-m", "1,x"
    )
    assert code == 2 and "--members" in err


def test_live_status_without_a_daemon_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HACTL_SOCKET", str(tmp_path / "none.sock"))
    code, _, err = hactl(capsys, "quorum", "status")
    assert code == 1 and err.count("\n") == 1 and "no running hactl cluster" in err


def test_help_says_the_live_form_needs_the_daemon(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("expected-votes", "unblock"):
        _, out, _ = hactl(capsys, "quorum", command, "--help")
        assert "needs the hactl daemon" in " ".join(out.split())
        assert "(live)" in out
    assert os.environ.get("HACTL_DEBUG") != "1"
