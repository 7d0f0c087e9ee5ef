"""Messages shared across screens and the app.

Workers never touch widgets: they post a typed message (``post_message`` is
thread-safe) and the screen that owns the widgets handles it on the UI thread.
Each kind of result or change has its own class with typed fields, so a
handler is chosen by type, never by decoding a tag; messages one screen alone
uses are nested in that screen's class (``CodingScreen.DocumentLoaded``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from textual.message import Message

if TYPE_CHECKING:
    from groundcode.coding.records import CodingView, MemoView, UndoResult
    from groundcode.people.records import ProjectStatus
    from groundcode.project import Project


@dataclass
class OpenDocument(Message):
    """Ask the app to show a document (and a passage) in the coding screen."""

    number: str
    passage: int | None = None


@dataclass
class LanguageChanged(Message):
    """The interface language changed; screens rebuild their labels."""

    lang: str


@dataclass
class ProjectOpened(Message):
    """The project opened in a worker, with who is acting and in which role."""

    project: Project
    status: ProjectStatus
    role: str | None


@dataclass
class ProjectFailed(Message):
    """The project could not be opened; ``problem`` is the line the start screen shows."""

    problem: str


@dataclass
class ProjectSwitched(Message):
    """The user now acts as another person (or signed in again): every screen rebuilds."""

    project: Project
    status: ProjectStatus
    role: str | None


@dataclass
class IdentityLoaded(Message):
    """Who is acting, in which role, on which project (re-read after a switch)."""

    status: ProjectStatus
    role: str | None


@dataclass
class CoderPicked(Message):
    """The user chose who is coding."""

    name: str


@dataclass
class ProjectReady(Message):
    """The project is open and the coder known: screens painted before it fill in."""


@dataclass
class Refused(Message):
    """The core refused what the screen asked (a typed error it expects): its one line."""

    message: str


# -- changes: posted after the commit, so a screen shows "saved" only when it is


@dataclass
class MemoSaved(Message):
    """A memo was written (``memo_id`` None: a new one)."""

    memo_id: int | None


@dataclass(frozen=True)
class Applied:
    """A concept was applied (to a passage, a span, or in vivo)."""

    coding: CodingView


@dataclass(frozen=True)
class Removed:
    """A coding was removed: the view of it as it was (``CodingService.remove``)."""

    coding: CodingView


@dataclass(frozen=True)
class Stepped:
    """An undo (``undo``) or a redo; ``result`` None when there was nothing to step."""

    undo: bool
    result: UndoResult | None


@dataclass(frozen=True)
class MemoAdded:
    memo: MemoView


Change: TypeAlias = "Applied | Removed | Stepped | MemoAdded"


@dataclass
class CodingsChanged(Message):
    """A coding change committed on document ``number``: what changed.

    An apply or a removal carries the coding itself (the room's return value),
    and the screen updates what it shows from that alone. ``codings`` is the
    document's codings re-read, set only after an undo or a redo, whose change
    the room describes in words rather than as a coding; None otherwise.
    """

    number: str
    change: Change
    codings: list[CodingView] | None = None
