"""`hactl cluster cib / cib-push / verify`: the CIB as a whole."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from hactl.core.cib.document import CibDocument, serialize_element
from hactl.core.cib.store import atomic_write
from hactl.core.cli import cib_command as cc
from hactl.core.cli.render import OUTPUT_OPTION, OutputFormat, print_json
from hactl.core.commands import cluster
from hactl.core.commands.grammar import split_pair
from hactl.core.commands.session import current_handle
from hactl.core.errors import HactlError


def register(app: typer.Typer) -> None:
    @app.command("cib", context_settings=cc.PCS_ARGS)
    def cib(
        args: list[str] = typer.Argument(None, metavar="[FILE]"),
        config_only: bool = typer.Option(False, "--config", help="Only the configuration section."),
    ) -> None:
        """Print the CIB's XML, or save it to FILE (atomically).

        Example: hactl -f cib.xml cluster cib backup.xml
        """
        words = cc.words(args, known_options=("--config",))
        root = cc.read(lambda r: r)
        element = root.find("configuration") if config_only else root
        assert element is not None
        data = serialize_element(element)
        if words:
            atomic_write(Path(words[0]), data)
        else:
            sys.stdout.write(data.decode())

    @app.command("cib-push", context_settings=cc.PCS_ARGS)
    def cib_push(
        args: list[str] = typer.Argument(None, metavar="FILE [diff-against=ORIGINAL]"),
        config_only: bool = typer.Option(
            False, "--config", help="Replace only the configuration section."
        ),
    ) -> None:
        """Replace the CIB with FILE. With diff-against=ORIGINAL (the CIB FILE was edited
        from), refuse when the CIB changed since ORIGINAL was taken.

        Example: hactl -f cib.xml cluster cib-push new.xml diff-against=orig.xml
        """
        words = cc.words(args, known_options=("--config",))
        cc.need(words, 1, "hactl cluster cib-push FILE [diff-against=ORIGINAL] [--config]")
        original = None
        for word in words[1:]:
            key, value = split_pair(word, where="cluster cib-push", keywords=("diff-against",))
            if key != "diff-against":
                raise HactlError(
                    f"{key!r} is not a cib-push option",
                    where="cluster cib-push",
                    hint="did you mean 'diff-against'?",
                )
            original = CibDocument.load(value)
        new = CibDocument.load(words[0])
        changed = cluster.push(current_handle(), new, config_only=config_only, original=original)
        print("CIB updated" if changed else "no changes to push")

    @app.command("verify", context_settings=cc.PCS_ARGS)
    def verify(
        args: list[str] = typer.Argument(None, metavar="[FILE]"),
        output: OutputFormat = OUTPUT_OPTION,
    ) -> None:
        """Check the CIB with Pacemaker's own checks (crm_verify) and hactl's: problems
        are errors (exit 1), the rest warnings.

        Example: hactl -f cib.xml cluster verify --output json
        """
        words = cc.words(args)
        doc = CibDocument.load(words[0]) if words else current_handle().get()
        warnings = cluster.verify(doc)
        if output is OutputFormat.json:
            print_json({"valid": True, "warnings": warnings})
            return
        for warning in warnings:
            print(f"hactl: warning: {warning}", file=sys.stderr)
