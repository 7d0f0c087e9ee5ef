"""What every service is built from: the database and the acting user."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from groundcode.store.engine import Database


@dataclass(frozen=True)
class Context:
    db: Database
    actor: str | None = None
    exports_dir: Path = Path("exports")

    def as_user(self, actor: str | None) -> Context:
        return Context(db=self.db, actor=actor, exports_dir=self.exports_dir)
