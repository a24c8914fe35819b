"""`hactl -f FILE resource relocate …` offline: a CIB with status in which stickiness keeps
`web` on node1 although a location constraint prefers node2 (and stickiness-free balancing
would then put `db` on node1). The moves are checked against the real crm_simulate and pcs."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from hactl.core.commands import relocate

#: web started on node1, db on node2 (each probed not running on the other node)
STICKY_CIB = """\
<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.9" epoch="10" num_updates="0"
  admin_epoch="0" have-quorum="1" dc-uuid="1">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="cib-bootstrap-options-stonith-enabled" name="stonith-enabled" value="false"/>
      </cluster_property_set>
    </crm_config>
    <nodes>
      <node id="1" uname="node1"/>
      <node id="2" uname="node2"/>
    </nodes>
    <resources>
      <primitive id="web" class="ocf" provider="heartbeat" type="Dummy">
        <operations>
          <op id="web-monitor-interval-10s" name="monitor" interval="10s"/>
        </operations>
      </primitive>
      <primitive id="db" class="ocf" provider="heartbeat" type="Dummy"/>
    </resources>
    <constraints>
      <rsc_location id="location-web-node2-50" rsc="web" node="node2" score="50"/>
    </constraints>
    <rsc_defaults>
      <meta_attributes id="rsc_defaults-meta_attributes">
        <nvpair id="rsc_defaults-meta_attributes-resource-stickiness" name="resource-stickiness"
          value="100"/>
      </meta_attributes>
    </rsc_defaults>
  </configuration>
  <status>
    <node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member" expected="member"
      crm-debug-origin="do_update_resource">
      <lrm id="1">
        <lrm_resources>
          <lrm_resource id="web" class="ocf" provider="heartbeat" type="Dummy">
            <lrm_rsc_op id="web_last_0" operation_key="web_start_0" operation="start"
              crm-debug-origin="do_update_resource" crm_feature_set="3.16.1"
              transition-key="1:1:0:0-0" transition-magic="0:0;1:1:0:0-0" call-id="3" rc-code="0"
              op-status="0" interval="0" last-rc-change="1700000000" exec-time="10" queue-time="0"
              op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/>
            <lrm_rsc_op id="web_monitor_10000" operation_key="web_monitor_10000"
              operation="monitor" crm-debug-origin="do_update_resource" crm_feature_set="3.16.1"
              transition-key="2:1:0:0-0" transition-magic="0:0;2:1:0:0-0" call-id="4" rc-code="0"
              op-status="0" interval="10000" last-rc-change="1700000000" exec-time="10"
              queue-time="0" op-digest="4811cef7f7f94e3a35a70be7916cb2fd"/>
          </lrm_resource>
          <lrm_resource id="db" class="ocf" provider="heartbeat" type="Dummy">
            <lrm_rsc_op id="db_last_0" operation_key="db_monitor_0" operation="monitor"
              crm-debug-origin="do_update_resource" crm_feature_set="3.16.1"
              transition-key="3:1:7:0-0" transition-magic="0:7;3:1:7:0-0" call-id="1" rc-code="7"
              op-status="0" interval="0" last-rc-change="1700000000" exec-time="10" queue-time="0"
              op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/>
          </lrm_resource>
        </lrm_resources>
      </lrm>
    </node_state>
    <node_state id="2" uname="node2" in_ccm="true" crmd="online" join="member" expected="member"
      crm-debug-origin="do_update_resource">
      <lrm id="2">
        <lrm_resources>
          <lrm_resource id="web" class="ocf" provider="heartbeat" type="Dummy">
            <lrm_rsc_op id="web_last_0" operation_key="web_monitor_0" operation="monitor"
              crm-debug-origin="do_update_resource" crm_feature_set="3.16.1"
              transition-key="4:1:7:0-0" transition-magic="0:7;4:1:7:0-0" call-id="1" rc-code="7"
              op-status="0" interval="0" last-rc-change="1700000000" exec-time="10" queue-time="0"
              op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/>
          </lrm_resource>
          <lrm_resource id="db" class="ocf" provider="heartbeat" type="Dummy">
            <lrm_rsc_op id="db_last_0" operation_key="db_start_0" operation="start"
              crm-debug-origin="do_update_resource" crm_feature_set="3.16.1"
              transition-key="5:1:0:0-0" transition-magic="0:0;5:1:0:0-0" call-id="3" rc-code="0"
              op-status="0" interval="0" last-rc-change="1700000000" exec-time="10" queue-time="0"
              op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/>
          </lrm_resource>
        </lrm_resources>
      </lrm>
    </node_state>
  </status>
</cib>
"""


@pytest.fixture
def sticky(tmp_path: Path) -> Path:
    path = tmp_path / "cib.xml"
    path.write_text(STICKY_CIB)
    return path


def _moves_in_summary(text: str) -> dict[str, tuple[str, str]]:
    return {
        m[1]: (m[2], m[3]) for m in re.finditer(r"\* Move\s+(\S+)\s+\(\s*(\S+) -> (\S+)\s*\)", text)
    }


def test_the_cib_is_stable_with_stickiness_and_crm_simulate_moves_as_relocate_plans(
    sticky: Path, require_tool: Callable[[str], str], hactl
) -> None:
    tool = require_tool("crm_simulate")
    unstuck_path = sticky.parent / "unstuck.xml"
    root = etree.parse(str(sticky)).getroot()

    def simulate(path: Path) -> str:
        return subprocess.run(
            [tool, "-x", str(path), "-R"], capture_output=True, text=True, check=True, timeout=60
        ).stdout

    assert _moves_in_summary(simulate(sticky)) == {}
    unstuck, affected = relocate.without_stickiness(root, [])
    assert affected == {"web", "db"}
    unstuck_path.write_bytes(etree.tostring(unstuck))
    expected = _moves_in_summary(simulate(unstuck_path))
    assert expected == {"web": ("node1", "node2"), "db": ("node2", "node1")}

    shown = json.loads(hactl(f"-f {sticky} resource relocate show --output json").out)
    assert {p["resource"]: (p["current"][0], p["optimal"]) for p in shown if p["moves"]} == (
        expected
    )
    planned = relocate.plan(root, [], dt.datetime.now(dt.UTC))
    assert {r.resource: r.node for r in planned} == {name: to for name, (_, to) in expected.items()}


def test_dry_run_lists_the_constraints_and_leaves_the_file_alone(sticky: Path, hactl) -> None:
    before = sticky.read_bytes()
    result = hactl(f"-f {sticky} resource relocate dry-run")
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "Creating location constraint: web prefers node2=INFINITY",
        "Creating location constraint: db prefers node1=INFINITY",
    ]
    only_web = json.loads(hactl(f"-f {sticky} resource relocate dry-run web --output json").out)
    assert only_web == [
        {
            "resource": "web",
            "node": "node2",
            "role": None,
            "instance": "web",
            "constraint_id": "pcs-relocate-web",
        }
    ]
    # db alone is where it would be with web left where it is
    nothing = hactl(f"-f {sticky} resource relocate dry-run db")
    assert nothing.code == 0 and "nothing to relocate" in nothing.out
    assert sticky.read_bytes() == before


def test_show_prints_placements_and_the_transition(sticky: Path, hactl) -> None:
    result = hactl(f"-f {sticky} resource relocate show")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].split() == ["RESOURCE", "CURRENT", "OPTIMAL", "MOVES"]
    assert lines[1].split() == ["web", "node1", "node2", "yes"]
    assert "Transition Summary (ignoring stickiness):" in lines
    assert _moves_in_summary(result.out)["web"] == ("node1", "node2")


def test_clear_removes_only_relocation_constraints(sticky: Path, hactl, crm_verify) -> None:
    for constraint in ("pcs-relocate-web web node2 INFINITY", "pcs-relocate-db db node1 100"):
        assert hactl(f"-f {sticky} constraint location add {constraint}").code == 0
    result = hactl(f"-f {sticky} resource relocate clear")
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "Removing constraint pcs-relocate-web",
        "Removing constraint pcs-relocate-db",
    ]
    ids = [e.get("id") for e in etree.parse(str(sticky)).iter("rsc_location")]
    assert ids == ["location-web-node2-50"]
    assert crm_verify(sticky).returncode == 0
    before = sticky.read_bytes()
    again = hactl(f"-f {sticky} resource relocate clear")
    assert again.code == 0 and "No relocation constraints" in again.out
    assert sticky.read_bytes() == before  # nothing to remove: not even a new epoch


@pytest.mark.parametrize(
    ("command", "code", "message"),
    [
        ("run", 2, "relocate run needs the running cluster, not a CIB file"),
        ("dry-run nosuch", 1, "resource 'nosuch' does not exist"),
        ("show web", 2, "unexpected 'web'"),
        ("clear web", 2, "unexpected 'web'"),
        ("dryrun", 2, "no such command"),
        ("dry-run --wiat", 2, "unknown option '--wiat'"),
    ],
)
def test_bad_input_is_one_line_and_the_file_is_untouched(
    sticky: Path, hactl, command: str, code: int, message: str
) -> None:
    before = sticky.read_bytes()
    result = hactl(f"-f {sticky} resource relocate {command}")
    assert result.code == code, result
    assert message in result.err and len(result.err.strip().splitlines()) == 1
    assert "Traceback" not in result.err
    assert sticky.read_bytes() == before


def test_a_fence_device_is_refused(sticky: Path, hactl) -> None:
    assert hactl(f"-f {sticky} stonith create fence1 fence_dummy --force").code in (0, 1)
    root = etree.parse(str(sticky)).getroot()
    if root.find(".//primitive[@id='fence1']") is None:
        pytest.skip("fence_dummy could not be configured here")
    result = hactl(f"-f {sticky} resource relocate dry-run fence1")
    assert result.code == 1 and "fence device" in result.err


def test_clone_instances_pin_the_clone_and_a_promotion_pins_the_promoted_role(
    tmp_path: Path, hactl
) -> None:
    """New clones are stopped, so every instance starts somewhere: pcs writes one
    constraint per instance, on the clone (ids made unique with -1); the instance to be
    promoted (its promotion score is highest on node2) pins the promoted role instead."""
    path = tmp_path / "clones.xml"
    path.write_text(STICKY_CIB)
    for command in (
        "resource create lights ocf:heartbeat:Dummy clone",
        "resource create state ocf:pacemaker:Stateful promotable promoted-max=1",
        "node attribute node1 master-state=5",
        "node attribute node2 master-state=10",
    ):
        result = hactl(f"-f {path} {command}")
        assert result.code == 0, result.err
    out = json.loads(hactl(f"-f {path} resource relocate dry-run lights state --output json").out)
    lights = [r for r in out if r["resource"] == "lights-clone"]
    assert sorted(r["node"] for r in lights) == ["node1", "node2"]
    assert sorted(r["constraint_id"] for r in lights) == [
        "pcs-relocate-lights-clone",
        "pcs-relocate-lights-clone-1",
    ]
    state = [r for r in out if r["resource"] == "state-clone"]
    assert sorted((r["role"] or "", r["node"]) for r in state) == [
        ("", "node1"),
        ("Promoted", "node2"),
    ]
    assert {r["resource"] for r in out} == {"lights-clone", "state-clone"}


def test_the_constraints_run_writes_pass_crm_verify_and_clear_removes_them(
    tmp_path: Path, hactl, crm_verify
) -> None:
    """`run` cannot work on a file (it waits for a cluster); what it writes is checked here
    through the use case, on a CIB with a promotion to pin."""
    path = tmp_path / "run.xml"
    path.write_text(STICKY_CIB)
    for command in (
        "resource create state ocf:pacemaker:Stateful promotable promoted-max=1",
        "node attribute node2 master-state=10",
    ):
        assert hactl(f"-f {path} {command}").code == 0
    root = etree.parse(str(path)).getroot()
    relocations = relocate.plan(root, [], dt.datetime.now(dt.UTC))
    made = relocate.add_constraints(root, relocations)
    assert made == [
        "pcs-relocate-web",
        "pcs-relocate-db",
        "pcs-relocate-state-clone",
        "pcs-relocate-state-clone-1",
    ]
    path.write_bytes(etree.tostring(root))
    verified = crm_verify(path)
    assert verified.returncode == 0, verified.stderr
    promoted = root.find("configuration/constraints/rsc_location[@role='Promoted']")
    assert promoted is not None and promoted.get("node") == "node2"
    assert promoted.get("rsc") == "state-clone" and promoted.get("score") == "INFINITY"
    assert relocate.clear(root) == made


def test_dry_run_plans_what_the_real_pcs_plans(
    tmp_path: Path, hactl, require_tool: Callable[[str], str]
) -> None:
    """The same constraints, in the same order, as `pcs -f FILE resource relocate dry-run`
    (pcs's message leaves out the role=Promoted that its constraint has; hactl says it)."""
    pcs = require_tool("pcs")
    path = tmp_path / "pcs.xml"
    path.write_text(STICKY_CIB)
    for command in (
        "resource create state ocf:pacemaker:Stateful promotable promoted-max=1",
        "node attribute node2 master-state=10",
        "resource create lights ocf:heartbeat:Dummy clone",
    ):
        assert hactl(f"-f {path} {command}").code == 0
    done = subprocess.run(
        [pcs, "-f", str(path), "resource", "relocate", "dry-run"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    theirs = [line for line in done.stderr.splitlines() if line.startswith("Creating")]
    ours = hactl(f"-f {path} resource relocate dry-run").out.splitlines()
    assert [line.removesuffix(" role=Promoted") for line in ours] == theirs
    assert len(theirs) == 6 and "state-clone prefers node2=INFINITY role=Promoted" in ours[2]
