"""Every table is classified for team mode: shared by all members, or kept per person by policies."""

from __future__ import annotations

from groundcode.store.identity import RLS_TABLES, SHARED_TABLES
from groundcode.store.tables import metadata


def test_every_table_is_shared_or_has_row_level_policies() -> None:
    tables = set(metadata.tables)
    assert not set(SHARED_TABLES) & set(RLS_TABLES)
    unclassified = tables - set(SHARED_TABLES) - set(RLS_TABLES)
    assert not unclassified, f"decide who reads and writes {sorted(unclassified)} in team mode"
    assert {"coding", "memo", "done_mark", "assignment", "audit_log", "setting"} <= set(RLS_TABLES)
