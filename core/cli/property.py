"""`hactl property set / unset / config`: cluster properties (crm_config)."""

from __future__ import annotations

import typer

from hactl.core.cli import cib_command as cc
from hactl.core.cli.render import OUTPUT_OPTION, OutputFormat, print_json
from hactl.core.commands import nvsets, properties, show
from hactl.core.commands.grammar import parse_pairs

app = typer.Typer(
    no_args_is_help=False, invoke_without_command=True, help="Cluster properties (crm_config)."
)

DEFAULTS = typer.Option(
    False, "--all", "--defaults", help="Every property, with defaults for those not set."
)


def _show(show_all: bool, output: OutputFormat) -> None:
    data = cc.read(properties.with_defaults if show_all else properties.configured)
    if output is OutputFormat.json:
        print_json(data)
        return
    print("Cluster Properties: cib-bootstrap-options")
    for name, value in data.items():
        print(f"  {name}={value}")
    for line in cc.read(show.property_rule_set_lines):
        print(line)


@app.callback()
def property_root(
    ctx: typer.Context, show_all: bool = DEFAULTS, output: OutputFormat = OUTPUT_OPTION
) -> None:
    """Without a subcommand: show the properties set (as `property config`)."""
    if ctx.invoked_subcommand is None:
        _show(show_all, output)


@app.command("config")
def config(show_all: bool = DEFAULTS, output: OutputFormat = OUTPUT_OPTION) -> None:
    """Show the cluster properties set (--all: every one, with defaults).

    Example: hactl -f cib.xml property config --all
    """
    _show(show_all, output)


SET_CREATE_USAGE = "hactl property set create [id=SET_ID] [score=N] NAME=VALUE… [rule EXPRESSION]"


@app.command("set", context_settings=cc.PCS_ARGS)
def set_(
    args: list[str] = typer.Argument(
        None,
        metavar="NAME=VALUE… | create [id=SET_ID] [score=N] NAME=VALUE… [rule EXPRESSION] "
        "| delete SET_ID…",
    ),
    force: bool = cc.FORCE,
) -> None:
    """Set cluster properties (an empty value unsets). Names and values are checked;
    legacy names (stonith-enabled, stop-orphan-resources…) are accepted.

    `set create` (hactl; pcs has none) adds a property set of its own, read before sets of
    lower score and only where its rule holds; `set delete` removes such sets.

    Example: hactl -f cib.xml property set stonith-enabled=false no-quorum-policy=ignore

    Example: hactl -f cib.xml property set create id=night score=10 batch-limit=30 rule date-spec hours=0-6
    """  # noqa: E501
    words = cc.words(args)
    if words[:1] == ["create"]:
        cc.need(words[1:], 1, SET_CREATE_USAGE)
        request = nvsets.parse_set_create(
            words[1:], {}, where="property set create", implicit="cluster_property_set"
        )
        cc.edit(lambda root, notes: properties.property_set_create(root, request, force=force))
        return
    if words[:1] in (["delete"], ["remove"]):
        cc.need(words[1:], 1, "hactl property set delete SET_ID…")
        cc.edit(lambda root, notes: properties.property_set_delete(root, words[1:]))
        return
    values = parse_pairs(words, where="property set", keywords=("create", "delete"))
    cc.edit(lambda root, notes: properties.set_properties(root, values, force=force))


@app.command("unset", context_settings=cc.PCS_ARGS)
def unset(args: list[str] = typer.Argument(None, metavar="NAME…"), force: bool = cc.FORCE) -> None:
    """Remove cluster properties (back to their defaults).

    Example: hactl -f cib.xml property unset no-quorum-policy
    """
    names = cc.words(args)
    cc.edit(lambda root, notes: properties.unset_properties(root, names, force=force))


@app.command("defaults")
def defaults(output: OutputFormat = OUTPUT_OPTION) -> None:
    """Every cluster property with its default value.

    Example: hactl property defaults
    """
    data = {o.name: o.default for o in properties.CLUSTER_OPTIONS if not o.readonly}
    if output is OutputFormat.json:
        print_json(data)
        return
    for name, value in data.items():
        print(f"{name}={value}")
