"""Fail counts, last failures and forgetting history, on a CIB's lxml root. Pure.

Pacemaker records a failed operation as two transient attributes of the node, per
resource (a clone's instances share their clone's name), operation and interval:

    fail-count-<rsc>#<op>_<interval>     how many times (INFINITY for a fatal start failure)
    last-failure-<rsc>#<op>_<interval>   when, in seconds since the epoch

The scheduler sums a resource's fail counts on a node against migration-threshold and
ignores them once failure-timeout has passed since the last failure. `resource cleanup`
clears them together with the failed resource's operation history (so it is probed
again); `resource refresh` forgets the history of every resource in scope.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from hactl.core.attrd.status import set_transient, transient_values
from hactl.core.errors import NotFoundError
from hactl.core.scheduler import scores

Element = etree._Element
FAIL_COUNT = "fail-count-"
LAST_FAILURE = "last-failure-"


def base_id(instance: str) -> str:
    """``db:1`` (clone instance 1) -> ``db``, as the configuration names it."""
    return instance.split(":", 1)[0]


def attribute_suffix(resource: str, operation: str, interval_ms: int) -> str:
    return f"{base_id(resource)}#{operation}_{interval_ms}"


@dataclass(frozen=True)
class FailCount:
    node: str
    resource: str
    operation: str  # <op>_<interval>
    count: int
    last_failure: int

    @property
    def count_text(self) -> str:
        return "INFINITY" if self.count >= scores.INFINITY else str(self.count)


def node_names(root: Element) -> list[str]:
    return [str(n.get("uname") or n.get("id")) for n in root.iterfind("configuration/nodes/node")]


def record_failure(
    root: Element,
    node: str,
    resource: str,
    operation: str,
    interval_ms: int,
    now_s: int,
    *,
    fatal: bool = False,
) -> int:
    """Count one failure (INFINITY when ``fatal``); returns the new fail count."""
    suffix = attribute_suffix(resource, operation, interval_ms)
    current = scores.parse(transient_values(root, node).get(FAIL_COUNT + suffix, "0"))
    count = scores.INFINITY if fatal else scores.add(current, 1)
    set_transient(
        root, node, FAIL_COUNT + suffix, "INFINITY" if count >= scores.INFINITY else str(count)
    )
    set_transient(root, node, LAST_FAILURE + suffix, str(now_s))
    return count


def resource_ids(root: Element, resource: str) -> set[str]:
    """The primitives a name covers (a group's or clone's members, or itself)."""
    for element in root.iterfind("configuration/resources//*[@id]"):
        if element.get("id") == resource and element.tag in (
            "primitive",
            "group",
            "clone",
            "master",
            "bundle",
        ):
            if element.tag == "primitive":
                return {resource}
            return {str(p.get("id")) for p in element.iter("primitive")}
    raise NotFoundError(
        f"resource {resource!r} does not exist",
        where="configuration/resources",
        hint="see `hactl resource status` for the configured resources",
    )


def _nodes_in_scope(root: Element, node: str | None) -> list[str]:
    names = node_names(root)
    if node is None:
        return names
    if node not in names:
        raise NotFoundError(
            f"node {node!r} is not in the CIB",
            where="nodes",
            hint="known nodes: " + (", ".join(names) or "none"),
        )
    return [node]


def fail_counts(
    root: Element,
    resource: str | None = None,
    node: str | None = None,
    operation: str | None = None,
) -> list[FailCount]:
    """Every recorded fail count in scope, by node, resource and operation (``operation``
    as ``monitor`` for any interval, or ``monitor_10000`` for one)."""
    wanted = resource_ids(root, resource) if resource is not None else None
    found: list[FailCount] = []
    for name in _nodes_in_scope(root, node):
        values = transient_values(root, name)
        for key, value in sorted(values.items()):
            if not key.startswith(FAIL_COUNT):
                continue
            subject = key[len(FAIL_COUNT) :]
            rsc, _, op = subject.partition("#")
            if wanted is not None and rsc not in wanted:
                continue
            if operation is not None and operation not in (op, op.rsplit("_", 1)[0]):
                continue
            last = values.get(LAST_FAILURE + subject, "0")
            when = int(last) if last.isdigit() else 0  # a time, not a score: never capped
            found.append(FailCount(name, rsc, op, scores.parse(value), when))
    return found


def clear_fail_counts(
    root: Element,
    resource: str | None = None,
    node: str | None = None,
    operation: str | None = None,
) -> int:
    """Delete fail counts and last failures in scope; returns how many were removed."""
    return clear_entries(root, fail_counts(root, resource, node, operation))


def clear_entries(root: Element, entries: list[FailCount]) -> int:
    """Delete these fail counts and their last failures; how many were there."""
    removed = 0
    for entry in entries:
        suffix = f"{entry.resource}#{entry.operation}"
        removed += set_transient(root, entry.node, FAIL_COUNT + suffix, None)
        set_transient(root, entry.node, LAST_FAILURE + suffix, None)
    return removed


def _lrm_resources(root: Element, node: str) -> list[Element]:
    ident = next(
        (
            str(n.get("id"))
            for n in root.iterfind("configuration/nodes/node")
            if n.get("uname") == node or n.get("id") == node
        ),
        node,
    )
    return [
        element
        for state in root.iterfind("status/node_state")
        if state.get("id") == ident
        for element in state.iterfind("lrm/lrm_resources/lrm_resource")
    ]


def _has_failed(element: Element) -> bool:
    return element.find(f"lrm_rsc_op[@id='{element.get('id')}_last_failure_0']") is not None


def forget_history(
    root: Element, resource: str | None = None, node: str | None = None, *, failed_only: bool
) -> list[tuple[str, str]]:
    """Remove resources' operation history (so the scheduler probes them again) and their
    fail counts; with ``failed_only`` only where a failure is recorded (cleanup), else all
    (refresh). Returns the (node, resource) pairs forgotten."""
    wanted = resource_ids(root, resource) if resource is not None else None
    counts = fail_counts(root, resource, node)
    counted = {(f.node, f.resource) for f in counts}
    forgotten: list[tuple[str, str]] = []
    for name in _nodes_in_scope(root, node):
        for element in _lrm_resources(root, name):
            rsc = str(element.get("id"))
            if wanted is not None and base_id(rsc) not in wanted:
                continue
            if failed_only and not (_has_failed(element) or (name, base_id(rsc)) in counted):
                continue
            parent = element.getparent()
            assert parent is not None
            parent.remove(element)
            forgotten.append((name, rsc))
    clear_entries(root, counts)
    history_forgotten = {(n, base_id(r)) for n, r in forgotten}
    forgotten.extend(sorted(counted - history_forgotten))
    return forgotten
