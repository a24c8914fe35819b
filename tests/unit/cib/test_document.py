"""CibDocument, ids and value syntax."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from hactl.core.cib.document import CibDocument, CibError, IdProvider, is_valid_id, sanitize_id
from hactl.core.cib.schema import parse_boolean, parse_duration_ms, parse_score


def test_new_empty_is_what_cibadmin_empty_writes() -> None:
    doc = CibDocument.new_empty()
    assert doc.root.get("validate-with") == "pacemaker-3.9"
    assert doc.versions() == (0, 1, 0)
    assert [c.tag for c in doc.configuration] == ["crm_config", "nodes", "resources", "constraints"]
    assert doc.root.find("status") is not None
    assert CibDocument.new_empty("pacemaker-3.0").root.get("validate-with") == "pacemaker-3.0"


def test_sections_are_created_in_pacemakers_order() -> None:
    doc = CibDocument.new_empty()
    doc.section("tags", create=True)
    doc.section("rsc_defaults", create=True)
    doc.section("fencing-topology", create=True)
    assert [c.tag for c in doc.configuration] == [
        "crm_config", "nodes", "resources", "constraints", "rsc_defaults", "fencing-topology",
        "tags",
    ]  # fmt: skip
    assert doc.section("alerts") is None
    with pytest.raises(ValueError):
        doc.section("resource")


def test_find_by_id_and_where(sample_cib: Path) -> None:
    doc = CibDocument.load(sample_cib)
    colocation = doc.find_by_id("col-web-db")
    assert colocation is not None and colocation.tag == "rsc_colocation"
    # its start tag spans two lines: messages name the first
    line = (
        sample_cib.read_text()
        .splitlines()
        .index(next(t for t in sample_cib.read_text().splitlines() if 'id="col-web-db"' in t))
        + 1
    )
    assert doc.where(colocation) == f"{sample_cib}:{line} <rsc_colocation id='col-web-db'>"
    assert doc.find_by_id("status-1") is None  # the status section is not searched...
    assert doc.find_by_id("status-1", include_status=True) is not None  # ...unless asked


@pytest.mark.parametrize(
    ("content", "message", "hint"),
    [
        (b"", "the file is empty", "hactl cib new"),
        (b"   \n", "the file is empty", "hactl cib new"),
        (b"<cib", "not well-formed XML", "truncated"),
        (b"<cib><configuration></cib>", "not well-formed XML", "fix the XML syntax"),
        (b"<nodes/>", "root element is <nodes>, not <cib>", "right file"),
        (b"\x00\x01binary", "not well-formed XML", None),
    ],
)
def test_load_errors_name_file_and_line(
    tmp_path: Path, content: bytes, message: str, hint: str | None
) -> None:
    path = tmp_path / "cib.xml"
    path.write_bytes(content)
    with pytest.raises(CibError) as caught:
        CibDocument.load(path)
    error = caught.value
    assert message in error.message and error.where is not None
    assert error.where.startswith(str(path))
    if hint:
        assert error.hint is not None and hint in error.hint


def test_load_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(CibError, match="no such file"):
        CibDocument.load(tmp_path / "absent.xml")
    with pytest.raises(CibError, match="is a directory"):
        CibDocument.load(tmp_path)


def test_entities_are_not_expanded(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s3cret")
    text = (
        f'<!DOCTYPE cib [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<cib admin_epoch="0" epoch="1" num_updates="0"><configuration>'
        "<crm_config/><nodes/><resources/><constraints/></configuration>"
        "<status>&x;</status></cib>"
    )
    doc = CibDocument.from_bytes(text.encode())
    assert b"s3cret" not in doc.serialize()


def test_id_provider_makes_ids_like_pcs(sample_text: str) -> None:
    doc = CibDocument.from_bytes(sample_text.encode())
    ids = IdProvider(doc)
    assert ids.allocate("ip") == "ip-1"
    assert ids.allocate("ip") == "ip-2"  # handed out before being inserted
    assert ids.allocate("new") == "new"
    assert ids.allocate("1 bad:name") == "bad-name"
    assert not ids.book("web") and ids.book("mine") and not ids.book("mine")
    assert ids.allocate("mine") == "mine-1"


@given(st.text(max_size=30))
def test_sanitized_ids_are_valid(text: str) -> None:
    assert is_valid_id(sanitize_id(text))


@given(st.integers(min_value=0, max_value=10**9), st.sampled_from(
    [("", 1000), ("s", 1000), ("sec", 1000), ("ms", 1), ("msec", 1), ("m", 60_000),
     ("min", 60_000), ("h", 3_600_000), ("hr", 3_600_000)]
))  # fmt: skip
def test_durations_with_units(number: int, unit: tuple[str, int]) -> None:
    assert parse_duration_ms(f"{number}{unit[0]}") == number * unit[1]


@pytest.mark.parametrize(
    ("text", "ms"),
    [("PT10S", 10_000), ("P10S", 10_000), ("PT1H30M", 5_400_000), ("P1D", 86_400_000),
     ("PT0.5S", 500), ("10 x", None), ("-5", None), ("P", None), ("", None), ("1.5s", None)],
)  # fmt: skip
def test_iso_and_bad_durations(text: str, ms: int | None) -> None:
    assert parse_duration_ms(text) == ms


@given(st.integers())
def test_integer_scores_are_clamped(value: int) -> None:
    assert parse_score(str(value)) == max(-1_000_000, min(1_000_000, value))


def test_score_words_and_booleans() -> None:
    assert parse_score("INFINITY") == parse_score("+INFINITY") == 1_000_000
    assert parse_score("-INFINITY") == -1_000_000
    assert parse_score("lots") is None and parse_score("1e3") is None
    assert [parse_boolean(v) for v in ("true", "Yes", "on", "1", "false", "no", "0", "x")] == [
        True, True, True, True, False, False, False, None,
    ]  # fmt: skip


def test_copy_is_independent(sample_text: str) -> None:
    doc = CibDocument.from_bytes(sample_text.encode())
    clone = doc.copy()
    etree.SubElement(clone.configuration, "tags")
    assert doc.serialize() != clone.serialize()
