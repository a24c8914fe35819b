"""Entry point of the `hactl` command.

The root level (global options, the top-level help, --version, an unknown noun) is handled
here without importing typer: the help is rendered from the table below, so `hactl --help`
costs little more than starting Python. Only the module of the noun being run is imported
(``hactl resource …`` never imports the fencing code). A noun's module offers a Typer
``app``, or ``run(args)`` on argparse where start-up time matters (`plugins`, `simulate`):
typer and the pydantic it coerces every option value with cost more than the 150 ms that
`hactl plugins list` aims at, and the command that diagnoses an installation should lean on
as little as possible.
Errors meant for people (HactlError) are printed on one line per problem with their exit
code; anything else is an internal error, printed on one line too (HACTL_DEBUG=1 shows the
traceback).
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import TYPE_CHECKING

from hactl.core import __version__
from hactl.core.errors import HactlError, UsageError

if TYPE_CHECKING:
    import typer

os.environ.setdefault("TYPER_USE_RICH", "0")  # plain output, and a faster start

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
BROKEN_PIPE_EXIT = 141  # 128 + SIGPIPE, what a tool killed by the signal reports


SUMMARY = "hactl: a high-availability cluster stack (Corosync + Pacemaker + pcs in one)."
HELP_OPTIONS = ("-h", "--help")
#: the options main() reads before the noun, shown in the top-level help
GLOBAL_OPTIONS: tuple[tuple[str, str], ...] = (
    ("-f FILE", "Work offline on the CIB in FILE (pcs's -f); a new FILE is an empty CIB."),
    ("--sandbox NODE", "Act as NODE of the local sandbox (`hactl sandbox up`)."),
    ("--version", "Print the version."),
    ("-h, --help", "Show this message and exit."),
)


def _selected_noun(argv: list[str]) -> str | None:
    for arg in argv:
        if not arg.startswith("-"):
            return arg
    return None


def root_help() -> str:
    """The top-level help, from NOUNS and GLOBAL_OPTIONS (no noun module is imported)."""

    def rows(pairs: list[tuple[str, str]]) -> list[str]:
        width = max(len(name) for name, _ in pairs)
        return [f"  {name.ljust(width)}  {text}" for name, text in pairs]

    lines = ["Usage: hactl [OPTIONS] COMMAND [ARGS]...", "", f"  {SUMMARY}", "", "Options:"]
    lines += rows(list(GLOBAL_OPTIONS))
    lines += ["", "Commands:"]
    lines += rows([(noun, help_text) for noun, (_module, help_text) in NOUNS.items()])
    lines += ["", "Run `hactl COMMAND --help` for a command's own options."]
    return "\n".join(lines)


def dispatch(args: list[str]) -> None:
    """Run ``args`` (global options already taken out): the root level here, a noun in
    its own module."""
    if not args or args[0] in HELP_OPTIONS:
        print(root_help())
        return
    if args[0] == "--version":
        print(f"hactl {__version__}")
        return
    first = args[0]
    if first.startswith("-"):
        raise UsageError(f"no such option {first!r}", hint="see `hactl --help`")
    if first not in NOUNS:
        import difflib

        close = difflib.get_close_matches(first, NOUNS, n=1)
        hint = f"did you mean `hactl {close[0]}`?" if close else "see `hactl --help`"
        raise UsageError(f"no such command {first!r}", hint=hint)
    module = importlib.import_module(NOUNS[first][0])
    if hasattr(module, "app"):
        run_typer_noun(first, module.app, args[1:])
    else:
        module.run(args[1:])


def build_app(noun: str, noun_app: typer.Typer) -> typer.Typer:
    """A root app holding only ``noun``, so that its usage lines read `hactl NOUN …`."""
    import typer

    app = typer.Typer(
        name="hactl",
        help=SUMMARY,
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": list(HELP_OPTIONS)},
    )
    app.add_typer(noun_app, name=noun, help=NOUNS[noun][1])
    return app


def run_typer_noun(noun: str, noun_app: typer.Typer, args: list[str]) -> None:
    import typer
    import typer.main

    command = typer.main.get_command(build_app(noun, noun_app))
    refuse_unknown_subcommand(command, [noun, *args])
    try:
        # not standalone: click's own error report is a usage block; ours is one line
        exit_code = command(args=[noun, *args], prog_name="hactl", standalone_mode=False)
    except typer.TyperException as exc:  # click's usage errors (bad option value, missing…)
        context = getattr(exc, "ctx", None)
        where = context.command_path if context is not None else f"hactl {noun}"
        raise UsageError(f"{where}: {exc.format_message()}", hint=f"see `{where} --help`") from None
    except typer.Abort:
        raise KeyboardInterrupt from None
    sys.exit(exit_code)  # every command returns None; an int is the code of a typer.Exit


def refuse_unknown_subcommand(command: object, words: list[str]) -> None:
    """A mistyped subcommand is a one-line usage error naming the nearest one (click would
    print its usage block). No group takes positional arguments of its own, so each word
    up to the first option or leaf command must name a subcommand."""
    path: list[str] = []
    for word in words:
        commands = getattr(command, "commands", None)
        if commands is None or word.startswith("-"):
            return
        if word not in commands:
            import difflib

            close = difflib.get_close_matches(word, list(commands), n=1)
            hint = f"did you mean `hactl {' '.join([*path, close[0]])}`?" if close else None
            raise UsageError(
                f"no such command {' '.join([*path, word])!r}",
                hint=hint or f"see `hactl {' '.join(path)} --help`",
            )
        path.append(word)
        command = commands[word]


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
        dispatch(args)
    except HactlError as exc:
        for line in exc.lines():
            print(f"hactl: error: {line}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("hactl: interrupted", file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:
        # the reader went away (`hactl … | head`): stop quietly as other tools do, with
        # stdout on /dev/null so that flushing it at exit cannot fail again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(BROKEN_PIPE_EXIT)
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
