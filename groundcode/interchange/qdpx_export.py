"""The project read for a ``.qdpx`` export in chunks, inside one read transaction.

At the reference size (102,000 documents, 400,000 codings) holding every
source with its text, codings and variable values before writing peaked near
750 MB and grew with the corpus. :class:`ProjectExport` reads the small,
whole-project part first (people, codebook, memos, the project facts) plus two
passes over keys only, then hands the sources to the streaming writer
(:func:`groundcode.interchange.refi_write.write_qdpx_stream`) a chunk of
documents at a time, with one query per chunk for each of their texts,
passages, codings, done marks and assignments. The caller keeps the session's
read transaction open across the whole write, so every chunk sees the same
snapshot.

The two key passes exist because the file has whole-project parts that come
before the sources:

* coding ranks: each source's ``groundcode: codings`` value carries every
  coding's rank in the project-wide (creation time, id) order; the pass keeps
  the visible coding ids in that order (8 bytes each) and the concepts used
  (which decide the codebook shown in blind mode);
* variable definitions: ``<Variables>`` precedes ``<Sources>`` and lists each
  variable where a source first uses it; the pass finds, over document keys
  and short columns only (never the texts), which source first has each field
  and each coder's done mark or assignment, and defines them in that order.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import func, literal, select
from sqlmodel import Session, col

from groundcode.interchange import facts as F
from groundcode.interchange.model import (
    QdaCoding,
    QdaProject,
    QdaSource,
    QdaSourceEntry,
    QdaUser,
    iter_codes,
)
from groundcode.interchange.refi_write import guid_for, safe_source_name
from groundcode.store.access import readable_coder_ids
from groundcode.store.edges import edge_of
from groundcode.store.settings import get_setting
from groundcode.store.tables import (
    Assignment,
    AuditLog,
    Coder,
    Coding,
    Document,
    DoneMark,
    Memo,
    ModelEdge,
    Passage,
    SourceType,
)

if TYPE_CHECKING:
    from groundcode.coding.views import CodebookTree
    from groundcode.interchange.service import InterchangeService

#: Documents per chunk at most: one query each for their texts, passages,
#: codings and marks, so the per-query cost is spread (and the ids stay within
#: SQLite's limit of bound parameters).
EXPORT_CHUNK = 1000
#: A chunk also ends once its texts reach this many characters or its codings
#: this many: 1,000 long documents would otherwise hold ~25 MB of text and
#: 100,000 codings at once (the reference project's media documents).
CHUNK_CHARS = 1_000_000
CHUNK_CODINGS = 10_000
#: Rows fetched at a time by the key passes (a server-side cursor on PostgreSQL).
_YIELD = 2_000

_DOC_COLUMNS = (
    col(Document.id),
    col(Document.number),
    col(Document.source_type_id),
    col(Document.title),
    col(Document.author),
    col(Document.date),
    col(Document.url),
    col(Document.views),
    col(Document.content_hash),
    col(Document.status),
    col(Document.exclusion_kind),
    col(Document.exclusion_detail),
    col(Document.split),
)
_FIELD_INDEX = {fld: i for i, (fld, _name, _kind) in enumerate(F.SOURCE_FIELDS)}


def _facts(d: Any, type_name: str | None, passages: str, codings: str) -> dict[str, Any]:
    """A document's source facts as :meth:`FactVariables.source_values` takes them."""
    return {
        "number": d.number,
        "type": int(d.source_type_id),
        "type_name": type_name,
        "title": d.title,
        "author": d.author,
        "date": d.date,
        "url": d.url,
        "views": d.views,
        "split": d.split,
        "status": d.status,
        "exclusion_kind": d.exclusion_kind,
        "exclusion_detail": d.exclusion_detail,
        "content_hash": d.content_hash,
        "passages": passages,
        "codings": codings,
    }


class ProjectExport:
    """The whole-project part of an export (``head``) and its sources as chunks.

    Build it and consume :meth:`chunks` inside the same ``ctx.db.read()``
    session: the chunks are read lazily from that transaction.
    """

    def __init__(
        self,
        service: InterchangeService,
        s: Session,
        tree: CodebookTree,
        *,
        include_personal: bool,
    ) -> None:
        from groundcode.interchange.service import (
            KEY_PREFIX,
            LEVEL_TABLES,
            ORIGIN,
            TRAVELLING_EVENTS,
            TRAVELLING_SETTINGS,
            _concept_history,
            _ghost_nodes,
        )

        self._s = s
        # Core statements on the session's own connection (same transaction): the
        # ORM's result wrapping costs seconds over 500,000 plain rows.
        self._c = s.connection()
        self._include_personal = include_personal
        self.variables = F.FactVariables()
        hidden = service._hidden_creators(s)
        name = get_setting(s, "name")
        visible = readable_coder_ids(s, service.ctx.actor)
        people = [
            c
            for c in s.execute(select(Coder).order_by(col(Coder.id))).scalars()
            if visible is None or c.id in visible
        ]
        self._coder_name = coder_name = {int(c.id): c.name for c in people if c.id is not None}
        users = [QdaUser(key=f"coder:{c.id}", name=c.name) for c in people]
        self._types = types = {
            t.id: t for t in s.execute(select(SourceType).order_by(col(SourceType.id))).scalars()
        }

        used = self._rank_pass()
        codes = service._qda_codes(tree, hidden, used)
        self._doc_ids = self._define_pass()

        names = set(coder_name.values())
        memos = [
            m for m in s.execute(select(Memo).order_by(col(Memo.id))).scalars() if m.author in names
        ]
        self._coding_memo: dict[int, str] = {}
        for m in memos:
            if m.target_kind == "coding" and m.target_id is not None:
                self._coding_memo.setdefault(int(m.target_id), m.text)
        memo_docs = self._exported(
            {int(m.target_id) for m in memos if m.target_kind == "document" and m.target_id}
        )
        nodes: dict[str, dict[str, Any]] = {}
        for level, table in LEVEL_TABLES.items():
            extra = {"category": "number", "main_category": "number"}.get(level)
            if level == "concept" and hasattr(table, "definition_group"):
                extra = "definition_group"
            cols = [col(table.id), col(table.created_at)] + (
                [col(getattr(table, extra))] if extra else []
            )
            for row in s.execute(select(*cols)):
                key = guid_for("code", f"{KEY_PREFIX[level]}:{row[0]}")
                nodes[key] = {"level": level, "created": F.micros(row[1])}
                if len(row) > 2 and row[2]:
                    nodes[key]["group" if level == "concept" else "number"] = row[2]
        settings = {k: get_setting(s, k) for k in TRAVELLING_SETTINGS}
        events = [
            {
                "action": e.action,
                "at": F.micros(e.at),
                "actor": e.actor,
                "entity": e.entity,
                "after": e.after,
            }
            for e in s.execute(
                select(AuditLog)
                .where(col(AuditLog.action).in_(TRAVELLING_EVENTS), col(AuditLog.undone).is_(False))
                .order_by(col(AuditLog.id))
            ).scalars()
        ]
        edges = [
            list(edge_of(e).flat())
            for e in s.execute(
                select(ModelEdge).order_by(col(ModelEdge.position), col(ModelEdge.id))
            )
            .scalars()
            .all()
        ]
        roles = {c.name: c.role for c in people}
        history = _concept_history(s)
        ghosts = _ghost_nodes(s)

        coder_key = {n: f"coder:{i}" for i, n in coder_name.items()}
        notes = service._notes(memos, memo_docs, {c.key for c in iter_codes(codes)}, coder_key)
        holdout = settings.get("holdout_start") or settings.get("holdout_started_at") or ""
        try:
            holdout_start = datetime.fromisoformat(holdout) if holdout else None
        except ValueError:
            holdout_start = None
        case = self.variables.project_case(
            holdout_start,
            {
                "roles": roles,
                "settings": {k: v for k, v in settings.items() if v != ""},
                "nodes": nodes,
                "source_types": {str(t.id): [t.name_zh, t.name_en, t.slug] for t in types.values()},
                "events": events,
                "edges": edges,
                "concept_history": history,
                "ghosts": ghosts,
            },
        )
        self.head = QdaProject(
            name=name,
            origin=ORIGIN,
            users=users,
            codes=codes,
            notes=notes,
            variables=self.variables.definitions(),
            cases=[case],
        )

    def _exported_only(self, q: Any) -> Any:
        """``q`` (over documents) without the personal ones unless they are asked for."""
        return q if self._include_personal else q.where(col(Document.personal).is_(False))

    def _exported(self, ids: set[int]) -> set[int]:
        """Which of ``ids`` are documents this export carries (memo targets: a few)."""
        found: set[int] = set()
        wanted = sorted(ids)
        for i in range(0, len(wanted), EXPORT_CHUNK):
            part = wanted[i : i + EXPORT_CHUNK]
            q = select(col(Document.id)).where(col(Document.id).in_(part))
            found.update(int(d) for d in self._c.execute(self._exported_only(q)).scalars())
        return found

    def _rank_pass(self) -> set[int]:
        """Visible coding ids in (creation time, id) order; returns the concepts they use."""
        visible = col(Coding.coder_id).in_(list(self._coder_name))
        on_document = col(Document.id) == col(Coding.document_id)
        q = (
            select(col(Coding.id))
            .join(Document, on_document)
            .where(visible)
            .order_by(col(Coding.created_at), col(Coding.id))
            .execution_options(yield_per=_YIELD)
        )
        ordered = array("q", self._c.execute(self._exported_only(q)).scalars())
        used_q = (
            select(col(Coding.concept_id)).distinct().join(Document, on_document).where(visible)
        )
        used = {int(k) for k in self._c.execute(self._exported_only(used_q)).scalars()}
        by_rank = np.frombuffer(ordered, dtype=np.int64) if ordered else np.zeros(0, np.int64)
        #: Sorted coding ids and, for each, its rank: a chunk's ranks by binary search.
        self._rank_of = np.argsort(by_rank, kind="stable")
        self._sorted_ids = by_rank[self._rank_of]
        return used

    def _first_marks(self, table: type[DoneMark] | type[Assignment]) -> dict[int, list[str]]:
        """Per document, the coders whose done mark (or assignment) is first on it."""
        first: dict[int, list[str]] = {}
        for coder_id, coder in self._coder_name.items():
            q = (
                select(col(table.document_id))
                .join(Document, col(Document.id) == col(table.document_id))
                .where(col(table.coder_id) == coder_id)
                .order_by(col(Document.source_type_id), col(Document.seq))
                .limit(1)
            )
            did = self._c.execute(self._exported_only(q)).scalar()
            if did is not None:
                first.setdefault(int(did), []).append(coder)
        return first

    def _define_pass(self) -> array[int]:
        """Document ids in export order; defines the variables in first-use order.

        Also cuts the order into chunks (``_ends``) by count, characters and codings.

        Reads keys and short columns (never the texts). Within one source the
        fields come in :data:`facts.SOURCE_FIELDS` order, then the done marks
        and then the assignments by coder name, which is what sorting on
        (first source, group, field or coder) reproduces.
        """
        has_passage = (
            select(literal(1)).where(col(Passage.document_id) == col(Document.id)).exists()
        )
        n_codings = (
            select(func.count())
            .where(
                col(Coding.document_id) == col(Document.id),
                col(Coding.coder_id).in_(list(self._coder_name)),
            )
            .scalar_subquery()
        )
        q = (
            select(*_DOC_COLUMNS, func.length(col(Document.text)), has_passage, n_codings)
            .order_by(col(Document.source_type_id), col(Document.seq))
            .execution_options(yield_per=_YIELD)
        )
        done = self._first_marks(DoneMark)
        assigned = self._first_marks(Assignment)
        self._ends: array[int] = array("q", [0])
        ids: array[int] = array("q")
        first: dict[str, tuple[int, int, str, str, str]] = {}
        missing = set(_FIELD_INDEX)
        chars = codings = 0
        for position, d in enumerate(self._c.execute(self._exported_only(q))):
            did = int(d.id)
            if ids and (
                len(ids) - self._ends[-1] >= EXPORT_CHUNK
                or chars >= CHUNK_CHARS
                or codings >= CHUNK_CODINGS
            ):
                self._ends.append(len(ids))
                chars = codings = 0
            ids.append(did)
            chars += int(d[-3] or 0)
            codings += int(d[-1] or 0)
            if missing:
                for fld in sorted(missing, key=_FIELD_INDEX.__getitem__):
                    value = self._field(d, fld)
                    if value is None or value == "":
                        continue
                    _f, name, kind = F.SOURCE_FIELDS[_FIELD_INDEX[fld]]
                    first[name] = (position, 0, f"{_FIELD_INDEX[fld]:04d}", name, kind)
                    missing.discard(fld)
            for coder in done.get(did, ()):
                name = F.DONE_PREFIX + coder
                first[name] = (position, 1, coder, name, "DateTime")
            for coder in assigned.get(did, ()):
                name = F.ASSIGNED_PREFIX + coder
                first[name] = (position, 2, coder, name, "DateTime")
        for _p, _g, _k, name, kind in sorted(first.values()):
            self.variables.define(name, kind)
        self._ends.append(len(ids))
        return ids

    def _field(self, d: Any, fld: str) -> Any:
        """One field of a key-pass row as :func:`_facts` gives it (passages, codings: any mark)."""
        if fld == "type_name":
            stype = self._types.get(d.source_type_id)
            return stype.name_zh if stype else None
        if fld == "type":
            return d.source_type_id
        if fld == "passages":
            return "x" if d[-2] else ""
        if fld == "codings":
            return "x" if d[-1] else ""
        return getattr(d, fld)

    def chunks(self) -> Iterator[list[QdaSourceEntry]]:
        """The sources in export order, a chunk at a time (see :data:`EXPORT_CHUNK`)."""
        c = self._c
        coders = self._coder_name
        for i, j in zip(self._ends[:-1], self._ends[1:], strict=True):
            part = self._doc_ids[i:j].tolist()
            if not part:
                continue
            docs = {
                int(d.id): d
                for d in c.execute(
                    select(*_DOC_COLUMNS, col(Document.text)).where(col(Document.id).in_(part))
                )
            }
            spans: dict[int, list[tuple[int, int]]] = {}
            for did, a, b in c.execute(
                select(col(Passage.document_id), col(Passage.start), col(Passage.end))
                .where(col(Passage.document_id).in_(part))
                .order_by(col(Passage.document_id), col(Passage.idx))
            ):
                spans.setdefault(int(did), []).append((int(a), int(b)))
            rows: list[tuple[Any, ...]] = [
                tuple(r)
                for r in c.execute(
                    select(
                        col(Coding.id),
                        col(Coding.coder_id),
                        col(Coding.concept_id),
                        col(Coding.document_id),
                        col(Coding.start),
                        col(Coding.end),
                        col(Coding.created_at),
                        col(Coding.assisted),
                    )
                    .where(col(Coding.document_id).in_(part))
                    .order_by(col(Coding.created_at), col(Coding.id))
                )
                if int(r[1]) in coders
            ]
            ranks = self._ranks([int(r[0]) for r in rows])
            codings: dict[int, list[QdaCoding]] = {}
            per_doc: dict[int, list[F.CodingFact]] = {}
            for rank, (cid, coder_id, concept_id, did, start, end, created, assisted) in zip(
                ranks, rows, strict=True
            ):
                codings.setdefault(int(did), []).append(
                    QdaCoding(
                        key=f"coding:{cid}",
                        source_key=f"document:{did}",
                        start=int(start),
                        end=int(end),
                        code_key=f"concept:{concept_id}",
                        user_key=f"coder:{coder_id}",
                        created=created,
                        memo=self._coding_memo.get(int(cid)),
                    )
                )
                per_doc.setdefault(int(did), []).append(F.CodingFact(rank, created, bool(assisted)))
            done = self._marks(DoneMark, col(DoneMark.marked_at), part)
            assigned = self._marks(Assignment, col(Assignment.assigned_at), part)
            entries: list[QdaSourceEntry] = []
            for did in part:
                d = docs[did]
                entries.append(
                    (self._source(d, spans, per_doc, done, assigned), codings.get(did, []))
                )
            yield entries

    def _ranks(self, coding_ids: Sequence[int]) -> list[int]:
        """Project-wide ranks of visible codings (see :meth:`_rank_pass`)."""
        if not coding_ids:
            return []
        at = np.searchsorted(self._sorted_ids, np.asarray(coding_ids, dtype=np.int64))
        return [int(r) for r in self._rank_of[at]]

    def _marks(
        self, table: type[DoneMark] | type[Assignment], when: Any, part: list[int]
    ) -> dict[int, dict[str, datetime]]:
        """Per document of the chunk, visible coder name -> time of the mark."""
        out: dict[int, dict[str, datetime]] = {}
        for coder_id, did, at in self._c.execute(
            select(col(table.coder_id), col(table.document_id), when).where(
                col(table.document_id).in_(part)
            )
        ):
            name = self._coder_name.get(int(coder_id))
            if name is not None:
                out.setdefault(int(did), {})[name] = at
        return out

    def _source(
        self,
        d: Any,
        spans: dict[int, list[tuple[int, int]]],
        per_doc: dict[int, list[F.CodingFact]],
        done: dict[int, dict[str, datetime]],
        assigned: dict[int, dict[str, datetime]],
    ) -> QdaSource:
        did = int(d.id)
        stype = self._types.get(d.source_type_id)
        title = d.title.strip() if isinstance(d.title, str) else ""
        shown = f"{d.number} {title}" if title else str(d.number)
        values = self.variables.source_values(
            _facts(
                d,
                stype.name_zh if stype else None,
                F.encode_passages(spans.get(did, [])),
                F.encode_codings(per_doc.get(did, [])),
            ),
            done.get(did, {}),
            assigned.get(did, {}),
        )
        return QdaSource(
            key=f"document:{did}",
            name=safe_source_name(shown, str(d.number)),
            text=d.text,
            description=(
                f"{stype.name_zh if stype else d.source_type_id}; "
                f"split: {d.split or '-'}; {d.status}"
            ),
            values=values,
        )
