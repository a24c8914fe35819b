"""`hactl stonith create|update|delete|config|enable|disable|level …`: fence devices
and fencing topology in pcs's grammar (use cases: hactl.core.commands)."""

from __future__ import annotations

import typer

from hactl.core.agentmeta import AgentSpec
from hactl.core.cli import cib_command as cc
from hactl.core.cli.render import OUTPUT_OPTION, OutputFormat, print_json
from hactl.core.cli.resource_config import describe, parse_create
from hactl.core.commands import cibtools as ct
from hactl.core.commands import fencing, show
from hactl.core.commands import resource as rc
from hactl.core.commands.cibtools import Element
from hactl.core.commands.grammar import (
    parse_params_ops_meta,
)
from hactl.core.commands.session import Notes
from hactl.core.errors import HactlError


def _device(root: Element, device_id: str, where: str) -> Element:
    element = ct.find_resource(root, device_id, where=where)
    if not ct.is_stonith(element):
        raise HactlError(
            f"{device_id!r} is a resource, not a fence device",
            where=where,
            hint="use the `hactl resource` command for it",
        )
    return element


def register(app: typer.Typer) -> None:
    level_app = typer.Typer(
        no_args_is_help=False,
        invoke_without_command=True,
        help="Fencing topology: levels of devices per node.",
    )
    app.add_typer(level_app, name="level")

    @app.command("create", context_settings=cc.PCS_ARGS)
    def create(
        args: list[str] = typer.Argument(
            None, metavar="NAME AGENT [NAME=VALUE…] [op ACTION NAME=VALUE…]… [meta NAME=VALUE…]"
        ),
        group: str = typer.Option(None, "--group", help="Put the device in this group."),
        disabled: bool = typer.Option(False, "--disabled", help="Create it stopped."),
        no_default_ops: bool = typer.Option(
            False, "--no-default-ops", help="Only a monitor operation (pcs's flag)."
        ),
        force: bool = cc.FORCE,
    ) -> None:
        """Create a fence device; parameters are checked against the fence agent's
        meta-data (Pacemaker's pcmk_* parameters are valid for every agent).

        Example: hactl -f cib.xml stonith create f1 fence_ipmilan ip=10.0.0.11 pcmk_host_list=node1
        """
        request = parse_create(
            cc.words(args, known_options=("--group", "--disabled", "--no-default-ops")),
            group=group,
            before=None,
            after=None,
            disabled=disabled,
            no_default_ops=no_default_ops,
            force=force,
            stonith=True,
        )

        def use_case(root: Element, notes: Notes) -> Element:
            assert request.agent is not None  # a fence device always names its agent
            metadata = cc.agent_metadata(request.agent, force=force, notes=notes)
            return rc.create_resource(root, request, metadata, notes)

        cc.edit(use_case)

    @app.command("description", context_settings=cc.PCS_ARGS)
    def description(
        args: list[str] = typer.Argument(None, metavar="DEVICE [TEXT]"),
        output: OutputFormat = OUTPUT_OPTION,
    ) -> None:
        """Show a fence device's description, or set it (an empty TEXT removes it), as
        pcs's `stonith description`.

        Example: hactl -f cib.xml stonith description fence-n1 "IPMI of node1"
        """
        describe("stonith", args, output)

    @app.command("update", context_settings=cc.PCS_ARGS)
    def update(
        args: list[str] = typer.Argument(
            None, metavar="DEVICE [NAME=VALUE…] [op …] [meta NAME=VALUE…]"
        ),
        force: bool = cc.FORCE,
    ) -> None:
        """Change a fence device's parameters (an empty value removes one).

        Example: hactl -f cib.xml stonith update fence-n1 pcmk_delay_max=30s
        """
        words = cc.words(args)
        cc.need(words, 1, "hactl stonith update DEVICE [NAME=VALUE…] [op …] [meta …]")
        device_id = words[0]
        params, operations, meta = parse_params_ops_meta(words[1:], where=f"stonith {device_id}")

        def use_case(root: Element, notes: Notes) -> Element:
            element = _device(root, device_id, "stonith update")
            spec = AgentSpec(standard="stonith", provider=None, type=str(element.get("type")))
            metadata = (
                cc.agent_metadata(spec, force=force, notes=notes) if params or operations else None
            )
            return rc.update_resource(
                root, device_id, params, operations, meta, metadata, notes, force=force
            )

        cc.edit(use_case)

    @app.command("delete", context_settings=cc.PCS_ARGS)
    def delete(args: list[str] = typer.Argument(None, metavar="DEVICE…")) -> None:
        """Delete fence devices (and drop them from fencing levels).

        Example: hactl -f cib.xml stonith delete fence-n1
        """
        names = cc.words(args)
        cc.need(names, 1, "hactl stonith delete DEVICE…")

        def use_case(root: Element, notes: Notes) -> None:
            for name in names:
                rc.delete_resource(root, name, notes, stonith=True)
                fencing.remove_device_from_levels(root, name)

        cc.edit(use_case)

    app.command(
        "remove",
        context_settings=cc.PCS_ARGS,
        help="Same as delete.\n\nExample: hactl -f cib.xml stonith remove fence-n1",
    )(delete)

    @app.command("config", context_settings=cc.PCS_ARGS)
    def config(
        args: list[str] = typer.Argument(None, metavar="[DEVICE…]"),
        show_secrets: bool = typer.Option(
            False, "--show-secrets", help="Show fence passwords in clear (masked otherwise)."
        ),
        output: OutputFormat = OUTPUT_OPTION,
    ) -> None:
        """Show fence devices and the fencing topology; secret parameters are masked
        unless --show-secrets.

        Example: hactl -f cib.xml stonith config --output json
        """
        names = cc.words(args, known_options=("--show-secrets",))

        def collect(root: Element) -> dict[str, object]:
            for name in names:
                _device(root, name, "stonith config")
            devices = show.resources_data(root, names or None, stonith=True)
            if show_secrets:  # resources_data masks them
                for item in devices:
                    element = ct.find_resource(root, item["id"], where="stonith config")
                    raw = show.nvsets_data(element).get("instance_attributes")
                    if raw is not None:
                        item["instance_attributes"] = raw
            return {"devices": devices, "levels": fencing.level_rows(root)}

        data = cc.read(collect)
        if output is OutputFormat.json:
            print_json(data)
            return
        for item in data["devices"]:  # type: ignore[attr-defined]
            print("\n".join(show.resource_lines(item)))
        if data["levels"] and not names:
            print("Fencing Levels:")
            for level in data["levels"]:  # type: ignore[attr-defined]
                print(f"  Target: {level['target']}  Level {level['index']} - {level['devices']}")

    for verb, enabled in (("enable", True), ("disable", False)):

        def make(verb: str = verb, enabled: bool = enabled) -> None:
            @app.command(
                verb,
                context_settings=cc.PCS_ARGS,
                help=f"{verb.capitalize()} fence devices.\n\n"
                f"Example: hactl -f cib.xml stonith {verb} fence-n1",
            )
            def command(args: list[str] = typer.Argument(None, metavar="DEVICE…")) -> None:
                names = cc.words(args)
                cc.need(names, 1, f"hactl stonith {verb} DEVICE…")

                def use_case(root: Element, notes: Notes) -> None:
                    for name in names:
                        _device(root, name, f"stonith {verb}")
                    rc.enable(root, names, enabled=enabled)

                cc.edit(use_case)

        make()

    def _levels(output: OutputFormat) -> None:
        data = cc.read(fencing.level_rows)
        if output is OutputFormat.json:
            print_json(data)
            return
        if not data:
            print("No fencing levels configured")
        for level in data:
            print(
                f"Target: {level['target']}  Level {level['index']} - {level['devices']} "
                f"(id: {level['id']})"
            )

    app.command(
        "show",
        context_settings=cc.PCS_ARGS,
        help="pcs 0.9's spelling of config (tutorials still use it).\n\n"
        "Example: hactl -f cib.xml stonith show fence-n1",
    )(config)

    @level_app.callback()
    def level_root(ctx: typer.Context, output: OutputFormat = OUTPUT_OPTION) -> None:
        if ctx.invoked_subcommand is None:
            _levels(output)

    @level_app.command("config")
    def level_config(output: OutputFormat = OUTPUT_OPTION) -> None:
        """Show the fencing levels.

        Example: hactl -f cib.xml stonith level config
        """
        _levels(output)

    @level_app.command("add", context_settings=cc.PCS_ARGS)
    def level_add(
        args: list[str] = typer.Argument(None, metavar="LEVEL TARGET DEVICE… [id=ID]"),
        force: bool = cc.FORCE,
    ) -> None:
        """Add a fencing level: TARGET (a node, regexp%PATTERN or attrib%NAME=VALUE) is
        fenced by all DEVICEs of the lowest level that works; id fl-TARGET-LEVEL.

        Example: hactl -f cib.xml stonith level add 1 node1 fence-ipmi-n1
        """
        words = cc.words(args)
        cc.need(words, 3, "hactl stonith level add LEVEL TARGET DEVICE…")
        devices = [w for w in words[2:] if not w.startswith("id=")]
        level_id = next((w.partition("=")[2] for w in words[2:] if w.startswith("id=")), None)
        flat = [d for part in devices for d in part.split(",") if d]
        cc.edit(
            lambda root, notes: fencing.level_add(
                root, words[0], words[1], flat, level_id=level_id, force=force
            )
        )

    @level_app.command("remove", context_settings=cc.PCS_ARGS)
    def level_remove(
        args: list[str] = typer.Argument(None, metavar="LEVEL [TARGET] [DEVICE…]"),
    ) -> None:
        """Remove fencing levels.

        Example: hactl -f cib.xml stonith level remove 1 node1
        """
        words = cc.words(args)
        cc.need(words, 1, "hactl stonith level remove LEVEL [TARGET] [DEVICE…]")
        target = words[1] if len(words) > 1 else None
        cc.edit(lambda root, notes: fencing.level_remove(root, words[0], target, words[2:]))

    level_app.command(
        "delete",
        context_settings=cc.PCS_ARGS,
        help="Same as remove.\n\nExample: hactl -f cib.xml stonith level delete 1 node1",
    )(level_remove)

    @level_app.command("clear", context_settings=cc.PCS_ARGS)
    def level_clear(args: list[str] = typer.Argument(None, metavar="[TARGET]")) -> None:
        """Remove every fencing level (of TARGET only, when given).

        Example: hactl -f cib.xml stonith level clear node1
        """
        words = cc.words(args)
        cc.edit(
            lambda root, notes: fencing.level_remove(root, None, words[0] if words else None, ())
        )
