"""Resources really run in a cluster of three real daemons on loopback.

Everything is real: `hactl` commands against one node's daemon, the DC's controller,
operations sent over totem to the node's executor, hactl's OCF agents (Dummy, Stateful)
run as processes; each sandbox node has its own HA_RSCTMP, so an agent's state file says
on which node a resource runs. Stonith is disabled (no fencing hardware here), so a node
killed with -9 is taken as down and its resources are recovered elsewhere.

Bounds: the sandbox's totem has token 1000 ms and consensus 1200 ms; a crashed node leaves
the membership within about 6 s on a loaded machine, then the survivors' start takes a
transition (a probe-free start of Dummy: well under a second). FAILOVER allows 20 s.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

#: the ``cluster`` fixture of this directory's conftest (a 3-node sandbox)
Cluster = Any

#: a configuration change until the resource runs: one transition, one start
START = 20.0
#: from kill -9 until the resource's start on a survivor succeeded
FAILOVER = 20.0


def status_json(cluster: Cluster, node: str) -> dict[str, Any]:
    result = cluster.hactl("status", "--output", "json", node=node)
    assert result.code == 0, result.err
    data: dict[str, Any] = json.loads(result.out)
    return data


def placement(cluster: Cluster, node: str, resource: str) -> list[tuple[str, str]]:
    """(node, role) of every instance of ``resource`` that node's CIB shows active."""
    return [
        (where, entry["role"])
        for entry in status_json(cluster, node)["resources"]
        if entry["id"].split(":")[0] == resource
        for where in entry["nodes"]
    ]


def running_on(cluster: Cluster, node: str, resource: str) -> str | None:
    places = [where for where, role in placement(cluster, node, resource) if role == "started"]
    return places[0] if len(places) == 1 else None


def state_file(cluster: Cluster, node: str, agent: str, instance: str) -> Path:
    return cluster.sandbox.state_dir(node) / "rsctmp" / f"{agent}-{instance}.state"


def configure(cluster: Cluster, *args: str, node: str = "node1") -> None:
    result = cluster.hactl(*args, node=node)
    assert result.code == 0, f"hactl {' '.join(args)}: {result.err}"


def without_stonith(cluster: Cluster) -> None:
    configure(cluster, "property", "set", "stonith-enabled=false")


def test_a_resource_starts_shows_in_status_and_moves_when_its_node_is_killed(
    cluster: Cluster,
) -> None:
    without_stonith(cluster)
    configure(cluster, "resource", "create", "d", "ocf:hactl:Dummy")
    took = cluster.wait(lambda: running_on(cluster, "node2", "d"), START, "d Started")
    first = running_on(cluster, "node2", "d")
    assert first is not None
    print(f"d started on {first} {took:.2f}s after `resource create`")
    assert state_file(cluster, first, "Dummy", "d").exists()  # the agent really ran there
    others = [n for n in cluster.sandbox.nodes() if n != first]
    assert not any(state_file(cluster, n, "Dummy", "d").exists() for n in others)
    text = cluster.hactl("status", node=others[0])
    assert text.code == 0, text.err
    assert any(
        line.split() == ["*", "d", "(ocf:hactl:Dummy):", "Started", first]
        for line in text.out.splitlines()
    ), text.out
    # every node holds the operation history (replicated status section)
    for node in cluster.sandbox.nodes():
        cluster.wait(lambda n=node: running_on(cluster, n, "d") == first, 5, f"d on {first}")

    cluster.sandbox.kill(first)
    killed_at = time.monotonic()
    survivor = others[0]
    cluster.wait(
        lambda: (
            running_on(cluster, survivor, "d") in others
            and any(state_file(cluster, n, "Dummy", "d").exists() for n in others)
        ),
        FAILOVER,
        "d Started on a survivor",
    )
    moved_to = running_on(cluster, survivor, "d")
    print(f"d moved from {first} to {moved_to} {time.monotonic() - killed_at:.2f}s after kill -9")
    assert moved_to is not None and state_file(cluster, moved_to, "Dummy", "d").exists()


def test_disable_stops_and_enable_starts_again(cluster: Cluster) -> None:
    without_stonith(cluster)
    configure(cluster, "resource", "create", "d", "ocf:hactl:Dummy", "op", "monitor", "interval=5s")
    cluster.wait(lambda: running_on(cluster, "node3", "d"), START, "d Started")
    where = running_on(cluster, "node3", "d")
    assert where is not None

    configure(cluster, "resource", "disable", "d", node="node2")
    cluster.wait(
        lambda: (
            not placement(cluster, "node1", "d")
            and not state_file(cluster, where, "Dummy", "d").exists()
        ),
        START,
        "d stopped",
    )
    text = cluster.hactl("status", node="node1")
    assert "Stopped (disabled)" in text.out, text.out

    configure(cluster, "resource", "enable", "d", node="node3")
    cluster.wait(lambda: running_on(cluster, "node1", "d"), START, "d Started again")
    again = running_on(cluster, "node1", "d")
    assert again is not None and state_file(cluster, again, "Dummy", "d").exists()


def test_a_promotable_clone_gets_one_promoted_instance(cluster: Cluster) -> None:
    without_stonith(cluster)
    configure(cluster, "resource", "create", "s", "ocf:hactl:Stateful", "promotable")

    def settled() -> bool:
        roles = sorted(role for _, role in placement(cluster, "node2", "s"))
        return roles == ["promoted", "unpromoted", "unpromoted"]

    took = cluster.wait(settled, 2 * START, "one Promoted and two Unpromoted instances of s")
    print(f"s promoted {took:.2f}s after `resource create`")
    nodes = {where for where, _ in placement(cluster, "node2", "s")}
    assert nodes == set(cluster.sandbox.nodes())  # one instance per node
    text = cluster.hactl("status", node="node1")
    assert "Promoted: [" in text.out and "Unpromoted: [" in text.out, text.out


@pytest.mark.slow  # a fourth cluster: keeps the default run of this file under 90 s
def test_a_new_dc_does_not_restart_what_runs(cluster: Cluster) -> None:
    without_stonith(cluster)
    for name in ("a", "b", "c"):
        # sticky: the scheduler keeps each where it runs, so a restart would be the wiring's
        configure(
            cluster,
            "resource",
            "create",
            name,
            "ocf:hactl:Dummy",
            "meta",
            "resource-stickiness=100",
        )
    for name in ("a", "b", "c"):
        cluster.wait(lambda n=name: running_on(cluster, "node1", n), START, f"{name} Started")
    dc = status_json(cluster, "node1")["cluster"]["dc"]
    survivors = [n for n in cluster.sandbox.nodes() if n != dc]
    kept = {
        name: (where, state_file(cluster, where, "Dummy", name).stat().st_mtime_ns)
        for name in ("a", "b", "c")
        if (where := running_on(cluster, "node1", name)) in survivors
    }
    cluster.sandbox.kill(dc)
    cluster.wait(
        lambda: (
            status_json(cluster, survivors[0])["cluster"]["dc"] in survivors
            and all(running_on(cluster, survivors[0], n) for n in ("a", "b", "c"))
        ),
        FAILOVER,
        "a new DC with every resource Started",
    )
    time.sleep(2)  # what a restart would take: it would have shown by now
    for name, (where, mtime) in kept.items():
        assert running_on(cluster, survivors[0], name) == where
        assert state_file(cluster, where, "Dummy", name).stat().st_mtime_ns == mtime, name


def hactl_ok(cluster: Cluster, *args: str, node: str = "node1") -> str:
    result = cluster.hactl(*args, node=node)
    assert result.code == 0, f"hactl {' '.join(args)}: {result.err}"
    return str(result.out)


def holders(cluster: Cluster, agent: str, instance: str) -> list[str]:
    """The nodes whose agent state file says the resource runs there."""
    return [n for n in cluster.sandbox.nodes() if state_file(cluster, n, agent, instance).exists()]


def test_live_move_ban_clear_disable_enable_restart_wait_until_settled(cluster: Cluster) -> None:
    """With --wait each command returns once the cluster settled: what it asked for is
    done when it returns (checked at once, without polling)."""
    without_stonith(cluster)
    configure(cluster, "resource", "create", "d", "ocf:hactl:Dummy", "--disabled")
    out = hactl_ok(cluster, "resource", "enable", "d", "--wait=30")
    first = running_on(cluster, "node1", "d")
    assert first is not None and holders(cluster, "Dummy", "d") == [first]
    assert out.strip() == f"Resource 'd' is running on node '{first}'"

    target = next(n for n in cluster.sandbox.nodes() if n != first)
    out = hactl_ok(cluster, "resource", "move", "d", target, "--wait=30", node="node2")
    assert holders(cluster, "Dummy", "d") == [target], out
    assert f"running on node '{target}'" in out

    hactl_ok(cluster, "resource", "clear", "d", "--wait=30")
    out = hactl_ok(cluster, "resource", "ban", "d", target, "--wait=30")
    moved = holders(cluster, "Dummy", "d")
    assert len(moved) == 1 and moved[0] != target, out
    hactl_ok(cluster, "resource", "clear", "d", "--wait")

    out = hactl_ok(cluster, "resource", "disable", "d", "--wait=30")
    assert holders(cluster, "Dummy", "d") == []
    assert out.strip() == "Resource 'd' is not running on any node"
    hactl_ok(cluster, "resource", "enable", "d", "--wait=30")
    assert len(holders(cluster, "Dummy", "d")) == 1

    out = hactl_ok(cluster, "resource", "restart", "d", "--wait=30")
    assert "d restarted" in out and len(holders(cluster, "Dummy", "d")) == 1
    last = [e for e in status_json(cluster, "node3")["resources"] if e["id"] == "d"]
    assert last and last[0]["role"] == "started"


def test_wait_gives_up_at_its_timeout_with_one_line_and_exit_1(cluster: Cluster) -> None:
    without_stonith(cluster)
    configure(
        cluster,
        *("resource", "create", "slow", "ocf:hactl:Dummy", "op_sleep=20", "--disabled"),
        *("op", "start", "timeout=60s"),
    )
    started = time.monotonic()
    result = cluster.hactl("resource", "enable", "slow", "--wait=1", node="node1")
    assert result.code == 1, result.out
    assert "did not settle within 1s after enable slow" in result.err
    assert "slow_start_0" in result.err and len(result.err.strip().splitlines()) == 1
    assert time.monotonic() - started < 18  # gave up, did not wait for the 20 s start
    bad = cluster.hactl("resource", "enable", "slow", "--wait=soon", node="node1")
    assert bad.code == 2 and "--wait takes a number of seconds" in bad.err


def attrd_updater(cluster: Cluster, node: str, *args: str) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "HACTL_SOCKET": str(cluster.sandbox.socket(node))}
    env.pop("CIB_file", None)
    done = subprocess.run(
        [sys.executable, "-m", "hactl.core.attrd.tools", "attrd_updater", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr


def transient(cluster: Cluster, node: str, name: str, asked: str = "node1") -> str | None:
    """``name``'s value on ``node`` in the CIB as ``asked`` holds it."""
    from lxml import etree

    cib = etree.fromstring(cluster.sandbox.call(asked, "cib.get")["cib"].encode())
    found = cib.xpath(
        "status/node_state[@uname=$n]/transient_attributes//nvpair[@name=$a]/@value",
        n=node,
        a=name,
    )
    return str(found[0]) if found else None


def test_attrd_updater_dampening_writes_once_after_the_delay(cluster: Cluster) -> None:
    """Three values within a 6 s delay: none is in the CIB before the delay, only the last
    one after it (the ones between are never written)."""
    began = time.monotonic()
    attrd_updater(cluster, "node2", "-n", "pingd", "-U", "100", "-d", "6s", "-N", "node2")
    attrd_updater(cluster, "node2", "-n", "pingd", "-U", "200", "-N", "node2")
    attrd_updater(cluster, "node2", "-n", "pingd", "-U", "300", "-N", "node2")
    assert time.monotonic() - began < 5.0, "this machine is too slow for the test's window"
    seen = set()
    while time.monotonic() - began < 5.5:
        seen.add(transient(cluster, "node2", "pingd"))
        time.sleep(0.1)
    assert seen == {None}, f"written before the dampening delay: {seen}"
    cluster.wait(lambda: transient(cluster, "node2", "pingd") == "300", 10, "pingd=300")
    attrd_updater(cluster, "node2", "-n", "pingd", "-D", "-N", "node2")
    cluster.wait(lambda: transient(cluster, "node2", "pingd") is None, 15, "pingd deleted")
