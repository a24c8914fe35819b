"""The graph XML carries each action's attributes as Pacemaker writes them (the cases' .exp).

A sample of the regression cases covering parameters, op timeouts and intervals, probes'
expected results, migrations, cancels, clone instance numbers and sizes, notifications'
lists, fencing and shutdown, unfencing and its device digests, templates and defaults.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from lxml import etree

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

CASES = [
    "594",
    "bug-1820",
    "clone-anon-probe-1",
    "migrate-fail-2",
    "migrate-partial-1",
    "monitor-onfail-stop",
    "notify-0",
    "promoted-notify",
    "rec-node-8",
    "rsc-defaults",
    "stonith-0",
    "template-clone-group",
    "unfence-definition",
    "unfence-device",
    "unmanaged-promoted",
]


def graph_actions(root: etree._Element) -> dict[tuple[str, str], dict[str, str]]:
    """(operation key, node) -> the action's attributes and primitive, per synapse."""
    out: dict[tuple[str, str], dict[str, str]] = {}
    for synapse in root.iter("synapse"):
        action_set = synapse.find("action_set")
        assert action_set is not None
        for action in action_set:
            details: dict[str, str] = {}
            attributes = action.find("attributes")
            if attributes is not None:
                details.update(attributes.attrib)
            details.pop("crm_feature_set", None)
            primitive = action.find("primitive")
            if primitive is not None:
                details.update({f"primitive {k}": v for k, v in primitive.attrib.items()})
            out[(action.get("operation_key", ""), action.get("on_node", ""))] = details
    return out


@pytest.mark.parametrize("case", CASES)
def test_action_attributes_match_pacemaker(case: str) -> None:
    from hactl.core.cli.simulate import load_cib, parse_time
    from hactl.core.scheduler import output, schedule

    cib = load_cib(sc.CASES / "cases" / "xml" / f"{case}.xml")
    ws = schedule(cib, parse_time(sc.case_meta().get(case) or None, cib))
    ours = graph_actions(etree.fromstring(output.graph_xml(ws).encode()))
    want = graph_actions(etree.parse(str(sc.CASES / "cases" / "exp" / f"{case}.exp")).getroot())
    assert sorted(ours) == sorted(want)
    differing = {key: (want[key], ours[key]) for key in want if want[key] != ours[key]}
    assert not differing
