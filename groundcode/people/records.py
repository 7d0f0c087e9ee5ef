"""Plain results of the people room (never live ORM rows)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict


@dataclass(frozen=True)
class CoderView:
    id: int
    name: str
    role: str


class CoderRole(TypedDict):
    name: str
    role: str


class ProjectStatus(TypedDict):
    """``status --json``: the project's name, schema revision, blind mode and people."""

    name: str
    blind: bool
    coders: list[CoderRole]
    actor: str | None
    schema: str | None
