"""Tags (`tag create / delete / config`) and alerts (`alert create / update / delete /
recipient add / remove / config`), with pcs's ids (``alert``, ``alert-recipient``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from lxml import etree

from hactl.core.commands import cibtools as ct
from hactl.core.commands.cibtools import Element, IdAllocator
from hactl.core.commands.grammar import did_you_mean, reject_unknown
from hactl.core.errors import HactlError, NotFoundError

# --------------------------------------------------------------------------- tags


def tags(root: Element) -> list[Element]:
    return list(root.iterfind("configuration/tags/tag"))


def tag_create(root: Element, tag_id: str, members: Sequence[str]) -> Element:
    where = f"tag create {tag_id}"
    ct.check_new_id(root, tag_id, where=where)
    if not members:
        raise HactlError(
            "a tag needs at least one resource",
            where=where,
            hint=f"hactl tag create {tag_id} R1 R2",
        )
    for member in members:
        ct.find_resource(root, member, where=where)
        if list(members).count(member) > 1:
            raise HactlError(f"{member!r} is given twice", where=where)
    tag = etree.SubElement(ct.section(root, "tags"), "tag", id=tag_id)
    for member in members:
        etree.SubElement(tag, "obj_ref", id=member)
    return tag


def find_tag(root: Element, tag_id: str, where: str) -> Element:
    for tag in tags(root):
        if tag.get("id") == tag_id:
            return tag
    known = [str(t.get("id")) for t in tags(root)]
    raise NotFoundError(
        f"tag {tag_id!r} does not exist",
        where=where,
        hint=did_you_mean(tag_id, known) if known else "there are no tags",
    )


def tag_delete(root: Element, tag_ids: Sequence[str]) -> None:
    from hactl.core.commands.constraint import constraints, references

    found = [find_tag(root, t, "tag delete") for t in tag_ids]
    for tag in found:
        users = [str(c.get("id")) for c in constraints(root) if references(c, str(tag.get("id")))]
        if users:
            raise HactlError(
                f"tag {tag.get('id')!r} is used by constraints {', '.join(users)}",
                where="tag delete",
                hint="remove those constraints first",
            )
    ct.remove_elements(found)
    section = root.find("configuration/tags")
    if section is not None and len(section) == 0:
        ct.remove_elements([section])


def tag_update(root: Element, tag_id: str, add: Sequence[str], remove: Sequence[str]) -> Element:
    tag = find_tag(root, tag_id, "tag update")
    current = [str(o.get("id")) for o in tag.findall("obj_ref")]
    for member in add:
        ct.find_resource(root, member, where="tag update")
        if member in current:
            raise HactlError(f"{member!r} is already in tag {tag_id!r}", where="tag update")
    for member in remove:
        if member not in current:
            raise NotFoundError(
                f"{member!r} is not in tag {tag_id!r}",
                where="tag update",
                hint=did_you_mean(member, current),
            )
    if remove and not add and set(remove) >= set(current):
        raise HactlError(
            "a tag cannot be left empty", where="tag update", hint=f"hactl tag delete {tag_id}"
        )
    for obj_ref in list(tag.findall("obj_ref")):
        if obj_ref.get("id") in remove:
            tag.remove(obj_ref)
    for member in add:
        etree.SubElement(tag, "obj_ref", id=member)
    return tag


# ------------------------------------------------------------------------- alerts

ALERT_OPTIONS = ("id", "description", "path")
RECIPIENT_OPTIONS = ("id", "description", "value")


def alerts(root: Element) -> list[Element]:
    return list(root.iterfind("configuration/alerts/alert"))


def _find_alert(root: Element, alert_id: str, where: str) -> Element:
    for alert in alerts(root):
        if alert.get("id") == alert_id:
            return alert
    known = [str(a.get("id")) for a in alerts(root)]
    raise NotFoundError(
        f"alert {alert_id!r} does not exist",
        where=where,
        hint=did_you_mean(alert_id, known) if known else "there are no alerts",
    )


def _nvsets(
    element: Element, options: Mapping[str, str], meta: Mapping[str, str], ids: IdAllocator
) -> None:
    if options:
        ct.update_nvset(element, "instance_attributes", options, ids)
    if meta:
        ct.update_nvset(element, "meta_attributes", meta, ids)


def alert_create(
    root: Element, settings: dict[str, str], options: Mapping[str, str], meta: Mapping[str, str]
) -> Element:
    where = "alert create"
    reject_unknown(settings, ALERT_OPTIONS, what="alert option", where=where)
    if not settings.get("path"):
        raise HactlError(
            "an alert needs path=PROGRAM",
            where=where,
            hint="hactl alert create path=/usr/share/pacemaker/alerts/alert_file.sh",
        )
    ids = IdAllocator(root)
    if "id" in settings:
        ct.check_new_id(root, settings["id"], where=where)
        alert_id = settings["id"]
    else:
        alert_id = ids.allocate("alert")
    alert = etree.SubElement(
        ct.section(root, "alerts"), "alert", id=alert_id, path=settings["path"]
    )
    if settings.get("description"):
        alert.set("description", settings["description"])
    _nvsets(alert, options, meta, ids)
    return alert


def alert_update(
    root: Element,
    alert_id: str,
    settings: dict[str, str],
    options: Mapping[str, str],
    meta: Mapping[str, str],
) -> Element:
    where = f"alert update {alert_id}"
    reject_unknown(settings, ("description", "path"), what="alert option", where=where)
    alert = _find_alert(root, alert_id, where)
    for key, value in settings.items():
        if value:
            alert.set(key, value)
        elif key == "path":
            raise HactlError("path cannot be empty", where=where)
        else:
            alert.attrib.pop(key, "")
    _nvsets(alert, options, meta, IdAllocator(root))
    return alert


def alert_delete(root: Element, alert_ids: Sequence[str]) -> None:
    found = [_find_alert(root, a, "alert delete") for a in alert_ids]
    ct.remove_elements(found)
    section = root.find("configuration/alerts")
    if section is not None and len(section) == 0:
        ct.remove_elements([section])


def recipient_add(
    root: Element,
    alert_id: str,
    settings: dict[str, str],
    options: Mapping[str, str],
    meta: Mapping[str, str],
    *,
    force: bool,
) -> Element:
    where = f"alert recipient add {alert_id}"
    reject_unknown(settings, RECIPIENT_OPTIONS, what="recipient option", where=where)
    alert = _find_alert(root, alert_id, where)
    if not settings.get("value"):
        raise HactlError(
            "a recipient needs value=…",
            where=where,
            hint=f"hactl alert recipient add {alert_id} value=/var/log/alerts.log",
        )
    if not force and any(r.get("value") == settings["value"] for r in alert.findall("recipient")):
        raise HactlError(
            f"alert {alert_id!r} already has recipient {settings['value']!r}",
            where=where,
            hint="use --force to add it again",
        )
    ids = IdAllocator(root)
    if "id" in settings:
        ct.check_new_id(root, settings["id"], where=where)
        recipient_id = settings["id"]
    else:
        recipient_id = ids.allocate(f"{alert_id}-recipient")
    recipient = etree.Element("recipient", id=recipient_id, value=settings["value"])
    if settings.get("description"):
        recipient.set("description", settings["description"])
    # recipients come after the alert's own attribute sets in Pacemaker's schema
    alert.append(recipient)
    _nvsets(recipient, options, meta, ids)
    return recipient


def recipient_remove(root: Element, recipient_ids: Sequence[str]) -> None:
    for recipient_id in recipient_ids:
        found = ct.elements(root, "./configuration/alerts/alert/recipient[@id=$i]", i=recipient_id)
        if not found:
            known = [
                str(r.get("id")) for r in root.iterfind("configuration/alerts/alert/recipient")
            ]
            raise NotFoundError(
                f"recipient {recipient_id!r} does not exist",
                where="alert recipient remove",
                hint=did_you_mean(recipient_id, known) if known else "there are no recipients",
            )
        ct.remove_elements(found)
