"""The patch paths whose cost follows a change, not the CIB: ``diff_parts`` (only the
named parts compared), ``apply_patch`` in place (what it changed, all or nothing) and
``restamped`` (a request's patch sent on with the versions the DC bumped), checked
against ``diff`` and, where installed, Pacemaker's cibadmin."""

from __future__ import annotations

import copy
import os
import random
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from hactl.core.cib.document import CibDocument, CibError, attributes
from hactl.core.cib.patch import (
    Step,
    apply_patch,
    bump_num_updates,
    diff,
    diff_parts,
    parse_patch,
    restamped,
)


def canonical(doc: CibDocument) -> bytes:
    clone = copy.deepcopy(doc.root)
    for node in clone.iter():
        node.tail = None
        if isinstance(node.tag, str) and node.text is not None and not node.text.strip():
            node.text = None
    return etree.tostring(clone, method="c14n")


def history_part(node_id: str, resource: str) -> tuple[Step, ...]:
    return (
        ("status", None),
        ("node_state", node_id),
        ("lrm", None),
        ("lrm_resources", None),
        ("lrm_resource", resource),
    )


def resources_of(doc: CibDocument) -> etree._Element:
    found = doc.root.find("status/node_state[@id='1']/lrm/lrm_resources")
    assert found is not None
    return found


def op(resource: str, name: str, call_id: int) -> etree._Element:
    return etree.Element(
        "lrm_rsc_op", id=f"{resource}_{name}", operation=name, call_id=str(call_id)
    )


@pytest.mark.parametrize("seed", range(20))
def test_a_diff_of_the_changed_histories_is_the_whole_diff(sample_text: str, seed: int) -> None:
    """Histories added, changed (a record replaced, one moved) and removed: the patch of
    just those parts turns the old CIB into the new one, as the whole diff does, with
    the same changes."""
    rng = random.Random(seed)
    old = CibDocument.from_bytes(sample_text.encode())
    lrm = resources_of(old)
    for index in range(6):
        history = etree.SubElement(lrm, "lrm_resource", id=f"r{index}", type="Dummy")
        history.append(op(f"r{index}", "last_0", index))
    new = old.copy()
    touched: set[str] = set()
    for _ in range(rng.randint(1, 5)):
        histories = list(resources_of(new))
        kind = rng.choice(["add", "change", "remove", "move"])
        if kind == "add" or not histories:
            name = f"n{rng.randrange(1000)}"
            created = etree.SubElement(resources_of(new), "lrm_resource", id=name)
            created.append(op(name, "last_0", 1))
        else:
            history = rng.choice(histories)
            name = str(history.get("id"))
            if kind == "change":
                history[0].set("call_id", str(rng.randrange(1000)))
                history.append(op(name, "monitor_10000", 7))
            elif kind == "remove":
                resources_of(new).remove(history)
            elif len(history) > 1:
                history.append(history[0])  # the records' order changes
            else:
                history.set("type", "Stateful")
        touched.add(name)
    new.root.set("num_updates", "99")  # the root's attributes are always compared
    patch = diff_parts(old, new, [history_part("1", name) for name in sorted(touched)])
    assert patch is not None
    whole = diff(old, new)
    as_set = {etree.tostring(c) for c in patch.iterfind("change")}
    assert as_set == {etree.tostring(c) for c in whole.iterfind("change")}
    result = old.copy()
    apply_patch(result, patch, check_versions=False)
    assert canonical(result) == canonical(new)


def test_a_part_whose_parent_is_missing_asks_for_the_whole_diff(sample_text: str) -> None:
    old = CibDocument.from_bytes(sample_text.encode())
    new = old.copy()
    state = etree.SubElement(new.root.find("status"), "node_state", id="2", uname="node2")
    etree.SubElement(etree.SubElement(state, "lrm", id="2"), "lrm_resources")
    assert diff_parts(old, new, [history_part("2", "ip")]) is None


def test_apply_in_place_says_what_changed_and_undoes_a_patch_that_does_not_fit(
    sample_text: str,
) -> None:
    doc = CibDocument.from_bytes(sample_text.encode())
    status_change = doc.copy()
    resources_of(status_change)[0].set("type", "Other")
    config_change = doc.copy()
    primitive = config_change.find_by_id("ip")
    assert primitive is not None
    primitive.set("description", "moved")

    work = doc.copy()
    applied = apply_patch(work, diff(doc, status_change), check_versions=False)
    assert (applied.changed, applied.configuration_changed) == (True, False)
    applied = apply_patch(work, diff(doc, status_change), check_versions=False)
    assert not applied.changed  # the same change again: nothing to do
    applied = apply_patch(work, diff(doc, config_change), check_versions=False)
    assert applied.configuration_changed

    before = canonical(work)
    broken = diff(work, status_change)  # creates, deletes and modifies, then a bad path
    etree.SubElement(
        broken, "change", operation="modify", path="/cib/configuration/resources/nothing"
    )
    with pytest.raises(CibError, match="modify target not found"):
        apply_patch(work, broken, check_versions=False)
    assert canonical(work) == before


def test_a_restamped_request_is_what_cibadmin_applies(
    tmp_path: Path, sample_text: str, require_tool: Callable[[str], str]
) -> None:
    """The DC applies a status request in place, bumps num_updates and sends the request
    on restamped: Pacemaker's cibadmin applies that patch (with its version check) to
    the DC's CIB from before and gets the same CIB."""
    tool = require_tool("cibadmin")
    before = CibDocument.from_bytes(sample_text.encode())
    wanted = before.copy()
    history = resources_of(wanted)[0]
    history[0].set("call-id", "9")
    history.remove(history[1])
    created = etree.SubElement(resources_of(wanted), "lrm_resource", id="web", type="Dummy")
    created.append(op("web", "last_0", 3))
    wanted.root.set("have-quorum", "0")
    request = parse_patch(etree.tostring(diff(before, wanted)))
    dc = before.copy()
    root_before = attributes(dc.root)
    assert apply_patch(dc, request, check_versions=False).changed
    bump_num_updates(dc.root)
    sent = restamped(request, root_before, dc.root)

    path, patch_path = tmp_path / "cib.xml", tmp_path / "patch.xml"
    path.write_bytes(before.serialize())
    patch_path.write_bytes(etree.tostring(sent))
    env = {**os.environ, "CIB_file": str(path), "LC_ALL": "C", "CIB_shadow_dir": str(tmp_path)}
    done = subprocess.run(
        [tool, "--patch", "--xml-file", str(patch_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    theirs = CibDocument.load(path)
    ours = before.copy()
    apply_patch(ours, sent, check_versions=True)
    admin_epoch, epoch, num_updates = before.versions()
    assert ours.versions() == dc.versions() == (admin_epoch, epoch, num_updates + 1)
    for doc in (theirs, ours):
        for name in ("num_updates", "cib-last-written", "epoch"):
            doc.root.attrib.pop(name, None)
    assert canonical(theirs) == canonical(ours)
