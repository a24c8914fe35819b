"""`hactl node attribute|utilization|standby|unstandby|maintenance|unmaintenance`: node
settings kept in the CIB (their live effects come with the runtime)."""

from __future__ import annotations

import typer

from hactl.core.cli import cib_command as cc
from hactl.core.cli.render import OUTPUT_OPTION, OutputFormat, print_json
from hactl.core.commands import nodes
from hactl.core.commands.grammar import parse_pairs

app = typer.Typer(
    no_args_is_help=True, help="Node attributes, utilization, standby and maintenance."
)


def _values(tag: str, args: list[str] | None, force: bool, output: OutputFormat) -> None:
    words = cc.words(args)
    if len(words) > 1:
        values = parse_pairs(words[1:], where=f"node {words[0]}")
        cc.edit(lambda root, notes: nodes.set_node_values(root, words[0], tag, values, force=force))
        return
    data = cc.read(lambda root: nodes.node_values(root, tag, words))
    if output is OutputFormat.json:
        print_json(data)
        return
    print("Node Attributes:" if tag == "instance_attributes" else "Node Utilization:")
    for node, values in data.items():
        print(f"  {node}: " + " ".join(f"{k}={v}" for k, v in values.items()))


@app.command("attribute", context_settings=cc.PCS_ARGS)
def attribute(
    args: list[str] = typer.Argument(None, metavar="[NODE [NAME=VALUE…]]"),
    force: bool = cc.FORCE,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Show node attributes, or set them on NODE (an empty value removes one; --force adds
    a node the CIB does not list yet).

    Example: hactl -f cib.xml node attribute node1 rack=r1
    """
    _values("instance_attributes", args, force, output)


@app.command("utilization", context_settings=cc.PCS_ARGS)
def utilization(
    args: list[str] = typer.Argument(None, metavar="[NODE [NAME=VALUE…]]"),
    force: bool = cc.FORCE,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Show node utilization (capacities), or set it on NODE.

    Example: hactl -f cib.xml node utilization node1 cpu=8 memory=16384
    """
    _values("utilization", args, force, output)


for _verb, _attribute, _on in (
    ("standby", "standby", True),
    ("unstandby", "standby", False),
    ("maintenance", "maintenance", True),
    ("unmaintenance", "maintenance", False),
):

    def _make(verb: str = _verb, attribute: str = _attribute, on: bool = _on) -> None:
        @app.command(
            verb,
            context_settings=cc.PCS_ARGS,
            help=f"{'Put' if on else 'Take'} nodes {'in' if on else 'out of'} {attribute} mode "
            f"(node attribute {attribute}).\n\nExample: hactl -f cib.xml node {verb} node1",
        )
        def command(
            args: list[str] = typer.Argument(None, metavar="NODE… | --all"),
            all_nodes: bool = typer.Option(False, "--all", help="Every node in the CIB."),
            force: bool = cc.FORCE,
        ) -> None:
            names = cc.words(args, known_options=("--all",))
            cc.edit(
                lambda root, notes: nodes.set_mode(
                    root, names, attribute, on, all_nodes=all_nodes, force=force
                )
            )

    _make()
