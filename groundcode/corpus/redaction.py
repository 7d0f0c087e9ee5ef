"""Redaction: personal data masked everywhere the project holds it, in one transaction.

A value masked in a document's text is masked in every other place that
holds a copy of it, because a privacy step that leaves one copy behind has
not happened:

* the document: text, title, author, url, extra columns (``meta``), the name
  of the file it came from, and the details of screening decisions;
* its passages (the search index follows through its triggers and is then
  merged, so no segment keeps the old bigrams) and the codings' snippets,
  recomputed from the masked text (masks keep length, so offsets hold and a
  snippet that cut a value in half is masked too);
* every memo, the codebook's definitions and concept names (in-vivo names
  are the text's own words), and the file names of import batches;
* the audit log's snapshots: a removed coding's snippet, a memo's old text,
  anything else a change recorded. This is the one edit ever made to old
  audit rows: they keep their shape, only the masked characters change;
* derived stores are dropped, to be rebuilt from the masked text: the
  passages' token cache and the project's suggestion models.

After the commit the database's files are rewritten (``store.compact``), so
the old text is not left in freed pages or the write-ahead log. The audit row
of the redaction itself holds counts, never a masked value.

Coded documents are masked too: a mask has the length of what it replaces,
so every coding still points at the same characters.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, text, update
from sqlmodel import Session, col

from groundcode.corpus.redact import PATTERNS, Masker
from groundcode.corpus.views import RedactReport
from groundcode.domain.errors import BadOption, Forbidden
from groundcode.store.access import audit_actor, authorize
from groundcode.store.audit import record
from groundcode.store.compact import compact, leftover_copies
from groundcode.store.context import Context
from groundcode.store.derived import DerivedFiles, purge_legacy_user_cache
from groundcode.store.identity import team_mode
from groundcode.store.tables import (
    AuditLog,
    Category,
    Coding,
    Concept,
    Document,
    ImportBatch,
    MainCategory,
    Memo,
    ModelEdge,
    Passage,
    RelationClass,
    ScreeningDecision,
    Setting,
    TokenCache,
    utcnow,
)

# Document columns that hold text a person wrote or that names a person.
DOCUMENT_FIELDS = ("text", "title", "author", "url", "meta", "origin_file", "exclusion_detail")
# Settings that hold a researcher's prose, which may quote a document.
PROSE_SETTINGS = ("name", "core_definition", "storyline")
_CHUNK = 2000


def _chunks(ids: Sequence[int]) -> list[Sequence[int]]:
    return [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]


def _mask_meta(masker: Masker, meta: str) -> str:
    """Extra columns are a JSON object: mask its keys and values, keep it valid JSON."""
    try:
        data = json.loads(meta)
    except ValueError:
        return masker.mask(meta)
    return json.dumps(_walk(data, lambda s: masker.mask(s)), ensure_ascii=False)


def _update_many(s: Session, table: Any, column: str, rows: list[dict[str, Any]]) -> None:
    """``UPDATE table SET column = :new WHERE id = :rid`` for many rows in one statement each batch."""
    t = table.__table__
    stmt = t.update().where(t.c.id == bindparam("rid")).values({column: bindparam("new")})
    for lo in range(0, len(rows), _CHUNK):
        s.connection().execute(stmt, rows[lo : lo + _CHUNK])


def is_mask(old: str, new: str) -> bool:
    """Whether ``new`` is ``old`` with some characters replaced by ``*`` (and nothing else)."""
    return len(old) == len(new) and all(a == b or b == "*" for a, b in zip(old, new, strict=True))


def _walk(value: Any, fix: Any) -> Any:
    if isinstance(value, str):
        return fix(value)
    if isinstance(value, list):
        return [_walk(v, fix) for v in value]
    if isinstance(value, dict):
        return {fix(k): _walk(v, fix) for k, v in value.items()}
    return value


class Redaction:
    """The redaction room: one call masks the project (see the module docstring)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def run(
        self, *, patterns: Sequence[str] = ("phone", "id", "email"), dry_run: bool = False
    ) -> RedactReport:
        unknown = [p for p in patterns if p not in PATTERNS]
        if unknown:
            raise BadOption(option="patterns", value=unknown[0], allowed=", ".join(PATTERNS))
        patterns = list(dict.fromkeys(patterns))

        def _do(s: Session) -> RedactReport:
            if not dry_run:
                authorize(s, self.ctx.actor, "corpus.redact")
            masker = Masker(patterns)
            changed = self._documents(s, masker, dry_run=dry_run)
            counts = dict(masker.counts)
            if dry_run:
                return RedactReport(len(changed), counts)
            fields: dict[str, int] = {}
            for d in changed.values():
                for f in d["fields"]:
                    fields[f"document.{f}"] = fields.get(f"document.{f}", 0) + 1
            texts = {i: d["text"] for i, d in changed.items()}
            self._passages_and_codings(s, texts, fields)
            self._screening(s, masker, fields)
            self._memos_and_names(s, masker, fields)
            self._audit(s, masker, texts, fields)
            now, actor = utcnow(), audit_actor(self.ctx.actor)
            rows = [
                {
                    "at": now,
                    "actor": actor,
                    "action": "corpus.redact",
                    "entity": "document",
                    "entity_id": i,
                    "undone": False,
                    "after": json.dumps(
                        {**{k: v for k, v in d["found"].items() if v}, "fields": d["fields"]},
                        ensure_ascii=False,
                        sort_keys=True,
                    ),
                }
                for i, d in changed.items()
            ]
            for lo in range(0, len(rows), _CHUNK):
                s.execute(insert(AuditLog), rows[lo : lo + _CHUNK])
            if fields:
                record(
                    s,
                    actor=self.ctx.actor,
                    action="corpus.redact",
                    entity="project",
                    after={"documents": len(changed), "replacements": counts, "fields": fields},
                )
            return RedactReport(len(changed), counts, fields)

        if dry_run:
            # Counting only: a read, so it works on a read-only project too.
            with self.ctx.db.read() as s:
                return _do(s)
        report = self.ctx.db.run(_do)
        removed = DerivedFiles.of(self.ctx.db).purge() if report.fields else 0
        removed += purge_legacy_user_cache()
        return RedactReport(
            report.documents,
            report.replacements,
            report.fields,
            compacted=compact(self.ctx.db),
            copies=tuple(str(p) for p in leftover_copies(self.ctx.db)),
            derived_files=removed,
        )

    # -- the steps, in the order they run inside the one transaction ----------
    def _documents(self, s: Session, masker: Masker, *, dry_run: bool) -> dict[int, dict[str, Any]]:
        """Mask every document field; the changed documents with their new text."""
        changed: dict[int, dict[str, Any]] = {}
        updates: list[dict[str, Any]] = []
        docs = (
            s.execute(select(Document).order_by(col(Document.source_type_id), col(Document.seq)))
            .scalars()
            .all()
        )
        for d in docs:
            before = dict(masker.counts)
            new: dict[str, str] = {}
            for f in DOCUMENT_FIELDS:
                old = getattr(d, f)
                if not old:
                    continue
                value = _mask_meta(masker, old) if f == "meta" else masker.mask(old)
                if value != old:
                    new[f] = value
            if not new:
                continue
            found = {k: masker.counts[k] - before[k] for k in masker.counts}
            changed[int(d.id)] = {
                "text": new.get("text", d.text),
                "fields": sorted(new),
                "found": found,
            }
            if not dry_run:
                text_now = new.get("text", d.text)
                updates.append(
                    {
                        "rid": d.id,
                        **{f: new.get(f, getattr(d, f)) for f in DOCUMENT_FIELDS},
                        # The hash of the old text would give the masked digits away: with
                        # the rest of the text known, a phone number is a million guesses.
                        "content_hash": hashlib.sha256(text_now.encode("utf-8")).hexdigest(),
                    }
                )
        if updates:
            t = Document.__table__  # type: ignore[attr-defined]
            stmt = (
                t.update()
                .where(t.c.id == bindparam("rid"))
                .values({f: bindparam(f) for f in (*DOCUMENT_FIELDS, "content_hash")})
            )
            for lo in range(0, len(updates), _CHUNK):
                s.connection().execute(stmt, updates[lo : lo + _CHUNK])
        return changed

    def _passages_and_codings(
        self, s: Session, texts: dict[int, str], fields: dict[str, int]
    ) -> None:
        """Passages and snippets follow the masked text; their derived tokens are dropped."""
        ids = sorted(texts)
        touched: list[dict[str, Any]] = []
        snippets: list[dict[str, Any]] = []
        for part in _chunks(ids):
            rows = s.execute(
                select(
                    col(Passage.id),
                    col(Passage.document_id),
                    col(Passage.start),
                    col(Passage.end),
                    col(Passage.text),
                ).where(col(Passage.document_id).in_(part))
            ).all()
            for pid, doc, a, b, old in rows:
                new = texts[doc][a:b]
                if new != old:
                    touched.append({"rid": pid, "new": new})
            for cid, doc, a, old in s.execute(
                select(
                    col(Coding.id), col(Coding.document_id), col(Coding.start), col(Coding.snippet)
                ).where(col(Coding.document_id).in_(part))
            ).all():
                new = texts[doc][a : a + len(old)]
                if new != old:
                    snippets.append({"rid": cid, "new": new})
        _update_many(s, Passage, "text", touched)
        _update_many(s, Coding, "snippet", snippets)
        if snippets:
            fields["coding.snippet"] = len(snippets)
        if touched:
            fields["passage.text"] = len(touched)
        # Every cached segmentation of a masked document goes, not only the changed passages':
        # tokens are rebuilt from the masked text the next time words or suggestions need them.
        for part in _chunks(ids):
            passages = select(col(Passage.id)).where(col(Passage.document_id).in_(part))
            s.execute(delete(TokenCache).where(col(TokenCache.passage_id).in_(passages)))
        if touched and self.ctx.db.is_sqlite:
            # The index triggers added delete markers for the old bigrams; merging the
            # index's segments drops them together with the old entries.
            s.execute(text("INSERT INTO passage_fts(passage_fts) VALUES ('optimize')"))

    def _screening(self, s: Session, masker: Masker, fields: dict[str, int]) -> None:
        self._mask_column(s, masker, fields, ScreeningDecision, "detail")

    def _mask_column(
        self, s: Session, masker: Masker, fields: dict[str, int], table: Any, column: str
    ) -> None:
        """Mask one text column of every row, writing only the rows that change."""
        field = getattr(table, column)
        rows = []
        for rid, old in s.execute(select(table.id, field).where(field.is_not(None))).all():
            new = masker.mask_known(old)
            if new != old:
                rows.append({"rid": rid, "new": new})
        _update_many(s, table, column, rows)
        if rows:
            fields[f"{table.__tablename__}.{column}"] = len(rows)

    def _memos_and_names(self, s: Session, masker: Masker, fields: dict[str, int]) -> None:
        """Memos, the codebook's words and import file names: wherever a value may be copied."""
        for table, column in (
            (Memo, "text"),
            (ImportBatch, "file_name"),
            (Concept, "definition"),
            (Concept, "definition_group"),
            (Category, "definition"),
            (MainCategory, "definition"),
            (RelationClass, "definition"),
            (ModelEdge, "label"),
        ):
            self._mask_column(s, masker, fields, table, column)
        # The project's prose settings (its name, the core category's definition, the storyline).
        for key in PROSE_SETTINGS:
            row = s.get(Setting, key)
            if row is not None and (new := masker.mask_known(row.value)) != row.value:
                row.value = new
                s.add(row)
                fields[f"setting.{key}"] = 1
        taken = set(s.execute(select(col(Concept.name))).scalars())
        for rid, old in s.execute(select(col(Concept.id), col(Concept.name))).all():
            new = masker.mask_known(old)
            if new == old:
                continue
            n = 2
            unique = new
            while unique in taken:  # two names that differed only in a masked value
                unique = f"{new} ({n})"
                n += 1
            taken.add(unique)
            s.execute(update(Concept).where(col(Concept.id) == rid).values(name=unique))
            fields["concept.name"] = fields.get("concept.name", 0) + 1

    def _audit(
        self, s: Session, masker: Masker, texts: dict[int, str], fields: dict[str, int]
    ) -> None:
        """Mask the audit log's snapshots of text, row by row, keeping each row's shape."""

        def fix_value(value: Any) -> Any:
            if isinstance(value, dict):
                out = {masker.mask_known(k): fix_value(v) for k, v in value.items()}
                doc, start, snip = value.get("document_id"), value.get("start"), out.get("snippet")
                if doc in texts and isinstance(start, int) and isinstance(snip, str):
                    # A coding's snapshot: its snippet as the masked text has it.
                    out["snippet"] = texts[doc][start : start + len(snip)]
                return out
            if isinstance(value, list):
                return [fix_value(v) for v in value]
            if isinstance(value, str):
                return masker.mask_known(value)
            return value

        team = team_mode(s)
        if (
            team
            and not s.execute(
                text("SELECT to_regprocedure('gc_mask_audit(bigint, text, text)') IS NOT NULL")
            ).scalar()
        ):
            # A team project set up by an older version: its owner re-runs the team set-up.
            raise Forbidden(action="corpus.redact", actor=self.ctx.actor or "", needs="team init")
        last = 0
        while True:
            rows = s.execute(
                select(col(AuditLog.id), col(AuditLog.before), col(AuditLog.after))
                .where(col(AuditLog.id) > last)
                .order_by(col(AuditLog.id))
                .limit(_CHUNK)
            ).all()
            if not rows:
                return
            for rid, before, after in rows:
                values: dict[str, str | None] = {}
                for name, raw in (("before", before), ("after", after)):
                    if not raw:
                        continue
                    try:
                        data = json.loads(raw)
                    except ValueError:
                        new_raw = masker.mask_known(raw)
                    else:
                        fixed = fix_value(data)
                        new_raw = (
                            raw
                            if fixed == data
                            else json.dumps(fixed, ensure_ascii=False, default=str, sort_keys=True)
                        )
                    if new_raw != raw and team and not is_mask(raw, new_raw):
                        # Written in another JSON layout: mask the stored text as it is.
                        new_raw = masker.mask_known(raw)
                    if new_raw != raw and (not team or is_mask(raw, new_raw)):
                        values[name] = new_raw
                if values and team:
                    # Team mode: old audit rows change only through the function that
                    # accepts masks (characters replaced by '*') and nothing else.
                    s.execute(
                        text("SELECT gc_mask_audit(:i, :b, :a)"),
                        {
                            "i": rid,
                            "b": values.get("before", before),
                            "a": values.get("after", after),
                        },
                    )
                    fields["audit_log"] = fields.get("audit_log", 0) + 1
                elif values:
                    s.execute(update(AuditLog).where(col(AuditLog.id) == rid).values(**values))
                    fields["audit_log"] = fields.get("audit_log", 0) + 1
            last = rows[-1][0]


__all__ = ["DOCUMENT_FIELDS", "Redaction", "is_mask"]
