"""`hactl constraint`: location, order, colocation and ticket constraints in pcs's grammar.
Parsing and rendering only; the use cases are in hactl.core.commands.constraint."""

from __future__ import annotations

import typer

from hactl.core.cli import cib_command as cc
from hactl.core.cli.render import OUTPUT_OPTION, OutputFormat, print_json
from hactl.core.commands import constraint as cn
from hactl.core.commands import show
from hactl.core.commands.grammar import (
    did_you_mean,
    is_role,
    is_score,
    parse_pairs,
    split_groups,
    split_pair,
)
from hactl.core.errors import HactlError, UsageError

app = typer.Typer(
    help="Location, order, colocation and ticket constraints (pcs's grammar).",
    invoke_without_command=True,
)

RULE_HELP = """Rule syntax (pcs's): defined|not_defined ATTR
| ATTR eq|ne|lt|gt|lte|gte [string|integer|number|version] VALUE
| date gt|lt DATE | date in_range [DATE] to DATE|duration PART=N…
| date-spec PART=RANGE…; joined with and / or, grouped with ( )."""


def _show(kinds: tuple[str, ...], full: bool, output: OutputFormat) -> None:
    data = [c for c in cc.read(show.constraints_data) if c["kind"] in kinds]
    if output is OutputFormat.json:
        print_json(data)
        return
    lines = show.constraints_text(data, full=full)
    print("\n".join(lines) if lines else "No constraints configured")


FULL = typer.Option(False, "--full", "--all", help="Show constraint ids too.")


@app.callback()
def constraint_root(
    ctx: typer.Context, full: bool = FULL, output: OutputFormat = OUTPUT_OPTION
) -> None:
    """Without a subcommand: show every constraint (as `constraint config`)."""
    if ctx.invoked_subcommand is None:
        _show(("location", "order", "colocation", "ticket"), full, output)


@app.command("config")
def config(full: bool = FULL, output: OutputFormat = OUTPUT_OPTION) -> None:
    """Show every constraint.

    Example: hactl -f cib.xml constraint config --full
    """
    _show(("location", "order", "colocation", "ticket"), full, output)


app.command(
    "show",
    help="pcs 0.9's spelling of config (tutorials still use it).\n\n"
    "Example: hactl -f cib.xml constraint show --full",
)(config)


@app.command("remove", context_settings=cc.PCS_ARGS)
def remove(args: list[str] = typer.Argument(None, metavar="CONSTRAINT_ID…")) -> None:
    """Remove constraints (or location rules) by id (see `constraint config --full`).

    Example: hactl -f cib.xml constraint remove location-web-node1-INFINITY
    """
    ids = cc.words(args)
    cc.need(ids, 1, "hactl constraint remove CONSTRAINT_ID…")
    cc.edit(lambda root, notes: cn.remove_constraints(root, ids))


app.command(
    "delete",
    context_settings=cc.PCS_ARGS,
    help="Same as remove.\n\nExample: hactl -f cib.xml constraint delete order-vip-web-mandatory",
)(remove)


@app.command("ref", context_settings=cc.PCS_ARGS)
def ref(
    args: list[str] = typer.Argument(None, metavar="RESOURCE…"),
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """List the constraints that name each resource.

    Example: hactl -f cib.xml constraint ref web
    """
    names = cc.words(args)
    cc.need(names, 1, "hactl constraint ref RESOURCE…")
    data = cc.read(lambda root: {n: cn.ref(root, n) for n in names})
    if output is OutputFormat.json:
        print_json(data)
        return
    for name, ids in data.items():
        print(f"Resource: {name}")
        print("\n".join(f"  {i}" for i in ids) if ids else "  No matches found")


# ---------------------------------------------------------------------- location


def _node_scores(words: list[str]) -> list[tuple[str, str | None]]:
    result: list[tuple[str, str | None]] = []
    for word in words:
        node, sep, score = word.partition("=")
        result.append((node, score if sep else None))
    return result


@app.command(
    "location",
    context_settings=cc.PCS_ARGS,
    help=f"""Location constraints.

  location RESOURCE prefers NODE[=SCORE]…      (id location-RESOURCE-NODE-SCORE)
  location RESOURCE avoids NODE[=SCORE]…
  location RESOURCE rule [id=ID] [role=ROLE] [score=SCORE|score-attribute=ATTR]
      [resource-discovery=…] EXPRESSION
  location add ID RESOURCE NODE SCORE [resource-discovery=…] [role=…]
  location remove|delete ID…
  location config

{RULE_HELP}

Example: hactl -f cib.xml constraint location web prefers node1=100

Example: hactl -f cib.xml constraint location vip rule score=-INFINITY not_defined pingd
""",
)
def location(
    args: list[str] = typer.Argument(
        None, metavar="RESOURCE prefers|avoids|rule … | add | remove | config"
    ),
    force: bool = cc.FORCE,
    full: bool = FULL,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    words = cc.words(args, known_options=("--full",))
    if not words or words[0] == "config":
        _show(("location",), full, output)
        return
    head = words[0]
    if head == "add":
        cc.need(words, 5, "hactl constraint location add ID RESOURCE NODE SCORE [NAME=VALUE…]")
        add_options = parse_pairs(words[5:], where="constraint location add")
        cc.edit(
            lambda root, notes: cn.location_add(
                root, words[1], words[2], words[3], words[4], add_options, force=force
            )
        )
        return
    if head in ("remove", "delete"):
        cc.need(words, 2, "hactl constraint location remove ID…")
        cc.edit(lambda root, notes: cn.remove_constraints(root, words[1:]))
        return
    cc.need(words, 2, "hactl constraint location RESOURCE prefers|avoids|rule …")
    verb = words[1]
    if verb in ("prefers", "avoids"):
        nodes = _node_scores(words[2:])
        cc.edit(
            lambda root, notes: cn.location_prefers(
                root, head, nodes, avoids=verb == "avoids", force=force
            )
        )
        return
    if verb == "rule":
        options: dict[str, str] = {}
        rest = words[2:]
        while rest and "=" in rest[0] and split_pair(rest[0])[0] in cn.LOCATION_RULE_OPTIONS:
            key, value = split_pair(rest[0])
            options[key] = value
            rest = rest[1:]
        cc.edit(lambda root, notes: cn.location_rule(root, head, options, rest, force=force))
        return
    raise HactlError(
        f"{verb!r} is not a location verb",
        where=f"constraint location {head}",
        hint=did_you_mean(verb, ("prefers", "avoids", "rule")),
    )


# ------------------------------------------------------------------------- order


def _parse_sets(words: list[str], where: str) -> tuple[list[cn.ResourceSet], dict[str, str]]:
    head, groups = split_groups(words, ("set", "setoptions"))
    raw_sets = [head] + [w for k, w in groups if k == "set"]
    options: dict[str, str] = {}
    for keyword, group_words in groups:
        if keyword == "setoptions":
            options.update(parse_pairs(group_words, where=f"{where} setoptions"))
    sets = []
    for raw in raw_sets:
        resources = [w for w in raw if "=" not in w]
        set_options = parse_pairs([w for w in raw if "=" in w], where=where)
        sets.append(cn.ResourceSet(resources, set_options))
    return sets, options


def _set_command(tag: str, words: list[str], force: bool) -> None:
    where = f"constraint {cn.SET_PREFIX[tag]} set"
    sets, options = _parse_sets(words, where)
    cc.edit(lambda root, notes: cn.set_constraint(root, tag, sets, options, force=force))


@app.command("order", context_settings=cc.PCS_ARGS)
def order(
    args: list[str] = typer.Argument(
        None,
        metavar="[ACTION] A then [ACTION] B [kind=…] [symmetrical=…] [id=…] | set … | remove R…",
    ),
    force: bool = cc.FORCE,
    full: bool = FULL,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Order constraints: start (or stop/promote/demote) A before B (id order-A-B-mandatory).
    Sets: order set R1 R2 [action=…] [set R3 R4 …] [setoptions kind=…].

    Example: hactl -f cib.xml constraint order vip then web

    Example: hactl -f cib.xml constraint order promote db-clone then start vip kind=Mandatory
    """
    words = cc.words(args, known_options=("--full",))
    if not words or words[0] == "config":
        _show(("order",), full, output)
        return
    if words[0] == "set":
        _set_command("rsc_order", words[1:], force)
        return
    if words[0] in ("remove", "delete"):
        cc.need(words, 2, "hactl constraint order remove RESOURCE…")
        names = words[1:]
        cc.edit(lambda root, notes: [cn.remove_between(root, "order", n, None) for n in names])
        return
    if words.count("then") != 1:
        raise UsageError(
            "an order constraint is A then B"
            if "then" not in words
            else "'then' may be given once",
            where="constraint order",
            hint="hactl constraint order [ACTION] A then [ACTION] B; "
            "for more resources use `constraint order set`",
        )
    split = words.index("then")
    left, right = words[:split], words[split + 1 :]
    if len(left) not in (1, 2) or not right:
        raise UsageError(
            "expected [ACTION] A then [ACTION] B",
            where="constraint order",
            hint="hactl constraint order start vip then start web",
        )
    request = cn.OrderRequest(first=left[-1], then="")
    if len(left) == 2:
        request.first_action = left[0]
    if (
        len(right) >= 2
        and "=" not in right[1]
        and right[1] not in ("symmetrical", "nonsymmetrical")
    ):
        request.then_action, request.then, options_words = right[0], right[1], right[2:]
    else:
        request.then, options_words = right[0], right[1:]
    for word in options_words:
        if word in ("symmetrical", "nonsymmetrical"):
            request.options["symmetrical"] = "true" if word == "symmetrical" else "false"
        else:
            key, value = split_pair(
                word,
                where="constraint order",
                keywords=("symmetrical", "nonsymmetrical", "kind=", "id="),
            )
            request.options[key] = value
    cc.edit(lambda root, notes: cn.order(root, request, force=force))


# -------------------------------------------------------------------- colocation


colocation_app = typer.Typer(
    no_args_is_help=False,
    invoke_without_command=True,
    help="Colocation constraints: add, set, remove, config.",
)
app.add_typer(colocation_app, name="colocation")


@colocation_app.callback()
def colocation_root(
    ctx: typer.Context, full: bool = FULL, output: OutputFormat = OUTPUT_OPTION
) -> None:
    if ctx.invoked_subcommand is None:
        _show(("colocation",), full, output)


@colocation_app.command("config")
def colocation_config(full: bool = FULL, output: OutputFormat = OUTPUT_OPTION) -> None:
    """Show colocation constraints.

    Example: hactl -f cib.xml constraint colocation config
    """
    _show(("colocation",), full, output)


@colocation_app.command("add", context_settings=cc.PCS_ARGS)
def colocation_add(
    args: list[str] = typer.Argument(
        None, metavar="[ROLE] A with [ROLE] B [SCORE] [influence=…] [id=…]"
    ),
    force: bool = cc.FORCE,
) -> None:
    """Keep A where B is (or away from it, with a negative score); id colocation-A-B-SCORE.

    Example: hactl -f cib.xml constraint colocation add web with vip INFINITY
    """
    words = cc.words(args)
    usage = "hactl constraint colocation add [ROLE] A with [ROLE] B [SCORE] [NAME=VALUE…]"
    cc.need(words, 3, usage)
    if words.count("with") > 1 and not (
        len(words) > 2 and words[2] == "with" and words.count("with") == 2
    ):
        raise UsageError(
            "'with' may be given once",
            where="constraint colocation add",
            hint="for more resources use `hactl constraint colocation set`",
        )
    request = cn.ColocationRequest(resource="", with_resource="")
    if len(words) > 2 and words[2] == "with" and words[1] != "with":
        request.role, request.resource, rest = words[0], words[1], words[3:]
    elif words[1] == "with":
        request.resource, rest = words[0], words[2:]
    else:
        hint = did_you_mean(words[1], ("with",)) if len(words) > 1 else usage
        raise UsageError(
            "expected [ROLE] A with [ROLE] B", where="constraint colocation add", hint=hint
        )
    if not rest:
        raise UsageError(
            "missing the resource after 'with'", where="constraint colocation add", hint=usage
        )
    if len(rest) >= 2 and is_role(rest[0]) and not is_score(rest[1]) and "=" not in rest[1]:
        request.with_role, request.with_resource, rest = rest[0], rest[1], rest[2:]
    else:
        request.with_resource, rest = rest[0], rest[1:]
    for word in rest:
        if "=" in word:
            key, value = split_pair(word)
            request.options[key] = value
        elif request.score is None:
            request.score = word
        else:
            raise UsageError(f"unexpected {word!r}", where="constraint colocation add", hint=usage)
    cc.edit(lambda root, notes: cn.colocation(root, request, force=force))


@colocation_app.command("set", context_settings=cc.PCS_ARGS)
def colocation_set(
    args: list[str] = typer.Argument(
        None, metavar="R… [NAME=VALUE…] [set R… [NAME=VALUE…]]… [setoptions NAME=VALUE…]"
    ),
    force: bool = cc.FORCE,
) -> None:
    """Colocate sets of resources.

    Example: hactl -f cib.xml constraint colocation set db web setoptions score=INFINITY
    """
    _set_command("rsc_colocation", cc.words(args), force)


@colocation_app.command("remove", context_settings=cc.PCS_ARGS)
def colocation_remove(args: list[str] = typer.Argument(None, metavar="A B")) -> None:
    """Remove the colocation constraints of A with B.

    Example: hactl -f cib.xml constraint colocation remove web vip
    """
    words = cc.words(args)
    cc.need(words, 2, "hactl constraint colocation remove A B")
    cc.edit(lambda root, notes: cn.remove_between(root, "colocation", words[0], words[1]))


colocation_app.command(
    "delete",
    context_settings=cc.PCS_ARGS,
    help="Same as remove.\n\nExample: hactl -f cib.xml constraint colocation delete web vip",
)(colocation_remove)


# ------------------------------------------------------------------------ ticket

ticket_app = typer.Typer(
    no_args_is_help=False,
    invoke_without_command=True,
    help="Ticket constraints: add, set, remove, config.",
)
app.add_typer(ticket_app, name="ticket")


@ticket_app.callback()
def ticket_root(
    ctx: typer.Context, full: bool = FULL, output: OutputFormat = OUTPUT_OPTION
) -> None:
    if ctx.invoked_subcommand is None:
        _show(("ticket",), full, output)


@ticket_app.command("config")
def ticket_config(full: bool = FULL, output: OutputFormat = OUTPUT_OPTION) -> None:
    """Show ticket constraints.

    Example: hactl -f cib.xml constraint ticket config
    """
    _show(("ticket",), full, output)


@ticket_app.command("add", context_settings=cc.PCS_ARGS)
def ticket_add(
    args: list[str] = typer.Argument(None, metavar="TICKET [ROLE] RESOURCE [loss-policy=…] [id=…]"),
    force: bool = cc.FORCE,
) -> None:
    """Let RESOURCE run only where TICKET is granted; id ticket-TICKET-RESOURCE.

    Example: hactl -f cib.xml constraint ticket add T1 web loss-policy=stop
    """
    words = cc.words(args)
    cc.need(words, 2, "hactl constraint ticket add TICKET [ROLE] RESOURCE [NAME=VALUE…]")
    ticket_name, rest = words[0], words[1:]
    role = None
    if len(rest) >= 2 and is_role(rest[0]) and "=" not in rest[1]:
        role, rest = rest[0], rest[1:]
    resource_id, options = rest[0], parse_pairs(rest[1:], where="constraint ticket add")
    cc.edit(
        lambda root, notes: cn.ticket(root, ticket_name, resource_id, role, options, force=force)
    )


@ticket_app.command("set", context_settings=cc.PCS_ARGS)
def ticket_set(
    args: list[str] = typer.Argument(
        None, metavar="R… [NAME=VALUE…] [set R…]… setoptions ticket=T [loss-policy=…]"
    ),
    force: bool = cc.FORCE,
) -> None:
    """Bind sets of resources to a ticket.

    Example: hactl -f cib.xml constraint ticket set db web setoptions ticket=T1 loss-policy=fence
    """
    _set_command("rsc_ticket", cc.words(args), force)


@ticket_app.command("remove", context_settings=cc.PCS_ARGS)
def ticket_remove(args: list[str] = typer.Argument(None, metavar="TICKET RESOURCE")) -> None:
    """Remove the ticket constraints binding RESOURCE to TICKET.

    Example: hactl -f cib.xml constraint ticket remove T1 web
    """
    words = cc.words(args)
    cc.need(words, 2, "hactl constraint ticket remove TICKET RESOURCE")

    cc.edit(lambda root, notes: cn.remove_between(root, "ticket", words[1], words[0]))


ticket_app.command(
    "delete",
    context_settings=cc.PCS_ARGS,
    help="Same as remove.\n\nExample: hactl -f cib.xml constraint ticket delete T1 web",
)(ticket_remove)


# -------------------------------------------------------------------------- rules

rule_app = typer.Typer(no_args_is_help=True, help="Rules of rule-based location constraints.")
app.add_typer(rule_app, name="rule")


@rule_app.command(
    "add",
    context_settings=cc.PCS_ARGS,
    help=f"""Add a rule to a location
constraint made with `constraint location R rule …`.

{RULE_HELP}

Example: hactl -f cib.xml constraint rule add location-web score=50 date-spec hours=9-17
""",
)
def rule_add(
    args: list[str] = typer.Argument(
        None,
        metavar="CONSTRAINT_ID [rule-id=ID] [role=ROLE] [score=SCORE|score-attribute=ATTR] EXPR",
    ),
    force: bool = cc.FORCE,
) -> None:
    words = cc.words(args)
    cc.need(words, 2, "hactl constraint rule add CONSTRAINT_ID [options] EXPRESSION")
    options: dict[str, str] = {}
    rest = words[1:]
    while rest and "=" in rest[0] and split_pair(rest[0])[0] in cn.RULE_ADD_OPTIONS:
        key, value = split_pair(rest[0])
        options[key] = value
        rest = rest[1:]
    cc.edit(lambda root, notes: cn.rule_add(root, words[0], options, rest, force=force))


@rule_app.command("remove", context_settings=cc.PCS_ARGS)
def rule_remove(args: list[str] = typer.Argument(None, metavar="RULE_ID…")) -> None:
    """Remove rules by id (a location constraint left without rules goes too).

    Example: hactl -f cib.xml constraint rule remove location-web-rule-1
    """
    ids = cc.words(args)
    cc.need(ids, 1, "hactl constraint rule remove RULE_ID…")
    cc.edit(lambda root, notes: cn.remove_constraints(root, ids))


rule_app.command(
    "delete",
    context_settings=cc.PCS_ARGS,
    help="Same as remove.\n\nExample: hactl -f cib.xml constraint rule delete location-web-rule-1",
)(rule_remove)
