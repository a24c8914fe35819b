"""`hactl resource relocate` on the shared 3-node sandbox: real daemons on loopback,
hactl's Dummy agent run as processes (its state file says on which node it runs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: the ``cluster`` fixture of this directory's conftest (a 3-node sandbox)
Cluster = Any


def hactl_ok(cluster: Cluster, *args: str, node: str = "node1") -> str:
    result = cluster.hactl(*args, node=node)
    assert result.code == 0, f"hactl {' '.join(args)}: {result.err}"
    return str(result.out)


def holders(cluster: Cluster, resource: str) -> list[str]:
    """The nodes whose Dummy state file says the resource runs there."""
    rsctmp: list[Path] = [
        cluster.sandbox.state_dir(n) / "rsctmp" / f"Dummy-{resource}.state"
        for n in cluster.sandbox.nodes()
    ]
    return [n for n, path in zip(cluster.sandbox.nodes(), rsctmp, strict=True) if path.exists()]


def test_relocate_run_moves_a_sticky_resource_to_its_preferred_node_and_cleans_up(
    cluster: Cluster,
) -> None:
    hactl_ok(cluster, "property", "set", "stonith-enabled=false")
    hactl_ok(
        cluster,
        "resource",
        "create",
        "d",
        "ocf:hactl:Dummy",
        "meta",
        "resource-stickiness=100",
        "--disabled",
    )
    hactl_ok(cluster, "resource", "enable", "d", "--wait=60")
    first = holders(cluster, "d")
    assert len(first) == 1
    preferred = next(n for n in cluster.sandbox.nodes() if n != first[0])

    # a preference weaker than the stickiness: d stays where it is
    hactl_ok(cluster, "constraint", "location", "d", "prefers", f"{preferred}=50")
    hactl_ok(cluster, "resource", "enable", "d", "--wait=60")
    assert holders(cluster, "d") == first

    dry = hactl_ok(cluster, "resource", "relocate", "dry-run", "d", node="node2")
    assert dry.strip() == f"Creating location constraint: d prefers {preferred}=INFINITY"
    assert holders(cluster, "d") == first  # a dry run changes nothing

    out = hactl_ok(cluster, "resource", "relocate", "run", "d", "--wait=60", node="node3")
    assert holders(cluster, "d") == [preferred], out
    assert "Removing constraint pcs-relocate-d" in out
    assert f"Resource 'd' is running on node '{preferred}'" in out
    cib = hactl_ok(cluster, "cluster", "cib")
    assert "pcs-relocate-" not in cib and "location-d-" in cib

    # nothing left to do: stickiness and the preference now agree
    again = hactl_ok(cluster, "resource", "relocate", "dry-run", "d")
    assert "nothing to relocate" in again
    hactl_ok(cluster, "resource", "enable", "d", "--wait=60")
    assert holders(cluster, "d") == [preferred]
    shown = json.loads(hactl_ok(cluster, "resource", "relocate", "show", "--output", "json"))
    assert [(p["current"], p["optimal"]) for p in shown if p["resource"] == "d"] == [
        ([preferred], preferred)
    ]

    # a run that gives up waiting still leaves no constraint behind
    hactl_ok(cluster, "constraint", "location", "d", "prefers", f"{first[0]}=60")
    hactl_ok(cluster, "resource", "enable", "d", "--wait=60")
    gave_up = cluster.hactl("resource", "relocate", "run", "--wait=0.001", node="node1")
    assert gave_up.code == 1 and "did not settle" in gave_up.err, gave_up
    assert len(gave_up.err.strip().splitlines()) == 1
    assert "pcs-relocate-" not in hactl_ok(cluster, "cluster", "cib")
    # stopped here, d needs no stopping when the fixture resets the configuration
    hactl_ok(cluster, "resource", "disable", "d", "--wait=60")


def test_relocate_clear_removes_what_an_interrupted_run_left(cluster: Cluster) -> None:
    hactl_ok(cluster, "property", "set", "stonith-enabled=false")
    hactl_ok(cluster, "resource", "create", "d", "ocf:hactl:Dummy", "--disabled")
    # what an interrupted run leaves behind, under pcs's id
    hactl_ok(cluster, "constraint", "location", "add", "pcs-relocate-d", "d", "node2", "INFINITY")
    out = hactl_ok(cluster, "resource", "relocate", "clear", node="node3")
    assert out.strip() == "Removing constraint pcs-relocate-d"
    assert "pcs-relocate-" not in hactl_ok(cluster, "cluster", "cib")
    run_with_file = cluster.hactl("-f", "/nonexistent.xml", "resource", "relocate", "run")
    assert run_with_file.code == 2 and "running cluster" in run_with_file.err
