"""A resource's operation history on one node -> its state there (Pacemaker's unpack of
an `lrm_resource`).

Each `lrm_rsc_op`, oldest first, updates the role the resource has on the node and the
failure handling still in force: results are remapped against what was expected (a probe
finding it stopped is fine, a degraded result is a success, a missing agent is a hard
error), expired failures are forgotten, failures apply their `on-fail`, and migrations are
read across the source's and the target's histories (partial and dangling migrations).
What the history finally says is then applied: the node is fenced or put in standby, the
resource is marked failed or blocked, and the node is added to where it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from lxml import etree

from hactl.core.cib.schema import parse_duration_ms
from hactl.core.scheduler import assign, bundle, remote, scores
from hactl.core.scheduler.model import HistoryEntry, Location, Node, Resource, Role, WorkingSet

T = TypeVar("T")

if TYPE_CHECKING:
    from hactl.core.scheduler.unpack import Unpacker

INFINITY = scores.INFINITY

EXEC_PENDING = -1
EXEC_DONE = 0
EXEC_CANCELLED = 1
EXEC_TIMEOUT = 2
EXEC_NOT_SUPPORTED = 3
EXEC_ERROR = 4
EXEC_ERROR_HARD = 5
EXEC_ERROR_FATAL = 6
EXEC_NOT_INSTALLED = 7
EXEC_NOT_CONNECTED = 8
EXEC_INVALID = 9
EXEC_NO_FENCE_DEVICE = 10
EXEC_NO_SECRETS = 11

OCF_OK = 0
OCF_UNKNOWN_ERROR = 1
OCF_INVALID_PARAM = 2
OCF_UNIMPLEMENTED = 3
OCF_INSUFFICIENT_PRIV = 4
OCF_NOT_INSTALLED = 5
OCF_NOT_CONFIGURED = 6
OCF_NOT_RUNNING = 7
OCF_RUNNING_PROMOTED = 8
OCF_FAILED_PROMOTED = 9
OCF_DEGRADED = 190
OCF_DEGRADED_PROMOTED = 191
OCF_PENDING = 193

#: failure handlings, mildest first: a later failure only ever makes the handling stricter
ON_FAIL_ORDER = (
    "ignore",
    "demote",
    "restart",
    "reset-remote",
    "restart-container",
    "ban",
    "block",
    "stop",
    "standby",
    "fence",
)
_ON_FAIL_ALIASES = {"nothing": "ignore", "migrate": "ban"}
#: tasks whose results say something about the resource's state
STATE_TASKS = ("monitor", "start", "stop", "promote", "demote", "migrate_to", "migrate_from")


def stricter(a: str, b: str) -> str:
    return a if ON_FAIL_ORDER.index(a) >= ON_FAIL_ORDER.index(b) else b


def is_probe(entry: HistoryEntry) -> bool:
    return entry.task == "monitor" and entry.interval_ms == 0


def masked_probe_failure(entry: HistoryEntry) -> bool:
    """A probe that failed only because the agent cannot run there counts as 'not running'."""
    return is_probe(entry) and (
        entry.rc in (OCF_NOT_INSTALLED, OCF_INVALID_PARAM) or entry.status == EXEC_NOT_INSTALLED
    )


def _int(element: etree._Element, name: str, default: int) -> int:
    value = element.get(name)
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def newer(a: etree._Element, b: etree._Element, *, same_node: bool | None = None) -> int:
    """Pacemaker's comparison of two history entries' age (-1: a older, 1: a newer);
    `same_node` when known (entries of one node's history), else from their on_node."""
    a_call, b_call = _int(a, "call-id", -1), _int(b, "call-id", -1)
    if same_node is None:
        same_node = (a.get("on_node") or "").lower() == (b.get("on_node") or "").lower()
    if a_call == -1 and b_call == -1:
        return 0
    if same_node and 0 <= a_call < b_call:
        return -1
    if same_node and b_call >= 0 and a_call > b_call:
        return 1
    if a_call >= 0 and b_call >= 0 and (not same_node or a_call == b_call):
        a_when, b_when = _int(a, "last-rc-change", -1), _int(b, "last-rc-change", -1)
        if 0 <= a_when < b_when:
            return -1
        if b_when >= 0 and a_when > b_when:
            return 1
        return 0
    # one of them is pending: the transitions they were part of tell their age (a pending
    # start superseded by a later transition's stop is the older)
    a_key, b_key = _transition(a), _transition(b)
    if a_key is None or b_key is None:
        return 0
    (a_uuid, a_id), (b_uuid, b_id) = a_key, b_key
    if a_uuid != b_uuid or a_id == b_id:
        # from another DC's transitions: a pending operation is the newer
        return -1 if b_call == -1 else 1
    if 0 <= a_id < b_id or b_id == -1:
        return -1
    if 0 <= b_id < a_id or a_id == -1:
        return 1
    return 0


def list_sort(items: list[T], compare: Callable[[T, T], int]) -> list[T]:
    """GLib's g_list_sort, which Pacemaker sorts histories with: a stable top-down merge
    sort whose first half is the shorter. With pending operations `newer` is not transitive,
    so the result depends on the algorithm, not only on the comparison."""
    if len(items) < 2:
        return list(items)
    middle = len(items) // 2
    left, right = list_sort(items[:middle], compare), list_sort(items[middle:], compare)
    merged: list[T] = []
    i = j = 0
    while i < len(left) and j < len(right):
        if compare(left[i], right[j]) <= 0:
            merged.append(left[i])
            i += 1
        else:
            merged.append(right[j])
            j += 1
    return merged + left[i:] + right[j:]


def _transition(op: etree._Element) -> tuple[str, int] | None:
    """(DC uuid, transition id) from an entry's transition-magic
    (`status:rc;action:transition:target-rc:uuid`), None when it has none."""
    status_rc, _, key = (op.get("transition-magic") or "").partition(";")
    fields = key.split(":", 3)
    if not key or len(fields) != 4 or len(status_rc.split(":")) != 2:
        return None
    try:
        int(fields[0]), int(fields[2])
        return fields[3].lower(), int(fields[1])
    except ValueError:
        return None


@dataclass
class _Result:
    """One history entry being unpacked (its status and rc may be remapped)."""

    entry: HistoryEntry
    status: int
    rc: int
    expected: int

    @property
    def task(self) -> str:
        return self.entry.task

    @property
    def xml(self) -> etree._Element:
        assert self.entry.element is not None
        return self.entry.element


class HistoryReader:
    """Unpacks the histories of a CIB's status section, one `lrm_resource` at a time."""

    def __init__(self, unpacker: Unpacker):
        self.unpacker = unpacker
        self.ws = unpacker.ws
        self._index: dict[tuple[str, str], etree._Element] | None = None

    # -- lookups across the whole status section -----------------------------------------

    def lrm_resource(self, rsc_id: str, node_name: str) -> etree._Element | None:
        if self._index is None:
            self._index = {}
            status = self.unpacker.status
            for state in status.findall("node_state") if status is not None else []:
                uname = state.get("uname", "")
                for element in state.iterfind("lrm/lrm_resources/lrm_resource"):
                    self._index.setdefault((uname, element.get("id", "")), element)
        return self._index.get((node_name, rsc_id))

    def find_op(
        self, rsc_id: str, task: str, node_name: str, peer: str | None, target_rc: int
    ) -> etree._Element | None:
        """The first `task` entry on node_name (a migration's with the given peer), when
        it has the wanted result (target_rc < 0: any result)."""
        element = self.lrm_resource(rsc_id, node_name)
        if element is None:
            return None
        found = None
        for op in element.findall("lrm_rsc_op"):
            if op.get("operation") != task:
                continue
            if peer is not None and task == "migrate_to" and op.get("migrate_target") != peer:
                continue
            if peer is not None and task == "migrate_from" and op.get("migrate_source") != peer:
                continue
            found = op
            break
        if found is not None and target_rc >= 0:
            if _int(found, "rc-code", 1) != target_rc or _int(found, "op-status", 4) != 0:
                return None
        return found

    def unknown_on(self, rsc: Resource, node_name: str) -> bool:
        """No completed history of the resource on the node."""
        element = self.lrm_resource(rsc.history_id, node_name)
        if element is None:
            return True
        return all(_int(op, "rc-code", 0) == OCF_PENDING for op in element.findall("lrm_rsc_op"))

    def non_monitor_after(self, rsc_id: str, node_name: str, op: etree._Element) -> bool:
        element = self.lrm_resource(rsc_id, node_name)
        if element is None:
            return False
        for other in element.findall("lrm_rsc_op"):
            if other is op:
                continue
            if other.get("operation") in ("start", "stop", "migrate_to", "migrate_from"):
                if newer(other, op) > 0:
                    return True
        return False

    def monitor_not_running_after(self, rsc_id: str, node_name: str, op: etree._Element) -> bool:
        monitor = self.find_op(rsc_id, "monitor", node_name, None, OCF_NOT_RUNNING)
        return monitor is not None and newer(monitor, op) > 0

    def newer_state_after_migrate(
        self,
        rsc_id: str,
        node_name: str,
        migrate_to: etree._Element | None,
        migrate_from: etree._Element | None,
    ) -> bool:
        op = migrate_from if migrate_from is not None else migrate_to
        assert op is not None
        # compare with the migration event on the same node when there is one
        if op is not migrate_to and migrate_to is not None:
            if node_name == op.get("migrate_source"):
                op = migrate_to
        return self.non_monitor_after(rsc_id, node_name, op) or self.monitor_not_running_after(
            rsc_id, node_name, op
        )

    # -- failure handling -----------------------------------------------------------------

    def on_fail(self, rsc: Resource, task: str, interval_ms: int) -> str:
        value = self.unpacker.on_fail_for(rsc, task, interval_ms).lower()
        value = _ON_FAIL_ALIASES.get(value, value)
        return value if value in ON_FAIL_ORDER else "restart"

    def failure_role(self, task: str, on_fail: str) -> Role:
        """The role a failure leaves the resource heading for."""
        if on_fail == "stop":
            return Role.STOPPED
        return Role.UNPROMOTED if task == "promote" else Role.STARTED

    # -- one lrm_resource ----------------------------------------------------------------

    def unpack(self, rsc: Resource, node: Node, entries: list[HistoryEntry]) -> None:
        state = _State(rsc)
        for entry in entries:
            if entry.task not in STATE_TASKS and entry.task != "asyncmon":
                continue
            if entry.element is None or entry.status == EXEC_CANCELLED:
                continue
            self.unpack_op(state, node, entry)
        self.apply_state(state, node)

    def unpack_op(self, state: _State, node: Node, entry: HistoryEntry) -> None:
        rsc = state.rsc
        result = _Result(entry, entry.status, entry.rc, entry.expected_rc)
        expired = self.check_expiry(rsc, node, result)
        original_rc = result.rc
        self.remap(state, node, result, expired)
        if expired and self.expired_result_done(state, node, result, original_rc):
            return
        if masked_probe_failure(entry):
            self.update_state(state, node, result, result.expected)
            listed = node.name in dict(rsc.failed_probes)
            if node.online and bundle.bundle_of(rsc) is None and not listed:
                # Pacemaker's record_failed_op: listed (once per node) for status displays
                rsc.failed_probes.append((node.name, entry.rc))
            ban = rsc if self._unique(rsc) else rsc.top
            self.ws.locations.append(
                Location(id="masked-probe-failure", rsc=ban, node_scores={node.name: -INFINITY})
            )
            return
        ban_target = rsc if self._unique(rsc) else rsc.top
        if result.status == EXEC_PENDING:
            self.pending(state, node, result)
            return
        if result.status == EXEC_DONE:
            self.update_state(state, node, result, result.rc)
            return
        strategy = self.on_fail(rsc, entry.task, entry.interval_ms)
        fail_role = self.failure_role(entry.task, strategy)
        if result.status == EXEC_NOT_INSTALLED:
            if strategy == "ignore":
                # a missing agent cannot be ignored
                state.on_fail = stricter(state.on_fail, "ban")
            self.ws.locations.append(
                Location(id="hard-error", rsc=ban_target, node_scores={node.name: -INFINITY})
            )
            self.failure(state, node, result, strategy, fail_role)
            return
        if strategy == "ignore" or (strategy == "restart-container" and entry.task == "stop"):
            # pretend the failed action succeeded
            self.update_state(state, node, result, result.expected)
            rsc.meta["__failure_ignored"] = "1"
            if strategy == "restart-container" and ON_FAIL_ORDER.index(
                state.on_fail
            ) <= ON_FAIL_ORDER.index("restart"):
                state.on_fail = strategy
            return
        self.failure(state, node, result, strategy, fail_role)
        if result.status == EXEC_ERROR_HARD:
            self.ws.locations.append(
                Location(id="hard-error", rsc=ban_target, node_scores={node.name: -INFINITY})
            )
        elif result.status == EXEC_ERROR_FATAL:
            self.ws.locations.append(
                Location(
                    id="fatal-error",
                    rsc=ban_target,
                    node_scores={n.name: -INFINITY for n in self.ws.nodes},
                )
            )

    @staticmethod
    def _unique(rsc: Resource) -> bool:
        clone = rsc.clone_parent()
        return clone is None or clone.globally_unique

    # -- expiry ---------------------------------------------------------------------------

    def check_expiry(self, rsc: Resource, node: Node, result: _Result) -> bool:
        """Whether a failure is older than the failure timeout (clearing its fail count)."""
        if result.status == EXEC_NOT_INSTALLED or not rsc.failure_timeout:
            return False
        entry = result.entry
        if self.blocking_failure(rsc, entry) and self.unpacker.has_failcount(rsc, node):
            # a failure that blocks the resource never expires
            rsc.failure_timeout = 0
            return False
        last_run = _int(result.xml, "last-rc-change", -1)
        if last_run < 0:
            return False
        expired = self.ws.epoch >= last_run + rsc.failure_timeout
        expired = expired and not self.awaits_remote_fencing(rsc, entry)
        if expired:
            if self.unpacker.has_failcount(rsc, node):
                if assign.failcount(self.ws, rsc, node) == 0:
                    if (rsc, node) not in self.ws.clear_failcounts:
                        self.ws.clear_failcounts.append((rsc, node))
                else:
                    expired = False
            elif entry.id.endswith("_last_failure_0") and remote.reconnect_ms(rsc) > 0:
                # a connection's expired last failure goes, fail count or not, so that it
                # may reconnect (Pacemaker's check_operation_expiry)
                if (rsc, node) not in self.ws.clear_failcounts:
                    self.ws.clear_failcounts.append((rsc, node))
        if expired and is_probe(entry):
            if result.rc in (OCF_OK, OCF_NOT_RUNNING, OCF_RUNNING_PROMOTED, 190, 191):
                expired = False
        return expired

    def awaits_remote_fencing(self, rsc: Resource, entry: HistoryEntry) -> bool:
        """A reconnecting connection's failed recurring monitor does not expire before its
        remote node is fenced: a monitor reports only changes, so a failure still going on
        would go unseen once cleared (Pacemaker's should_ignore_failure_timeout)."""
        if not (entry.task == "monitor" and entry.interval_ms and self.ws.fencing_enabled):
            return False
        if remote.reconnect_ms(rsc) <= 0:
            return False
        remote_node = self.ws.node(rsc.id)
        return remote_node is not None and not remote_node.remote_fenced

    @staticmethod
    def blocking_failure(rsc: Resource, entry: HistoryEntry) -> bool:
        """The entry is a failure of an op configured with on-fail=block."""
        for op in rsc.ops:
            if (op.on_fail or "").lower() != "block":
                continue
            if op.name != entry.task or op.interval_ms != entry.interval_ms:
                continue
            if entry.id.endswith("_last_failure_0") or entry.rc != entry.expected_rc:
                return True
        return False

    def expired_result_done(
        self, state: _State, node: Node, result: _Result, original_rc: int
    ) -> bool:
        """Handle an expired result; False when it is to be processed as usual."""
        if masked_probe_failure(result.entry) and original_rc != result.expected:
            if state.role <= Role.STOPPED:
                state.role = Role.UNKNOWN
            return True
        if result.rc == result.expected:
            return False  # only failures expire
        if result.entry.interval_ms == 0:
            return True
        # an expired recurring failure is forgotten where the monitor can be scheduled again
        return node.online and not node.unclean

    # -- remapping -------------------------------------------------------------------------

    def remap(self, state: _State, node: Node, result: _Result, expired: bool) -> None:
        entry = result.entry
        if result.rc == OCF_DEGRADED:
            result.rc = OCF_OK
        elif result.rc == OCF_DEGRADED_PROMOTED:
            result.rc = OCF_RUNNING_PROMOTED
        if masked_probe_failure(entry):
            result.status = EXEC_DONE
            result.rc = OCF_NOT_RUNNING
        if result.status in (EXEC_NO_FENCE_DEVICE, EXEC_NO_SECRETS):
            result.status = EXEC_ERROR_HARD
            return
        if result.status not in (EXEC_DONE, EXEC_ERROR):
            return
        probe = is_probe(entry)
        if result.expected < 0:
            result.status = EXEC_ERROR
        elif result.rc == result.expected:
            result.status = EXEC_DONE
        else:
            result.status = EXEC_ERROR
        rc = result.rc
        if rc == OCF_OK:
            if probe and result.expected == OCF_NOT_RUNNING:
                result.status = EXEC_DONE
        elif rc == OCF_NOT_RUNNING:
            if probe or result.expected == rc or not state.rsc.managed:
                result.status = EXEC_DONE
                state.role = Role.STOPPED
                state.on_fail = "ignore"
                state.next_role_reset()
        elif rc == OCF_RUNNING_PROMOTED:
            if probe and rc != result.expected:
                result.status = EXEC_DONE
            if not expired or rc == result.expected:
                state.role = Role.PROMOTED
        elif rc == OCF_FAILED_PROMOTED:
            if not expired:
                state.role = Role.PROMOTED
            result.status = EXEC_ERROR
        elif rc == OCF_NOT_CONFIGURED:
            result.status = EXEC_ERROR_FATAL
        elif rc == OCF_UNIMPLEMENTED:
            if entry.interval_ms == 0:
                if not expired:
                    self.block_if_unrecoverable(state, node, result)
                result.status = EXEC_ERROR_HARD
            else:
                result.status = EXEC_NOT_SUPPORTED
        elif rc in (OCF_NOT_INSTALLED, OCF_INVALID_PARAM, OCF_INSUFFICIENT_PRIV):
            if not expired:
                self.block_if_unrecoverable(state, node, result)
            result.status = EXEC_ERROR_HARD
        elif result.status == EXEC_DONE:
            result.status = EXEC_ERROR

    def block_if_unrecoverable(self, state: _State, node: Node, result: _Result) -> None:
        """A stop that failed where fencing cannot help leaves the resource blocked."""
        if result.task != "stop" or self._can_fence(node):
            return
        state.rsc.managed = False
        state.rsc.blocked = True

    def _can_fence(self, node: Node) -> bool:
        return can_fence(self.ws, node)

    # -- results ---------------------------------------------------------------------------

    def set_active(self, state: _State) -> None:
        clone = state.rsc.clone_parent()
        state.role = Role.UNPROMOTED if clone is not None and clone.promotable else Role.STARTED

    def update_state(self, state: _State, node: Node, result: _Result, rc: int) -> None:
        task = result.task
        clear = False
        if rc == OCF_NOT_INSTALLED or masked_probe_failure(result.entry):
            state.role = Role.STOPPED
        elif rc == OCF_NOT_RUNNING:
            clear = True
        elif task == "monitor":
            if state.last_failure is not None and _history_key(state.last_failure) == (
                _history_key(result.entry)
            ):
                clear = True
            if state.role < Role.STARTED:
                self.set_active(state)
        elif task == "start":
            self.set_active(state)
            clear = True
        elif task == "stop":
            state.role = Role.STOPPED
            clear = True
        elif task == "promote":
            state.role = Role.PROMOTED
            clear = True
        elif task == "demote":
            if state.on_fail == "demote":
                clear = True
            state.role = Role.UNPROMOTED
        elif task == "migrate_from":
            self.set_active(state)
            clear = True
        elif task == "migrate_to":
            self.migrate_to_success(state, node, result)
        elif state.role < Role.STARTED:
            self.set_active(state)
        if not clear:
            return
        if state.on_fail in ("block", "ignore", "demote", "restart", "restart-container"):
            state.on_fail = "ignore"
            state.next_role_reset()
        elif state.on_fail == "reset-remote" and not remote.reconnect_ms(state.rsc):
            state.on_fail = "ignore"
            state.next_role_reset()

    def pending(self, state: _State, node: Node, result: _Result) -> None:
        entry = result.entry
        last = state.last_failure
        if (
            last is not None
            and last.task == entry.task
            and last.interval_ms == entry.interval_ms
            and last.element is not None
            and entry.element is not None
            and _int(last.element, "last-rc-change", -1) >= _int(entry.element, "last-rc-change", 0)
            and last.element.get("last-rc-change") is not None
            and entry.element.get("last-rc-change") is not None
        ):
            return  # the pending action's failure is known since
        if entry.task == "start":
            self.set_active(state)
        elif entry.task == "promote":
            state.role = Role.PROMOTED
        elif entry.task == "migrate_to" and node.unclean:
            target = self.ws.node(result.xml.get("migrate_target", ""))
            if target is not None:
                state.rsc.meta["__stop_on"] = target.name
        if state.rsc.pending_task is None and not is_probe(entry):
            state.rsc.pending_task = entry.task
            state.rsc.pending_node = node
        if entry.task == "migrate_to":
            target_name = result.xml.get("migrate_target")
            if target_name:
                state.rsc.migrated_to[node.name] = target_name

    def failure(
        self, state: _State, node: Node, result: _Result, strategy: str, fail_role: Role
    ) -> None:
        rsc = state.rsc
        entry = result.entry
        state.last_failure = entry
        state.on_fail = stricter(state.on_fail, strategy)
        if entry.task == "stop":
            self.ws.locations.append(
                Location(id="stop-failure", rsc=rsc, node_scores={node.name: -INFINITY})
            )
            rsc.stop_failed_on.add(node.name)
        elif entry.task == "migrate_to":
            self.migrate_to_failure(state, node, result)
        elif entry.task == "migrate_from":
            self.migrate_from_failure(state, node, result)
        elif entry.task == "promote":
            state.role = Role.PROMOTED
        elif entry.task == "demote":
            if strategy == "block":
                state.role = Role.PROMOTED
                state.stop_next = True
            elif result.rc == OCF_NOT_RUNNING:
                state.role = Role.STOPPED
            else:
                # staying promoted would loop; the recovery stops it anyway
                state.role = Role.UNPROMOTED
        if is_probe(entry) and result.rc == OCF_NOT_INSTALLED:
            state.role = Role.STOPPED
        elif state.role < Role.STARTED:
            self.set_active(state)
        if fail_role == Role.STOPPED:
            state.stop_next = True
            self.ban_everywhere(rsc)

    def ban_everywhere(self, rsc: Resource) -> None:
        """on-fail=stop: the resource (an anonymous clone as a whole) stays stopped."""
        target = rsc
        clone = rsc.clone_parent()
        if clone is not None and not clone.globally_unique:
            target = rsc.top
        self.ws.locations.append(
            Location(
                id="on-fail-stop",
                rsc=target,
                node_scores={n.name: -INFINITY for n in self.ws.nodes},
            )
        )

    # -- migrations ------------------------------------------------------------------------

    def migrate_to_success(self, state: _State, node: Node, result: _Result) -> None:
        rsc = state.rsc
        xml = result.xml
        source, target = xml.get("migrate_source"), xml.get("migrate_target")
        if not source or not target or source != node.name:
            return
        rid = rsc.history_id
        source_newer = self.non_monitor_after(rid, source, xml)
        migrate_from = self.find_op(rid, "migrate_from", target, source, -1)
        from_rc, from_status = OCF_OK, EXEC_PENDING
        if migrate_from is not None:
            if source_newer:
                return  # irrelevant: newer state on the source, migrate_from on the target
            from_rc = _int(migrate_from, "rc-code", OCF_OK)
            from_status = _int(migrate_from, "op-status", EXEC_PENDING)
        target_newer = self.newer_state_after_migrate(rid, target, xml, migrate_from)
        if source_newer and target_newer:
            return
        if from_rc == OCF_OK and from_status == EXEC_DONE:
            # dangling: the migration completed, the source still has to stop
            state.role = Role.STOPPED
            if node not in rsc.dangling:
                rsc.dangling.append(node)
            return
        state.role = Role.STARTED
        target_node = self.ws.node(target)
        active_on_target = not target_newer and target_node is not None and target_node.online
        if from_status != EXEC_PENDING:
            # the migrate_from failed on the target
            if active_on_target:
                assert target_node is not None
                self.add_running(rsc, target_node)
            else:
                self.mark_failed(rsc, node)
                rsc.meta["__no_migrate"] = "1"
            return
        if target_node is not None and target_node.online and self.unknown_on(rsc, target):
            return  # the target's history was cleaned: a probe will tell
        if active_on_target:
            assert target_node is not None
            self.add_running(rsc, target_node)
            source_node = self.ws.node(source)
            if source_node is not None and source_node.online:
                # a partial migration, which may continue if the target stays the same
                rsc.migrated_to[source] = target
                rsc.meta["__partial_source"] = source
                rsc.meta["__partial_target"] = target
        elif not source_newer:
            self.mark_failed(rsc, node)
            rsc.meta["__no_migrate"] = "1"

    def migrate_to_failure(self, state: _State, node: Node, result: _Result) -> None:
        rsc = state.rsc
        xml = result.xml
        source, target = xml.get("migrate_source"), xml.get("migrate_target")
        if not source or not target or source != node.name:
            return
        state.role = Role.STARTED
        rid = rsc.history_id
        target_from = self.find_op(rid, "migrate_from", target, source, OCF_OK)
        if not self.unknown_on(rsc, target) and not self.newer_state_after_migrate(
            rid, target, xml, target_from
        ):
            target_node = self.ws.node(target)
            if target_node is not None and target_node.online:
                self.add_running(rsc, target_node)
        elif not self.non_monitor_after(rid, source, xml):
            if node not in rsc.dangling:
                rsc.dangling.append(node)

    def migrate_from_failure(self, state: _State, node: Node, result: _Result) -> None:
        rsc = state.rsc
        xml = result.xml
        source, target = xml.get("migrate_source"), xml.get("migrate_target")
        if not source or not target or target != node.name:
            return
        state.role = Role.STARTED
        rid = rsc.history_id
        source_to = self.find_op(rid, "migrate_to", source, target, OCF_OK)
        if not self.unknown_on(rsc, source) and not self.newer_state_after_migrate(
            rid, source, source_to, xml
        ):
            source_node = self.ws.node(source)
            if source_node is not None and source_node.online:
                self.add_running(rsc, source_node)

    # -- the outcome -----------------------------------------------------------------------

    def mark_failed(self, rsc: Resource, node: Node) -> None:
        rsc.failed = True
        if node not in rsc.failed_nodes:
            rsc.failed_nodes.append(node)

    def add_running(self, rsc: Resource, node: Node) -> None:
        """The resource is active on node (Pacemaker's native_add_running)."""
        if node in rsc.running_on:
            return
        rsc.running_on.append(node)
        if node.maintenance:
            rsc.managed = False
        if not rsc.managed or len(rsc.running_on) < 2:
            return
        policy = rsc.multiple_active
        if policy == "stop_only":
            self.ws.locations.append(
                Location(
                    id="multiple-active-stop",
                    rsc=rsc,
                    node_scores={n.name: -INFINITY for n in self.ws.nodes},
                )
            )
        elif policy == "block":
            rsc.managed = False
            rsc.blocked = True
            group = rsc.parent
            if group is not None and group.kind == "group" and group.multiple_active == "block":
                for sibling in group.children:
                    sibling.managed = False
                    sibling.blocked = True

    def apply_state(self, state: _State, node: Node) -> None:
        """What the history finally says (Pacemaker's process_rsc_state)."""
        rsc = state.rsc
        ws = self.ws
        role = state.role
        known_active = role > Role.STOPPED
        if role != Role.UNKNOWN:
            rsc.known_on.add(node.name)
        if known_active and not node.online and not node.maintenance and rsc.managed:
            if node.kind != "remote" and ws.fencing_enabled:
                self.unpacker.fence(node, f"{rsc.id} is thought to be active there")
        on_fail = "ignore" if node.unclean else state.on_fail
        if on_fail == "demote":
            self.mark_failed(rsc, node)
            rsc.meta["__demote_on"] = node.name
        elif on_fail == "fence":
            self.unpacker.fence(node, f"{rsc.id} failed there")
        elif on_fail == "standby":
            node.standby = True
            node.standby_onfail = True
        elif on_fail == "block":
            rsc.managed = False
            rsc.blocked = True
        elif on_fail == "ban":
            ws.locations.append(
                Location(
                    id="__action_migration_auto__", rsc=rsc, node_scores={node.name: -INFINITY}
                )
            )
        elif on_fail in ("restart-container", "reset-remote"):
            self.unpacker.apply_on_fail(rsc, node, "", on_fail)
        if state.stop_next or on_fail == "stop":
            rsc.target_role = Role.STOPPED
            rsc.meta["__stop_onfail"] = "1"
        if known_active:
            self.add_running(rsc, node)
            if on_fail != "ignore":
                self.mark_failed(rsc, node)
            if role > rsc.role:
                rsc.role = role
        elif state.role == Role.STOPPED and rsc.running_on:
            # a stop after migrate_to on the source leaves the partial target active
            if rsc.meta.get("__partial_source") == node.name:
                rsc.role = max(rsc.role, Role.STARTED)


def can_fence(ws: WorkingSet, node: Node | None) -> bool:
    """Whether a cluster node can be fenced (Pacemaker's pe_can_fence): fencing enabled, a
    fence device configured (or have-watchdog), and quorum (or no-quorum-policy=ignore),
    except that a node still in our membership can be fenced without quorum."""
    if node is not None and node.is_guest:
        # a guest is fenced by stopping its launcher: possible where the launcher's host is
        # online or can be fenced itself
        assert node.remote_rsc is not None and node.remote_rsc.launcher is not None
        hosts = node.remote_rsc.launcher.running_on
        return all(host.online or can_fence(ws, host) for host in hosts)
    if not ws.fencing_enabled or not ws.have_fencing:
        return False
    if ws.have_quorum or ws.no_quorum_policy == "ignore":
        return True
    return node is not None and node.online


def priority_fencing_delay_s(ws: WorkingSet, node: Node) -> int:
    """Seconds to delay fencing a lost cluster node (Pacemaker's node priority fencing
    delay): in a split that left us at most half of the cluster nodes, the node whose
    resources weigh most (the sum of their priorities, a promoted instance's plus one) is
    fenced after priority-fencing-delay, so that in a two-node split it survives."""
    delay_ms = parse_duration_ms(ws.options.get("priority-fencing-delay", "")) or 0
    if not delay_ms or node.is_remote or node.online:
        return 0
    members = [n for n in ws.nodes if not n.is_remote]
    if sum(n.online for n in members) > len(members) // 2:
        return 0
    weights = {n.name: 0 for n in members}
    for rsc in ws.all_resources():
        if not rsc.is_primitive or rsc.priority <= 0 or rsc.failed:
            continue
        weight = rsc.priority + (1 if rsc.role == Role.PROMOTED else 0)
        for host in rsc.running_on:
            if host.name in weights:
                weights[host.name] += weight
    top = max(weights.values())
    if min(weights.values()) == top or weights[node.name] < top:
        return 0
    return -(-delay_ms // 1000)


def _history_key(entry: HistoryEntry) -> tuple[str, int]:
    return (entry.task, entry.interval_ms)


class _State:
    """The resource's state on one node while its history is read."""

    def __init__(self, rsc: Resource):
        self.rsc = rsc
        self.role = Role.UNKNOWN
        self.on_fail = "ignore"
        self.last_failure: HistoryEntry | None = None
        self.stop_next = False

    def next_role_reset(self) -> None:
        self.stop_next = False
