"""Getting an agent's meta-data by running it, with errors that name the agent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hactl.core.errors import Problem
from hactl.plugins.agents.process import run_program_sync

#: meta-data only prints XML; an agent slower than this is broken
METADATA_TIMEOUT_MS = 15_000


def metadata_or_raise(argv: Sequence[str], env: Mapping[str, str], *, name: str) -> str:
    """Run ``argv`` and return what it printed, or raise MetadataError saying why not."""
    from hactl.core.agentmeta import MetadataError

    outcome = run_program_sync(argv, env, METADATA_TIMEOUT_MS, name=f"{name} meta-data")
    if outcome.exit_code is None:
        problem = Problem(outcome.failure, where=name)
    elif outcome.exit_code != 0:
        last_lines = outcome.stderr.strip().splitlines()[-1:]
        detail = outcome.exit_reason or (last_lines[0] if last_lines else "")
        problem = Problem(
            f"meta-data exited with code {outcome.exit_code}" + (f": {detail}" if detail else ""),
            where=name,
            hint="the meta-data action must print the XML and exit 0",
        )
    else:
        return outcome.stdout
    raise MetadataError([problem], subject=f"{name} meta-data")
