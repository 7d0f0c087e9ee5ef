"""The backup room: a whole project to one file and back (SQLite and PostgreSQL).

SQLite uses the online backup API, so a backup is consistent while others
write; PostgreSQL (or any backend) is dumped table by table into a zip of JSON
lines in one REPEATABLE READ transaction, and ``restore`` loads such a dump
into an empty project in one transaction. Results are values
(``BackupWritten``, ``Restored``) that each front end words.
"""

from __future__ import annotations

import json
import sqlite3
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from groundcode.domain.errors import InvalidInput, Refused
from groundcode.store.access import authorize, visibility
from groundcode.store.context import Context
from groundcode.store.tables import Document, metadata


@dataclass(frozen=True)
class BackupWritten:
    """A backup at ``path``: an SQLite file (``sqlite``) or a table dump to restore."""

    path: str
    sqlite: bool

    @property
    def key(self) -> str:
        return "backup.written.sqlite" if self.sqlite else "backup.written.dump"

    def __str__(self) -> str:
        from groundcode.domain.wording import text

        return text(self.key, "en", path=self.path)


@dataclass(frozen=True)
class Restored:
    path: str
    rows: int

    key = "backup.restored"

    def __str__(self) -> str:
        from groundcode.domain.wording import text

        return text(self.key, "en", path=self.path, rows=self.rows)


class BackupService:
    """Backup and restore of one project (``Project.backup``)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def backup(self, path: Path, *, force: bool = False) -> BackupWritten:
        """SQLite: the online backup API (consistent while others write). PostgreSQL: a table dump."""
        from groundcode.exports.safety import atomic_output

        path = Path(path)
        db = self.ctx.db
        with db.read() as s:
            # A backup holds everyone's work: in blind mode it is the lead's to take.
            visibility(s, self.ctx.actor).lead_only("project.backup")
        if db.is_sqlite:
            with atomic_output(path, force=force) as tmp:
                src = sqlite3.connect(str(db.url.database))
                try:
                    dst = sqlite3.connect(str(tmp))
                    try:
                        with dst:
                            src.backup(dst)
                    except sqlite3.OperationalError as exc:
                        # SQLITE_IOERR / SQLITE_FULL: the disk refused the copy (full, a
                        # size limit). One line naming the backup, not an internal error.
                        if exc.sqlite_errorcode & 0xFF not in (10, 13):
                            raise
                        raise InvalidInput(str(path), 0, "cannot_write", str(exc)) from None
                    finally:
                        dst.close()
                        # A failed copy leaves the temporary file's rollback journal.
                        Path(f"{tmp}-journal").unlink(missing_ok=True)
                finally:
                    src.close()
            return BackupWritten(str(path), sqlite=True)
        with atomic_output(path, force=force) as tmp, db.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin(), zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
                for table in metadata.sorted_tables:
                    rows = conn.execute(table.select()).mappings().all()
                    body = "\n".join(
                        json.dumps(dict(r), ensure_ascii=False, default=_json_default) for r in rows
                    )
                    zf.writestr(f"{table.name}.jsonl", body)
                zf.writestr(
                    "manifest.json",
                    json.dumps(
                        {
                            "format": "groundcode-backup",
                            "version": 1,
                            "tables": [t.name for t in metadata.sorted_tables],
                        }
                    ),
                )
        return BackupWritten(str(path), sqlite=False)

    def restore(self, path: Path) -> Restored:
        """Load a PostgreSQL/any-backend table dump into an empty project."""
        path = Path(path)
        if not zipfile.is_zipfile(path):
            if path.is_file() and path.read_bytes()[:16].startswith(b"SQLite format 3"):
                raise InvalidInput(str(path), 0, "sqlite_backup")
            raise InvalidInput(str(path), 0, "not_a_backup")
        from sqlalchemy import DateTime, func, insert

        with zipfile.ZipFile(path) as zf:
            manifest = json.loads(zf.read("manifest.json"))
            if manifest.get("format") != "groundcode-backup":
                raise InvalidInput(str(path), 0, "not_a_backup")

            def _do(s: Session) -> int:
                authorize(s, self.ctx.actor, "project.restore")
                n_docs = s.execute(select(func.count()).select_from(Document)).scalar()
                if n_docs:
                    raise Refused("restore_needs_empty")
                total = 0
                for table in reversed(metadata.sorted_tables):
                    s.execute(table.delete())
                for table in metadata.sorted_tables:
                    if f"{table.name}.jsonl" not in zf.namelist():
                        continue
                    lines = zf.read(f"{table.name}.jsonl").decode("utf-8").splitlines()
                    rows = [json.loads(ln) for ln in lines if ln.strip()]
                    dt_cols = [c.name for c in table.columns if isinstance(c.type, DateTime)]
                    for r in rows:
                        for c in dt_cols:
                            if r.get(c):
                                r[c] = datetime.fromisoformat(r[c])
                    for lo in range(0, len(rows), 2000):
                        s.execute(insert(table), rows[lo : lo + 2000])
                    total += len(rows)
                if not self.ctx.db.is_sqlite:
                    for table in metadata.sorted_tables:
                        if "id" in table.columns and table.columns["id"].autoincrement is not False:
                            s.execute(
                                select(
                                    func.setval(
                                        func.pg_get_serial_sequence(table.name, "id"),
                                        func.coalesce(
                                            select(func.max(table.columns["id"])).scalar_subquery(),
                                            0,
                                        )
                                        + 1,
                                        False,
                                    )
                                )
                            )
                return total

            total = self.ctx.db.run(_do)
        return Restored(str(path), total)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


__all__ = ["BackupService", "BackupWritten", "Restored"]
