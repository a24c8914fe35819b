"""Versions, v2 patchsets and xpath queries, checked against Pacemaker's own tools
(crm_diff, cibadmin on a CIB_file) where they are installed."""

from __future__ import annotations

import copy
import os
import random
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from hactl.core.cib.document import CibDocument, CibError
from hactl.core.cib.patch import (
    apply_patch,
    bump_versions,
    diff,
    is_empty_patch,
    parse_patch,
    query_output,
    xpath_query,
)

Mutate = Callable[[CibDocument, random.Random, int], CibDocument]


def canonical(element: etree._Element) -> bytes:
    clone = copy.deepcopy(element)
    for node in clone.iter():
        node.tail = None
        if isinstance(node.tag, str) and node.text is not None and not node.text.strip():
            node.text = None
    return etree.tostring(clone, method="c14n")


def same(a: CibDocument, b: CibDocument) -> bool:
    return canonical(a.root) == canonical(b.root)


@pytest.mark.parametrize("seed", range(60))
def test_diff_then_apply_gives_the_new_document(
    mutate: Mutate, sample_text: str, seed: int
) -> None:
    rng = random.Random(seed)
    old = CibDocument.from_bytes(sample_text.encode())
    new = mutate(old, rng, edits=rng.randint(1, 8))
    patch = diff(old, new)
    result = old.copy()
    apply_patch(result, patch, check_versions=False)
    assert same(result, new), etree.tostring(patch, pretty_print=True).decode()


def test_no_change_is_an_empty_patch(sample_text: str) -> None:
    doc = CibDocument.from_bytes(sample_text.encode())
    assert is_empty_patch(diff(doc, doc.copy()))


@pytest.fixture
def crm_diff(require_tool: Callable[[str], str]) -> str:
    return require_tool("crm_diff")


@pytest.mark.parametrize("seed", range(12))
def test_crm_diff_applies_our_patches_and_we_apply_its(
    mutate: Mutate, tmp_path: Path, sample_text: str, crm_diff: str, seed: int
) -> None:
    rng = random.Random(1000 + seed)
    old = CibDocument.from_bytes(sample_text.encode())
    new = mutate(old, rng, edits=rng.randint(1, 6))
    old_path, new_path, patch_path = tmp_path / "old.xml", tmp_path / "new.xml", tmp_path / "p.xml"
    old_path.write_bytes(old.serialize())
    new_path.write_bytes(new.serialize())

    patch_path.write_bytes(etree.tostring(diff(old, new)))
    applied = subprocess.run(
        [crm_diff, "-o", old_path, "-p", patch_path], capture_output=True, timeout=30
    )
    assert applied.returncode == 0, applied.stderr
    assert same(CibDocument.from_bytes(applied.stdout), new)

    theirs = subprocess.run(
        [crm_diff, "-o", old_path, "-n", new_path], capture_output=True, timeout=30
    )
    if not theirs.stdout.strip():  # crm_diff prints nothing when the edits cancelled out
        assert same(old, new) and is_empty_patch(diff(old, new))
        return
    ours = old.copy()
    apply_patch(ours, parse_patch(theirs.stdout), check_versions=False)
    assert same(ours, new)


def test_patch_checks_versions(sample_text: str) -> None:
    old = CibDocument.from_bytes(sample_text.encode())
    new = old.copy()
    new.section("resources").remove(new.find_by_id("ip"))  # type: ignore[union-attr,arg-type]
    assert bump_versions(old, new)
    patch = diff(old, new)
    applied = old.copy()
    apply_patch(applied, patch)
    assert applied.versions() == (0, 6, 0) and same(applied, new)
    with pytest.raises(CibError, match=r"applies to version 0\.5\.2, the CIB is at 0\.6\.0"):
        apply_patch(applied, patch)


def test_a_patch_that_does_not_fit_leaves_the_document_unchanged(sample_text: str) -> None:
    doc = CibDocument.from_bytes(sample_text.encode())
    before = canonical(doc.root)
    patch = parse_patch(b"""<diff format="2">
      <change operation="modify" path="/cib/configuration/resources/primitive[@id='ip']">
        <change-list/><change-result><primitive id="ip" class="lsb" type="x"/></change-result>
      </change>
      <change operation="modify" path="/cib/configuration/resources/primitive[@id='nope']">
        <change-list/><change-result><primitive id="nope"/></change-result>
      </change></diff>""")
    with pytest.raises(CibError, match="modify target not found: .*nope"):
        apply_patch(doc, patch, check_versions=False)
    assert canonical(doc.root) == before


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"<cib/>", "a patch is a <diff> element, not <cib>"),
        (b'<diff format="1"/>', "unsupported patch format"),
        (
            b'<diff format="2"><change operation="rename" path="/cib"/></diff>',
            "unknown change operation",
        ),
        (b'<diff format="2"><change operation="create" path="cib/x"/></diff>', "bad change path"),
    ],
)
def test_bad_patches_are_refused(sample_text: str, text: bytes, message: str) -> None:
    doc = CibDocument.from_bytes(sample_text.encode())
    with pytest.raises(CibError, match=message):
        apply_patch(
            doc,
            parse_patch(text) if b"<diff" in text else etree.fromstring(text),
            check_versions=False,
        )


# -- versions, against cibadmin working on a file ----------------------------------------------


@pytest.fixture
def cibadmin(require_tool: Callable[[str], str], tmp_path: Path) -> Callable[..., Path]:
    tool = require_tool("cibadmin")

    def run(path: Path, *args: str) -> Path:
        env = {**os.environ, "CIB_file": str(path), "LC_ALL": "C", "CIB_shadow_dir": str(tmp_path)}
        done = subprocess.run([tool, *args], capture_output=True, text=True, env=env, timeout=30)
        assert done.returncode == 0, done.stderr
        return path

    return run


@pytest.mark.parametrize(
    ("cibadmin_args", "edit"),
    [
        pytest.param(
            ["--modify", "--xml-text", '<primitive id="ip" description="d"/>'],
            lambda doc: doc.find_by_id("ip").set("description", "d"),
            id="configuration-change",
        ),
        pytest.param(
            ["--modify", "-o", "status", "--xml-text", '<node_state id="1" expected="down"/>'],
            lambda doc: doc.root.find("status/node_state").set("expected", "down"),
            id="status-change",
        ),
        pytest.param(
            ["--modify", "--xml-text", '<cib admin_epoch="3"/>'],
            lambda doc: doc.root.set("admin_epoch", "3"),
            id="admin-epoch",
        ),
        pytest.param(
            ["--delete", "--xml-text", '<rsc_location id="loc-ip"/>'],
            lambda doc: doc.find_by_id("loc-ip").getparent().remove(doc.find_by_id("loc-ip")),
            id="deletion",
        ),
    ],
)
def test_versions_bump_as_pacemaker_bumps_them(
    tmp_path: Path,
    sample_text: str,
    cibadmin: Callable[..., Path],
    cibadmin_args: list[str],
    edit: Callable[[CibDocument], None],
) -> None:
    path = tmp_path / "cib.xml"
    path.write_text(sample_text)
    theirs = CibDocument.load(cibadmin(path, *cibadmin_args))
    old = CibDocument.from_bytes(sample_text.encode())
    ours = old.copy()
    edit(ours)
    assert bump_versions(old, ours)
    assert ours.versions() == theirs.versions()


def test_cibadmin_patch_takes_our_patch(
    tmp_path: Path, sample_text: str, cibadmin: Callable[..., Path]
) -> None:
    old = CibDocument.from_bytes(sample_text.encode())
    new = old.copy()
    resources, constraints = new.section("resources"), new.section("constraints")
    assert resources is not None and constraints is not None
    resources.insert(
        0,
        etree.Element(
            "primitive", id="extra", type="Dummy", provider="heartbeat", **{"class": "ocf"}
        ),
    )
    resources.append(new.find_by_id("ip"))  # type: ignore[arg-type]  # a move
    constraints.remove(new.find_by_id("loc-ip"))  # type: ignore[arg-type]
    new.find_by_id("col-web-ip").set("score", "500")  # type: ignore[union-attr]
    assert bump_versions(old, new)
    path, patch_path = tmp_path / "cib.xml", tmp_path / "patch.xml"
    path.write_bytes(old.serialize())
    patch_path.write_bytes(etree.tostring(diff(old, new)))
    patched = CibDocument.load(cibadmin(path, "--patch", "--xml-file", str(patch_path)))
    # cibadmin runs the patch as a configuration request of its own: one more epoch.
    assert patched.versions() == (0, new.versions()[1] + 1, 0)
    for doc in (patched, new):
        for name in ("epoch", "cib-last-written"):
            doc.root.attrib.pop(name, None)
    assert same(patched, new)


# -- xpath ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "xpath",
    [
        "//primitive",
        "//primitive[@id='ip']",
        "/cib/configuration/constraints",
        "//nvpair/@name",
        "//rsc_location[rule]",
    ],
)
def test_xpath_query_prints_what_cibadmin_prints(
    sample_cib: Path, require_tool: Callable[[str], str], xpath: str
) -> None:
    tool = require_tool("cibadmin")
    env = {**os.environ, "CIB_file": str(sample_cib), "LC_ALL": "C"}
    theirs = subprocess.run(
        [tool, "-Q", "--xpath", xpath], capture_output=True, env=env, timeout=30
    )
    ours = query_output(xpath_query(CibDocument.load(sample_cib), xpath))
    assert theirs.returncode == 0
    assert canonical(etree.fromstring(ours)) == canonical(etree.fromstring(theirs.stdout))


def test_xpath_errors_are_clear(sample_text: str) -> None:
    doc = CibDocument.from_bytes(sample_text.encode())
    assert xpath_query(doc, "//nothing") == []
    with pytest.raises(CibError, match="invalid xpath"):
        xpath_query(doc, "//primitive[")
    with pytest.raises(CibError, match="gives a value"):
        xpath_query(doc, "count(//primitive)")


def feature_set(doc: CibDocument) -> tuple[int, ...]:
    text = doc.root.get("crm_feature_set") or "0"
    return tuple(int(part) for part in text.split(".") if part.isdigit())


def test_crm_diff_agrees_on_corpus_cibs(
    mutate: Mutate, tmp_path: Path, corpus: list[Path], crm_diff: str
) -> None:
    """Real, large CIBs (status sections included), edited at random: our patch applied by
    crm_diff, and crm_diff's applied by us, both give the edited CIB."""
    rng = random.Random(42)
    # crm_diff writes the older v1 format for CIBs of feature set 3.0.8 and older
    recent = [p for p in corpus if feature_set(CibDocument.load(p)) > (3, 0, 8)]
    for path in rng.sample(recent, 8):
        old = CibDocument.load(path)
        new = mutate(old, rng, edits=10)
        old_path, new_path, patch_path = tmp_path / "o.xml", tmp_path / "n.xml", tmp_path / "p.xml"
        old_path.write_bytes(old.serialize())
        new_path.write_bytes(new.serialize())
        patch_path.write_bytes(etree.tostring(diff(old, new)))
        applied = subprocess.run(
            [crm_diff, "-o", old_path, "-p", patch_path], capture_output=True, timeout=60
        )
        assert applied.returncode == 0, (path.name, applied.stderr)
        assert same(CibDocument.from_bytes(applied.stdout), new), path.name
        theirs = subprocess.run(
            [crm_diff, "-o", old_path, "-n", new_path], capture_output=True, timeout=60
        )
        if theirs.stdout.strip():
            ours = old.copy()
            apply_patch(ours, parse_patch(theirs.stdout), check_versions=False)
            assert same(ours, new), path.name


def test_comments_are_diffed_like_crm_diff_does(
    sample_text: str, crm_diff: str, tmp_path: Path
) -> None:
    old_text = sample_text.replace(
        '<rsc_location id="loc-ip"', '<!-- a --><rsc_location id="loc-ip"'
    )
    new_text = sample_text.replace(
        '<rsc_colocation id="col-web-ip"', '<!-- b --><rsc_colocation id="col-web-ip"'
    )
    old_path, new_path = tmp_path / "o.xml", tmp_path / "n.xml"
    old_path.write_text(old_text)
    new_path.write_text(new_text)
    theirs = subprocess.run(
        [crm_diff, "-o", old_path, "-n", new_path], capture_output=True, timeout=30
    )
    ours = diff(CibDocument.load(old_path), CibDocument.load(new_path))
    assert canonical(ours) == canonical(parse_patch(theirs.stdout))
