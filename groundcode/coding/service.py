"""The codings room: codings on spans, their history (undo/redo), codings files.

The one writer of ``coding`` rows: apply, in-vivo, remove, change span, the
codings CSV, and (through the in-transaction steps at the end of this module)
the codebook's merges, splits and deletes that move codings to another
concept. People and blind mode live in ``groundcode.people``, memos in
``coding.memos``, the read-only queries over codings in ``analysis.queries``.

Rules enforced here (not in any UI):

* every coding belongs to exactly one coder; a coder changes only their own;
* in blind mode (SPEC §7) reads return only the acting coder's codings
  unless the actor is a lead; an anonymous read is refused;
* every change is one short transaction with its audit-log row, so what a
  caller was told is saved has been committed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from groundcode.coding import codings_csv, history
from groundcode.coding import memos as memo_steps
from groundcode.coding.codes import clean_name, ensure_concept, find_concept
from groundcode.coding.records import (
    MAX_SNIPPET,
    CodingsImport,
    CodingView,
    UndoResult,
)
from groundcode.domain.errors import (
    BadOption,
    Conflict,
    Missing,
    NotFound,
    Refused,
    SpanOutside,
)
from groundcode.domain.levels import parse_level
from groundcode.domain.paging import PAGE_SIZE, Page, check_window
from groundcode.domain.values import DocNumber, normalise_number
from groundcode.store.access import (
    readable_coder_ids,
    require_actor,
)
from groundcode.store.audit import record
from groundcode.store.context import Context
from groundcode.store.levels import LEVEL_TABLES
from groundcode.store.lookup import document_by_number, row_id
from groundcode.store.tables import (
    Category,
    Coder,
    Coding,
    Concept,
    Document,
    Passage,
    SourceType,
    utcnow,
)

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy import ColumnElement


def _doc(s: Session, number: DocNumber | str) -> Document:
    return document_by_number(s, number)


def _passage_of(s: Session, doc_id: int, start: int, end: int) -> Passage | None:
    return (
        s.execute(
            select(Passage).where(
                col(Passage.document_id) == doc_id,
                col(Passage.start) <= start,
                col(Passage.end) >= end,
            )
        )
        .scalars()
        .first()
    )


def _coding_state(c: Coding) -> dict[str, Any]:
    return {
        "coder_id": c.coder_id,
        "concept_id": c.concept_id,
        "document_id": c.document_id,
        "passage_id": c.passage_id,
        "start": c.start,
        "end": c.end,
        "assisted": c.assisted,
    }


class CodingService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _readable(self, s: Session, coders: Sequence[str] | None) -> list[int] | None:
        """The coder ids the acting user may read among ``coders`` (None: all they may see).

        The one blind-mode question every read of codings asks (``store.access``).
        """
        return readable_coder_ids(s, self.ctx.actor, list(coders) if coders else None)

    # -- applying codes --------------------------------------------------
    def apply(
        self,
        document: str,
        concept: str,
        *,
        passage: int | None = None,
        start: int | None = None,
        end: int | None = None,
        assisted: bool = False,
        memo: str | None = None,
    ) -> CodingView:
        """Apply ``concept`` (created if new) to a passage or a code-point span."""

        def _do(s: Session) -> CodingView:
            # One short transaction of plain statements (no ORM objects, no statement
            # building): this runs on every keystroke that codes. Anything unusual (an
            # unknown name, a new concept, a coding that exists) takes the ORM's path.
            q = _Driver(s)
            me = q.one("SELECT id, name, role FROM coder WHERE name = ?", self.ctx.actor)
            if me is None or me[2] == "consensus":
                require_actor(s, self.ctx.actor)  # raises the right error
                raise AssertionError("unreachable")
            me_id, me_name = me[0], me[1]
            doc = q.one(
                "SELECT id, number, length(text) FROM document WHERE number = ?",
                normalise_number(document),
            )
            if doc is None:
                _doc(s, document)  # raises NotFound
                raise AssertionError("unreachable")
            doc_id, number, length = doc[0], doc[1], int(doc[2])
            pas: Any = None  # (id, idx)
            snippet: str | None = None
            if passage is not None:
                row = q.one(
                    'SELECT id, idx, start, "end", text FROM passage '
                    "WHERE document_id = ? AND idx = ?",
                    doc_id,
                    passage,
                )
                if row is None:
                    raise NotFound(kind="passage", name=f"{number} #{passage}")
                pas = (row[0], row[1])
                if start is None and end is None:
                    a, b, snippet = row[2], row[3], row[4]
                else:
                    a = row[2] if start is None else start
                    b = row[3] if end is None else end
            else:
                if start is None or end is None:
                    raise Missing("where_to_code")
                a, b = start, end
            if snippet is None:
                if not (0 <= a < b <= length):
                    raise SpanOutside(number, a, b, length)
                if passage is None:
                    pas = q.one(
                        "SELECT id, idx FROM passage WHERE document_id = ? AND start <= ? "
                        'AND "end" >= ? LIMIT 1',
                        doc_id,
                        a,
                        b,
                    )
                snippet = q.one(
                    "SELECT substr(text, ?, ?) FROM document WHERE id = ?", a + 1, b - a, doc_id
                )[0]
            assert snippet is not None
            con = q.one(
                "SELECT k.id, k.name, c.name FROM concept k "
                "LEFT JOIN category c ON c.id = k.category_id WHERE k.name = ?",
                clean_name(concept, "concept"),
            )
            created = False
            if con is None:
                made, created = ensure_concept(s, concept, actor=me_name)
                cat = s.get(Category, made.category_id) if made.category_id else None
                con_id, con_name, cat_name = row_id(made), made.name, cat.name if cat else None
            else:
                con_id, con_name, cat_name = con
            existing = q.one(
                "SELECT id FROM coding WHERE coder_id = ? AND concept_id = ? AND document_id = ? "
                'AND start = ? AND "end" = ?',
                me_id,
                con_id,
                doc_id,
                a,
                b,
            )
            if existing is not None:
                found = s.get(Coding, existing[0])
                assert found is not None
                return self._view(s, found)
            now = utcnow()
            state = {
                "coder_id": me_id,
                "concept_id": con_id,
                "document_id": doc_id,
                "passage_id": pas[0] if pas is not None else None,
                "start": a,
                "end": b,
                "assisted": assisted,
            }
            try:
                coding_id = q.one(
                    "INSERT INTO coding (coder_id, concept_id, document_id, passage_id, start, "
                    '"end", snippet, assisted, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) '
                    "RETURNING id",
                    me_id,
                    con_id,
                    doc_id,
                    state["passage_id"],
                    a,
                    b,
                    snippet[:MAX_SNIPPET],
                    q.flag(assisted),
                    q.time(now),
                )[0]
            except IntegrityError as exc:
                # The same coder's other session (PostgreSQL, read committed) committed
                # this very coding since the check above: say so, not the constraint.
                text = str(exc.orig)
                if "uq_coding_span" not in text and "failed: coding." not in text:
                    raise
                raise Conflict(what="already_coded", name=f"{number} {con_name}") from None
            after = state | {"concept": con_name, "document": number, "new_concept": created}
            q.one(
                "INSERT INTO audit_log (at, actor, action, entity, entity_id, before, after, "
                "undone) VALUES (?, ?, ?, ?, ?, NULL, ?, ?)",
                q.time(now),
                me_name,
                "coding.apply",
                "coding",
                coding_id,
                json.dumps(after, ensure_ascii=False, default=str, sort_keys=True),
                q.flag(False),
                fetch=False,
            )
            if memo:
                memo_steps.attach_to_coding(s, coding_id, me_name, memo)
            return CodingView(
                coding_id,
                me_name,
                con_name,
                con_id,
                cat_name,
                number,
                pas[1] if pas is not None else None,
                a,
                b,
                snippet[:MAX_SNIPPET],
                assisted,
                now,
            )

        return self.ctx.db.run(_do)

    def invivo(self, document: str, start: int, end: int, *, name: str | None = None) -> CodingView:
        """Code a span with a new concept named by its own words (in-vivo)."""
        with self.ctx.db.read() as s:
            doc = _doc(s, document)
            if not (0 <= start < end <= len(doc.text)):
                raise SpanOutside(doc.number, start, end, len(doc.text))
            words = name or " ".join(doc.text[start:end].split())[:40]
        return self.apply(document, words, start=start, end=end)

    def _resolve_span(
        self, s: Session, doc: Document, passage: int | None, start: int | None, end: int | None
    ) -> tuple[int, int, Passage | None]:
        if passage is not None:
            pas = (
                s.execute(
                    select(Passage).where(
                        col(Passage.document_id) == doc.id, col(Passage.idx) == passage
                    )
                )
                .scalars()
                .first()
            )
            if pas is None:
                raise NotFound(kind="passage", name=f"{doc.number} #{passage}")
            if start is None and end is None:
                return pas.start, pas.end, pas
            start = pas.start if start is None else start
            end = pas.end if end is None else end
        if start is None or end is None:
            raise Missing("where_to_code")
        if not (0 <= start < end <= len(doc.text)):
            raise SpanOutside(doc.number, start, end, len(doc.text))
        return start, end, _passage_of(s, row_id(doc), start, end)

    def _own_coding(self, s: Session, coding_id: int) -> tuple[Coder, Coding]:
        me = require_actor(s, self.ctx.actor)
        c = s.get(Coding, coding_id)
        if c is None or (c.coder_id != me.id):
            # Another coder's coding is reported as absent, not as forbidden: blind mode leaks nothing.
            raise NotFound(kind="coding", name=f"{coding_id} ({me.name})")
        return me, c

    def remove(self, coding_id: int) -> CodingView:
        """Remove one of the acting coder's codings; returns the view of what was removed.

        A front end drops that coding from what it shows, without reading the
        document's codings again.
        """

        def _do(s: Session) -> CodingView:
            me, c = self._own_coding(s, coding_id)
            gone = self._view(s, c)
            state = _coding_state(c) | {
                "id": c.id,
                "snippet": c.snippet,
                "created_at": c.created_at.isoformat(),
            }
            memo_steps.drop_coding_memos(s, [coding_id])
            s.delete(c)
            record(
                s,
                actor=me.name,
                action="coding.remove",
                entity="coding",
                entity_id=coding_id,
                before=state,
            )
            return gone

        return self.ctx.db.run(_do)

    def change_span(self, coding_id: int, start: int, end: int) -> CodingView:
        """Move one of the acting coder's codings to a new span; returns it as it now is."""

        def _do(s: Session) -> CodingView:
            me, c = self._own_coding(s, coding_id)
            doc = s.get(Document, c.document_id)
            assert doc is not None
            a, b, pas = self._resolve_span(s, doc, None, start, end)
            before = _coding_state(c)
            c.start, c.end, c.passage_id = a, b, pas.id if pas else None
            c.snippet = doc.text[a:b][:MAX_SNIPPET]
            s.add(c)
            record(
                s,
                actor=me.name,
                action="coding.span",
                entity="coding",
                entity_id=c.id,
                before=before,
                after=_coding_state(c),
            )
            return self._view(s, c)

        return self.ctx.db.run(_do)

    # -- undo / redo (``coding.history``) --------------------------------
    def undo(self) -> UndoResult | None:
        """Undo the acting coder's last coding change (apply, remove or span change)."""

        def _do(s: Session) -> UndoResult | None:
            me = require_actor(s, self.ctx.actor, "coding.undo")
            row = history.last_change(s, me)
            return None if row is None else history.flip(s, me, row, undo=True)

        return self.ctx.db.run(_do)

    def redo(self) -> UndoResult | None:
        """Redo the last undone change, unless a new change was made since."""

        def _do(s: Session) -> UndoResult | None:
            me = require_actor(s, self.ctx.actor, "coding.undo")
            row = history.last_undone(s, me)
            return None if row is None else history.flip(s, me, row, undo=False)

        return self.ctx.db.run(_do)

    # -- reading codings -------------------------------------------------
    def _view(self, s: Session, c: Coding) -> CodingView:
        """The one coding ``c`` as a view (read with the same select as a document's)."""
        found = _views(s, col(Coding.id) == c.id)
        assert found
        return found[0]

    def document_codings(
        self, document: str, *, coders: Sequence[str] | None = None
    ) -> list[CodingView]:
        """The codings on one document that the acting user may see, in text order."""
        with self.ctx.db.read() as s:
            visible = self._readable(s, coders)
            doc = _doc(s, document)
            where = [col(Coding.document_id) == doc.id]
            if visible is not None:
                where.append(col(Coding.coder_id).in_(visible))
            return _views(s, *where)

    def codings(
        self,
        *,
        coders: Sequence[str] | None = None,
        document: str | None = None,
        concept: str | None = None,
        category: str | None = None,
        split: str | None = None,
        include_personal: bool = True,
    ) -> pd.DataFrame:
        """Codings with their full category path, as a DataFrame (blind mode applies).

        Read in bulk (plain tuples, joined in pandas): large projects hold
        hundreds of thousands of codings and this feeds exports and queries.
        """
        import pandas as pd

        from groundcode.store.raw import fetch_frame, id_list

        cols = [
            "id",
            "coder",
            "document",
            "type",
            "split",
            "passage",
            "start",
            "end",
            "text",
            "concept",
            "category_number",
            "category",
            "main_category",
            "relation_class",
            "assisted",
            "created_at",
        ]
        with self.ctx.db.read() as s:
            visible = self._readable(s, coders)
            where = ["1=1"]
            params: list[Any] = []
            if visible is not None:
                where.append(f"c.coder_id IN {id_list(visible)}")
            if document:
                where.append("d.number = ?")
                params.append(normalise_number(document))
            if concept:
                where.append("k.name = ?")
                params.append(concept)
            if category:
                where.append("cat.name = ?")
                params.append(category)
            if split:
                where.append("d.split = ?")
                params.append(split)
            if not include_personal:
                where.append("d.personal = ?")
                params.append(False)
            frame = fetch_frame(
                s,
                'SELECT c.id, co.name, d.number, st.slug, d.split, p.idx, c.start, c."end", c.snippet, k.name, '
                "cat.number, cat.name, m.name, r.name, c.assisted, c.created_at, d.source_type_id, d.seq "
                "FROM coding c JOIN coder co ON co.id = c.coder_id JOIN document d ON d.id = c.document_id "
                "JOIN source_type st ON st.id = d.source_type_id JOIN concept k ON k.id = c.concept_id "
                "LEFT JOIN passage p ON p.id = c.passage_id LEFT JOIN category cat ON cat.id = k.category_id "
                "LEFT JOIN main_category m ON m.id = cat.main_category_id "
                "LEFT JOIN relation_class r ON r.id = m.relation_class_id WHERE "
                + " AND ".join(where),
                [*cols, "_t", "_n"],
                params,
            )
        frame = frame.sort_values(["_t", "_n", "start", "id"], kind="stable").drop(
            columns=["_t", "_n"]
        )
        frame = frame.reset_index(drop=True)
        frame["passage"] = frame["passage"].astype("Int64")
        frame["assisted"] = frame["assisted"].astype(bool)
        frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True, format="ISO8601")
        return frame

    # -- paged reads (screens): a page costs the same at any project size --------
    def segments_page(
        self,
        concept: str,
        *,
        level: str = "concept",
        coders: Sequence[str] | None = None,
        offset: int = 0,
        limit: int = PAGE_SIZE,
    ) -> Page[CodingView]:
        """Rows ``offset`` .. ``offset + limit`` of ``codings(concept=...)``, in the same order.

        ``level`` names a category or main category instead: its concepts' codings,
        merged in the same (document, start) order. Reads at most ``offset + limit + 1``
        codings per coder, concept and source type through the (coder, concept,
        document, start) index instead of building the whole frame, so the first
        page does not grow with the project.
        """
        check_window(offset, limit)
        with self.ctx.db.read() as s:
            visible = self._readable(s, coders)
            concept_ids = _concepts_under(s, concept, level)
            coder_ids = (
                visible if visible is not None else list(s.execute(select(col(Coder.id))).scalars())
            )
            found = _ordered_codings(
                s,
                offset + limit + 1,
                [
                    [col(Coding.coder_id) == cid, col(Coding.concept_id) == kid]
                    for cid in coder_ids
                    for kid in concept_ids
                ],
            )
            return _page(s, found, offset, limit)

    def segments_count(self, concept: str, *, coders: Sequence[str] | None = None) -> int:
        """How many codings ``segments_page`` pages through (one index range count)."""
        with self.ctx.db.read() as s:
            visible = self._readable(s, coders)
            con = find_concept(s, clean_name(concept))
            if con is None:
                raise NotFound("concept", concept)
            q = select(func.count()).select_from(Coding).where(col(Coding.concept_id) == con.id)
            if visible is not None:
                q = q.where(col(Coding.coder_id).in_(visible))
            return int(s.execute(q).scalar() or 0)

    def codings_page(
        self,
        *,
        coders: Sequence[str] | None = None,
        offset: int = 0,
        limit: int = PAGE_SIZE,
    ) -> Page[CodingView]:
        """Rows ``offset`` .. ``offset + limit`` of ``codings()``, in the same order."""
        check_window(offset, limit)
        with self.ctx.db.read() as s:
            visible = self._readable(s, coders)
            coder_ids = (
                visible if visible is not None else list(s.execute(select(col(Coder.id))).scalars())
            )
            found = _ordered_codings(
                s, offset + limit + 1, [[col(Coding.coder_id) == cid] for cid in coder_ids]
            )
            return _page(s, found, offset, limit)

    def codings_count(self, *, coders: Sequence[str] | None = None) -> int:
        """How many codings ``codings_page`` pages through (an index count: grows with codings)."""
        with self.ctx.db.read() as s:
            visible = self._readable(s, coders)
            q = select(func.count()).select_from(Coding)
            if visible is not None:
                q = q.where(col(Coding.coder_id).in_(visible))
            return int(s.execute(q).scalar() or 0)

    def next_uncoded(
        self, *, after: str | None = None, split: str | None = None
    ) -> tuple[str, int] | None:
        """The acting coder's next passage with no coding of theirs, in document order."""
        with self.ctx.db.read() as s:
            me = require_actor(s, self.ctx.actor)
            coded = select(col(Coding.passage_id)).where(
                col(Coding.coder_id) == me.id, col(Coding.passage_id).is_not(None)
            )
            q = (
                select(
                    col(Document.number),
                    col(Passage.idx),
                    col(Document.source_type_id),
                    col(Document.seq),
                )
                .join(Document, col(Document.id) == col(Passage.document_id))
                .where(col(Document.status) == "included", col(Passage.id).not_in(coded))
                .order_by(col(Document.source_type_id), col(Document.seq), col(Passage.idx))
            )
            if split:
                q = q.where(col(Document.split) == split)
            if after:
                cur = _doc(s, after)
                q = q.where(
                    (col(Document.source_type_id) > cur.source_type_id)
                    | and_(
                        col(Document.source_type_id) == cur.source_type_id,
                        col(Document.seq) >= cur.seq,
                    )
                )
            row = s.execute(q.limit(1)).first()
            return (row.number, row.idx) if row else None

    # -- codings files ---------------------------------------------------
    def import_csv(
        self, path: str | Path, *, coder: str | None = None, done: bool = False
    ) -> CodingsImport:
        """Import a codings CSV (SPEC §3) in one transaction; any bad row changes nothing.

        ``done``: also mark every document in the file done for the coder of its
        rows (SPEC §4: a coder who imports their work has judged those documents).
        The steps are ``coding.codings_csv``.
        """
        from groundcode.domain.collector import collector_held

        def _do(s: Session) -> CodingsImport:
            result = codings_csv.insert_rows(s, self.ctx, file, default_coder=coder)
            if done:
                result = codings_csv.mark_documents_done(s, self.ctx, file.rows, coder, result)
            return result

        # No cyclic collections while the rows pile up (domain.collector).
        with collector_held():
            file = codings_csv.parse(Path(path), coder)
            return self.ctx.db.run(_do)


_CODING_COLS = (
    col(Coding.id),
    col(Coding.coder_id),
    col(Coding.concept_id),
    col(Coding.document_id),
    col(Coding.passage_id),
    col(Coding.start),
    col(Coding.end),
    col(Coding.snippet),
    col(Coding.assisted),
    col(Coding.created_at),
)


def _concepts_under(s: Session, name: str, level: str) -> list[int]:
    """The ids of the concept ``name``, or of the concepts in the category or main category."""
    which = str(parse_level(level))
    if which == "concept":
        con = find_concept(s, clean_name(name))
        if con is None:
            raise NotFound("concept", name)
        return [int(con.id or 0)]
    table = LEVEL_TABLES[which]
    node = s.execute(select(table.id).where(table.name == clean_name(name))).scalar()
    if node is None:
        raise NotFound(which, name)
    q = select(col(Concept.id))
    if which == "category":
        q = q.where(col(Concept.category_id) == node)
    elif which == "main_category":
        q = q.join(Category, col(Category.id) == col(Concept.category_id)).where(
            col(Category.main_category_id) == node
        )
    else:
        raise BadOption(option="level", value=level, allowed="concept, category, main")
    return [int(k) for k in s.execute(q.order_by(col(Concept.id))).scalars()]


def _ordered_codings(s: Session, need: int, groups: list[list[Any]]) -> list[Any]:
    """The first ``need`` codings matching any of ``groups`` in document-number order.

    Document numbers order by (type, sequence), and within one source type
    document ids follow the sequence (both are given out in one import
    transaction), so each (type, group) is an index-ordered scan by
    (document id, start, id) with a ``LIMIT``; the groups of one type are
    merged. Types come in number order, so later types are read only while
    the page is not full.
    """
    types = list(s.execute(select(col(SourceType.id)).order_by(col(SourceType.id))).scalars())
    out: list[Any] = []
    for t in types:
        lo = s.execute(
            select(col(Document.id))
            .where(col(Document.source_type_id) == t)
            .order_by(col(Document.id))
            .limit(1)
        ).scalar()
        hi = s.execute(
            select(col(Document.id))
            .where(col(Document.source_type_id) == t)
            .order_by(col(Document.id).desc())
            .limit(1)
        ).scalar()
        if lo is None:
            continue
        rows: list[Any] = []
        for conds in groups:
            q = (
                select(*_CODING_COLS)
                .join(Document, col(Document.id) == col(Coding.document_id))
                .where(
                    *conds,
                    col(Coding.document_id) >= lo,
                    col(Coding.document_id) <= hi,
                    col(Document.source_type_id) == t,
                )
                .order_by(col(Coding.document_id), col(Coding.start), col(Coding.id))
                .limit(need - len(out))
            )
            rows.extend(s.execute(q).all())
        rows.sort(key=lambda r: (r.document_id, r.start, r.id))
        out.extend(rows[: need - len(out)])
        if len(out) >= need:
            break
    return out


def _views(s: Session, *where: ColumnElement[bool]) -> list[CodingView]:
    """Codings matching ``where`` as views, in text order: names joined in one select.

    ``document_codings`` and every single-coding result (``remove``, ``change_span``,
    an ``apply`` that found the coding already there) are built here; ``apply``'s
    plain-SQL path builds the same fields from the values it has just written.
    """
    q = (
        select(
            Coding,
            col(Coder.name),
            col(Concept.name),
            col(Category.name),
            col(Document.number),
            col(Passage.idx),
        )
        .join(Coder, col(Coder.id) == col(Coding.coder_id))
        .join(Concept, col(Concept.id) == col(Coding.concept_id))
        .join(Document, col(Document.id) == col(Coding.document_id))
        .outerjoin(Category, col(Category.id) == col(Concept.category_id))
        .outerjoin(Passage, col(Passage.id) == col(Coding.passage_id))
        .where(*where)
        .order_by(col(Coding.start), col(Coding.end), col(Coding.id))
    )
    return [
        CodingView(
            row_id(c),
            coder,
            concept,
            c.concept_id,
            cat,
            number,
            idx,
            c.start,
            c.end,
            c.snippet,
            c.assisted,
            c.created_at,
        )
        for c, coder, concept, cat, number, idx in s.execute(q).all()
    ]


def _page(s: Session, found: list[Any], offset: int, limit: int) -> Page[CodingView]:
    """CodingViews for rows ``offset`` .. ``offset + limit`` of ``found``, names read in bulk."""
    rows = found[offset : offset + limit]
    more = len(found) > offset + limit
    if not rows:
        return Page((), offset, limit, more)
    coders = dict(s.execute(select(col(Coder.id), col(Coder.name))).all())
    concept_ids = {r.concept_id for r in rows}
    concepts = {
        cid: (name, cat)
        for cid, name, cat in s.execute(
            select(col(Concept.id), col(Concept.name), col(Category.name))
            .outerjoin(Category, col(Category.id) == col(Concept.category_id))
            .where(col(Concept.id).in_(concept_ids))
        ).all()
    }
    numbers = dict(
        s.execute(
            select(col(Document.id), col(Document.number)).where(
                col(Document.id).in_({r.document_id for r in rows})
            )
        ).all()
    )
    pids = {r.passage_id for r in rows if r.passage_id is not None}
    idx = (
        dict(
            s.execute(
                select(col(Passage.id), col(Passage.idx)).where(col(Passage.id).in_(pids))
            ).all()
        )
        if pids
        else {}
    )
    items = tuple(
        CodingView(
            r.id,
            coders[r.coder_id],
            concepts[r.concept_id][0],
            r.concept_id,
            concepts[r.concept_id][1],
            numbers[r.document_id],
            idx.get(r.passage_id) if r.passage_id is not None else None,
            r.start,
            r.end,
            r.snippet,
            bool(r.assisted),
            r.created_at,
        )
        for r in rows
    )
    return Page(items, offset, limit, more)


class _Driver:
    """Plain SQL on a session's own connection and transaction, for the hot paths.

    Statements are written with ``?`` placeholders and sent as they are (SQLite)
    or with ``%s`` (psycopg); values are bound by the driver, never formatted in.
    SQLAlchemy's statement building costs several times the statement on SQLite,
    which matters for the one call a coder makes per keystroke.
    """

    def __init__(self, s: Session) -> None:
        conn = s.connection()
        self.sqlite = conn.dialect.name == "sqlite"
        self.conn = conn

    def one(self, sql: str, *params: Any, fetch: bool = True) -> Any:
        if not self.sqlite:
            sql = sql.replace("%", "%%").replace("?", "%s")
        result = self.conn.exec_driver_sql(sql, params)
        return result.fetchone() if fetch else None

    def time(self, value: Any) -> Any:
        # SQLAlchemy's SQLite DATETIME storage format (no zone: times are UTC).
        return value.strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else value

    def flag(self, value: bool) -> Any:
        return int(value) if self.sqlite else value


# -- steps the codebook takes inside its own transaction ---------------------
def move_codings(
    session: Session, source_id: int, target_id: int
) -> tuple[int, list[dict[str, Any]]]:
    """Move a concept's codings to ``target_id``, dropping those identical to one it has.

    Returns how many moved and the dropped duplicates (same coder, document
    and span), which the caller keeps in its audit row.
    """
    target_keys = {
        (c.coder_id, c.document_id, c.start, c.end)
        for c in session.execute(
            select(Coding).where(col(Coding.concept_id) == target_id)
        ).scalars()
    }
    dropped: list[dict[str, Any]] = []
    moving: list[int] = []
    for coding in session.execute(
        select(Coding).where(col(Coding.concept_id) == source_id).order_by(col(Coding.id))
    ).scalars():
        key = (coding.coder_id, coding.document_id, coding.start, coding.end)
        if key in target_keys:
            dropped.append(
                {
                    "id": coding.id,
                    "coder_id": coding.coder_id,
                    "document_id": coding.document_id,
                    "start": coding.start,
                    "end": coding.end,
                }
            )
        else:
            target_keys.add(key)
            assert coding.id is not None
            moving.append(coding.id)
    if dropped:
        session.execute(delete(Coding).where(col(Coding.id).in_([d["id"] for d in dropped])))
    for start in range(0, len(moving), 500):
        session.execute(
            update(Coding)
            .where(col(Coding.id).in_(moving[start : start + 500]))
            .values(concept_id=target_id)
        )
    session.expire_all()
    return len(moving), dropped


def codings_coded_with(
    session: Session, coding_ids: Sequence[int], concept_id: int, concept: str
) -> list[int]:
    """``coding_ids`` (sorted, once each) after checking each exists and carries ``concept``."""
    wanted = sorted(set(coding_ids))
    found = dict(
        session.execute(
            select(col(Coding.id), col(Coding.concept_id)).where(col(Coding.id).in_(wanted))
        ).all()
    )
    for cid in wanted:
        if cid not in found:
            raise NotFound(kind="coding", name=str(cid))
        if found[cid] != concept_id:
            raise Refused("not_coded_with", name=str(cid), detail=concept)
    return wanted


def recode(session: Session, coding_ids: Sequence[int], concept_id: int) -> None:
    """Give the codings ``coding_ids`` another concept (a split)."""
    for start in range(0, len(coding_ids), 500):
        session.execute(
            update(Coding)
            .where(col(Coding.id).in_(list(coding_ids[start : start + 500])))
            .values(concept_id=concept_id)
        )
    session.expire_all()
