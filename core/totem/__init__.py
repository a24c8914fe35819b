"""Totem: the single-ring ordering and membership protocol, sans-I/O.

:class:`~hactl.core.totem.ring.Ring` is a pure state machine. The daemon (or a test) calls
``start(now)``, ``receive(now, datagram)``, ``tick(now)`` and ``propose(now, payload)``;
each returns a :class:`~hactl.core.totem.ring.Ready` with the datagrams to send, the
deliveries and configuration changes (in the order they happen), the ring seq to persist
and the next timer deadline. :mod:`.runner` drives it over a real Transport with asyncio;
the simulation drives it over the in-memory network with a virtual clock.

The protocol is a faithful simplification of Corosync's totemsrp:

Ordering (operational state). A token rotates among the members in node-id order. It
carries ``seq`` (the highest sequence number assigned), ``aru`` (all-received-up-to,
lowered by any member missing a message and raised only by the member that lowered it),
the list of sequence numbers someone asks to be retransmitted, and flow-control counts
(``fcc``: messages sent during the last rotation; ``backlog``). On the token a member first
retransmits what is asked and it holds, then sends at most ``max_messages`` new messages,
and never lets a rotation carry more than ``window_size``. Every member delivers messages
in sequence order as soon as it holds all earlier ones (agreed order); a message proposed
``safe`` is delivered only once every member holds it: its seq is at most the lower of the
aru a member forwarded and the aru that came back to it a rotation later. Messages every
member holds are garbage-collected. An idle ring's representative (lowest member) holds
the token for ``hold`` ms instead of spinning it; a member retransmits the token it passed
every ``token_retransmit`` ms until it sees it again (copies are dropped by the token's hop
counter).

Membership. A member that sees no token for ``token`` ms, or hears a join newer than any
it knows of a processor, or a merge-detect from another ring's representative, enters
GATHER: it multicasts joins (every ``join`` ms) carrying its proc set (processors it
believes are alive) and fail set, and merges the sets of the joins it hears (a node that
lists us as failed goes into our fail set, so the two sides part cleanly and merge
later). Consensus is reached when every processor in proc - fail sent a join with
exactly our sets; after ``consensus`` ms those that did not are failed. Sooner than that
(not in Corosync): a processor that our transport reports unreachable (knet: every link
down; udpu: its port answered ICMP unreachable), that nobody heard from since the round
began, and that every other live member's joins also report unreachable, is failed at
once, so a crashed node costs the token timeout and a join exchange, not token +
consensus. The lowest of the agreed members creates a commit token with a new ring id
(seq = highest ring seq seen + 4, persisted so that a restart never reuses one). The
commit token rotates once to collect each member's old ring, aru, highest delivered and
highest seq received (COMMIT), and once more to move every member to RECOVERY.

Recovery and extended virtual synchrony. In the new ring, members that come from the
same old ring re-send, inside new-ring messages, every old-ring message above the lowest
aru among them (each one by its lowest known holder), so that each ends with the union of
what any of them held; the old ring stops accepting its own traffic at commit time, so
this union is the same for all. When the representative has seen two consecutive
rotations with seq unchanged, aru == seq and nobody with recovery messages left, it sets
``install`` on the token; each member seeing it delivers a transitional configuration (the
members that came from its old ring), then the rest of the old ring's messages in order
(skipping gaps that no member could fill, identically everywhere), then the regular
configuration of the new ring. Any failure during commit or recovery goes back to GATHER
keeping the old ring, so a node that moves with others from one ring to the next has
delivered exactly the same messages as they have in the old one.

Small application messages are packed several to a ring message (as totempg does: flow
control counts ring messages); large ones are fragmented to the transport MTU (minus the
sealer's and two message headers' room), one fragment per ring message; fragments are
reassembled in delivery order, and a message cut by a
configuration change is dropped by receivers and sent again whole by its sender in the
next ring.

Simplifications against Corosync: a member asks for a missing message on the first token
that shows the gap (Corosync waits ``miss_count_const`` rotations); ``fail_recv_const``,
``send_join`` and the heartbeat-based failure detection are not implemented; ring seqs
grow by 4 per ring as in Corosync, and are persisted through ``Ready.persist_ring_seq``.

:mod:`.groups` builds process groups (Corosync's CPG) on the delivered stream.
:mod:`.crypto` authenticates and encrypts every datagram and drops replays and other
clusters' packets before anything is parsed.
"""

from hactl.core.totem.packets import PacketError, RingId
from hactl.core.totem.params import TotemParams
from hactl.core.totem.ring import Backpressure, ConfigChange, Delivery, Ready, Ring, Send, State

__all__ = [
    "Backpressure",
    "ConfigChange",
    "Delivery",
    "PacketError",
    "Ready",
    "Ring",
    "RingId",
    "Send",
    "State",
    "TotemParams",
]
