"""`hactl plugins`: what is installed, where it comes from, and whether it works."""

from __future__ import annotations

import typer

from hactl.core.cli.render import OUTPUT_OPTION, OutputFormat, print_json, print_table
from hactl.core.plugins import NAMESPACES, PluginHost

app = typer.Typer(no_args_is_help=True, help="List the installed plugins and their state.")


@app.command("list")
def list_plugins(
    category: str = typer.Option(
        None, "--category", "-c", help="Only this category: " + ", ".join(NAMESPACES) + "."
    ),
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Import every plugin and show its category, name, distribution, version and status
    (with the reason when it is broken).

    Example: hactl plugins list --category fencing --output json
    """
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
