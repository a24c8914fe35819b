"""The configuration commands' effect on the CIB: pcs's ids and structure, checked by
reading the file back (and by the real crm_verify for the whole scenario)."""

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
        "resource create vip ocf:heartbeat:IPaddr2 ip=192.0.2.10 cidr_netmask=24 "
        "op monitor interval=10s",
        "resource create web ocf:heartbeat:Dummy meta resource-stickiness=50",
    ):
        result = hactl(f"-f {path} {command}")
        assert result.code == 0, result.err
    return path


def _root(path: Path) -> etree._Element:
    return etree.parse(str(path)).getroot()


def _ids(path: Path, xpath: str) -> list[str]:
    return [str(e.get("id")) for e in _root(path).xpath(xpath)]


def test_create_writes_pcs_ids_and_the_agents_default_operations(cib: Path) -> None:
    primitive = _root(cib).find(".//primitive[@id='vip']")
    assert primitive is not None
    assert (primitive.get("class"), primitive.get("provider"), primitive.get("type")) == (
        "ocf",
        "heartbeat",
        "IPaddr2",
    )
    assert _ids(cib, "//primitive[@id='vip']/instance_attributes/nvpair") == [
        "vip-instance_attributes-ip",
        "vip-instance_attributes-cidr_netmask",
    ]
    # the user's monitor, then the agent's other actions, sorted by name (pcs's order)
    ops = [(o.get("id"), o.get("interval"), o.get("timeout")) for o in primitive.iter("op")]
    assert ops == [
        ("vip-monitor-interval-10s", "10s", None),
        ("vip-start-interval-0s", "0s", "20s"),
        ("vip-stop-interval-0s", "0s", "20s"),
    ]
    assert _ids(cib, "//primitive[@id='web']/meta_attributes/nvpair") == [
        "web-meta_attributes-resource-stickiness"
    ]
    web_ops = _ids(cib, "//primitive[@id='web']/operations/op")
    assert "web-monitor-interval-10s" in web_ops and "web-migrate_to-interval-0s" in web_ops


def test_epoch_grows_with_each_change(hactl, cib: Path) -> None:
    before = int(_root(cib).get("epoch", "0"))
    assert hactl(f"-f {cib} resource meta web target-role=Stopped").code == 0
    assert int(_root(cib).get("epoch", "0")) == before + 1


def test_constraint_ids_follow_pcs(hactl, cib: Path) -> None:
    for command in (
        "constraint location vip prefers node1 node2=50",
        "constraint location web avoids node1",
        "constraint order vip then web",
        "constraint order stop web then stop vip kind=Optional",
        "constraint colocation add web with vip",
        "constraint colocation add Promoted web with vip -100",
        "constraint ticket add T1 web loss-policy=stop",
        "constraint location web rule score=100 #uname eq node1 and date-spec weekdays=1-5",
        "constraint order set vip web setoptions kind=Optional",
    ):
        result = hactl(f"-f {cib} {command}")
        assert result.code == 0, f"{command}: {result.err}"
    assert _ids(cib, "//constraints/*") == [
        "location-vip-node1-INFINITY",
        "location-vip-node2-50",
        "location-web-node1--INFINITY",
        "order-vip-web-mandatory",
        "order-web-vip-Optional",
        "colocation-web-vip-INFINITY",
        "colocation-web-vip--100",
        "ticket-T1-web",
        "location-web",
        "order_set_vpwb",
    ]
    colocation = _root(cib).find(".//rsc_colocation[@id='colocation-web-vip--100']")
    assert colocation is not None
    assert (colocation.get("rsc-role"), colocation.get("with-rsc-role")) == ("Promoted", "Started")
    assert _ids(cib, "//rsc_location[@id='location-web']//*") == [
        "location-web-rule",
        "location-web-rule-expr",
        "location-web-rule-expr-1",
        "location-web-rule-expr-1-datespec",
    ]
    full = hactl(f"-f {cib} constraint config --full").out
    assert "resource 'vip' prefers node 'node2' with score 50 (id: location-vip-node2-50)" in full
    assert "#uname eq node1 and date-spec weekdays=1-5" in full


def test_groups_clones_and_delete_cleanup(hactl, cib: Path, crm_verify) -> None:
    for command in (
        "resource create db ocf:heartbeat:Dummy --group g1",
        "resource group add g1 vip --before db",
        "constraint order g1 then web",
        "resource clone web",
        "resource create st ocf:pacemaker:Stateful promotable",
    ):
        result = hactl(f"-f {cib} {command}")
        assert result.code == 0, f"{command}: {result.err}"
    root = _root(cib)
    assert [p.get("id") for p in root.iterfind(".//group[@id='g1']/primitive")] == ["vip", "db"]
    # cloning moved the constraint onto the clone, as pcs does
    assert root.find(".//rsc_order").get("then") == "web-clone"  # type: ignore[union-attr]
    assert root.find(".//clone[@id='st-clone']/meta_attributes/nvpair").get("name") == "promotable"  # type: ignore[union-attr]
    assert crm_verify(cib).returncode == 0, crm_verify(cib).stderr
    # deleting the group's last members removes the group and the constraint naming it
    result = hactl(f"-f {cib} resource delete vip")
    assert result.code == 0
    result = hactl(f"-f {cib} resource delete db")
    assert result.code == 0 and "order-g1-web-mandatory" in result.err
    assert _root(cib).find(".//group") is None and _root(cib).find(".//rsc_order") is None
    assert hactl(f"-f {cib} resource unclone web-clone").code == 0
    assert _root(cib).find(".//clone[@id='web-clone']") is None
    assert crm_verify(cib).returncode == 0


def test_move_ban_clear(hactl, cib: Path) -> None:
    assert hactl(f"-f {cib} resource move web node2").code == 0
    assert hactl(f"-f {cib} resource ban web node1 lifetime=PT1H").code == 0
    assert _ids(cib, "//rsc_location") == ["cli-prefer-web", "cli-ban-web-on-node1"]
    ban = _root(cib).find(".//rsc_location[@id='cli-ban-web-on-node1']/rule/date_expression")
    assert ban is not None and ban.get("operation") == "lt"
    result = hactl(f"-f {cib} resource clear web")
    assert result.code == 0 and "cli-prefer-web" in result.out
    assert _ids(cib, "//rsc_location") == []
    result = hactl(f"-f {cib} resource move web")
    assert result.code == 1 and "needs a node" in result.err


def test_update_op_and_defaults(hactl, cib: Path) -> None:
    for command in (
        "resource update vip cidr_netmask= op monitor interval=20s",
        "resource op add web monitor interval=30s timeout=15s",
        "resource op remove vip start",
        "resource defaults update resource-stickiness=100",
        "resource op defaults timeout=240s",
        "resource disable web",
        "resource unmanage vip",
    ):
        result = hactl(f"-f {cib} {command}")
        assert result.code == 0, f"{command}: {result.err}"
    root = _root(cib)
    assert _ids(cib, "//primitive[@id='vip']/instance_attributes/nvpair") == [
        "vip-instance_attributes-ip"
    ]
    assert _ids(cib, "//primitive[@id='vip']//op") == [
        "vip-monitor-interval-20s",
        "vip-stop-interval-0s",
    ]
    assert _ids(cib, "//rsc_defaults//nvpair") == ["rsc-options-resource-stickiness"]
    assert _ids(cib, "//op_defaults//nvpair") == ["op-options-timeout"]
    assert (
        root.find(".//primitive[@id='web']/meta_attributes/nvpair[@name='target-role']").get(
            "value"
        )
        == "Stopped"
    )  # type: ignore[union-attr]
    assert hactl(f"-f {cib} resource enable web").code == 0
    assert _root(cib).find(".//nvpair[@name='target-role']") is None


def test_json_output_of_read_commands(hactl, cib: Path) -> None:
    for command, check in (
        ("resource config vip --output json", lambda d: d[0]["agent"] == "ocf:heartbeat:IPaddr2"),
        ("property config --output json", lambda d: d == {"stonith-enabled": "false"}),
        ("property config --all --output json", lambda d: d["no-quorum-policy"] == "stop"),
        ("constraint config --output json", lambda d: d == []),
        ("config --output json", lambda d: [r["id"] for r in d["resources"]] == ["vip", "web"]),
        ("resource status --output json", lambda d: d[1]["id"] == "web"),
        ("stonith config --output json", lambda d: d == {"devices": [], "levels": []}),
        ("tag config --output json", lambda d: d == {}),
        ("alert config --output json", lambda d: d == []),
        ("node attribute --output json", lambda d: d == {}),
        ("node utilization --output json", lambda d: d == {}),
        ("resource utilization --output json", lambda d: d == {}),
        ("resource defaults --output json", lambda d: d == {}),
        ("resource op defaults --output json", lambda d: d == {}),
        ("constraint ref vip --output json", lambda d: d == {"vip": []}),
        ("stonith level config --output json", lambda d: d == []),
        ("property defaults --output json", lambda d: d["batch-limit"] == "0"),
        ("cluster verify --output json", lambda d: d["valid"] is True),
        (
            "config export pcs-commands --output json",
            lambda d: (
                d[0] == ["hactl", "property", "set", "stonith-enabled=false", "--force"]
                and d[1][:4] == ["hactl", "resource", "create", "vip"]
            ),
        ),
    ):
        result = hactl(f"-f {cib} {command}")
        assert result.code == 0, f"{command}: {result.err}"
        assert check(json.loads(result.out)), f"{command}: {result.out}"


def test_stonith_levels_tags_alerts_nodes(hactl, cib: Path, crm_verify) -> None:
    for command in (
        "stonith create f1 fence_dummy pcmk_host_list=node1 --force",
        "node attribute node1 rack=r1 --force",
        "node standby node1",
        "node utilization node1 cpu=8",
        "stonith level add 1 node1 f1",
        "tag create web-stack vip web",
        "constraint location web-stack prefers node1",
        "alert create path=/usr/local/bin/alert.sh id=a1 options level=warn",
        "alert recipient add a1 value=/var/log/alerts.log",
    ):
        result = hactl(f"-f {cib} {command}")
        assert result.code == 0, f"{command}: {result.err}"
    assert _ids(cib, "//fencing-level") == ["fl-node1-1"]
    assert _ids(cib, "//node[@id='node1']/instance_attributes/nvpair") == [
        "nodes-node1-rack",
        "nodes-node1-standby",
    ]
    assert _ids(cib, "//alert/recipient") == ["a1-recipient"]
    assert crm_verify(cib).returncode == 0, crm_verify(cib).stderr
    assert hactl(f"-f {cib} stonith delete f1").code == 0
    assert _ids(cib, "//fencing-level") == []
    assert hactl(f"-f {cib} tag delete web-stack").code == 1  # a constraint still names it


def test_cib_push_with_diff_against_refuses_a_cib_that_moved_on(
    hactl, cib: Path, tmp_path: Path
) -> None:
    original, edited = tmp_path / "orig.xml", tmp_path / "new.xml"
    assert hactl(f"-f {cib} cluster cib {original}").code == 0
    edited.write_bytes(original.read_bytes())
    assert hactl(f"-f {edited} resource create extra ocf:heartbeat:Dummy").code == 0
    # someone else changes the CIB meanwhile
    assert hactl(f"-f {cib} resource meta web priority=5").code == 0
    before = cib.read_bytes()
    result = hactl(f"-f {cib} cluster cib-push {edited} diff-against={original}")
    assert result.code == 1 and "version" in result.err and len(result.err.splitlines()) == 1
    assert cib.read_bytes() == before
    # against an unchanged CIB the same push goes through
    assert hactl(f"-f {original} cluster cib-push {edited} diff-against={original}").code == 0
    assert _root(original).find(".//primitive[@id='extra']") is not None


def test_bundle_and_rules_and_legacy_properties(hactl, cib: Path, crm_verify) -> None:
    for command in (
        "resource bundle create httpd-bundle container docker image=pcmk:http replicas=2 "
        "network ip-range-start=192.0.2.200 port-map port=80 "
        "storage-map source-dir=/srv/html target-dir=/var/www/html",
        "resource create httpd ocf:heartbeat:apache bundle httpd-bundle",
        "constraint location web rule score=10 #uname eq node1",
        "constraint rule add location-web score=-50 date-spec weekdays=6-7",
        "property set stonith-action=off stop-orphan-resources=false",
        "property set fencing-action=reboot",
    ):
        result = hactl(f"-f {cib} {command}")
        assert result.code == 0, f"{command}: {result.err}"
    assert _ids(cib, "//bundle//*[@id][not(ancestor-or-self::op)]") == [
        "httpd-bundle-port-map-80",
        "httpd-bundle-storage-map",
        "httpd",
    ]
    assert _ids(cib, "//rsc_location[@id='location-web']/rule") == [
        "location-web-rule",
        "location-web-rule-1",
    ]
    # a legacy name already set is updated under that name, not added twice
    names = [p.get("name") for p in _root(cib).iterfind(".//cluster_property_set/nvpair")]
    assert names == ["stonith-enabled", "stonith-action", "stop-orphan-resources"]
    assert crm_verify(cib).returncode == 0, crm_verify(cib).stderr
    assert (
        hactl(f"-f {cib} resource create other ocf:heartbeat:Dummy bundle httpd-bundle").code == 1
    )


def test_templates(hactl, cib: Path, crm_verify) -> None:
    for command in (
        "resource template create dummy-tpl ocf:heartbeat:Dummy op monitor interval=20s",
        "resource create d1 --template dummy-tpl meta target-role=Stopped",
        "constraint location d1 prefers node1",
    ):
        result = hactl(f"-f {cib} {command}")
        assert result.code == 0, f"{command}: {result.err}"
    d1 = _root(cib).find(".//primitive[@id='d1']")
    assert d1 is not None and d1.get("template") == "dummy-tpl" and d1.get("class") is None
    assert d1.find("operations") is None  # the template's operations apply
    assert crm_verify(cib).returncode == 0, crm_verify(cib).stderr
    result = hactl(f"-f {cib} resource create d2 --template nope")
    assert result.code == 1 and "template 'nope' does not exist" in result.err


def test_defaults_sets_with_rules(hactl, cib: Path, crm_verify) -> None:
    for command in (
        "resource defaults set create id=dummy-sticky score=10 meta resource-stickiness=20 "
        "rule resource ocf:heartbeat:Dummy",
        "resource op defaults set create meta timeout=30s rule op monitor interval=10s",
    ):
        result = hactl(f"-f {cib} {command}")
        assert result.code == 0, f"{command}: {result.err}"
    assert _ids(cib, "//rsc_defaults/meta_attributes//*[@id]") == [
        "dummy-sticky-rule",
        "dummy-sticky-rule-rsc-ocf-heartbeat-Dummy",
        "dummy-sticky-resource-stickiness",
    ]
    assert _ids(cib, "//op_defaults//op_expression") == ["op-options-rule-op-monitor"]
    assert crm_verify(cib).returncode == 0, crm_verify(cib).stderr
    result = hactl(f"-f {cib} resource defaults set create meta a=1 rule op monitor")
    assert result.code == 1 and "rule" in result.err  # op expressions are for op defaults
    assert hactl(f"-f {cib} resource defaults set delete dummy-sticky").code == 0
    assert _root(cib).find(".//rsc_defaults/meta_attributes") is None


def test_views_never_print_fence_passwords(hactl, cib: Path) -> None:
    result = hactl(
        f"-f {cib} stonith create f1 fence_ipmilan ip=192.0.2.5 username=admin "
        "password=s3cr3t-pw pcmk_host_list=node1"
    )
    assert result.code == 0, result.err
    for command in ("config", "config --output json", "resource config f1", "stonith config"):
        shown = hactl(f"-f {cib} {command}")
        assert shown.code == 0 and "f1" in shown.out, command
        assert "s3cr3t-pw" not in shown.out, command


def test_cluster_verify_names_what_crm_verify_warns_about(hactl, cib: Path, crm_verify) -> None:
    """crm_verify fails on warnings alone (as pcs's verify does); the text must say which."""
    assert hactl(f"-f {cib} cluster verify").code == 0
    assert hactl(f"-f {cib} property set stonith-enabled=true").code == 0
    assert hactl(f"-f {cib} node attribute node1 rack=1 --force").code == 0
    result = hactl(f"-f {cib} cluster verify")
    assert result.code == 1
    assert "crm_verify: " in result.err and "exited" not in result.err, result.err
    assert "Traceback" not in result.err
