"""What may appear in a CIB's ``<configuration>``: elements, their attributes and children.

This is hactl's own description of Pacemaker's configuration schema, covering every schema
version from pacemaker-1.0 to 3.x at once (old and new spellings alike: ``master`` and
promotable clones, Master/Slave and Promoted/Unpromoted roles, ``lifetime``), so that any
real CIB loads. The validator (validate.py) checks documents against it; the typed values
(score, interval, boolean...) are checked by the functions at the end of this module.
``<status>`` is not described: Pacemaker accepts anything there, and so do we.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field


class Kind(enum.Enum):
    """How an attribute's value is checked."""

    TEXT = "text"
    ID = "id"  # defines an id; unique in the configuration
    IDREF = "idref"  # names another element's id
    SCORE = "score"
    DURATION = "duration"  # an interval or a timeout: 10, 10s, 5min, PT10S
    INTEGER = "integer"
    NONNEGATIVE = "non-negative integer"
    BOOLEAN = "boolean"
    ENUM = "enum"


@dataclass(frozen=True)
class Attr:
    kind: Kind = Kind.TEXT
    values: tuple[str, ...] = ()  # for ENUM: the allowed values (case-sensitive, as Pacemaker)
    required: bool = False
    refers_to: tuple[str, ...] = ()  # for IDREF: element names the target may have ("" = any)


@dataclass(frozen=True)
class Element:
    attrs: dict[str, Attr] = field(default_factory=dict)
    children: frozenset[str] = frozenset()


TEXT = Attr()
REQ_TEXT = Attr(required=True)
ID = Attr(Kind.ID, required=True)
OPT_ID = Attr(Kind.ID)
SCORE = Attr(Kind.SCORE)
BOOL = Attr(Kind.BOOLEAN)
INT = Attr(Kind.INTEGER)
DURATION = Attr(Kind.DURATION)

RESOURCE_ELEMENTS = ("primitive", "group", "clone", "master", "bundle")
RESOURCE_OR_TAG = (*RESOURCE_ELEMENTS, "template", "tag")
ROLES = ("Stopped", "Started", "Promoted", "Unpromoted", "Master", "Slave")
ACTIONS = ("start", "stop", "promote", "demote")


def enum_attr(*values: str, required: bool = False) -> Attr:
    return Attr(Kind.ENUM, values=values, required=required)


def ref(*targets: str, required: bool = False) -> Attr:
    return Attr(Kind.IDREF, required=required, refers_to=targets)


def element(children: tuple[str, ...] = (), /, **attrs: Attr) -> Element:
    """Attributes are given as keywords; ``_`` stands for ``-`` in attribute names."""
    return Element(
        attrs={name.replace("_", "-"): spec for name, spec in attrs.items()},
        children=frozenset(children),
    )


NVSET_CHILDREN = ("nvpair", "rule")
NVSET = element(NVSET_CHILDREN, id=OPT_ID, id_ref=ref(), score=SCORE)
RULE_CHILDREN = ("expression", "date_expression", "rule", "rsc_expression", "op_expression")
RESOURCE_EXTRA = ("meta_attributes", "instance_attributes")
DATE_FIELDS = (
    "hours minutes seconds monthdays weekdays yeardays yearsdays months weeks years weekyears moon"
).split()

ELEMENTS: dict[str, Element] = {
    "configuration": element(
        (
            "crm_config",
            "nodes",
            "resources",
            "constraints",
            "rsc_defaults",
            "op_defaults",
            "fencing-topology",
            "acls",
            "tags",
            "alerts",
        )
    ),
    # -- options and attribute sets ------------------------------------------------------
    "crm_config": element(("cluster_property_set",)),
    "cluster_property_set": NVSET,
    "rsc_defaults": element(("meta_attributes",)),
    "op_defaults": element(("meta_attributes",)),
    "meta_attributes": NVSET,
    "instance_attributes": NVSET,
    "utilization": NVSET,
    "nvpair": element(id=OPT_ID, id_ref=ref("nvpair"), name=TEXT, value=TEXT),
    # -- rules ---------------------------------------------------------------------------
    "rule": element(
        RULE_CHILDREN,
        id=OPT_ID,
        id_ref=ref("rule"),
        score=SCORE,
        score_attribute=TEXT,
        boolean_op=enum_attr("and", "or"),
        role=enum_attr(*ROLES),
    ),
    "expression": element(
        id=ID,
        attribute=REQ_TEXT,
        operation=enum_attr(
            "lt", "gt", "lte", "gte", "eq", "ne", "defined", "not_defined", required=True
        ),
        value=TEXT,
        type=enum_attr("string", "integer", "number", "version"),
        value_source=enum_attr("literal", "param", "meta"),
    ),
    "date_expression": element(
        ("date_spec", "duration"),
        id=ID,
        operation=enum_attr("in_range", "date_spec", "gt", "lt", required=True),
        start=TEXT,
        end=TEXT,
    ),
    "date_spec": element(id=OPT_ID, **{name: TEXT for name in DATE_FIELDS}),
    "duration": element(id=OPT_ID, **{name: TEXT for name in DATE_FIELDS}),
    "rsc_expression": element(id=ID, **{"class": TEXT}, provider=TEXT, type=TEXT),
    "op_expression": element(id=ID, name=REQ_TEXT, interval=DURATION),
    "lifetime": element(("rule",)),
    # -- nodes ---------------------------------------------------------------------------
    "nodes": element(("node",)),
    "node": element(
        ("instance_attributes", "utilization"),
        id=REQ_TEXT,  # node ids are not XML ids: "1" is fine, and so is a resource's id
        uname=REQ_TEXT,
        type=enum_attr("member", "ping", "remote", "normal"),
        description=TEXT,
        score=SCORE,
    ),
    # -- resources -----------------------------------------------------------------------
    "resources": element(("primitive", "template", "group", "clone", "master", "bundle")),
    "primitive": element(
        (*RESOURCE_EXTRA, "operations", "utilization"),
        id=ID,
        **{
            "class": enum_attr(
                "ocf", "lsb", "heartbeat", "stonith", "upstart", "service", "systemd", "nagios"
            )
        },
        provider=TEXT,
        type=TEXT,
        template=ref("template"),
        description=TEXT,
    ),
    "template": element(
        (*RESOURCE_EXTRA, "operations", "utilization"),
        id=ID,
        **{
            "class": enum_attr(
                "ocf",
                "lsb",
                "heartbeat",
                "stonith",
                "upstart",
                "service",
                "systemd",
                "nagios",
                required=True,
            )
        },
        provider=TEXT,
        type=REQ_TEXT,
        description=TEXT,
    ),
    "group": element((*RESOURCE_EXTRA, "primitive"), id=ID, description=TEXT),
    "clone": element((*RESOURCE_EXTRA, "primitive", "group"), id=ID, description=TEXT),
    "master": element((*RESOURCE_EXTRA, "primitive", "group"), id=ID, description=TEXT),
    "bundle": element(
        (*RESOURCE_EXTRA, "docker", "rkt", "podman", "network", "storage", "primitive"),
        id=ID,
        description=TEXT,
    ),
    "network": element(
        ("port-mapping",),
        ip_range_start=TEXT,
        control_port=INT,
        host_interface=TEXT,
        host_netmask=INT,
        add_host=BOOL,
    ),
    "port-mapping": element(id=ID, port=INT, internal_port=INT, range=TEXT),
    "storage": element(("storage-mapping",)),
    "storage-mapping": element(
        id=ID, source_dir=TEXT, source_dir_root=TEXT, target_dir=REQ_TEXT, options=TEXT
    ),
    "operations": element(("op",), id=OPT_ID, id_ref=ref("operations")),
    "op": element(
        RESOURCE_EXTRA,
        id=ID,
        name=REQ_TEXT,
        interval=Attr(Kind.DURATION, required=True),
        description=TEXT,
        start_delay=DURATION,
        interval_origin=TEXT,
        timeout=TEXT,  # an unparsable timeout falls back to the default in Pacemaker
        enabled=BOOL,
        record_pending=BOOL,
        role=enum_attr(*ROLES),
        requires=enum_attr("nothing", "quorum", "fencing", "unfencing"),
        on_fail=enum_attr(
            "ignore",
            "block",
            "demote",
            "stop",
            "restart",
            "standby",
            "fence",
            "restart-container",
        ),
    ),
    # -- constraints ---------------------------------------------------------------------
    "constraints": element(("rsc_location", "rsc_colocation", "rsc_order", "rsc_ticket")),
    "rsc_location": element(
        ("rule", "resource_set", "lifetime"),
        id=ID,
        rsc=ref(*RESOURCE_OR_TAG),
        rsc_pattern=TEXT,
        node=TEXT,
        score=SCORE,
        role=enum_attr(*ROLES),
        resource_discovery=enum_attr("always", "never", "exclusive"),
    ),
    "rsc_colocation": element(
        ("resource_set", "lifetime"),
        id=ID,
        score=SCORE,
        score_attribute=TEXT,
        score_attribute_mangle=TEXT,
        rsc=ref(*RESOURCE_OR_TAG),
        with_rsc=ref(*RESOURCE_OR_TAG),
        node_attribute=TEXT,
        rsc_role=enum_attr(*ROLES),
        with_rsc_role=enum_attr(*ROLES),
        rsc_instance=INT,
        with_rsc_instance=INT,
        influence=TEXT,  # Pacemaker falls back to the resource's "critical" when unparsable
    ),
    "rsc_order": element(
        ("resource_set", "lifetime"),
        id=ID,
        first=ref(*RESOURCE_OR_TAG),
        then=ref(*RESOURCE_OR_TAG),
        first_action=enum_attr(*ACTIONS),
        then_action=enum_attr(*ACTIONS),
        first_instance=INT,
        then_instance=INT,
        kind=enum_attr("Optional", "Mandatory", "Serialize"),
        score=SCORE,
        symmetrical=BOOL,
        require_all=BOOL,
    ),
    "rsc_ticket": element(
        ("resource_set",),
        id=ID,
        ticket=REQ_TEXT,
        rsc=ref(*RESOURCE_OR_TAG),
        rsc_role=enum_attr(*ROLES),
        loss_policy=enum_attr("stop", "demote", "fence", "freeze"),
    ),
    "resource_set": element(
        ("resource_ref",),
        id=OPT_ID,
        id_ref=ref("resource_set"),
        sequential=BOOL,
        require_all=BOOL,
        ordering=enum_attr("group", "listed"),
        action=enum_attr(*ACTIONS),
        role=enum_attr(*ROLES),
        score=SCORE,
        kind=enum_attr("Optional", "Mandatory", "Serialize"),
    ),
    "resource_ref": element(id=ref(*RESOURCE_OR_TAG, required=True)),
    # -- fencing topology, tags, alerts, ACLs --------------------------------------------
    "fencing-topology": element(("fencing-level",)),
    "fencing-level": element(
        id=ID,
        index=Attr(Kind.INTEGER, required=True),
        devices=REQ_TEXT,
        target=TEXT,
        target_pattern=TEXT,
        target_attribute=TEXT,
        target_value=TEXT,
    ),
    "tags": element(("tag",)),
    "tag": element(("obj_ref",), id=ID),
    "obj_ref": element(id=ref("", required=True)),
    "alerts": element(("alert",)),
    "alert": element(
        ("select", "recipient", *RESOURCE_EXTRA), id=ID, path=REQ_TEXT, description=TEXT
    ),
    "recipient": element(RESOURCE_EXTRA, id=ID, value=REQ_TEXT, description=TEXT),
    "select": element(("select_attributes", "select_fencing", "select_nodes", "select_resources")),
    "select_attributes": element(("attribute",)),
    "attribute": element(id=ID, name=REQ_TEXT),
    "select_fencing": element(),
    "select_nodes": element(),
    "select_resources": element(),
    "acls": element(("acl_target", "acl_group", "acl_role", "acl_user")),
    "acl_target": element(("role",), id=ID, name=TEXT),
    "acl_group": element(("role",), id=ID, name=TEXT),
    "acl_user": element(("role_ref", "read", "write", "deny"), id=ID),
    "acl_role": element(("acl_permission", "read", "write", "deny"), id=ID, description=TEXT),
    "role": element(id=ref("acl_role", required=True)),
    "role_ref": element(id=ref("acl_role", required=True)),
    "acl_permission": element(
        id=ID,
        kind=enum_attr("read", "write", "deny", required=True),
        xpath=TEXT,
        reference=ref(""),
        object_type=TEXT,
        attribute=TEXT,
        description=TEXT,
    ),
    "read": element(id=ID, tag=TEXT, ref=ref(""), xpath=TEXT, attribute=TEXT),
    "write": element(id=ID, tag=TEXT, ref=ref(""), xpath=TEXT, attribute=TEXT),
    "deny": element(id=ID, tag=TEXT, ref=ref(""), xpath=TEXT, attribute=TEXT),
}

for _runtime in ("docker", "rkt", "podman"):
    ELEMENTS[_runtime] = element(
        image=REQ_TEXT,
        replicas=INT,
        replicas_per_host=INT,
        masters=INT,
        promoted_max=INT,
        run_command=TEXT,
        network=TEXT,
        options=TEXT,
    )

#: Attributes of the ``<cib>`` element itself.
CIB_ATTRIBUTES: dict[str, Attr] = {
    "validate-with": TEXT,
    "admin_epoch": Attr(Kind.NONNEGATIVE, required=True),
    "epoch": Attr(Kind.NONNEGATIVE, required=True),
    "num_updates": Attr(Kind.NONNEGATIVE, required=True),
    "crm_feature_set": TEXT,
    "remote-tls-port": Attr(Kind.NONNEGATIVE),
    "remote-clear-port": Attr(Kind.NONNEGATIVE),
    "have-quorum": BOOL,
    "dc-uuid": TEXT,
    "cib-last-written": TEXT,
    "no-quorum-panic": BOOL,
    "update-origin": TEXT,
    "update-client": TEXT,
    "update-user": TEXT,
    "execution-date": TEXT,
}

# Elements whose ``id`` names another element instead of defining one.
REFERENCE_ID_ELEMENTS = frozenset(
    name for name, spec in ELEMENTS.items() if spec.attrs.get("id", ID).kind is Kind.IDREF
)

# -- value syntax ---------------------------------------------------------------------------

_SCORE_WORDS = {"INFINITY", "+INFINITY", "-INFINITY"}
# Pacemaker also maps node-health colours to scores.
_SCORE_COLOURS = {"red", "yellow", "green"}
SCORE_LIMIT = 1_000_000


def parse_score(text: str) -> int | None:
    """A score as Pacemaker reads it, clamped to +/-INFINITY (1,000,000); None if invalid."""
    value = text.strip()
    if value in _SCORE_WORDS:
        return -SCORE_LIMIT if value.startswith("-") else SCORE_LIMIT
    if re.fullmatch(r"[+-]?\d+", value):
        return max(-SCORE_LIMIT, min(SCORE_LIMIT, int(value)))
    return None


def is_score(text: str) -> bool:
    return parse_score(text) is not None or text.strip() in _SCORE_COLOURS


_UNIT_MS = {
    "": 1000, "s": 1000, "sec": 1000, "ms": 1, "msec": 1, "us": 0.001, "usec": 0.001,
    "m": 60_000, "min": 60_000, "h": 3_600_000, "hr": 3_600_000,
}  # fmt: skip
_DURATION = re.compile(r"\s*(\d+)\s*([a-z]*)\s*", re.IGNORECASE)
# Pacemaker also reads the time part without its "T" (P10S) when no minutes are given.
_ISO_DURATION = re.compile(
    r"P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?"
    r"(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?|(?:(\d+)H)?()(?:(\d+(?:\.\d+)?)S)?)"
)


def parse_duration_ms(text: str) -> int | None:
    """An interval or timeout in milliseconds (``10``, ``10s``, ``2min``, ``PT1M``); None if bad."""
    match = _DURATION.fullmatch(text)
    if match:
        unit = match.group(2).lower()
        if unit in _UNIT_MS:
            return int(int(match.group(1)) * _UNIT_MS[unit])
        return None
    iso = _ISO_DURATION.fullmatch(text.strip())
    if iso:
        years, months, weeks, days, t_hours, t_minutes, t_seconds, hours, _, seconds = iso.groups()
        hours, minutes, seconds = t_hours or hours, t_minutes, t_seconds or seconds
        total_days = (
            int(years or 0) * 365 + int(months or 0) * 30 + int(weeks or 0) * 7 + int(days or 0)
        )
        total = ((total_days * 24 + int(hours or 0)) * 60 + int(minutes or 0)) * 60 + float(
            seconds or 0
        )
        return int(total * 1000)
    return None


_TRUE = {"true", "yes", "y", "on", "1"}
_FALSE = {"false", "no", "n", "off", "0"}


def parse_boolean(text: str | None) -> bool | None:
    """A CIB boolean; None when absent or not a boolean."""
    if text is None:
        return None
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return None


# -- renamed spellings ------------------------------------------------------------------------

#: Roles: the 2.x spelling -> the 3.x one. Both are accepted on input.
ROLE_ALIASES = {"Master": "Promoted", "Slave": "Unpromoted"}

#: Cluster options: the older spelling -> the current one. Both are accepted on input.
OPTION_ALIASES = {
    "stonith-enabled": "fencing-enabled",
    "stonith-action": "fencing-action",
    "stonith-timeout": "fencing-timeout",
    "stonith-max-attempts": "fencing-max-attempts",
    "stonith-watchdog-timeout": "fencing-watchdog-timeout",
    "fence-reaction": "fencing-reaction",
    "stop-orphan-resources": "stop-removed-resources",
    "stop-orphan-actions": "cancel-removed-actions",
}


#: The first schema that knows the Promoted/Unpromoted spellings (Pacemaker 2.1.0).
PROMOTED_ROLES_SINCE = (3, 7)


def schema_version(validate_with: str | None) -> tuple[int, int] | None:
    """``pacemaker-3.9`` -> (3, 9); ``pacemaker-next`` sorts after every release; None for
    ``none``, an absent or an unknown name."""
    if validate_with == "pacemaker-next":
        return (999, 0)
    match = re.fullmatch(r"pacemaker-(\d+)\.(\d+)", validate_with or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def role_spelling(role: str, validate_with: str | None) -> str:
    """How to write a role in a CIB of this schema: the 3.x name where the schema knows
    it, else the 2.x one (Master/Slave), so that crm_verify accepts what is written."""
    canonical = canonical_role(role) or role
    version = schema_version(validate_with)
    if version is not None and version < PROMOTED_ROLES_SINCE:
        legacy = {new: old for old, new in ROLE_ALIASES.items()}
        return legacy.get(canonical, canonical)
    return canonical


# -- cluster options (crm_config) ---------------------------------------------------------------

BOOLEAN, DURATION_VALUE, INTEGER, POSITIVE, NONNEGATIVE, PERCENTAGE, SCORE_VALUE, ANY = (
    "boolean", "duration", "integer", "positive integer", "non-negative integer", "percentage",
    "score", "text",
)  # fmt: skip

#: Cluster options Pacemaker knows, and how it checks their values (an invalid value makes
#: crm_verify fail). A tuple lists the allowed words. Older spellings are listed too.
CLUSTER_OPTIONS: dict[str, str | tuple[str, ...]] = {
    "dc-version": ANY, "cluster-infrastructure": ANY, "cluster-name": ANY,
    "have-watchdog": BOOLEAN, "last-lrm-refresh": ANY,
    "dc-deadtime": DURATION_VALUE, "cluster-recheck-interval": DURATION_VALUE,
    "election-timeout": DURATION_VALUE, "shutdown-escalation": DURATION_VALUE,
    "join-integration-timeout": DURATION_VALUE, "join-finalization-timeout": DURATION_VALUE,
    "transition-delay": DURATION_VALUE, "cluster-delay": DURATION_VALUE,
    "no-quorum-policy": ("stop", "freeze", "ignore", "demote", "fence", "suicide"),
    "shutdown-lock": BOOLEAN, "shutdown-lock-limit": DURATION_VALUE,
    "enable-acl": BOOLEAN, "symmetric-cluster": BOOLEAN, "maintenance-mode": BOOLEAN,
    "start-failure-is-fatal": BOOLEAN, "enable-startup-probes": BOOLEAN,
    "fence-remote-without-quorum": BOOLEAN,
    "fencing-enabled": BOOLEAN, "stonith-enabled": BOOLEAN,
    "fencing-action": ("reboot", "off", "poweroff"),
    "stonith-action": ("reboot", "off", "poweroff"),
    "fencing-reaction": ANY, "fence-reaction": ANY,
    "fencing-timeout": DURATION_VALUE, "stonith-timeout": DURATION_VALUE,
    "fencing-watchdog-timeout": ANY, "stonith-watchdog-timeout": ANY,
    "fencing-max-attempts": POSITIVE, "stonith-max-attempts": POSITIVE,
    "concurrent-fencing": BOOLEAN, "startup-fencing": BOOLEAN,
    "priority-fencing-delay": DURATION_VALUE, "node-pending-timeout": DURATION_VALUE,
    "load-threshold": PERCENTAGE, "node-action-limit": INTEGER, "batch-limit": INTEGER,
    "migration-limit": INTEGER, "cluster-ipc-limit": NONNEGATIVE,
    "stop-all-resources": BOOLEAN,
    "stop-removed-resources": BOOLEAN, "stop-orphan-resources": BOOLEAN,
    "cancel-removed-actions": BOOLEAN, "stop-orphan-actions": BOOLEAN,
    "remove-after-stop": BOOLEAN,
    "pe-error-series-max": INTEGER, "pe-warn-series-max": INTEGER,
    "pe-input-series-max": INTEGER,
    "node-health-strategy": ("none", "migrate-on-red", "only-green", "progressive", "custom"),
    "node-health-base": SCORE_VALUE, "node-health-green": SCORE_VALUE,
    "node-health-yellow": SCORE_VALUE, "node-health-red": SCORE_VALUE,
    "placement-strategy": ("default", "utilization", "minimal", "balanced"),
}  # fmt: skip


def option_value_error(name: str, value: str) -> str | None:
    """What is wrong with a cluster option's value (None when fine or not checked)."""
    kind = CLUSTER_OPTIONS.get(name, ANY)
    text = value.strip()
    if isinstance(kind, tuple):
        return None if text in kind else f"one of: {', '.join(kind)}"
    if kind == BOOLEAN:
        return None if parse_boolean(text) is not None else "true or false"
    if kind == DURATION_VALUE:
        return None if parse_duration_ms(text) is not None else "a duration such as 60s or 5min"
    if kind == INTEGER:
        return None if re.fullmatch(r"[+-]?\d+", text) else "an integer"
    if kind == POSITIVE:
        return None if re.fullmatch(r"\+?0*[1-9]\d*", text) else "a positive integer"
    if kind == NONNEGATIVE:
        return None if re.fullmatch(r"\+?\d+", text) else "a non-negative integer"
    if kind == PERCENTAGE:
        return None if re.fullmatch(r"\d+%?", text) else "a percentage such as 80%"
    if kind == SCORE_VALUE:
        return None if parse_score(text) is not None else "a score (an integer or INFINITY)"
    return None


def canonical_role(role: str | None) -> str | None:
    return ROLE_ALIASES.get(role, role) if role is not None else None


def canonical_option(name: str) -> str:
    return OPTION_ALIASES.get(name, name)
