"""The replicated CIB state machine over a total order (what totem gives), pure.

A tiny harness stands in for totem's agreed order: every broadcast is appended to one
queue and delivered to every member of the current ring in that order.
"""

from __future__ import annotations

from collections import deque

from lxml import etree

from hactl.core.cib.document import CibDocument
from hactl.core.controller.replica import (
    Broadcast,
    CibChanged,
    CibReplica,
    Persist,
    Reply,
    Synced,
    cib_digest,
    decode_message,
    encode_message,
)


class Cluster:
    def __init__(self, ids: list[int], docs: dict[int, CibDocument] | None = None) -> None:
        docs = docs or {}
        self.nodes = {
            n: CibReplica(n, docs.get(n, CibDocument.new_empty()), {n: f"n{n}" for n in ids})
            for n in ids
        }
        self.queue: deque[tuple[int, dict]] = deque()
        self.members: tuple[int, ...] = ()
        self.ring = 0
        self.replies: dict[str, Reply] = {}
        self.persisted: dict[int, int] = {n: 0 for n in ids}
        self.synced: dict[int, Synced] = {}
        self.changes: list[tuple[int, bool]] = []

    def handle(self, node: int, outputs: list) -> None:
        for out in outputs:
            if isinstance(out, Broadcast):
                # what goes on the wire is bytes
                self.queue.append((node, decode_message(encode_message(out.message))))
            elif isinstance(out, Persist):
                self.persisted[node] += 1
            elif isinstance(out, Reply):
                self.replies[out.request_id] = out
            elif isinstance(out, Synced):
                self.synced[node] = out
            elif isinstance(out, CibChanged):
                self.changes.append((node, out.on_dc))

    def form(self, members: tuple[int, ...]) -> None:
        self.queue.clear()  # what was not delivered is cut by the configuration change
        self.ring += 1
        self.members = members
        for n in members:
            self.handle(n, self.nodes[n].config_changed(f"r{self.ring}", members))
        self.run()
        quorate = 2 * len(members) > len(self.nodes)  # votequorum's verdict, one vote each
        for n in members:
            self.handle(n, self.nodes[n].quorum_changed(quorate))
        self.run()

    def run(self) -> None:
        while self.queue:
            sender, message = self.queue.popleft()
            for n in self.members:
                self.handle(n, self.nodes[n].deliver(sender, message))

    def edit(self, node: int, request_id: str, change) -> None:
        replica = self.nodes[node]
        new = replica.doc.copy()
        change(new)
        self.handle(node, replica.submit(request_id, new, replica.doc.versions()[:2]))

    def digests(self, nodes=None) -> set[str]:
        return {cib_digest(self.nodes[n].doc) for n in (nodes or self.members)}


def add_primitive(name: str):
    def change(doc: CibDocument) -> None:
        resources = doc.section("resources", create=True)
        etree.SubElement(resources, "primitive", id=name, type="Dummy", provider="heartbeat")
        resources.find("primitive").set("class", "ocf")

    return change


def test_three_nodes_sync_choose_lowest_dc_and_record_nodes() -> None:
    cluster = Cluster([1, 2, 3])
    cluster.form((1, 2, 3))
    assert {s.dc for s in cluster.synced.values()} == {1}
    assert len(cluster.digests()) == 1
    doc = cluster.nodes[2].doc
    assert [n.get("uname") for n in doc.root.iter("node")] == ["n1", "n2", "n3"]
    states = {s.get("id"): s.attrib for s in doc.root.iter("node_state")}
    assert states["3"]["crmd"] == "online" and states["3"]["join"] == "member"
    assert doc.root.get("dc-uuid") == "1"


def test_change_on_one_node_reaches_all_and_is_acknowledged() -> None:
    cluster = Cluster([1, 2, 3])
    cluster.form((1, 2, 3))
    before = cluster.nodes[3].doc.versions()
    cluster.edit(3, "req-1", add_primitive("d1"))
    cluster.run()
    reply = cluster.replies["req-1"]
    assert reply.error is None
    assert len(cluster.digests()) == 1
    after = cluster.nodes[1].doc.versions()
    assert after[1] == before[1] + 1 and after[2] == 0  # a configuration change bumps epoch
    assert cluster.nodes[2].doc.find_by_id("d1") is not None
    assert any(on_dc for _, on_dc in cluster.changes)


def test_conflicting_edit_is_refused_not_lost() -> None:
    cluster = Cluster([1, 2])
    cluster.form((1, 2))
    stale = cluster.nodes[2].doc.copy()
    cluster.edit(1, "a", add_primitive("first"))
    cluster.run()
    add_primitive("second")(stale)
    base = cluster.nodes[2].doc.versions()[:2]
    # node 2 read before the change landed: its base is the old epoch
    old_base = (base[0], base[1] - 1)
    cluster.handle(2, cluster.nodes[2].submit("b", stale, old_base))
    assert "changed while the command ran" in (cluster.replies["b"].error or "")


def test_dc_stays_when_lower_node_joins_and_new_node_gets_the_cib() -> None:
    cluster = Cluster([1, 2, 3])
    cluster.form((2, 3))
    cluster.edit(3, "x", add_primitive("d1"))
    cluster.run()
    cluster.form((1, 2, 3))
    assert {cluster.synced[n].dc for n in (1, 2, 3)} == {2}
    assert cluster.synced[1].source in (2, 3)
    assert cluster.nodes[1].doc.find_by_id("d1") is not None
    assert len(cluster.digests()) == 1


def test_dc_leaves_lowest_remaining_takes_over_and_marks_it_offline_expected() -> None:
    cluster = Cluster([1, 2, 3])
    cluster.form((1, 2, 3))
    cluster.form((2, 3))  # node 1 crashed
    assert cluster.synced[2].dc == 2
    state = next(s for s in cluster.nodes[3].doc.root.iter("node_state") if s.get("id") == "1")
    assert state.get("crmd") == "offline" and state.get("expected") == "member"  # unclean


def node_state(replica: CibReplica, node: int) -> etree._Element:
    return next(s for s in replica.doc.root.iter("node_state") if s.get("id") == str(node))


def test_clean_shutdown_is_recorded_before_leaving() -> None:
    cluster = Cluster([1, 2, 3])
    cluster.form((1, 2, 3))
    cluster.handle(3, cluster.nodes[3].request_shutdown(at=1700000000))
    cluster.run()
    # asked, not released: online with its shutdown attribute (the scheduler moves its
    # resources away; marked offline now, they would be started elsewhere at once)
    state = node_state(cluster.nodes[2], 3)
    assert state.get("crmd") == "online" and state.get("join") == "member"
    assert [p.get("value") for p in state.iter("nvpair") if p.get("name") == "shutdown"] == [
        "1700000000"
    ]
    assert not cluster.nodes[3].shutdown_recorded
    assert cluster.nodes[1].leaving == [3]
    assert cluster.nodes[2].release(3) == []  # only the DC releases
    cluster.handle(1, cluster.nodes[1].release(3))
    cluster.run()
    assert cluster.nodes[3].shutdown_recorded and cluster.nodes[1].leaving == []
    state = node_state(cluster.nodes[3], 3)
    assert state.get("crmd") == "offline" and state.get("expected") == "down"
    cluster.form((1, 2))
    state = next(s for s in cluster.nodes[1].doc.root.iter("node_state") if s.get("id") == "3")
    assert state.get("expected") == "down" and state.get("crmd") == "offline"
    cluster.form((1, 2, 3))  # back: a member again, the shutdown attribute gone
    state = next(s for s in cluster.nodes[1].doc.root.iter("node_state") if s.get("id") == "3")
    assert state.get("expected") == "member"
    assert not [p for p in state.iter("nvpair") if p.get("name") == "shutdown"]


def test_back_after_a_clean_stop_with_no_ring_without_it_in_between() -> None:
    cluster = Cluster([1, 2, 3])
    cluster.form((1, 2, 3))
    cluster.handle(3, cluster.nodes[3].request_shutdown(at=1700000000))
    cluster.run()
    cluster.handle(1, cluster.nodes[1].release(3))
    cluster.run()
    # node 3 restarts (a fresh replica from its stored CIB) before the others installed a
    # ring without it: the next membership has it again
    cluster.nodes[3] = CibReplica(3, cluster.nodes[3].doc, {n: f"n{n}" for n in (1, 2, 3)})
    cluster.form((1, 2, 3))
    state = next(s for s in cluster.nodes[1].doc.root.iter("node_state") if s.get("id") == "3")
    assert state.get("crmd") == "online" and state.get("expected") == "member"


def test_partition_heals_higher_version_wins() -> None:
    cluster = Cluster([1, 2, 3])
    cluster.form((1, 2, 3))
    cluster.form((1, 2))
    cluster.edit(2, "maj-1", add_primitive("majority"))
    cluster.run()
    cluster.edit(1, "maj-2", add_primitive("majority2"))
    cluster.run()
    minority = cluster.nodes[3]
    cluster.members = (3,)
    cluster.ring += 1
    cluster.handle(3, minority.config_changed(f"r{cluster.ring}", (3,)))
    cluster.handle(3, minority.quorum_changed(False))
    cluster.run()
    cluster.edit(3, "refused", add_primitive("refused"))  # no quorum: refused
    cluster.run()
    assert "no quorum" in (cluster.replies["refused"].error or "")
    cluster.handle(3, minority.quorum_changed(True))  # as after `quorum expected-votes 1`
    cluster.run()
    cluster.edit(3, "min-1", add_primitive("minority"))
    cluster.run()
    assert minority.doc.find_by_id("minority") is not None
    cluster.form((1, 2, 3))
    assert len(cluster.digests()) == 1
    doc = cluster.nodes[3].doc
    assert doc.find_by_id("majority2") is not None and doc.find_by_id("minority") is None
    assert {cluster.synced[n].dc for n in (1, 2, 3)} == {1}


def test_request_cut_by_a_membership_change_is_resent_and_applied_once() -> None:
    cluster = Cluster([1, 2, 3])
    cluster.form((1, 2, 3))
    cluster.edit(3, "cut", add_primitive("d"))
    # the request is lost with the ring (DC 1 crashes before it is delivered)
    cluster.form((2, 3))
    assert cluster.replies["cut"].error is None
    assert len(cluster.digests()) == 1
    assert len(cluster.nodes[2].doc.root.findall(".//primitive[@id='d']")) == 1


def test_a_patch_cut_by_a_membership_change_is_made_again_when_the_request_returns() -> None:
    cluster = Cluster([1, 2, 3])
    cluster.form((1, 2, 3))
    cluster.edit(2, "cut-patch", add_primitive("d"))
    sender, request = cluster.queue.popleft()
    for n in cluster.members:  # the DC (1) turns the request into a patch...
        cluster.handle(n, cluster.nodes[n].deliver(sender, request))
    assert cluster.queue and cluster.queue[0][1]["t"] == "patch"
    cluster.form((1, 2))  # ...which the ring change cuts; node 2 sends the request again
    assert cluster.replies["cut-patch"].error is None
    assert len(cluster.digests()) == 1
    assert len(cluster.nodes[1].doc.root.findall(".//primitive[@id='d']")) == 1


def test_a_status_patch_applies_without_a_version_check_and_bumps_num_updates() -> None:
    from hactl.core.cib.patch import diff

    cluster = Cluster([1, 2, 3])
    cluster.form((1, 2, 3))
    before = cluster.nodes[2].doc
    after = before.copy()
    state = next(s for s in after.root.iter("node_state") if s.get("id") == "2")
    etree.SubElement(state, "lrm", id="2")
    patch = diff(before, after)
    cluster.edit(1, "cfg", add_primitive("meanwhile"))  # the configuration moves on
    cluster.handle(2, cluster.nodes[2].submit_patch("st", patch))
    cluster.run()
    assert cluster.replies["st"].error is None
    assert len(cluster.digests()) == 1
    doc = cluster.nodes[3].doc
    assert doc.root.xpath("//node_state[@id='2']/lrm") and doc.find_by_id("meanwhile") is not None


def test_a_patch_of_counters_alone_changes_nothing_and_later_patches_still_apply() -> None:
    """The DC applies requests in place: one that only sets the <cib> element's counters
    is answered as done without a change, and leaves no counter behind (the next
    patch's version check would fail on every replica)."""
    from hactl.core.cib.patch import diff

    cluster = Cluster([1, 2, 3])
    cluster.form((1, 2, 3))
    before = cluster.nodes[2].doc.copy()
    counters = before.copy()
    counters.root.set("num_updates", "77")
    cluster.handle(2, cluster.nodes[2].submit_patch("counters", diff(before, counters)))
    cluster.run()
    assert cluster.replies["counters"].error is None
    assert {n.doc.versions() for n in cluster.nodes.values()} == {before.versions()}
    after = before.copy()
    state = next(s for s in after.root.iter("node_state") if s.get("id") == "2")
    etree.SubElement(state, "lrm", id="2")
    cluster.handle(2, cluster.nodes[2].submit_patch("lrm", diff(before, after)))
    cluster.run()
    assert cluster.replies["lrm"].error is None
    assert len(cluster.digests()) == 1
    admin_epoch, epoch, num_updates = before.versions()
    assert cluster.nodes[3].doc.versions() == (admin_epoch, epoch, num_updates + 1)


def test_unknown_message_type_is_ignored_and_garbage_refused() -> None:
    replica = CibReplica(1, CibDocument.new_empty())
    assert replica.deliver(2, {"t": "from-the-future"}) == []
    try:
        decode_message(b"\xff not json")
    except Exception as exc:  # noqa: BLE001
        assert "undecodable" in str(exc)
    else:
        raise AssertionError("garbage decoded")


def test_a_reloaded_nodelist_adds_and_drops_nodes_in_the_dc_cib() -> None:
    cluster = Cluster([1, 2, 3])
    cluster.form((1, 2, 3))
    four = {n: f"n{n}" for n in (1, 2, 3, 4)}
    for n in (1, 2, 3):
        cluster.handle(n, cluster.nodes[n].nodelist_changed(four))
    cluster.run()
    ids = {e.get("id") for e in cluster.nodes[3].doc.root.iterfind("configuration/nodes/node")}
    assert ids == {"1", "2", "3", "4"}
    cluster.form((1, 2))  # node 3 left, then it is removed from the nodelist
    two = {n: f"n{n}" for n in (1, 2, 4)}
    for n in (1, 2):
        cluster.handle(n, cluster.nodes[n].nodelist_changed(two))
    cluster.run()
    root = cluster.nodes[2].doc.root
    assert {e.get("id") for e in root.iterfind("configuration/nodes/node")} == {"1", "2", "4"}
    assert "3" not in {s.get("id") for s in root.iterfind("status/node_state")}
