"""`hactl tag create|delete|update|config`: named lists of resources."""

from __future__ import annotations

import typer

from hactl.core.cli import cib_command as cc
from hactl.core.cli.render import OUTPUT_OPTION, OutputFormat, print_json
from hactl.core.commands import show
from hactl.core.commands import tags_alerts as ta
from hactl.core.commands.grammar import split_groups

app = typer.Typer(
    no_args_is_help=False, invoke_without_command=True, help="Tags: named lists of resources."
)


def _show(names: list[str], output: OutputFormat) -> None:
    data = cc.read(lambda root: show.tag_data(root, names))
    if output is OutputFormat.json:
        print_json(data)
    elif not data:
        print("No tags defined")
    else:
        for tag_id, members in data.items():
            print(tag_id)
            print("\n".join(f"  {m}" for m in members))


@app.callback()
def tag_root(ctx: typer.Context, output: OutputFormat = OUTPUT_OPTION) -> None:
    if ctx.invoked_subcommand is None:
        _show([], output)


@app.command("config", context_settings=cc.PCS_ARGS)
def config(
    args: list[str] = typer.Argument(None, metavar="[TAG…]"), output: OutputFormat = OUTPUT_OPTION
) -> None:
    """Show tags and their resources.

    Example: hactl -f cib.xml tag config
    """
    _show(cc.words(args), output)


@app.command("create", context_settings=cc.PCS_ARGS)
def create(args: list[str] = typer.Argument(None, metavar="TAG RESOURCE…")) -> None:
    """Create a tag naming resources (constraints may then name the tag).

    Example: hactl -f cib.xml tag create web-stack vip web
    """
    words = cc.words(args)
    cc.need(words, 2, "hactl tag create TAG RESOURCE…")
    cc.edit(lambda root, notes: ta.tag_create(root, words[0], words[1:]))


@app.command("delete", context_settings=cc.PCS_ARGS)
def delete(args: list[str] = typer.Argument(None, metavar="TAG…")) -> None:
    """Delete tags.

    Example: hactl -f cib.xml tag delete web-stack
    """
    words = cc.words(args)
    cc.need(words, 1, "hactl tag delete TAG…")
    cc.edit(lambda root, notes: ta.tag_delete(root, words))


app.command(
    "remove",
    context_settings=cc.PCS_ARGS,
    help="Same as delete.\n\nExample: hactl -f cib.xml tag remove web-stack",
)(delete)


@app.command("update", context_settings=cc.PCS_ARGS)
def update(
    args: list[str] = typer.Argument(None, metavar="TAG [add RESOURCE…] [remove RESOURCE…]"),
) -> None:
    """Add resources to a tag or remove them.

    Example: hactl -f cib.xml tag update web-stack add db remove vip
    """
    words = cc.words(args)
    cc.need(words, 2, "hactl tag update TAG [add RESOURCE…] [remove RESOURCE…]")
    head, groups = split_groups(words[1:], ("add", "remove"))
    if head:
        cc.need([], 1, "hactl tag update TAG [add RESOURCE…] [remove RESOURCE…]")
    add = [w for k, ws in groups if k == "add" for w in ws]
    remove = [w for k, ws in groups if k == "remove" for w in ws]
    cc.edit(lambda root, notes: ta.tag_update(root, words[0], add, remove))
