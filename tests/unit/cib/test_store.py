"""CibStore: atomic writes with a digest and rotating backups; damage is refused at load,
naming the backup to restore; a writer killed at any moment never leaves a torn CIB."""

from __future__ import annotations

import os
import random
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hactl.core.cib.document import CibDocument, CibError
from hactl.core.cib.store import CibStore, atomic_write, digest


def version(doc: CibDocument, epoch: int) -> CibDocument:
    new = doc.copy()
    new.root.set("epoch", str(epoch))
    return new


def test_write_then_load_round_trips(tmp_path: Path, sample_text: str) -> None:
    store = CibStore(tmp_path / "state")
    doc = CibDocument.from_bytes(sample_text.encode())
    backup = store.write(doc)
    loaded = store.load()
    assert loaded.serialize() == doc.serialize()
    assert (tmp_path / "state" / "cib.xml.sig").read_text().strip() == digest(doc.serialize())
    assert backup.read_bytes() == doc.serialize()


def test_backups_rotate(tmp_path: Path, sample_text: str) -> None:
    store = CibStore(tmp_path, keep=3)
    doc = CibDocument.from_bytes(sample_text.encode())
    for epoch in range(10, 16):
        store.write(version(doc, epoch))
    assert [p.name for p in store.backups()] == ["cib-6.raw", "cib-5.raw", "cib-4.raw"]
    assert store.load().versions()[1] == 15
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".sig")) == [
        "cib-4.raw.sig",
        "cib-5.raw.sig",
        "cib-6.raw.sig",
        "cib.xml.sig",
    ]


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[: len(data) // 2], id="truncated"),
        pytest.param(lambda data: data.replace(b'epoch="12"', b'epoch="13"'), id="edited"),
        pytest.param(lambda data: b"", id="emptied"),
        pytest.param(lambda data: b"\0" * len(data), id="zeroed"),
    ],
)
def test_damaged_cib_is_refused_naming_the_last_good_backup(
    tmp_path: Path, sample_text: str, damage: object
) -> None:
    store = CibStore(tmp_path)
    doc = CibDocument.from_bytes(sample_text.encode())
    for epoch in (11, 12):
        store.write(version(doc, epoch))
    cib = tmp_path / "cib.xml"
    cib.write_bytes(damage(cib.read_bytes()))  # type: ignore[operator]
    with pytest.raises(CibError) as caught:
        store.load()
    assert "damaged" in caught.value.message
    assert caught.value.where == str(cib)
    assert caught.value.hint is not None and str(tmp_path / "cib-2.raw") in caught.value.hint


def test_damaged_backups_are_skipped_when_naming_a_good_one(
    tmp_path: Path, sample_text: str
) -> None:
    store = CibStore(tmp_path)
    doc = CibDocument.from_bytes(sample_text.encode())
    for epoch in (11, 12):
        store.write(version(doc, epoch))
    (tmp_path / "cib.xml").write_bytes(b"<cib")
    (tmp_path / "cib-2.raw").write_bytes(b"<cib")
    with pytest.raises(CibError) as caught:
        store.load()
    assert str(tmp_path / "cib-1.raw") in (caught.value.hint or "")


def test_crash_between_cib_and_its_digest_is_recovered(tmp_path: Path, sample_text: str) -> None:
    """The write replaced cib.xml, then died before replacing cib.xml.sig."""
    store = CibStore(tmp_path)
    doc = CibDocument.from_bytes(sample_text.encode())
    store.write(version(doc, 11))
    old_sig = (tmp_path / "cib.xml.sig").read_bytes()
    store.write(version(doc, 12))
    (tmp_path / "cib.xml.sig").write_bytes(old_sig)
    assert store.load().versions()[1] == 12
    assert (tmp_path / "cib.xml.sig").read_bytes() != old_sig  # the write was finished


def test_missing_store_says_so(tmp_path: Path) -> None:
    with pytest.raises(CibError, match="no CIB stored yet"):
        CibStore(tmp_path / "nothing").load()


WRITER = """
import sys
from hactl.core.cib.document import CibDocument
from hactl.core.cib.store import CibStore
doc = CibDocument.from_bytes(open(sys.argv[2], "rb").read())
store = CibStore(sys.argv[1], keep=4)
print("ready", flush=True)
epoch = int(sys.argv[3])
while True:
    epoch += 1
    doc.root.set("epoch", str(epoch))
    # a growing document, so writes take different times
    doc.root.set("cib-last-written", "x" * (epoch % 5000))
    store.write(doc)
"""


def kill_writer_repeatedly(tmp_path: Path, sample_cib: Path, kills: int) -> None:
    seed = int(os.environ.get("HACTL_TEST_SEED", "20261122"))
    rng = random.Random(seed)
    state = tmp_path / "state"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    # Kill within the first few writes, whatever this disk's fsync costs.
    probe = CibStore(tmp_path / "probe")
    sample = CibDocument.load(sample_cib)
    started = time.perf_counter()
    for _ in range(3):
        probe.write(sample)
    write_s = (time.perf_counter() - started) / 3
    last_epoch = 0
    mid_write = 0  # kills that left a writer's temporary file behind
    for round_number in range(kills):
        writer = subprocess.Popen(
            [sys.executable, str(script), str(state), str(sample_cib), str(last_epoch)],
            stdout=subprocess.PIPE,
        )
        assert writer.stdout is not None and writer.stdout.readline() == b"ready\n"
        time.sleep(rng.uniform(0, 4 * write_s))
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
        mid_write += any(p.name.startswith(".") and ".tmp-" in p.name for p in state.glob(".*"))
        store = CibStore(state, keep=4)
        if not store.exists():
            continue  # killed before its first write reached cib.xml
        doc = store.load()  # raises on a torn or mismatched file
        epoch = doc.versions()[1]
        assert epoch >= last_epoch, f"seed {seed} round {round_number}: back from {last_epoch}"
        assert doc.root.find("configuration/resources") is not None
        last_epoch = epoch
    assert last_epoch > 0, "no write ever completed; the kill came too early every time"
    assert mid_write > 0, "no kill landed inside a write; the test proved nothing"


def test_a_writer_killed_at_random_moments_never_leaves_a_torn_cib(
    tmp_path: Path, sample_cib: Path
) -> None:
    kill_writer_repeatedly(tmp_path, sample_cib, kills=25)


@pytest.mark.slow
def test_a_writer_killed_hundreds_of_times(tmp_path: Path, sample_cib: Path) -> None:
    kill_writer_repeatedly(tmp_path, sample_cib, kills=400)


def test_atomic_write_keeps_the_mode_and_cleans_up_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "cib.xml"
    atomic_write(target, b"one")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    target.chmod(0o640)
    atomic_write(target, b"two")
    assert target.read_bytes() == b"two" and stat.S_IMODE(target.stat().st_mode) == 0o640
    with pytest.raises(TypeError):
        atomic_write(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"two"
    assert [p.name for p in tmp_path.iterdir()] == ["cib.xml"]
