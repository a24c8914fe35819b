"""hactl's additions to pcs's grammar (docs/configuration-commands.md, "Beyond pcs"):
attribute sets with a score or rule on resources, properties and nodes; an operation's
own parameters and meta attributes; nvpair references; and pcs's `description` command.
Each is checked by reading the CIB back, by the real crm_verify, and for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree


@pytest.fixture
def cib(hactl, tmp_path: Path) -> Path:
    path = tmp_path / "cib.xml"
    for command in (
        "property set stonith-enabled=false",
        "resource create db ocf:heartbeat:Dummy state=/run/db-default",
        "resource create web ocf:heartbeat:Dummy --group g",
        "node attribute node1 rack=r1 --force",
    ):
        result = hactl(f"-f {path} {command}")
        assert result.code == 0, result.err
    return path


def _root(path: Path) -> etree._Element:
    return etree.parse(str(path)).getroot()


def _one(path: Path, xpath: str) -> etree._Element:
    found = _root(path).xpath(xpath)
    assert isinstance(found, list) and len(found) == 1, (xpath, found)
    element = found[0]
    assert isinstance(element, etree._Element)
    return element


def _ok(hactl, path: Path, command: str) -> str:
    result = hactl(f"-f {path} {command}")
    assert result.code == 0, result.err
    return result.out


def test_a_resource_set_with_score_and_rule_comes_after_the_plain_one(
    hactl, cib: Path, crm_verify
) -> None:
    _ok(
        hactl,
        cib,
        "resource set create db id=db-east score=10 options state=/run/db-east "
        "rule '#cluster-name' eq east",
    )
    sets = _root(cib).xpath("//primitive[@id='db']/instance_attributes")
    assert [s.get("id") for s in sets] == ["db-instance_attributes", "db-east"]
    east = sets[1]
    assert east.get("score") == "10"
    expression = east.find("rule/expression")
    assert expression is not None
    assert (expression.get("attribute"), expression.get("operation"), expression.get("value")) == (
        "#cluster-name",
        "eq",
        "east",
    )
    assert [(p.get("id"), p.get("value")) for p in east.findall("nvpair")] == [
        ("db-east-state", "/run/db-east")
    ]
    shown = json.loads(_ok(hactl, cib, "resource config db --output json"))
    assert shown[0]["instance_attributes"][1] == {
        "id": "db-east",
        "rule": "#cluster-name eq east",
        "score": "10",
        "nvpairs": {"state": "/run/db-east"},
    }
    assert "Attributes: db-east (score: 10) (rule: #cluster-name eq east)" in _ok(
        hactl, cib, "resource config db"
    )
    verified = crm_verify(cib)
    assert verified.returncode == 0, verified.stderr
    _ok(hactl, cib, "resource set delete db-east")
    assert _root(cib).xpath("//*[@id='db-east']") == []


def test_a_group_takes_instance_and_meta_attribute_sets(hactl, cib: Path, crm_verify) -> None:
    _ok(hactl, cib, "resource set create g options target_role=started")
    _ok(hactl, cib, "resource set create g meta resource-stickiness=10 rule date-spec hours=9-17")
    group = _one(cib, "//group[@id='g']")
    assert [(s.tag, s.get("id")) for s in group if s.tag != "primitive"] == [
        ("instance_attributes", "g-instance_attributes"),
        ("meta_attributes", "g-meta_attributes"),
    ]
    verified = crm_verify(cib)
    assert verified.returncode == 0, verified.stderr


def test_a_property_set_of_its_own_and_property_set_keeps_to_the_plain_one(
    hactl, cib: Path, crm_verify
) -> None:
    _ok(
        hactl,
        cib,
        "property set create id=night score=5 batch-limit=30 rule date-spec hours=0-6",
    )
    _ok(hactl, cib, "property set no-quorum-policy=freeze")
    blocks = _root(cib).xpath("//crm_config/cluster_property_set")
    assert [b.get("id") for b in blocks] == ["cib-bootstrap-options", "night"]
    assert blocks[0].find("nvpair[@name='no-quorum-policy']") is not None
    assert blocks[1].get("score") == "5" and blocks[1].find("rule/date_expression") is not None
    verified = crm_verify(cib)
    assert verified.returncode == 0, verified.stderr
    # what holds always, then what holds at times
    assert json.loads(_ok(hactl, cib, "property config --output json")) == {
        "stonith-enabled": "false",
        "no-quorum-policy": "freeze",
    }
    assert _ok(hactl, cib, "property config").splitlines()[-2:] == [
        "Cluster Properties: night (score: 5) (rule: date-spec hours=0-6)",
        "  batch-limit=30",
    ]
    sets = json.loads(_ok(hactl, cib, "config --output json"))["property_sets"]
    assert [(s["id"], s.get("rule")) for s in sets] == [
        ("cib-bootstrap-options", None),
        ("night", "date-spec hours=0-6"),
    ]
    _ok(hactl, cib, "property set delete night")
    assert [b.get("id") for b in _root(cib).xpath("//cluster_property_set")] == [
        "cib-bootstrap-options"
    ]


def test_a_property_set_checks_its_names(hactl, cib: Path) -> None:
    result = hactl(f"-f {cib} property set create id=x batch-limt=3")
    assert result.code == 1 and "did you mean 'batch-limit'?" in result.err
    assert hactl(f"-f {cib} property set create id=x batch-limt=3 --force").code == 0


def test_a_node_set_with_a_rule(hactl, cib: Path, crm_verify) -> None:
    _ok(hactl, cib, "node set create node1 id=n1-later attribute rack=r2 rule date gt 2030-01-01")
    blocks = _root(cib).xpath("//node[@uname='node1']/instance_attributes")
    assert [b.get("id") for b in blocks] == ["nodes-node1", "n1-later"]
    verified = crm_verify(cib)
    assert verified.returncode == 0, verified.stderr
    _ok(hactl, cib, "node set delete n1-later")
    assert len(_root(cib).xpath("//node[@uname='node1']/instance_attributes")) == 1


def test_operation_parameters_and_meta_attributes(hactl, cib: Path, crm_verify) -> None:
    _ok(
        hactl,
        cib,
        "resource create fs ocf:heartbeat:Dummy op monitor interval=120s OCF_CHECK_LEVEL=10 "
        "op_params depth=0 trace_ra= op_meta record-pending=true op start timeout=60s",
    )
    op = _one(cib, "//primitive[@id='fs']//op[@name='monitor']")
    params = [(p.get("name"), p.get("value")) for p in op.iterfind("instance_attributes/nvpair")]
    # NAME= in what a command creates is an empty value, as in pcs's create
    assert params == [("OCF_CHECK_LEVEL", "10"), ("depth", "0"), ("trace_ra", "")]
    assert [(p.get("name"), p.get("value")) for p in op.iterfind("meta_attributes/nvpair")] == [
        ("record-pending", "true")
    ]
    assert _one(cib, "//primitive[@id='fs']//op[@name='start']").get("timeout") == "60s"
    verified = crm_verify(cib)
    assert verified.returncode == 0, verified.stderr


def test_an_nvpair_reference_and_a_pair_with_its_own_id(hactl, cib: Path, crm_verify) -> None:
    _ok(hactl, cib, "resource set create db id=shared options '$shared-port:fake=5432'")
    _ok(hactl, cib, "resource set create web options @shared-port")
    pair = _one(cib, "//primitive[@id='web']/instance_attributes/nvpair")
    assert pair.get("id-ref") == "shared-port" and pair.get("name") is None
    verified = crm_verify(cib)
    assert verified.returncode == 0, verified.stderr
    result = hactl(f"-f {cib} resource set delete shared")
    assert result.code == 1 and "referred to from set 'web-instance_attributes'" in result.err
    result = hactl(f"-f {cib} resource delete db")
    assert result.code == 1 and "referred to from set 'web-instance_attributes'" in result.err
    _ok(hactl, cib, "resource delete web")  # the referring side may go
    _ok(hactl, cib, "resource delete db")


def test_description_as_pcs_sets_shows_and_removes_it(hactl, cib: Path) -> None:
    _ok(hactl, cib, "resource description db 'the main database'")
    assert _ok(hactl, cib, "resource description db") == "the main database\n"
    assert json.loads(_ok(hactl, cib, "resource description db --output json")) == {
        "id": "db",
        "description": "the main database",
    }
    assert json.loads(_ok(hactl, cib, "resource config db --output json"))[0]["description"] == (
        "the main database"
    )
    _ok(hactl, cib, "resource description db ''")
    assert _one(cib, "//primitive[@id='db']").get("description") is None


@pytest.mark.parametrize(
    ("command", "code", "says", "hint"),
    [
        (
            "resource set create dbb options a=1",
            1,
            "resource 'dbb' does not exist",
            "did you mean 'db'?",
        ),
        (
            "resource set create db optons a=1",
            1,
            "'optons' is not a NAME=VALUE pair",
            "did you mean 'options'?",
        ),
        ("resource set create db idd=x options a=1", 1, "'idd' is not a set option", "'id'"),
        ("resource set create db id=x", 2, "the set's kind is missing", "options | meta"),
        ("resource set create db options", 2, "the set has no values", "NAME=VALUE"),
        ("resource set create db score=lots options a=1", 1, "'lots' is not a score", "INFINITY"),
        (
            "resource set create db id=db-instance_attributes options fake=1",
            1,
            "id 'db-instance_attributes' is already in use",
            "another id",
        ),
        ("resource set create db options state=1 rule pingd eqq 5", 1, "'eqq'", "'eq'?"),
        ("resource set create db options bogus=1", 1, "has no parameter 'bogus'", "--force"),
        ("resource set create db options state=1 rule", 2, "'rule' needs an expression", "e.g."),
        (
            "resource set create db options @nowhere",
            1,
            "nvpair 'nowhere' does not exist",
            "hint",
        ),
        ("resource set create db options '$bad id:fake=1'", 1, "is not $ID:NAME=VALUE", "e.g."),
        ("resource set create db meta target-role=Sleeping", 1, "'Sleeping' is not a role", "hint"),
        (
            "resource set create g utilization cpu=2",
            1,
            "'g' is a group: utilization belongs to primitives",
            "(web)",
        ),
        ("resource utilization g cpu=2", 1, "utilization belongs to primitives", "(web)"),
        ("resource set delete nothere", 1, "set 'nothere' does not exist", "expected one of"),
        ("property set create id=x score=1", 2, "the set has no values", "NAME=VALUE"),
        ("node set create node9 attribute a=1", 1, "node 'node9' is not in the CIB", "--force"),
        (
            "node set create node1 atribute a=1",
            1,
            "'atribute' is not a NAME=VALUE pair",
            "did you mean 'attribute'?",
        ),
        (
            "resource create x ocf:heartbeat:Dummy op monitor depth=0",
            1,
            "'depth' is not an operation option",
            "op_params",
        ),
        (
            "resource create x ocf:heartbeat:Dummy op monitor OCF_CHECK_LEVEL=1 "
            "op_params OCF_CHECK_LEVEL=2",
            1,
            "OCF_CHECK_LEVEL is given twice",
            "give it once",
        ),
        ("resource description db a b", 2, "the description is one argument", "quote it"),
        ("resource description nothere x", 1, "resource 'nothere' does not exist", "hint"),
    ],
)
def test_bad_input_is_one_line_and_leaves_the_cib_alone(
    hactl, cib: Path, command: str, code: int, says: str, hint: str
) -> None:
    before = cib.read_bytes()
    result = hactl(f"-f {cib} {command}")
    assert result.code == code, result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert says in lines[0] and hint in lines[0], lines[0]
    assert cib.read_bytes() == before
