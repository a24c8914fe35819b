"""Differential test against the real Corosync: the same configuration and the same
partition history are given to real corosync daemons and to hactl's votequorum, and after
every step each node's quorate state, expected votes, quorum and flags must agree with what
`corosync-quorumtool -s` prints on that node.

The real nodes run in network namespaces this test creates and removes: one namespace per
node (address 198.51.100.N on a veth), joined by bridges in a hub namespace; a partition
moves the nodes' bridge ports onto separate bridges. Each daemon gets its own /run (a
private mount namespace: Corosync keeps a machine-wide lock file there), its own state_dir,
and is told neither to move cgroups nor to use realtime scheduling. Needs root, `ip`,
`unshare` and corosync; skips otherwise.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import struct
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hactl.core.cli.quorum import status_text
from hactl.plugins.quorum.votequorum import QuorumRefused

LMS_WINDOW_MS = 1500
TOKEN_OPTIONS = "    token: 1000\n    token_coefficient: 0\n"


def corosync_conf(
    nodes: int, quorum_options: str, state_dir: Path, totem_options: str = TOKEN_OPTIONS
) -> str:
    node_blocks = "".join(
        f"    node {{\n        ring0_addr: 198.51.100.{i}\n        name: n{i}\n"
        f"        nodeid: {i}\n    }}\n"
        for i in range(1, nodes + 1)
    )
    options = "".join(f"    {line.strip()}\n" for line in quorum_options.splitlines() if line)
    return (
        "totem {\n    version: 2\n    cluster_name: oracle\n    transport: knet\n"
        f"{totem_options}}}\n\n"
        f"nodelist {{\n{node_blocks}}}\n\n"
        f"quorum {{\n    provider: corosync_votequorum\n{options}}}\n\n"
        "logging {\n    to_stderr: yes\n    to_syslog: no\n}\n\n"
        f"system {{\n    state_dir: {state_dir}\n    move_to_root_cgroup: no\n"
        "    sched_rr: no\n}\n"
    )


def run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=30).stdout


class RealCluster:
    """Real corosync daemons in namespaces; only processes and namespaces it made are
    touched, by pid and by name. With a quorum device in the options, a corosync-qnetd runs
    in the hub namespace on a network of its own (203.0.113.0/24) that partitions do not
    cut, and each node gets a corosync-qdevice (``start_qdevice``)."""

    def __init__(
        self, nodes: int, quorum_options: str, workdir: Path, totem_options: str = TOKEN_OPTIONS
    ):
        self.nodes = nodes
        self.prefix = f"hq{os.getpid() % 100000}x{random.randrange(1000)}"
        self.hub = f"{self.prefix}h"
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.options = quorum_options
        self.totem_options = totem_options
        self.pids: dict[int, int] = {}
        self.qdevice_pids: dict[int, int] = {}
        self.qnetd_pid: int | None = None
        self.namespaces: list[str] = []
        self._create_network()
        if "model: net" in quorum_options:
            self._create_qnetd()

    def ns(self, nodeid: int) -> str:
        return f"{self.prefix}n{nodeid}"

    def _create_network(self) -> None:
        run("ip", "netns", "add", self.hub)
        self.namespaces.append(self.hub)
        run("ip", "-n", self.hub, "link", "set", "lo", "up")
        for bridge in range(self.nodes):
            run("ip", "-n", self.hub, "link", "add", f"br{bridge}", "type", "bridge")
            run("ip", "-n", self.hub, "link", "set", f"br{bridge}", "up")
        for nodeid in range(1, self.nodes + 1):
            ns = self.ns(nodeid)
            run("ip", "netns", "add", ns)
            self.namespaces.append(ns)
            run("ip", "-n", ns, "link", "set", "lo", "up")
            self._wire(nodeid, "eth0", f"p{nodeid}", f"198.51.100.{nodeid}/24", "br0")

    def _wire(self, nodeid: int, inside: str, outside: str, address: str, bridge: str) -> None:
        ns, temporary = self.ns(nodeid), f"{self.prefix}{outside}"
        run(
            "ip", "link", "add", temporary, "netns", ns, "type", "veth",
            "peer", "name", outside, "netns", self.hub,
        )  # fmt: skip
        run("ip", "-n", ns, "link", "set", temporary, "name", inside)
        run("ip", "-n", ns, "addr", "add", address, "dev", inside)
        run("ip", "-n", ns, "link", "set", inside, "up")
        run("ip", "-n", self.hub, "link", "set", outside, "master", bridge)
        run("ip", "-n", self.hub, "link", "set", outside, "up")

    def _create_qnetd(self) -> None:
        run("ip", "-n", self.hub, "link", "add", "qbr", "type", "bridge")
        run("ip", "-n", self.hub, "link", "set", "qbr", "up")
        run("ip", "-n", self.hub, "addr", "add", "203.0.113.254/24", "dev", "qbr")
        for nodeid in range(1, self.nodes + 1):
            self._wire(nodeid, "eth1", f"q{nodeid}", f"203.0.113.{nodeid}/24", "qbr")
        command = "corosync-qnetd -f -s off -l 203.0.113.254"
        self.qnetd_pid = self._spawn(self.hub, command, self.workdir / "qnetd.log")

    def _spawn(self, ns: str, command: str, log_path: Path) -> int:
        """Run ``command`` in namespace ``ns`` with a private /run (Corosync's daemons keep
        machine-wide lock files there)."""
        with log_path.open("a") as log:
            process = subprocess.Popen(
                [
                    "ip",
                    "netns",
                    "exec",
                    ns,
                    "unshare",
                    "-m",
                    "sh",
                    "-c",
                    f"mount -t tmpfs tmpfs /run && exec {command}",
                ],  # fmt: skip
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return process.pid

    def start(self, nodeid: int) -> None:
        node_dir = self.workdir / f"n{nodeid}"
        node_dir.mkdir(exist_ok=True)
        conf = node_dir / "corosync.conf"
        conf.write_text(corosync_conf(self.nodes, self.options, node_dir, self.totem_options))
        self.pids[nodeid] = self._spawn(self.ns(nodeid), f"corosync -f -c {conf}", node_dir / "log")

    def start_qdevice(self, nodeid: int) -> None:
        log = self.workdir / f"n{nodeid}" / "qdevice.log"
        self.qdevice_pids[nodeid] = self._spawn(self.ns(nodeid), "corosync-qdevice -f", log)

    @staticmethod
    def _kill(pid: int) -> None:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)

    def stop(self, nodeid: int) -> None:
        if nodeid in self.qdevice_pids:
            self._kill(self.qdevice_pids.pop(nodeid))
        self._kill(self.pids.pop(nodeid))  # a crash: no clean leave

    def leave(self, nodeid: int) -> None:
        """A clean shutdown (SIGTERM): votequorum tells the others it is leaving."""
        pid = self.pids.pop(nodeid)
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)

    def partition(self, groups: list[list[int]]) -> None:
        for bridge, group in enumerate(groups):
            for nodeid in group:
                run("ip", "-n", self.hub, "link", "set", f"p{nodeid}", "master", f"br{bridge}")

    def status_text(self, nodeid: int) -> str:
        return subprocess.run(
            ["ip", "netns", "exec", self.ns(nodeid), "corosync-quorumtool", "-s"],
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout

    def status(self, nodeid: int) -> dict[str, Any]:
        text = self.status_text(nodeid)

        def field(name: str) -> str:
            match = re.search(rf"^{name}:[ \t]*(.*)$", text, re.MULTILINE)
            return match.group(1).strip() if match else ""

        members = re.findall(
            r"^\s+(\d+)\s+\d+\s+\S+", text.split("Membership information")[-1], re.MULTILINE
        )
        return {
            "nodes": int(field("Nodes") or 0),
            "members": sorted(int(m) for m in members if m != "0"),  # 0: the quorum device
            "quorate": field("Quorate") == "Yes",
            "expected": int(field("Expected votes") or 0),
            "quorum": int((field("Quorum").split() or ["0"])[0]),
            "flags": tuple(field("Flags").split()),
        }

    def settle(
        self,
        groups: list[list[int]],
        timeout: float = 30.0,
        quiet_polls: int = 1,
        ready: Callable[[int], bool] | None = None,
    ) -> None:
        """Wait until every running node reports exactly its group as members, and what
        corosync-quorumtool prints has not changed for ``quiet_polls`` polls (votequorum's
        own sync, and a quorum device's votes, come after the ring)."""
        deadline = time.monotonic() + timeout
        previous: dict[int, str] = {}
        quiet = 0
        while True:
            texts = {
                n: re.sub(r"^Date:.*$", "", self.status_text(n), flags=re.MULTILINE)
                for g in groups
                for n in g
            }
            settled = all(self.status(n)["members"] == sorted(g) for g in groups for n in g)
            settled = settled and (ready is None or all(ready(n) for n in texts))
            quiet = quiet + 1 if settled and texts == previous else 0
            if quiet >= quiet_polls:
                return
            previous = texts if settled else {}
            if time.monotonic() > deadline:
                last = "\n".join(texts.values())
                raise AssertionError(f"corosync did not settle on {groups}:\n{last}")
            time.sleep(0.4)

    def qdevice_column(self, nodeid: int) -> str:
        """The local row's Qdevice column (A,V,NMW …) or "" when none is registered."""
        pattern = rf"^\s+{nodeid}\s+\d+\s+(\S+)\s+\S+ \(local\)$"
        match = re.search(pattern, self.status_text(nodeid), re.MULTILINE)
        return match.group(1) if match else ""

    def close(self) -> None:
        for nodeid in list(self.pids):
            self.stop(nodeid)
        if self.qnetd_pid is not None:
            self._kill(self.qnetd_pid)
        for ns in reversed(self.namespaces):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)


@pytest.fixture
def real_cluster(tmp_path: Path) -> Iterator[Any]:
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    for tool in ("ip", "unshare", "corosync", "corosync-quorumtool"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            pytest.skip(f"{tool} is not installed (.ci/run installs corosync)")
    made: list[RealCluster] = []

    def make(nodes: int, options: str, totem_options: str = TOKEN_OPTIONS) -> RealCluster:
        try:
            cluster = RealCluster(nodes, options, tmp_path / str(len(made)), totem_options)
        except subprocess.CalledProcessError as exc:
            pytest.skip(f"cannot create network namespaces here: {exc.stderr.strip()}")
        made.append(cluster)
        return cluster

    yield make
    for cluster in made:
        cluster.close()


def compare(
    real: RealCluster, sim: Any, history: list[tuple[list[list[int]], bool]], nodes: int
) -> None:
    for step, (groups, wait_window) in enumerate(history, start=1):
        up = {n for g in groups for n in g}
        for nodeid in sorted(set(real.pids) - up):
            real.stop(nodeid)
            sim.stop(nodeid)
        real.partition(groups)
        starting = sorted(up - set(real.pids))
        if starting and real.pids:
            # the running nodes settle first, as they do in practice before a restarted
            # node joins: both sides go through that ring (auto_tie_breaker lists depend on
            # the ring before)
            before = [[n for n in g if n in real.pids] for g in groups]
            before = [g for g in before if g]
            real.settle(before)
            sim.form(before)
        for nodeid in starting:
            real.start(nodeid)
            sim.start(nodeid)
        real.settle(groups)
        sim.form(groups)
        if wait_window:
            time.sleep(LMS_WINDOW_MS / 1000 + 1.0)
            sim.advance(LMS_WINDOW_MS + 1000)
        check_same(real, sim, sorted(up), f"step {step} {groups}")


def check_same(real: RealCluster, sim: Any, nodes: list[int], label: str) -> None:
    for nodeid in nodes:
        theirs = real.status(nodeid)
        mine = sim.running[nodeid].status()
        seen = (mine.quorate, mine.expected_votes, mine.quorum, mine.flags)
        wanted = (theirs["quorate"], theirs["expected"], theirs["quorum"], theirs["flags"])
        assert seen == wanted, f"{label}: node {nodeid} hactl {seen} corosync {wanted}"
        # and `hactl quorum status` prints what corosync-quorumtool -s prints, from the
        # votequorum block on (the date and the ring ids differ by nature)
        ours = status_text(mine).split("Votequorum information")[1]
        real_text = real.status_text(nodeid).split("Votequorum information")[1]
        assert ours.rstrip() == real_text.rstrip(), label


def test_same_decisions_as_corosync(real_cluster: Any, cluster: Any, make_conf: Any) -> None:
    options = "wait_for_all: 1\nauto_tie_breaker: 1"
    history = [
        ([[1, 2]], False),  # waiting for all: not quorate
        ([[1, 2, 3, 4]], False),
        ([[1, 2], [3, 4]], False),  # half split: the tie-breaker half keeps quorum
        ([[1, 2, 3]], False),
    ]
    compare(real_cluster(4, options), cluster(make_conf(4, options)), history, 4)


def test_runtime_changes_as_corosync(real_cluster: Any, cluster: Any, make_conf: Any) -> None:
    """corosync-quorumtool -e / -v -n and pcs quorum unblock's cmap key, on node 1: the
    same changes are accepted or refused, with the same result everywhere."""
    options = "wait_for_all: 1"
    real, sim = real_cluster(4, options), cluster(make_conf(4, options))
    compare(real, sim, [([[1, 2, 3]], False)], 4)  # waiting for all: not quorate
    changes: list[tuple[list[str], Any]] = [
        (["corosync-cmapctl", "-s", "quorum.cancel_wait_for_all", "u8", "1"], "unblock"),
        (["corosync-quorumtool", "-e", "3"], ("expected", 3)),
        (["corosync-quorumtool", "-e", "2"], ("expected", 2)),  # below the 3 votes present
        (["corosync-quorumtool", "-v", "3", "-n", "2"], ("votes", 2, 3)),
        (["corosync-quorumtool", "-e", "11"], ("expected", 11)),  # would lose quorum
    ]
    for command, change in changes:
        result = subprocess.run(
            ["ip", "netns", "exec", real.ns(1), *command], capture_output=True, timeout=30
        )
        node = sim.running[1]
        try:
            if change == "unblock":
                out = node.cancel_wait_for_all()
            elif change[0] == "expected":
                out = node.set_expected_votes(change[1])
            else:
                out = node.set_votes(change[1], change[2])
            accepted = True
        except QuorumRefused:
            accepted, out = False, []
        assert accepted == (result.returncode == 0), (command, result.stderr)
        sim.broadcast(sim.partition_of(1), 1, out)
        real.settle([[1, 2, 3]])
        check_same(real, sim, [1, 2, 3], " ".join(command))


@pytest.mark.slow
@pytest.mark.parametrize("barrier", [0, 3])
def test_allow_downscale_clean_leaves_as_corosync(
    barrier: int, real_cluster: Any, cluster: Any, make_conf: Any
) -> None:
    """Clean leaves (SIGTERM) with allow_downscale, from a fresh expected-votes tracking
    file and from one an earlier run left at 3 votes."""
    options = "expected_votes: 3\nallow_downscale: 1"
    real = real_cluster(5, options)
    sim = cluster(make_conf(5, options), ev_tracking_barrier=barrier)
    for nodeid in range(1, 6):
        node_dir = real.workdir / f"n{nodeid}"
        node_dir.mkdir(exist_ok=True)
        if barrier:  # the file votequorum keeps in state_dir: one native uint32
            (node_dir / "ev_tracking").write_bytes(struct.pack("=I", barrier))
    compare(real, sim, [([[1, 2, 3]], False), ([[1, 2, 3, 4, 5]], False)], 5)
    for leaving in (5, 4, 3):
        real.leave(leaving)
        sim.stop(leaving, clean=True)
        remaining = [n for n in (1, 2, 3, 4, 5) if n in real.pids]
        real.settle([remaining])
        sim.form([remaining])
        check_same(real, sim, remaining, f"after {leaving} left")


@pytest.mark.slow  # about 25 s: the device needs a few polls to settle
def test_quorum_device_votes_as_corosync(real_cluster: Any, cluster: Any, make_conf: Any) -> None:
    """Two nodes and a quorum device (real corosync-qdevice and corosync-qnetd, algorithm
    ffsplit): the device's decisions, as each node's corosync-quorumtool shows them, are fed
    to hactl's nodes (device_poll); everything votequorum derives from them must agree,
    the Qdevice column and the device's row included."""
    for tool in ("corosync-qdevice", "corosync-qnetd"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            pytest.skip(f"{tool} is not installed (.ci/run installs it)")
    options = (
        "device {\nmodel: net\nvotes: 1\nnet {\nhost: 203.0.113.254\nalgorithm: ffsplit\n"
        "tls: off\n}\n}"
    )
    real, sim = real_cluster(2, options), cluster(make_conf(2, options))
    registered: set[int] = set()
    for groups in ([[1, 2]], [[1], [2]], [[1, 2]]):
        real.partition(groups)
        for nodeid in (1, 2):
            if nodeid not in real.pids:
                real.start(nodeid)
                sim.start(nodeid)
        real.settle(groups)
        for nodeid in (1, 2):
            if nodeid not in real.qdevice_pids:
                real.start_qdevice(nodeid)
        real.settle(groups, quiet_polls=5, ready=lambda n: real.qdevice_column(n).startswith("A"))
        sim.form(groups)
        for nodeid in (1, 2):
            column = f",{real.qdevice_column(nodeid)},"
            node = sim.running[nodeid]
            out = [] if nodeid in registered else node.device_register("Qdevice", sim.now)
            registered.add(nodeid)
            out += node.device_poll(",V," in column, ",MW," in column, sim.now)
            sim.broadcast(sim.partition_of(nodeid), nodeid, out)
        check_same(real, sim, [1, 2], f"{groups}")
    assert real.qdevice_column(1) == "A,V,NMW"


@pytest.mark.parametrize(
    ("nodes", "totem_options"),
    [
        (5, "    token: 2000\n    join: 70\n"),
        (
            3,
            "    token_retransmits_before_loss_const: 10\n    consensus: 9000\n"
            "    interface {\n        linknumber: 0\n        knet_pong_count: 4\n    }\n",
        ),
    ],
)
def test_derived_totem_values_as_corosync_runtime(
    nodes: int, totem_options: str, real_cluster: Any, tmp_path: Path
) -> None:
    """runtime.config.totem.* of a running corosync (corosync-cmapctl) against
    effective_totem() for the same file."""
    from hactl.core.config import ClusterConfig, effective_totem

    real = real_cluster(nodes, "", totem_options)
    real.start(1)
    real.settle([[1]])
    listing = subprocess.run(
        ["ip", "netns", "exec", real.ns(1), "corosync-cmapctl", "runtime.config.totem."],
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout
    runtime = {
        key.removeprefix("runtime.config.totem."): value
        for key, value in re.findall(r"^(\S+) \(\w+\) = (.*)$", listing, re.MULTILINE)
    }
    config_text = (real.workdir / "n1" / "corosync.conf").read_text()
    effective = effective_totem(ClusterConfig.from_text(config_text))
    mine = effective.as_dict()
    compared = 0
    for key, value in runtime.items():
        if key in mine:
            assert str(mine[key]) == value, key
            compared += 1
    link = effective.links[0]
    assert runtime["interface.0.knet_ping_interval"] == str(link.knet_ping_interval)
    assert runtime["interface.0.knet_ping_timeout"] == str(link.knet_ping_timeout)
    assert compared >= 15


@pytest.mark.slow
@pytest.mark.parametrize(
    "options",
    [
        "",
        "two_node: 1",
        "two_node: 1\nauto_tie_breaker: 1",  # ATB wins: two_node is disabled
        f"last_man_standing: 1\nlast_man_standing_window: {LMS_WINDOW_MS}\nwait_for_all: 1",
        "auto_tie_breaker: 1\nauto_tie_breaker_node: highest",
        "auto_tie_breaker: 1\nauto_tie_breaker_node: 3 1",
        "expected_votes: 5",
    ],
)
def test_random_histories_against_corosync(
    options: str, real_cluster: Any, cluster: Any, make_conf: Any
) -> None:
    nodes = 2 if "two_node" in options else 4
    rng = random.Random(f"{options}")
    history: list[tuple[list[list[int]], bool]] = [([list(range(1, nodes + 1))], False)]
    for _ in range(6):
        assignment = [rng.choice([-1, 0, 0, 1, 1, 2]) for _ in range(nodes)]
        groups: dict[int, list[int]] = {}
        for nodeid, group in enumerate(assignment, start=1):
            if group >= 0:
                groups.setdefault(group, []).append(nodeid)
        if groups:
            history.append((list(groups.values()), "last_man" in options and rng.random() < 0.5))
    compare(real_cluster(nodes, options), cluster(make_conf(nodes, options)), history, nodes)
