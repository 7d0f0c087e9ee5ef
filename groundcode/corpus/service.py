"""The corpus service: import, screening, dedup, sampling, split, search, redaction.

Every decision is recorded (``screening_decision`` and ``audit_log``) and
nothing is deleted, so the funnel of SPEC §2 can always be recounted.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select, text, update
from sqlmodel import Session, col

from groundcode.corpus.views import (
    DedupReport,
    DocumentRow,
    DocumentView,
    DuplicateGroupView,
    ExclusionView,
    FileImport,
    Funnel,
    ImportReport,
    PassageView,
    RedactReport,
    SampleReport,
    ScreenReport,
    SearchHit,
    SearchResult,
    SourceTypeView,
    SplitReport,
    TypeFunnel,
)
from groundcode.domain.errors import (
    BadOption,
    CodedWouldMove,
    GroundcodeError,
    ImportStopped,
    InvalidInput,
    Missing,
    OutOfRange,
)
from groundcode.domain.paging import PAGE_SIZE, Page, check_window
from groundcode.domain.values import DocNumber
from groundcode.domain.vocab import DocStatus, ScreeningAction, Split
from groundcode.store.access import authorize
from groundcode.store.audit import record
from groundcode.store.context import Context
from groundcode.store.lookup import document_by_number
from groundcode.store.search_tokens import bigrams, query_bigrams
from groundcode.store.settings import get_setting, set_setting
from groundcode.store.tables import (
    Coding,
    Document,
    ImportBatch,
    Passage,
    ScreeningDecision,
    SourceType,
)

if TYPE_CHECKING:
    import pandas as pd

    from groundcode.corpus.readers import RawDocument

Progress = Callable[[int, int], None]

EXCLUSION_KINDS = (
    "duplicate",
    "irrelevant",
    "no_substance",
    "out_of_range",
    "not_sampled",
    "manual",
)
ROW_FORMATS = {".csv", ".xlsx", ".jsonl"}
SEGMENT_MODES = ("paragraph", "sentence", "whole")


def _phase(progress: Progress | None, lo: float, hi: float) -> Progress | None:
    """``progress`` for one phase of a file's import: its (done, total) mapped into [lo, hi]."""
    if progress is None:
        return None
    report = progress

    def scaled(done: int, total: int) -> None:
        total = max(1, total)
        report(int(total * (lo + (hi - lo) * min(done, total) / total)), total)

    return scaled


def _row_fields(r: Any) -> tuple[Any, ...]:
    """A documents-list row as ``DocumentRow`` fields (personal as bool, passages as int)."""
    return (*r[:12], bool(r[12]), int(r[13] or 0))


def _file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _snippet(text_: str, term: str, width: int = 24) -> str:
    pos = text_.find(term)
    if pos < 0:
        pos = text_.lower().find(term.lower())
    if pos < 0:
        return text_[: 2 * width].replace("\n", " ")
    start = max(0, pos - width)
    end = min(len(text_), pos + len(term) + width)
    out = text_[start:end].replace("\n", " ")
    return ("…" if start > 0 else "") + out + ("…" if end < len(text_) else "")


MAX_LIMIT = 100_000  # hits in one answer; page through more
MAX_SEED = 2**63 - 1  # seeds are stored as integers


def _check_seed(seed: int) -> None:
    """A seed is a whole number from 0 (numpy's generators take no negative seed)."""
    if not 0 <= seed <= MAX_SEED:
        raise BadOption(option="seed", value=str(seed)[:30], allowed=f"0..{MAX_SEED}")


def _included_documents(s: Session) -> list[Document]:
    """The included documents in number order (type, then sequence)."""
    return list(
        s.execute(
            select(Document)
            .where(col(Document.status) == "included")
            .order_by(col(Document.source_type_id), col(Document.seq))
        )
        .scalars()
        .all()
    )


class CorpusService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    # -- source types ----------------------------------------------------
    def source_types(self) -> list[SourceTypeView]:
        with self.ctx.db.read() as s:
            rows = s.execute(select(SourceType).order_by(col(SourceType.id))).scalars().all()
            return [SourceTypeView(r.id, r.name_zh, r.name_en, r.slug) for r in rows]

    def resolve_type(self, value: str | int) -> SourceTypeView:
        """A source type by number, slug, English or Chinese name (``4``, ``selfmedia``, ``自媒体``)."""
        key = str(value).strip().lower()
        for t in self.source_types():
            names = {str(t.id), t.slug.lower(), t.name_en.lower(), t.name_zh}
            names.add(t.name_en.lower().replace("-", "").replace(" ", ""))
            if key in names:
                return t
        known = ", ".join(f"{t.id} {t.slug} {t.name_zh}" for t in self.source_types())
        raise BadOption(option="type", value=str(value), allowed=known)

    def add_source_type(self, name_zh: str, name_en: str, slug: str) -> SourceTypeView:
        def _add(s: Session) -> SourceTypeView:
            authorize(s, self.ctx.actor, "corpus.source_type")
            next_id = (s.execute(select(func.max(col(SourceType.id)))).scalar() or 0) + 1
            row = SourceType(id=next_id, name_zh=name_zh, name_en=name_en, slug=slug)
            s.add(row)
            record(
                s,
                actor=self.ctx.actor,
                action="source_type.create",
                entity="source_type",
                entity_id=next_id,
                after={"name_zh": name_zh, "slug": slug},
            )
            return SourceTypeView(next_id, name_zh, name_en, slug)

        return self.ctx.db.run(_add)

    # -- import ----------------------------------------------------------
    def import_files(
        self,
        paths: Sequence[str | Path],
        *,
        type: str | int,
        text_column: str | None = None,
        title_column: str | None = None,
        date_column: str | None = None,
        views_column: str | None = None,
        url_column: str | None = None,
        author_column: str | None = None,
        segment: str | None = None,
        progress: Progress | None = None,
    ) -> ImportReport:
        """Import files, each all-or-nothing and idempotent by content hash.

        ``progress(done, total)`` is called through every phase of each file
        (reading, preparing, writing); an exception raised in it (the TUI's
        cancel) aborts that file's single transaction, so nothing of it is kept.
        When a later file is refused, the files already imported stay (each is
        its own transaction) and ``ImportStopped`` names them with the cause.
        """
        stype = self.resolve_type(type)
        if segment is not None and segment not in SEGMENT_MODES:
            raise BadOption(option="segment", value=str(segment), allowed=", ".join(SEGMENT_MODES))
        with self.ctx.db.read() as s:
            # Refuse before reading any file; checked again inside each write.
            authorize(s, self.ctx.actor, "corpus.import")
        # A missing file is refused before any file is imported.
        for raw_path in paths:
            if not Path(raw_path).is_file():
                raise InvalidInput(str(raw_path), 0, "no_such_file")
        from groundcode.corpus.readers import read_file
        from groundcode.domain.collector import collector_held

        read = functools.partial(
            read_file,
            text_column=text_column,
            title_column=title_column,
            date_column=date_column,
            views_column=views_column,
            url_column=url_column,
            author_column=author_column,
        )
        files: list[FileImport] = []
        for raw_path in paths:
            path = Path(raw_path)
            try:
                # No cyclic collections while a file's rows pile up (domain.collector).
                with collector_held():
                    files.append(self._import_one(path, read, stype, segment, progress))
            except GroundcodeError as exc:
                kept = [f.file for f in files if f.status == "imported"]
                if not kept:
                    raise
                # Each file is one transaction: the earlier ones stay, and the message says so.
                raise ImportStopped(file=str(path), kept=", ".join(kept), cause=exc) from exc
        return ImportReport(tuple(files))

    def _import_one(
        self,
        path: Path,
        read: Callable[..., list[RawDocument]],
        stype: SourceTypeView,
        segment: str | None,
        progress: Progress | None,
    ) -> FileImport:
        """One file in one transaction: skipped when its content was imported before."""
        digest = _file_hash(path)
        with self.ctx.db.read() as s:
            seen = (
                s.execute(select(ImportBatch).where(col(ImportBatch.file_hash) == digest))
                .scalars()
                .first()
            )
        if seen is not None:
            return FileImport(str(path), "already imported", 0)
        docs = read(path, progress=_phase(progress, 0.0, 0.25))
        if not docs:
            raise InvalidInput(str(path), 0, "no_documents")
        mode = segment or ("whole" if path.suffix.lower() in ROW_FORMATS else "paragraph")
        return self._store_file(path, digest, stype, docs, mode, progress)

    def _store_file(
        self,
        path: Path,
        digest: str,
        stype: SourceTypeView,
        docs: Sequence[Any],
        mode: str,
        progress: Progress | None,
    ) -> FileImport:
        from groundcode.corpus.text import segment

        # ``read_file`` has normalised every text already (normalise is idempotent, and
        # running it twice more per document was a third of a 100k-comment import).
        prepared: list[tuple[Any, str, list[tuple[int, int]]]] = []
        preparing = _phase(progress, 0.25, 0.5)
        for i, raw in enumerate(docs):
            if preparing is not None and i % 2000 == 0:
                preparing(i, len(docs))
            body = raw.text
            spans = segment(body, mode) or [(0, len(body))]
            prepared.append((raw, body, spans))
        actor = self.ctx.actor

        def _write(s: Session) -> FileImport:
            authorize(s, actor, "corpus.import")
            # Re-check inside the write transaction: a concurrent import of the same file wins once.
            if s.execute(
                select(col(ImportBatch.id)).where(col(ImportBatch.file_hash) == digest)
            ).first():
                return FileImport(str(path), "already imported", 0)
            st_q = select(SourceType).where(col(SourceType.id) == stype.id)
            if not self.ctx.db.is_sqlite:
                st_q = st_q.with_for_update()
            st = s.execute(st_q).scalars().one()
            first_seq = st.next_seq
            st.next_seq = first_seq + len(prepared)
            s.add(st)
            batch = ImportBatch(
                file_name=path.name,
                file_hash=digest,
                source_type_id=stype.id,
                imported_by=actor,
                n_documents=len(prepared),
            )
            s.add(batch)
            s.flush()
            rows = []
            for i, (raw, body, _spans) in enumerate(prepared):
                if preparing is not None and i % 5000 == 0:
                    preparing(len(prepared), len(prepared))  # still alive: lets a cancel through
                seq = first_seq + i
                rows.append(
                    {
                        "source_type_id": stype.id,
                        "seq": seq,
                        "number": f"{stype.id}-{seq}",
                        "title": raw.title,
                        "author": raw.author,
                        "date": raw.date,
                        "url": raw.url,
                        "views": raw.views,
                        "text": body,
                        "content_hash": hashlib.sha256(body.encode("utf-8")).hexdigest(),
                        "origin_file": path.name,
                        "origin_row": raw.origin_row,
                        "meta": json.dumps(raw.meta, ensure_ascii=False) if raw.meta else None,
                        "batch_id": batch.id,
                        "status": "included",
                        "split": None,
                        "personal": False,
                    }
                )
            total = len(rows)
            ids: list[int] = []
            chunk = 1000
            sqlite = self.ctx.db.is_sqlite
            for lo in range(0, total, chunk):
                part = rows[lo : lo + chunk]
                if sqlite:
                    # SQLite answers INSERT ... RETURNING one statement per row; a plain
                    # executemany is one prepared statement, and the ids are read back below.
                    s.execute(insert(Document), part)
                else:
                    result = s.execute(
                        insert(Document).returning(col(Document.id), sort_by_parameter_order=True),
                        part,
                    )
                    ids.extend(r[0] for r in result)
                if progress:
                    progress(total // 2 + min(lo + chunk, total) // 4, total)
            if sqlite:
                # The write lock is held since BEGIN IMMEDIATE, so this type's numbers from
                # first_seq on are exactly the rows just inserted, in seq order.
                ids = list(
                    s.execute(
                        select(col(Document.id))
                        .where(
                            col(Document.source_type_id) == stype.id, col(Document.seq) >= first_seq
                        )
                        .order_by(col(Document.seq))
                    ).scalars()
                )
            passages = []
            for doc_id, (_raw, body, spans) in zip(ids, prepared, strict=True):
                for idx, (a, b) in enumerate(spans, start=1):
                    passages.append(
                        {"document_id": doc_id, "idx": idx, "start": a, "end": b, "text": body[a:b]}
                    )
            for lo in range(0, len(passages), 2500):
                s.execute(insert(Passage), passages[lo : lo + 2500])
                if progress:
                    done = min(lo + 2500, len(passages)) / max(1, len(passages))
                    progress(total * 3 // 4 + int(done * total) // 4, total)
            record(
                s,
                actor=actor,
                action="corpus.import",
                entity="import_batch",
                entity_id=batch.id,
                after={"file": path.name, "documents": total, "type": stype.slug},
            )
            return FileImport(
                str(path),
                "imported",
                total,
                f"{stype.id}-{first_seq}",
                f"{stype.id}-{first_seq + total - 1}",
            )

        return self.ctx.db.run(_write)

    # -- reading ---------------------------------------------------------
    def _doc_by_number(self, s: Session, number: DocNumber | str) -> Document:
        return document_by_number(s, number)

    def document(self, number: str) -> DocumentView:
        with self.ctx.db.read() as s:
            doc = self._doc_by_number(s, number)
            passages = (
                s.execute(
                    select(Passage)
                    .where(col(Passage.document_id) == doc.id)
                    .order_by(col(Passage.idx))
                )
                .scalars()
                .all()
            )
            stype = s.get(SourceType, doc.source_type_id)
            assert doc.id is not None and stype is not None
            return DocumentView(
                id=doc.id,
                number=doc.number,
                type_id=doc.source_type_id,
                type_name=stype.name_zh,
                title=doc.title,
                author=doc.author,
                date=doc.date,
                url=doc.url,
                views=doc.views,
                text=doc.text,
                status=doc.status,
                exclusion_kind=doc.exclusion_kind,
                exclusion_detail=doc.exclusion_detail,
                split=doc.split,
                personal=doc.personal,
                meta=json.loads(doc.meta) if doc.meta else {},
                passages=tuple(PassageView(p.id, p.idx, p.start, p.end, p.text) for p in passages),
            )

    def documents(
        self,
        *,
        type: str | int | None = None,
        split: str | None = None,
        status: str | None = None,
    ) -> pd.DataFrame:
        """One row per document: number, type, title, date, views, split, status, passages."""

        if split not in (None, "build", "holdout"):
            raise BadOption(option="split", value=str(split), allowed=", ".join(Split))
        if status not in (None, "included", "excluded"):
            raise BadOption(option="status", value=str(status), allowed=", ".join(DocStatus))
        from groundcode.store.raw import fetch_frame

        where = ["1=1"]
        params: list[Any] = []
        if type is not None:
            where.append("d.source_type_id = ?")
            params.append(self.resolve_type(type).id)
        if split:
            where.append("d.split = ?")
            params.append(split)
        if status:
            where.append("d.status = ?")
            params.append(status)
        cols = [
            "id",
            "number",
            "type_id",
            "type",
            "type_zh",
            "title",
            "date",
            "views",
            "split",
            "status",
            "exclusion",
            "detail",
            "personal",
            "passages",
        ]
        with self.ctx.db.read() as s:
            frame = fetch_frame(
                s,
                "SELECT d.id, d.number, d.source_type_id, st.slug, st.name_zh, d.title, d.date, d.views, d.split, "
                "d.status, d.exclusion_kind, d.exclusion_detail, d.personal, coalesce(np.n, 0) "
                "FROM document d JOIN source_type st ON st.id = d.source_type_id "
                "LEFT JOIN (SELECT document_id, count(*) AS n FROM passage GROUP BY document_id) np "
                "ON np.document_id = d.id WHERE "
                + " AND ".join(where)
                + " ORDER BY d.source_type_id, d.seq",
                cols,
                params,
            )
        frame["personal"] = frame["personal"].astype(bool)
        frame["passages"] = frame["passages"].astype(int)
        return frame

    def documents_page(
        self,
        *,
        type: str | int | None = None,
        split: str | None = None,
        status: str | None = None,
        offset: int = 0,
        limit: int = PAGE_SIZE,
    ) -> Page[DocumentRow]:
        """Rows ``offset`` .. ``offset + limit`` of ``documents(...)``, in the same order.

        An index-ordered ``LIMIT`` on (type, sequence); the passage counts are read for
        the page's rows only, so a page costs the same at any project size.
        """
        check_window(offset, limit)
        if split not in (None, "build", "holdout"):
            raise BadOption("split", str(split), "build, holdout")
        if status not in (None, "included", "excluded"):
            raise BadOption("status", str(status), "included, excluded")
        n_passages = (
            select(func.count())
            .select_from(Passage)
            .where(col(Passage.document_id) == col(Document.id))
            .correlate(Document)
            .scalar_subquery()
        )
        q = (
            select(
                col(Document.id),
                col(Document.number),
                col(Document.source_type_id),
                col(SourceType.slug),
                col(SourceType.name_zh),
                col(Document.title),
                col(Document.date),
                col(Document.views),
                col(Document.split),
                col(Document.status),
                col(Document.exclusion_kind),
                col(Document.exclusion_detail),
                col(Document.personal),
                n_passages,
            )
            .join(SourceType, col(SourceType.id) == col(Document.source_type_id))
            .order_by(col(Document.source_type_id), col(Document.seq))
        )
        if type is not None:
            q = q.where(col(Document.source_type_id) == self.resolve_type(type).id)
        if split:
            q = q.where(col(Document.split) == split)
        if status:
            q = q.where(col(Document.status) == status)
        with self.ctx.db.read() as s:
            rows = s.execute(q.offset(offset).limit(limit + 1)).all()
        items = tuple(DocumentRow(*_row_fields(r)) for r in rows[:limit])
        return Page(items, offset, limit, len(rows) > limit)

    def documents_count(self, *, status: str | None = None) -> int:
        """How many documents ``documents_page`` pages through (without type or split filters).

        Documents are never deleted, so the total is the sum of the numbers given
        out per source type (no scan); a status filter counts the excluded ones
        through the status index and subtracts.
        """
        with self.ctx.db.read() as s:
            total = int(s.execute(select(func.sum(col(SourceType.next_seq) - 1))).scalar() or 0)
            if status is None:
                return total
            excluded = int(
                s.execute(
                    select(func.count())
                    .select_from(Document)
                    .where(col(Document.status) == "excluded")
                ).scalar()
                or 0
            )
        return excluded if status == "excluded" else total - excluded

    def passages(
        self, *, split: str | None = None, status: str | None = "included"
    ) -> pd.DataFrame:
        """Every passage with its document number, type and split (for analysis and words)."""
        import pandas as pd

        q: Any = (
            select(
                col(Passage.id),
                col(Passage.idx),
                col(Passage.text),
                col(Document.number),
                col(Document.source_type_id),
                col(Document.split),
                col(Document.id).label("document_id"),
            )
            .join(Document, col(Document.id) == col(Passage.document_id))
            .order_by(col(Document.source_type_id), col(Document.seq), col(Passage.idx))
        )
        if status:
            q = q.where(col(Document.status) == status)
        if split:
            q = q.where(col(Document.split) == split)
        with self.ctx.db.read() as s:
            rows = s.execute(q).all()
        return pd.DataFrame(
            rows,
            columns=[
                "passage_id",
                "passage",
                "text",
                "document",
                "type_id",
                "split",
                "document_id",
            ],
        )

    # -- screening -------------------------------------------------------
    def _set_status(
        self, s: Session, doc: Document, *, exclude: bool, kind: str | None, detail: str | None
    ) -> None:
        before = {"status": doc.status, "kind": doc.exclusion_kind}
        doc.status = "excluded" if exclude else "included"
        doc.exclusion_kind = kind if exclude else None
        doc.exclusion_detail = detail if exclude else None
        s.add(doc)
        assert doc.id is not None
        s.add(
            ScreeningDecision(
                document_id=doc.id,
                action=ScreeningAction.EXCLUDE if exclude else ScreeningAction.INCLUDE,
                kind=kind,
                detail=detail,
                decided_by=self.ctx.actor,
            )
        )
        record(
            s,
            actor=self.ctx.actor,
            action="corpus.exclude" if exclude else "corpus.include",
            entity="document",
            entity_id=doc.id,
            before=before,
            after={"status": doc.status, "kind": kind, "detail": detail},
        )

    def exclude(self, numbers: Iterable[str], *, reason: str, kind: str = "manual") -> int:
        if kind not in EXCLUSION_KINDS:
            raise BadOption(option="kind", value=kind, allowed=", ".join(EXCLUSION_KINDS))
        if not reason.strip():
            raise Missing("exclusion_reason")
        nums = list(numbers)

        def _do(s: Session) -> int:
            authorize(s, self.ctx.actor, "corpus.exclude")
            docs = [self._doc_by_number(s, n) for n in nums]
            for d in docs:
                self._set_status(s, d, exclude=True, kind=kind, detail=reason.strip())
            return len(docs)

        return self.ctx.db.run(_do)

    def include(self, numbers: Iterable[str]) -> int:
        nums = list(numbers)

        def _do(s: Session) -> int:
            authorize(s, self.ctx.actor, "corpus.include")
            docs = [self._doc_by_number(s, n) for n in nums]
            for d in docs:
                self._set_status(s, d, exclude=False, kind=None, detail=None)
            return len(docs)

        return self.ctx.db.run(_do)

    def screen(
        self,
        *,
        keywords: Sequence[str] = (),
        mode: str = "any",
        date_from: str | None = None,
        date_to: str | None = None,
        min_chars: int | None = None,
        dry_run: bool = False,
    ) -> ScreenReport:
        """Exclude included documents that miss the keywords, the date range or the minimum length."""
        from groundcode.corpus.text import parse_date, substantive_length

        if mode not in ("any", "all"):
            raise BadOption(option="mode", value=mode, allowed="any, all")
        kws = [k.strip() for k in keywords if k.strip()]
        try:
            lo = parse_date(date_from) if date_from else None
            hi = parse_date(date_to) if date_to else None
        except ValueError as exc:
            raise BadOption(
                option="date", value=str(date_from or date_to), allowed=str(exc)
            ) from None
        if hi is not None and len(hi) == 10:
            hi = hi + " 23:59:59"
        if min_chars is not None and min_chars < 0:
            raise OutOfRange(option="min_chars", value=str(min_chars), rule="nonnegative")

        def _do(s: Session) -> ScreenReport:
            if not dry_run:
                authorize(s, self.ctx.actor, "corpus.screen")
            docs = _included_documents(s)
            slugs = {t.id: t.slug for t in s.execute(select(SourceType)).scalars().all()}
            by_type: dict[str, dict[str, int]] = {}
            excluded: dict[str, int] = {}
            for d in docs:
                verdict: tuple[str, str] | None = None
                if min_chars is not None and substantive_length(d.text) < min_chars:
                    verdict = ("no_substance", f"fewer than {min_chars} substantive characters")
                elif kws:
                    hits = [k for k in kws if k.lower() in d.text.lower()]
                    ok = bool(hits) if mode == "any" else len(hits) == len(kws)
                    if not ok:
                        verdict = ("irrelevant", f"keywords ({mode}): {', '.join(kws)}")
                if verdict is None and (lo or hi):
                    if not d.date:
                        verdict = ("out_of_range", "no date")
                    elif (lo and d.date < lo) or (hi and d.date > hi):
                        verdict = (
                            "out_of_range",
                            f"date {d.date} outside {date_from or ''}..{date_to or ''}",
                        )
                if verdict is not None:
                    excluded[verdict[0]] = excluded.get(verdict[0], 0) + 1
                    per = by_type.setdefault(slugs.get(d.source_type_id, "?"), {})
                    per[verdict[0]] = per.get(verdict[0], 0) + 1
                    if not dry_run:
                        self._set_status(s, d, exclude=True, kind=verdict[0], detail=verdict[1])
            if dry_run:
                s.rollback()
            return ScreenReport(len(docs), excluded, by_type)

        return self.ctx.db.run(_do)

    def dedup(self, *, threshold: float = 0.9, dry_run: bool = False) -> DedupReport:
        """Exclude exact and near-duplicate reposts, keeping the earliest of each group."""
        from groundcode.corpus.dedup import find_duplicates

        if not 0 < threshold <= 1:
            raise OutOfRange(option="threshold", value=str(threshold), rule="unit_open_closed")
        with self.ctx.db.read() as s:
            if not dry_run:
                authorize(s, self.ctx.actor, "corpus.dedup")
            rows = s.execute(
                select(
                    col(Document.id),
                    col(Document.number),
                    col(Document.text),
                    col(Document.date),
                    col(Document.source_type_id),
                    col(Document.seq),
                ).where(col(Document.status) == "included")
            ).all()
        # Earliest first: dated documents by date, then undated, ties by type and sequence.
        rows = sorted(rows, key=lambda r: (r.date is None, r.date or "", r.source_type_id, r.seq))
        number = {r.id: r.number for r in rows}
        groups = find_duplicates([(r.id, r.text) for r in rows], threshold=threshold)
        views = tuple(
            DuplicateGroupView(
                number[g.keep], tuple((number[k], float(sim)) for k, sim in g.members)
            )
            for g in groups
        )
        n_dups = sum(len(g.duplicates) for g in views)
        if dry_run or not groups:
            return DedupReport(views, 0 if dry_run else n_dups, dry_run, threshold)

        def _do(s: Session) -> int:
            authorize(s, self.ctx.actor, "corpus.dedup")
            n = 0
            for g in groups:
                for key, sim in g.members:
                    doc = s.get(Document, key)
                    if doc is None or doc.status != "included":
                        continue
                    self._set_status(
                        s,
                        doc,
                        exclude=True,
                        kind="duplicate",
                        detail=f"duplicate of {number[g.keep]} (similarity {sim:.2f})",
                    )
                    n += 1
            return n

        excluded = self.ctx.db.run(_do)
        return DedupReport(views, excluded, False, threshold)

    def sample(
        self,
        *,
        type: str | int,
        n: int,
        stratify_by: str | None = None,
        bins: int = 5,
        seed: int | None = None,
        dry_run: bool = False,
    ) -> SampleReport:
        """A seeded, stratified random sample of one type; the rest are excluded as not sampled.

        ``dry_run`` draws the same sample and reports its strata without excluding anything.
        """
        import numpy as np

        stype = self.resolve_type(type)
        if n <= 0:
            raise OutOfRange(option="n", value=str(n), rule="positive")
        if seed is not None:
            _check_seed(seed)
        if stratify_by not in (None, "views"):
            raise BadOption(option="stratify_by", value=str(stratify_by), allowed="views")
        if bins < 1:
            raise OutOfRange(option="bins", value=str(bins), rule="positive")
        with self.ctx.db.read() as s:
            seed = int(get_setting(s, "seed")) if seed is None else seed
            rows = s.execute(
                select(col(Document.id), col(Document.number), col(Document.views))
                .where(col(Document.source_type_id) == stype.id, col(Document.status) == "included")
                .order_by(col(Document.seq))
            ).all()
        if n > len(rows):
            raise OutOfRange(option="n", value=str(n), rule="at_most_included")
        rng = np.random.default_rng([seed, stype.id])
        strata: list[tuple[str, list[Any]]]
        if stratify_by == "views":
            views = np.array([r.views if r.views is not None else -1 for r in rows], dtype=float)
            # Quantile bins of the view counts (rank-based, so ties do not empty a bin).
            ranks = views.argsort(kind="stable").argsort(kind="stable")
            labels = (ranks * bins) // max(1, len(rows))
            strata = [
                (
                    f"views q{b + 1}/{bins}",
                    [r for r, lab in zip(rows, labels, strict=True) if lab == b],
                )
                for b in range(bins)
            ]
        else:
            strata = [("all", list(rows))]
        sizes = np.array([len(m) for _, m in strata], dtype=float)
        exact = sizes * n / sizes.sum()
        take = np.floor(exact).astype(int)
        for i in np.argsort(-(exact - take), kind="stable")[: n - int(take.sum())]:
            take[i] += 1
        chosen: list[Any] = []
        report_strata = []
        for (label, members), k in zip(strata, take, strict=True):
            idx: list[int] = (
                [int(i) for i in rng.choice(len(members), size=int(k), replace=False)] if k else []
            )
            chosen.extend(members[i] for i in sorted(idx))
            report_strata.append((label, len(members), int(k)))
        chosen_ids = {r.id for r in chosen}
        detail = f"sample of {n} (seed {seed}" + (f", {bins} view bins)" if stratify_by else ")")

        def _do(s: Session) -> int:
            authorize(s, self.ctx.actor, "corpus.sample")
            k = 0
            for r in rows:
                if r.id not in chosen_ids:
                    doc = s.get(Document, r.id)
                    assert doc is not None
                    self._set_status(s, doc, exclude=True, kind="not_sampled", detail=detail)
                    k += 1
            return k

        excluded = len(rows) - len(chosen_ids) if dry_run else self.ctx.db.run(_do)
        sampled = tuple(r.number for r in sorted(chosen, key=lambda r: rows.index(r)))
        return SampleReport(stype.slug, len(rows), sampled, excluded, tuple(report_strata))

    def split(
        self,
        *,
        holdout: float | None = None,
        seed: int | None = None,
        force: bool = False,
        dry_run: bool = False,
    ) -> SplitReport:
        """Stratified build/holdout split of the included documents, per source type.

        ``dry_run`` reports the counts per type and how many coded documents would
        change split (the guard a real run refuses without ``force``), writing nothing.
        """
        import numpy as np

        with self.ctx.db.read() as s:
            holdout = float(get_setting(s, "holdout_ratio")) if holdout is None else holdout
            seed = int(get_setting(s, "seed")) if seed is None else seed
        if not 0 <= holdout < 1:
            raise OutOfRange(option="holdout", value=str(holdout), rule="unit_closed_open")
        _check_seed(seed)
        actor = self.ctx.actor

        def _do(s: Session) -> SplitReport:
            if not dry_run:
                authorize(s, actor, "corpus.split")
            docs = _included_documents(s)
            plan: dict[int | None, str] = {}
            by_type: dict[str, dict[str, int]] = {}
            slugs = {t.id: t.slug for t in s.execute(select(SourceType)).scalars().all()}
            for tid in sorted({d.source_type_id for d in docs}):
                members = [d for d in docs if d.source_type_id == tid]
                rng = np.random.default_rng([seed, tid])
                order = rng.permutation(len(members))
                k = int(round(len(members) * holdout))
                for rank, i in enumerate(order):
                    plan[members[i].id] = "holdout" if rank < k else "build"
                by_type[slugs[tid]] = {"build": len(members) - k, "holdout": k}
            changed = [d for d in docs if d.split != plan[d.id]]
            coded_ids = set(s.execute(select(col(Coding.document_id)).distinct()).scalars().all())
            moved_coded = [d.number for d in changed if d.split is not None and d.id in coded_ids]
            if dry_run:
                s.rollback()
                return SplitReport(seed, holdout, by_type, len(changed), len(moved_coded), True)
            if moved_coded and not force:
                raise CodedWouldMove(n=len(moved_coded), example=moved_coded[0])
            for d in changed:
                before = d.split
                d.split = plan[d.id]
                s.add(d)
                if before is not None:
                    record(
                        s,
                        actor=actor,
                        action="corpus.resplit",
                        entity="document",
                        entity_id=d.id,
                        before={"split": before},
                        after={"split": d.split},
                    )
            # Excluded documents take no part in the split.
            s.execute(update(Document).where(col(Document.status) == "excluded").values(split=None))
            set_setting(s, "seed", str(seed))
            set_setting(s, "holdout_ratio", str(holdout))
            record(
                s,
                actor=actor,
                action="corpus.split",
                entity="project",
                after={"seed": seed, "holdout": holdout, "changed": len(changed)},
            )
            return SplitReport(seed, holdout, by_type, len(changed), len(moved_coded))

        return self.ctx.db.run(_do)

    def exclusions(self, *, kind: str | None = None) -> list[ExclusionView]:
        """The excluded documents with the reason and who decided when (number order)."""
        return self._exclusions(kind, None, None)

    def exclusions_page(
        self, *, kind: str | None = None, offset: int = 0, limit: int = PAGE_SIZE
    ) -> Page[ExclusionView]:
        """Rows ``offset`` .. ``offset + limit`` of ``exclusions(kind=...)``, in the same order.

        An ordered ``LIMIT`` over the excluded documents (type, sequence); the
        decisions are read for the page's documents only.
        """
        check_window(offset, limit)
        found = self._exclusions(kind, offset, limit + 1)
        return Page(tuple(found[:limit]), offset, limit, len(found) > limit)

    def _exclusions(
        self, kind: str | None, offset: int | None, limit: int | None
    ) -> list[ExclusionView]:
        with self.ctx.db.read() as s:
            q = (
                select(
                    col(Document.id),
                    col(Document.number),
                    col(SourceType.slug),
                    col(Document.title),
                )
                .join(SourceType, col(SourceType.id) == col(Document.source_type_id))
                .add_columns(col(Document.exclusion_kind), col(Document.exclusion_detail))
                .where(col(Document.status) == "excluded")
                .order_by(col(Document.source_type_id), col(Document.seq))
            )
            if kind is not None:
                q = q.where(col(Document.exclusion_kind) == kind)
            if limit is not None:
                q = q.offset(offset or 0).limit(limit)
            rows = s.execute(q).all()
            latest: dict[int, tuple[str | None, Any]] = {}
            ids = [r[0] for r in rows]
            for lo in range(0, len(ids), 900):
                part = ids[lo : lo + 900]
                for doc_id, who, when in s.execute(
                    select(
                        col(ScreeningDecision.document_id),
                        col(ScreeningDecision.decided_by),
                        col(ScreeningDecision.decided_at),
                    )
                    .where(
                        col(ScreeningDecision.document_id).in_(part),
                        col(ScreeningDecision.action) == "exclude",
                    )
                    .order_by(col(ScreeningDecision.id))
                ).all():
                    latest[doc_id] = (who, when)
        out = []
        for doc_id, number, slug, title, k, detail in rows:
            who, when = latest.get(doc_id, (None, None))
            out.append(
                ExclusionView(
                    number,
                    slug,
                    title,
                    k or "manual",
                    detail,
                    who,
                    when.isoformat(timespec="seconds") if when is not None else None,
                )
            )
        return out

    def keep_instead(self, kept: str, member: str, copies: Sequence[str] = ()) -> int:
        """In a repost group keep ``member`` instead of ``kept``: one audited transaction.

        ``member`` is included, ``kept`` and the other ``copies`` are (re-)excluded
        as duplicates of ``member``; returns how many documents changed.
        """
        if kept == member:
            return 0

        def _do(s: Session) -> int:
            new = self._doc_by_number(s, member)
            old = self._doc_by_number(s, kept)
            others = [self._doc_by_number(s, c) for c in copies if c not in (kept, member)]
            self._set_status(s, new, exclude=False, kind=None, detail=None)
            n = 1
            for d in [old, *others]:
                self._set_status(
                    s, d, exclude=True, kind="duplicate", detail=f"duplicate of {new.number}"
                )
                n += 1
            return n

        return self.ctx.db.run(_do)

    # -- the funnel ------------------------------------------------------
    def funnel(self) -> Funnel:
        """SPEC §2 ``corpus --json``: imported -> excluded by kind -> included, by type and split."""
        with self.ctx.db.read() as s:
            # One grouped count, read from ix_document_funnel alone; every figure below
            # is a sum over its rows. Types without documents still get their entry.
            types = s.execute(
                select(col(SourceType.id), col(SourceType.slug), col(SourceType.name_zh)).order_by(
                    col(SourceType.id)
                )
            ).all()
            groups = s.execute(
                select(
                    col(Document.source_type_id),
                    col(Document.status),
                    col(Document.exclusion_kind),
                    col(Document.split),
                    func.count(),
                ).group_by(
                    col(Document.source_type_id),
                    col(Document.status),
                    col(Document.exclusion_kind),
                    col(Document.split),
                )
            ).all()
        slug_of = {tid: slug for tid, slug, _ in types}
        by_type: dict[str, TypeFunnel] = {
            slug: TypeFunnel(
                documents=0, included=0, id=tid, name=zh, excluded={}, build=0, holdout=0
            )
            for tid, slug, zh in types
        }
        excluded = {k: 0 for k in EXCLUSION_KINDS}
        by_split = {"build": 0, "holdout": 0}
        total = included = unsplit = 0
        for tid, status, kind, split, n in groups:
            n = int(n)
            entry = by_type[slug_of[tid]]
            total += n
            entry["documents"] += n
            if status == "included":
                included += n
                entry["included"] += n
                if split == "build":
                    by_split["build"] += n
                    entry["build"] += n
                elif split == "holdout":
                    by_split["holdout"] += n
                    entry["holdout"] += n
                else:
                    unsplit += n
            elif status == "excluded":
                k = kind or "manual"
                excluded[k] = excluded.get(k, 0) + n
                entry["excluded"][k] = entry["excluded"].get(k, 0) + n
        return Funnel(
            documents=total,
            included=included,
            excluded=excluded,
            by_type=by_type,
            by_split=by_split,
            unsplit=unsplit,
        )

    # -- search ----------------------------------------------------------
    def search_index_status(self) -> tuple[int, int]:
        """(passages indexed for fast search, passages in all); PostgreSQL needs no index step."""
        with self.ctx.db.read() as s:
            total = int(s.execute(select(func.count()).select_from(Passage)).scalar() or 0)
            if not self.ctx.db.is_sqlite:
                return total, total
            upto = int(get_setting(s, "search_indexed_upto") or 0)
            done = int(
                s.execute(
                    select(func.count()).select_from(Passage).where(col(Passage.id) <= upto)
                ).scalar()
                or 0
            )
        return done, total

    def build_search_index(self, *, progress: Progress | None = None, chunk: int = 5000) -> int:
        """Add passages imported since the last run to the trigram index, in short transactions.

        Resumable and safe to run while others work; returns how many passages it indexed.
        """
        if not self.ctx.db.is_sqlite:
            return 0
        done_before, total = self.search_index_status()
        added = 0

        def _step(s: Session) -> int:
            upto = int(get_setting(s, "search_indexed_upto") or 0)
            ids = (
                s.execute(
                    select(col(Passage.id))
                    .where(col(Passage.id) > upto)
                    .order_by(col(Passage.id))
                    .limit(chunk)
                )
                .scalars()
                .all()
            )
            if not ids:
                return 0
            hi = ids[-1]
            rows = s.execute(
                select(col(Passage.id), col(Passage.text)).where(
                    col(Passage.id) > upto, col(Passage.id) <= hi
                )
            ).all()
            s.execute(
                text("INSERT INTO passage_fts(rowid, tokens) VALUES (:id, :tokens)"),
                [{"id": pid, "tokens": bigrams(t)} for pid, t in rows],
            )
            set_setting(s, "search_indexed_upto", str(hi))
            return len(ids)

        while True:
            n = self.ctx.db.run(_step)
            if not n:
                break
            added += n
            if progress:
                progress(done_before + added, total)
        return added

    def search(self, term: str, *, limit: int = 50, include_excluded: bool = False) -> SearchResult:
        """Literal substring search over passages, for Chinese terms of any length.

        Terms of two or more characters use the SQLite bigram index for the
        indexed passages (every bigram is quoted, so ``"``, ``*``, ``NEAR`` or
        ``OR`` are searched literally) and a scan for any passages imported
        since; one-character terms scan with ``instr``. Every hit is
        checked literally, so results never depend on the index. PostgreSQL
        uses ``strpos`` (a pg_trgm index serves it when installed).
        """
        term = term.strip()
        if not term:
            raise Missing("search_term")
        if not 1 <= limit <= MAX_LIMIT:
            raise BadOption(option="limit", value=str(limit)[:30], allowed=f"1..{MAX_LIMIT}")
        base = select(
            col(Passage.id), col(Passage.idx), col(Passage.text), col(Document.number)
        ).join(Document, col(Document.id) == col(Passage.document_id))
        if not include_excluded:
            base = base.where(col(Document.status) == "included")
        with self.ctx.db.read() as s:
            if self.ctx.db.is_sqlite:
                literal = func.instr(col(Passage.text), term) > 0
                upto = int(get_setting(s, "search_indexed_upto") or 0)
                grams = query_bigrams(term)
                if grams and upto > 0:
                    return _indexed_search(s, term, grams, upto, limit, include_excluded)
                cond = literal
            else:
                cond = func.strpos(col(Passage.text), term) > 0
            q = base.where(cond)
            total = s.execute(select(func.count()).select_from(q.subquery())).scalar() or 0
            rows = s.execute(
                q.order_by(col(Document.source_type_id), col(Document.seq), col(Passage.idx)).limit(
                    limit
                )
            ).all()
        return _search_result(term, int(total), rows)

    # -- privacy ---------------------------------------------------------
    def mark_personal(self, numbers: Iterable[str], *, personal: bool = True) -> int:
        nums = list(numbers)

        def _do(s: Session) -> int:
            authorize(s, self.ctx.actor, "corpus.personal")
            for n in nums:
                d = self._doc_by_number(s, n)
                d.personal = personal
                s.add(d)
                record(
                    s,
                    actor=self.ctx.actor,
                    action="corpus.personal",
                    entity="document",
                    entity_id=d.id,
                    after={"personal": personal},
                )
            return len(nums)

        return self.ctx.db.run(_do)

    def redact(
        self, *, patterns: Sequence[str] = ("phone", "id", "email"), dry_run: bool = False
    ) -> RedactReport:
        """Mask personal data everywhere the project holds it (``groundcode.corpus.redaction``).

        Masks keep the length of what they replace (``*`` per character), so
        passage and coding offsets stay valid, coded documents included.
        """
        from groundcode.corpus.redaction import Redaction

        return Redaction(self.ctx).run(patterns=patterns, dry_run=dry_run)

    def numbers_for(self, ids: Iterable[int]) -> dict[int, str]:
        ids = list(ids)
        if not ids:
            return {}
        with self.ctx.db.read() as s:
            rows = s.execute(
                select(col(Document.id), col(Document.number)).where(col(Document.id).in_(ids))
            ).all()
        return {r.id: r.number for r in rows}

    def count(self) -> int:
        with self.ctx.db.read() as s:
            return int(s.execute(select(func.count()).select_from(Document)).scalar() or 0)


__all__ = ["EXCLUSION_KINDS", "CorpusService"]


# A first page found by walking passages in number order stops after about
# limit * passages / hits rows; walk at most this many before sorting candidates.
ORDERED_WALK_MAX = 20_000
# Up to this many index candidates, the count and the first page come from one
# ordered list of ids (a few hundred KB at most).
FEW_CANDIDATES = 20_000


def _exact_by_index(term: str, grams: list[str]) -> bool:
    """Whether the index's matches of ``term`` are exactly its literal hits.

    True for a single bigram of uncased characters (Chinese, digits): the index
    holds the bigrams of the lower-cased text, and lower-casing leaves these
    characters alone, so a passage matches iff it contains the term.
    """
    return (
        len(term) == 2
        and len(grams) == 1
        and all(ch.lower() == ch == ch.upper() and ch.isalnum() for ch in term)
    )


def _indexed_search(
    s: Session, term: str, grams: list[str], upto: int, limit: int, include_excluded: bool
) -> SearchResult:
    """Search through the bigram index (SQLite), the count and the first page kept cheap.

    The count: for a two-character Chinese term the index's match count is exact,
    so no passage is read; hits in excluded documents are subtracted (read through
    the status index) and passages not indexed yet are scanned. Longer terms check
    each candidate literally. The first page: a frequent term's first hits are found
    by walking passages in number order and stopping at ``limit`` hits, instead of
    sorting every candidate; a rare term sorts its few candidates.
    """
    # Each bigram is quoted, so FTS syntax in the term is inert.
    quoted = " AND ".join('"' + g.replace('"', '""') + '"' for g in grams)
    params: dict[str, Any] = {"q": quoted, "upto": upto, "term": term, "limit": limit}
    status = "" if include_excluded else "AND d.status = 'included' "

    def tail() -> int:
        """Hits among the passages imported since the index was built (scanned)."""
        return int(
            s.execute(
                text(
                    "SELECT count(*) FROM passage p CROSS JOIN document d ON d.id = p.document_id "
                    f"WHERE p.id > :upto AND instr(p.text, :term) > 0 {status}"
                ),
                params,
            ).scalar()
            or 0
        )

    matches = int(
        s.execute(
            text("SELECT count(*) FROM passage_fts WHERE passage_fts MATCH :q"), params
        ).scalar()
        or 0
    )
    if _exact_by_index(term, grams):
        total = matches
        if not include_excluded:
            total -= int(
                s.execute(
                    text(
                        "SELECT count(*) FROM document d CROSS JOIN passage p "
                        "ON p.document_id = d.id WHERE d.status = 'excluded' "
                        "AND p.id <= :upto AND instr(p.text, :term) > 0"
                    ),
                    params,
                ).scalar()
                or 0
            )
        total += tail()
    elif matches <= FEW_CANDIDATES:
        # Few candidates: each is read once, for the count and the page together
        # (checking them twice, once per query, was most of a rare term's time).
        ids = list(
            s.execute(
                text(
                    "SELECT p.id FROM passage p CROSS JOIN document d "
                    "ON d.id = p.document_id "
                    "WHERE p.id IN (SELECT rowid FROM passage_fts WHERE passage_fts MATCH :q "
                    "UNION ALL SELECT id FROM passage WHERE id > :upto) "
                    f"AND instr(p.text, :term) > 0 {status}"
                    "ORDER BY d.source_type_id, d.seq, p.idx"
                ),
                params,
            ).scalars()
        )
        first = ids[:limit]
        found = {
            r.id: r
            for r in s.execute(
                text(
                    "SELECT p.id AS id, p.idx AS idx, p.text AS text, d.number AS number "
                    "FROM passage p JOIN document d ON d.id = p.document_id "
                    f"WHERE p.id IN ({', '.join(str(int(i)) for i in first) or 'NULL'})"
                )
            ).all()
        }
        return _search_result(term, len(ids), [found[i] for i in first])
    else:
        # Candidates probed by primary key (CROSS JOIN keeps SQLite from scanning
        # documents first), each checked literally.
        total = tail() + int(
            s.execute(
                text(
                    "SELECT count(*) FROM passage p CROSS JOIN document d ON d.id = p.document_id "
                    "WHERE p.id IN (SELECT rowid FROM passage_fts WHERE passage_fts MATCH :q) "
                    f"AND instr(p.text, :term) > 0 {status}"
                ),
                params,
            ).scalar()
            or 0
        )
    rows: list[Any] = []
    if total:
        walk = min(ORDERED_WALK_MAX, 4 * limit * max(upto, 1) // total + limit)
        if walk < ORDERED_WALK_MAX:
            rows = list(
                s.execute(
                    text(
                        "SELECT idx, text, number FROM (SELECT p.idx AS idx, p.text AS text, "
                        "d.number AS number FROM document d CROSS JOIN passage p "
                        "ON p.document_id = d.id "
                        # ``+d.status``: walk the (type, seq) index, never the status index.
                        f"WHERE 1 = 1 {status.replace('d.status', '+d.status')}"
                        "ORDER BY d.source_type_id, d.seq, p.idx LIMIT :walk) "
                        "WHERE instr(text, :term) > 0 LIMIT :limit"
                    ),
                    params | {"walk": walk},
                ).all()
            )
        if len(rows) < min(limit, total):
            rows = list(
                s.execute(
                    text(
                        "SELECT p.idx AS idx, p.text AS text, d.number AS number "
                        "FROM passage p CROSS JOIN document d ON d.id = p.document_id "
                        "WHERE p.id IN (SELECT rowid FROM passage_fts WHERE passage_fts MATCH :q "
                        "UNION ALL SELECT id FROM passage WHERE id > :upto) "
                        f"AND instr(p.text, :term) > 0 {status}"
                        "ORDER BY d.source_type_id, d.seq, p.idx LIMIT :limit"
                    ),
                    params,
                ).all()
            )
    return _search_result(term, total, rows)


def _search_result(term: str, total: int, rows: Sequence[Any]) -> SearchResult:
    """The result of rows carrying ``number``, ``idx`` and ``text``, each with its snippet."""
    return SearchResult(
        term, total, tuple(SearchHit(r.number, r.idx, _snippet(r.text, term)) for r in rows)
    )
