"""Schema versions: an older project opens in a newer groundcode, its data kept."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import text

from groundcode.project import Project
from groundcode.store import migrate
from groundcode.store.engine import Database, to_url


def _old_project(path: Path) -> None:
    """A project as revision 0001 left it: one document with two passages, no search index."""
    db = Database(to_url(path))
    migrate.upgrade(db, "0001")
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO source_type (id, name_zh, name_en, slug, next_seq) "
                "VALUES (1, '政策文件', 'policy', 'policy', 2)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO document (id, source_type_id, seq, number, text, content_hash, status, personal, created_at) "
                "VALUES (1, 1, 1, '1-1', '健康码互认\n红码申诉', 'h', 'included', 0, '2026-01-01 00:00:00')"
            )
        )
        conn.execute(
            text(
                'INSERT INTO passage (document_id, idx, start, "end", text) VALUES '
                "(1, 1, 0, 5, '健康码互认'), (1, 2, 6, 10, '红码申诉')"
            )
        )
    db.dispose()


def test_an_older_revision_is_upgraded_in_place_with_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _old_project(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0001"
    with Project.open(path) as p:
        assert migrate.current_revision(p.db) == migrate.head_revision() == "0007"
        doc = p.corpus.document("1-1")
        assert [x.text for x in doc.passages] == ["健康码互认", "红码申诉"]
        # Rows written before 0002 are found by the scan, then by the index once built.
        assert p.corpus.search("健康码互").total == 1
        assert p.corpus.build_search_index() == 2
        assert p.corpus.search("健康码互").total == 1
        assert p.corpus.search("红码").hits[0].document == "1-1"
    backups = list(tmp_path.glob("old.db.bak-0001"))
    assert len(backups) == 1
    with sqlite3.connect(backups[0]) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0001"


def test_a_current_project_is_not_touched(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    Project.create(path).close()
    with Project.open(path) as p:
        assert migrate.upgrade(p.db) is False
    assert not list(tmp_path.glob("*.bak-*"))


def test_sqlite_pragmas_are_set(tmp_path: Path) -> None:
    with Project.create(tmp_path / "p.db") as p, p.db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_the_known_head_is_alembics_head() -> None:
    assert migrate.head_revision() == migrate.HEAD


def test_tables_rebuilt_by_a_migration_keep_their_referenced_rows(tmp_path: Path) -> None:
    """A coder with codings survives migrations that rebuild the coder table (SQLite batch mode)."""
    path = tmp_path / "coded.db"
    _old_project(path)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(
            "INSERT INTO coder (id, name, role, created_at) VALUES (1, 'lin', 'coder', '2026-01-01')"
        )
        conn.execute(
            "INSERT INTO concept (id, name, position, created_at) VALUES (1, '健康码', 1, '2026-01-01')"
        )
        conn.execute(
            'INSERT INTO coding (coder_id, concept_id, document_id, passage_id, start, "end", snippet, '
            "assisted, created_at) VALUES (1, 1, 1, 1, 0, 5, '健康码互认', 0, '2026-01-01')"
        )
    with Project.open(path, user="lin") as p:
        assert migrate.current_revision(p.db) == migrate.head_revision()
        assert [c.concept for c in p.coding.document_codings("1-1")] == ["健康码"]
        with p.db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
