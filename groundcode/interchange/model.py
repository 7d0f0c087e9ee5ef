"""Plain data for REFI-QDA exchange, decoupled from the database.

The writer (:mod:`groundcode.interchange.refi_write`) and the reader
(:mod:`groundcode.interchange.refi_read`) speak only these frozen dataclasses, so
both can be tested with real files and no database, and the project layer
decides how rows map to them. Keys are our own stable string ids (e.g.
``"concept:12"``) on export; on import they are the GUIDs found in the file.

The module also holds the one text helper both sides need: newline
normalisation that remaps code-point offsets, because REFI-QDA positions are
offsets into an LF-only text and a CRLF in the input would otherwise shift
every later coding.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

NOTE_TARGET_KINDS = ("project", "source", "code", "coding")

#: REFI-QDA ``typeOfVariable`` values and the Python types they carry.
VARIABLE_TYPES = ("Text", "Boolean", "Integer", "Float", "Date", "DateTime")

VariableValue = str | bool | int | float | datetime


@dataclass(frozen=True)
class QdaVariable:
    """A variable (NVivo: attribute) defined once for the project; values sit on sources and cases."""

    key: str
    name: str
    type: str = "Text"
    description: str | None = None


@dataclass(frozen=True)
class QdaCase:
    """A case with variable values; groundcode uses one for its project-wide facts."""

    key: str
    name: str
    values: dict[str, VariableValue] = field(default_factory=dict)


@dataclass(frozen=True)
class QdaUser:
    """A coder; REFI-QDA ``User``."""

    key: str
    name: str


@dataclass(frozen=True)
class QdaCode:
    """A code or a non-codable folder; ``children`` nest like the codebook tree."""

    key: str
    name: str
    codable: bool = True
    description: str | None = None
    color: str | None = None
    children: list[QdaCode] = field(default_factory=list)


@dataclass(frozen=True)
class QdaSource:
    """A plain-text document; positions of codings are code points into ``text``."""

    key: str
    name: str
    text: str
    description: str | None = None
    #: variable key -> value (see :class:`QdaVariable`).
    values: dict[str, VariableValue] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class QdaCoding:
    """One code applied by one user to ``text[start:end]`` of one source."""

    key: str
    source_key: str
    start: int
    end: int
    code_key: str
    user_key: str
    created: datetime | None = None
    memo: str | None = None


#: One source with its codings in file order: the unit the streaming writer
#: takes in chunks, so no list of all codings of the project is needed.
QdaSourceEntry = tuple[QdaSource, Sequence[QdaCoding]]


@dataclass(frozen=True)
class QdaNote:
    """A memo; ``target`` is ``(kind, key)`` with kind in :data:`NOTE_TARGET_KINDS`, or None.

    For the project itself the key is ``""`` (there is only one project).
    """

    key: str
    name: str
    text: str
    user_key: str
    created: datetime | None = None
    target: tuple[str, str] | None = None


@dataclass(frozen=True)
class QdaProject:
    """Everything one ``.qdpx`` carries that groundcode understands."""

    name: str
    origin: str
    users: list[QdaUser] = field(default_factory=list)
    codes: list[QdaCode] = field(default_factory=list)
    sources: list[QdaSource] = field(default_factory=list)
    codings: list[QdaCoding] = field(default_factory=list)
    notes: list[QdaNote] = field(default_factory=list)
    description: str | None = None
    variables: list[QdaVariable] = field(default_factory=list)
    cases: list[QdaCase] = field(default_factory=list)


def iter_codes(codes: list[QdaCode]) -> list[QdaCode]:
    """All codes of a tree, parents before children, so callers need no recursion."""
    out: list[QdaCode] = []
    stack = list(reversed(codes))
    while stack:
        code = stack.pop()
        out.append(code)
        stack.extend(reversed(code.children))
    return out


class OffsetMap:
    """Maps code-point offsets of an original text onto its normalised form.

    Holds the sorted original indices of removed characters; an offset moves
    left by the number of removed characters before it. Replaced characters
    (a lone CR becoming LF) keep their place and need no entry.
    """

    def __init__(self, removed: list[int]) -> None:
        self._removed = removed

    @property
    def changed(self) -> bool:
        """True when some offsets move, i.e. the caller should say so."""
        return bool(self._removed)

    def __call__(self, position: int) -> int:
        return position - bisect_left(self._removed, position)


def normalise_text(text: str) -> tuple[str, OffsetMap]:
    """Drop a leading BOM, turn CRLF and lone CR into LF; return the offset map.

    REFI-QDA text files must be LF-only without a BOM, and positions count
    code points of that file; normalising without remapping would silently
    shift every coding after the first CRLF.
    """
    removed: list[int] = []
    if text.startswith("\ufeff"):
        removed.append(0)
    if "\r" not in text:
        return (text[1:] if removed else text), OffsetMap(removed)
    index = text.find("\r\n")
    while index != -1:
        removed.append(index)
        index = text.find("\r\n", index + 2)
    body = text[1:] if text.startswith("\ufeff") else text
    return body.replace("\r\n", "\n").replace("\r", "\n"), OffsetMap(removed)
