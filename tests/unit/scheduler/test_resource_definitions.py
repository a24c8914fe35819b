"""What a resource element configures is read from the XML once per element (every clone
instance unpacks its template's element again), yet each resource gets its own copies: its
parameters, utilization and operations, a primitive's own operations replacing its
template's, its template's parameters merged under its own."""

from __future__ import annotations

from lxml import etree

from hactl.core.scheduler import unpack
from hactl.core.scheduler.model import WorkingSet

from .cib_text import NOW, cib

CIB = cib(
    """
      <template id="T" class="ocf" provider="heartbeat" type="Dummy">
        <instance_attributes id="T-ia">
          <nvpair id="T-a" name="a" value="template"/>
          <nvpair id="T-b" name="b" value="template"/>
        </instance_attributes>
        <utilization id="T-u"><nvpair id="T-cpu" name="cpu" value="2"/></utilization>
        <operations><op id="T-m" name="monitor" interval="10s"/></operations>
      </template>
      <primitive id="Inherits" template="T"/>
      <primitive id="Overrides" template="T">
        <instance_attributes id="O-ia"><nvpair id="O-b" name="b" value="own"/></instance_attributes>
        <operations><op id="O-m" name="monitor" interval="30s" on-fail="block"/></operations>
      </primitive>
      <clone id="C">
        <primitive id="P" class="ocf" provider="heartbeat" type="Dummy">
          <instance_attributes id="P-ia"><nvpair id="P-x" name="x" value="1"/></instance_attributes>
          <operations><op id="P-m" name="monitor" interval="20s"/></operations>
        </primitive>
      </clone>
"""
)


def _working_set() -> WorkingSet:
    return unpack.unpack(etree.fromstring(CIB), NOW, constraints=False)


def test_a_primitive_merges_its_template_under_its_own_definition() -> None:
    ws = _working_set()
    inherits, overrides = ws.by_id["Inherits"], ws.by_id["Overrides"]
    assert inherits.params == {"a": "template", "b": "template"}
    assert overrides.params == {"a": "template", "b": "own"}
    assert inherits.utilization == overrides.utilization == {"cpu": 2}
    assert [(op.id, op.interval_ms) for op in inherits.ops] == [("T-m", 10000)]
    # its own operations replace the template's entirely
    assert [(op.id, op.interval_ms, op.on_fail) for op in overrides.ops] == [
        ("O-m", 30000, "block")
    ]


def test_clone_instances_share_a_definition_but_not_its_objects() -> None:
    ws = _working_set()
    first, second = ws.by_id["P:0"], ws.by_id["P:1"]
    assert first.params == second.params == {"x": "1"}
    assert first.params is not second.params
    assert [op.id for op in first.ops] == [op.id for op in second.ops] == ["P-m"]
    assert first.ops[0] is not second.ops[0]
    first.params["x"] = "changed"
    assert second.params == {"x": "1"}
