"""Typed errors: what went wrong, as fields; the words live in the catalog.

Every error a user can meet is a dataclass here (or a subclass of one of these
in a room). Its catalog id is the class name; its fields fill the message's
``{placeholders}``. Tests assert on the type and the fields, never on sentences,
and each front end words the same error in zh or en (the CLI with its flag
names, the TUI with its own switches; see ``wording.word``).

``exit_code`` 2 is bad input or usage (nothing written); 1 is an analysis
result the user asked to fail on.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar


@dataclass(eq=False)
class GroundcodeError(Exception):
    exit_code: ClassVar[int] = 2

    def __post_init__(self) -> None:
        Exception.__init__(self, *dataclasses.astuple(self))

    @property
    def key(self) -> str:
        """The catalog id of this error's message."""
        return type(self).__name__

    def fields(self) -> dict[str, object]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def __str__(self) -> str:
        from groundcode.domain.wording import word

        return word(self, "en")


@dataclass(eq=False)
class NotFound(GroundcodeError):
    """A named thing that does not exist. ``kind`` is a catalog noun id
    (``document``, ``coder``, ``concept``, ``category``, ``file``, ...)."""

    kind: str
    name: str


@dataclass(eq=False)
class Conflict(GroundcodeError):
    """The change collides with what is there (an existing name, file, or mark).
    ``what`` is a catalog id naming the collision, ``name`` the thing."""

    what: str
    name: str


@dataclass(eq=False)
class Forbidden(GroundcodeError):
    """The acting person may not do this. ``action`` is an audit-action or
    catalog id; ``actor`` who tried (empty: nobody said who); ``needs`` the
    role or condition that would allow it (``lead``, ``self``, ``actor``)."""

    action: str
    actor: str
    needs: str


@dataclass(eq=False)
class InvalidInput(GroundcodeError):
    """Bad input in a file or a value: where (file, row; 0 when unknown) and why.
    ``reason`` is a catalog id; ``detail`` is data shown verbatim (a value, a
    column name), never a sentence."""

    file: str
    row: int
    reason: str
    detail: str = ""

    @property
    def key(self) -> str:
        return "InvalidInput" if self.row else "InvalidInput.file"


@dataclass(eq=False)
class BadOption(GroundcodeError):
    """An option value outside what it allows. ``option`` is the option's
    neutral name (``force``, ``level``); each front end shows its own spelling."""

    option: str
    value: str
    allowed: str = ""


@dataclass(eq=False)
class ProblemFound(GroundcodeError):
    """The analysis found the problem the user asked to fail on."""

    exit_code: ClassVar[int] = 1
    what: str
    detail: str = ""


@dataclass(eq=False)
class BadDocNumber(GroundcodeError):
    """Text that is not a document number ``T-N`` (``text`` as the user gave it)."""

    text: str


@dataclass(eq=False)
class AlreadyExists(GroundcodeError):
    """A file would be overwritten; the front end offers its own way to allow that."""

    path: str


@dataclass(eq=False)
class StillCoded(GroundcodeError):
    """Deleting a codebook item that codings still use (``n_codings`` of them)."""

    level: str
    name: str
    n_codings: int

    @property
    def key(self) -> str:
        # A concept is coded itself; a category's codings are its concepts'.
        return "StillCoded.concept" if self.level == "concept" else "StillCoded"


@dataclass(eq=False)
class NeedsActor(GroundcodeError):
    """The action needs to know who is acting (the CLI's ``--as``, the TUI's user)."""

    action: str = ""


@dataclass(eq=False)
class NeedsLead(GroundcodeError):
    """Only a lead may do ``action``; ``actor`` is who tried ("" for nobody), ``role`` theirs."""

    action: str
    actor: str = ""
    role: str = ""


@dataclass(eq=False)
class OutOfRange(GroundcodeError):
    """A number outside what an option allows; ``rule`` is a catalog id (``rule.<id>``)."""

    option: str
    value: str
    rule: str


@dataclass(eq=False)
class Missing(GroundcodeError):
    """Something the action needs was not given; ``what`` is a catalog id."""

    what: str
    detail: str = ""


@dataclass(eq=False)
class Refused(GroundcodeError):
    """A rule of the project refuses the change; ``reason`` is a catalog id (``reason.<id>``),
    ``name`` the thing concerned and ``detail`` data shown verbatim."""

    reason: str
    name: str = ""
    detail: str = ""


@dataclass(eq=False)
class BlindHidden(GroundcodeError):
    """Blind mode: ``actor`` may not see the work of ``others`` (names or ids)."""

    actor: str
    others: str


@dataclass(eq=False)
class LevelClash(GroundcodeError):
    """A codebook file puts ``name`` on ``level``; the project has it on ``other``."""

    file: str
    name: str
    level: str
    other: str


@dataclass(eq=False)
class BadCodebookFile(InvalidInput):
    """A problem in a codebook file: ``at`` is the place in the file's structure
    (``model.edges[0].from``; empty at the top), ``reason`` a catalog id
    (``reason.<id>``) whose words may use ``name``, ``level`` and ``detail``."""

    at: str = ""
    name: str = ""
    level: str = ""

    @property
    def key(self) -> str:
        if self.at:
            return "BadCodebookFile"
        return "InvalidInput" if self.row else "InvalidInput.file"


@dataclass(eq=False)
class BadName(GroundcodeError):
    """A name that cannot be used: ``reason`` is ``empty_name`` or ``name_too_long``;
    ``kind`` what it names (a catalog noun), ``name`` its first characters."""

    kind: str
    reason: str
    name: str = ""
    limit: int = 0


@dataclass(eq=False)
class SpanOutside(GroundcodeError):
    """A span ``start``-``end`` that is not inside document ``number``'s text (0-``length``)."""

    number: str
    start: int
    end: int
    length: int


@dataclass(eq=False)
class RowForbidden(InvalidInput):
    """A row of a file the acting person may not import (``reason`` a catalog id)."""


@dataclass(eq=False)
class CodedWouldMove(GroundcodeError):
    """A new split would move ``n`` coded documents (``example`` one of them) to the other side."""

    n: int
    example: str


@dataclass(eq=False)
class BadLine(InvalidInput):
    """A problem at a line of a text file (``row`` is the line number, 0 for the whole file)."""

    @property
    def key(self) -> str:
        return "BadLine" if self.row else "FileRefused"


@dataclass(eq=False)
class NotAProject(GroundcodeError):
    """``location`` holds no groundcode project (``reason``: ``missing`` or ``foreign``)."""

    location: str
    reason: str

    @property
    def key(self) -> str:
        return f"NotAProject.{self.reason}"


@dataclass(eq=False)
class FileRefused(InvalidInput):
    """A whole file refused; the words of ``reason`` (``reason.<id>``) use ``detail`` themselves."""

    @property
    def key(self) -> str:
        return "FileRefused"


@dataclass(eq=False)
class PassageNotFound(GroundcodeError):
    """Document ``document`` has no passage numbered ``passage``."""

    document: str
    passage: int


@dataclass(eq=False)
class ModelProblems(GroundcodeError):
    """The model cannot be drawn: ``first`` names the first problem, ``more`` how many follow."""

    first: str
    more: int = 0

    @property
    def key(self) -> str:
        return "ModelProblems.more" if self.more else "ModelProblems"


@dataclass(eq=False)
class ImportStopped(GroundcodeError):
    """A multi-file import stopped at one file after earlier files were kept.

    Each file is its own transaction, so ``kept`` (the files imported before,
    comma-separated) stay in the project; ``cause`` is why ``file`` was refused.
    Running the same import again skips the kept files (imports are idempotent).
    """

    file: str
    kept: str
    cause: GroundcodeError


@dataclass(eq=False)
class ReadOnlyProject(GroundcodeError):
    """The project's file or folder cannot be written: it is read, never changed."""

    location: str


@dataclass(eq=False)
class MergeStopped(GroundcodeError):
    """A merge done in steps stopped: ``merged`` (comma-separated) are already folded
    into ``into`` and stay so; ``cause`` is why the next step was refused."""

    into: str
    merged: str
    cause: GroundcodeError


@dataclass(eq=False)
class FileProblem(FileRefused):
    """A whole file refused, with the data its words need besides ``detail``:
    ``name`` (a member, sheet or key), ``ref`` (what it refers to), ``cause``
    (a library's own message, verbatim) and ``limit`` (a size, count or depth)."""

    name: str = ""
    ref: str = ""
    cause: str = ""
    limit: int = 0


@dataclass(eq=False)
class BadRow(InvalidInput):
    """A problem at row ``row`` of a table file, or at line ``row`` when ``unit`` is
    ``line`` (JSON lines); ``limit`` is a count the words may need."""

    unit: str = "row"
    limit: int = 0

    @property
    def key(self) -> str:
        return "BadLine" if self.unit == "line" else "BadRow"


@dataclass(eq=False)
class NoColumn(GroundcodeError):
    """``file`` has no column ``column`` for ``field`` (``text``, ``title``, ``date``,
    ``views``, ``url``, ``author``); ``columns`` lists the ones it has."""

    file: str
    column: str
    field: str
    columns: str

    @property
    def key(self) -> str:
        return f"NoColumn.{self.field}"
