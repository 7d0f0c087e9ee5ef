"""Plain results of the coding service (never live ORM rows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from groundcode.people.records import CoderView

MAX_SNIPPET = 4000  # characters of a coding's text kept with it

__all__ = ["MAX_SNIPPET", "CoderView", "CodingView", "CodingsImport", "MemoView", "UndoResult"]


@dataclass(frozen=True)
class CodingView:
    id: int
    coder: str
    concept: str
    concept_id: int
    category: str | None
    document: str
    passage: int | None
    start: int
    end: int
    snippet: str
    assisted: bool
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["created_at"] = self.created_at.isoformat(timespec="seconds")
        return out


@dataclass(frozen=True)
class MemoView:
    id: int
    target_kind: str
    target: str | None
    author: str
    text: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class CodingsImport:
    file: str
    codings: int
    skipped_existing: int
    new_concepts: tuple[str, ...]
    coders: tuple[str, ...]
    done: int = 0  # documents newly marked done (``codings import --done``)

    def to_json(self) -> dict[str, Any]:
        return {
            "done": self.done,
            "file": self.file,
            "codings": self.codings,
            "skipped_existing": self.skipped_existing,
            "new_concepts": list(self.new_concepts),
            "coders": list(self.coders),
        }


@dataclass(frozen=True)
class UndoResult:
    action: str
    description: str
