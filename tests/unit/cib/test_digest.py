"""Operation digests equal the ones Pacemaker recorded in the scheduler corpus's CIBs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from lxml import etree

from hactl.core.cib.digest import op_digest
from hactl.core.cib.schema import parse_duration_ms

#: ../shared beside the checkout, as the project's layout has it (HACTL_SHARED_DIR overrides)
SHARED = Path(os.environ.get("HACTL_SHARED_DIR") or Path(__file__).resolve().parents[4] / "shared")
CORPUS = (SHARED if SHARED.is_dir() else Path("/work/shared")) / "conformance/scheduler/cases/xml"


def _recorded_and_computed() -> list[tuple[str, str, str]]:
    """(record id, digest Pacemaker recorded, digest hactl computes) for every start and
    monitor record of a primitive whose parameters carry no rules."""
    found = []
    for path in sorted(CORPUS.glob("*.xml")):
        doc = etree.parse(str(path))
        primitives = {p.get("id"): p for p in doc.iter("primitive") if not p.get("template")}
        for record in doc.iter("lrm_rsc_op"):
            primitive = primitives.get(record.getparent().get("id"))
            if primitive is None or not record.get("op-digest"):
                continue
            if record.get("operation") not in ("start", "monitor"):
                continue
            sets = primitive.findall("instance_attributes")
            if any(s.find("rule") is not None for s in sets):
                continue
            params: dict[str, str] = {}
            for nvset in sets:
                for pair in nvset.iterfind("nvpair"):
                    params.setdefault(pair.get("name"), pair.get("value", ""))
            interval = int(record.get("interval", "0"))
            timeout = None
            if interval:
                configured = [
                    o.get("timeout")
                    for o in primitive.iter("op")
                    if o.get("name") == record.get("operation")
                    and o.get("timeout")
                    and parse_duration_ms(o.get("interval", "0")) == interval
                ]
                if not configured:
                    continue
                timeout = parse_duration_ms(configured[0])
            found.append(
                (
                    f"{path.name}:{record.get('id')}",
                    record.get("op-digest"),
                    op_digest(params, interval_ms=interval, timeout_ms=timeout),
                )
            )
    return found


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the scheduler corpus is not at {CORPUS}")
def test_digests_agree_with_pacemakers_records() -> None:
    records = _recorded_and_computed()
    agreeing = sum(recorded == computed for _, recorded, computed in records)
    assert len(records) > 5000
    # the rest were recorded before the case's author changed parameters on purpose
    assert agreeing / len(records) > 0.9, f"{agreeing} of {len(records)}"


def test_digest_is_independent_of_order_and_meta() -> None:
    a = op_digest({"ip": "10.0.0.1", "cidr_netmask": "24", "CRM_meta_name": "start"})
    assert a == op_digest({"cidr_netmask": "24", "ip": "10.0.0.1"})
    assert a != op_digest({"cidr_netmask": "32", "ip": "10.0.0.1"})
    # a recurring operation's timeout is part of its digest, a one-shot's is not
    assert op_digest({"ip": "x"}, interval_ms=10000, timeout_ms=20000) != op_digest(
        {"ip": "x"}, interval_ms=10000, timeout_ms=30000
    )
    assert op_digest({"ip": "x"}, timeout_ms=20000) == op_digest({"ip": "x"})
