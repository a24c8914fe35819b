"""Resource-agent meta-data: the OCF meta-data XML as typed models.

Every agent class answers its ``meta-data`` action with OCF's XML (LSB and systemd classes
synthesise it); :func:`parse_metadata` turns it into :class:`AgentMetadata`, reporting every
problem with the agent's name and the line it is on. The configuration commands use
:meth:`AgentMetadata.check_params` to check a resource's parameters against its agent.

Durations (``20``, ``20s``, ``500ms``, ``2min``, ``PT1M30S``) are read by the CIB's parser,
hactl.core.cib.schema.parse_duration_ms, as everywhere else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from lxml import etree
from pydantic import BaseModel, ConfigDict

from hactl.core.cib.schema import parse_duration_ms
from hactl.core.errors import Problem, UsageError, ValidationError

#: the parameter types whose values are checked; others (string, and Pacemaker's "time",
#: "port", …) are accepted as written
CHECKED_TYPES = ("boolean", "integer", "select")

_TRUE_WORDS = {"true", "on", "yes", "y", "1"}
_FALSE_WORDS = {"false", "off", "no", "n", "0"}


def duration_ms(text: str) -> int:
    """Milliseconds in a Pacemaker duration (the CIB's parser); raises ValueError naming the
    bad text, for callers that report it their own way."""
    value = parse_duration_ms(text)
    if value is None:
        raise ValueError(f"{text!r} is not a duration (e.g. 20s, 500ms, 2min, 1h, PT1M)")
    return value


class MetadataError(ValidationError):
    """An agent's meta-data could not be read; ``problems`` says every reason."""


class Parameter(BaseModel):
    """One instance parameter (an ``OCF_RESKEY_<name>`` variable)."""

    model_config = ConfigDict(frozen=True)

    name: str
    shortdesc: str = ""
    longdesc: str = ""
    type: str = "string"
    default: str | None = None
    options: tuple[str, ...] = ()  # the allowed values of a select
    required: bool = False
    unique_group: str | None = None  # parameters of one group must be unique together
    reloadable: bool = False
    #: a secret (a password): kept out of the recorded secure digest (OCF 1.1 private="1")
    private: bool = False
    advanced: bool = False
    deprecated: bool = False
    replaced_with: tuple[str, ...] = ()

    def value_problem(self, value: str) -> str | None:
        """Why ``value`` is not acceptable for this parameter, or None."""
        if self.type == "integer" and not re.fullmatch(r"[+-]?\d+", value.strip()):
            return f"{value!r} is not an integer"
        if self.type == "boolean" and value.strip().lower() not in _TRUE_WORDS | _FALSE_WORDS:
            return f"{value!r} is not a boolean (true/false, yes/no, on/off, 1/0)"
        if self.type == "select" and self.options and value not in self.options:
            return f"{value!r} is not one of " + ", ".join(self.options)
        return None


class Action(BaseModel):
    """One advertised action with its suggested timeout and interval."""

    model_config = ConfigDict(frozen=True)

    name: str
    timeout_ms: int | None = None
    interval_ms: int = 0
    depth: int = 0
    role: str | None = None
    start_delay_ms: int = 0


class AgentMetadata(BaseModel):
    """What an agent says about itself in its meta-data."""

    model_config = ConfigDict(frozen=True)

    name: str
    version: str = ""
    ocf_version: str = ""
    shortdesc: str = ""
    longdesc: str = ""
    parameters: tuple[Parameter, ...] = ()
    actions: tuple[Action, ...] = ()

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)

    def action(self, name: str, role: str | None = None) -> Action | None:
        """The advertised action ``name`` (for ``role`` when several are given per role)."""
        matches = [a for a in self.actions if a.name == name]
        exact = [a for a in matches if a.role == role]
        candidates = exact or matches
        return candidates[0] if candidates else None

    def has_action(self, name: str) -> bool:
        return any(a.name == name for a in self.actions)

    @property
    def promotable(self) -> bool:
        return self.has_action("promote") and self.has_action("demote")

    def check_params(self, params: Mapping[str, str], *, where: str | None = None) -> list[Problem]:
        """Problems with a resource's instance parameters: unknown names, missing required
        ones, values of the wrong type, deprecated names. An empty list means fine."""
        problems: list[Problem] = []
        for name, value in params.items():
            param = self.parameter(name)
            if param is None:
                known = ", ".join(p.name for p in self.parameters) or "none"
                problems.append(
                    Problem(
                        f"agent {self.name} has no parameter {name!r}",
                        where=where,
                        hint=f"its parameters: {known}",
                    )
                )
                continue
            reason = param.value_problem(value)
            if reason is not None:
                problems.append(
                    Problem(
                        f"parameter {name!r} of agent {self.name}: {reason}",
                        where=where,
                        hint=param.shortdesc or None,
                    )
                )
            if param.deprecated:
                replacement = " or ".join(param.replaced_with)
                problems.append(
                    Problem(
                        f"parameter {name!r} of agent {self.name} is deprecated",
                        where=where,
                        hint=f"use {replacement}" if replacement else None,
                    )
                )
        for param in self.parameters:
            if param.required and param.name not in params:
                problems.append(
                    Problem(
                        f"agent {self.name} requires parameter {param.name!r}",
                        where=where,
                        hint=param.shortdesc or f"add {param.name}=VALUE",
                    )
                )
        return problems


# ------------------------------------------------------------------------------ parsing


def _text(element: etree._Element | None) -> str:
    if element is None:
        return ""
    return " ".join("".join(str(t) for t in element.itertext()).split())


def _english(parent: etree._Element, tag: str) -> str:
    """The description in English when several languages are given, else the first."""
    candidates = parent.findall(tag)
    for candidate in candidates:
        if candidate.get("lang", "en").lower().startswith("en"):
            return _text(candidate)
    return _text(candidates[0]) if candidates else ""


def _flag(element: etree._Element, attribute: str, where: str, problems: list[Problem]) -> bool:
    raw = element.get(attribute)
    if raw is None:
        return False
    word = raw.strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    problems.append(
        Problem(f"{attribute}={raw!r} is not a boolean", where=where, hint="use 0/1 or true/false")
    )
    return False


def _parse_parameter(
    element: etree._Element, source: str, problems: list[Problem]
) -> Parameter | None:
    where = f"{source} line {element.sourceline}"
    name = (element.get("name") or "").strip()
    if not name:
        problems.append(Problem("<parameter> has no name", where=where, hint='add name="..."'))
        return None
    where = f"{where} (parameter {name})"
    content = element.find("content")
    kind = "string"
    default: str | None = None
    options: tuple[str, ...] = ()
    if content is not None:
        kind = (content.get("type") or "string").strip()
        default = content.get("default")
        options = tuple(o.get("value", "") for o in content.findall("option"))
    deprecated_element = element.find("deprecated")
    unique_group = element.get("unique-group")
    if unique_group is None and _flag(element, "unique", where, problems):
        unique_group = name  # the old unique="1": unique on its own
    parameter = Parameter(
        name=name,
        shortdesc=_english(element, "shortdesc"),
        longdesc=_english(element, "longdesc"),
        type=kind,
        default=default,
        options=options,
        required=_flag(element, "required", where, problems),
        unique_group=unique_group,
        reloadable=_flag(element, "reloadable", where, problems),
        private=_flag(element, "private", where, problems),
        advanced=_flag(element, "advanced", where, problems),
        deprecated=deprecated_element is not None,
        replaced_with=tuple(
            r.get("name", "")
            for r in (deprecated_element if deprecated_element is not None else [])
            if r.tag == "replaced-with"
        ),
    )
    # Defaults are not checked against the type: real agents ship "5s" for integers and
    # Pacemaker accepts them; `hactl agent check` reports them as warnings instead.
    return parameter


def _duration_attribute(
    element: etree._Element, attribute: str, where: str, problems: list[Problem]
) -> int | None:
    raw = element.get(attribute)
    if raw is None or raw.strip() == "":
        return None
    value = parse_duration_ms(raw)
    if value is None:
        problems.append(
            Problem(
                f"{attribute}={raw!r} is not a duration",
                where=where,
                hint="e.g. 20s, 500ms, 2min, 1h, PT1M",
            )
        )
    return value


def _parse_action(element: etree._Element, source: str, problems: list[Problem]) -> Action | None:
    where = f"{source} line {element.sourceline}"
    name = (element.get("name") or "").strip()
    if not name:
        problems.append(Problem("<action> has no name", where=where, hint='add name="..."'))
        return None
    where = f"{where} (action {name})"
    depth_raw = (element.get("depth") or "0").strip()
    if not depth_raw.isdigit():
        problems.append(Problem(f"depth={depth_raw!r} is not a number", where=where))
        depth_raw = "0"
    return Action(
        name=name,
        timeout_ms=_duration_attribute(element, "timeout", where, problems),
        interval_ms=_duration_attribute(element, "interval", where, problems) or 0,
        depth=int(depth_raw),
        role=element.get("role"),
        start_delay_ms=_duration_attribute(element, "start-delay", where, problems) or 0,
    )


def parse_metadata(xml: str | bytes, *, source: str = "meta-data") -> AgentMetadata:
    """Parse an agent's meta-data XML. ``source`` names the agent in messages
    (``agent ocf:heartbeat:IPaddr2``); every problem found is reported at once."""
    data = xml.encode() if isinstance(xml, str) else xml
    if not data.strip():
        raise MetadataError(
            [Problem("meta-data is empty", where=source, hint="the agent printed nothing")],
            subject=f"{source} meta-data",
        )
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else "?"
        raise MetadataError(
            [
                Problem(
                    f"meta-data is not well-formed XML: {exc.msg}",
                    where=f"{source} line {line}",
                    hint="the agent must print its XML alone on stdout for `meta-data`",
                )
            ],
            subject=f"{source} meta-data",
        ) from None
    problems: list[Problem] = []
    if root.tag != "resource-agent":
        raise MetadataError(
            [
                Problem(
                    f"root element is <{root.tag}>, not <resource-agent>",
                    where=f"{source} line {root.sourceline}",
                    hint="OCF meta-data starts with <resource-agent name=...>",
                )
            ],
            subject=f"{source} meta-data",
        )
    name = (root.get("name") or "").strip()
    if not name:
        problems.append(
            Problem(
                "<resource-agent> has no name",
                where=f"{source} line {root.sourceline}",
                hint='add name="..."',
            )
        )
    parameters = [
        p
        for element in root.iterfind("parameters/parameter")
        if (p := _parse_parameter(element, source, problems)) is not None
    ]
    seen: set[str] = set()
    for parameter in parameters:
        if parameter.name in seen:
            problems.append(
                Problem(f"parameter {parameter.name!r} is described twice", where=source)
            )
        seen.add(parameter.name)
    actions = [
        a
        for element in root.iterfind("actions/action")
        if (a := _parse_action(element, source, problems)) is not None
    ]
    if problems:
        raise MetadataError(problems, subject=f"{source} meta-data")
    return AgentMetadata(
        name=name,
        version=root.get("version", ""),
        ocf_version=_text(root.find("version")),
        shortdesc=_english(root, "shortdesc"),
        longdesc=_english(root, "longdesc"),
        parameters=tuple(parameters),
        actions=tuple(actions),
    )


# ------------------------------------------------------------------------------ writing

ActionSpec = tuple[str, str | None, str | None]  # name, timeout, interval


def render_metadata(
    name: str,
    *,
    shortdesc: str,
    longdesc: str = "",
    parameters: tuple[Parameter, ...] = (),
    actions: tuple[ActionSpec, ...] = (),
    special_tag: str | None = None,
    special: Mapping[str, str] | None = None,
) -> str:
    """OCF meta-data XML for agents that have none of their own (LSB scripts, systemd
    units), so that every class answers ``meta-data`` the same way. ``special`` holds the
    class's own fields (an init script's header) under ``<special tag=...>``."""
    root = etree.Element("resource-agent", name=name)
    etree.SubElement(root, "version").text = "1.1"
    etree.SubElement(root, "longdesc", lang="en").text = longdesc or shortdesc
    etree.SubElement(root, "shortdesc", lang="en").text = shortdesc
    params_element = etree.SubElement(root, "parameters")
    for param in parameters:
        element = etree.SubElement(params_element, "parameter", name=param.name)
        etree.SubElement(element, "longdesc", lang="en").text = param.longdesc
        etree.SubElement(element, "shortdesc", lang="en").text = param.shortdesc
        content = etree.SubElement(element, "content", type=param.type)
        if param.default is not None:
            content.set("default", param.default)
    actions_element = etree.SubElement(root, "actions")
    for action_name, timeout, interval in actions:
        element = etree.SubElement(actions_element, "action", name=action_name)
        if timeout is not None:
            element.set("timeout", timeout)
        if interval is not None:
            element.set("interval", interval)
    if special_tag is not None:
        special_element = etree.SubElement(root, "special", tag=special_tag)
        for field_name, value in (special or {}).items():
            etree.SubElement(special_element, field_name).text = value
    return etree.tostring(
        root, pretty_print=True, xml_declaration=True, encoding="UTF-8", doctype=_DOCTYPE
    ).decode()


_DOCTYPE = '<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">'


# ------------------------------------------------------------------------------ agent specs

_NAME_PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+@\\-]*$")


def is_agent_name(part: str) -> bool:
    """Whether ``part`` can be a standard, provider or type: a plain name, never a path
    or a pattern."""
    return bool(_NAME_PART.match(part))


class AgentSpec(BaseModel):
    """An agent as users write it: ``ocf:heartbeat:IPaddr2``, ``lsb:atd``, ``systemd:httpd``."""

    model_config = ConfigDict(frozen=True)

    standard: str
    provider: str | None
    type: str

    @classmethod
    def parse(cls, text: str, *, where: str | None = None) -> AgentSpec:
        """Parse ``STANDARD[:PROVIDER]:TYPE``; raises UsageError saying what is wrong."""
        parts = text.strip().split(":")
        if len(parts) == 3:
            standard, provider, kind = parts
        elif len(parts) == 2:
            (standard, kind), provider = parts, None
        else:
            raise UsageError(
                f"{text!r} is not an agent name",
                where=where,
                hint="write STANDARD:PROVIDER:TYPE for OCF (ocf:heartbeat:IPaddr2), "
                "STANDARD:TYPE otherwise (lsb:atd, systemd:httpd)",
            )
        for label, part in (("standard", standard), ("provider", provider), ("type", kind)):
            if part is not None and not is_agent_name(part):
                raise UsageError(
                    f"{text!r}: {label} {part!r} is empty or has characters an agent name "
                    "cannot have",
                    where=where,
                    hint="letters, digits and _ . + @ - only, not starting with . or -",
                )
        if standard == "ocf" and provider is None:
            raise UsageError(
                f"{text!r}: OCF agents need a provider",
                where=where,
                hint=f"e.g. ocf:heartbeat:{kind}; see `hactl resource providers`",
            )
        return cls(standard=standard, provider=provider, type=kind)

    def __str__(self) -> str:
        return ":".join(p for p in (self.standard, self.provider, self.type) if p)
