"""Plain results of the people room (never live ORM rows)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CoderView:
    id: int
    name: str
    role: str
