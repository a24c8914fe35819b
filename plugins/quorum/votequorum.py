"""votequorum: Corosync's vote-counting quorum provider, as a pure state machine.

Chosen by ``quorum { provider: corosync_votequorum }`` (``votequorum`` is accepted too).
Each node runs one ``VoteQuorum``; the nodes exchange ``NodeInfo`` (votes, expected votes,
flags) and ``Reconfigure`` (runtime changes) over totem in agreed order. Nothing here reads
a clock, a socket or a file: time comes in as ``now_ms``, messages go out as return values.

The rules are those of votequorum(5) and of Corosync's exec/votequorum.c:

* quorum = max(floor(highest_expected / 2) + 1, floor(total_votes / 2) + 1), and it never
  decreases except by a runtime change, the last_man_standing timer, a clean leave with
  allow_downscale, or an inquorate node adopting a quorate peer's expected votes;
* expected votes rise automatically to the total votes seen;
* two_node: quorum is 1 while at most two nodes (device included) are members;
* wait_for_all: no quorum until all expected votes have been seen at once; re-armed
  whenever quorum is lost; cleared by a quorate peer that is not waiting, or by cancel;
* last_man_standing: after each loss of members, if still quorate when the window expires,
  expected votes fall to the votes present;
* auto_tie_breaker: on an exact half split the half holding the tie-breaker node (the lowest
  or highest nodeid seen while quorate, or the first present node of a list) stays quorate.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from hactl.core.drivers import QuorumMember, QuorumProvider, QuorumStatus
from hactl.core.errors import HactlError, UsageError
from hactl.core.hookspecs import hookimpl

if TYPE_CHECKING:
    from hactl.core.config.quorum import VotequorumSettings

PROVIDER_NAMES = ("corosync_votequorum", "votequorum")
QDEVICE_NODEID = 0


class NodeFlag(enum.IntFlag):
    """The flags a node announces, with Corosync's bit values."""

    QUORATE = 1
    LEAVING = 2
    WFA_STATUS = 4
    FIRST = 8
    QDEVICE_REGISTERED = 16
    QDEVICE_ALIVE = 32
    QDEVICE_CAST_VOTE = 64
    QDEVICE_MASTER_WINS = 128


class NodeState(enum.Enum):
    MEMBER = "member"
    DEAD = "dead"
    LEAVING = "leaving"


class Param(enum.Enum):
    EXPECTED_VOTES = "expected_votes"
    NODE_VOTES = "node_votes"
    CANCEL_WFA = "cancel_wait_for_all"


@dataclass(frozen=True)
class NodeInfo:
    """What a node announces about itself (or, with nodeid 0, about its quorum device)."""

    nodeid: int
    votes: int
    expected_votes: int
    flags: int


@dataclass(frozen=True)
class Reconfigure:
    """A runtime change, applied by every node when delivered."""

    param: Param
    nodeid: int
    value: int


Message = NodeInfo | Reconfigure


@dataclass
class _Node:
    nodeid: int
    votes: int = 0
    expected_votes: int = 0
    flags: int = 0
    state: NodeState = NodeState.DEAD


class QuorumRefused(HactlError):
    """A runtime change was refused: it is invalid or would cost the cluster its quorum."""


class VoteQuorum(QuorumProvider):
    """One node's votequorum."""

    def __init__(
        self,
        settings: VotequorumSettings,
        nodeid: int,
        names: Mapping[int, str] | None = None,
        ev_tracking_barrier: int = 0,
    ):
        self.settings = settings
        self.nodeid = nodeid
        self.names = dict(names or {})
        self.two_node = settings.two_node
        self.wait_for_all = settings.wait_for_all
        self.last_man_standing = settings.last_man_standing
        self.atb = settings.auto_tie_breaker
        self.atb_nodes = settings.auto_tie_breaker_nodes
        self.allow_downscale = settings.allow_downscale
        self.ev_tracking = settings.expected_votes_tracking
        # the highest expected votes ever seen, persisted by the caller (ev_tracking file)
        self.ev_tracking_barrier = ev_tracking_barrier
        self.nodes: dict[int, _Node] = {}
        self.us = self._node(nodeid)
        self.us.state = NodeState.MEMBER
        self.us.flags = NodeFlag.FIRST
        self.qdevice = _Node(QDEVICE_NODEID)
        self.qdevice_name = ""
        self.quorum = 0
        self.cluster_is_quorate = False
        self.wfa_status = False
        self.lowest_node_id = -1
        self.highest_node_id = -1
        self.members: tuple[int, ...] = ()
        self.previous_members: tuple[int, ...] = ()
        self.ring_id = "0.0"
        self.lms_deadline: int | None = None
        self.qdevice_deadline: int | None = None
        self.ev_barrier = 0
        self._read_settings()
        self._recalculate(allow_decrease=False, by_current_nodes=False)

    # ------------------------------------------------------------------ configuration

    def _read_settings(self) -> None:
        settings = self.settings
        self.us.votes = settings.votes
        self.us.expected_votes = settings.expected_votes
        if self.ev_tracking:
            # Corosync's votequorum_readconfig(): the tracked barrier takes the place of
            # quorum.expected_votes, even while it is still 0 (a fresh ev_tracking file):
            # then the nodelist's votes count
            nodelist_votes = settings.nodelist_expected_votes if settings.node_votes else 0
            self.us.expected_votes = self.ev_tracking_barrier or nodelist_votes
        self.qdevice.votes = settings.qdevice_votes if settings.qdevice_configured else 0
        self.ev_barrier = self.us.expected_votes
        if self.wait_for_all:
            self._set_wfa_status(True)

    def _node(self, nodeid: int) -> _Node:
        node = self.nodes.get(nodeid)
        if node is None:
            node = self.nodes[nodeid] = _Node(nodeid)
        return node

    def _set_wfa_status(self, waiting: bool) -> None:
        self.wfa_status = waiting
        if waiting:
            self.us.flags |= NodeFlag.WFA_STATUS
        else:
            self.us.flags &= ~NodeFlag.WFA_STATUS

    # ------------------------------------------------------------------ arithmetic

    def _active(self) -> list[_Node]:
        return [n for n in self.nodes.values() if n.state is NodeState.MEMBER]

    def _calculate_quorum(self, allow_decrease: bool, max_expected: int) -> tuple[int, int]:
        """(new quorum, total votes) for the current members."""
        if self.allow_downscale and allow_decrease and max_expected:
            max_expected = max(self.ev_barrier, max_expected)
        active = self._active()
        highest_expected = max((n.expected_votes for n in active), default=0)
        total_votes = sum(n.votes for n in active)
        total_nodes = len(active)
        if self.us.flags & NodeFlag.QDEVICE_CAST_VOTE:
            total_votes += self.qdevice.votes
            total_nodes += 1
        if max_expected > 0:
            highest_expected = max_expected
        new_quorum = max(highest_expected // 2 + 1, total_votes // 2 + 1)
        if not allow_decrease:
            new_quorum = max(self.quorum, new_quorum)
        if self.two_node and total_nodes <= 2:
            new_quorum = 1
        return new_quorum, total_votes

    def _set_members_expected(self, expected: int) -> None:
        if expected:
            for node in self._active():
                node.expected_votes = expected

    def _recalculate(self, allow_decrease: bool, by_current_nodes: bool) -> None:
        active = self._active()
        total_votes = sum(n.votes for n in active) + self.qdevice.votes
        members = len(active) + (1 if self.qdevice.votes else 0)
        if not by_current_nodes:
            members = 0
        if total_votes > self.us.expected_votes:
            self.us.expected_votes = total_votes
        if self.ev_tracking and self.us.expected_votes > self.ev_tracking_barrier:
            self.ev_tracking_barrier = self.us.expected_votes
        self.quorum, total_votes = self._calculate_quorum(allow_decrease, members)
        self._set_members_expected(members)
        self._decide(total_votes)

    def _member_ids(self) -> list[int]:
        return [n.nodeid for n in self._active()]

    def _tie_breaker_present(self) -> bool:
        present = set(self._member_ids())
        if self.atb == "lowest":
            return self.lowest_node_id in present
        if self.atb == "highest":
            return self.highest_node_id in present
        # a list: the first listed node in this partition decides, unless a node listed
        # before it was in the previous partition (it may be in the other half)
        for index, candidate in enumerate(self.atb_nodes):
            if candidate in self.members:
                return not any(n in self.previous_members for n in self.atb_nodes[:index])
        return False

    def _decide(self, total_votes: int) -> None:
        if self.wait_for_all and self.wfa_status:
            if total_votes != self.us.expected_votes:
                return  # still waiting for all: not quorate (never was since re-arming)
            self._set_wfa_status(False)
        quorate = self.quorum <= total_votes
        if quorate:
            ids = self._member_ids()
            self.lowest_node_id = min(ids, default=self.nodeid)
            self.highest_node_id = max(ids, default=self.nodeid)
        if (
            self.atb != "none"
            and total_votes == self.us.expected_votes // 2
            and len(self.previous_members) - len(self.members) < self.quorum
            and self._tie_breaker_present()
        ):
            quorate = True
        if not quorate and self._master_wins_present():
            quorate = True
        self.cluster_is_quorate = quorate
        if quorate:
            self.us.flags |= NodeFlag.QUORATE
        else:
            self.us.flags &= ~NodeFlag.QUORATE
        if self.wait_for_all:
            self._set_wfa_status(not quorate)

    def _master_wins_present(self) -> bool:
        wanted = NodeFlag.QDEVICE_MASTER_WINS | NodeFlag.QDEVICE_CAST_VOTE
        return any((n.flags & wanted) == wanted for n in self._active())

    # ------------------------------------------------------------------ messages

    def _nodeinfo(self, node: _Node) -> NodeInfo:
        return NodeInfo(node.nodeid, node.votes, node.expected_votes, int(node.flags))

    def _announce(self) -> list[object]:
        return [self._nodeinfo(self.us), self._nodeinfo(self.qdevice)]

    def encode(self, message: object) -> bytes:
        if isinstance(message, NodeInfo):
            return json.dumps({"type": "nodeinfo", **asdict(message)}).encode()
        if isinstance(message, Reconfigure):
            body = {"type": "reconfigure", "param": message.param.value}
            return json.dumps({**body, "nodeid": message.nodeid, "value": message.value}).encode()
        raise TypeError(f"not a votequorum message: {message!r}")

    def decode(self, data: bytes) -> object:
        try:
            body = json.loads(data)
            kind = body.pop("type")
            if kind == "nodeinfo":
                return NodeInfo(
                    **{k: int(body[k]) for k in ("nodeid", "votes", "expected_votes", "flags")}
                )
            if kind == "reconfigure":
                return Reconfigure(Param(body["param"]), int(body["nodeid"]), int(body["value"]))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise HactlError(
                f"malformed votequorum message: {exc}", hint="a peer runs another version?"
            ) from None
        raise HactlError(f"unknown votequorum message type {kind!r}")

    def membership_changed(
        self, ring_id: str, members: frozenset[int], now_ms: int
    ) -> list[object]:
        if len(members) > 1:
            self.us.flags &= ~NodeFlag.FIRST
        nodes_left = False
        for nodeid in self.members:
            if nodeid not in members:
                nodes_left = True
                node = self.nodes.get(nodeid)
                if node is not None:
                    node.state = NodeState.DEAD
        if self.last_man_standing and (
            (len(members) >= self.quorum and nodes_left)
            or (
                len(members) <= self.quorum
                and self.atb != "none"
                and self.lowest_node_id in self._member_ids()
            )
        ):
            self.lms_deadline = now_ms + self.settings.last_man_standing_window
        self.previous_members = self.members
        self.members = tuple(sorted(members))
        self.ring_id = ring_id
        return self._announce()

    def deliver(self, sender: int, message: object, now_ms: int) -> list[object]:
        if isinstance(message, NodeInfo):
            self._on_nodeinfo(sender, message)
        elif isinstance(message, Reconfigure):
            self._on_reconfigure(message)
        else:
            raise TypeError(f"not a votequorum message: {message!r}")
        return []

    def _on_nodeinfo(self, sender: int, info: NodeInfo) -> None:
        new_node = info.nodeid not in self.nodes and info.nodeid != QDEVICE_NODEID
        if info.nodeid == QDEVICE_NODEID:
            sender_node = self.nodes.get(sender)
            old_votes = self.qdevice.votes
            if (
                not self.cluster_is_quorate
                and sender_node is not None
                and (sender_node.flags & NodeFlag.QUORATE)
            ):
                self.qdevice.votes = info.votes
            else:
                self.qdevice.votes = max(self.qdevice.votes, info.votes)
            if old_votes != self.qdevice.votes:
                self._recalculate(allow_decrease=False, by_current_nodes=False)
            return
        node = self._node(info.nodeid)
        old = (node.votes, node.expected_votes, node.flags, node.state)
        if new_node:
            old = (0, 0, 0, NodeState.DEAD)
        allow_decrease = by_node = False
        node.flags, node.votes, node.state = info.flags, info.votes, NodeState.MEMBER
        if node.flags & NodeFlag.LEAVING:
            node.state = NodeState.LEAVING
            allow_decrease = by_node = True
        if not self.cluster_is_quorate and node.flags & NodeFlag.QUORATE:
            # an inquorate node joining a quorate partition takes its expected votes
            allow_decrease = True
            self.us.expected_votes = info.expected_votes
        if node.flags & NodeFlag.QUORATE or self.ev_tracking:
            node.expected_votes = info.expected_votes
        else:
            node.expected_votes = self.us.expected_votes
        if self.last_man_standing and node.votes > 1:
            self.last_man_standing = False  # LMS needs one vote per node
            self.lms_deadline = None
        if (
            new_node
            or info.nodeid == self.nodeid
            or node.flags & NodeFlag.FIRST
            or old != (node.votes, node.expected_votes, node.flags, node.state)
        ):
            self._recalculate(allow_decrease, by_node)
        if (
            self.wait_for_all
            and not node.flags & NodeFlag.WFA_STATUS
            and node.flags & NodeFlag.QUORATE
        ):
            self._set_wfa_status(False)

    def _on_reconfigure(self, change: Reconfigure) -> None:
        if change.param is Param.EXPECTED_VOTES:
            self._set_members_expected(change.value)
            self.ev_barrier = change.value
            if self.ev_tracking:
                self.us.expected_votes = max(self.us.expected_votes, self.ev_tracking_barrier)
            self._recalculate(allow_decrease=True, by_current_nodes=False)
        elif change.param is Param.NODE_VOTES:
            node = self.nodes.get(change.nodeid)
            if node is None:
                return
            node.votes = change.value
            self._recalculate(allow_decrease=True, by_current_nodes=False)
        else:
            self._set_wfa_status(False)
            self._recalculate(allow_decrease=False, by_current_nodes=False)

    def sync_completed(self, now_ms: int) -> None:
        self._recalculate(allow_decrease=False, by_current_nodes=False)

    # ------------------------------------------------------------------ timers

    def next_deadline(self) -> int | None:
        deadlines = [d for d in (self.lms_deadline, self.qdevice_deadline) if d is not None]
        return min(deadlines, default=None)

    def timer_expired(self, now_ms: int) -> list[object]:
        out: list[object] = []
        if self.lms_deadline is not None and now_ms >= self.lms_deadline:
            self.lms_deadline = None
            if self.cluster_is_quorate:
                self._recalculate(allow_decrease=True, by_current_nodes=True)
        if self.qdevice_deadline is not None and now_ms >= self.qdevice_deadline:
            self.qdevice_deadline = None
            if self.us.flags & NodeFlag.QDEVICE_ALIVE:
                self.us.flags &= ~(NodeFlag.QDEVICE_ALIVE | NodeFlag.QDEVICE_CAST_VOTE)
                out.append(self._nodeinfo(self.us))
        return out

    # ------------------------------------------------------------------ runtime changes

    def set_expected_votes(self, expected_votes: int, force: bool = False) -> list[object]:
        """corosync-quorumtool -e: refused below the votes present, or (unless forced) when
        the quorate cluster would lose quorum."""
        if expected_votes < 1:
            raise QuorumRefused(
                f"expected votes must be a positive number, not {expected_votes}",
                where="expected votes",
                hint="give the number of votes the cluster should expect",
            )
        saved = self.allow_downscale
        self.allow_downscale = False
        new_quorum, total_votes = self._calculate_quorum(True, expected_votes)
        self.allow_downscale = saved
        if expected_votes < total_votes:
            raise QuorumRefused(
                f"expected votes {expected_votes} is below the {total_votes} votes present",
                where="expected votes",
                hint=f"use at least {total_votes}",
            )
        if self.cluster_is_quorate and new_quorum > total_votes and not force:
            raise QuorumRefused(
                f"expected votes {expected_votes} would need {new_quorum} votes for quorum, "
                f"only {total_votes} are present: the cluster would lose quorum",
                where="expected votes",
                hint="use --force to do it anyway",
            )
        self._set_members_expected(expected_votes)
        return [Reconfigure(Param.EXPECTED_VOTES, self.nodeid, expected_votes)]

    def set_votes(self, nodeid: int, votes: int, force: bool = False) -> list[object]:
        """corosync-quorumtool -v [-n]: refused for an unknown node, or (unless forced)
        when quorum would exceed the votes present."""
        node = self.nodes.get(nodeid)
        if node is None:
            raise QuorumRefused(
                f"node {nodeid} is not known to votequorum",
                where="node votes",
                hint="known nodes: " + ", ".join(map(str, sorted(self.nodes))),
            )
        if votes < 0:
            raise QuorumRefused(
                f"votes must be zero or more, not {votes}", where="node votes", hint=None
            )
        saved = node.votes
        node.votes = votes
        new_quorum, total_votes = self._calculate_quorum(True, 0)
        node.votes = saved
        if new_quorum < total_votes // 2 or (new_quorum > total_votes and not force):
            raise QuorumRefused(
                f"giving node {nodeid} {votes} votes needs {new_quorum} votes for quorum with "
                f"{total_votes} present",
                where="node votes",
                hint="use --force to do it anyway" if new_quorum > total_votes else None,
            )
        return [Reconfigure(Param.NODE_VOTES, nodeid, votes)]

    def cancel_wait_for_all(self) -> list[object]:
        """pcs quorum unblock / quorum.cancel_wait_for_all."""
        if not (self.wait_for_all and self.wfa_status):
            # pcs's check (runtime.votequorum.wait_for_all_status); Corosync itself would
            # accept the no-op
            raise QuorumRefused(
                "cluster is not waiting for nodes to establish quorum",
                where="quorum.wait_for_all",
                hint="unblock only applies while wait_for_all holds quorum back",
            )
        return [Reconfigure(Param.CANCEL_WFA, self.nodeid, 0)]

    @property
    def waiting_for_all(self) -> bool:
        """wait_for_all is holding quorum back (runtime.votequorum.wait_for_all_status)."""
        return self.wait_for_all and self.wfa_status

    def leave(self) -> list[object]:
        if not self.allow_downscale:
            return []
        self.us.flags |= NodeFlag.LEAVING
        return [self._nodeinfo(self.us)]

    # ------------------------------------------------------------------ quorum device

    def device_register(self, name: str, now_ms: int) -> list[object]:
        if not self.settings.qdevice_configured or not self.settings.qdevice_can_operate:
            raise QuorumRefused(
                "no quorum device is configured (or it cannot operate with these options)",
                where="quorum.device",
                hint="configure quorum { device { model: net … } }",
            )
        self.qdevice_name = name
        self.us.flags |= NodeFlag.QDEVICE_REGISTERED
        return [self._nodeinfo(self.us)]

    def device_poll(self, cast_vote: bool, master_wins: bool, now_ms: int) -> list[object]:
        if not self.us.flags & NodeFlag.QDEVICE_REGISTERED:
            raise QuorumRefused("no quorum device registered", where="quorum.device")
        before = self.us.flags
        self.us.flags |= NodeFlag.QDEVICE_ALIVE
        for flag, wanted in (
            (NodeFlag.QDEVICE_CAST_VOTE, cast_vote),
            (NodeFlag.QDEVICE_MASTER_WINS, master_wins),
        ):
            self.us.flags = (self.us.flags | flag) if wanted else (self.us.flags & ~flag)
        self.qdevice_deadline = now_ms + self.settings.qdevice_timeout
        return [self._nodeinfo(self.us)] if self.us.flags != before else []

    def device_unregister(self, now_ms: int) -> list[object]:
        device_flags = (
            NodeFlag.QDEVICE_REGISTERED
            | NodeFlag.QDEVICE_ALIVE
            | NodeFlag.QDEVICE_CAST_VOTE
            | NodeFlag.QDEVICE_MASTER_WINS
        )
        self.us.flags &= ~device_flags
        self.qdevice_name, self.qdevice_deadline = "", None
        return [self._nodeinfo(self.us)]

    # ------------------------------------------------------------------ status

    @property
    def quorate(self) -> bool:
        return self.cluster_is_quorate

    @property
    def expected_votes(self) -> int:
        return self.us.expected_votes

    def flags(self) -> tuple[str, ...]:
        """corosync-quorumtool's Flags line, in its order."""
        shown = [
            ("2Node", self.two_node),
            ("Quorate", self.cluster_is_quorate),
            ("WaitForAll", self.wait_for_all),
            ("LastManStanding", self.last_man_standing),
            ("AutoTieBreaker", self.atb != "none"),
            ("AllowDownscale", self.allow_downscale),
            ("Qdevice", bool(self.us.flags & NodeFlag.QDEVICE_REGISTERED)),
        ]
        return tuple(name for name, on in shown if on)

    def status(self) -> QuorumStatus:
        active = self._active()
        total_votes = sum(n.votes for n in active)
        if self.us.flags & NodeFlag.QDEVICE_CAST_VOTE:
            total_votes += self.qdevice.votes
        members = []
        for nodeid in self.members or (self.nodeid,):
            node = self.nodes.get(nodeid, _Node(nodeid))
            qdevice = "NR"
            if node.flags & NodeFlag.QDEVICE_REGISTERED:
                qdevice = ",".join(
                    (
                        "A" if node.flags & NodeFlag.QDEVICE_ALIVE else "NA",
                        "V" if node.flags & NodeFlag.QDEVICE_CAST_VOTE else "NV",
                        "MW" if node.flags & NodeFlag.QDEVICE_MASTER_WINS else "NMW",
                    )
                )
            members.append(
                QuorumMember(
                    nodeid,
                    node.votes,
                    self.names.get(nodeid, str(nodeid)),
                    qdevice,
                    nodeid == self.nodeid,
                )
            )
        return QuorumStatus(
            provider="corosync_votequorum",
            node_id=self.nodeid,
            ring_id=self.ring_id,
            quorate=self.cluster_is_quorate,
            expected_votes=self.us.expected_votes,
            highest_expected=max((n.expected_votes for n in active), default=0),
            total_votes=total_votes,
            quorum=self.quorum,
            flags=self.flags(),
            members=tuple(members),
            qdevice_name=self.qdevice_name,
            qdevice_votes=self.qdevice.votes,
        )


# ---------------------------------------------------------------------- plugin hook


@hookimpl
def hactl_quorum_provider(name: str, options: Mapping[str, Any]) -> QuorumProvider | None:
    """``options``: ``nodeid`` (this node) and either ``config`` (the ClusterConfig: the
    quorum section and the nodelist) or ``settings`` (VotequorumSettings already derived);
    optionally ``ev_tracking_barrier`` (the persisted highest expected votes)."""
    if name not in PROVIDER_NAMES:
        return None
    # the configuration's pydantic models on first use: `hactl plugins list` imports this
    # module without paying for them
    from hactl.core.config.model import ClusterConfig
    from hactl.core.config.quorum import VotequorumSettings, votequorum_settings

    nodeid = options.get("nodeid")
    config = options.get("config")
    settings = options.get("settings")
    if isinstance(config, ClusterConfig) and isinstance(nodeid, int):
        settings = votequorum_settings(config, nodeid)
    if not isinstance(settings, VotequorumSettings) or not isinstance(nodeid, int):
        raise UsageError(
            "the votequorum provider needs `nodeid` and `config` (or `settings`)",
            where=f"quorum provider {name}",
            hint="pass the ClusterConfig read from corosync.conf and this node's nodeid",
        )
    names = options.get("names")
    if names is None and isinstance(config, ClusterConfig):
        names = {
            (node.nodeid if node.nodeid is not None else index + 1): node.label
            for index, node in enumerate(config.nodelist)
        }
    return VoteQuorum(
        settings,
        nodeid,
        names=names,
        ev_tracking_barrier=int(options.get("ev_tracking_barrier", 0)),
    )
