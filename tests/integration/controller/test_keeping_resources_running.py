"""The controller keeps resources running: several simulated nodes in one process, real
agents, the real scheduler (the harness and its test doubles are in conftest.py). Every
dispatched operation checks that no primitive is active on two nodes."""

from __future__ import annotations

import asyncio

from lxml import etree


def group(sim) -> str:  # type: ignore[no-untyped-def]
    return f'<group id="g">{sim.dummy("a")}{sim.dummy("b")}</group>'


def test_group_starts_in_order_on_one_node_and_standby_moves_it(sim) -> None:  # type: ignore[no-untyped-def]
    async def scenario() -> None:
        cluster = sim.cluster(sim.cib(["n1", "n2"], group(sim)))
        cluster.started()
        await cluster.settle()
        (home,) = cluster.running("a")
        assert cluster.running("b") == [home]
        starts = cluster.actions("start")
        assert starts == [(home, "a", "start"), (home, "b", "start")]
        other = "n2" if home == "n1" else "n1"

        # standby: pcs's node standby is a node attribute in the configuration
        node = cluster.doc.root.find(f".//nodes/node[@uname='{home}']")
        node.append(
            etree.fromstring(
                f'<instance_attributes id="{home}-ia">'
                f'<nvpair id="{home}-sb" name="standby" value="on"/></instance_attributes>'
            )
        )
        cluster.controller.request_transition("standby")
        await cluster.settle()
        assert cluster.running("a") == cluster.running("b") == [other]
        moves = [entry for entry in cluster.actions("start", "stop") if entry not in starts]
        assert moves == [
            (home, "b", "stop"),
            (home, "a", "stop"),
            (other, "a", "start"),
            (other, "b", "start"),
        ]
        await cluster.close()

    asyncio.run(scenario())
