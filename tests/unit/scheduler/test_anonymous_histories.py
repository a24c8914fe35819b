"""Histories of an anonymous clone of groups (Pacemaker's find_anonymous_clone): a second
history of a member already active on a node goes to another instance active there (a
removed one), so two extra histories of the same group make one removed instance."""

from __future__ import annotations

from lxml import etree

from hactl.core.scheduler import unpack

from .cib_text import NOW, cib, meta, node_state, nodes, primitive, running


def test_the_extra_histories_of_a_cloned_group_share_one_removed_instance() -> None:
    histories = "".join(
        running(rid, call) for call, rid in enumerate(("B:1", "B:0", "A:1", "A:0"), start=1)
    )
    text = cib(
        f'<clone id="C">{meta("C", clone_max="1")}'
        f'<group id="G">{primitive("A")}{primitive("B")}</group></clone>',
        status=node_state("1", histories),
        node_list=nodes(1),
    )
    ws = unpack.unpack(etree.fromstring(text), NOW)
    instances = ws.by_id["C"].children
    assert len(instances) == 2  # the configured one and one removed instance
    configured, removed = instances
    assert not configured.orphan and removed.orphan
    for instance in instances:
        assert all(p.running_on for p in instance.primitives()), instance.id
