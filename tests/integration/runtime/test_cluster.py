"""Three real daemons on loopback: the ring forms, one DC, a replicated CIB, quorum.

Timings: the sandbox's totem has token 1000 ms and consensus 1200 ms, so a crashed node
is out of the membership about 2.2 s after its last token; the tests allow 6 s (a loaded
CI machine), and print what they measured.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from typing import Any

from lxml import etree

from hactl.core.cib.store import CibStore

#: token + consensus, and slack for a loaded machine
FAILURE_DETECTION = 6.0


def cib_of(cluster: Any, node: str) -> etree._Element:
    return etree.fromstring(cluster.status(node)["cib"].encode())


def has_resource(cluster: Any, node: str, name: str) -> bool:
    return bool(cib_of(cluster, node).xpath(f"//primitive[@id='{name}']"))


def state_json(cluster: Any, node: str) -> dict[str, Any]:
    result = cluster.hactl("status", "--output", "json", node=node)
    assert result.code == 0, result.err
    data: dict[str, Any] = json.loads(result.out)
    return data


def node_states(data: dict[str, Any]) -> dict[str, str]:
    return {n["name"]: n["state"] for n in data["nodes"]}


def check_second_daemon_refused(cluster: Any) -> None:
    sandbox = cluster.sandbox
    first = sandbox.node("node1")["pid"]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hactl.core.cli.main",
            "daemon",
            "--config",
            str(sandbox.config_path),
            "--authkey",
            str(sandbox.authkey_of("node1")),
            "--state-dir",
            str(sandbox.state_dir("node1")),
            "--node",
            "node1",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1, line
    assert f"another hactl daemon (pid {first})" in line
    assert cluster.status("node1")["node"]["pid"] == first  # the first one is untouched


def test_three_daemons_agree_on_membership_dc_and_quorum(cluster: Any) -> None:
    check_second_daemon_refused(cluster)
    views = [state_json(cluster, f"node{i}") for i in (1, 2, 3)]
    assert {v["cluster"]["dc"] for v in views} == {views[0]["cluster"]["dc"]}
    assert all(v["cluster"]["quorate"] for v in views)
    assert node_states(views[2]) == {"node1": "online", "node2": "online", "node3": "online"}
    text = cluster.hactl("status", node="node3")
    assert text.code == 0, text.err
    assert f"Current DC: {views[0]['cluster']['dc']}" in text.out
    assert "partition with quorum" in text.out
    assert "Online: [ node1 node2 node3 ]" in text.out
    once = cluster.hactl("mon", "--one-shot", node="node2")
    assert once.code == 0 and "Current DC:" in once.out, once.err

    # node standby is a configuration change like any other: live, through the DC
    standby = cluster.hactl("node", "standby", "node2", node="node1")
    assert standby.code == 0, standby.err
    cluster.wait(
        lambda: node_states(state_json(cluster, "node3"))["node2"] == "standby", 20, "standby"
    )
    assert "Node node2: standby" in cluster.hactl("status", node="node3").out
    assert cluster.hactl("node", "unstandby", "node2", node="node3").code == 0
    # the live CIB (with the status the DC writes) through crm_verify when installed
    verify = cluster.hactl("cluster", "verify", node="node2")
    assert verify.code == 1 and "STONITH" in verify.err, verify.err
    assert cluster.hactl("property", "set", "stonith-enabled=false", node="node3").code == 0
    verify = cluster.hactl("cluster", "verify", node="node2")
    assert verify.code == 0, verify.err + verify.out


def test_a_change_on_one_node_is_on_all_and_survives_a_restart_of_every_node(
    cluster: Any,
) -> None:
    created = cluster.hactl("resource", "create", "web", "ocf:hactl:Dummy", node="node3")
    assert created.code == 0, created.err
    # acknowledged means held by every member: each applies it as it is delivered
    cluster.wait(
        lambda: all(has_resource(cluster, f"node{i}", "web") for i in (1, 2, 3)), 5, "on all"
    )
    # the probes of web then bump num_updates as their results arrive: the versions settle
    cluster.wait(
        lambda: len({repr(cluster.status(f"node{i}")["versions"]) for i in (1, 2, 3)}) == 1,
        10,
        "one CIB version on every node",
    )
    shown = cluster.hactl("resource", "config", "web", node="node1")
    assert shown.code == 0 and "ocf" in shown.out and "Dummy" in shown.out, shown.err

    # a status update (what the executor records) goes through the DC as a patch
    from hactl.core.cib.document import CibDocument
    from hactl.core.cib.patch import diff

    before = CibDocument.from_bytes(cluster.status("node3")["cib"].encode())
    after = before.copy()
    state = after.root.xpath("//node_state[@id='3']")[0]
    etree.SubElement(state, "lrm", id="3")
    patch = etree.tostring(diff(before, after)).decode()
    cluster.sandbox.call("node3", "cib.patch", patch=patch)
    cluster.wait(
        lambda: bool(cib_of(cluster, "node1").xpath("//node_state[@id='3']/lrm")), 5, "status"
    )

    sandbox = cluster.sandbox
    sandbox.stop_all()
    for i in (1, 2, 3):  # on disk, verified by its digest
        doc = CibStore(sandbox.state_dir(f"node{i}") / "cib").load()
        assert doc.root.xpath("//primitive[@id='web']")
    for name in sandbox.nodes():
        sandbox.start(name)
    cluster.wait(lambda: cluster.formed(sandbox.nodes()), 30, "formed again")
    assert all(has_resource(cluster, f"node{i}", "web") for i in (1, 2, 3))


def test_a_push_from_a_stale_read_is_refused_and_changes_nothing(
    cluster: Any, monkeypatch: Any
) -> None:
    from hactl.core.daemon.client import LiveCibHandle, RemoteError

    monkeypatch.setenv("HACTL_SOCKET", str(cluster.sandbox.socket("node1")))
    handle = LiveCibHandle()
    stale = handle.get()
    assert cluster.hactl("resource", "create", "first", "ocf:hactl:Dummy", node="node2").code == 0
    cluster.wait(lambda: has_resource(cluster, "node1", "first"), 5, "first on node1")
    resources = stale.section("resources", create=True)
    etree.SubElement(resources, "primitive", {"id": "second", "class": "ocf", "type": "Dummy"})
    try:
        handle.push(stale)
    except RemoteError as exc:
        assert "changed while the command ran" in exc.message
    else:
        raise AssertionError("a push based on an old configuration was accepted")
    assert has_resource(cluster, "node3", "first") and not has_resource(cluster, "node3", "second")


def test_minority_partition_loses_quorum_majority_keeps_going_and_heals(cluster: Any) -> None:
    dc_before = cluster.status("node1")["dc"]
    result = cluster.hactl("sandbox", "partition", "node1,node2", "node3")
    assert result.code == 0, result.err
    took = cluster.wait(
        lambda: cluster.members_seen("node3") == [3] and not cluster.status("node3")["quorate"],
        FAILURE_DETECTION + 2,
        "node3 alone without quorum",
    )
    print(f"partition seen by the minority after {took:.2f}s")
    cluster.wait(lambda: cluster.members_seen("node1") == [1, 2], 5, "the majority re-formed")
    majority = cluster.status("node1")
    assert majority["quorate"]
    if dc_before in (1, 2):
        assert majority["dc"] == dc_before  # the DC stays while it is a member
    minority = state_json(cluster, "node3")
    assert not minority["cluster"]["quorate"]
    assert cluster.hactl("resource", "create", "during", "ocf:hactl:Dummy", node="node2").code == 0

    assert cluster.hactl("sandbox", "heal").code == 0
    cluster.wait(lambda: cluster.formed(cluster.sandbox.nodes()), 15, "healed")
    assert has_resource(cluster, "node3", "during")  # the higher version won
    # after the merge the DC still records the rejoined node's state: wait for it to settle
    cluster.wait(
        lambda: len({cluster.status(f"node{i}")["cib"] for i in (1, 2, 3)}) == 1,
        10,
        "one CIB on every node",
    )


def test_a_killed_dc_is_seen_failed_within_the_token_timeout_and_the_dc_moves(
    cluster: Any,
) -> None:
    sandbox = cluster.sandbox
    dc = cluster.status("node1")["dc"]
    dc_name = f"node{dc}"
    survivors = [n for n in sandbox.nodes() if n != dc_name]
    start = time.monotonic()
    sandbox.kill(dc_name, signal.SIGKILL)
    remaining = sorted(sandbox.node(n)["id"] for n in survivors)
    cluster.wait(
        lambda: all(cluster.members_seen(n) == remaining for n in survivors),
        FAILURE_DETECTION,
        "the crash noticed",
    )
    noticed = time.monotonic() - start
    print(f"crash of the DC noticed after {noticed:.2f}s")
    cluster.wait(
        lambda: (
            {cluster.status(n)["dc"] for n in survivors} == {min(remaining)}
            and all(cluster.status(n)["phase"] == "synced" for n in survivors)
        ),
        3,
        "a new DC",
    )
    # stonith-enabled defaults to true: a node that crashed is unclean until fenced
    assert node_states(state_json(cluster, survivors[0]))[dc_name] == "unclean"

    # a clean stop is not a failure: the DC records it, the node is just offline
    leaving = survivors[1]
    assert sandbox.stop(leaving)
    cluster.wait(
        lambda: node_states(state_json(cluster, survivors[0]))[leaving] == "offline",
        FAILURE_DETECTION,
        "the clean stop recorded",
    )


def test_a_dc_that_stops_cleanly_hands_its_resources_over_before_it_leaves(
    cluster: Any,
) -> None:
    """SIGTERM of the DC running a resource: the resource stops there, then starts on a
    survivor (never two instances), only then the DC leaves; nobody is fenced."""
    import threading

    sandbox = cluster.sandbox
    dc_name = state_json(cluster, "node1")["cluster"]["dc"]
    survivors = [n for n in sandbox.nodes() if n != dc_name]

    def running() -> set[str]:  # where the Dummy agent's state file says d runs
        return {
            n for n in sandbox.nodes() if (sandbox.state_dir(n) / "rsctmp/Dummy-d.state").exists()
        }

    for args in (
        # no fence device here: with fencing enabled (the default) nothing would start
        ("property", "set", "stonith-enabled=false"),
        ("resource", "create", "d", "ocf:hactl:Dummy", "meta", "resource-stickiness=0"),
        ("constraint", "location", "d", "prefers", f"{dc_name}=50"),
    ):
        done = cluster.hactl(*args, node=survivors[0])
        assert done.code == 0, done.err

    def started_on_dc() -> bool:  # the agent ran there and the DC recorded the start
        resources = state_json(cluster, dc_name)["resources"]
        recorded = [r["nodes"] for r in resources if r["id"] == "d" and r["role"] == "started"]
        return running() == {dc_name} and recorded == [[dc_name]]

    cluster.wait(started_on_dc, 30, f"d started on the DC {dc_name}")

    seen: list[set[str]] = []
    stopped = threading.Event()

    def watch() -> None:  # the agents' state files, sampled far faster than a stop or start
        while not stopped.is_set():
            seen.append(running())
            time.sleep(0.002)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        assert sandbox.stop(dc_name), "the DC had to be killed"
    finally:
        stopped.set()
        watcher.join()
    assert running() in ({survivors[0]}, {survivors[1]}), running()
    assert max(len(sample) for sample in seen) == 1, "two instances of d at once"
    log = (sandbox.state_dir(dc_name) / "daemon.log").read_text()
    handover = [line for line in log.splitlines() if "handover done" in line]
    assert handover and f"d on {next(iter(running()))}" in handover[-1], log[-2000:]
    cluster.wait(
        lambda: (
            {cluster.status(n)["dc_name"] for n in survivors} <= set(survivors)
            and node_states(state_json(cluster, survivors[0]))[dc_name] == "offline"
        ),
        FAILURE_DETECTION,
        "a new DC, the old one offline (left cleanly: not unclean)",
    )


def test_live_views_and_node_modes(cluster: Any) -> None:
    """members, links, quorum status, mon refreshing, maintenance: each on a live node."""
    members = cluster.hactl("cluster", "members", node="node2")
    assert members.code == 0, members.err
    for i in (1, 2, 3):
        assert f"runtime.members.{i}.ip (str) = r(0) ip(127.0.0.{i})" in members.out
    links = cluster.hactl("cluster", "links", "--output", "json", node="node1")
    assert links.code == 0, links.err
    data = json.loads(links.out)
    assert data["transport"] == "knet"
    assert data["links"]["0"] == {"1": "localhost", "2": "connected", "3": "connected"}
    text = cluster.hactl("cluster", "links", node="node1")
    assert "Local node ID 1, transport knet" in text.out and "nodeid:   2:\tconnected" in text.out

    quorum = cluster.hactl("quorum", "status", node="node3")
    assert quorum.code == 0, quorum.err
    assert "Quorate:          Yes" in quorum.out and "Expected votes:   3" in quorum.out

    # mon refreshes until interrupted: two frames, then Ctrl-C ends it quietly
    env = {**os.environ, "HACTL_SANDBOX_DIR": str(cluster.sandbox.root)}
    env.pop("CIB_file", None)
    mon = subprocess.Popen(
        [sys.executable, "-m", "hactl.core.cli.main", "--sandbox", "node1", "mon", "-i", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert mon.stdout is not None
        frames = 0
        deadline = time.monotonic() + 30
        while frames < 2 and time.monotonic() < deadline:
            line = mon.stdout.readline()
            frames += line.startswith("Cluster Summary:")
        assert frames == 2, "hactl mon did not refresh"
    finally:
        mon.send_signal(signal.SIGINT)
        out, err = mon.communicate(timeout=10)
    assert mon.returncode == 0 and "Traceback" not in err, err

    done = cluster.hactl("node", "maintenance", "node3", node="node1")
    assert done.code == 0, done.err
    cluster.wait(
        lambda: node_states(state_json(cluster, "node2"))["node3"] == "maintenance",
        20,
        "node3 in maintenance",
    )
    assert cluster.hactl("node", "unmaintenance", "node3", node="node2").code == 0
    cluster.wait(
        lambda: node_states(state_json(cluster, "node1"))["node3"] == "online", 20, "node3 back"
    )
