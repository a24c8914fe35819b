"""Validation: each kind of defect gives one precise problem, real CIBs give none."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from hactl.core.cib.document import CibDocument, CibError
from hactl.core.cib.model import build_model
from hactl.core.cib.schema import role_spelling
from hactl.core.cib.validate import validate
from hactl.core.errors import Problem


def problems_of(text: str) -> list[Problem]:
    return validate(CibDocument.from_bytes(text.encode(), source="t.xml"))


def with_change(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def test_the_sample_is_valid(sample_text: str) -> None:
    assert problems_of(sample_text) == []


def test_every_scheduler_corpus_cib_is_valid(corpus: list[Path]) -> None:
    """Real CIBs of every schema from pacemaker-2.3 to 3.10, all accepted by crm_verify."""
    rejected = {f.name: [str(p) for p in validate(CibDocument.load(f))] for f in corpus}
    assert {name: found for name, found in rejected.items() if found} == {}
    assert len(corpus) >= 500


# (change to the sample, the one expected message, a piece of the hint)
DEFECTS = [
    pytest.param(
        ('type="IPaddr2">', 'type="IPaddr2" clss="ocf">'),
        "unknown attribute 'clss' in <primitive>",
        "did you mean 'class'?",
        id="unknown-attribute",
    ),
    pytest.param(
        ('<operations>\n          <op id="ip-monitor', '<operation>\n          <op id="ip-monitor'),
        None,
        None,
        id="not-well-formed",
    ),
    pytest.param(
        ("<rsc_defaults>", "<rsc_defualts/><rsc_defaults>"),
        "unknown element <rsc_defualts> in <configuration>",
        "did you mean 'rsc_defaults'?",
        id="unknown-element",
    ),
    pytest.param(
        ('<op id="db-monitor-11"', '<op id="db-monitor-10"'),
        "duplicate id 'db-monitor-10'",
        "already used by <op> at line",
        id="duplicate-id",
    ),
    pytest.param(
        ('rsc="ip" node="node1"', 'rsc="ipp" node="node1"'),
        "rsc='ipp' refers to a missing id",
        "did you mean 'ip'?",
        id="missing-reference",
    ),
    pytest.param(
        ('<resource_ref id="fs"/>', '<resource_ref id="opt-fencing"/>'),
        "id='opt-fencing' refers to a <nvpair>",
        "point it at",
        id="reference-to-wrong-kind",
    ),
    pytest.param(
        ('node="node1" score="100"', 'node="node1" score="lots"'),
        "bad score 'lots' in 'score'",
        "INFINITY",
        id="bad-score",
    ),
    pytest.param(
        ('interval="10s" timeout="20s"', 'interval="10 seconds" timeout="20s"'),
        "bad interval '10 seconds' in 'interval'",
        "10s",
        id="bad-interval",
    ),
    pytest.param(
        ('operation="ne" value="a"', 'operation="neq" value="a"'),
        "bad value 'neq' for 'operation'",
        "did you mean 'ne'?",
        id="bad-rule-operation",
    ),
    pytest.param(
        ('operation="ne" value="a"/>', 'operation="ne"/>'),
        "expression with operation 'ne' needs a value",
        "defined",
        id="rule-without-value",
    ),
    pytest.param(
        ('operation="lt" end="2030-01-01"', 'operation="lt" start="2030-01-01"'),
        "date expression 'lt' needs end",
        "end=",
        id="date-expression-without-end",
    ),
    pytest.param(
        ('end="2030-01-01"', 'end="next tuesday"'),
        "bad date 'next tuesday' in 'end'",
        "ISO 8601",
        id="bad-date",
    ),
    pytest.param(
        (
            '<rule id="loc-web-rule" score="-INFINITY" boolean-op="or">',
            '<rule id="loc-web-rule" score="-INFINITY" boolean-op="xor">',
        ),
        "bad value 'xor' for 'boolean-op'",
        "did you mean 'or'?",
        id="bad-boolean-op",
    ),
    pytest.param(
        ('sequential="false"', 'sequential="maybe"'),
        "bad boolean 'maybe' in 'sequential'",
        "true or false",
        id="bad-boolean",
    ),
    pytest.param(
        ('with-rsc-role="Master"', 'with-rsc-role="Primary"'),
        "bad value 'Primary' for 'with-rsc-role'",
        None,
        id="bad-role",
    ),
    pytest.param(
        (
            '<date_expression id="loc-web-date" operation="lt" end="2030-01-01"/>',
            '<date_expression id="loc-web-date" operation="date_spec">'
            '<date_spec id="loc-web-spec" hours="9-25"/></date_expression>',
        ),
        "hours='9-25' is out of range",
        "from 0 to 23",
        id="date-spec-out-of-range",
    ),
    pytest.param(
        (
            '<date_expression id="loc-web-date" operation="lt" end="2030-01-01"/>',
            '<rsc_expression id="loc-web-rsc" class="ocf"/>',
        ),
        "<rsc_expression> can only be used in rules of rsc_defaults or op_defaults",
        "<expression>",
        id="rsc-expression-outside-defaults",
    ),
    pytest.param(
        (
            '<nvpair id="rsc-defaults-stickiness" name="resource-stickiness" value="100"/>',
            '<rule id="empty-rule"/>',
        ),
        "rule has no expressions",
        "<expression>",
        id="empty-rule",
    ),
    pytest.param(
        ("</op_defaults>", "</op_defaults><op_defaults/>"),
        "section <op_defaults> appears twice",
        "merge",
        id="section-twice",
    ),
    pytest.param(
        ('name="no-quorum-policy" value="ignore"', 'name="no-quorum-policy" value="ignroe"'),
        "bad value 'ignroe' for cluster option 'no-quorum-policy'",
        "no-quorum-policy takes one of: stop, freeze",
        id="bad-cluster-option",
    ),
    pytest.param(
        ('name="stonith-enabled" value="false"', 'name="stonith-enabled" value="nope"'),
        "bad value 'nope' for cluster option 'stonith-enabled'",
        "true or false",
        id="bad-cluster-boolean",
    ),
    pytest.param(
        (
            '<resource_set id="ord-set-2">\n          <resource_ref id="apache"/>',
            '<resource_set id="ord-set-2">',
        ),
        "<resource_set> has no <resource_ref>",
        "resource_ref",
        id="empty-resource-set",
    ),
    pytest.param(
        (
            '<primitive id="db" class="ocf"',
            '<primitive id="db2" class="ocf" type="Dummy" '
            'provider="heartbeat"/><primitive id="db" class="ocf"',
        ),
        "<clone> holds more than one <primitive> or <group>",
        "exactly one",
        id="clone-with-two",
    ),
    pytest.param(
        ('rsc="ip" node="node1" score="100"', 'rsc="ip" node="node1"'),
        "missing required attribute 'score'",
        "score=",
        id="location-without-score",
    ),
    pytest.param(
        (
            '<rule id="loc-web-rule" score="-INFINITY" boolean-op="or">',
            '<rule id="loc-web-rule" boolean-op="or">',
        ),
        "location rule has no score",
        "score-attribute",
        id="location-rule-without-score",
    ),
    pytest.param(
        ('epoch="5" ', ""),
        "missing attribute 'epoch'",
        "admin_epoch",
        id="missing-epoch",
    ),
    pytest.param(
        ('<primitive id="fs" class="ocf" provider="heartbeat"', '<primitive id="fs" class="ocf"'),
        "an ocf resource needs a provider",
        "heartbeat",
        id="ocf-without-provider",
    ),
]


@pytest.mark.parametrize(("change", "message", "hint"), DEFECTS)
def test_each_defect_is_one_precise_problem(
    sample_text: str, change: tuple[str, str], message: str | None, hint: str | None
) -> None:
    text = with_change(sample_text, *change)
    if message is None:  # not XML at all: loading refuses it, naming the line
        with pytest.raises(CibError) as caught:
            problems_of(text)
        assert re.match(r"t\.xml:\d+$", caught.value.where or ""), caught.value.where
        assert "not well-formed" in caught.value.message
        return
    found = problems_of(text)
    assert len(found) == 1, found
    problem = found[0]
    assert message in problem.message
    assert problem.where is not None and re.match(r"t\.xml:\d+ <", problem.where)
    if hint is not None:
        assert problem.hint is not None and hint in problem.hint
    # the line named is where the element with the defect starts
    line = int(problem.where.split(":")[1].split()[0])
    element_start = "\n".join(text.splitlines()[line - 1 : line + 1])
    assert change[1].split("\n")[0][:20] in element_start or not change[1], element_start


def test_old_and_new_spellings_are_both_accepted(sample_text: str) -> None:
    old = (
        with_change(sample_text, '<clone id="db-clone">', '<master id="db-clone">')
        .replace("</clone>", "</master>")
        .replace('role="Promoted"', 'role="Master"')
        .replace('role="Unpromoted"', 'role="Slave"')
    )
    assert problems_of(old) == []
    new = with_change(sample_text, 'with-rsc-role="Master"', 'with-rsc-role="Promoted"').replace(
        'name="stonith-enabled"', 'name="fencing-enabled"'
    )
    assert problems_of(new) == []


#: Defects the real crm_verify rejects too (it accepts the others: Pacemaker falls back to
#: defaults for bad intervals and ignores some rule mistakes, where hactl is stricter).
CRM_VERIFY_AGREES = {
    "bad-cluster-option", "bad-cluster-boolean", "empty-resource-set", "clone-with-two",
    "location-without-score", "location-rule-without-score",
    "unknown-attribute", "unknown-element", "duplicate-id", "missing-reference", "bad-score",
    "bad-rule-operation", "bad-boolean-op", "bad-role", "missing-epoch", "section-twice",
}  # fmt: skip


@pytest.mark.parametrize(
    "change",
    [pytest.param(p.values[0], id=p.id) for p in DEFECTS if p.id in CRM_VERIFY_AGREES],
)
def test_real_crm_verify_rejects_what_we_reject(
    tmp_path: Path,
    sample_text: str,
    change: tuple[str, str],
    crm_verify: Callable[[Path], tuple[int, list[str]]],
) -> None:
    path = tmp_path / "bad.xml"
    path.write_text(with_change(sample_text, *change))
    assert problems_of(path.read_text())
    code, defects = crm_verify(path)
    assert code != 0 and defects, defects


def test_real_crm_verify_accepts_the_sample(
    sample_cib: Path, crm_verify: Callable[[Path], tuple[int, list[str]]]
) -> None:
    assert crm_verify(sample_cib) == (0, [])


def test_promoted_roles_need_schema_3_7(
    tmp_path: Path, sample_text: str, crm_verify: Callable[[Path], tuple[int, list[str]]]
) -> None:
    old_schema = sample_text.replace(
        'validate-with="pacemaker-3.9"', 'validate-with="pacemaker-3.0"'
    )
    found = problems_of(old_schema)
    assert [p.message for p in found] == [
        "role 'Promoted' needs schema pacemaker-3.7 or later",
        "role 'Unpromoted' needs schema pacemaker-3.7 or later",
    ]
    assert found[0].hint is not None and found[0].hint.startswith("write 'Master'")
    path = tmp_path / "old.xml"
    path.write_text(old_schema)
    assert crm_verify(path)[0] != 0
    # written the 2.x way, the same CIB is valid for both
    legacy = old_schema.replace('role="Promoted"', 'role="Master"').replace(
        'role="Unpromoted"', 'role="Slave"'
    )
    assert problems_of(legacy) == []
    path.write_text(legacy)
    assert crm_verify(path) == (0, [])


def test_role_spelling_follows_the_schema() -> None:
    assert role_spelling("Promoted", "pacemaker-3.0") == "Master"
    assert role_spelling("Slave", "pacemaker-3.9") == "Unpromoted"
    assert role_spelling("Started", "pacemaker-2.0") == "Started"
    assert role_spelling("Master", "pacemaker-next") == "Promoted"


def test_missing_sections(sample_text: str) -> None:
    text = sample_text.replace("<rsc_defaults>", "<rsc_defaults_>").replace(
        "</rsc_defaults>", "</rsc_defaults_>"
    )
    start, end = text.index("<nodes>"), text.index("</nodes>") + len("</nodes>")
    found = problems_of(text[:start] + text[end:])
    assert [p.message for p in found][:2] == [
        "missing section <nodes>",
        "unknown element <rsc_defaults_> in <configuration>",
    ]
    assert found[0].hint == "add an empty <nodes/> to <configuration>"
    assert found[1].hint == "did you mean 'rsc_defaults'?"


def test_status_section_may_hold_anything(sample_text: str) -> None:
    text = with_change(sample_text, "<status>", '<status><anything goes="x"><really/></anything>')
    assert problems_of(text) == []


@pytest.mark.parametrize("seed", range(40))
def test_validate_and_model_never_raise_on_any_edit(
    sample_text: str,
    corpus: list[Path],
    mutate: Callable[[CibDocument, random.Random, int], CibDocument],
    seed: int,
) -> None:
    """Whatever the document holds, validation reports problems and never crashes."""
    rng = random.Random(seed)
    base = (
        CibDocument.load(rng.choice(corpus))
        if seed % 2
        else CibDocument.from_bytes(sample_text.encode())
    )
    doc = mutate(base, rng, rng.randint(1, 15))
    elements = [e for e in doc.root.iter() if isinstance(e.tag, str)]
    for _ in range(5):
        element = rng.choice(elements)
        name = rng.choice([*element.attrib, "x"])
        element.set(name, rng.choice(["", " ", "-", "P", "Master", "\u00e9", "9" * 25]))
    problems = validate(doc)
    assert all(p.where and p.message for p in problems)
    build_model(doc)


#: Where hactl is deliberately stricter than crm_verify 2.1 (which lets these through and
#: falls back to defaults at run time).
STRICTER = ("needs a value", "bad interval", "for cluster option")


def agreement_with_crm_verify(
    tmp_path: Path,
    sample_text: str,
    mutate: Callable[[CibDocument, random.Random, int], CibDocument],
    crm_verify: Callable[[Path], tuple[int, list[str]]],
    seeds: range,
) -> None:
    base = CibDocument.from_bytes(sample_text.encode())
    path = tmp_path / "edited.xml"
    disagreements = []
    for seed in seeds:
        rng = random.Random(seed)
        doc = mutate(base, rng, rng.randint(1, 3))
        path.write_bytes(doc.serialize())
        ours = [str(p) for p in validate(doc)]
        theirs = crm_verify(path)[1]
        stricter = bool(ours) and all(any(m in p for m in STRICTER) for p in ours)
        if bool(ours) != bool(theirs) and not (stricter and not theirs):
            disagreements.append((seed, ours[:2], theirs[:2]))
    assert disagreements == []


def test_verdicts_agree_with_crm_verify_on_random_edits(
    tmp_path: Path,
    sample_text: str,
    mutate: Callable[[CibDocument, random.Random, int], CibDocument],
    crm_verify: Callable[[Path], tuple[int, list[str]]],
) -> None:
    """Random edits of a valid CIB (elements in wrong places, attributes they do not take,
    changed values, deletions): we reject exactly those crm_verify rejects."""
    agreement_with_crm_verify(tmp_path, sample_text, mutate, crm_verify, range(60))


@pytest.mark.slow
def test_verdicts_agree_with_crm_verify_on_many_random_edits(
    tmp_path: Path,
    sample_text: str,
    mutate: Callable[[CibDocument, random.Random, int], CibDocument],
    crm_verify: Callable[[Path], tuple[int, list[str]]],
) -> None:
    agreement_with_crm_verify(tmp_path, sample_text, mutate, crm_verify, range(60, 1060))


def test_status_must_follow_the_configuration(
    tmp_path: Path, sample_text: str, crm_verify: Callable[[Path], tuple[int, list[str]]]
) -> None:
    start, end = sample_text.index("  <status>"), sample_text.index("</status>") + 9
    status = sample_text[start:end]
    text = (sample_text[:start] + sample_text[end:]).replace(
        "  <configuration>", status + "\n  <configuration>", 1
    )
    assert [p.message for p in problems_of(text)] == ["<status> comes before <configuration>"]
    path = tmp_path / "cib.xml"
    path.write_text(text)
    assert crm_verify(path)[1]
