"""Schema versions: create a new project or upgrade an older one in place.

Before an automatic upgrade of an SQLite file that already holds data, the
file is copied to ``<name>.bak-<revision>`` so a failed upgrade loses nothing.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text

from groundcode.domain.errors import Conflict, ReadOnlyProject
from groundcode.store.engine import Database

MIGRATIONS = Path(__file__).with_name("migrations")

# The newest revision, known without loading Alembic, so opening an up-to-date
# project (every TUI start) skips Alembic's import; a test keeps it equal to
# the head of ``migrations/versions``.
HEAD = "0007"


def _config() -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    """Revisions this groundcode knows, from the file names (no Alembic import)."""
    return {f.name.split("_", 1)[0] for f in (MIGRATIONS / "versions").glob("[0-9]*_*.py")}


def foreign_tables(db: Database) -> list[str]:
    """Tables of a database that is not (yet) a groundcode project: someone else's data."""
    with db.read_engine.connect() as conn:
        return [t for t in inspect(conn).get_table_names() if t != "alembic_version"]


def current_revision(db: Database) -> str | None:
    """The project's schema revision; a read, so it never waits on a writer."""
    with db.read_engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(db: Database, revision: str = "head") -> bool:
    """Bring the schema to ``revision``; returns True when anything changed."""
    current = current_revision(db)
    target = HEAD if revision == "head" else revision
    if current == target:
        return False
    if current is not None and current not in known_revisions():
        # Written by a newer groundcode: touch nothing (no backup, no upgrade).
        raise Conflict(what="schema_newer", name=f"{db.display_url} ({current})")
    if db.read_only:
        # An older schema needs writing to upgrade: refused before any backup copy is made.
        raise ReadOnlyProject(db.display_url)
    from alembic import command

    if current is not None and db.is_sqlite and db.url.database:
        path = Path(db.url.database)
        if path.exists():
            # The online backup API copies a consistent image, WAL contents included.
            src = sqlite3.connect(str(path))
            bak = path.with_name(f"{path.name}.bak-{current}")
            bak.touch(mode=0o600)  # a copy of the project is as private as the project
            dst = sqlite3.connect(str(bak))
            try:
                with dst:
                    src.backup(dst)
            finally:
                dst.close()
                src.close()
    cfg = _config()
    with db.engine.connect() as conn:
        raw: Any = conn.connection.dbapi_connection if db.is_sqlite else None
        if raw is not None:
            # SQLite alters a table by copying it (Alembic's batch mode) and dropping the
            # old one, which foreign keys from rows elsewhere forbid; checked after instead.
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
                if raw is not None:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration left dangling references: {broken[:5]}")
        finally:
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")
    return True
