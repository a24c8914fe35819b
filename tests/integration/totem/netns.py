"""Network namespaces for several "hosts" on one machine: a switch namespace with one
bridge per link, and per node a namespace with one veth per link plugged into it.
Link L of node i has address 198.51.(100+L).(10+i)/24 on interface ``l{L}``.

Everything is named after this process and removed by :meth:`Topology.close`, which the
tests call in ``finally``; :func:`unavailable` says why namespaces cannot be used here.
"""

from __future__ import annotations

import os
import shutil
import subprocess


def _ip(*args: str, netns: str | None = None) -> None:
    argv = ["ip", *(["-n", netns] if netns else []), *args]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {result.stderr.strip()}")


def unavailable() -> str | None:
    """None when namespaces work here, else the reason they do not."""
    if shutil.which("ip") is None:
        return "iproute2's `ip` is not installed"
    if os.geteuid() != 0:
        return "creating network namespaces needs root"
    probe = f"hactl-probe-{os.getpid()}"
    try:
        _ip("netns", "add", probe)
        _ip("netns", "del", probe)
    except (RuntimeError, OSError) as exc:
        return f"network namespaces are not available: {exc}"
    return None


def address(node: int, link: int) -> str:
    return f"198.51.{100 + link}.{10 + node}"


class Topology:
    def __init__(self, nodes: list[int], links: int = 1) -> None:
        self.prefix = f"ht{os.getpid() % 100000}"
        self.switch = f"{self.prefix}-sw"
        self.nodes = nodes
        self.links = links
        self.created: list[str] = []
        try:
            self._build()
        except BaseException:
            self.close()
            raise

    def netns(self, node: int) -> str:
        return f"{self.prefix}-n{node}"

    def _add_netns(self, name: str) -> None:
        _ip("netns", "add", name)
        self.created.append(name)
        _ip("link", "set", "lo", "up", netns=name)

    def _build(self) -> None:
        self._add_netns(self.switch)
        for link in range(self.links):
            bridge = f"br{link}"
            _ip("link", "add", bridge, "type", "bridge", "mcast_snooping", "0", netns=self.switch)
            _ip("link", "set", bridge, "up", netns=self.switch)
        for node in self.nodes:
            ns = self.netns(node)
            self._add_netns(ns)
            for link in range(self.links):
                inside, outside = f"l{link}", f"n{node}l{link}"
                _ip("link", "add", inside, "type", "veth", "peer", "name", outside, netns=ns)
                _ip("link", "set", outside, "netns", self.switch, netns=ns)
                _ip("link", "set", outside, "master", f"br{link}", "up", netns=self.switch)
                _ip("addr", "add", f"{address(node, link)}/24", "dev", inside, netns=ns)
                _ip("link", "set", inside, "up", "multicast", "on", netns=ns)
            # multicast leaves through link 0 unless a socket says otherwise
            _ip("route", "add", "224.0.0.0/4", "dev", "l0", netns=ns)

    def set_link(self, node: int, link: int, up: bool) -> None:
        _ip("link", "set", f"l{link}", "up" if up else "down", netns=self.netns(node))

    def close(self) -> None:
        for name in reversed(self.created):
            try:
                _ip("netns", "del", name)
            except RuntimeError:
                pass
        self.created.clear()
