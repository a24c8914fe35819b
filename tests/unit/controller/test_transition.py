"""The transition engine walks Pacemaker's own transition graphs (the expected graphs of
the scheduler corpus) in dependency order, honours batch-limit, and stops on a failure."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from hactl.core.controller.transition import GraphError, TransitionEngine, TransitionGraph

#: ../shared beside the checkout, as the project's layout has it (HACTL_SHARED_DIR overrides)
SHARED = Path(os.environ.get("HACTL_SHARED_DIR") or Path(__file__).resolve().parents[4] / "shared")
GRAPHS = (SHARED if SHARED.is_dir() else Path("/work/shared")) / "conformance/scheduler/cases/exp"
ALL_GRAPHS = sorted(GRAPHS.glob("*.exp"))

SMALL = b"""<transition_graph transition_id="7">
  <synapse id="0"><action_set>
    <rsc_op id="1" operation="start" operation_key="a_start_0" on_node="n1">
      <primitive id="a" class="ocf" provider="heartbeat" type="Dummy"/>
      <attributes CRM_meta_timeout="20000" state="/tmp/a"/></rsc_op>
  </action_set><inputs/></synapse>
  <synapse id="1"><action_set>
    <pseudo_event id="2" operation="running" operation_key="g_running_0">
      <attributes/></pseudo_event>
  </action_set><inputs><trigger><rsc_op id="1"/></trigger></inputs></synapse>
  <synapse id="2"><action_set>
    <rsc_op id="3" operation="start" operation_key="b_start_0" on_node="n1"><attributes/></rsc_op>
  </action_set><inputs><trigger><pseudo_event id="2"/></trigger></inputs></synapse>
  <synapse id="3"><action_set>
    <rsc_op id="4" operation="start" operation_key="c_start_0" on_node="n2"><attributes/></rsc_op>
  </action_set><inputs/></synapse>
</transition_graph>"""


def run_all(engine: TransitionEngine, rng: random.Random) -> list[int]:
    """Complete dispatched actions in a random order until the engine is done."""
    order: list[int] = []
    pending = engine.ready()
    while pending:
        rng.shuffle(pending)
        action = pending.pop()
        engine.completed(action.action_id, succeeded=True)
        order.append(action.action_id)
        pending += engine.ready()
    return order


def test_actions_carry_what_the_executor_needs() -> None:
    graph = TransitionGraph.from_xml(SMALL)
    engine = TransitionEngine(graph)
    (first_a, first_c) = sorted(engine.ready(), key=lambda a: a.action_id)
    assert (first_a.operation, first_a.node, first_a.resource["type"]) == ("start", "n1", "Dummy")
    assert first_a.attributes["state"] == "/tmp/a"
    assert first_c.operation_key == "c_start_0"
    engine.completed(first_a.action_id, True)
    # the pseudo-event completes by itself and releases b
    assert [a.operation_key for a in engine.ready()] == ["b_start_0"]
    assert graph.transition_id == 7


def test_a_failure_aborts_and_in_flight_actions_finish() -> None:
    engine = TransitionEngine(TransitionGraph.from_xml(SMALL))
    engine.ready()
    engine.completed(1, False)
    assert engine.aborted and "a_start_0 on n1 failed" in (engine.abort_reason or "")
    assert engine.ready() == [] and not engine.finished  # c is still running
    engine.completed(4, True)
    assert engine.finished
    assert sorted(a.operation_key for a in engine.never_run()) == ["b_start_0", "g_running_0"]


def test_batch_limit_bounds_actions_in_flight() -> None:
    engine = TransitionEngine(TransitionGraph.from_xml(SMALL), batch_limit=1)
    assert len(engine.ready()) == 1
    assert engine.ready() == []


@pytest.mark.parametrize(
    "bad, message",
    [
        (b"<graph/>", "not a transition graph"),
        (
            b'<transition_graph><synapse id="0"><action_set/><inputs/></synapse>'
            b"</transition_graph>",
            "holds 0 actions",
        ),
        (
            b'<transition_graph><synapse id="0"><action_set><rsc_op id="1"/></action_set>'
            b'<inputs><trigger><rsc_op id="9"/></trigger></inputs></synapse></transition_graph>',
            "unknown actions [9]",
        ),
    ],
)
def test_bad_graphs_are_refused(bad: bytes, message: str) -> None:
    with pytest.raises(GraphError, match=message.replace("[", r"\[").replace("]", r"\]")):
        TransitionGraph.from_xml(bad)


def test_reporting_an_action_not_in_flight_is_an_error() -> None:
    with pytest.raises(GraphError, match="not in flight"):
        TransitionEngine(TransitionGraph.from_xml(SMALL)).completed(3, True)


@pytest.mark.skipif(not ALL_GRAPHS, reason=f"the scheduler corpus is not at {GRAPHS}")
def test_pacemakers_graphs_run_to_completion_in_dependency_order() -> None:
    rng = random.Random(20261122)
    for path in ALL_GRAPHS:
        graph = TransitionGraph.from_xml(path.read_bytes())
        engine = TransitionEngine(graph, batch_limit=rng.choice([0, 1, 3]))
        order = run_all(engine, rng)
        real = [s for s in graph.synapses if not s.action.is_pseudo]
        assert engine.finished, path.name
        assert sorted(order) == sorted(s.action.action_id for s in real), path.name
        position = {action_id: i for i, action_id in enumerate(engine.confirmed)}
        for synapse in graph.synapses:
            for needed in synapse.inputs:
                assert position[needed] < position[synapse.action.action_id], path.name
