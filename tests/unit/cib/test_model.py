"""The typed model and the pure edits, on the sample CIB and on real Pacemaker CIBs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hactl.core.cib.document import CibDocument, IdProvider
from hactl.core.cib.edit import append_element, nvset, set_cluster_option, set_nvpair
from hactl.core.cib.model import (
    Clone,
    Colocation,
    DateExpression,
    Expression,
    Group,
    Location,
    Order,
    Primitive,
    Ticket,
    build_model,
)
from hactl.core.cib.patch import bump_versions
from hactl.core.cib.validate import validate


def test_configuration_of_the_sample(sample_text: str) -> None:
    cib = build_model(CibDocument.from_bytes(sample_text.encode()))
    config = cib.configuration
    assert (cib.admin_epoch, cib.epoch, cib.num_updates) == (0, 5, 2)
    # the 2.x spelling stonith-enabled is read under the 3.x name
    assert config.options == {"fencing-enabled": "false", "no-quorum-policy": "ignore"}
    assert config.option("stonith-enabled") == config.option("fencing-enabled") == "false"
    assert [(n.id, n.uname) for n in config.nodes] == [("1", "node1"), ("2", "node2")]
    assert config.nodes[0].instance_attributes[0].as_dict() == {"site": "a"}

    ip, web, db = config.resources
    assert isinstance(ip, Primitive) and ip.agent == "ocf:heartbeat:IPaddr2"
    assert ip.params == {"ip": "192.0.2.10"}
    assert ip.operations[0].interval_ms == 10_000 and ip.operations[0].timeout == "20s"
    assert isinstance(web, Group) and [m.id for m in web.members] == ["fs", "apache"]
    assert web.members[1].meta == {"target-role": "Started"}
    assert isinstance(db, Clone) and db.promotable and not db.legacy_master
    assert isinstance(db.child, Primitive)
    assert [op.role for op in db.child.operations] == ["Promoted", "Unpromoted"]
    assert [p.id for p in config.primitives()] == ["ip", "fs", "apache", "db"]

    location, rule_location, col1, col2, order, set_order, ticket = config.constraints
    assert isinstance(location, Location) and location.score == 100
    assert isinstance(rule_location, Location) and rule_location.rules[0].score == -1_000_000
    rule = rule_location.rules[0]
    assert rule.boolean_op == "or"
    assert isinstance(rule.items[0], Expression) and rule.items[0].operation == "ne"
    assert isinstance(rule.items[1], DateExpression) and rule.items[1].end == "2030-01-01"
    assert isinstance(col1, Colocation) and col1.score == 1_000_000
    assert isinstance(col2, Colocation) and col2.with_rsc_role == "Promoted"  # was Master
    assert isinstance(order, Order) and order.kind == "Mandatory"
    assert isinstance(set_order, Order)
    assert [s.resources for s in set_order.resource_sets] == [("ip", "fs"), ("apache",)]
    assert set_order.resource_sets[0].sequential is False
    assert isinstance(ticket, Ticket) and ticket.loss_policy == "stop"

    assert config.rsc_defaults[0].as_dict() == {"resource-stickiness": "100"}
    assert config.op_defaults[0].as_dict() == {"timeout": "30s"}
    assert config.fencing_levels[0].devices == ("ip",) and config.fencing_levels[0].index == 1
    assert config.tags[0].references == ("ip", "web")
    assert config.alerts[0].recipients[0].value == "/var/log/alerts.log"


def test_status_of_the_sample(sample_text: str) -> None:
    (state,) = build_model(CibDocument.from_bytes(sample_text.encode())).status
    assert (state.uname, state.crmd, state.join) == ("node1", "online", "member")
    assert state.node_attributes == {"master-db": "10"}
    (resource,) = state.lrm_resources
    assert resource.type == "IPaddr2"
    assert [(op.operation, op.interval_ms, op.rc_code, op.call_id) for op in resource.ops] == [
        ("start", 0, 0, 5),
        ("monitor", 10_000, 0, 6),
    ]


def test_legacy_master_is_a_promotable_clone(sample_text: str) -> None:
    text = (
        sample_text.replace('<clone id="db-clone">', '<master id="db-clone">')
        .replace("</clone>", "</master>")
        .replace('<nvpair id="db-clone-promotable" name="promotable" value="true"/>', "")
    )
    cib = build_model(CibDocument.from_bytes(text.encode()))
    clone = cib.resource("db-clone")
    assert isinstance(clone, Clone) and clone.promotable and clone.legacy_master


def test_every_corpus_cib_builds_a_model(corpus: list[Path]) -> None:
    primitives = 0
    for path in corpus:
        cib = build_model(CibDocument.load(path))
        primitives += len(cib.configuration.primitives())
        for state in cib.status:
            for resource in state.lrm_resources:
                assert all(op.id for op in resource.ops), path
    assert primitives > 1000


def test_edits_compose_into_a_cib_crm_verify_accepts(
    tmp_path: Path, crm_verify: Callable[[Path], tuple[int, list[str]]]
) -> None:
    old = CibDocument.new_empty()
    doc = old.copy()
    ids = IdProvider(doc)
    set_cluster_option(doc, "stonith-enabled", "false", ids)
    set_cluster_option(doc, "fencing-enabled", "false", ids)  # updates the same nvpair
    resources = doc.section("resources")
    assert resources is not None
    for name in ("dummy", "dummy"):
        primitive = append_element(
            resources,
            "primitive",
            ids,
            name,
            type="Dummy",
            provider="heartbeat",
            **{"class": "ocf"},
        )
        set_nvpair(nvset(primitive, "meta_attributes", ids), "target-role", "Stopped", ids)  # type: ignore[arg-type]
    assert [p.get("id") for p in resources] == ["dummy", "dummy-1"]
    assert [p.get("name") for p in doc.root.iter("nvpair")][:1] == ["stonith-enabled"]
    assert validate(doc) == []
    assert bump_versions(old, doc) and doc.versions() == (0, 2, 0)
    path = tmp_path / "cib.xml"
    path.write_bytes(doc.serialize())
    assert crm_verify(path) == (0, [])
    model = build_model(doc)
    assert model.configuration.option("fencing-enabled") == "false"
    assert [p.meta for p in model.configuration.primitives()] == [{"target-role": "Stopped"}] * 2
