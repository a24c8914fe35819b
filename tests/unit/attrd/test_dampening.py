"""The attribute manager's dampening, on a real event loop with short delays. The writer
collects what would go to the CIB (the daemon's status patch is tested live in
tests/integration/runtime/test_resources.py)."""

from __future__ import annotations

import asyncio

from hactl.core.attrd.manager import AttributeManager


def run(scenario: object) -> None:
    asyncio.run(scenario)  # type: ignore[arg-type]


def collecting() -> tuple[AttributeManager, list[tuple[str, str, str | None, float]]]:
    written: list[tuple[str, str, str | None, float]] = []

    async def write(node: str, name: str, value: str | None) -> None:
        written.append((node, name, value, asyncio.get_running_loop().time()))

    return AttributeManager(write), written


def test_changes_within_the_delay_collapse_into_one_write_of_the_last_value() -> None:
    async def scenario() -> None:
        manager, written = collecting()
        began = asyncio.get_running_loop().time()
        assert manager.update("node1", "pingd", "1", delay_s=0.3)
        await asyncio.sleep(0.1)
        assert manager.update("node1", "pingd", "2")  # the delay is remembered
        assert manager.update("node1", "pingd", "3")
        assert manager.value("node1", "pingd") == (True, "3")
        await asyncio.sleep(0.1)
        assert written == []
        await asyncio.sleep(0.25)
        assert [(n, a, v) for n, a, v, _ in written] == [("node1", "pingd", "3")]
        assert 0.28 <= written[0][3] - began < 0.6  # the delay counts from the first change
        assert manager.value("node1", "pingd") == (False, None)
        assert manager.writes == 1

    run(scenario())


def test_without_a_delay_values_go_out_at_once_and_nodes_are_apart() -> None:
    async def scenario() -> None:
        manager, written = collecting()
        assert not manager.update("node1", "a", "1")
        assert manager.update("node2", "b", "x", delay_s=0.05)
        assert not manager.update("node1", "b", "y", delay_s=0.0)  # the delay changed to 0
        await asyncio.sleep(0)
        assert [(n, a, v) for n, a, v, _ in written] == [("node1", "a", "1"), ("node1", "b", "y")]
        await asyncio.sleep(0.1)
        assert ("node2", "b", "x") in [(n, a, v) for n, a, v, _ in written]

    run(scenario())


def test_a_delete_is_dampened_too_and_a_delay_alone_writes_nothing() -> None:
    async def scenario() -> None:
        manager, written = collecting()
        manager.update("node1", "pingd", None, change_value=False, delay_s=0.05)
        assert manager.delays == {"pingd": 0.05} and manager.pending == {}
        manager.update("node1", "pingd", "5")
        manager.update("node1", "pingd", None)
        await asyncio.sleep(0.1)
        assert [(n, a, v) for n, a, v, _ in written] == [("node1", "pingd", None)]

    run(scenario())
