"""The real pcs as the oracle of the file layout: configurations written by
`pcs cluster setup --corosync_conf FILE` (local, no pcsd needed) load unchanged and write
back byte for byte, and `hactl quorum update` leaves exactly the file that
`pcs --corosync_conf FILE quorum update` leaves."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from hactl.core.cli.main import run
from hactl.core.config import ClusterConfig, check, effective_totem

SETUPS = {
    "two nodes": ["two", "n1", "addr=127.0.0.1", "n2", "addr=127.0.0.2"],
    "three nodes, two links, every option group": [
        "big",
        *("n1", "addr=127.0.0.1", "addr=127.0.1.1"),
        *("n2", "addr=127.0.0.2", "addr=127.0.1.2"),
        *("n3", "addr=127.0.0.3", "addr=127.0.1.3"),
        *("transport", "knet", "ip_version=ipv4", "link_mode=passive"),
        *("link", "linknumber=1", "link_priority=100", "ping_interval=200"),
        *("ping_timeout=600", "pong_count=3", "mcastport=5500"),
        *("compression", "model=zlib", "threshold=100"),
        *("crypto", "cipher=aes128", "hash=sha512"),
        *("totem", "token=5000", "join=60", "consensus=6000"),
        *("quorum", "wait_for_all=1", "last_man_standing=1", "last_man_standing_window=5000"),
    ],
    "udpu": [
        "u",
        *("n1", "addr=127.0.0.1", "n2", "addr=127.0.0.2", "n3", "addr=127.0.0.3"),
        *("transport", "udpu", "--no-cluster-uuid"),
    ],
    "udp multicast": [
        "m",
        *("n1", "addr=127.0.0.1", "n2", "addr=127.0.0.2"),
        *("transport", "udp", "link", "mcastaddr=239.255.1.1", "ttl=2"),
    ],
}


def pcs_setup(pcs: str, args: list[str], path: Path) -> None:
    subprocess.run(
        [pcs, "cluster", "setup", *args, "--corosync_conf", str(path)],
        check=True,
        capture_output=True,
        timeout=120,
    )


@pytest.fixture
def pcs(require_tool: Callable[[str], str]) -> str:
    return require_tool("pcs")


@pytest.fixture(scope="module")
def setups(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Each setup run once by the real pcs (it takes about a second per call)."""
    pcs = shutil.which("pcs") or "/usr/sbin/pcs"
    if not Path(pcs).exists():
        pytest.skip("pcs is not installed (.ci/run installs it)")
    out = {}
    for name, args in SETUPS.items():
        path = tmp_path_factory.mktemp("pcs") / "corosync.conf"
        pcs_setup(pcs, args, path)
        out[name] = path.read_text()
    return out


@pytest.mark.parametrize("name", list(SETUPS))
def test_pcs_setup_output_loads_unchanged(
    name: str, setups: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "corosync.conf"
    text = setups[name]
    path.write_text(text)
    config = ClusterConfig.load(path)
    assert config.to_text() == text
    assert check(config).errors == []
    assert config.totem.cluster_name == SETUPS[name][0]
    assert len(config.nodelist) == sum(
        1 for a in SETUPS[name] if a.startswith("n") and a[1:].isdigit()
    )
    if name.startswith("three"):
        effective = effective_totem(config)
        assert effective.token == 5000 + 650  # the coefficient applies on top
        assert effective.links[0].knet_pong_count == 3


UPDATES = [
    ("two nodes", ["wait_for_all=0"]),
    ("two nodes", ["auto_tie_breaker=1"]),  # pcs drops two_node, which ATB disables
    ("two nodes", ["last_man_standing=1", "last_man_standing_window=3000", "wait_for_all=1"]),
    ("three nodes, two links, every option group", ["last_man_standing_window="]),
    ("three nodes, two links, every option group", ["auto_tie_breaker=1"]),
    ("udpu", ["auto_tie_breaker=1", "wait_for_all=1"]),
]


@pytest.mark.parametrize(("name", "changes"), UPDATES)
def test_quorum_update_writes_what_pcs_writes(
    name: str,
    changes: list[str],
    pcs: str,
    setups: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    theirs, ours = tmp_path / "pcs.conf", tmp_path / "hactl.conf"
    theirs.write_text(setups[name])
    ours.write_text(setups[name])
    subprocess.run(
        [pcs, "--corosync_conf", str(theirs), "quorum", "update", *changes],
        check=True,
        capture_output=True,
        timeout=120,
    )
    with pytest.raises(SystemExit) as done:
        run(["quorum", "update", "-c", str(ours), *changes])
    assert done.value.code in (0, None), capsys.readouterr().err
    assert ours.read_text() == theirs.read_text()


def test_both_refuse_a_window_without_last_man_standing(
    pcs: str, setups: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    theirs, ours = tmp_path / "pcs.conf", tmp_path / "hactl.conf"
    before = setups["udpu"]
    theirs.write_text(before)
    ours.write_text(before)
    refused = subprocess.run(
        [pcs, "--corosync_conf", str(theirs), "quorum", "update", "last_man_standing_window=9"],
        capture_output=True,
        timeout=120,
    )
    assert refused.returncode != 0 and theirs.read_text() == before
    with pytest.raises(SystemExit) as done:
        run(["quorum", "update", "-c", str(ours), "last_man_standing_window=9"])
    assert done.value.code == 1
    assert "needs last_man_standing" in capsys.readouterr().err
    assert ours.read_text() == before


def test_hactl_refuses_what_corosync_would_refuse_although_pcs_writes_it(
    pcs: str, setups: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """auto_tie_breaker + last_man_standing without wait_for_all in an odd cluster: pcs
    writes it, and votequorum then refuses to start. hactl says so before writing."""
    theirs, ours = tmp_path / "pcs.conf", tmp_path / "hactl.conf"
    before = setups["three nodes, two links, every option group"]
    theirs.write_text(before)
    ours.write_text(before)
    changes = ["wait_for_all=0", "auto_tie_breaker=1"]
    subprocess.run(
        [pcs, "--corosync_conf", str(theirs), "quorum", "update", *changes],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert "auto_tie_breaker: 1" in theirs.read_text()
    with pytest.raises(SystemExit) as done:
        run(["quorum", "update", "-c", str(ours), *changes])
    assert done.value.code == 1
    err = capsys.readouterr().err
    assert "auto_tie_breaker & last_man_standing not available in odd sized cluster" in err
    assert ours.read_text() == before
