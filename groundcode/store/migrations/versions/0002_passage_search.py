"""full-text search over passages

SQLite: a contentless FTS5 index of character bigrams over ``passage``
(``groundcode.store.search_tokens``), so terms of two or more characters are
found through their bigrams, then checked literally. Indexing costs about as
much as the import itself, so the index is an accelerator filled after
imports (``CorpusService.build_search_index``, run by the TUI in the
background and by ``groundcode index``): the setting ``search_indexed_upto``
is the highest passage id indexed, search scans the rest with ``instr``, and
triggers keep indexed rows in step when text is redacted. One-character terms
always use the scan. PostgreSQL: a pg_trgm GIN index when the extension can be
created, else nothing (the search service then scans with ``strpos``).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE passage_fts USING fts5("
            "tokens, content='', tokenize='unicode61 remove_diacritics 0', detail=none)"
        )
        indexed = "(SELECT CAST(value AS INTEGER) FROM setting WHERE key = 'search_indexed_upto')"
        op.execute(
            f"CREATE TRIGGER passage_fts_ad AFTER DELETE ON passage WHEN old.id <= {indexed} BEGIN "
            "INSERT INTO passage_fts(passage_fts, rowid, tokens) VALUES('delete', old.id, gc_bigrams(old.text)); END"
        )
        op.execute(
            f"CREATE TRIGGER passage_fts_au AFTER UPDATE OF text ON passage WHEN old.id <= {indexed} BEGIN "
            "INSERT INTO passage_fts(passage_fts, rowid, tokens) VALUES('delete', old.id, gc_bigrams(old.text)); "
            "INSERT INTO passage_fts(rowid, tokens) VALUES (new.id, gc_bigrams(new.text)); END"
        )
        op.execute("INSERT OR REPLACE INTO setting(key, value) VALUES ('search_indexed_upto', '0')")
    elif bind.dialect.name == "postgresql":
        has = bind.exec_driver_sql(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'"
        ).first()
        if has:
            op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            op.execute(
                "CREATE INDEX IF NOT EXISTS ix_passage_text_trgm ON passage "
                "USING gin (text gin_trgm_ops)"
            )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DELETE FROM setting WHERE key = 'search_indexed_upto'")
        for trig in ("passage_fts_ad", "passage_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trig}")
        op.execute("DROP TABLE IF EXISTS passage_fts")
    elif bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_passage_text_trgm")
