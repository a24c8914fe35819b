"""CIB speed: load + validate, diff, patch, model and store writes, beside Pacemaker's tools.

    python bench/cib.py [--quick]

Rows:
  * validate: parse and validate every CIB of the scheduler corpus in one process, beside
    `crm_verify -x FILE` per file (a process per file, as it is used; its time includes its
    start-up, which the row "crm_verify --version" shows alone);
  * diff / patch: our diff and apply on a corpus CIB with edits, beside `crm_diff`;
  * model: build_model on every corpus CIB;
  * store write: CibStore.write (atomic, 5 fsyncs) of a corpus CIB.
Prints a table and ends with one line of JSON.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from lxml import etree

from hactl.core.cib.document import CibDocument
from hactl.core.cib.model import build_model
from hactl.core.cib.patch import apply_patch, diff
from hactl.core.cib.store import CibStore
from hactl.core.cib.validate import validate

CORPUS = Path("/work/shared/conformance/scheduler/cases/xml")


def per_item_ms(action: Callable[[], object], items: int) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000 / items


def median_ms(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def edited(doc: CibDocument) -> CibDocument:
    new = doc.copy()
    resources = new.section("resources", create=True)
    assert resources is not None
    etree.SubElement(resources, "primitive", id="bench-extra", type="Dummy", provider="heartbeat")
    if len(resources) > 2:
        resources.append(resources[0])  # a move
    new.root.set("epoch", str(new.versions()[1] + 1))
    return new


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 corpus files, fewer runs")
    quick = parser.parse_args().quick
    files = sorted(CORPUS.glob("*.xml"))
    if not files:
        raise SystemExit(f"the scheduler corpus is not at {CORPUS}")
    if quick:
        files = files[:: max(1, len(files) // 40)]
    runs = 5 if quick else 30
    crm_verify, crm_diff = shutil.which("crm_verify"), shutil.which("crm_diff")
    figures: dict[str, float | None] = {}

    figures["validate_ms_per_cib"] = per_item_ms(
        lambda: [validate(CibDocument.load(f)) for f in files], len(files)
    )
    figures["model_ms_per_cib"] = per_item_ms(
        lambda: [build_model(CibDocument.load(f)) for f in files], len(files)
    )
    figures["crm_verify_ms_per_cib"] = None
    figures["crm_verify_startup_ms"] = None
    if crm_verify:
        figures["crm_verify_ms_per_cib"] = per_item_ms(
            lambda: [
                subprocess.run([crm_verify, "-x", str(f)], capture_output=True) for f in files
            ],
            len(files),
        )
        figures["crm_verify_startup_ms"] = median_ms(
            lambda: subprocess.run([crm_verify, "--version"], capture_output=True), runs
        )

    largest = max(files, key=lambda f: f.stat().st_size)
    old = CibDocument.load(largest)
    new = edited(old)
    patch = diff(old, new)
    figures["cib_bytes"] = float(largest.stat().st_size)
    figures["diff_ms"] = median_ms(lambda: diff(old, new), runs)
    figures["patch_ms"] = median_ms(
        lambda: apply_patch(old.copy(), patch, check_versions=False), runs
    )
    figures["crm_diff_ms"] = None
    with tempfile.TemporaryDirectory() as tmp:
        old_path, new_path = Path(tmp) / "old.xml", Path(tmp) / "new.xml"
        old_path.write_bytes(old.serialize())
        new_path.write_bytes(new.serialize())
        if crm_diff:
            figures["crm_diff_ms"] = median_ms(
                lambda: subprocess.run(
                    [crm_diff, "-o", str(old_path), "-n", str(new_path)], capture_output=True
                ),
                runs,
            )
        store = CibStore(Path(tmp) / "state", keep=5)
        figures["store_write_ms"] = median_ms(lambda: store.write(new), runs)

    def show(value: float | None) -> str:
        return f"{value:10.2f}" if value is not None else "       n/a"

    print(
        f"{len(files)} corpus CIBs; diff/patch/store on {largest.name} ({largest.stat().st_size} B)"
    )
    print(f"{'operation':<34} {'hactl ms':>10} {'pacemaker ms':>13}")
    rows = [
        ("load + validate, per CIB", "validate_ms_per_cib", "crm_verify_ms_per_cib"),
        ("  (crm_verify start-up alone)", None, "crm_verify_startup_ms"),
        ("load + build model, per CIB", "model_ms_per_cib", None),
        ("diff (v2 patchset)", "diff_ms", "crm_diff_ms"),
        ("apply patch", "patch_ms", None),
        ("store write (atomic, fsync)", "store_write_ms", None),
    ]
    for label, ours, theirs in rows:
        left = show(figures[ours]) if ours else " " * 10
        right = show(figures[theirs]) if theirs else ""
        print(f"{label:<34} {left} {right:>13}")
    print(json.dumps({k: (round(v, 3) if v is not None else None) for k, v in figures.items()}))


if __name__ == "__main__":
    main()
