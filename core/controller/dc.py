"""Which node is the DC (designated controller).

The rule, applied by every node to the same agreed inputs (a totem configuration and the
announcements of its members, delivered in agreed order), so that all agree without an
election round:

1. the DC stays the DC while it is a member: among the DCs the members announce (each
   says which node was DC in the ring it comes from), those still in the membership are
   candidates, and the lowest node id among them is kept;
2. only when no announced DC is a member any more (the DC left, or the cluster starts) is
   a new one chosen: the member with the lowest node id.

After a partition heals, both sides announce their DC and the lower id keeps the job;
the other side's DC steps down. A node that just joined announces none.
"""

from __future__ import annotations

from collections.abc import Iterable


def choose_dc(members: Iterable[int], announced_dcs: Iterable[int | None]) -> int | None:
    """The DC of a membership, given the DCs its members announced (None: they knew none)."""
    present = set(members)
    if not present:
        return None
    candidates = {dc for dc in announced_dcs if dc is not None and dc in present}
    return min(candidates) if candidates else min(present)
