"""`hactl mon`: `hactl status`, refreshed live (what crm_mon does without --one-shot).

hactl mon                      # every 5 s, until Ctrl-C
hactl mon --interval 1 --full
hactl mon --one-shot           # print once and exit (= hactl status)
"""

from __future__ import annotations

import sys
import time

import typer

from hactl.core.cli import status as status_cli
from hactl.core.errors import HactlError, UsageError

app = typer.Typer(
    invoke_without_command=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

CLEAR = "\x1b[H\x1b[2J"


def snapshot(full: bool) -> str:
    from hactl.core.daemon.client import cluster_status

    current = cluster_status()
    return "\n".join(status_cli.text_lines(current, status_cli.working_set(current), full=full))


@app.callback(invoke_without_command=True)
def mon(
    interval: float = typer.Option(5.0, "--interval", "-i", help="Seconds between refreshes."),
    full: bool = typer.Option(False, "--full", help="Show everything, as `status --full`."),
    one_shot: bool = typer.Option(False, "--one-shot", "-1", help="Print once and exit."),
) -> None:
    """The cluster status, refreshed until interrupted. While no daemon answers, the
    reason is shown and the next refresh tries again."""
    if interval <= 0:
        raise UsageError(f"--interval {interval:g} must be positive", where="--interval")
    if one_shot:
        print(snapshot(full))
        return
    clear = CLEAR if sys.stdout.isatty() else ""
    try:
        while True:
            try:
                text = snapshot(full)
            except HactlError as exc:
                text = "\n".join(exc.lines()) + f"\n(retrying every {interval:g}s)"
            sys.stdout.write(clear + text + "\n")
            if not clear:
                sys.stdout.write("\n")
            sys.stdout.flush()
            time.sleep(interval)
    except KeyboardInterrupt:
        return
