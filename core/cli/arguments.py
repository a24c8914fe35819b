"""The argument parser of the nouns that do without typer (`hactl simulate`, `hactl
plugins`): typer builds pydantic adapters for its options, which these start-up-sensitive
commands cannot afford."""

from __future__ import annotations

import argparse
from typing import NoReturn

from hactl.core.errors import UsageError


class ArgumentParser(argparse.ArgumentParser):
    """argparse with hactl's usage errors: one line, naming the command, with a hint."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, where=self.prog, hint=f"see `{self.prog} --help`")
