"""Message-carrying errors from before the typed vocabulary (``groundcode.domain``).

They are still raised by code that has not moved to typed errors yet; new code
raises ``groundcode.domain.errors`` classes, whose words come from the catalog.
These wear the same base class, so every front end catches both in one place.
``UsageError`` is bad input or usage (exit code 2, nothing written);
``ProblemFound`` is an analysis result the user asked to fail on (exit 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from groundcode.domain.errors import GroundcodeError

__all__ = ["GroundcodeError", "NotFound", "PermissionDenied", "ProblemFound", "UsageError"]


@dataclass(eq=False)
class UsageError(GroundcodeError):
    """Bad input: a file, a row, an option or a name that does not fit."""

    message: str

    @property
    def key(self) -> str:
        return "LegacyMessage"

    def __str__(self) -> str:
        return self.message


@dataclass(eq=False)
class NotFound(UsageError):
    """A named document, coder or code that does not exist."""


@dataclass(eq=False)
class PermissionDenied(UsageError):
    """Blind mode or role rules refuse the action for the acting user."""


@dataclass(eq=False)
class ProblemFound(UsageError):
    """The analysis found the problem the user asked about (e.g. not saturated with --strict)."""

    exit_code: ClassVar[int] = 1
