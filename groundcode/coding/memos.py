"""The memos room: the one writer of ``memo`` rows.

A memo is about the project, a document, a coding or a codebook item. Its
author alone edits or deletes it; in blind mode a coder reads only their own
memos (``store.access`` decides). The other rooms change memos only through
the in-transaction steps at the end of this module: the codings room when a
coding carries a memo or goes away, the codebook when an item is merged or
deleted.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert
from sqlmodel import Session, col, select

from groundcode.coding.records import MemoView
from groundcode.domain.errors import BadOption, Missing, NotFound
from groundcode.domain.paging import PAGE_SIZE, Page, check_window
from groundcode.domain.values import normalise_number
from groundcode.domain.vocab import MemoTarget
from groundcode.store.access import readable_coder_ids, require_actor
from groundcode.store.audit import record
from groundcode.store.context import Context
from groundcode.store.levels import LEVEL_TABLES
from groundcode.store.lookup import document_by_number
from groundcode.store.tables import Coder, Coding, Document, Memo, utcnow

if TYPE_CHECKING:
    import pandas as pd

MEMO_KINDS: tuple[str, ...] = tuple(MemoTarget)
_COLUMNS = ["id", "kind", "target", "author", "text", "created_at", "updated_at"]


class MemoService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _target(self, s: Session, kind: str, target: str | int | None) -> int | None:
        if kind not in MEMO_KINDS:
            raise BadOption(option="kind", value=kind, allowed=", ".join(MEMO_KINDS))
        if kind == "project":
            return None
        if target is None:
            raise Missing("memo_target", detail=kind)
        if kind == "document":
            return document_by_number(s, str(target)).id
        if kind == "coding":
            me = require_actor(s, self.ctx.actor)
            c = s.get(Coding, int(target))
            visible = readable_coder_ids(s, me.name)
            if c is None or (visible is not None and c.coder_id not in visible):
                raise NotFound(kind="coding", name=str(target))
            return c.id
        table = LEVEL_TABLES[kind]
        row = s.execute(select(table).where(table.name == str(target))).scalars().first()
        if row is None:
            raise NotFound(kind=kind, name=str(target))
        return int(row.id)

    def add_memo(self, kind: str, target: str | int | None, text: str) -> MemoView:
        if not text.strip():
            raise Missing("memo_text")

        def _do(s: Session) -> MemoView:
            me = require_actor(s, self.ctx.actor, "memo.add")
            tid = self._target(s, kind, target)
            m = Memo(target_kind=kind, target_id=tid, author=me.name, text=text)
            s.add(m)
            s.flush()
            assert m.id is not None
            record(
                s,
                actor=me.name,
                action="memo.add",
                entity="memo",
                entity_id=m.id,
                after={"kind": kind, "target": tid},
            )
            shown = None if target is None else str(target)
            if kind == MemoTarget.DOCUMENT and target is not None:
                shown = normalise_number(str(target))
            return MemoView(m.id, kind, shown, me.name, text, m.created_at, m.updated_at)

        return self.ctx.db.run(_do)

    def edit_memo(self, memo_id: int, text: str) -> None:
        def _do(s: Session) -> None:
            me = require_actor(s, self.ctx.actor, "memo.edit")
            m = s.get(Memo, memo_id)
            if m is None or m.author != me.name:
                raise NotFound(kind="memo", name=f"{memo_id} ({me.name})")
            before = m.text
            m.text, m.updated_at = text, utcnow()
            s.add(m)
            record(
                s,
                actor=me.name,
                action="memo.edit",
                entity="memo",
                entity_id=m.id,
                before={"text": before},
                after={"text": text},
            )

        self.ctx.db.run(_do)

    def delete_memo(self, memo_id: int) -> None:
        def _do(s: Session) -> None:
            me = require_actor(s, self.ctx.actor, "memo.delete")
            m = s.get(Memo, memo_id)
            if m is None or m.author != me.name:
                raise NotFound(kind="memo", name=f"{memo_id} ({me.name})")
            record(
                s,
                actor=me.name,
                action="memo.delete",
                entity="memo",
                entity_id=m.id,
                before={"text": m.text, "kind": m.target_kind, "target": m.target_id},
            )
            s.delete(m)

        self.ctx.db.run(_do)

    def _readable(self, s: Session, kind: str | None) -> Any:
        """The memo select the acting user may read: in blind mode a coder's own only."""
        visible = readable_coder_ids(s, self.ctx.actor)
        q = select(Memo).order_by(col(Memo.created_at), col(Memo.id))
        if kind:
            q = q.where(col(Memo.target_kind) == kind)
        if visible is not None:
            names = list(s.execute(select(Coder.name).where(col(Coder.id).in_(visible))).scalars())
            q = q.where(col(Memo.author).in_(names))
        return q

    def memos(self, *, kind: str | None = None, search: str | None = None) -> pd.DataFrame:
        """Memos the acting user may read: in blind mode a coder sees only their own."""
        import pandas as pd

        with self.ctx.db.read() as s:
            rows: list[Memo] = list(s.execute(self._readable(s, kind)).scalars())
            if search:
                rows = [m for m in rows if search.lower() in m.text.lower()]
            labels = _targets(s, rows)
        out = [
            {
                "id": m.id,
                "kind": m.target_kind,
                "target": labels.get((m.target_kind, m.target_id or 0)),
                "author": m.author,
                "text": m.text,
                "created_at": m.created_at,
                "updated_at": m.updated_at,
            }
            for m in rows
        ]
        return pd.DataFrame(out, columns=_COLUMNS)

    def memos_page(
        self,
        *,
        kind: str | None = None,
        search: str | None = None,
        offset: int = 0,
        limit: int = PAGE_SIZE,
    ) -> Page[MemoView]:
        """Rows ``offset`` .. ``offset + limit`` of ``memos(kind=..., search=...)``, in the same order.

        The search is a case-insensitive substring match in SQL (the database folds
        the case of ASCII letters; Chinese has none to fold).
        """
        check_window(offset, limit)
        with self.ctx.db.read() as s:
            q = self._readable(s, kind)
            if search:
                q = q.where(func.lower(col(Memo.text)).contains(search.lower(), autoescape=True))
            rows: list[Memo] = list(s.execute(q.offset(offset).limit(limit + 1)).scalars())
            more = len(rows) > limit
            rows = rows[:limit]
            labels = _targets(s, rows)
        items = tuple(
            MemoView(
                int(m.id or 0),
                m.target_kind,
                labels.get((m.target_kind, m.target_id or 0)),
                m.author,
                m.text,
                m.created_at,
                m.updated_at,
            )
            for m in rows
        )
        return Page(items, offset, limit, more)


def _targets(s: Session, memos: list[Memo]) -> dict[tuple[str, int], str]:
    """What each memo is about, as ``memos()`` shows it, read for these memos only."""
    out: dict[tuple[str, int], str] = {}
    wanted: dict[str, set[int]] = {}
    for m in memos:
        if m.target_kind == "coding":
            out[("coding", m.target_id or 0)] = str(m.target_id)
        elif m.target_kind != "project" and m.target_id is not None:
            wanted.setdefault(m.target_kind, set()).add(m.target_id)
    for kind, ids in wanted.items():
        table: Any = Document if kind == "document" else LEVEL_TABLES[kind]
        label = table.number if kind == "document" else table.name
        for rid, name in s.execute(select(table.id, label).where(table.id.in_(ids))).all():
            out[(kind, rid)] = name
    return out


# -- steps other rooms take inside their own transaction ---------------------
def attach_to_coding(s: Session, coding_id: int, author: str, text: str) -> None:
    """A memo written with a coding (the codings room's ``apply(memo=...)``)."""
    s.add(Memo(target_kind="coding", target_id=coding_id, author=author, text=text))


def insert_coding_memos(s: Session, rows: list[dict[str, Any]]) -> None:
    """Memos of imported codings, in bulk (``target_kind`` coding, timestamps given)."""
    if rows:
        s.execute(insert(Memo), rows)


def drop_coding_memos(s: Session, coding_ids: Iterable[int]) -> None:
    """A coding that goes takes its memos with it."""
    ids = list(coding_ids)
    if ids:
        s.execute(
            delete(Memo).where(col(Memo.target_kind) == "coding", col(Memo.target_id).in_(ids))
        )


def retarget_memos(s: Session, kind: str, old_id: int, new_id: int | None) -> int:
    """Memos follow a merged item to the survivor, or a deleted one up to the project."""
    memos = s.exec(select(Memo).where(Memo.target_kind == kind, Memo.target_id == old_id)).all()
    for memo in memos:
        if new_id is None:
            memo.target_kind, memo.target_id = "project", None
        else:
            memo.target_id = new_id
        s.add(memo)
    return len(memos)
