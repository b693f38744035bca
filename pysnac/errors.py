"""The typed error family. Every expected fault is a `PysnacError`; the command line
prints its message as one line and exits with `exit_status`, the state machine shows
`reason` on the LCD. Subclasses also inherit a builtin where one fits (gpiozero style).
"""

from __future__ import annotations

from pysnac.limits import REASON_MAX_CHARS


class PysnacError(Exception):
    """Base of every fault a user can cause or meet; never a bug."""

    exit_status: int = 1

    @property
    def reason(self) -> str:
        """A short reason for a 16-character LCD line."""
        return type(self).__name__.removesuffix("Error")[:REASON_MAX_CHARS]


class ConfigError(PysnacError, ValueError):
    """A config file is missing, unreadable or has a bad value; names file and key."""

    exit_status = 2

    def __init__(self, path: object, key: str | None, problem: str) -> None:
        where = f"{path}" if key is None else f"{path}: key '{key}'"
        super().__init__(f"{where}: {problem}")
        self.path = path
        self.key = key
        self.problem = problem


class UsageError(PysnacError, ValueError):
    """A command-line argument or input file is bad."""

    exit_status = 2
