"""`hactl node attribute|utilization|standby|unstandby|maintenance|unmaintenance`: node
settings kept in the CIB. Transient attributes (`--lifetime reboot`, `--delay`) go the way
attrd_updater's do: to the local daemon's attribute manager, which dampens them."""

from __future__ import annotations

import enum

import typer

from hactl.core.attrd import status, tools
from hactl.core.cli import cib_command as cc
from hactl.core.cli.render import OUTPUT_OPTION, OutputFormat, print_json
from hactl.core.commands import nodes, session
from hactl.core.commands.grammar import parse_pairs
from hactl.core.errors import UsageError

app = typer.Typer(
    no_args_is_help=True, help="Node attributes, utilization, standby and maintenance."
)


class Lifetime(enum.StrEnum):
    forever = "forever"  # the configuration's nodes section (pcs's node attribute)
    reboot = "reboot"  # the status section: transient, gone when the node leaves


def _show(title: str, data: dict[str, dict[str, str]], output: OutputFormat) -> None:
    if output is OutputFormat.json:
        print_json(data)
        return
    print(title)
    for node, values in data.items():
        print(f"  {node}: " + " ".join(f"{k}={v}" for k, v in values.items()))


def _values(tag: str, args: list[str] | None, force: bool, output: OutputFormat) -> None:
    words = cc.words(args, known_options=("--lifetime", "--delay"))
    if len(words) > 1:
        values = parse_pairs(words[1:], where=f"node {words[0]}")
        cc.edit(lambda root, notes: nodes.set_node_values(root, words[0], tag, values, force=force))
        return
    data = cc.read(lambda root: nodes.node_values(root, tag, words))
    _show("Node Attributes:" if tag == "instance_attributes" else "Node Utilization:", data, output)


def _transient_values(args: list[str] | None, delay: str | None, output: OutputFormat) -> None:
    """Set transient attributes as attrd_updater does (one request per attribute, dampened
    by the attribute manager of a running cluster), or list them."""
    words = cc.words(args, known_options=("--lifetime", "--delay"))
    if len(words) <= 1:
        if delay is not None:
            raise UsageError(
                "--delay applies to values being set",
                where="node attribute",
                hint="hactl node attribute NODE NAME=VALUE --delay 5s",
            )
        data = cc.read(lambda root: status.transient_attributes(root, words))
        _show("Node Attributes (lifetime reboot):", data, output)
        return
    node = words[0]
    values = parse_pairs(words[1:], where=f"node {node}")
    delay_s = tools.parse_delay(delay, where="node attribute --delay") if delay else None
    handle = session.current_handle()
    session.read(handle, lambda root: status.node_id(root, node))  # an unknown node: refused
    for name, value in values.items():
        request = tools.AttributeRequest(
            "update" if value else "delete", name, node, True, value or None, delay_s=delay_s
        )
        tools.run_attrd_updater(request, handle)


@app.command("attribute", context_settings=cc.PCS_ARGS)
def attribute(
    args: list[str] = typer.Argument(None, metavar="[NODE [NAME=VALUE…]]"),
    force: bool = cc.FORCE,
    lifetime: Lifetime = typer.Option(
        None,
        "--lifetime",
        help="forever: the configuration (the default); reboot: transient, in the status "
        "section, gone when the node leaves the cluster.",
    ),
    delay: str = typer.Option(
        None,
        "--delay",
        help="Dampening of a transient value (5s, 500ms): written once the delay passed "
        "since its first unwritten change, later changes within it replacing it. Implies "
        "--lifetime reboot.",
    ),
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Show node attributes, or set them on NODE (an empty value removes one; --force adds
    a node the CIB does not list yet). --lifetime reboot shows or sets transient ones.

    Example: hactl -f cib.xml node attribute node1 rack=r1
    Example: hactl node attribute node1 pingd=1000 --delay 5s
    """
    if delay is not None and lifetime is Lifetime.forever:
        raise UsageError(
            "--delay dampens transient attributes, not configured ones",
            where="node attribute",
            hint="drop --lifetime forever (--delay implies --lifetime reboot)",
        )
    if delay is not None or lifetime is Lifetime.reboot:
        _transient_values(args, delay, output)
        return
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


set_app = typer.Typer(
    no_args_is_help=True, help="A node's attribute sets with a score or rule (hactl; pcs has none)."
)
app.add_typer(set_app, name="set")


@set_app.command("create", context_settings=cc.PCS_ARGS)
def set_create(
    args: list[str] = typer.Argument(
        None,
        metavar="NODE [id=SET_ID] [score=N] attribute|utilization NAME=VALUE… [rule EXPRESSION]",
    ),
    force: bool = cc.FORCE,
) -> None:
    """Add an attribute set to a node: attributes or utilization that hold only where the
    rule does (e.g. from a date on), read before sets of lower score (--force adds a node
    the CIB does not list yet).

    Example: hactl -f cib.xml node set create node1 attribute rack=r2 rule date gt 2030-01-01
    """
    words = cc.words(args)
    cc.need(
        words,
        2,
        "hactl node set create NODE [id=SET_ID] [score=N] attribute|utilization NAME=VALUE… "
        "[rule EXPRESSION]",
    )
    from hactl.core.commands import nvsets

    request = nvsets.parse_set_create(
        words[1:], nodes.NODE_SET_KINDS, where=f"node set create {words[0]}"
    )
    cc.edit(lambda root, notes: nodes.node_set_create(root, words[0], request, force=force))


@set_app.command("delete", context_settings=cc.PCS_ARGS)
def set_delete(args: list[str] = typer.Argument(None, metavar="SET_ID…")) -> None:
    """Delete attribute sets of nodes by id.

    Example: hactl -f cib.xml node set delete node1-later
    """
    set_ids = cc.words(args)
    cc.need(set_ids, 1, "hactl node set delete SET_ID…")
    cc.edit(lambda root, notes: nodes.node_set_delete(root, set_ids))
