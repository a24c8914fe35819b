"""Soak: a stream of CIB changes while nodes are killed (-9) and restarted at random.

Afterwards every node's CIB is identical and every change that was acknowledged to a
client is in it. At most one node (a minority) is down at any time. The default run is
short (about 12 s of changes); `pytest -m slow` runs the long variant (3 minutes). The
seed is printed so that a failing schedule can be replayed.
"""

from __future__ import annotations

import os
import random
import time
from typing import Any

import pytest
from lxml import etree

from hactl.core.daemon.client import LiveCibHandle
from hactl.core.errors import HactlError


def soak(cluster: Any, seconds: float, seed: int) -> None:
    rng = random.Random(seed)
    print(f"soak seed {seed} (HACTL_SOAK_SEED={seed} replays the schedule of faults)")
    sandbox = cluster.sandbox
    names = sandbox.nodes()
    acknowledged: list[str] = []
    attempts = refused = 0
    down: str | None = None
    down_since = 0.0
    end = time.monotonic() + seconds
    number = 0
    while time.monotonic() < end:
        now = time.monotonic()
        # one node down at a time: a restarted node counts as down until it is back in the
        # ring (otherwise two are out at once and a lone node's writes, made without
        # quorum, may rightly lose to the majority's when they merge)
        if down is None and rng.random() < 0.08 and sandbox.formed(names):
            down = rng.choice(names)
            sandbox.kill(down)
            down_since = now
        elif down is not None and now - down_since > rng.uniform(1.0, 4.0):
            sandbox.start(down)
            down = None
        node = rng.choice([n for n in names if n != down])
        number += 1
        name = f"soak-{number}"
        attempts += 1
        os.environ["HACTL_SOCKET"] = str(sandbox.socket(node))
        try:
            handle = LiveCibHandle()
            doc = handle.get()
            resources = doc.section("resources", create=True)
            etree.SubElement(resources, "primitive", {"id": name, "class": "ocf", "type": "Dummy"})
            handle.push(doc)
        except HactlError:
            refused += 1  # refused, timed out or the node was down: not acknowledged
        else:
            acknowledged.append(name)
        finally:
            os.environ.pop("HACTL_SOCKET", None)
    if down is not None:
        sandbox.start(down)
    cluster.wait(lambda: cluster.formed(names), 30, "formed after the soak")
    cluster.wait(lambda: len({cluster.status(n)["cib"] for n in names}) == 1, 10, "identical CIBs")
    cib = etree.fromstring(cluster.status(names[0])["cib"].encode())
    present = {p.get("id") for p in cib.iter("primitive")}
    missing = [n for n in acknowledged if n not in present]
    print(
        f"seed {seed}: {attempts} changes tried, {len(acknowledged)} acknowledged, "
        f"{refused} refused or failed, {len(present)} in the CIB"
    )
    assert not missing, f"acknowledged but lost (seed {seed}): {missing}"
    assert len(acknowledged) > attempts // 3, "the cluster hardly took any change"


def test_soak_short(cluster: Any) -> None:
    soak(cluster, 12.0, seed=int(os.environ.get("HACTL_SOAK_SEED", random.randrange(1 << 30))))


@pytest.mark.slow
def test_soak_long(cluster: Any) -> None:
    soak(cluster, 180.0, seed=int(os.environ.get("HACTL_SOAK_SEED", random.randrange(1 << 30))))
