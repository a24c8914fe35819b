"""Pacemaker's score arithmetic: integers saturating at +/-INFINITY (1,000,000).

-INFINITY wins over +INFINITY when both are added, so a ban is never cancelled by a
mandatory preference.
"""

from __future__ import annotations

INFINITY = 1_000_000


def add(a: int, b: int) -> int:
    """Sum of two scores as Pacemaker computes it (pcmk__add_scores)."""
    if a <= -INFINITY or b <= -INFINITY:
        return -INFINITY
    if a >= INFINITY or b >= INFINITY:
        return INFINITY
    total = a + b
    if total >= INFINITY:
        return INFINITY
    if total <= -INFINITY:
        return -INFINITY
    return total


def parse(text: str | None, default: int = 0) -> int:
    """A score as written in the CIB: an integer, INFINITY, +INFINITY or -INFINITY."""
    if text is None:
        return default
    value = text.strip()
    lowered = value.lower()
    if lowered in ("infinity", "+infinity"):
        return INFINITY
    if lowered == "-infinity":
        return -INFINITY
    try:
        number = int(float(value))
    except ValueError:
        return default
    return max(-INFINITY, min(INFINITY, number))


def render(score: int) -> str:
    if score >= INFINITY:
        return "INFINITY"
    if score <= -INFINITY:
        return "-INFINITY"
    return str(score)
