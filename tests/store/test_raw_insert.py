"""``store.raw.insert_many`` stores exactly what SQLAlchemy's own insert stores, on both backends."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import insert, select

from groundcode.project import Project
from groundcode.store.raw import fetch_rows, insert_many
from groundcode.store.tables import AuditLog, utcnow


def test_insert_many_equals_an_orm_insert(project: Project) -> None:
    table = AuditLog.__table__  # type: ignore[attr-defined]
    now = utcnow()
    after = [json.dumps({"n": i, "text": "红码申诉"}, ensure_ascii=False) for i in range(3)]
    with project.db.session() as s:
        s.execute(
            insert(table),
            [
                {
                    "at": now,
                    "actor": f"甲{i}",
                    "action": "test.orm",
                    "entity": "coding",
                    "entity_id": i,
                    "undone": False,
                    "after": a,
                }
                for i, a in enumerate(after)
            ],
        )
        insert_many(
            s,
            table,
            ("actor", "entity_id", "after"),
            [(f"甲{i}", i, a) for i, a in enumerate(after)],
            {"at": now, "action": "test.raw", "entity": "coding", "undone": False},
        )
        s.commit()
    with project.db.session() as s:
        rows = s.execute(
            select(
                table.c.action,
                table.c.at,
                table.c.actor,
                table.c.entity,
                table.c.entity_id,
                table.c.undone,
                table.c.after,
                table.c.before,
                table.c.login,
            )
            .where(table.c.action.in_(["test.orm", "test.raw"]))
            .order_by(table.c.id)
        ).all()
        # As the driver holds them (SQLite: the text of the time), not only as read back.
        stored = {
            action: fetch_rows(
                s, "SELECT at, undone FROM audit_log WHERE action = ? ORDER BY id", (action,)
            )
            for action in ("test.orm", "test.raw")
        }
    assert stored["test.raw"] == stored["test.orm"]
    orm = [tuple(r[1:]) for r in rows if r[0] == "test.orm"]
    raw = [tuple(r[1:]) for r in rows if r[0] == "test.raw"]
    assert len(orm) == 3 and raw == orm
    assert raw[0][0] == now  # the time reads back as the same aware datetime


def test_insert_many_refuses_a_row_column_that_needs_conversion(project: Project) -> None:
    table = AuditLog.__table__  # type: ignore[attr-defined]
    with project.db.session() as s, pytest.raises(TypeError, match="audit_log.at"):
        insert_many(s, table, ("at", "actor"), [(utcnow(), "甲")])
