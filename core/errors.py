"""One exception tree for everything a user can get wrong.

Every error carries a message, optionally the place it refers to (a file and line, an
element id, an option name) and a hint saying what to do. The command line prints it on
one line (``where: message (hint)``) and exits with ``exit_code``; nothing else in hactl
formats errors for people.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class HactlError(Exception):
    """Base of every error meant for a person. Exit code 1 unless a subclass says otherwise."""

    exit_code = 1

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.where = where
        self.hint = hint

    def lines(self) -> list[str]:
        """The error as the command line prints it: one line per problem."""
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text += f" (hint: {self.hint})"
        return [text]

    def __str__(self) -> str:
        return "\n".join(self.lines())


class UsageError(HactlError):
    """The command was called with arguments it cannot take."""

    exit_code = 2


class ConfigError(HactlError):
    """The cluster configuration (corosync.conf syntax) is wrong."""


class PluginError(HactlError):
    """A plugin is missing, broken, or does not provide what was asked for."""


class NotFoundError(HactlError):
    """Something named by the user (a resource, a node, an id) does not exist."""


@dataclass(frozen=True)
class Problem:
    """One finding of a validator: what is wrong, where, and what to do about it."""

    message: str
    where: str | None = None
    hint: str | None = None

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        return f"{text} (hint: {self.hint})" if self.hint else text


class ValidationError(HactlError):
    """A document (CIB, configuration) failed validation; holds every problem found."""

    def __init__(self, problems: Iterable[Problem], *, subject: str = "document"):
        self.problems = list(problems)
        first = self.problems[0] if self.problems else Problem("invalid")
        super().__init__(
            f"{subject} is invalid: {len(self.problems)} problem(s)", where=first.where
        )
        self.subject = subject

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]
