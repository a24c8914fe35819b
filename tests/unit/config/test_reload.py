"""A reload keeps the running value of Corosync's read-only keys: say so before."""

from __future__ import annotations

from pathlib import Path

from hactl.core.config import ClusterConfig, reload_findings

DATA = Path(__file__).parent / "data"


def test_reloadable_changes_are_silent_and_restart_only_ones_are_named() -> None:
    running = ClusterConfig.load(DATA / "pcs-setup-knet.conf")
    fine = running.set_option("totem.token", "5000").set_option("quorum.expected_votes", "4")
    assert reload_findings(running, fine) == []
    changed = (
        running.set_option("totem.cluster_name", "other")
        .set_option("quorum.wait_for_all", "0")
        .remove_option("quorum.last_man_standing")
    )
    found = [str(p) for p in reload_findings(running, changed)]
    assert len(found) == 3
    source = DATA / "pcs-setup-knet.conf"
    # a removed option has no line in the new file
    assert found[0] == (
        f"{source}: quorum.last_man_standing: changed to '(removed)': a reload keeps the "
        "running value '1' (hint: restart the whole cluster for this change)"
    )
    assert any(
        f.startswith(f"{source}:3: totem.cluster_name: changed to 'other'")
        and "keeps the running value 'cluster_name'" in f
        for f in found
    ), found


def test_a_changed_nodeid_is_named() -> None:
    running = ClusterConfig.load(DATA / "pcs-setup-knet.conf")
    renumbered = ClusterConfig.from_text(
        running.to_text().replace("nodeid: 3", "nodeid: 7"), "new.conf"
    )
    (problem,) = reload_findings(running, renumbered)
    assert "node node3 changed nodeid from 3 to 7" in str(problem)
    assert problem.where == "new.conf:57: nodelist.node.nodeid"
