"""Errors that reach the user as one line.

``UsageError`` is bad input or usage (exit code 2, nothing written);
``ProblemFound`` is an analysis result the user asked to fail on (exit 1).
"""

from __future__ import annotations


class GroundcodeError(Exception):
    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(GroundcodeError):
    """Bad input: a file, a row, an option or a name that does not fit."""

    exit_code = 2


class NotFound(UsageError):
    """A named document, coder or code that does not exist."""


class PermissionDenied(UsageError):
    """Blind mode or role rules refuse the action for the acting user."""


class ProblemFound(GroundcodeError):
    """The analysis found the problem the user asked about (e.g. not saturated with --strict)."""

    exit_code = 1
