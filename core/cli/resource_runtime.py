"""`hactl resource cleanup|refresh|failcount`: a resource's failures and history, in pcs's
grammar (``[RESOURCE] [node=NODE] [operation=OP [interval=INTERVAL]]``), on the CIB the
command line works on (``-f FILE`` offline, else the running cluster). The use cases are
in hactl.core.controller.failures; the controller runs the scheduler again on the result."""

from __future__ import annotations

from dataclasses import dataclass

import typer

from hactl.core.cli import cib_command as cc
from hactl.core.cli.render import OUTPUT_OPTION, OutputFormat, print_json, print_table
from hactl.core.commands.cibtools import Element
from hactl.core.commands.grammar import parse_pairs
from hactl.core.commands.session import Notes
from hactl.core.controller import failures
from hactl.core.errors import UsageError
from hactl.core.scheduler.unpack import parse_interval_ms

_SCOPE = "[RESOURCE] [node=NODE] [operation=OP [interval=INTERVAL]]"


@dataclass(frozen=True)
class Scope:
    resource: str | None
    node: str | None
    operation: str | None  # "monitor" or "monitor_10000"

    def describe(self) -> str:
        what = self.resource or "all resources"
        if self.operation:
            what += f" ({self.operation})"
        return f"{what} on {self.node or 'all nodes'}"


def parse_scope(args: list[str], where: str, node_option: str | None) -> Scope:
    resource = args[0] if args and "=" not in args[0] else None
    pairs = parse_pairs(args[1:] if resource is not None else args, where=where)
    unknown = sorted(set(pairs) - {"node", "operation", "interval"})
    if unknown:
        raise UsageError(
            f"unknown option {unknown[0]!r}", where=where, hint=f"usage: hactl {where} {_SCOPE}"
        )
    if "interval" in pairs and "operation" not in pairs:
        raise UsageError(
            "interval= needs operation=", where=where, hint="e.g. operation=monitor interval=10s"
        )
    operation = pairs.get("operation")
    if operation is not None and "interval" in pairs:
        operation = f"{operation}_{parse_interval_ms(pairs['interval'])}"
    node = pairs.get("node", node_option)
    return Scope(resource, node, operation)


_NODE = typer.Option(None, "--node", help="Only on this node (as node=NODE).")
_ARGS = typer.Argument(None, metavar=_SCOPE)


def register(app: typer.Typer) -> None:
    failcount_app = typer.Typer(no_args_is_help=True, help="Show or reset fail counts.")
    app.add_typer(failcount_app, name="failcount")

    def forget(scope: Scope, *, failed_only: bool) -> list[tuple[str, str]]:
        def use_case(root: Element, notes: Notes) -> list[tuple[str, str]]:
            if scope.operation is not None:
                failures.clear_fail_counts(root, scope.resource, scope.node, scope.operation)
                if not failed_only:
                    return failures.forget_history(
                        root, scope.resource, scope.node, failed_only=False
                    )
                return []
            return failures.forget_history(
                root, scope.resource, scope.node, failed_only=failed_only
            )

        return cc.edit(use_case)

    @app.command("cleanup", context_settings=cc.PCS_ARGS)
    def cleanup(args: list[str] = _ARGS, node: str = _NODE) -> None:
        """Forget a resource's failures (fail counts and failed operations) so that the
        cluster probes it again and may start it where it failed.

        Example: hactl -f cib.xml resource cleanup webserver node=node1
        """
        scope = parse_scope(cc.words(args, known_options=("--node",)), "resource cleanup", node)
        forgotten = forget(scope, failed_only=True)
        print(f"Cleaned up {scope.describe()}" + ("" if forgotten else " (no failures recorded)"))

    @app.command("refresh", context_settings=cc.PCS_ARGS)
    def refresh(args: list[str] = _ARGS, node: str = _NODE) -> None:
        """Forget a resource's whole operation history, failed or not, so that the cluster
        probes it again everywhere in scope."""
        scope = parse_scope(cc.words(args, known_options=("--node",)), "resource refresh", node)
        forget(scope, failed_only=False)
        print(f"Refreshed {scope.describe()}")

    @failcount_app.command("show", context_settings=cc.PCS_ARGS)
    def show(
        args: list[str] = _ARGS, node: str = _NODE, output: OutputFormat = OUTPUT_OPTION
    ) -> None:
        """Fail counts by resource, node and operation (INFINITY after a fatal failure)."""
        scope = parse_scope(
            cc.words(args, known_options=("--node", "--output")), "resource failcount show", node
        )
        entries = cc.read(
            lambda root: failures.fail_counts(root, scope.resource, scope.node, scope.operation)
        )
        rows = [
            {
                "resource": e.resource,
                "node": e.node,
                "operation": e.operation,
                "failcount": e.count_text,
                "last_failure": e.last_failure,
            }
            for e in entries
        ]
        if output is OutputFormat.json:
            print_json(rows)
        elif rows:
            print_table(rows, ["resource", "node", "operation", "failcount", "last_failure"])
        else:
            print(f"No failcounts for {scope.describe()}")

    @failcount_app.command("reset", context_settings=cc.PCS_ARGS)
    def reset(args: list[str] = _ARGS, node: str = _NODE) -> None:
        """Reset fail counts to zero (the operation history stays: use cleanup to have
        the resource probed again)."""
        scope = parse_scope(
            cc.words(args, known_options=("--node",)), "resource failcount reset", node
        )
        removed = cc.edit(
            lambda root, notes: failures.clear_fail_counts(
                root, scope.resource, scope.node, scope.operation
            )
        )
        print(f"Reset {removed} fail count{'s' if removed != 1 else ''} of {scope.describe()}")
