"""`hactl cib ...` run as a user runs it: output, exit codes, and files left untouched
whenever a command fails."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from hactl.core.cli.main import run


def hactl(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    try:
        run([str(a) for a in args])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("hactl: error: ") and "Traceback" not in err
    return lines[0]


def test_new_writes_an_empty_valid_cib(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    crm_verify: Callable[[Path], tuple[int, list[str]]],
) -> None:
    path = tmp_path / "cib.xml"
    code, out, _ = hactl(capsys, "cib", "new", path)
    assert code == 0 and "new CIB" in out
    text = path.read_text()
    assert 'validate-with="pacemaker-3.9"' in text and 'epoch="1"' in text
    for section in ("crm_config", "nodes", "resources", "constraints", "status"):
        assert f"<{section}/>" in text
    # crm_verify's only remark on an empty CIB is the advice to configure fencing
    # (it makes the same remark on `cibadmin --empty`).
    assert crm_verify(path)[1] == []
    assert hactl(capsys, "cib", "verify", path)[0] == 0


def test_new_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cib.xml"
    path.write_text("keep me")
    code, _, err = hactl(capsys, "cib", "new", path)
    assert code == 1 and "file exists" in one_line_error(err) and "--force" in err
    assert path.read_text() == "keep me"
    assert hactl(capsys, "cib", "new", path, "--force")[0] == 0


def test_verify_valid(sample_cib: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = hactl(capsys, "cib", "verify", sample_cib)
    assert code == 0 and "valid (version 0.5.2)" in out
    code, out, _ = hactl(capsys, "cib", "verify", sample_cib, "--output", "json")
    assert code == 0 and json.loads(out) == {"file": str(sample_cib), "valid": True, "problems": []}


BAD_INPUTS = [
    pytest.param(None, "no such file", id="missing-file"),
    pytest.param("this is not xml", "not well-formed XML", id="not-xml"),
    pytest.param("TRUNCATE", "looks truncated", id="truncated"),
    pytest.param("<configuration/>", "root element is <configuration>, not <cib>", id="wrong-root"),
    pytest.param(
        ('<op id="db-monitor-11"', '<op id="db-monitor-10"'),
        "duplicate id 'db-monitor-10'",
        id="duplicate-id",
    ),
    pytest.param(
        ('node="node1" score="100"', 'node="node1" score="1OO"'), "bad score '1OO'", id="bad-score"
    ),
    pytest.param(
        ('<primitive id="fs" class="ocf"', '<primitive id="fs" klass="ocf"'),
        "unknown attribute 'klass' in <primitive> (hint: did you mean 'class'?)",
        id="unknown-attribute",
    ),
]


def make_bad(path: Path, sample_text: str, bad: object) -> None:
    if bad is None:
        return
    if bad == "TRUNCATE":
        path.write_text(sample_text[: len(sample_text) // 2])
    elif isinstance(bad, tuple):
        path.write_text(sample_text.replace(bad[0], bad[1], 1))
    else:
        path.write_text(str(bad))


@pytest.mark.parametrize(("bad", "message"), BAD_INPUTS)
def test_verify_bad_input(
    tmp_path: Path,
    sample_text: str,
    capsys: pytest.CaptureFixture[str],
    bad: object,
    message: str,
) -> None:
    path = tmp_path / "cib.xml"
    make_bad(path, sample_text, bad)
    code, out, err = hactl(capsys, "cib", "verify", path)
    assert code == 1 and out == ""
    line = one_line_error(err)
    assert message in line and str(path) in line
    assert "(hint: " in line


@pytest.mark.parametrize(("bad", "message"), BAD_INPUTS)
def test_patch_on_bad_input_fails_and_leaves_the_file_untouched(
    tmp_path: Path,
    sample_text: str,
    capsys: pytest.CaptureFixture[str],
    bad: object,
    message: str,
) -> None:
    good, changed, patch = tmp_path / "good.xml", tmp_path / "changed.xml", tmp_path / "p.xml"
    good.write_text(sample_text)
    changed.write_text(
        sample_text.replace('<primitive id="ip"', '<primitive id="ip" description="d"')
    )
    code, out, _ = hactl(capsys, "cib", "diff", good, changed)
    assert code == 0
    patch.write_text(out)
    target = tmp_path / "cib.xml"
    make_bad(target, sample_text, bad)
    before = target.read_bytes() if target.exists() else None
    code, _, err = hactl(capsys, "cib", "patch", target, patch, "--no-version-check")
    assert code == 1 and message in one_line_error(err)
    assert (target.read_bytes() if target.exists() else None) == before


def test_verify_reports_every_problem_one_per_line(
    tmp_path: Path, sample_text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cib.xml"
    path.write_text(
        sample_text.replace('score="100"', 'score="x"').replace('with-rsc="ip"', 'with-rsc="ipp"')
    )
    code, _, err = hactl(capsys, "cib", "verify", path)
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 2
    assert "bad score 'x'" in lines[0] and "refers to a missing id" in lines[1]
    code, out, _ = hactl(capsys, "cib", "verify", path, "-o", "json")
    report = json.loads(out)
    assert code == 1 and not report["valid"] and len(report["problems"]) == 2
    assert report["problems"][1]["hint"] == "did you mean 'ip'?"


def test_query(sample_cib: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = hactl(capsys, "cib", "query", sample_cib, "--xpath", "//primitive[@id='ip']")
    assert code == 0 and out.startswith('<primitive id="ip"')
    code, out, _ = hactl(capsys, "cib", "query", sample_cib, "-x", "//group/primitive")
    assert code == 0 and out.startswith("<xpath-query>") and out.count("<primitive ") == 2
    code, out, _ = hactl(capsys, "cib", "query", sample_cib)
    assert code == 0 and out.startswith("<cib ")
    code, out, _ = hactl(capsys, "cib", "query", sample_cib, "-x", "//tag", "-o", "json")
    assert code == 0 and json.loads(out)[0]["path"] == "/cib/configuration/tags/tag[@id='frontend']"


@pytest.mark.parametrize(
    ("xpath", "message"),
    [("//nothing", "nothing matches //nothing"), ("//primitive[", "invalid xpath")],
)
def test_query_errors(
    sample_cib: Path, capsys: pytest.CaptureFixture[str], xpath: str, message: str
) -> None:
    code, _, err = hactl(capsys, "cib", "query", sample_cib, "--xpath", xpath)
    assert code == 1 and message in one_line_error(err)


def test_diff_and_patch_round_trip(
    tmp_path: Path,
    sample_text: str,
    capsys: pytest.CaptureFixture[str],
    crm_verify: Callable[[Path], tuple[int, list[str]]],
) -> None:
    old, new, patch = tmp_path / "old.xml", tmp_path / "new.xml", tmp_path / "patch.xml"
    old.write_text(sample_text)
    new.write_text(
        sample_text.replace('epoch="5"', 'epoch="6"').replace(
            '<rsc_location id="loc-ip" rsc="ip" node="node1" score="100"/>', ""
        )
    )
    code, out, _ = hactl(capsys, "cib", "diff", old, new)
    assert code == 0 and out.startswith('<diff format="2">')
    assert (
        'operation="delete" path="/cib/configuration/constraints/rsc_location[@id=\'loc-ip\']"'
        in out
    )
    patch.write_text(out)
    code, out, _ = hactl(capsys, "cib", "patch", old, patch)
    assert code == 0 and "now at version 0.6.2" in out
    assert "loc-ip" not in old.read_text()
    assert crm_verify(old) == (0, [])
    # the same patch again: the CIB is no longer at the patch's source version
    before = old.read_bytes()
    code, _, err = hactl(capsys, "cib", "patch", old, patch)
    assert code == 1 and "applies to version 0.5.2, the CIB is at 0.6.2" in one_line_error(err)
    assert old.read_bytes() == before


def test_patch_that_would_make_the_cib_invalid_is_refused(
    tmp_path: Path, sample_text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path, patch = tmp_path / "cib.xml", tmp_path / "patch.xml"
    path.write_text(sample_text)
    patch.write_text("""<diff format="2"><version>
      <source admin_epoch="0" epoch="5" num_updates="2"/>
      <target admin_epoch="0" epoch="6" num_updates="0"/></version>
      <change operation="delete" path="/cib/configuration/resources/primitive[@id='ip']"/>
    </diff>""")
    code, _, err = hactl(capsys, "cib", "patch", path, patch)
    assert code == 1
    assert all("refers to a missing id" in line for line in err.strip().splitlines())
    assert path.read_text() == sample_text


@pytest.mark.parametrize("patch_text", ["not xml", "<cib/>", ""])
def test_patch_with_a_bad_patch_file(
    tmp_path: Path, sample_text: str, capsys: pytest.CaptureFixture[str], patch_text: str
) -> None:
    path, patch = tmp_path / "cib.xml", tmp_path / "patch.xml"
    path.write_text(sample_text)
    patch.write_text(patch_text)
    code, _, err = hactl(capsys, "cib", "patch", path, patch)
    assert code == 1 and str(patch) in one_line_error(err)
    assert path.read_text() == sample_text


def test_every_command_has_help_with_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("new", "verify", "query", "diff", "patch"):
        code, out, _ = hactl(capsys, "cib", command, "--help")
        assert code == 0 and "Example: hactl cib " + command in out


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = hactl(capsys, "cib", "diff", "only-one.xml")
    assert code == 2 and "Traceback" not in err


def test_diff_and_patch_as_json(
    tmp_path: Path, sample_text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new, patch = tmp_path / "old.xml", tmp_path / "new.xml", tmp_path / "patch.xml"
    old.write_text(sample_text)
    new.write_text(
        sample_text.replace('epoch="5"', 'epoch="6"').replace(
            'node="node1" score="100"', 'node="node2" score="100"'
        )
    )
    code, out, _ = hactl(capsys, "cib", "diff", old, new, "--output", "json")
    report = json.loads(out)
    assert code == 0 and report["target"]["epoch"] == "6"
    assert report["changes"][1] == {
        "operation": "modify",
        "path": "/cib/configuration/constraints/rsc_location[@id='loc-ip']",
        "position": None,
        "attributes": {"node": "node2"},
    }
    patch.write_text(hactl(capsys, "cib", "diff", old, new)[1])
    code, out, _ = hactl(capsys, "cib", "patch", old, patch, "-o", "json")
    assert code == 0 and json.loads(out) == {"file": str(old), "version": "0.6.2", "changes": 2}


def test_new_reports_unwritable_places_and_bad_schemas(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = hactl(capsys, "cib", "new", tmp_path / "no" / "such" / "dir.xml")
    assert code == 1 and "cannot write: No such file or directory" in one_line_error(err)
    path = tmp_path / "cib.xml"
    code, _, err = hactl(capsys, "cib", "new", path, "--validate-with", "pacemaker-x")
    assert code == 1 and "unknown schema 'pacemaker-x'" in one_line_error(err)
    assert not path.exists()
