"""`hactl config`: the whole configuration, as text or JSON."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import typer

from hactl.core.cib.store import atomic_write
from hactl.core.cli import cib_command as cc
from hactl.core.cli.render import OUTPUT_OPTION, OutputFormat, print_json
from hactl.core.commands import show
from hactl.core.commands.export import export_commands

app = typer.Typer(
    no_args_is_help=False,
    invoke_without_command=True,
    help="The whole configuration; export as hactl commands.",
)


def _show(output: OutputFormat) -> None:
    if output is OutputFormat.json:
        print_json(cc.read(show.config_data))
        return
    print("\n".join(cc.read(show.config_text)))


@app.callback()
def config_root(ctx: typer.Context, output: OutputFormat = OUTPUT_OPTION) -> None:
    """Without a subcommand: everything configured (as `config show`)."""
    if ctx.invoked_subcommand is None:
        _show(output)


@app.command("show")
def show_config(output: OutputFormat = OUTPUT_OPTION) -> None:
    """Show everything configured: resources, fence devices, constraints, defaults,
    alerts, tags, node attributes, cluster properties.

    Example: hactl -f cib.xml config show --output json
    """
    _show(output)


export_app = typer.Typer(no_args_is_help=True, help="Export the configuration.")
app.add_typer(export_app, name="export")


@export_app.command("pcs-commands")
def export_pcs_commands(
    output_file: str = typer.Option(None, "--output-file", help="Write the commands here."),
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Print the hactl commands (pcs's grammar) that recreate this configuration on an
    empty CIB; replay them with `-f NEWFILE` to copy a configuration. With --output json:
    one argv list per command.

    Example: hactl -f cib.xml config export pcs-commands > rebuild.sh
    """
    commands = cc.read(export_commands)
    if output is OutputFormat.json:
        text = json.dumps([["hactl", *words] for words in commands], indent=2) + "\n"
    else:
        text = "".join(shlex.join(["hactl", *words]) + "\n" for words in commands)
    if output_file:
        atomic_write(Path(output_file), text.encode())
    else:
        sys.stdout.write(text)
