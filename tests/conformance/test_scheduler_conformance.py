"""Every regression case not listed in known_failures.tsv must agree on decisions; those in
agreeing_output.tsv keep agreeing on the summary and dot graph levels listed there."""

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


def test_agreeing_cases_keep_their_summary_and_graph() -> None:
    """A case listed in agreeing_output.tsv keeps agreeing on the levels listed for it."""
    meta = sc.case_meta()
    regressed = []
    for case, levels in sorted(sc.read_agreeing_output().items()):
        result = sc.run_case(case, meta.get(case, ""), scores=False)
        lost = levels - sc.agreeing_output(result)
        if lost:
            regressed.append(f"{case} ({', '.join(sorted(lost))})")
    assert not regressed, (
        f"{len(regressed)} case(s) no longer agree on output: {regressed[:20]} (compare with "
        "`hactl simulate -x CASE.xml -S -D x.dot`; a loss that is right is recorded with "
        "`python tests/conformance/scheduler_cases.py --write-agreeing-output`)"
    )
