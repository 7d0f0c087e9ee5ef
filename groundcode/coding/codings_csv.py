"""The codings CSV (SPEC §3) as named steps: parse, resolve and check, dedupe, insert.

``parse`` reads the file and its header (no project access); ``insert_rows``
resolves every row's coder, document, passage and concept against the project,
refuses the whole file on the first bad row, drops rows already present (a
re-import is idempotent) and inserts the rest in bulk with their audit rows and
memos, all in the caller's one transaction; ``mark_documents_done`` marks the file's
documents done for their coders when asked. ``CodingService.import_csv`` runs
the three.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import func, insert, select
from sqlmodel import Session, col

from groundcode.coding import memos as memo_steps
from groundcode.coding.codes import clean_name, ensure_concept, find_concept
from groundcode.coding.records import MAX_SNIPPET, CodingsImport
from groundcode.domain import csv_rows
from groundcode.domain.errors import BadDocNumber, Conflict, InvalidInput, NotFound, RowForbidden
from groundcode.domain.values import normalise_number
from groundcode.store.access import authorize, blind_active, find_coder
from groundcode.store.context import Context
from groundcode.store.lookup import coding_keys, row_id
from groundcode.store.raw import insert_many
from groundcode.store.tables import AuditLog, Coder, Coding, Document, Passage

MAX_CODINGS_CELL = 1_000_000  # a memo or passage text; far past any real one


@dataclass(frozen=True)
class CodingsFile:
    """A parsed codings file: its rows by line number, and which form its columns take."""

    path: Path
    rows: tuple[tuple[int, dict[str, str]], ...]
    span_form: bool
    passage_form: bool


def _stored_number(text: str) -> str:
    """A file's document number in stored form; text that is no number stays as it is,
    so the row is reported as naming an unknown document."""
    try:
        return normalise_number(text)
    except BadDocNumber:
        return str(text).strip()


def parse(path: Path, coder: str | None) -> CodingsFile:
    """Read and check the file's header and rows; nothing in the project is touched yet."""
    from groundcode.corpus.encoding import decode_bytes

    if not path.is_file():
        raise InvalidInput(str(path), 0, "no_such_file")
    text = decode_bytes(path.read_bytes(), str(path))
    # Strict rows: an unterminated quote is refused, never swallows the rest of the file.
    reader = (values for _, values in csv_rows.rows(text, str(path), max_cell=MAX_CODINGS_CELL))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise InvalidInput(str(path), 0, "empty_file") from None
    span_form = {"document", "start", "end", "code"} <= set(header)
    passage_form = {"document", "passage", "code"} <= set(header)
    if not (span_form or passage_form):
        raise InvalidInput(str(path), 0, "codings_columns", ",".join(header))
    col = {name: i for i, name in enumerate(header)}
    if "coder" not in col and not coder:
        raise InvalidInput(str(path), 0, "no_coder_column")
    rows: list[tuple[int, dict[str, str]]] = []
    # One string object per distinct cell value: coders, codes, document and passage
    # numbers repeat on every row (400,000 rows held 1.3 million cell strings).
    shared: dict[str, str] = {}
    for lineno, raw in enumerate(reader, start=2):
        if not any(cell.strip() for cell in raw):
            continue
        if len(raw) < len(header):
            raw = raw + [""] * (len(header) - len(raw))
        cells = {}
        for k, i in col.items():
            v = raw[i].strip()
            cells[k] = shared.setdefault(v, v)
        rows.append((lineno, cells))
    if not rows:
        raise InvalidInput(str(path), 0, "no_codings")
    return CodingsFile(path, tuple(rows), span_form=span_form, passage_form=passage_form)


def insert_rows(
    s: Session, ctx: Context, file: CodingsFile, *, default_coder: str | None
) -> CodingsImport:
    """Validate every row against the project, then insert in bulk (one transaction)."""
    path, rows = file.path, file.rows
    span_form, passage_form = file.span_form, file.passage_form
    from groundcode.store.tables import utcnow

    actor_coder = find_coder(s, ctx.actor) if ctx.actor else None
    lead = actor_coder is not None and actor_coder.role == "lead"
    blind = blind_active(s)
    coders: dict[str, Coder] = {}
    for lineno, r in rows:
        name = r.get("coder") or default_coder or ""
        if name in coders:
            continue
        try:
            coders[name] = find_coder(s, name)
        except NotFound:
            raise InvalidInput(str(path), lineno, "unknown_coder", name) from None
        if coders[name].role == "consensus" and not lead and actor_coder is not None:
            raise RowForbidden(str(path), lineno, "consensus_import", name)
        if blind and not lead and (actor_coder is None or actor_coder.name != name):
            raise RowForbidden(str(path), lineno, "blind_import", name)
        if coders[name].role == "consensus" and not lead:
            authorize(s, ctx.actor, "codings.import_consensus")
        elif actor_coder is None or actor_coder.name != name:
            # Someone else's codings: a lead's task once the project has one.
            authorize(s, ctx.actor, "codings.import_others")
    # Every referenced document and its passages, fetched in bulk.
    # A number is normalised once per distinct spelling (four codings per document
    # at the reference size: 400k parses became 100k).
    stored: dict[str, str] = {}
    for _, r in rows:
        if r["document"] not in stored:
            stored[r["document"]] = _stored_number(r["document"])
    numbers = sorted(set(stored.values()))
    docs: dict[str, tuple[int, int]] = {}
    for lo in range(0, len(numbers), 5000):
        for did, num, length in s.execute(
            select(col(Document.id), col(Document.number), func.length(col(Document.text))).where(
                col(Document.number).in_(numbers[lo : lo + 5000])
            )
        ).all():
            docs[num] = (did, int(length))
    doc_ids = [d for d, _ in docs.values()]
    # Passage bounds only: the texts a snippet needs are read chunk by chunk at insert
    # time (holding every passage's text was a third of the import's peak memory).
    passages: dict[tuple[int, int], tuple[int, int, int]] = {}
    by_doc: dict[int, list[tuple[int, int, int]]] = {}
    for lo in range(0, len(doc_ids), 5000):
        for pid, did, idx, a, b in s.execute(
            select(
                col(Passage.id),
                col(Passage.document_id),
                col(Passage.idx),
                col(Passage.start),
                col(Passage.end),
            ).where(col(Passage.document_id).in_(doc_ids[lo : lo + 5000]))
        ):
            passages[(did, idx)] = (pid, a, b)
            by_doc.setdefault(did, []).append((pid, a, b))
    coder_ids = {c.name: row_id(c) for c in coders.values()}
    concept_ids: dict[str, int] = {}
    new_concepts: list[str] = []
    values: list[_Pending] = []
    memos: list[str | None] = []
    seen: set[tuple[int, int, int, int, int]] = set()
    skipped = 0
    for lineno, r in rows:
        cd = coders[r.get("coder") or default_coder or ""]
        number = stored[r["document"]]
        if number not in docs:
            raise InvalidInput(str(path), lineno, "unknown_document", r["document"])
        did, length = docs[number]
        code = r.get("code", "")
        if not code:
            raise InvalidInput(str(path), lineno, "empty_code")
        pid = None
        whole_passage = False
        try:
            if span_form and r.get("start", "") != "":
                a, b = int(r["start"]), int(r["end"])
                if not (0 <= a < b <= length):
                    raise InvalidInput(
                        str(path), lineno, "span_outside", f"{number} {a}-{b} (0-{length})"
                    )
                if passage_form and r.get("passage"):
                    key = (did, int(r["passage"]))
                    if key not in passages:
                        raise InvalidInput(
                            str(path), lineno, "no_passage", f"{number} #{r['passage']}"
                        )
                    pid, pa, pb = passages[key]
                    if not (pa <= a and b <= pb):
                        raise InvalidInput(
                            str(path),
                            lineno,
                            "span_not_in_passage",
                            f"{number} #{r['passage']} {a}-{b}",
                        )
                else:
                    pid = next(
                        (p_id for p_id, pa, pb in by_doc.get(did, []) if pa <= a and b <= pb),
                        None,
                    )
            else:
                key = (did, int(r["passage"]))
                if key not in passages:
                    raise InvalidInput(str(path), lineno, "no_passage", f"{number} #{r['passage']}")
                pid, a, b = passages[key]
                whole_passage = True
        except ValueError:
            raise InvalidInput(str(path), lineno, "offsets_not_whole") from None
        if code not in concept_ids:
            existing = find_concept(s, clean_name(code))
            if existing is None:
                con, _ = ensure_concept(s, code, actor=cd.name)
                new_concepts.append(con.name)
            else:
                con = existing
            concept_ids[code] = row_id(con)
        coder_id = coder_ids[cd.name]
        key5 = (coder_id, concept_ids[code], did, a, b)
        if key5 in seen:
            skipped += 1
            continue
        seen.add(key5)
        values.append(_Pending(coder_id, concept_ids[code], did, pid, a, b, whole_passage))
        memos.append(r.get("memo") or None)
    # Codings already present (same coder, concept and span) are skipped: re-import is idempotent.
    existing_keys = coding_keys(s, doc_ids)
    keep = [
        (v, m)
        for v, m in zip(values, memos, strict=True)
        if (v.coder_id, v.concept_id, v.document_id, v.start, v.end) not in existing_keys
    ]
    skipped += len(values) - len(keep)
    del values, memos, seen, existing_keys, passages, by_doc
    fresh = [v for v, _ in keep]
    now = utcnow()
    ids: list[int] = []
    if ctx.db.is_sqlite:
        # SQLite answers INSERT ... RETURNING one statement per row; a plain executemany
        # is one prepared statement. The write lock is held (BEGIN IMMEDIATE), so the
        # rows above the previous largest id are exactly these, in insertion order.
        before = s.execute(select(func.max(col(Coding.id)))).scalar() or 0
        # The table itself, not the ORM entity: a bulk ORM insert walks every
        # row through its persistence layer (a tenth of the import's time).
        coding_table = Coding.__table__  # type: ignore[attr-defined]
        for lo in range(0, len(fresh), CHUNK):
            insert_many(
                s,
                coding_table,
                _CODING_COLUMNS,
                _insert_values(s, fresh[lo : lo + CHUNK]),
                {"assisted": False, "created_at": now},
            )
        ids = list(
            s.execute(
                select(col(Coding.id)).where(col(Coding.id) > before).order_by(col(Coding.id))
            ).scalars()
        )
    else:
        for lo in range(0, len(fresh), CHUNK):
            res = s.execute(
                insert(Coding).returning(col(Coding.id), sort_by_parameter_order=True),
                [
                    dict(zip(_CODING_COLUMNS, values, strict=True))
                    | {"assisted": False, "created_at": now}
                    for values in _insert_values(s, fresh[lo : lo + CHUNK])
                ],
            )
            ids.extend(r[0] for r in res)
    id_to_coder = {c.id: c.name for c in coders.values()}
    actor_name = ctx.actor
    audit_rows: list[tuple[str, int, str]] = []
    audit_table = AuditLog.__table__  # type: ignore[attr-defined]
    audit_constants = {"at": now, "action": "coding.import", "entity": "coding", "undone": False}
    memo_rows = []
    source = path.name
    for cid, (v, memo) in zip(ids, keep, strict=True):
        # Imported codings are logged as imports, which undo leaves alone. Written in
        # chunks as they are built, so the log rows never all sit in memory at once.
        audit_rows.append(
            (
                actor_name or id_to_coder[v.coder_id],
                cid,
                json.dumps(
                    {
                        "coder_id": v.coder_id,
                        "concept_id": v.concept_id,
                        "document_id": v.document_id,
                        "start": v.start,
                        "end": v.end,
                        "source": source,
                    }
                ),
            )
        )
        if len(audit_rows) == CHUNK:
            insert_many(s, audit_table, _AUDIT_COLUMNS, audit_rows, audit_constants)
            audit_rows = []
        if memo:
            memo_rows.append(
                {
                    "target_kind": "coding",
                    "target_id": cid,
                    "author": id_to_coder[v.coder_id],
                    "text": memo,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    if audit_rows:
        insert_many(s, audit_table, _AUDIT_COLUMNS, audit_rows, audit_constants)
    memo_steps.insert_coding_memos(s, memo_rows)
    return CodingsImport(str(path), len(fresh), skipped, tuple(new_concepts), tuple(sorted(coders)))


class _Pending(NamedTuple):
    """A checked coding waiting to be inserted; its snippet is read at insert time."""

    coder_id: int
    concept_id: int
    document_id: int
    passage_id: int | None
    start: int
    end: int
    whole_passage: bool  # the snippet is the passage's text, not a slice of the document


CHUNK = 5000  # codings per INSERT, and per read of the texts their snippets come from
_CODING_COLUMNS = ("coder_id", "concept_id", "document_id", "passage_id", "start", "end", "snippet")
_AUDIT_COLUMNS = ("actor", "entity_id", "after")


def _insert_values(s: Session, chunk: Sequence[_Pending]) -> list[tuple[Any, ...]]:
    """The chunk's rows in ``_CODING_COLUMNS`` order, with snippets cut from texts read
    for this chunk only."""
    pids = sorted({v.passage_id for v in chunk if v.whole_passage and v.passage_id is not None})
    dids = sorted({v.document_id for v in chunk if not v.whole_passage})
    passage_texts: dict[int, str] = {}
    doc_texts: dict[int, str] = {}
    if pids:
        passage_texts = {
            int(i): t
            for i, t in s.execute(
                select(col(Passage.id), col(Passage.text)).where(col(Passage.id).in_(pids))
            )
        }
    for lo in range(0, len(dids), 500):  # IN lists of at most 500 ids
        doc_texts.update(
            (int(i), t)
            for i, t in s.execute(
                select(col(Document.id), col(Document.text)).where(
                    col(Document.id).in_(dids[lo : lo + 500])
                )
            )
        )
    return [
        (
            v.coder_id,
            v.concept_id,
            v.document_id,
            v.passage_id,
            v.start,
            v.end,
            (
                passage_texts[v.passage_id]
                if v.whole_passage and v.passage_id is not None
                else doc_texts[v.document_id][v.start : v.end]
            )[:MAX_SNIPPET],
        )
        for v in chunk
    ]


def mark_documents_done(
    s: Session,
    ctx: Context,
    rows: Sequence[tuple[int, dict[str, str]]],
    default_coder: str | None,
    result: CodingsImport,
) -> CodingsImport:
    from dataclasses import replace

    from groundcode.coding.progress import mark_done

    per_coder: dict[str, dict[str, None]] = {}  # ordered sets: files hold 100,000 rows
    for _lineno, r in rows:
        name = r.get("coder") or default_coder or ""
        number = r["document"].replace(" ", "")
        per_coder.setdefault(name, {}).setdefault(number, None)
    numbers = sorted({n for ns in per_coder.values() for n in ns})
    docs: dict[str, tuple[int, str]] = {}
    for lo in range(0, len(numbers), 5000):
        for did, num, status in s.execute(
            select(col(Document.id), col(Document.number), col(Document.status)).where(
                col(Document.number).in_(numbers[lo : lo + 5000])
            )
        ).all():
            docs[num] = (int(did), status)
    for num in numbers:
        if docs[num][1] != "included":
            raise Conflict("document_excluded", num)
    marked = 0
    for name, ns in per_coder.items():
        who = find_coder(s, name)
        marked += len(
            mark_done(
                s,
                who,
                [docs[n][0] for n in ns],
                actor=ctx.actor or who.name,
                numbers={docs[n][0]: n for n in ns},
            )
        )
    return replace(result, done=marked)
