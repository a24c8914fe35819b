"""`hactl alert create|update|delete|config` and `alert recipient add|remove`."""

from __future__ import annotations

import typer

from hactl.core.cli import cib_command as cc
from hactl.core.cli.render import OUTPUT_OPTION, OutputFormat, print_json
from hactl.core.commands import show
from hactl.core.commands import tags_alerts as ta
from hactl.core.commands.grammar import parse_pairs, split_groups

app = typer.Typer(
    no_args_is_help=False, invoke_without_command=True, help="Alert agents and their recipients."
)
recipient_app = typer.Typer(no_args_is_help=True, help="Recipients of an alert.")
app.add_typer(recipient_app, name="recipient")

KEYWORDS = ("options", "meta")


def _split(words: list[str], where: str) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    head, groups = split_groups(words, KEYWORDS)
    settings = parse_pairs(head, where=where, keywords=KEYWORDS)
    options: dict[str, str] = {}
    meta: dict[str, str] = {}
    for keyword, group_words in groups:
        (options if keyword == "options" else meta).update(
            parse_pairs(group_words, where=f"{where} {keyword}")
        )
    return settings, options, meta


def _show(output: OutputFormat) -> None:
    data = cc.read(lambda root: show.config_data(root)["alerts"])
    if output is OutputFormat.json:
        print_json(data)
        return
    if not data:
        print("No alerts defined")
    for alert in data:
        print(f"Alert: {alert['id']} (path={alert['path']})")
        for tag in ("instance_attributes", "meta_attributes"):
            for block in alert.get(tag, []):
                label = "Options" if tag == "instance_attributes" else "Meta options"
                print(f"  {label}: " + " ".join(f"{k}={v}" for k, v in block["nvpairs"].items()))
        for recipient in alert["recipients"]:
            print(f"  Recipient: {recipient['id']} (value={recipient['value']})")


@app.callback()
def alert_root(ctx: typer.Context, output: OutputFormat = OUTPUT_OPTION) -> None:
    if ctx.invoked_subcommand is None:
        _show(output)


@app.command("config")
def config(output: OutputFormat = OUTPUT_OPTION) -> None:
    """Show alerts and their recipients.

    Example: hactl -f cib.xml alert config --output json
    """
    _show(output)


@app.command("create", context_settings=cc.PCS_ARGS)
def create(
    args: list[str] = typer.Argument(
        None,
        metavar="path=PROGRAM [id=ID] [description=TEXT] [options NAME=VALUE…] [meta NAME=VALUE…]",
    ),
) -> None:
    """Add an alert agent (id `alert` unless given).

    Example: hactl -f cib.xml alert create path=/usr/local/bin/alert.sh id=file-alert
    """
    settings, options, meta = _split(cc.words(args), "alert create")
    cc.edit(lambda root, notes: ta.alert_create(root, settings, options, meta))


@app.command("update", context_settings=cc.PCS_ARGS)
def update(
    args: list[str] = typer.Argument(
        None, metavar="ALERT [path=…] [description=…] [options …] [meta …]"
    ),
) -> None:
    """Change an alert.

    Example: hactl -f cib.xml alert update file-alert options timestamp-format=%H:%M
    """
    words = cc.words(args)
    cc.need(words, 1, "hactl alert update ALERT [path=…] [description=…] [options …] [meta …]")
    settings, options, meta = _split(words[1:], f"alert update {words[0]}")
    cc.edit(lambda root, notes: ta.alert_update(root, words[0], settings, options, meta))


@app.command("delete", context_settings=cc.PCS_ARGS)
def delete(args: list[str] = typer.Argument(None, metavar="ALERT…")) -> None:
    """Delete alerts.

    Example: hactl -f cib.xml alert delete file-alert
    """
    words = cc.words(args)
    cc.need(words, 1, "hactl alert delete ALERT…")
    cc.edit(lambda root, notes: ta.alert_delete(root, words))


app.command(
    "remove",
    context_settings=cc.PCS_ARGS,
    help="Same as delete.\n\nExample: hactl -f cib.xml alert remove file-alert",
)(delete)


@recipient_app.command("add", context_settings=cc.PCS_ARGS)
def recipient_add(
    args: list[str] = typer.Argument(
        None, metavar="ALERT value=RECIPIENT [id=ID] [description=…] [options …] [meta …]"
    ),
    force: bool = cc.FORCE,
) -> None:
    """Add a recipient to an alert (id ALERT-recipient unless given).

    Example: hactl -f cib.xml alert recipient add file-alert value=/var/log/cluster-alerts.log
    """
    words = cc.words(args)
    cc.need(words, 2, "hactl alert recipient add ALERT value=RECIPIENT …")
    settings, options, meta = _split(words[1:], f"alert recipient add {words[0]}")
    cc.edit(
        lambda root, notes: ta.recipient_add(root, words[0], settings, options, meta, force=force)
    )


@recipient_app.command("remove", context_settings=cc.PCS_ARGS)
def recipient_remove(args: list[str] = typer.Argument(None, metavar="RECIPIENT_ID…")) -> None:
    """Remove recipients by id.

    Example: hactl -f cib.xml alert recipient remove file-alert-recipient
    """
    words = cc.words(args)
    cc.need(words, 1, "hactl alert recipient remove RECIPIENT_ID…")
    cc.edit(lambda root, notes: ta.recipient_remove(root, words))


recipient_app.command(
    "delete",
    context_settings=cc.PCS_ARGS,
    help="Same as remove.\n\nExample: hactl -f cib.xml alert recipient delete file-alert-recipient",
)(recipient_remove)
