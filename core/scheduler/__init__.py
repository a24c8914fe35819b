"""The policy engine: a pure function from a CIB and a time to a transition.

    ws = schedule(cib_root, now)   # placement in ws.resources, actions in ws.actions

No I/O happens here: the caller parses the CIB and chooses the time.
"""

from __future__ import annotations

import datetime as dt

from lxml import etree

from hactl.core.scheduler import actions, assign, unpack
from hactl.core.scheduler.model import WorkingSet

__all__ = ["schedule", "WorkingSet"]


def schedule(cib: etree._Element, now: dt.datetime) -> WorkingSet:
    """Unpack the CIB at time `now`, place every resource and build the transition."""
    ws = unpack.unpack(cib, now)
    assign.place(ws)
    actions.build(ws)
    return ws
