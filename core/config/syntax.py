"""corosync.conf syntax: a lossless tree of sections, options, comments and blank lines.

The reader follows Corosync's own parser (exec/coroparse.c) line by line, so that a file
Corosync accepts is accepted here and a file it rejects is rejected with the same verdict:
a line holding ``{`` opens a section (whatever else is on it), then a line holding ``:`` is
an option, then ``}`` closes a section; a line whose first visible character is ``#`` is a
comment (there are no trailing comments: ``token: 3000 # x`` has the value ``3000 # x``).

The tree keeps every line it was read from, so writing back an unmodified tree reproduces
the file byte for byte; nodes added or changed are written in pcs's layout (four spaces per
level, a blank line between sibling sections).

One extension over Corosync: a value wrapped in double quotes is read without them (and
written back with them), so ``cluster_name: "my cluster"`` means ``my cluster``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from hactl.core.errors import ConfigError

INDENT = "    "
# Corosync trims spaces, tabs and non-breaking spaces (0xA0) around names and values.
_BLANKS = " \t\u00a0"


@dataclass
class Comment:
    """A comment or blank line, kept so that writing back reproduces the file."""

    raw: str
    line: int = 0


@dataclass
class Option:
    """``key: value`` inside a section."""

    key: str
    value: str
    line: int = 0
    quoted: bool = False
    raw: str | None = None  # the line as read; None once changed or when created
    indent: str | None = None  # leading blanks as read (kept when the value changes)

    def set(self, value: str) -> None:
        if value != self.value:
            self.value, self.quoted, self.raw = value, False, None


@dataclass
class Section:
    """``name { ... }``; the root section has the name ``""``."""

    name: str
    children: list[Section | Option | Comment] = field(default_factory=list)
    line: int = 0
    raw_open: str | None = None
    raw_close: str | None = None
    end_line: int = 0
    final_newline: bool = True  # root only: whether the file ended with a newline

    # ------------------------------------------------------------------ queries

    def options(self, key: str | None = None) -> list[Option]:
        return [c for c in self.children if isinstance(c, Option) and key in (None, c.key)]

    def sections(self, name: str | None = None) -> list[Section]:
        return [c for c in self.children if isinstance(c, Section) and name in (None, c.name)]

    def option(self, key: str) -> Option | None:
        """The option ``key``; when it is repeated the last one wins, as in Corosync."""
        found = self.options(key)
        return found[-1] if found else None

    def get(self, key: str) -> str | None:
        opt = self.option(key)
        return None if opt is None else opt.value

    def section(self, name: str) -> Section | None:
        found = self.sections(name)
        return found[0] if found else None

    # ------------------------------------------------------------------ edits

    def set(self, key: str, value: str) -> Option:
        """Set ``key`` (changing the last occurrence in place, keeping its position)."""
        opt = self.option(key)
        if opt is not None:
            opt.set(value)
            return opt
        siblings = self.options()
        opt = Option(key, value, indent=siblings[-1].indent if siblings else None)
        # new options go after the existing options, before the first subsection (pcs's order)
        index = next(
            (i for i, c in enumerate(self.children) if isinstance(c, Section)),
            len(self.children),
        )
        # ...and before the blank lines that separate the options from that subsection
        while index > 0:
            before = self.children[index - 1]
            if not isinstance(before, Comment) or before.raw.strip():
                break
            index -= 1
        self.children.insert(index, opt)
        return opt

    def remove(self, key: str) -> bool:
        before = len(self.children)
        self.children = [c for c in self.children if not (isinstance(c, Option) and c.key == key)]
        return len(self.children) != before

    def ensure_section(self, name: str) -> Section:
        found = self.section(name)
        if found is None:
            found = Section(name)
            self.children.append(found)
        return found

    def walk(self) -> Iterator[tuple[str, Option]]:
        """Every option with its dotted path (``quorum.device.votes``)."""
        for child in self.children:
            if isinstance(child, Option):
                yield child.key, child
            elif isinstance(child, Section):
                for path, opt in child.walk():
                    yield f"{child.name}.{path}", opt


# ---------------------------------------------------------------------- reading


def _strip(text: str) -> str:
    return text.strip(_BLANKS)


def parse(text: str, source: str = "corosync.conf") -> Section:
    """Read corosync.conf text into a tree. Errors name the file and line, with Corosync's
    own wording of the problem."""
    root = Section("")
    stack = [root]
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw[:-1] if raw.endswith("\r") else raw
        content = _strip(line)
        where = f"{source}:{number}"
        if not content or content.startswith("#"):
            stack[-1].children.append(Comment(raw, number))
            continue
        if "{" in content:
            name, after = content.split("{", 1)
            name = _strip(name).rstrip(":{" + _BLANKS)
            if not name:
                raise ConfigError(
                    "Missing section name before opening bracket '{'",
                    where=where,
                    hint="write `name {` on one line",
                )
            if _strip(after):
                raise ConfigError(
                    "Extra characters after opening bracket '{'",
                    where=where,
                    hint="put each option on its own line after the `{`",
                )
            section = Section(name, line=number, raw_open=raw)
            stack[-1].children.append(section)
            stack.append(section)
            continue
        if ":" in content:
            key, value = content.split(":", 1)
            key, value = _strip(key), _strip(value)
            if not key:
                raise ConfigError("Key name can't be empty", where=where, hint="write `key: value`")
            quoted = len(value) >= 2 and value[0] == value[-1] == '"'
            indent = line[: len(line) - len(line.lstrip(_BLANKS))]
            stack[-1].children.append(
                Option(key, value[1:-1] if quoted else value, number, quoted, raw, indent)
            )
            continue
        if "}" in content:
            if content != "}":
                raise ConfigError(
                    "Extra characters before or after closing bracket '}'",
                    where=where,
                    hint="a `}` stands alone on its line",
                )
            if len(stack) == 1:
                raise ConfigError(
                    "Unexpected closing brace",
                    where=where,
                    hint="this `}` closes no section; remove it",
                )
            closed = stack.pop()
            closed.raw_close, closed.end_line = raw, number
            continue
        raise ConfigError(
            "Line is not opening or closing section or key value",
            where=where,
            hint="every line is `name {`, `key: value`, `}`, a `#` comment or blank",
        )
    if len(stack) > 1:
        open_section = stack[-1]
        raise ConfigError(
            f"Missing closing brace for section {open_section.name!r}",
            where=f"{source}:{open_section.line}",
            hint="add the `}` that ends this section",
        )
    # text.split leaves one empty string after the final newline: it is not a line
    root.final_newline = text.endswith("\n") or not text
    if root.final_newline and root.children:
        root.children.pop()
    return root


# ---------------------------------------------------------------------- writing


def _render_option(opt: Option, depth: int) -> str:
    if opt.raw is not None:
        return opt.raw
    needs_quotes = opt.quoted or (opt.value != _strip(opt.value))
    value = f'"{opt.value}"' if needs_quotes else opt.value
    indent = opt.indent if opt.indent is not None else INDENT * depth
    return f"{indent}{opt.key}: {value}"


def _render(section: Section, depth: int, out: list[str]) -> None:
    previous: Section | Option | Comment | None = None
    for child in section.children:
        if isinstance(child, Comment):
            out.append(child.raw)
        elif isinstance(child, Option):
            out.append(_render_option(child, depth))
        else:
            # a section created here gets pcs's blank line before it when it follows others
            if (
                child.raw_open is None
                and previous is not None
                and not (isinstance(previous, Comment) and not previous.raw.strip())
            ):
                out.append("")
            out.append(
                child.raw_open if child.raw_open is not None else f"{INDENT * depth}{child.name} {{"
            )
            _render(child, depth + 1, out)
            out.append(child.raw_close if child.raw_close is not None else f"{INDENT * depth}}}")
        previous = child


def render(root: Section) -> str:
    """The text of ``root``: unchanged lines exactly as read, new ones in pcs's layout."""
    out: list[str] = []
    _render(root, 0, out)
    text = "\n".join(out)
    return text + "\n" if out and root.final_newline else text
