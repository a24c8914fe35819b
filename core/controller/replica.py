"""The replicated CIB: the state machine every node runs over totem's agreed order.

Inputs, in the order totem produces them: ``config_changed`` (a regular configuration),
``deliver`` (each controller message, the node's own included), plus the local
``submit`` (a client's change), ``request_shutdown`` and ``quorum_changed``. Outputs:
messages to broadcast, documents to persist, replies to clients, and notices.

Join and sync. After every regular configuration each member announces its CIB version
(admin_epoch, epoch, num_updates), the digest of its CIB and the DC of the ring it comes
from. When every member's announcement is delivered (the same point in the agreed order
on every node), each node computes the same decisions: the DC (hactl.core.controller.dc)
and the CIB that wins: the highest version, ties going to the DC's copy and then to the
lowest node id (Pacemaker's DC likewise syncs the cluster from the highest version it is
offered). If every member's digest already equals the winner's the ring is synced at
once; otherwise the winner broadcasts its whole CIB and the ring is synced when that is
delivered. So after a partition heals the side with the higher version wins, and a node
that was down gets the current CIB.

Changes. A client's change becomes a request broadcast by the node it reached. Only the
DC acts on requests, once synced: a configuration edit is refused in a partition without
quorum (the other side's CIB would win the merge and undo it), and the DC checks that the
configuration the client edited is still the current one (admin_epoch and epoch
unchanged, or the change is refused: it would undo someone else's), applies the change,
bumps the version as Pacemaker does and broadcasts the v2 patchset with ``safe`` delivery
(delivered only once every member holds it). Every node applies patches in delivery
order with version checks, persists the result, and the node the client is waiting on
answers it then: an acknowledged change is held by every member of the ring, so no
minority crash loses it. Requests and patches that
belong to an older ring are ignored; a node re-sends its unanswered requests after each
sync, and request ids make a re-sent request count once.

The DC also records what it knows of the nodes in the CIB, as Pacemaker's controller
does: a ``<node>`` entry for each node of the nodelist (and any member), a ``node_state``
for each node it has seen (online members; offline nodes keep ``expected="member"`` unless
they left cleanly, which makes a crashed node unclean), ``dc-uuid`` and ``have-quorum``.

A clean stop, in two steps as Pacemaker's: the node asks (``request_shutdown``) and the DC
records the ``shutdown`` attribute while the node stays online, so the scheduler moves its
resources away (stop there, then start elsewhere); once they are (the daemon decides, it
sees the controller), the DC releases it (``release``): ``expected="down"``, and the node
leaves the ring. Marking it offline at the request would let the scheduler start its
resources elsewhere while they still run on it.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from lxml import etree

from hactl.core.cib.document import CibDocument, CibError, attributes
from hactl.core.cib.patch import (
    apply_patch,
    bump_epoch,
    bump_num_updates,
    bump_versions,
    diff,
    parse_patch,
    patch_versions,
    restamped,
)
from hactl.core.controller.dc import choose_dc
from hactl.core.errors import HactlError

Versions = tuple[int, int, int]
Message = dict[str, Any]

#: why a partition without quorum refuses configuration edits: the majority's CIB wins
#: when the partitions merge, so an edit acknowledged here could silently disappear
NO_QUORUM = (
    "this node's partition has no quorum: a configuration change made here could be lost "
    "when the cluster re-forms; wait for quorum (`hactl quorum status`)"
)
#: how many answered request ids a node remembers (a re-sent request is recognised by them)
HANDLED_MEMORY = 4096


class ReplicaError(HactlError):
    """A controller message that cannot be decoded."""


# ----------------------------------------------------------------------------- outputs


@dataclass(frozen=True)
class Broadcast:
    """Send ``message`` to every member in agreed order (``safe``: held by all first)."""

    message: Message
    safe: bool = False


@dataclass(frozen=True)
class Persist:
    """Store ``doc`` as this node's CIB (atomically) before anything else happens; a
    change of the status alone (``status_only``) may be stored later, with the next
    ones, as Pacemaker writes the CIB to disk only when its configuration changed."""

    doc: CibDocument
    status_only: bool = False


@dataclass(frozen=True)
class Reply:
    """Answer the local client waiting on ``request_id``: done, or refused with ``error``."""

    request_id: str
    error: str | None = None
    versions: Versions | None = None


@dataclass(frozen=True)
class SyncBarrier:
    """Every member's announcement for ``ring`` was delivered, so every sync message a
    member sent before it (the quorum provider's) was delivered too."""

    ring: str


@dataclass(frozen=True)
class Synced:
    """The ring has one CIB and one DC; ``source`` is the node whose CIB won."""

    ring: str
    dc: int
    members: tuple[int, ...]
    source: int


@dataclass(frozen=True)
class CibChanged:
    """A patch was applied here; ``on_dc`` when this node is the DC (it runs the scheduler)."""

    versions: Versions
    patch: bytes
    on_dc: bool
    request_id: str | None = None  # the request the patch answered (None: the DC's own)


Output = Broadcast | Persist | Reply | SyncBarrier | Synced | CibChanged


class Phase(Enum):
    IDLE = "idle"  # no ring yet
    ANNOUNCING = "announcing"  # waiting for every member's announcement
    AWAITING_FULL = "awaiting-full"  # the winner's whole CIB is on its way
    SYNCED = "synced"


@dataclass(frozen=True)
class _Announcement:
    versions: Versions
    digest: str
    dc: int | None


def cib_digest(doc: CibDocument) -> str:
    return hashlib.sha256(doc.serialize(pretty=False)).hexdigest()


def encode_message(message: Message) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode()


def decode_message(data: bytes) -> Message:
    try:
        message = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ReplicaError(f"undecodable controller message: {exc}") from None
    if not isinstance(message, dict) or not isinstance(message.get("t"), str):
        raise ReplicaError("a controller message is a JSON object with a type 't'")
    return message


def _versions(value: Any) -> Versions:
    a, e, n = (int(x) for x in value)
    return a, e, n


class CibReplica:
    """One node's copy of the CIB and its part in keeping every copy the same."""

    def __init__(
        self, node_id: int, doc: CibDocument, node_names: Mapping[int, str] | None = None
    ) -> None:
        self.me = node_id
        self.doc = doc
        self.names = dict(node_names or {})
        self.phase = Phase.IDLE
        self.ring = ""
        self.members: tuple[int, ...] = ()
        self.dc: int | None = None
        self.quorate = False
        self.needs_resync = False
        self._announcements: dict[int, _Announcement] = {}
        self._full_from: int | None = None
        #: requests of local clients not answered yet: id -> message
        self._pending: OrderedDict[str, Message] = OrderedDict()
        #: request ids answered cluster-wide (a patch or an answer was delivered)
        self._handled: OrderedDict[str, None] = OrderedDict()
        #: of those, requests the DC answered whose patch or answer is not delivered yet: a
        #: ring change cuts them, so they must be handled again when their origin resends
        self._in_flight: set[str] = set()
        #: the DC's CIB with the patches it sent but has not seen delivered yet
        self._projected: CibDocument | None = None
        #: nodes that asked for a clean stop -> the time they asked (the shutdown attribute)
        self._shutdown_at: dict[int, int] = {}
        #: of those, the nodes the DC let go (their resources were moved away)
        self._released: set[int] = set()
        #: nodes a reload took out of the nodelist: the DC drops them from the CIB
        self._removed: set[int] = set()
        self._leaving = False  # this node asked for its clean shutdown
        self._handlers: dict[str, Callable[[int, Message], list[Output]]] = {
            "announce": self._on_announce,
            "full": self._on_full,
            "request": self._on_request,
            "patch": self._on_patch,
            "answer": self._on_answer,
            "resync": self._on_resync,
            "shutdown": self._on_shutdown,
        }

    # ------------------------------------------------------------------ inputs

    @property
    def is_dc(self) -> bool:
        return self.phase is Phase.SYNCED and self.dc == self.me

    def config_changed(self, ring: str, members: tuple[int, ...]) -> list[Output]:
        """A regular configuration was installed: start the join/sync round."""
        previous_dc = self.dc if self.phase is Phase.SYNCED else None
        self.ring = ring
        self.members = tuple(sorted(members))
        # a node that left after a clean stop has it recorded; if it returns, it starts anew
        self._shutdown_at = {n: at for n, at in self._shutdown_at.items() if n in self.members}
        self._released &= set(self.members)
        self.phase = Phase.ANNOUNCING
        self.dc = None
        self.needs_resync = False
        self._projected = None
        for request_id in self._in_flight:
            self._handled.pop(request_id, None)
        self._in_flight.clear()
        self._announcements = {}
        self._full_from = None
        announce = {
            "t": "announce",
            "ring": ring,
            "v": list(self.doc.versions()),
            "digest": cib_digest(self.doc),
            "dc": previous_dc,
            "leaving": self._leaving,
        }
        return [Broadcast(announce)]

    def deliver(self, sender: int, message: Message) -> list[Output]:
        handler = self._handlers.get(str(message.get("t")))
        if handler is None:
            return []  # a newer peer's message type: not ours to act on
        try:
            return handler(sender, message)
        except (KeyError, TypeError, ValueError) as exc:
            raise ReplicaError(
                f"malformed {message.get('t')} message from node {sender}: {exc!r}"
            ) from None

    def submit(self, request_id: str, new: CibDocument, base: tuple[int, int]) -> list[Output]:
        """A local client's change: ``new`` is the CIB it wants, edited from a CIB whose
        (admin_epoch, epoch) was ``base``. Answered later by a Reply."""
        current = self.doc.versions()[:2]
        if tuple(base) != current:
            return [Reply(request_id, error=_moved_on(tuple(base), current))]
        patch = diff(self.doc, new)
        request = {
            "t": "request",
            "id": request_id,
            "origin": self.me,
            "base": list(base),
            "patch": etree.tostring(patch).decode(),
        }
        self._pending[request_id] = request
        return [Broadcast(request)]

    def submit_patch(self, request_id: str, patch: etree._Element) -> list[Output]:
        """A change given as a v2 patchset, applied by the DC to whatever the CIB is then
        (no version check): for status updates (operation results, node attributes) that
        do not depend on what the configuration says. Answered later by a Reply."""
        request = {
            "t": "request",
            "id": request_id,
            "origin": self.me,
            "base": None,
            "patch": etree.tostring(patch).decode(),
        }
        self._pending[request_id] = request
        return [Broadcast(request)]

    def request_shutdown(self, at: int) -> list[Output]:
        """This node stops cleanly: ask the DC to record it (and move its resources away);
        ``at`` is the time (seconds) recorded as the node's shutdown attribute."""
        self._leaving = True
        return [Broadcast({"t": "shutdown", "node": self.me, "at": at})]

    @property
    def shutdown_recorded(self) -> bool:
        """The DC released this node after its clean-stop request: it may leave the ring."""
        state = self._node_state(self.doc, self.me)
        return state is not None and state.get("expected") == "down"

    @property
    def leaving(self) -> list[int]:
        """Members that asked for a clean stop and are not released yet."""
        return sorted(n for n in self._shutdown_at if n in self.members and n not in self._released)

    def release(self, node_id: int) -> list[Output]:
        """The DC lets a leaving member go: its resources were moved away (the daemon, which
        sees the controller, decides when); recorded as ``expected="down"``."""
        if not self.is_dc or node_id not in self._shutdown_at:
            return []
        self._released.add(node_id)
        return self._dc_record_nodes()

    def nodelist_changed(self, names: Mapping[int, str]) -> list[Output]:
        """The configuration was reloaded with this nodelist (node id -> name): the DC
        records new nodes and drops removed ones (that are no members) from the CIB."""
        self._removed |= set(self.names) - set(names)
        self._removed -= set(names)
        self.names = dict(names)
        return self._dc_record_nodes() if self.is_dc else []

    def quorum_changed(self, quorate: bool) -> list[Output]:
        self.quorate = quorate
        return self._dc_record_nodes() if self.is_dc else []

    # ------------------------------------------------------------------ sync

    def _on_announce(self, sender: int, message: Message) -> list[Output]:
        if message["ring"] != self.ring or self.phase is not Phase.ANNOUNCING:
            return []  # an announcement for a ring that is gone
        dc = message.get("dc")
        if not message.get("leaving"):
            # back after a clean stop, even if no ring without it was installed meanwhile
            self._shutdown_at.pop(sender, None)
            self._released.discard(sender)
        self._announcements[sender] = _Announcement(
            _versions(message["v"]), str(message["digest"]), int(dc) if dc is not None else None
        )
        if not set(self.members) <= set(self._announcements):
            return []
        out: list[Output] = [SyncBarrier(self.ring)]
        announced = {n: self._announcements[n] for n in self.members}
        self.dc = choose_dc(self.members, [a.dc for a in announced.values()])
        winner = max(self.members, key=lambda n: (announced[n].versions, n == self.dc, -n))
        if all(a.digest == announced[winner].digest for a in announced.values()):
            return out + self._synced(winner)
        self.phase = Phase.AWAITING_FULL
        self._full_from = winner
        if winner == self.me:
            out.append(Broadcast(self._full_message(), safe=True))
        return out

    def _full_message(self, for_node: int | None = None) -> Message:
        return {
            "t": "full",
            "ring": self.ring,
            "for": for_node,
            "cib": self.doc.serialize(pretty=False).decode(),
        }

    def _on_full(self, sender: int, message: Message) -> list[Output]:
        if message["ring"] != self.ring:
            return []
        if self.phase is Phase.AWAITING_FULL and sender == self._full_from:
            out = self._replace(message["cib"], sender)
            return out + self._synced(sender)
        if self.phase is Phase.SYNCED and self.needs_resync and message.get("for") == self.me:
            self.needs_resync = False
            return self._replace(message["cib"], sender)
        return []

    def _replace(self, text: str, sender: int) -> list[Output]:
        doc = CibDocument.from_bytes(text.encode(), source=f"CIB from node {sender}")
        if cib_digest(doc) == cib_digest(self.doc):
            return []
        self.doc = doc
        return [Persist(doc)]

    def _synced(self, source: int) -> list[Output]:
        assert self.dc is not None
        self.phase = Phase.SYNCED
        self._full_from = None
        out: list[Output] = [Synced(self.ring, self.dc, self.members, source)]
        if self.is_dc:
            self._projected = self.doc.copy()
            out += self._dc_record_nodes()
        # requests sent before this point may have gone with the old ring: send them again
        out += [Broadcast(request) for request in self._pending.values()]
        return out

    # ------------------------------------------------------------------ changes

    def _on_request(self, sender: int, message: Message) -> list[Output]:
        if not self.is_dc or self._projected is None:
            return []  # not synced: the origin sends it again once synced
        request_id = str(message["id"])
        if request_id in self._handled:
            return []
        self._remember(request_id)  # in flight: a re-sent copy is not applied twice
        self._in_flight.add(request_id)
        origin = int(message["origin"])
        if message["base"] is not None:  # a configuration edit: compare-and-set
            if not self.quorate:
                return [self._answer(request_id, origin, NO_QUORUM)]
            base = tuple(int(x) for x in message["base"])
            current = self._projected.versions()[:2]
            if base != current:
                return [self._answer(request_id, origin, _moved_on(base, current))]
        # applied in place (all or nothing) and sent on as it came, versioned: the cost
        # follows the change, not the size of the CIB (Pacemaker's change tracking)
        work = self._projected
        before = attributes(work.root)
        try:
            patch = parse_patch(message["patch"].encode())
            applied = apply_patch(work, patch, check_versions=False)
        except CibError as exc:
            return [self._answer(request_id, origin, exc.message)]
        if not applied.changed:
            # nothing to change (the <cib> element's counters alone do not count): done,
            # and the counters a patch may have set are not kept either
            work.root.attrib.clear()
            for name, value in before.items():
                work.root.set(name, value)
            return [self._answer(request_id, origin, None)]
        if applied.configuration_changed:
            bump_epoch(work.root)
        else:
            bump_num_updates(work.root)
        return [self._patch_message(restamped(patch, before, work.root), request_id, origin)]

    def _answer(self, request_id: str, origin: int, error: str | None) -> Broadcast:
        return Broadcast({"t": "answer", "id": request_id, "origin": origin, "error": error})

    def _dc_commit(
        self, work: CibDocument, request_id: str | None, origin: int | None
    ) -> list[Output]:
        """Version and broadcast the DC's change from its projected CIB to ``work``."""
        assert self._projected is not None
        if not bump_versions(self._projected, work):
            if request_id is None or origin is None:
                return []
            return [self._answer(request_id, origin, None)]  # nothing to change: done
        patch = diff(self._projected, work)
        self._projected = work
        return [self._patch_message(patch, request_id, origin)]

    def _patch_message(
        self, patch: etree._Element, request_id: str | None, origin: int | None
    ) -> Broadcast:
        message = {
            "t": "patch",
            "ring": self.ring,
            "id": request_id,
            "origin": origin,
            "patch": etree.tostring(patch).decode(),
        }
        return Broadcast(message, safe=True)

    def _on_patch(self, sender: int, message: Message) -> list[Output]:
        if message["ring"] != self.ring or self.phase is not Phase.SYNCED or sender != self.dc:
            return []  # from a ring that is gone: its requests are sent again
        request_id = message.get("id")
        if request_id is not None:
            self._remember(str(request_id))
        out: list[Output] = []
        patch_text = str(message["patch"]).encode()
        patch = parse_patch(patch_text)
        versions = patch_versions(patch)
        target = _versions(versions[1]) if versions else self.doc.versions()
        if not self.needs_resync:
            work = self.doc
            configuration = work.versions()[:2]
            try:
                apply_patch(work, patch, check_versions=True)  # in place, all or nothing
            except CibError:
                # this copy diverged (it should not): take the DC's whole CIB
                self.needs_resync = True
                if self.is_dc:
                    self._projected = self.doc.copy()
                out.append(Broadcast({"t": "resync", "ring": self.ring, "node": self.me}))
            else:
                status_only = work.versions()[:2] == configuration
                out.append(Persist(work, status_only=status_only))
                changed_by = str(request_id) if request_id is not None else None
                out.append(CibChanged(work.versions(), patch_text, self.is_dc, changed_by))
        if request_id is not None and int(message["origin"]) == self.me:
            if self._pending.pop(str(request_id), None) is not None:
                out.append(Reply(str(request_id), versions=target))
        return out

    def _on_answer(self, sender: int, message: Message) -> list[Output]:
        if sender != self.dc:
            return []
        request_id = str(message["id"])
        self._remember(request_id)
        if int(message["origin"]) == self.me and self._pending.pop(request_id, None) is not None:
            return [Reply(request_id, error=message.get("error"), versions=self.doc.versions())]
        return []

    def _on_resync(self, sender: int, message: Message) -> list[Output]:
        if message["ring"] != self.ring or not self.is_dc:
            return []
        return [Broadcast(self._full_message(for_node=int(message["node"])), safe=True)]

    def _on_shutdown(self, sender: int, message: Message) -> list[Output]:
        self._shutdown_at[sender] = int(message.get("at", 0))
        return self._dc_record_nodes() if self.is_dc else []

    def _remember(self, request_id: str) -> None:
        self._in_flight.discard(request_id)  # delivered, or about to be made
        self._handled[request_id] = None
        self._handled.move_to_end(request_id)
        while len(self._handled) > HANDLED_MEMORY:
            self._handled.popitem(last=False)

    # ------------------------------------------------------------------ node states

    def name_of(self, node_id: int) -> str:
        return self.names.get(node_id) or f"node{node_id}"

    @staticmethod
    def _node_state(doc: CibDocument, node_id: int) -> etree._Element | None:
        status = doc.root.find("status")
        if status is None:
            return None
        for state in status.iter("node_state"):
            if state.get("id") == str(node_id):
                return state
        return None

    def _dc_record_nodes(self) -> list[Output]:
        """The DC writes membership, quorum and clean shutdowns into its CIB."""
        assert self._projected is not None
        work = self._projected.copy()
        root = work.root
        root.set("dc-uuid", str(self.me))
        root.set("have-quorum", "1" if self.quorate else "0")
        nodes = work.section("nodes", create=True)
        assert nodes is not None
        status = root.find("status")
        if status is None:
            status = etree.SubElement(root, "status")
        gone = {str(n) for n in self._removed - set(self.members)}
        for section, tag in ((nodes, "node"), (status, "node_state")):
            for element in list(section.iter(tag)):
                if element.get("id") in gone:  # crm_node --remove's part
                    section.remove(element)
        known = {node.get("id") for node in nodes.iter("node")}
        # every node of the nodelist, as Pacemaker's DC populates the nodes section
        for node_id in sorted(set(self.names) | set(self.members)):
            if str(node_id) not in known:
                etree.SubElement(nodes, "node", id=str(node_id), uname=self.name_of(node_id))
        seen = {state.get("id") for state in status.iter("node_state")}
        for member in self.members:
            if str(member) not in seen:
                etree.SubElement(status, "node_state", id=str(member))
        for state in status.iter("node_state"):
            node_id = int(state.get("id", "0") or 0)
            self._record_state(state, node_id)
        return self._dc_commit(work, None, None)

    def _record_state(self, state: etree._Element, node_id: int) -> None:
        member = node_id in self.members
        leaving = node_id in self._shutdown_at
        # a leaving member stays online (with its shutdown attribute) until released; a new
        # DC finds the release in the CIB
        released = leaving and (node_id in self._released or state.get("expected") == "down")
        online = member and not released
        state.set("uname", state.get("uname") or self.name_of(node_id))
        state.set("in_ccm", "true" if member else "false")
        state.set("crmd", "online" if online else "offline")
        state.set("join", "member" if online else "down")
        if released:
            state.set("expected", "down")
        elif member and not leaving:
            state.set("expected", "member")
        shutdown = _transient_nvpair(state, node_id, "shutdown", create=leaving)
        if leaving and shutdown is not None:
            shutdown.set("value", str(self._shutdown_at[node_id]))
        elif shutdown is not None and member:
            parent = shutdown.getparent()  # back after a clean stop
            if parent is not None:
                parent.remove(shutdown)


def _transient_nvpair(
    state: etree._Element, node_id: int, name: str, *, create: bool
) -> etree._Element | None:
    attrs_id = f"status-{node_id}"
    for nvpair in state.iter("nvpair"):
        if nvpair.get("name") == name:
            return nvpair
    if not create:
        return None
    transient = state.find("transient_attributes")
    if transient is None:
        transient = etree.SubElement(state, "transient_attributes", id=str(node_id))
    attrs = transient.find("instance_attributes")
    if attrs is None:
        attrs = etree.SubElement(transient, "instance_attributes", id=attrs_id)
    return etree.SubElement(attrs, "nvpair", id=f"{attrs_id}-{name}", name=name, value="")


def _moved_on(base: tuple[int, ...], current: tuple[int, ...]) -> str:
    return (
        f"the configuration changed while the command ran (it read epoch "
        f"{'.'.join(map(str, base))}, the CIB is now at {'.'.join(map(str, current))}); "
        "run the command again"
    )
