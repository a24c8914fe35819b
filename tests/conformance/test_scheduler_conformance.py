"""Every regression case not listed in known_failures.tsv must agree on decisions."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "scheduler_cases", Path(__file__).with_name("scheduler_cases.py")
)
assert _spec is not None and _spec.loader is not None
sc = importlib.util.module_from_spec(_spec)
sys.modules["scheduler_cases"] = sc
_spec.loader.exec_module(sc)

pytestmark = pytest.mark.skipif(
    not (sc.CASES / "cases.tsv").exists(), reason="scheduler regression corpus not present"
)


def test_known_failures_list_real_cases() -> None:
    cases = set(sc.all_cases())
    unknown = sorted(set(sc.read_known_failures()) - cases)
    assert not unknown, f"known_failures.tsv names cases that do not exist: {unknown}"


def test_passing_cases_do_not_regress() -> None:
    meta = sc.case_meta()
    known = sc.read_known_failures()
    regressed = []
    for case in sc.all_cases():
        if case in known:
            continue
        result = sc.run_case(case, meta.get(case, ""), all_levels=False)
        if not result["decisions"]:
            regressed.append(f"{case} {result['error']}".strip())
    assert not regressed, f"{len(regressed)} case(s) regressed: {regressed[:20]}"
