"""Run hactl's scheduler in-process over Pacemaker's scheduler regression cases.

Compares like /work/shared/conformance/scheduler/check.py (decisions and summary levels),
without a process per case. Also a command: `python tests/conformance/scheduler_cases.py
[--only SUBSTRING] [--jobs N] [--write-known-failures]` prints the pass counts.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import re
import sys
from pathlib import Path

CASES = Path(os.environ.get("HACTL_SCHEDULER_CASES", "/work/shared/conformance/scheduler"))
KNOWN_FAILURES = Path(__file__).with_name("known_failures.tsv")
#: cases that agree on the whole summary or the dot graph (and on decisions), and which:
#: they must keep agreeing (a case that starts agreeing is added with --write-agreeing-output)
AGREEING_OUTPUT = Path(__file__).with_name("agreeing_output.tsv")
OUTPUT_LEVELS = ("summary", "dot")


def squash(text: str) -> list[str]:
    return [s for s in (re.sub(r"\s+", "", line) for line in text.splitlines()) if s]


def score_set(text: str) -> list[str]:
    return sorted({re.sub(r"^[A-Za-z_]+:", "", line) for line in squash(text)})


def section(lines: list[str], title: str) -> list[str]:
    out, inside = [], False
    for line in lines:
        if line == title:
            inside = True
        elif inside and line.startswith("*"):
            out.append(line)
        elif inside:
            break
    return out


def decisions(lines: list[str]) -> tuple[list[str], list[str]]:
    return (
        section(lines, "TransitionSummary:"),
        sorted(section(lines, "ExecutingClusterTransition:")),
    )


def case_rows() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    with open(CASES / "cases.tsv", encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            row = dict(zip(header, line.rstrip("\n").split("\t"), strict=False))
            out[row["case"]] = row
    return out


def case_meta() -> dict[str, str]:
    """case name -> -t datetime ('' when none)."""
    return {case: row.get("datetime", "") for case, row in case_rows().items()}


def all_cases() -> list[str]:
    return sorted(p.stem for p in (CASES / "cases" / "xml").glob("*.xml"))


def run_case(
    case: str, when: str, all_levels: bool = True, scores: bool = True
) -> dict[str, object]:
    """Agreement of one case; without `all_levels` only the summary is computed, without
    `scores` everything but the scores."""
    from hactl.core.cli.simulate import load_cib, parse_time, report
    from hactl.core.errors import HactlError
    from hactl.core.scheduler import output, unpack

    dot_text = scores_text = ""
    try:
        cib = load_cib(CASES / "cases" / "xml" / f"{case}.xml")
        now = parse_time(when or None, cib)
        # as the command does: without -t, the CIB's own date is used and announced
        original_date = not when and unpack.cib_time(cib) is not None
        text, ws = report(cib, now, original_date=original_date, effective_date=when or None)
        if all_levels:
            dot_text = output.dot(ws)
            if scores:
                scores_text, _ = report(cib, now, show_scores=True, quiet=True)
        error = ""
    except HactlError as exc:
        text, error = str(exc), str(exc)
    except Exception as exc:  # a crash is a failure of this case, reported with its name
        text, error = "", f"{type(exc).__name__}: {exc}"
    want = squash((CASES / "cases" / "summary" / f"{case}.summary").read_text())
    got = squash(text)
    return {
        "case": case,
        "decisions": decisions(want) == decisions(got),
        "summary": want == got,
        "error": error,
        "dot": sorted(set(squash(dot_text)))
        == sorted(set(squash((CASES / "cases" / "dot" / f"{case}.dot").read_text()))),
        "scores": score_set(scores_text)
        == score_set((CASES / "cases" / "scores" / f"{case}.scores").read_text()),
        "difference": readable(
            first_difference(want, got),
            (CASES / "cases" / "summary" / f"{case}.summary").read_text() + "\n" + text,
        ),
    }


def readable(difference: str, texts: str) -> str:
    """The difference with the spacing of the line it quotes restored."""
    label, _, squashed = difference.partition(" ")
    kind, _, line = squashed.partition(" ")
    for original in texts.splitlines():
        if re.sub(r"\s+", "", original).lstrip("*") == line:
            return f"{label} {kind} {' '.join(original.split()).lstrip('* ')}"
    return difference


def first_difference(want: list[str], got: list[str]) -> str:
    """The first decision that differs, as a short reason."""
    (want_summary, want_run), (got_summary, got_run) = decisions(want), decisions(got)
    for label, expected, actual in (
        ("summary", want_summary, got_summary),
        ("executed", want_run, got_run),
    ):
        missing = [line for line in expected if line not in actual]
        extra = [line for line in actual if line not in expected]
        if missing:
            return f"{label}: missing {missing[0].lstrip('*')}"
        if extra:
            return f"{label}: unexpected {extra[0].lstrip('*')}"
    return ""


def reason_for(case: str, categories: str, result: dict[str, object]) -> str:
    """A one-line reason for a failing case: the missing feature, or the first difference."""
    if result["error"]:
        return f"crash: {result['error']}"
    for feature, marker in (
        ("bundles are not implemented", "bundle"),
        ("remote and guest nodes are not implemented", "remote-node"),
        ("remote and guest nodes are not implemented", "guest-node"),
        ("container (launcher) resources are not implemented", "container"),
    ):
        if marker in categories.split(","):
            return feature
    return f"decisions differ, {result['difference']}"


def read_known_failures() -> dict[str, str]:
    out: dict[str, str] = {}
    if KNOWN_FAILURES.exists():
        for line in KNOWN_FAILURES.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                case, _, reason = line.partition("\t")
                out[case.strip()] = reason.strip()
    return out


def read_agreeing_output() -> dict[str, set[str]]:
    """case -> the output levels (summary, dot) it agrees on and must keep agreeing on."""
    out: dict[str, set[str]] = {}
    if AGREEING_OUTPUT.exists():
        for line in AGREEING_OUTPUT.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                case, _, levels = line.partition("\t")
                out[case.strip()] = {lv.strip() for lv in levels.split(",") if lv.strip()}
    return out


def agreeing_output(result: dict[str, object]) -> set[str]:
    """The output levels a case agrees on, counted only when it agrees on decisions."""
    if not result["decisions"]:
        return set()
    return {level for level in OUTPUT_LEVELS if result[level]}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--write-known-failures", action="store_true")
    parser.add_argument(
        "--write-agreeing-output",
        action="store_true",
        help="rewrite agreeing_output.tsv: the summary/dot agreement to keep",
    )
    parser.add_argument("--show", action="store_true", help="print failing case names")
    args = parser.parse_args()
    meta = case_meta()
    cases = [c for c in all_cases() if args.only in c]
    with concurrent.futures.ProcessPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(run_case, cases, [meta.get(c, "") for c in cases], chunksize=8))
    passed = sum(bool(r["decisions"]) for r in results)
    summary = sum(bool(r["summary"]) for r in results)
    crashes = [r for r in results if r["error"]]
    if args.show:
        for r in results:
            if not r["decisions"]:
                print(r["case"], r["error"])
    dot = sum(bool(r["dot"]) for r in results)
    score = sum(bool(r["scores"]) for r in results)
    print(
        f"decisions {passed}/{len(results)}, summary {summary}/{len(results)}, "
        f"dot {dot}/{len(results)}, scores {score}/{len(results)}, errors {len(crashes)}"
    )
    if args.write_known_failures:
        rows = case_rows()
        lines = ["# case\treason (cases not listed must keep agreeing on decisions)"]
        for r in results:
            if not r["decisions"]:
                case = str(r["case"])
                reason = reason_for(case, rows.get(case, {}).get("categories", ""), r)
                lines.append(f"{case}\t{reason}")
        KNOWN_FAILURES.write_text("\n".join(lines) + "\n")
    if args.write_agreeing_output:
        lines = ["# case\toutput levels it agrees on and must keep agreeing on"]
        for r in results:
            agreeing = agreeing_output(r)
            if agreeing:
                lines.append(f"{r['case']}\t{','.join(sorted(agreeing))}")
        AGREEING_OUTPUT.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
