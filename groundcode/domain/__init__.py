"""The typed vocabulary every room and front end shares.

Imports nothing but the standard library, so the store, the rooms, the CLI and
the TUI can all depend on it. Errors carry fields, never prose: each front end
words them from the message catalog (``groundcode/locale``) through
``groundcode.domain.wording``.
"""

from groundcode.domain.errors import (
    BadOption,
    Conflict,
    Forbidden,
    GroundcodeError,
    InvalidInput,
    NotFound,
    ProblemFound,
)
from groundcode.domain.wording import word

__all__ = [
    "BadOption",
    "Conflict",
    "Forbidden",
    "GroundcodeError",
    "InvalidInput",
    "NotFound",
    "ProblemFound",
    "word",
]
