"""rsc-pattern in a location constraint (Pacemaker's unpack_location): a regular expression
searched in resource names; a leading ! applies the constraint to the resources it does not
match; an invalid expression makes the constraint ignored."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from hactl.core.scheduler import schedule

NOW = dt.datetime(2024, 5, 1, 12, 0, 0)


def _placed(pattern: str) -> dict[str, str | None]:
    dummies = "".join(
        f'<primitive id="{r}" class="ocf" provider="pacemaker" type="Dummy"/>'
        for r in ("web1", "web2", "db1")
    )
    online = (
        '<node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member" '
        'expected="member"/>'
    )
    text = f"""
<cib validate-with="pacemaker-3.0" have-quorum="true">
  <configuration>
    <crm_config><cluster_property_set id="o">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
    </cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/></nodes>
    <resources>{dummies}</resources>
    <constraints>
      <rsc_location id="ban" rsc-pattern="{pattern}" node="node1" score="-INFINITY"/>
    </constraints>
  </configuration>
  <status>{online}</status>
</cib>"""
    ws = schedule(etree.fromstring(text), NOW)
    return {r: (n.name if (n := ws.by_id[r].assigned) else None) for r in ws.by_id}


def test_a_pattern_bans_what_it_matches() -> None:
    assert _placed("web") == {"web1": None, "web2": None, "db1": "node1"}


def test_a_negated_pattern_bans_what_it_does_not_match() -> None:
    assert _placed("!web") == {"web1": "node1", "web2": "node1", "db1": None}


def test_an_invalid_pattern_is_ignored() -> None:
    assert _placed("web(") == {"web1": "node1", "web2": "node1", "db1": "node1"}
