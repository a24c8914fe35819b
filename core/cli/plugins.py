"""`hactl plugins`: what is installed, where it comes from, and whether it works.

Parsed with argparse rather than typer (see core/cli/main.py): this command must start fast
and keep working when the heavier libraries are what is broken. Its usage errors are
HactlErrors like every other command's: one line, exit code 2.
"""

from __future__ import annotations

import argparse

from hactl.core.cli.arguments import ArgumentParser
from hactl.core.cli.render import OutputFormat, print_json, print_table
from hactl.core.plugins import NAMESPACES, PluginHost

SUMMARY = "List the installed plugins and their state."
LIST_HELP = """Import every plugin and show its category, name, distribution, version and
status (with the reason when it is broken).

Example: hactl plugins list --category fencing --output json"""


def parser() -> argparse.ArgumentParser:
    top = ArgumentParser(prog="hactl plugins", description=SUMMARY)
    commands = top.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    listing = commands.add_parser(
        "list",
        help="Import every plugin and show its state.",
        description=LIST_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    listing.add_argument(
        "--category", "-c", help="Only this category: " + ", ".join(NAMESPACES) + "."
    )
    listing.add_argument(
        "--output",
        "-o",
        choices=[f.value for f in OutputFormat],
        default=OutputFormat.text.value,
        help="Output format: text or json.",
    )
    return top


def run(args: list[str]) -> None:
    top = parser()
    options = top.parse_args(args)
    if options.command is None:
        top.print_help()
        return
    list_plugins(options.category, OutputFormat(options.output))


def list_plugins(category: str | None, output: OutputFormat) -> None:
    host = PluginHost()
    records = host.load(category) if category else host.load_all()
    if output is OutputFormat.json:
        print_json([r.as_dict() for r in records])
        return
    if not records:
        print("no plugins installed")
        return
    print_table(
        [r.as_dict() for r in records],
        ["category", "name", "distribution", "version", "status", "reason"],
    )
