"""The fencing history file: appends, reading back after a crash cut the last line, cleanup,
the stonith_admin --history lines, and clear errors for a missing or damaged history."""

from __future__ import annotations

import json
import multiprocessing
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hactl.core.errors import HactlError
from hactl.core.fencer.history import (
    HISTORY_NAME,
    FenceHistory,
    FenceHistoryEntry,
    format_time,
    newest_first,
)

COMPLETED = 1_795_316_544.0


def entry(target: str = "node2", state: str = "success", **changes: object) -> FenceHistoryEntry:
    values: dict[str, object] = {
        "target": target,
        "action": "reboot",
        "origin": "node1",
        "executioner": "node1",
        "state": state,
        "devices": ["ipmi-n2"] if state == "success" else [],
        "reason": "" if state == "success" else "ipmi-n2: reboot failed: no route\nto host",
        "completed": COMPLETED,
    }
    values.update(changes)
    return FenceHistoryEntry(**values)  # type: ignore[arg-type]


def test_appended_entries_read_back_in_order(tmp_path: Path) -> None:
    history = FenceHistory(tmp_path)
    assert history.records() == []  # no file yet: no history
    history.append(entry("node2"), "hactl.1")
    history.append(entry("node3", "failed"), "hactl.2")
    records = history.records()
    assert [(r.entry.target, r.entry.state, r.client) for r in records] == [
        ("node2", "success", "hactl.1"),
        ("node3", "failed", "hactl.2"),
    ]
    assert records[0].entry == entry("node2")
    assert [r.entry.target for r in history.records("node3")] == ["node3"]
    assert (tmp_path / HISTORY_NAME).stat().st_mode & 0o777 == 0o600


def test_the_default_directory_is_the_state_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HACTL_STATE_DIR", str(tmp_path))
    FenceHistory().append(entry(), "c")
    assert (tmp_path / "fencing-history").read_text().count("\n") == 1


def test_lines_as_stonith_admin_prints_them(tmp_path: Path) -> None:
    history = FenceHistory(tmp_path)
    ok = history.append(entry(), "hactl.7")
    failed = history.append(entry(state="failed"), "hactl.8")
    pending = history.append(entry(state="pending", completed=None), "hactl.9")
    when = format_time(COMPLETED)
    assert ok.line() == (
        f"reboot of node2 successful: delegate=node1, client=hactl.7, origin=node1, "
        f"completed='{when}'"
    )
    assert failed.line() == (
        "reboot of node2 failed (ipmi-n2: reboot failed: no route to host): delegate=node1, "
        f"client=hactl.8, origin=node1, last-failed='{when}'"
    )
    assert pending.line() == "reboot of node2 pending: client=hactl.9, origin=node1"
    assert len(when) == len("2026-11-22 03:04:05 +00:00") and when[-3] == ":"


def test_a_truncated_last_line_is_skipped_and_cut_by_the_next_append(tmp_path: Path) -> None:
    history = FenceHistory(tmp_path)
    history.append(entry("node2"), "c")
    path = tmp_path / HISTORY_NAME
    whole = json.dumps({**json.loads(path.read_text()), "target": "node3"})
    with path.open("a") as out:  # a crash in the middle of writing the second entry
        out.write(whole[: len(whole) // 2])
    assert [r.entry.target for r in history.records()] == ["node2"]
    history.append(entry("node4"), "c")
    assert [r.entry.target for r in history.records()] == ["node2", "node4"]
    assert all(json.loads(line) for line in path.read_text().splitlines())


def test_a_damaged_line_in_the_middle_is_an_error_naming_it(tmp_path: Path) -> None:
    history = FenceHistory(tmp_path)
    history.append(entry("node2"), "c")
    path = tmp_path / HISTORY_NAME
    path.write_text(path.read_text() + "{not json\n" + path.read_text())
    with pytest.raises(HactlError) as caught:
        history.records()
    assert caught.value.where == f"{path}:2"
    assert "--cleanup" in str(caught.value.hint)
    assert history.cleanup() == 2  # cleanup still works, dropping what it could read
    assert history.records() == []


def test_cleanup_of_one_node_keeps_the_others(tmp_path: Path) -> None:
    history = FenceHistory(tmp_path)
    for target in ("node2", "node3", "node2"):
        history.append(entry(target), "c")
    assert history.cleanup("node2") == 2
    assert [r.entry.target for r in history.records()] == ["node3"]
    assert history.cleanup("node9") == 0
    assert history.cleanup() == 1
    assert history.records() == []


def test_a_missing_state_directory_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    history = FenceHistory(missing)
    for action in (history.records, history.check_writable, lambda: history.append(entry(), "c")):
        with pytest.raises(HactlError) as caught:
            action()
        assert caught.value.where == str(missing)
        assert "HACTL_STATE_DIR" in str(caught.value.hint)
    assert not missing.exists()  # nothing was created on the way


def _append_many(directory: str, worker: int) -> None:
    history = FenceHistory(Path(directory))
    for index in range(25):
        history.append(entry(f"node{worker}", reason=f"entry {index}"), f"w{worker}")


def test_concurrent_writers_never_interleave(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_append_many, args=(str(tmp_path), w)) for w in range(4)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(30)
        assert process.exitcode == 0
    records = FenceHistory(tmp_path).records()
    assert len(records) == 100
    for worker in range(4):
        mine = [r.entry.reason for r in records if r.client == f"w{worker}"]
        assert mine == [f"entry {i}" for i in range(25)]


def test_shown_latest_first_with_pending_requests_on_top(tmp_path: Path) -> None:
    history = FenceHistory(tmp_path)
    for target, completed in (("a", 10.0), ("b", None), ("c", 30.0), ("d", 20.0)):
        history.append(entry(target, "pending" if completed is None else "success",
                             completed=completed), "c")  # fmt: skip
    assert [r.entry.target for r in newest_first(history.records())] == ["b", "c", "d", "a"]


@settings(max_examples=60, deadline=None)
@given(cut=st.integers(min_value=0, max_value=10_000))
def test_any_crash_point_leaves_a_readable_prefix(cut: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        history = FenceHistory(Path(directory))
        for index in range(4):
            history.append(entry(f"node{index}"), "c")
        path = Path(directory) / HISTORY_NAME
        data = path.read_bytes()
        kept = data[: cut % (len(data) + 1)]
        path.write_bytes(kept)
        complete_lines = kept.count(b"\n")
        assert [r.entry.target for r in history.records()] == [
            f"node{i}" for i in range(complete_lines)
        ]
        history.append(entry("after"), "c")  # and writing goes on where the crash left it
        targets = [r.entry.target for r in history.records()]
        assert targets == [f"node{i}" for i in range(complete_lines)] + ["after"]
