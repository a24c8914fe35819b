"""`hactl resource create|delete|update|meta|op|defaults|group|clone|…`: resource
configuration in pcs's grammar. Parsing and rendering only; the use cases are in
hactl.core.commands.resource."""

from __future__ import annotations

import datetime
import os
from copy import deepcopy

import typer

from hactl.core.cli import cib_command as cc
from hactl.core.cli import resource_wait
from hactl.core.cli.render import OUTPUT_OPTION, OutputFormat, print_json, print_table
from hactl.core.commands import nvsets, show
from hactl.core.commands import resource as rc
from hactl.core.commands.cibtools import Element
from hactl.core.commands.grammar import (
    did_you_mean,
    parse_operations,
    parse_pairs,
    parse_params_ops_meta,
    split_groups,
    split_pair,
)
from hactl.core.commands.session import Notes
from hactl.core.errors import HactlError, UsageError

CREATE_KEYWORDS = ("op", "meta", "clone", "promotable", "master", "bundle")


def _clone_words(words: list[str], where: str) -> tuple[str | None, dict[str, str]]:
    clone_id = None
    if words and "=" not in words[0]:
        clone_id, words = words[0], words[1:]
    return clone_id, parse_pairs(words, where=where)


def parse_create(
    args: list[str],
    *,
    group: str | None,
    before: str | None,
    after: str | None,
    disabled: bool,
    no_default_ops: bool,
    force: bool,
    stonith: bool = False,
    template: str | None = None,
) -> rc.CreateRequest:
    """argv of `resource create` / `stonith create` -> a CreateRequest (with ``template``,
    the agent comes from the template and is not in argv)."""
    noun = "stonith" if stonith else "resource"
    if template is not None:
        cc.need(args, 1, "hactl resource create NAME --template TEMPLATE [NAME=VALUE…] [op …]")
        args = [args[0], "", *args[1:]]
    cc.need(
        args,
        2,
        f"hactl {noun} create NAME {'AGENT' if stonith else 'STANDARD[:PROVIDER]:TYPE'} "
        "[NAME=VALUE…] [op ACTION NAME=VALUE…]… [meta NAME=VALUE…]",
    )
    name, agent_text, rest = args[0], args[1], args[2:]
    spec: cc.AgentSpec | None = None
    if template is None and ("=" in agent_text or agent_text in CREATE_KEYWORDS):
        raise UsageError(
            f"{agent_text!r} is not an agent name",
            where=f"{noun} create {name}",
            hint="write the agent right after the name, e.g. ocf:heartbeat:IPaddr2",
        )
    if template is not None:
        spec = None
    elif stonith:
        if ":" in agent_text and not agent_text.startswith("stonith:"):
            raise HactlError(
                f"{agent_text!r} is not a fence agent",
                where="stonith create",
                hint="give a fence agent name, e.g. fence_ipmilan",
            )
        spec = cc.AgentSpec(
            standard="stonith", provider=None, type=agent_text.removeprefix("stonith:")
        )
    else:
        spec = cc.resolve_agent(agent_text, force=force)
        if spec.standard == "stonith":
            raise HactlError(
                "fence devices are created with `hactl stonith create`", where="resource create"
            )
    where = f"{noun} {name}"
    head, groups = split_groups(rest, CREATE_KEYWORDS)
    request = rc.CreateRequest(
        template=template,
        resource_id=name,
        agent=spec,
        params=parse_pairs(head, where=where, keywords=CREATE_KEYWORDS),
        group=group,
        before=before,
        after=after,
        disabled=disabled,
        no_default_ops=no_default_ops,
        force=force,
    )
    for keyword, words in groups:
        if keyword == "op":
            request.operations += parse_operations(words, where=where)
        elif keyword == "meta":
            for key, value in parse_pairs(words, where=f"{where} meta").items():
                request.meta[key] = value
        elif keyword in ("clone", "promotable", "master"):
            if stonith:
                raise HactlError("fence devices cannot be cloned", where=where)
            if request.clone is not None:
                raise UsageError("clone/promotable given twice", where=where)
            request.clone_id, request.clone = _clone_words(words, f"{where} {keyword}")
            request.promotable = keyword != "clone"
        else:  # bundle B
            if len(words) != 1:
                raise UsageError("write: bundle BUNDLE_ID", where=where)
            request.bundle = words[0]
    return request


def describe(noun: str, args: list[str] | None, output: OutputFormat) -> None:
    """`resource|stonith description R [TEXT]`: set (then print nothing) or show."""
    words = cc.words(args)
    cc.need(words, 1, f"hactl {noun} description ID [TEXT]")
    if len(words) > 2:
        raise UsageError(
            f"the description is one argument, {len(words) - 1} were given",
            where=f"{noun} description",
            hint='quote it: "… text with spaces …"',
        )
    where = f"{noun} description"
    if len(words) == 2:
        cc.edit(lambda root, notes: rc.description(root, words[0], words[1], where=where))
        return
    text = cc.read(lambda root: rc.description(root, words[0], None, where=where))
    if output is OutputFormat.json:
        print_json({"id": words[0], "description": text})
    else:
        print(text)


def register(app: typer.Typer) -> None:
    register_bundle(app)
    register_relocate(app)
    op_app = typer.Typer(no_args_is_help=True, help="Resource operations: add, remove, defaults.")
    template_app = typer.Typer(no_args_is_help=True, help="Resource templates (<template>).")
    app.add_typer(template_app, name="template")
    group_app = typer.Typer(no_args_is_help=True, help="Resource groups: add, remove.")
    app.add_typer(op_app, name="op")
    app.add_typer(group_app, name="group")

    @app.command("create", context_settings=cc.PCS_ARGS)
    def create(
        args: list[str] = typer.Argument(
            None,
            metavar="NAME STANDARD[:PROVIDER]:TYPE [NAME=VALUE…] [op ACTION NAME=VALUE…]… "
            "[meta NAME=VALUE…] [clone [ID] [NAME=VALUE…] | promotable [ID] [NAME=VALUE…]]",
        ),
        group: str = typer.Option(
            None, "--group", help="Put the resource in this group (created if needed)."
        ),
        before: str = typer.Option(None, "--before", help="With --group: before this member."),
        after: str = typer.Option(None, "--after", help="With --group: after this member."),
        disabled: bool = typer.Option(
            False, "--disabled", help="Create it stopped (target-role=Stopped)."
        ),
        no_default_ops: bool = typer.Option(
            False, "--no-default-ops", help="Only a monitor operation, not the agent's defaults."
        ),
        template: str = typer.Option(
            None, "--template", help="Make it from this template (then give no agent)."
        ),
        force: bool = cc.FORCE,
    ) -> None:
        """Create a resource. Parameters are checked against the agent's meta-data; the
        agent's default operations are added (pcs's behaviour). Inside an op, `op_params
        NAME=VALUE…` and `op_meta NAME=VALUE…` (crmsh's words; pcs has only
        OCF_CHECK_LEVEL=N) set the operation's own parameters and meta attributes.

        Example: hactl -f cib.xml resource create vip IPaddr2 ip=192.0.2.10 op monitor interval=10s

        Example: hactl -f cib.xml resource create fs Filesystem device=/dev/sdb1 directory=/srv fstype=xfs op monitor interval=120s op_params depth=0
        """  # noqa: E501
        request = parse_create(
            cc.words(
                args,
                known_options=(
                    "--group",
                    "--before",
                    "--after",
                    "--disabled",
                    "--no-default-ops",
                    "--template",
                ),
            ),
            group=group,
            before=before,
            after=after,
            disabled=disabled,
            no_default_ops=no_default_ops,
            force=force,
            template=template,
        )

        def use_case(root: Element, notes: Notes) -> Element:
            metadata = (
                cc.agent_metadata(request.agent, force=force, notes=notes)
                if request.agent is not None
                else None
            )
            return rc.create_resource(root, request, metadata, notes)

        cc.edit(use_case)

    @template_app.command("create", context_settings=cc.PCS_ARGS)
    def template_create(
        args: list[str] = typer.Argument(
            None, metavar="NAME STANDARD[:PROVIDER]:TYPE [NAME=VALUE…] [op …]… [meta …]"
        ),
        force: bool = cc.FORCE,
    ) -> None:
        """Create a resource template (Pacemaker's <template>, crmsh's rsc_template; pcs has
        none): primitives made with `resource create NAME --template TEMPLATE` take its
        agent, parameters and operations.

        Example: hactl -f cib.xml resource template create web-tpl ocf:heartbeat:apache op monitor interval=30s
        """  # noqa: E501
        request = parse_create(
            cc.words(args),
            group=None,
            before=None,
            after=None,
            disabled=False,
            no_default_ops=True,
            force=force,
        )
        request.is_template = True

        def use_case(root: Element, notes: Notes) -> Element:
            assert request.agent is not None
            metadata = cc.agent_metadata(request.agent, force=force, notes=notes)
            return rc.create_resource(root, request, metadata, notes)

        cc.edit(use_case)

    @app.command("delete", context_settings=cc.PCS_ARGS)
    def delete(
        args: list[str] = typer.Argument(None, metavar="RESOURCE…"), force: bool = cc.FORCE
    ) -> None:
        """Delete resources, with the constraints that name them (and a group or clone
        they leave empty).

        Example: hactl -f cib.xml resource delete vip
        """
        names = cc.words(args)
        cc.need(names, 1, "hactl resource delete RESOURCE…")
        cc.edit(
            lambda root, notes: [rc.delete_resource(root, n, notes, stonith=False) for n in names]
        )

    app.command(
        "remove",
        context_settings=cc.PCS_ARGS,
        help="Same as delete.\n\nExample: hactl -f cib.xml resource remove vip",
    )(delete)

    @app.command("update", context_settings=cc.PCS_ARGS)
    def update(
        args: list[str] = typer.Argument(
            None, metavar="RESOURCE [NAME=VALUE…] [op ACTION NAME=VALUE…]… [meta NAME=VALUE…]"
        ),
        force: bool = cc.FORCE,
    ) -> None:
        """Change a resource's parameters (an empty value removes one), replace the
        operations named, set meta attributes.

        Example: hactl -f cib.xml resource update vip ip=192.168.1.11 op monitor interval=20s
        """
        words = cc.words(args)
        cc.need(words, 1, "hactl resource update RESOURCE [NAME=VALUE…] [op …] [meta …]")
        resource_id = words[0]
        params, operations, meta = parse_params_ops_meta(words[1:], where=f"resource {resource_id}")

        def use_case(root: Element, notes: Notes) -> Element:
            spec = rc.agent_of(root, resource_id, where="resource update")
            metadata = None
            if spec is not None and (params or operations):
                metadata = cc.agent_metadata(spec, force=force, notes=notes)
            return rc.update_resource(
                root, resource_id, params, operations, meta, metadata, notes, force=force
            )

        cc.edit(use_case)

    @app.command("meta", context_settings=cc.PCS_ARGS)
    def meta(args: list[str] = typer.Argument(None, metavar="RESOURCE NAME=VALUE…")) -> None:
        """Set meta attributes of a resource, group or clone (an empty value removes one).

        Example: hactl -f cib.xml resource meta web migration-threshold=3 failure-timeout=300s
        """
        words = cc.words(args)
        cc.need(words, 2, "hactl resource meta RESOURCE NAME=VALUE…")
        values = parse_pairs(words[1:], where=f"resource {words[0]} meta")
        cc.edit(lambda root, notes: rc.meta_resource(root, words[0], values))

    set_app = typer.Typer(
        no_args_is_help=True,
        help="A resource's attribute sets with a score or rule (hactl; pcs has none).",
    )
    app.add_typer(set_app, name="set")

    @set_app.command("create", context_settings=cc.PCS_ARGS)
    def set_create(
        args: list[str] = typer.Argument(
            None,
            metavar="RESOURCE [id=SET_ID] [score=N] options|meta|utilization "
            "NAME=VALUE|@NVPAIR_ID|$ID:NAME=VALUE… [rule EXPRESSION]",
        ),
        force: bool = cc.FORCE,
    ) -> None:
        """Add an attribute set to a resource (a group or clone too): instance attributes
        (options), meta attributes or utilization that apply where the rule holds, read
        before sets of lower score. @NVPAIR_ID refers to another pair; $ID:NAME=VALUE
        gives a pair the id others refer to (crmsh's notation). A primitive's options are
        checked against its agent's meta-data, as `resource update` checks them.

        Example: hactl -f cib.xml resource set create db score=10 options state=/srv/a rule "#cluster-name" eq east
        """  # noqa: E501
        words = cc.words(args)
        usage = (
            "hactl resource set create RESOURCE [id=SET_ID] [score=N] options|meta|utilization "
            "NAME=VALUE… [rule EXPRESSION]"
        )
        cc.need(words, 2, usage)
        request = nvsets.parse_set_create(
            words[1:], rc.RESOURCE_SET_KINDS, where=f"resource set create {words[0]}"
        )

        def use_case(root: Element, notes: Notes) -> Element:
            spec = rc.agent_of(root, words[0], where="resource set create")
            metadata = None
            if spec is not None and request.tag == "instance_attributes":
                metadata = cc.agent_metadata(spec, force=force, notes=notes)
            return rc.resource_set_create(root, words[0], request, metadata, notes, force=force)

        cc.edit(use_case)

    @set_app.command("delete", context_settings=cc.PCS_ARGS)
    def set_delete(args: list[str] = typer.Argument(None, metavar="SET_ID…")) -> None:
        """Delete attribute sets of resources by id.

        Example: hactl -f cib.xml resource set delete db-instance_attributes-1
        """
        set_ids = cc.words(args)
        cc.need(set_ids, 1, "hactl resource set delete SET_ID…")
        cc.edit(lambda root, notes: rc.resource_set_delete(root, set_ids))

    set_app.command(
        "remove",
        context_settings=cc.PCS_ARGS,
        help="Same as delete.\n\nExample: hactl -f cib.xml resource set remove db-options-1",
    )(set_delete)

    @app.command("description", context_settings=cc.PCS_ARGS)
    def description(
        args: list[str] = typer.Argument(None, metavar="RESOURCE [TEXT]"),
        output: OutputFormat = OUTPUT_OPTION,
    ) -> None:
        """Show a resource's description, or set it (an empty TEXT removes it), as pcs's
        `resource description`.

        Example: hactl -f cib.xml resource description web "the public web server"
        """
        describe("resource", args, output)

    @app.command("utilization", context_settings=cc.PCS_ARGS)
    def utilization(
        args: list[str] = typer.Argument(None, metavar="[RESOURCE [NAME=VALUE…]]"),
        output: OutputFormat = OUTPUT_OPTION,
    ) -> None:
        """Show or set a resource's utilization (what placement-strategy counts).

        Example: hactl -f cib.xml resource utilization db cpu=2 memory=4096
        """
        words = cc.words(args)
        if len(words) > 1:
            values = parse_pairs(words[1:], where=f"resource {words[0]} utilization")
            cc.edit(lambda root, notes: rc.utilization(root, words[0], values))
            return
        data = cc.read(lambda root: show.utilization_data(root, words))
        if output is OutputFormat.json:
            print_json(data)
        else:
            for rid, values in data.items():
                print(f"{rid}: " + " ".join(f"{k}={v}" for k, v in values.items()))

    @op_app.command("add", context_settings=cc.PCS_ARGS)
    def op_add(
        args: list[str] = typer.Argument(None, metavar="RESOURCE ACTION [NAME=VALUE…]"),
        force: bool = cc.FORCE,
    ) -> None:
        """Add an operation to a resource.

        Example: hactl -f cib.xml resource op add web monitor interval=60s timeout=30s
        """
        words = cc.words(args)
        cc.need(words, 2, "hactl resource op add RESOURCE ACTION [NAME=VALUE…]")
        parsed = parse_operations(words[1:], where=f"resource {words[0]}")
        if len(parsed) != 1:
            raise UsageError(
                "give one action", hint="hactl resource op add RESOURCE ACTION [NAME=VALUE…]"
            )
        operation = parsed[0]

        def use_case(root: Element, notes: Notes) -> Element:
            spec = rc.agent_of(root, words[0], where="resource op add")
            # the agent's actions make op names checkable; an agent missing here is no error
            metadata = cc.agent_metadata(spec, force=True, notes=Notes()) if spec else None
            return rc.op_add(root, words[0], operation, metadata, force=force)

        cc.edit(use_case)

    @op_app.command("remove", context_settings=cc.PCS_ARGS)
    def op_remove(
        args: list[str] = typer.Argument(
            None, metavar="RESOURCE ACTION [NAME=VALUE…] | OPERATION_ID"
        ),
    ) -> None:
        """Remove operations: all of ACTION on RESOURCE (those matching NAME=VALUE when
        given), or one by its id.

        Example: hactl -f cib.xml resource op remove web monitor interval=30s
        """
        words = cc.words(args)
        cc.need(words, 1, "hactl resource op remove RESOURCE ACTION [NAME=VALUE…] | OPERATION_ID")
        action = words[1] if len(words) > 1 else None
        options = parse_pairs(words[2:], where="resource op remove")
        cc.edit(lambda root, notes: rc.op_remove(root, words[0], action, options))

    op_app.command(
        "delete",
        context_settings=cc.PCS_ARGS,
        help="Same as remove.\n\nExample: hactl -f cib.xml resource op delete web monitor",
    )(op_remove)

    def _defaults(section: str, args: list[str] | None, output: OutputFormat, example: str) -> None:
        words = cc.words(args)
        if words[:1] == ["set"]:
            _defaults_set(section, words[1:])
            return
        if words and words[0] == "update":
            words = words[1:]
            cc.need(words, 1, example)
        if words and words[0] == "config":
            words = words[1:]
        if words:
            values = parse_pairs(words, where=section, keywords=("update", "config"))
            cc.edit(lambda root, notes: rc.set_defaults(root, section, values))
            return
        data = cc.read(lambda root: rc.defaults(root, section))
        if output is OutputFormat.json:
            print_json(data)
        elif not data:
            print("No defaults set")
        else:
            for key, value in data.items():
                print(f"{key}={value}")

    def _defaults_set(section: str, words: list[str]) -> None:
        usage = "set create [id=ID] [score=N] [meta NAME=VALUE…] [rule EXPRESSION] | set delete ID…"
        cc.need(words, 1, usage)
        verb, rest = words[0], words[1:]
        if verb in ("delete", "remove"):
            cc.need(rest, 1, usage)
            cc.edit(lambda root, notes: rc.defaults_set_remove(root, section, rest))
            return
        if verb != "create":
            raise HactlError(
                f"{verb!r} is not a set command",
                where=f"{section} set",
                hint=did_you_mean(verb, ("create", "delete", "remove")),
            )
        head, groups = split_groups(rest, ("meta", "rule"))
        options = parse_pairs(head, where=f"{section} set create", keywords=("meta", "rule"))
        meta: dict[str, str] = {}
        rule_words: list[str] = []
        for keyword, group_words in groups:
            if keyword == "meta":
                meta.update(parse_pairs(group_words, where=f"{section} set create meta"))
            else:
                rule_words += group_words
        cc.edit(
            lambda root, notes: rc.defaults_set_create(root, section, options, meta, rule_words)
        )

    @app.command("defaults", context_settings=cc.PCS_ARGS)
    def defaults(
        args: list[str] = typer.Argument(
            None, metavar="[config | [update] NAME=VALUE… | set create|delete …]"
        ),
        output: OutputFormat = OUTPUT_OPTION,
    ) -> None:
        """Show or set resource defaults (rsc_defaults meta attributes); `set create`
        adds a set of defaults that applies where its rule holds.

        Example: hactl -f cib.xml resource defaults update resource-stickiness=100
        """
        _defaults("rsc_defaults", args, output, "hactl resource defaults update NAME=VALUE…")

    @op_app.command("defaults", context_settings=cc.PCS_ARGS)
    def op_defaults(
        args: list[str] = typer.Argument(
            None, metavar="[config | [update] NAME=VALUE… | set create|delete …]"
        ),
        output: OutputFormat = OUTPUT_OPTION,
    ) -> None:
        """Show or set operation defaults (op_defaults meta attributes); `set create`
        adds a set that applies where its rule holds (e.g. rule op monitor).

        Example: hactl -f cib.xml resource op defaults update timeout=240s
        """
        _defaults("op_defaults", args, output, "hactl resource op defaults update NAME=VALUE…")

    @group_app.command("add", context_settings=cc.PCS_ARGS)
    def group_add(
        args: list[str] = typer.Argument(None, metavar="GROUP RESOURCE…"),
        before: str = typer.Option(None, "--before", help="Insert before this member."),
        after: str = typer.Option(None, "--after", help="Insert after this member."),
    ) -> None:
        """Add resources to a group (created when it does not exist), in the order given.

        Example: hactl -f cib.xml resource group add web-group vip web
        """
        words = cc.words(args, known_options=("--before", "--after"))
        cc.need(words, 2, "hactl resource group add GROUP RESOURCE…")
        cc.edit(
            lambda root, notes: rc.group_add(root, words[0], words[1:], before=before, after=after)
        )

    @group_app.command("remove", context_settings=cc.PCS_ARGS)
    def group_remove(args: list[str] = typer.Argument(None, metavar="GROUP [RESOURCE…]")) -> None:
        """Take resources out of a group (all of them when none are named; an emptied
        group is removed).

        Example: hactl -f cib.xml resource group remove web-group vip
        """
        words = cc.words(args)
        cc.need(words, 1, "hactl resource group remove GROUP [RESOURCE…]")
        cc.edit(lambda root, notes: rc.group_remove(root, words[0], words[1:]))

    group_app.command(
        "delete",
        context_settings=cc.PCS_ARGS,
        help="Same as remove.\n\nExample: hactl -f cib.xml resource group delete web-group",
    )(group_remove)

    @app.command("ungroup", context_settings=cc.PCS_ARGS)
    def ungroup(args: list[str] = typer.Argument(None, metavar="GROUP [RESOURCE…]")) -> None:
        """Dissolve a group, or take the named resources out of it.

        Example: hactl -f cib.xml resource ungroup web-group
        """
        words = cc.words(args)
        cc.need(words, 1, "hactl resource ungroup GROUP [RESOURCE…]")
        cc.edit(lambda root, notes: rc.group_remove(root, words[0], words[1:]))

    def _clone(args: list[str] | None, promotable: bool) -> None:
        words = cc.words(args)
        verb = "promotable" if promotable else "clone"
        cc.need(words, 1, f"hactl resource {verb} RESOURCE [CLONE_ID] [NAME=VALUE…]")
        clone_id, options = _clone_words(words[1:], f"resource {verb} {words[0]}")
        cc.edit(
            lambda root, notes: rc.clone_resource(
                root, words[0], options, clone_id=clone_id, promotable=promotable
            )
        )

    @app.command("clone", context_settings=cc.PCS_ARGS)
    def clone(
        args: list[str] = typer.Argument(None, metavar="RESOURCE [CLONE_ID] [NAME=VALUE…]"),
    ) -> None:
        """Clone a primitive or group (id RESOURCE-clone unless given).

        Example: hactl -f cib.xml resource clone ping clone-max=3 clone-node-max=1
        """
        _clone(args, promotable=False)

    @app.command("promotable", context_settings=cc.PCS_ARGS)
    def promotable(
        args: list[str] = typer.Argument(None, metavar="RESOURCE [CLONE_ID] [NAME=VALUE…]"),
    ) -> None:
        """Make a promotable clone (promotable=true).

        Example: hactl -f cib.xml resource promotable db promoted-max=1 notify=true
        """
        _clone(args, promotable=True)

    @app.command("unclone", context_settings=cc.PCS_ARGS)
    def unclone(args: list[str] = typer.Argument(None, metavar="RESOURCE")) -> None:
        """Remove the clone around a resource (name the clone or what it clones).

        Example: hactl -f cib.xml resource unclone ping-clone
        """
        words = cc.words(args)
        cc.need(words, 1, "hactl resource unclone RESOURCE")
        cc.edit(lambda root, notes: rc.unclone(root, words[0]))

    for verb, enabled, example in (
        ("enable", True, "hactl -f cib.xml resource enable web"),
        ("disable", False, "hactl -f cib.xml resource disable web"),
    ):

        def make(enabled: bool = enabled, verb: str = verb, example: str = example) -> None:
            @app.command(
                verb,
                context_settings=cc.PCS_ARGS,
                help=(
                    "Allow resources to run (remove target-role=Stopped)"
                    if enabled
                    else "Stop resources (target-role=Stopped)"
                )
                + f".\n\nExample: {example}",
            )
            def command(
                args: list[str] = typer.Argument(None, metavar="RESOURCE… [--wait[=SECONDS]]"),
            ) -> None:
                rest, wait = resource_wait.take_wait(args)
                names = cc.words(rest)
                cc.need(names, 1, f"hactl resource {verb} RESOURCE… [--wait[=SECONDS]]")
                cc.edit(lambda root, notes: rc.enable(root, names, enabled=enabled))
                resource_wait.after_change(wait, names, f"{verb} {' '.join(names)}")

        make()

    for verb, managed, example in (
        ("manage", True, "hactl -f cib.xml resource manage web"),
        ("unmanage", False, "hactl -f cib.xml resource unmanage web --monitor"),
    ):

        def make_manage(managed: bool = managed, verb: str = verb, example: str = example) -> None:
            @app.command(
                verb,
                context_settings=cc.PCS_ARGS,
                help=("Let the cluster manage" if managed else "Stop the cluster from managing")
                + f" resources (is-managed).\n\nExample: {example}",
            )
            def command(
                args: list[str] = typer.Argument(None, metavar="RESOURCE…"),
                monitor: bool = typer.Option(
                    False, "--monitor", help="Also enable/disable the monitor operations."
                ),
            ) -> None:
                names = cc.words(args, known_options=("--monitor",))
                cc.need(names, 1, f"hactl resource {verb} RESOURCE…")
                cc.edit(
                    lambda root, notes: rc.manage(root, names, managed=managed, monitor=monitor)
                )

        make_manage()

    def _move(args: list[str] | None, promoted: bool, ban: bool) -> None:
        rest, wait = resource_wait.take_wait(args)
        words = cc.words(rest, known_options=("--promoted", "--master", "--wait"))
        verb = "ban" if ban else "move"
        cc.need(words, 1, f"hactl resource {verb} RESOURCE [NODE] [lifetime=DURATION]")
        resource_id, node, lifetime = words[0], None, None
        for word in words[1:]:
            if word.startswith("lifetime="):
                lifetime = split_pair(word)[1]
            elif node is None:
                node = word
            else:
                raise UsageError(
                    f"unexpected {word!r}",
                    where=f"resource {verb}",
                    hint=f"hactl resource {verb} RESOURCE [NODE] [lifetime=DURATION]",
                )
        now = datetime.datetime.now(datetime.UTC)
        cc.edit(
            lambda root, notes: rc.move(
                root, resource_id, node, lifetime=lifetime, promoted=promoted, now=now, ban=ban
            )
        )
        resource_wait.after_change(wait, [resource_id], f"{verb} {resource_id}")

    @app.command("move", context_settings=cc.PCS_ARGS)
    def move(
        args: list[str] = typer.Argument(None, metavar="RESOURCE NODE [lifetime=DURATION]"),
        promoted: bool = typer.Option(
            False, "--promoted", "--master", help="Move the promoted role."
        ),
    ) -> None:
        """Prefer NODE for a resource (constraint cli-prefer-RESOURCE, INFINITY), for a
        lifetime when given. `resource clear` removes it.

        Example: hactl -f cib.xml resource move web node2 lifetime=PT1H
        """
        _move(args, promoted, ban=False)

    app.command(
        "move-with-constraint",
        context_settings=cc.PCS_ARGS,
        help="Same as move.\n\nExample: hactl -f cib.xml resource move-with-constraint web node2",
    )(move)

    @app.command("ban", context_settings=cc.PCS_ARGS)
    def ban(
        args: list[str] = typer.Argument(None, metavar="RESOURCE NODE [lifetime=DURATION]"),
        promoted: bool = typer.Option(
            False, "--promoted", "--master", help="Ban the promoted role."
        ),
    ) -> None:
        """Keep a resource off NODE (constraint cli-ban-RESOURCE-on-NODE, -INFINITY).

        Example: hactl -f cib.xml resource ban web node1
        """
        _move(args, promoted, ban=True)

    @app.command("clear", context_settings=cc.PCS_ARGS)
    def clear(args: list[str] = typer.Argument(None, metavar="RESOURCE [NODE]")) -> None:
        """Remove the constraints move and ban made (those for NODE only, when given).

        Example: hactl -f cib.xml resource clear web
        """
        rest, wait = resource_wait.take_wait(args)
        words = cc.words(rest)
        cc.need(words, 1, "hactl resource clear RESOURCE [NODE] [--wait[=SECONDS]]")
        removed = cc.edit(
            lambda root, notes: rc.clear(root, words[0], words[1] if len(words) > 1 else None)
        )
        for constraint_id in removed:
            print(f"Removing constraint: {constraint_id}")
        resource_wait.after_change(wait, [words[0]], f"clear {words[0]}")

    @app.command("config", context_settings=cc.PCS_ARGS)
    def config(
        args: list[str] = typer.Argument(None, metavar="[RESOURCE…]"),
        output: OutputFormat = OUTPUT_OPTION,
    ) -> None:
        """Show the configuration of resources (all, or those named).

        Example: hactl -f cib.xml resource config vip --output json
        """
        names = cc.words(args)
        data = cc.read(
            lambda root: show.resources_data(root, names or None, stonith=None if names else False)
        )
        if output is OutputFormat.json:
            print_json(data)
            return
        for item in data:
            print("\n".join(show.resource_lines(item)))

    @app.command("show", context_settings=cc.PCS_ARGS)
    def show_(
        args: list[str] = typer.Argument(None, metavar="[RESOURCE…] [--full]"),
        full: bool = typer.Option(False, "--full", help="Every resource's configuration."),
        output: OutputFormat = OUTPUT_OPTION,
    ) -> None:
        """pcs 0.9's spelling (tutorials still use it): with --full or resources named, as
        `resource config`; alone, as `resource status`.

        Example: hactl -f cib.xml resource show --full
        """
        if full or cc.words(args, known_options=("--full",)):
            config(args, output)
        else:
            status(args, output)

    @app.command("status", context_settings=cc.PCS_ARGS)
    def status(
        args: list[str] = typer.Argument(None, metavar="[RESOURCE…]"),
        output: OutputFormat = OUTPUT_OPTION,
    ) -> None:
        """List the configured resources with their agent and whether they are enabled
        and managed (where they run needs the running cluster).

        Example: hactl -f cib.xml resource status
        """
        names = cc.words(args)
        data = cc.read(lambda root: show.status_rows(root, names))
        if output is OutputFormat.json:
            print_json(data)
        elif not data:
            print("NO resources configured")
        else:
            print_table(data, ["id", "kind", "agent", "target-role", "managed"])


BUNDLE_KEYWORDS = ("container", "network", "port-map", "storage-map", "meta")


def parse_bundle(words: list[str], *, disabled: bool) -> rc.BundleRequest:
    usage = (
        "hactl resource bundle create BUNDLE container TYPE [NAME=VALUE…] [network NAME=VALUE…] "
        "[port-map NAME=VALUE…]… [storage-map NAME=VALUE…]… [meta NAME=VALUE…]"
    )
    cc.need(words, 1, usage)
    bundle_id = words[0]
    where = f"bundle {bundle_id}"
    head, groups = split_groups(words[1:], BUNDLE_KEYWORDS)
    if head:
        raise UsageError(f"unexpected {head[0]!r}", where=where, hint=usage)
    containers = [g for k, g in groups if k == "container"]
    if len(containers) != 1 or not containers[0] or "=" in containers[0][0]:
        raise UsageError("give one container TYPE (docker, podman)", where=where, hint=usage)
    request = rc.BundleRequest(
        bundle_id=bundle_id, container_type=containers[0][0], disabled=disabled
    )
    request.container = parse_pairs(containers[0][1:], where=f"{where} container")
    for keyword, group_words in groups:
        pairs = (
            parse_pairs(group_words, where=f"{where} {keyword}") if keyword != "container" else {}
        )
        if keyword == "network":
            request.network.update(pairs)
        elif keyword == "port-map":
            request.port_maps.append(pairs)
        elif keyword == "storage-map":
            request.storage_maps.append(pairs)
        elif keyword == "meta":
            request.meta.update(pairs)
    return request


def register_bundle(app: typer.Typer) -> None:
    bundle_app = typer.Typer(no_args_is_help=True, help="Bundles: resources run in containers.")
    app.add_typer(bundle_app, name="bundle")

    @bundle_app.command("create", context_settings=cc.PCS_ARGS)
    def bundle_create(
        args: list[str] = typer.Argument(
            None,
            metavar="BUNDLE container TYPE [NAME=VALUE…] [network …] [port-map …]… "
            "[storage-map …]… [meta …]",
        ),
        disabled: bool = typer.Option(False, "--disabled", help="Create it stopped."),
    ) -> None:
        """Create a bundle (containers run by the cluster); put a resource in it with
        `resource create … bundle BUNDLE`.

        Example: hactl -f cib.xml resource bundle create web container docker image=nginx replicas=2 port-map port=80
        """  # noqa: E501
        request = parse_bundle(cc.words(args, known_options=("--disabled",)), disabled=disabled)
        cc.edit(lambda root, notes: rc.create_bundle(root, request))


def register_relocate(app: typer.Typer) -> None:
    """`resource relocate dry-run|run|show|clear` (use cases in hactl.core.commands.relocate)."""
    from hactl.core.commands import relocate

    relocate_app = typer.Typer(
        no_args_is_help=True,
        help="Move resources to the nodes they would choose without stickiness.",
    )
    app.add_typer(relocate_app, name="relocate")

    def no_words(args: list[str] | None, verb: str) -> None:
        words = cc.words(args, known_options=("--output",))
        if words:
            raise UsageError(
                f"unexpected {words[0]!r}",
                where=f"resource relocate {verb}",
                hint=f"usage: hactl resource relocate {verb} (it takes no resources)",
            )

    def planned(names: list[str]) -> list[relocate.Relocation]:
        now = datetime.datetime.now(datetime.UTC)
        return cc.read(lambda root: relocate.plan(root, names, now))

    def print_relocations(relocations: list[relocate.Relocation]) -> None:
        for relocation in relocations:
            print(f"Creating location constraint: {relocation.describe()}")

    @relocate_app.command("dry-run", context_settings=cc.PCS_ARGS)
    def dry_run(
        args: list[str] = typer.Argument(None, metavar="[RESOURCE…]"),
        output: OutputFormat = OUTPUT_OPTION,
    ) -> None:
        """What `relocate run` would do (the constraints it would make), changing nothing.

        Example: hactl -f cib.xml resource relocate dry-run web --output json
        """
        names = cc.words(args, known_options=("--output",))
        relocations = planned(names)
        if output is OutputFormat.json:
            ids = cc.read(lambda root: relocate.add_constraints(deepcopy(root), relocations))
            print_json(
                [
                    {
                        "resource": r.resource,
                        "node": r.node,
                        "role": "Promoted" if r.promoted else None,
                        "instance": r.instance,
                        "constraint_id": constraint_id,
                    }
                    for r, constraint_id in zip(relocations, ids, strict=True)
                ]
            )
        elif relocations:
            print_relocations(relocations)
        else:
            print("Every resource is on its preferred node: nothing to relocate")

    @relocate_app.command("run", context_settings=cc.PCS_ARGS)
    def run(args: list[str] = typer.Argument(None, metavar="[RESOURCE…] [--wait=SECONDS]")) -> None:
        """Move resources (all, or those named) to their preferred nodes, ignoring
        stickiness: pins them there with pcs-relocate-… constraints, waits until the
        running cluster has settled (up to --wait seconds, 60 minutes by default), then
        removes the constraints; stickiness keeps them where they went.

        Example: hactl resource relocate run web --wait=120
        """
        if os.environ.get("CIB_file"):
            raise UsageError(
                "relocate run needs the running cluster, not a CIB file",
                where="resource relocate run",
                hint="`hactl -f FILE resource relocate dry-run` shows what it would do",
            )
        rest, wait = resource_wait.take_wait(args)
        names = cc.words(rest, known_options=("--wait",))
        relocations = planned(names)
        if not relocations:
            print("Every resource is on its preferred node: nothing to relocate")
            return
        print_relocations(relocations)
        try:
            cc.edit(lambda root, notes: relocate.add_constraints(root, relocations))
            print("Waiting for resources to move...")
            try:
                resource_wait.wait_settled(wait or resource_wait.DEFAULT_WAIT_S, "relocating")
            except HactlError as exc:
                raise HactlError(
                    exc.message,
                    where="resource relocate run",
                    hint="the relocation constraints were removed, so what had not moved yet "
                    "stays; `hactl status` shows what runs where",
                ) from None
        finally:
            # pcs removes them whatever happened: left in place they would pin the resources
            for constraint_id in cc.edit(lambda root, notes: relocate.clear(root)):
                print(f"Removing constraint {constraint_id}")
        resource_wait.report(sorted({r.resource for r in relocations}))

    @relocate_app.command("show", context_settings=cc.PCS_ARGS)
    def show_(
        args: list[str] = typer.Argument(None, metavar=""),
        output: OutputFormat = OUTPUT_OPTION,
    ) -> None:
        """Where each resource runs and where it would run ignoring stickiness, and the
        actions that would take it there.

        Example: hactl -f cib.xml resource relocate show
        """
        no_words(args, "show")
        now = datetime.datetime.now(datetime.UTC)
        ws = cc.read(lambda root: relocate.optimal_placement(root, [], now))
        rows = [
            {
                "resource": p.resource,
                "current": ", ".join(p.current) or "Stopped",
                "optimal": p.optimal or "Stopped",
                "moves": "yes" if p.moves else "no",
            }
            for p in relocate.placements(ws)
        ]
        if output is OutputFormat.json:
            print_json(
                [
                    {
                        "resource": p.resource,
                        "current": list(p.current),
                        "optimal": p.optimal,
                        "moves": p.moves,
                    }
                    for p in relocate.placements(ws)
                ]
            )
            return
        print_table(rows, ["resource", "current", "optimal", "moves"])
        from hactl.core.scheduler.output import transition_summary

        print("\nTransition Summary (ignoring stickiness):")
        for line in transition_summary(ws):
            print(line)

    @relocate_app.command("clear", context_settings=cc.PCS_ARGS)
    def clear_(args: list[str] = typer.Argument(None, metavar="")) -> None:
        """Remove the constraints an interrupted `relocate run` left behind.

        Example: hactl -f cib.xml resource relocate clear
        """
        no_words(args, "clear")
        # an unchanged CIB is not pushed (a push would still count a new epoch)
        leftover = cc.read(lambda root: relocate.clear(deepcopy(root)))
        removed = cc.edit(lambda root, notes: relocate.clear(root)) if leftover else []
        for constraint_id in removed:
            print(f"Removing constraint {constraint_id}")
        if not removed:
            print("No relocation constraints to remove")
