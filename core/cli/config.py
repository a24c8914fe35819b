"""`hactl config`: the whole configuration, as text or JSON."""

from __future__ import annotations

import typer

from hactl.core.cli import cib_command as cc
from hactl.core.cli.render import OUTPUT_OPTION, OutputFormat, print_json
from hactl.core.commands import show

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
