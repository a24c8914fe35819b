"""Fence-agent metadata: the model of what a fence agent accepts, in fence-agents' format.

Every fence agent, bundled or external, describes itself with the XML that fence-agents
programs print for ``action=metadata``. This module parses that XML into a typed model,
renders it back, checks a device's parameters against it (refusing unknown names, bad
values and missing required ones), maps deprecated parameter names onto their current
ones (``ipaddr`` -> ``ip``, ``passwd`` -> ``password``), and hides secrets from anything
that is shown or logged.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Literal

from lxml import etree
from pydantic import BaseModel, ConfigDict

from hactl.core.errors import PluginError, Problem, ValidationError

ContentType = Literal["string", "integer", "boolean", "second", "select"]
_CONTENT_TYPES: dict[str, ContentType] = {
    "string": "string",
    "integer": "integer",
    "boolean": "boolean",
    "second": "second",
    "select": "select",
}

#: what a masked secret looks like wherever parameters are shown
MASK = "********"

#: parameter names (or parts of names) whose values are secrets
_SECRET_WORDS = ("passwd", "password", "secret", "token", "_kg", "community")

#: prefix of the parameters that belong to the fencer, not to the agent (Pacemaker's)
FENCER_PREFIX = "pcmk_"

_TRUE = {"1", "true", "yes", "on", "y"}
_FALSE = {"0", "false", "no", "off", "n", ""}

#: the power actions every fence agent understands, in fence-agents' vocabulary
POWER_ACTIONS = ("on", "off", "reboot", "status", "list", "monitor")


def is_secret(name: str) -> bool:
    """Whether the value of parameter ``name`` must never be shown or logged."""
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def parse_bool(value: str) -> bool | None:
    """fence-agents' notion of a boolean value; None when ``value`` is not one."""
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return None


def mask_secrets(params: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``params`` with every secret value replaced by MASK."""
    return {name: (MASK if is_secret(name) and value else value) for name, value in params.items()}


def scrub(text: str, params: Mapping[str, str]) -> str:
    """``text`` (an agent's output) with every secret value of ``params`` masked out."""
    for name, value in params.items():
        if is_secret(name) and len(value) >= 3:  # masking "a" would mangle every word
            text = text.replace(value, MASK)
    return text


class FenceParameter(BaseModel):
    """One parameter of a fence agent, as its metadata declares it."""

    model_config = ConfigDict(frozen=True)

    name: str
    type: ContentType = "string"
    required: bool = False
    default: str | None = None
    options: tuple[str, ...] = ()
    shortdesc: str = ""
    getopt: str = ""
    deprecated: bool = False
    obsoletes: str | None = None  # the older name this parameter replaces

    @property
    def secret(self) -> bool:
        return is_secret(self.name)

    def problem_with(self, value: str) -> str | None:
        """Why ``value`` is not acceptable for this parameter, or None when it is."""
        shown = MASK if self.secret else repr(value)  # a secret is never echoed back
        if "\n" in value or "\r" in value:
            return "contains a line break (the stdin protocol is one line per parameter)"
        if self.type == "integer" and not re.fullmatch(r"[+-]?\d+", value.strip()):
            return f"must be an integer, not {shown}"
        if self.type == "second" and not re.fullmatch(r"\d+(\.\d+)?", value.strip()):
            return f"must be a number of seconds, not {shown}"
        if self.type == "boolean" and parse_bool(value) is None:
            return f"must be a boolean (1/0, true/false, yes/no, on/off), not {shown}"
        if self.type == "select" and self.options and value not in self.options:
            return f"must be one of {', '.join(self.options)}, not {shown}"
        return None


class FenceAgentMetadata(BaseModel):
    """What a fence agent is and accepts: fence-agents' metadata as a model."""

    model_config = ConfigDict(frozen=True)

    name: str
    shortdesc: str = ""
    longdesc: str = ""
    parameters: tuple[FenceParameter, ...] = ()
    actions: tuple[str, ...] = ()

    # ------------------------------------------------------------------ lookups

    def parameter(self, name: str) -> FenceParameter | None:
        return next((p for p in self.parameters if p.name == name), None)

    def current_name(self, name: str) -> str:
        """The current name of a parameter: ``ipaddr`` -> ``ip`` when ``ip`` obsoletes it."""
        newer = next((p for p in self.parameters if p.obsoletes == name), None)
        return newer.name if newer is not None else name

    def host_argument(self) -> str | None:
        """The parameter that names the target (``plug``, or the older ``port``), if any."""
        for name in ("plug", "port"):
            if self.parameter(name) is not None:
                return name
        return None

    # ------------------------------------------------------------------ checking

    def problems(self, params: Mapping[str, str], *, where: str | None = None) -> list[Problem]:
        """Everything wrong with a device's parameters; empty when they are acceptable.
        Names starting with ``pcmk_`` belong to the fencer and are not checked here."""
        place = where or self.name
        found: list[Problem] = []
        known = sorted(p.name for p in self.parameters)
        for name, value in params.items():
            if name.startswith(FENCER_PREFIX):
                continue
            spec = self.parameter(name)
            if spec is None:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f"did you mean {close[0]!r}?" if close else "see `hactl stonith describe`"
                found.append(
                    Problem(f"{self.name} has no parameter {name!r}", where=place, hint=hint)
                )
                continue
            trouble = spec.problem_with(value)
            if trouble is not None:
                found.append(Problem(f"parameter {name!r} {trouble}", where=place))
        for old, new in self._aliases():
            if old in params and new in params and params[old] != params[new]:
                found.append(
                    Problem(
                        f"both {old!r} and {new!r} are set, to different values",
                        where=place,
                        hint=f"{old!r} is the deprecated name of {new!r}: keep only {new!r}",
                    )
                )
        for spec in self.parameters:
            if not spec.required or spec.name in ("action", "plug", "port"):
                continue  # the fencer supplies the action and the target
            names = {spec.name} | ({spec.obsoletes} if spec.obsoletes else set())
            if not names & params.keys():
                found.append(
                    Problem(
                        f"{self.name} needs parameter {spec.name!r}",
                        where=place,
                        hint=spec.shortdesc or None,
                    )
                )
        return found

    def check(self, params: Mapping[str, str], *, where: str | None = None) -> None:
        """Raise ValidationError naming every problem of ``params``."""
        found = self.problems(params, where=where)
        if found:
            raise ValidationError(found, subject=f"{self.name} parameters")

    def canonical(self, params: Mapping[str, str]) -> dict[str, str]:
        """``params`` under current names, without the fencer's ``pcmk_*`` ones, with the
        defaults of the parameters not given filled in."""
        result = {spec.name: spec.default for spec in self.parameters if spec.default is not None}
        for name, value in params.items():
            if not name.startswith(FENCER_PREFIX):
                result[self.current_name(name)] = value
        return result

    def _aliases(self) -> Iterable[tuple[str, str]]:
        for spec in self.parameters:
            if spec.obsoletes:
                yield spec.obsoletes, spec.name

    # ------------------------------------------------------------------ XML

    @classmethod
    def from_xml(cls, text: str | bytes, *, source: str) -> FenceAgentMetadata:
        """Parse fence-agents metadata; ``source`` names where it came from, for errors."""
        data = text.encode() if isinstance(text, str) else text
        try:
            root = etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False))
        except etree.XMLSyntaxError as exc:
            raise PluginError(
                f"metadata is not XML: {exc}",
                where=source,
                hint="the agent should print its metadata for `action=metadata`",
            ) from None
        if root.tag != "resource-agent" or not root.get("name"):
            raise PluginError(
                f"metadata root is <{root.tag}>, not <resource-agent name=...>",
                where=source,
                hint="is this a fence-agents program?",
            )
        parameters = []
        for node in root.iterfind("parameters/parameter"):
            content = node.find("content")
            getopt = node.find("getopt")
            kind = content.get("type", "string") if content is not None else "string"
            parameters.append(
                FenceParameter(
                    name=node.get("name", ""),
                    type=_CONTENT_TYPES.get(kind, "string"),
                    required=node.get("required") == "1",
                    default=content.get("default") if content is not None else None,
                    options=tuple(o.get("value", "") for o in node.iterfind("content/option")),
                    shortdesc=(node.findtext("shortdesc") or "").strip(),
                    getopt=getopt.get("mixed", "") if getopt is not None else "",
                    deprecated=node.get("deprecated") == "1",
                    obsoletes=node.get("obsoletes"),
                )
            )
        return cls(
            name=root.get("name", ""),
            shortdesc=root.get("shortdesc", "").strip(),
            longdesc=(root.findtext("longdesc") or "").strip(),
            parameters=tuple(parameters),
            actions=tuple(a.get("name", "") for a in root.iterfind("actions/action")),
        )

    def to_xml(self) -> str:
        """The metadata in fence-agents' format (what ``action=metadata`` prints)."""
        root = etree.Element("resource-agent", name=self.name, shortdesc=self.shortdesc)
        etree.SubElement(root, "longdesc").text = self.longdesc
        etree.SubElement(root, "vendor-url").text = ""
        params = etree.SubElement(root, "parameters")
        for spec in self.parameters:
            attrs = {"name": spec.name, "unique": "0", "required": "1" if spec.required else "0"}
            if spec.deprecated:
                attrs["deprecated"] = "1"
            if spec.obsoletes:
                attrs["obsoletes"] = spec.obsoletes
            node = etree.SubElement(params, "parameter", attrs)
            if spec.getopt:
                etree.SubElement(node, "getopt", mixed=spec.getopt)
            content = etree.SubElement(node, "content", type=spec.type)
            if spec.default is not None:
                content.set("default", spec.default)
            for option in spec.options:
                etree.SubElement(content, "option", value=option)
            etree.SubElement(node, "shortdesc", lang="en").text = spec.shortdesc
        actions = etree.SubElement(root, "actions")
        for action in self.actions:
            etree.SubElement(actions, "action", name=action)
        body = etree.tostring(root, pretty_print=True, encoding="unicode")
        return '<?xml version="1.0" ?>\n' + body
