"""`hactl <group> --help` documents each configuration command, with an example."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
import typer

OWN_NOUNS = ("constraint", "property", "node", "config", "tag", "alert")
#: configuration commands this area adds to nouns shared with other areas
SHARED = {
    "resource": (
        "create",
        "delete",
        "remove",
        "update",
        "meta",
        "utilization",
        "op",
        "defaults",
        "group",
        "ungroup",
        "clone",
        "promotable",
        "unclone",
        "enable",
        "disable",
        "manage",
        "unmanage",
        "move",
        "move-with-constraint",
        "ban",
        "clear",
        "config",
        "status",
        "set",
        "description",
        "template",
        "bundle",
        "show",
    ),
    "stonith": (
        "create",
        "update",
        "delete",
        "remove",
        "config",
        "enable",
        "disable",
        "level",
        "description",
        "show",
    ),
    "cluster": ("cib", "cib-push", "verify"),
}


def _leaves(command: Any, path: str) -> list[tuple[str, Any]]:
    if hasattr(command, "commands"):
        found = []
        for name, sub in command.commands.items():
            found += _leaves(sub, f"{path} {name}")
        return found
    return [(path, command)]


def _commands() -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for noun in (*OWN_NOUNS, *SHARED):
        group = typer.main.get_command(importlib.import_module(f"hactl.core.cli.{noun}").app)
        assert hasattr(group, "commands")
        for name, command in group.commands.items():
            if noun in SHARED and name not in SHARED[noun]:
                continue
            found += _leaves(command, f"{noun} {name}")
    return found


@pytest.mark.parametrize(
    ("path", "command"), _commands(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_command_has_help_with_an_example(path: str, command: Any) -> None:
    text = command.help or ""
    assert text.strip(), f"hactl {path} has no help"
    assert "Example: hactl" in text, f"hactl {path} --help shows no example"


def test_group_help_lists_the_commands(hactl) -> None:
    result = hactl("constraint --help")
    assert result.code == 0
    for word in ("location", "order", "colocation", "ticket", "remove", "ref", "rule"):
        assert word in result.out
