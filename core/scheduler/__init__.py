"""The policy engine: a pure function from a CIB and a time to a transition.

    ws = schedule(cib_root, now)   # placement in ws.resources, actions in ws.actions

No I/O happens here: the caller parses the CIB and chooses the time.

Modules, in the order they run:
  unpack   CIB XML -> WorkingSet: options, nodes (online/unclean/standby), resources
           (clone instances made here), operation history -> current roles and failures,
           constraints (locations evaluated with rules; tickets)
  assign   node scores (locations, stickiness, fail counts, node health, utilization) and
           placement: primitives, groups, clones (Pacemaker's instance assignment), promotion
  actions  the transition: actions (start/stop/promote/demote/migrate/probe/monitor/cancel/
           notify/fence/...) and their orderings with Pacemaker's relation flags, propagated
  output   crm_simulate's texts: transition summary, dot graph, graph XML, executed lines
  execute  the simulated run (-S): fires the graph in Pacemaker's synapse order and records
           the results in a copy of the CIB status, which unpack reads again
  remote   Pacemaker Remote and guest nodes, used by the others: nodes made from connection
           resources and remote-node launchers, their online state, their fencing (a guest's
           by recovering its launcher) and the orderings against their connection
Conformance against Pacemaker's regression cases: tests/conformance/scheduler_cases.py.
"""

from __future__ import annotations

import datetime as dt

from lxml import etree

from hactl.core.scheduler import actions, assign, digests, unpack
from hactl.core.scheduler.model import WorkingSet

__all__ = ["WorkingSet", "decide", "schedule"]


def schedule(cib: etree._Element, now: dt.datetime, *, sanitized: bool = False) -> WorkingSet:
    """Unpack the CIB at time `now`, place every resource and build the transition
    (`sanitized`: the CIB's secrets may be masked, as in a CIB file given to simulate)."""
    return decide(unpack.unpack(cib, now), sanitized=sanitized)


def decide(ws: WorkingSet, *, sanitized: bool = False) -> WorkingSet:
    """Place every resource of an unpacked working set and build the transition."""
    ws.sanitized = sanitized
    digests.clear_failures_of_changed_definitions(ws)
    assign.place(ws)
    actions.build(ws)
    return ws
