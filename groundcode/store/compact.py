"""Physically dropping old row versions after a redaction.

Masking a value in a row does not take the old value out of the database's
files: SQLite keeps old pages in the write-ahead log until a checkpoint and
freed pages in the file until a VACUUM; PostgreSQL keeps dead row versions
until VACUUM. ``compact`` does what the application can: on SQLite a full
checkpoint, ``VACUUM`` (which rewrites the file from the live rows only) and a
truncating checkpoint, so neither the file nor the ``-wal`` file holds the
old text; on PostgreSQL a ``VACUUM`` of the tables that hold text (the server's
own write-ahead log and freed pages are its administrator's to recycle).

``leftover_copies`` names the copies groundcode itself made before schema
upgrades (``study.db.bak-0004``): they hold the text as it was and are the
user's to delete.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from groundcode.store.engine import BUSY_TIMEOUT_MS, Database

WAIT_MS = 3_000

TEXT_TABLES = (
    "document",
    "passage",
    "coding",
    "memo",
    "audit_log",
    "token_cache",
    "screening_decision",
    "concept",
    "category",
    "main_category",
    "relation_class",
)


def compact(db: Database) -> bool:
    """Rewrite the store so masked values are gone from its files; False if it could not."""
    try:
        with db.engine.connect() as conn:
            if db.is_sqlite:
                # The DB-API connection runs in autocommit (isolation_level None):
                # VACUUM and checkpoints cannot run inside a transaction.
                raw = conn.connection.dbapi_connection
                assert raw is not None
                # Another session reading right now makes the checkpoint wait for it:
                # wait a little, then say it could not be done, rather than hang.
                raw.execute(f"PRAGMA busy_timeout={WAIT_MS}")
                try:
                    done = True
                    for sql in (
                        "PRAGMA wal_checkpoint(TRUNCATE)",
                        "VACUUM",
                        "PRAGMA wal_checkpoint(TRUNCATE)",
                    ):
                        row = raw.execute(sql).fetchone()
                        # A checkpoint answers (busy, log frames, checkpointed frames).
                        if sql.startswith("PRAGMA") and row is not None and row[0]:
                            done = False
                    return done
                finally:
                    raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            auto = conn.execution_options(isolation_level="AUTOCOMMIT")
            # VACUUM skips a table its caller does not own with only a warning: ask first.
            owned = auto.execute(
                text(
                    "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() "
                    "AND tablename = ANY(:t) AND pg_has_role(current_user, tableowner, 'USAGE')"
                ),
                {"t": list(TEXT_TABLES)},
            ).scalar()
            if owned != len(TEXT_TABLES):
                return False
            auto.exec_driver_sql("VACUUM " + ", ".join(TEXT_TABLES))
            return True
    except DBAPIError:
        # Another session holds the file, or (PostgreSQL) the caller does not own the tables.
        return False


def leftover_copies(db: Database) -> list[Path]:
    """Pre-upgrade copies of a SQLite project (``<file>.bak-<revision>``) beside it."""
    if not db.is_sqlite or not db.url.database or db.url.database == ":memory:":
        return []
    file = Path(db.url.database)
    return sorted(file.parent.glob(file.name + ".bak-*"))


__all__ = ["TEXT_TABLES", "compact", "leftover_copies"]
