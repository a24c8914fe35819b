"""Output helpers shared by every command: text tables, JSON, and the --output option.

typer is imported only when a Typer command asks for OUTPUT_OPTION (`hactl plugins` prints
through this module without paying for typer)."""

from __future__ import annotations

import enum
import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any


class OutputFormat(enum.StrEnum):
    text = "text"
    json = "json"


def __getattr__(name: str) -> Any:
    if name == "OUTPUT_OPTION":  # the --output option of every Typer command
        import typer

        return typer.Option(
            OutputFormat.text, "--output", "-o", help="Output format: text or json."
        )
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, sort_keys=False, default=str)
    sys.stdout.write("\n")


def print_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> None:
    """A plain aligned table; the header is the column names upper-cased."""
    cells = [[str(row.get(col, "")) for col in columns] for row in rows]
    widths = [max([len(col)] + [len(line[i]) for line in cells]) for i, col in enumerate(columns)]
    header = "  ".join(col.upper().ljust(w) for col, w in zip(columns, widths, strict=True))
    print(header.rstrip())
    for line in cells:
        print("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
