"""The controller keeps resources running: several simulated nodes in one process, real
agents, the real scheduler (the harness and its test doubles are in conftest.py). Every
dispatched operation checks that no primitive is active on two nodes."""

from __future__ import annotations

import asyncio

from lxml import etree

from hactl.core.controller.failures import fail_counts as recorded_fail_counts
from hactl.core.controller.failures import forget_history


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


def fail_counts(cluster, resource: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {f.node: f.count for f in recorded_fail_counts(cluster.controller.cib.root, resource)}


async def break_monitor(cluster, resource: str) -> str:  # type: ignore[no-untyped-def]
    """Remove the Dummy's state file where it runs; wait for the monitor to notice."""
    (where,) = cluster.running(resource)
    before = fail_counts(cluster, resource).get(where, 0)
    (cluster.state_dir(where) / f"Dummy-{resource}.state").unlink()
    await cluster.wait_for(lambda: fail_counts(cluster, resource).get(where, 0) > before)
    await cluster.settle()
    return where


def test_failed_monitor_is_recovered_in_place(sim) -> None:  # type: ignore[no-untyped-def]
    async def scenario() -> None:
        cluster = sim.cluster(sim.cib(["n1", "n2"], sim.dummy("a")))
        cluster.started()
        await cluster.settle()
        where = await break_monitor(cluster, "a")
        assert cluster.running("a") == [where]
        assert fail_counts(cluster, "a") == {where: 1}
        assert cluster.log[-2:] == [(where, "a", "start", 0), (where, "a", "monitor", 0)]
        await cluster.close()

    asyncio.run(scenario())


def test_migration_threshold_moves_the_resource(sim) -> None:  # type: ignore[no-untyped-def]
    async def scenario() -> None:
        rsc = sim.dummy("a", meta={"migration-threshold": "2"})
        cluster = sim.cluster(sim.cib(["n1", "n2"], rsc))
        cluster.started()
        await cluster.settle()
        first = await break_monitor(cluster, "a")
        assert cluster.running("a") == [first]
        assert await break_monitor(cluster, "a") == first
        other = "n2" if first == "n1" else "n1"
        assert cluster.running("a") == [other]
        assert fail_counts(cluster, "a") == {first: 2}
        await cluster.close()

    asyncio.run(scenario())


def test_failure_timeout_expires_the_fail_count_and_cleanup_clears_it(sim) -> None:  # type: ignore[no-untyped-def]
    async def scenario() -> None:
        rsc = sim.dummy("a", meta={"failure-timeout": "60s"})
        cluster = sim.cluster(sim.cib(["n1", "n2"], rsc))
        cluster.started()
        await cluster.settle()
        where = await break_monitor(cluster, "a")
        assert fail_counts(cluster, "a") == {where: 1}

        sim.clock.advance(40)  # the failure is still recent: no recheck is due
        cluster.controller.tick()
        assert cluster.controller.idle
        await cluster.settle()
        assert fail_counts(cluster, "a") == {where: 1}
        sim.clock.advance(40)  # expired: a recheck is due (before the 15min default)
        cluster.controller.tick()
        await cluster.settle()
        assert fail_counts(cluster, "a") == {}
        assert cluster.running("a") == [where]

        # another failure is cleared by cleanup, and the resource probed again there
        await break_monitor(cluster, "a")
        assert fail_counts(cluster, "a") == {where: 1}
        forgotten = forget_history(cluster.controller.cib.root, "a", failed_only=True)
        assert forgotten == [(where, "a")]
        probes_before = len(cluster.actions("monitor"))
        cluster.controller.request_transition("cleanup")
        await cluster.settle()
        assert fail_counts(cluster, "a") == {}
        assert (where, "a", "monitor") in cluster.actions("monitor")[probes_before:]
        assert cluster.running("a") == [where]
        await cluster.close()

    asyncio.run(scenario())


def test_migration_threshold_with_failure_timeout_moves_the_resource(sim) -> None:  # type: ignore[no-untyped-def]
    async def scenario() -> None:
        rsc = sim.dummy("a", meta={"failure-timeout": "60s", "migration-threshold": "1"})
        cluster = sim.cluster(sim.cib(["n1", "n2"], rsc))
        cluster.started()
        await cluster.settle()
        first = await break_monitor(cluster, "a")
        try:
            assert cluster.running("a") == ["n2" if first == "n1" else "n1"]
        finally:
            await cluster.close()

    asyncio.run(scenario())


PROMOTABLE = (
    '<clone id="sc"><meta_attributes id="sc-m"><nvpair id="sc-p" name="promotable" value="true"/>'
    '</meta_attributes><primitive id="s" class="ocf" provider="hactl" type="Stateful">'
    '<operations><op id="s-m1" name="monitor" interval="1s" role="Promoted" timeout="10s"/>'
    '<op id="s-m2" name="monitor" interval="2s" role="Unpromoted" timeout="10s"/></operations>'
    "</primitive></clone>"
)


def promoted(cluster) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(
        node
        for node in cluster.up
        for state in cluster.state_dir(node).glob("Stateful-*.state")
        if state.read_text().strip() == "promoted"
    )


def test_promotable_clone_has_one_promoted_instance_and_another_takes_over(sim) -> None:  # type: ignore[no-untyped-def]
    async def scenario() -> None:
        cluster = sim.cluster(sim.cib(["n1", "n2", "n3"], PROMOTABLE))
        cluster.started()
        await cluster.settle()
        assert cluster.running("s") == ["n1", "n2", "n3"]
        (first,) = promoted(cluster)
        await cluster.lose(first)
        await cluster.settle()
        (second,) = promoted(cluster)
        assert second != first
        assert sorted(n for n in cluster.running("s") if n != first) == sorted(cluster.up)
        await cluster.close()

    asyncio.run(scenario())


def test_lost_node_is_fenced_before_its_resources_start_elsewhere(sim, require_tool) -> None:  # type: ignore[no-untyped-def]
    require_tool("fence_dummy")

    async def scenario() -> None:
        resources = group(sim) + sim.fence_device(status_file=str(sim.tmp / "power"))
        cib = sim.cib(["n1", "n2"], resources, options={"stonith-enabled": "true"})
        cluster = sim.cluster(cib)
        cluster.started()
        await cluster.settle()
        (home,) = cluster.running("a")
        other = "n2" if home == "n1" else "n1"
        mark = len(cluster.log)
        await cluster.lose(home)
        await cluster.settle()
        after = [(n, r, a) for n, r, a, _ in cluster.log[mark:]]
        assert after[0] == (home, "", "fence-reboot")
        assert after.index((other, "a", "start")) < after.index((other, "b", "start"))
        assert cluster.running("a") == cluster.running("b") == [other]
        record = cluster.controller.fence_history[-1]
        assert (record.target, record.succeeded, record.devices) == (home, True, ("fd",))
        await cluster.close()

    asyncio.run(scenario())


def test_node_whose_fencing_fails_keeps_its_resources_blocked(sim, require_tool) -> None:  # type: ignore[no-untyped-def]
    require_tool("fence_dummy")

    async def scenario() -> None:
        options = {
            "stonith-enabled": "true",
            "stonith-max-attempts": "2",
            "fencing-timeout": "2s",
        }
        resources = group(sim) + sim.fence_device("fail")
        cluster = sim.cluster(sim.cib(["n1", "n2"], resources, options=options))
        cluster.started()
        await cluster.settle()
        (home,) = cluster.running("a")
        mark = len(cluster.log)
        await cluster.lose(home)
        await cluster.settle()
        history = cluster.controller.fence_history
        assert [(r.target, r.succeeded) for r in history] == [(home, False)] * 2
        assert cluster.actions("start")[-2:] == [(home, "a", "start"), (home, "b", "start")]
        assert all(a != "start" for _, _, a, _ in cluster.log[mark:])
        assert cluster.running("a") == cluster.running("b") == [home]  # never twice
        assert cluster.controller.transitions[-1].abort_reason.startswith("fencing of")
        await cluster.close()

    asyncio.run(scenario())
