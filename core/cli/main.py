"""Entry point of the `hactl` command.

Only the module of the noun being run is imported (``hactl resource …`` never imports the
fencing code); the others appear in the top-level help from the table below. Errors meant
for people (HactlError) are printed on one line per problem with their exit code; anything
else is an internal error, printed on one line too (HACTL_DEBUG=1 shows the traceback).
"""

from __future__ import annotations

import importlib
import os
import sys

os.environ.setdefault("TYPER_USE_RICH", "0")  # plain output, and a faster start

import typer  # noqa: E402

from hactl.core import __version__  # noqa: E402
from hactl.core.errors import HactlError, UsageError  # noqa: E402

#: noun -> (module holding its Typer `app`, one-line help)
NOUNS: dict[str, tuple[str, str]] = {
    "plugins": ("hactl.core.cli.plugins", "List the installed plugins and their state."),
    "resource": ("hactl.core.cli.resource", "Resources and their agents."),
    "agent": ("hactl.core.cli.agent", "Check a resource agent (what ocf-tester does)."),
    "cluster": ("hactl.core.cli.cluster", "Set up and manage the cluster (keygen, …)."),
    "quorum": ("hactl.core.cli.quorum", "Quorum configuration and state (votequorum)."),
    "simulate": ("hactl.core.cli.simulate", "Run the scheduler on a CIB, as crm_simulate does."),
    "stonith": ("hactl.core.cli.stonith", "Fence agents, fence devices and SBD disks."),
    "constraint": ("hactl.core.cli.constraint", "Location, order, colocation, ticket constraints."),
    "property": ("hactl.core.cli.property", "Cluster properties (crm_config)."),
    "node": ("hactl.core.cli.node", "Node attributes, utilization, standby, maintenance."),
    "config": ("hactl.core.cli.config", "The whole configuration; export as hactl commands."),
    "tag": ("hactl.core.cli.tag", "Tags: named lists of resources."),
    "alert": ("hactl.core.cli.alert", "Alert agents and their recipients."),
    "cib": ("hactl.core.cli.cib", "CIB files offline: new, verify, query, diff, patch."),
    "daemon": ("hactl.core.cli.daemon", "Run this node's daemon in the foreground."),
    "status": ("hactl.core.cli.status", "The running cluster, as crm_mon shows it."),
    "mon": ("hactl.core.cli.mon", "The cluster status, refreshed live (crm_mon)."),
    "host": ("hactl.core.cli.host", "Authenticate to other nodes' remote API (pcs host)."),
    "sandbox": ("hactl.core.cli.sandbox", "A local cluster of daemons on this machine."),
}

INTERNAL_ERROR_EXIT = 70  # EX_SOFTWARE


def _selected_noun(argv: list[str]) -> str | None:
    for arg in argv:
        if not arg.startswith("-"):
            return arg
    return None


def _version(value: bool) -> None:
    if value:
        print(f"hactl {__version__}")
        raise typer.Exit()


def build_app(argv: list[str]) -> typer.Typer:
    app = typer.Typer(
        name="hactl",
        help="hactl: a high-availability cluster stack (Corosync + Pacemaker + pcs in one).",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    @app.callback()
    def root(
        version: bool = typer.Option(
            False, "--version", callback=_version, is_eager=True, help="Print the version."
        ),
    ) -> None:
        """hactl configures and runs high-availability clusters."""

    selected = _selected_noun(argv)
    for noun, (module, help_text) in NOUNS.items():
        if noun == selected:
            app.add_typer(importlib.import_module(module).app, name=noun, help=help_text)
        else:
            app.add_typer(typer.Typer(), name=noun, help=help_text)
    return app


#: nouns where -f keeps a meaning of its own (crm_simulate's -f is --node-fail)
LOCAL_F_NOUNS = ("simulate",)


def take_global_option(argv: list[str], name: str, example: str) -> tuple[str | None, list[str]]:
    """Remove a global option ``NAME VALUE`` (or ``--name=VALUE``) from anywhere in argv
    up to ``--``, as pcs lets its global options stand anywhere: (value, the rest)."""
    rest: list[str] = []
    value: str | None = None
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg == "--":
            rest.extend(argv[index:])
            break
        if arg == name:
            if index + 1 >= len(argv) or not argv[index + 1] or argv[index + 1].startswith("-"):
                raise UsageError(f"{name} needs a value", hint=example)
            value, index = argv[index + 1], index + 2
            continue
        if name.startswith("--") and arg.startswith(name + "="):
            value, index = arg.split("=", 1)[1], index + 1
            continue
        rest.append(arg)
        index += 1
    return value, rest


def take_cib_file(argv: list[str]) -> list[str]:
    """pcs's global ``-f FILE``: put in ``CIB_file``, the variable Pacemaker's tools read,
    where every command looks for an offline CIB. A FILE that does not exist yet is an
    empty CIB."""
    if _selected_noun([a for a in argv if a != "-f"]) in LOCAL_F_NOUNS:
        return argv
    path, rest = take_global_option(argv, "-f", "hactl -f cib.xml resource config")
    if path is not None:
        os.environ["CIB_file"] = path
    return rest


def take_sandbox(argv: list[str]) -> list[str]:
    """The global ``--sandbox NODE``: the command acts as that node of the local sandbox
    (`hactl sandbox up`): its daemon's socket, its state directory, its name."""
    node, rest = take_global_option(argv, "--sandbox", "hactl --sandbox node1 status")
    if node is not None:
        from hactl.core.daemon.sandbox import Sandbox

        sandbox = Sandbox.default()
        os.environ["HACTL_SOCKET"] = str(sandbox.socket(node))
        os.environ["HACTL_STATE_DIR"] = str(sandbox.state_dir(node))
        os.environ["HACTL_NODE_NAME"] = node
    return rest


def run(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        args = take_sandbox(args)
        args = take_cib_file(args)
        build_app(args)(args=args, prog_name="hactl")
    except HactlError as exc:
        for line in exc.lines():
            print(f"hactl: error: {line}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:  # raised outside the command's own standalone handling
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("hactl: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # the one place where an unexpected error is turned into a line
        if os.environ.get("HACTL_DEBUG") == "1":
            raise
        print(
            f"hactl: internal error: {type(exc).__name__}: {exc} "
            "(hint: this is a bug; rerun with HACTL_DEBUG=1 for the traceback and report it)",
            file=sys.stderr,
        )
        sys.exit(INTERNAL_ERROR_EXIT)


if __name__ == "__main__":
    run()
