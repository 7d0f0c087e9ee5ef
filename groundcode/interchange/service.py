"""The interchange room: REFI-QDA projects and codebooks, codebook xlsx, in and out.

Export reads the project in one read transaction into plain
:mod:`groundcode.interchange.model` objects, with groundcode's own facts as
variables (:mod:`groundcode.interchange.facts`), a chunk of documents at a
time (:mod:`groundcode.interchange.qdpx_export`), and streams them through
the REFI writer as they are read. Import streams the file into **one** transaction (``_StreamingImport``):
each source is written in a chunk as it is read, so memory does not grow with
the corpus, and a file refused anywhere (the archive, the XML, a row) rolls
the whole import back, so a refused import changes nothing. Sources already in the project
(same export GUID or number, and the same content) are reported as present,
not added twice. What the file holds that cannot be taken is listed in the
loss report. (The codings CSV import stays with the coding service.)
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlmodel import Session, col
from sqlmodel.sql.sqltypes import UTCDateTime

from groundcode.coding.codebook_yaml import (
    CategorySpec,
    CodebookSpec,
    ConceptSpec,
    MainCategorySpec,
    RelationClassSpec,
)
from groundcode.coding.records import MAX_SNIPPET
from groundcode.coding.views import (
    CategoryView,
    CodebookTree,
    ConceptView,
    ImportSummary,
    MainCategoryView,
    RelationClassView,
)
from groundcode.domain.errors import FileRefused
from groundcode.domain.model import Edge
from groundcode.domain.notice import Notice
from groundcode.interchange import facts as F
from groundcode.interchange.model import (
    QdaCode,
    QdaCoding,
    QdaNote,
    QdaProject,
    QdaSource,
    QdaVariable,
    iter_codes,
)
from groundcode.interchange.refi_read import Loss, QdpxStream, QdpxTail, SourceRead
from groundcode.interchange.refi_write import check_target, guid_for
from groundcode.store.access import authorize, readable_coder_ids
from groundcode.store.audit import record
from groundcode.store.context import Context
from groundcode.store.edges import new_row
from groundcode.store.lookup import row_id as stored_id
from groundcode.store.settings import get_setting, set_setting
from groundcode.store.tables import (
    Assignment,
    AuditLog,
    Category,
    Coder,
    Coding,
    Concept,
    Document,
    DoneMark,
    ImportBatch,
    MainCategory,
    Memo,
    ModelEdge,
    Passage,
    RelationClass,
    ScreeningDecision,
    SourceType,
    utcnow,
)

if TYPE_CHECKING:
    from groundcode.coding.codebook import CodebookService
    from groundcode.corpus.service import CorpusService

ORIGIN = "groundcode 0.1.0"
#: Settings that travel in the project facts and are applied to a fresh project.
TRAVELLING_SETTINGS = (
    "blind_mode",
    "seed",
    "holdout_ratio",
    "core_category",
    "core_definition",
    "storyline",
    "holdout_started_at",
    "holdout_start",
)
#: Audit events the verdicts read, carried with their times.
TRAVELLING_EVENTS = ("saturation.begin", "reconcile.decide")
_LevelTable = type[RelationClass] | type[MainCategory] | type[Category] | type[Concept]
LEVEL_TABLES: dict[str, _LevelTable] = {
    "relation_class": RelationClass,
    "main_category": MainCategory,
    "category": Category,
    "concept": Concept,
}
#: Code keys of the export: "<prefix>:<id>" per level.
KEY_PREFIX = {
    "relation_class": "relation",
    "main_category": "main",
    "category": "category",
    "concept": "concept",
}
MEMO_LEVEL = {
    "concept": "concept",
    "category": "category",
    "main_category": "main_category",
    "relation_class": "relation_class",
}
_CHUNK = 5000


@dataclass(frozen=True)
class QdpxImport:
    """What an import did: counts, the sources already present, and the loss report."""

    file: str
    documents: int
    present: tuple[str, ...]
    codes: int
    codings: int
    codings_present: int
    memos: int
    done_marks: int
    losses: tuple[Loss, ...] = ()
    warnings: tuple[str, ...] = ()

    def summary(self, lang: str = "en") -> str:
        from groundcode.domain.wording import text

        return text(
            "interchange.import.summary",
            lang,
            documents=self.documents,
            present=len(self.present),
            codes=self.codes,
            codings=self.codings,
            file=self.file,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "documents": self.documents,
            "present": list(self.present),
            "codes": self.codes,
            "codings": self.codings,
            "codings_present": self.codings_present,
            "memos": self.memos,
            "done_marks": self.done_marks,
            "losses": [
                {**vars(loss), "message_zh": loss.word("zh"), "message_en": loss.word("en")}
                for loss in self.losses
            ],
            "warnings": list(self.warnings),
        }


class InterchangeService:
    """REFI-QDA and codebook files for one project, acting as one user."""

    def __init__(self, ctx: Context, *, corpus: CorpusService, codebook: CodebookService) -> None:
        self.ctx = ctx
        self.corpus = corpus
        self.codebook = codebook

    # =====================================================================
    # export
    # =====================================================================
    def export_qdc(self, path: Path, *, force: bool = False) -> Path:
        """The category system as a REFI-QDA codebook (``.qdc``)."""
        from groundcode.interchange.refi_write import write_qdc

        path = Path(path)
        check_target(path, force=force)
        # The tree is already blind-filtered (concepts only another coder created, unless
        # one's own codings use them), the same rule as the YAML and xlsx codebooks.
        write_qdc(self._qda_codes(self.codebook.tree()), path, origin=ORIGIN)
        return path

    def _hidden_creators(self, s: Session) -> set[str]:
        """In blind mode, a coder does not see the concepts other coders created."""
        visible = readable_coder_ids(s, self.ctx.actor)
        if visible is None:
            return set()
        return {
            c.name
            for c in s.execute(select(Coder).where(col(Coder.role) == "coder")).scalars()
            if c.id not in visible
        }

    def _qda_codes(
        self, tree: CodebookTree, hidden: set[str] | None = None, used: set[int] | None = None
    ) -> list[QdaCode]:
        """The category system as a REFI-QDA code tree; only concepts are codable.

        ``hidden`` creators' concepts stay out (blind mode) unless ``used`` by a
        coding the reader may see.
        """
        hidden = hidden or set()
        used = used or set()

        def shown(concepts: Iterable[ConceptView]) -> list[ConceptView]:
            return [k for k in concepts if k.created_by not in hidden or k.id in used]

        def concept(k: ConceptView) -> QdaCode:
            return QdaCode(
                key=f"concept:{k.id}", name=k.name, codable=True, description=k.definition
            )

        def folder(
            kind: str,
            node: CategoryView | MainCategoryView | RelationClassView,
            children: list[QdaCode],
        ) -> QdaCode:
            return QdaCode(
                key=f"{kind}:{node.id}",
                name=node.name,
                codable=False,
                description=node.definition,
                children=children,
            )

        def category(c: CategoryView) -> QdaCode:
            return folder("category", c, [concept(k) for k in shown(c.concepts)])

        def main(m: MainCategoryView) -> QdaCode:
            return folder("main", m, [category(c) for c in m.categories])

        return (
            [
                folder("relation", rc, [main(m) for m in rc.main_categories])
                for rc in tree.relation_classes
            ]
            + [main(m) for m in tree.unassigned_main_categories]
            + [category(c) for c in tree.unassigned_categories]
            + [concept(k) for k in shown(tree.uncategorised)]
        )

    def export_qdpx(
        self, path: Path, *, include_personal: bool = False, force: bool = False
    ) -> tuple[Path, list[str]]:
        """The project as a ``.qdpx`` any REFI-QDA reader opens, with groundcode's facts.

        Streams: the sources are read a chunk at a time and written as they
        are read, all inside one read transaction (one consistent snapshot),
        so memory does not grow with the corpus (:mod:`.qdpx_export`).
        """
        from groundcode.interchange.qdpx_export import ProjectExport
        from groundcode.interchange.refi_write import write_qdpx_stream

        path = Path(path)
        check_target(path, force=force)
        tree = self.codebook.tree()
        with self.ctx.db.read() as s:
            export = ProjectExport(self, s, tree, include_personal=include_personal)
            warnings = write_qdpx_stream(export.head, export.chunks(), path)
        return path, warnings

    def build_project(self, *, include_personal: bool = False) -> QdaProject:
        """Everything the export carries, held whole (blind mode applied).

        For a notebook or a test on a small project: the same reading as
        :meth:`export_qdpx`, collected; the export itself never holds this.
        """
        from groundcode.interchange.qdpx_export import ProjectExport

        tree = self.codebook.tree()
        with self.ctx.db.read() as s:
            export = ProjectExport(self, s, tree, include_personal=include_personal)
            entries = [entry for chunk in export.chunks() for entry in chunk]
        return replace(
            export.head,
            sources=[source for source, _ in entries],
            codings=[coding for _, codings in entries for coding in codings],
        )

    @staticmethod
    def _notes(
        memos: list[Memo], doc_ids: set[int], code_keys: set[str], coder_key: dict[str, str]
    ) -> list[QdaNote]:
        """Memos other than coding memos (those ride on their selection) as notes."""
        notes: list[QdaNote] = []
        for m in memos:
            target: tuple[str, str] | None = None
            if m.target_kind == "project":
                target = ("project", "")
            elif m.target_kind == "document" and m.target_id in doc_ids:
                target = ("source", f"document:{m.target_id}")
            elif m.target_kind in MEMO_LEVEL:
                key = f"{KEY_PREFIX[m.target_kind]}:{m.target_id}"
                if key in code_keys:
                    target = ("code", key)
            if target is None:
                continue
            notes.append(
                QdaNote(
                    key=f"memo:{m.id}",
                    name=(m.text.splitlines() or ["memo"])[0][:40] or "memo",
                    text=m.text,
                    user_key=coder_key[m.author],
                    created=m.created_at,
                    target=target,
                )
            )
        return notes

    # =====================================================================
    # codebook imports
    # =====================================================================
    def import_qdc(self, path: Path) -> ImportSummary:
        from groundcode.interchange.refi_read import read_qdc

        codes = read_qdc(Path(path))
        spec = spec_from_codes(codes, {})
        return self.codebook.import_spec(spec, source=str(path))

    def import_codebook_xlsx(self, path: Path) -> ImportSummary:
        """Read the xlsx written by ``export codebook`` (one row per concept with its path)."""
        import pandas as pd

        try:
            frame = pd.read_excel(path, dtype=str).fillna("")
        except Exception as exc:  # noqa: BLE001 - any unreadable workbook is one clear error
            raise FileRefused(str(path), 0, "workbook_unreadable", type(exc).__name__) from None
        needed = {"concept", "category", "main_category", "relation_class"}
        if not needed <= set(frame.columns):
            raise FileRefused(str(path), 0, "workbook_columns", ", ".join(sorted(needed)))
        tree: dict[str, dict[str, dict[str, list[QdaCode]]]] = {}
        loose: list[QdaCode] = []
        for r in frame.itertuples(index=False):
            leaf = QdaCode(
                key=str(r.concept),
                name=str(r.concept),
                description=str(getattr(r, "definition", "") or "") or None,
            )
            if not r.category:
                loose.append(leaf)
                continue
            tree.setdefault(str(r.relation_class) or "(imported)", {}).setdefault(
                str(r.main_category) or "(imported categories)", {}
            ).setdefault(str(r.category), []).append(leaf)
        codes = [
            QdaCode(
                key=rc,
                name=rc,
                codable=False,
                children=[
                    QdaCode(
                        key=m,
                        name=m,
                        codable=False,
                        children=[
                            QdaCode(key=c, name=c, codable=False, children=leaves)
                            for c, leaves in cats.items()
                        ],
                    )
                    for m, cats in mains.items()
                ],
            )
            for rc, mains in tree.items()
        ] + loose
        spec = spec_from_codes(codes, {})
        return self.codebook.import_spec(spec, source=str(path))

    # =====================================================================
    # project import
    # =====================================================================
    def import_qdpx(self, path: Path, *, type: str | int = 1) -> QdpxImport:
        """Bring a REFI-QDA project into this one, all or nothing (see the module notes)."""
        from groundcode.domain.collector import collector_held
        from groundcode.interchange.refi_read import LateSection, QdpxStream

        path = Path(path)
        with self.ctx.db.read() as s:
            # Refused before the archive is even read (checked again in the write).
            authorize(s, self.ctx.actor, "corpus.import_qdpx")
        # No cyclic collections while the sources stream in (domain.collector).
        with collector_held(), QdpxStream(path) as stream:
            digest = _file_digest(path)
            default_type = self.corpus.resolve_type(type).id
            try:
                return self.ctx.db.run(
                    lambda s: _StreamingImport(self, s, stream, path, digest, default_type).run()
                )
            except LateSection:
                # Variables or Cases after the sources (against the schema's order): read
                # them first, then stream again. The failed attempt was rolled back.
                stream.read_sections_first()
                return self.ctx.db.run(
                    lambda s: _StreamingImport(self, s, stream, path, digest, default_type).run()
                )


#: Sources buffered before their documents, passages and codings are written.
SOURCES_PER_CHUNK = 1000
#: ... or fewer, once their texts reach this many characters: 1,000 long documents
#: (the reference corpus has 2,000 of 37,000 characters) held ~100 MB at once.
CHARS_PER_CHUNK = 1_000_000
#: Beyond this a coding rank from the file is clamped (SQL integers are 64-bit).
_RANK_BOUND = 1 << 62

_STAGE = MetaData()


def _coding_fields() -> list[Column[Any]]:
    """A staged coding's own fields, as both coding staging tables hold them (a column
    belongs to one table, so each table gets its own copies)."""
    return [
        Column("document_id", Integer, nullable=False),
        Column("passage_id", Integer, nullable=True),
        Column("start", Integer, nullable=False),
        Column("end", Integer, nullable=False),
        Column("snippet", Text, nullable=False),
        Column("assisted", Boolean, nullable=False),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("memo", Text, nullable=True),
        Column("key", Text, nullable=False),
    ]


#: Codings as they are read, with their rank and file position, so they reach the
#: coding table in the source project's order without being held in memory.
_CODING_STAGE = Table(
    "qdpx_coding_stage",
    _STAGE,
    Column("n", Integer, primary_key=True, autoincrement=False),
    Column("rank", BigInteger, nullable=True),
    Column("pos", Integer, nullable=False),
    Column("code_ix", Integer, nullable=False),
    Column("user_ix", Integer, nullable=False),
    *_coding_fields(),
    prefixes=["TEMPORARY"],
)
#: The winner of each coding key (the first in the project's order, not yet stored).
_CODING_WIN = Table(
    "qdpx_coding_win",
    _STAGE,
    Column("ord", BigInteger, nullable=False),
    Column("pos", Integer, nullable=False),
    Column("coder_id", Integer, nullable=False),
    Column("concept_id", Integer, nullable=False),
    *_coding_fields(),
    prefixes=["TEMPORARY"],
)
_CODE_MAP = Table(
    "qdpx_code_map",
    _STAGE,
    Column("ix", Integer, primary_key=True, autoincrement=False),
    Column("concept_id", Integer, nullable=False),
    prefixes=["TEMPORARY"],
)
_USER_MAP = Table(
    "qdpx_user_map",
    _STAGE,
    Column("ix", Integer, primary_key=True, autoincrement=False),
    Column("coder_id", Integer, nullable=False),
    prefixes=["TEMPORARY"],
)
#: Done marks ("done") and assignments ("assigned") from the sources' facts, by coder
#: name: the coders exist only once every user is known, after the sources.
_PAIR_STAGE = Table(
    "qdpx_pair_stage",
    _STAGE,
    Column("n", Integer, primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),
    Column("coder", Text, nullable=False),
    Column("document_id", Integer, nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("number", Text, nullable=True),
    Column("number_of_row", Boolean, nullable=False),
    prefixes=["TEMPORARY"],
)


@dataclass
class _Doc:
    """One source between its reading and its chunk's write (then let go)."""

    source: QdaSource
    facts: F.SourceFacts
    body: str
    spans: list[tuple[int, int]]
    type_id: int
    codings: list[QdaCoding]
    first_pos: int  # file position of its first coding among all the sources' codings
    number: str | None = None  # wanted number (from the facts), then the one given
    present_id: int | None = None
    id: int | None = None
    wanted: bool = False  # numbered after every source is read (see ``_number_wanted``)


class _StreamingImport:
    """One ``.qdpx`` import inside one transaction, written as the file streams.

    Sources are read one at a time and written in chunks of
    :data:`SOURCES_PER_CHUNK` (or :data:`CHARS_PER_CHUNK` characters of text):
    documents (with their text), passages, screening
    decisions; their codings and (coder, document) facts go to temporary
    tables. Memory holds one chunk plus the small sections (users, codebook,
    variables, notes), never the corpus. Three things need the whole file and
    are done after it, with the same results as reading it all first:

    * codings reach the coding table in the source project's order (ids, and
      so ties, come back as they were), chosen and sorted in SQL;
    * sources that want a number get theirs after every numbered one is known;
    * users, the codebook and the audit trail are written in the same order as
      ever (a user may first appear in a coding or a note).

    What the project already holds (documents, memos) is read at the start as
    before: that grows with the project imported into, not with the file.
    """

    def __init__(
        self,
        service: InterchangeService,
        s: Session,
        stream: QdpxStream,
        file: Path,
        digest: str,
        default_type: int,
    ) -> None:
        self.service = service
        self.s = s
        self.stream = stream
        self.file = file
        self.digest = digest
        self.default_type = default_type
        self.actor = service.ctx.actor
        self.now = utcnow()
        self.buffer: list[_Doc] = []
        self.buffer_chars = 0
        self.present: list[str] = []
        self.n_new = 0
        self.n_pos = 0  # codings given by the sources so far
        self.n_staged = 0
        self.n_pairs = 0
        self.n_placeholders = 0
        self.batch_id: int | None = None
        self.batch_created = False
        self.code_ix: dict[str, int] = {}
        self.user_ix: dict[str, int] = {}
        self.count_all: dict[str, int] = {}  # codings per code key, as read
        self.count_staged: dict[int, int] = {}  # codings per code index, within their text
        self.noted_docs: dict[str, int] = {}  # source key -> document, for notes on sources
        self.order_warnings: list[str] = []
        self.variables: dict[str, QdaVariable] | None = None
        self.project_facts: dict[str, Any] = {}
        self.holdout_start: datetime | None = None

    # -- before the sources --------------------------------------------------
    def _begin(self) -> None:
        s = self.s
        self.fresh_project = s.execute(select(func.count()).select_from(Document)).scalar() == 0
        self.audit_floor = s.execute(select(func.max(col(AuditLog.id)))).scalar() or 0
        # The import acts for the project: a lead's task once the project has one.
        authorize(s, self.actor, "corpus.import_qdpx")
        for table in _STAGE.sorted_tables:
            s.execute(text(f"DROP TABLE IF EXISTS {table.name}"))
            table.create(s.connection())
        self.known_types = {int(t) for t in s.execute(select(col(SourceType.id))).scalars()}
        self.existing = {
            num: (int(did), h)
            for did, num, h in s.execute(
                select(col(Document.id), col(Document.number), col(Document.content_hash))
            ).all()
        }
        self.by_guid = {
            guid_for("source", f"document:{did}"): (did, h) for did, h in self.existing.values()
        }
        # The same file imported before: its documents, by content, in order.
        self.same_file: dict[str, list[int]] = {}
        for did, h in s.execute(
            select(col(Document.id), col(Document.content_hash))
            .join(ImportBatch, col(ImportBatch.id) == col(Document.batch_id))
            .where(col(ImportBatch.file_hash) == self.digest)
            .order_by(col(Document.id))
        ).all():
            self.same_file.setdefault(h, []).append(int(did))
        self.seqs = {
            int(t): int(n)
            for t, n in s.execute(select(col(SourceType.id), col(SourceType.next_seq))).all()
        }

    def _facts(self) -> dict[str, QdaVariable]:
        """The variables and project facts, read once the first source arrives (the
        schema puts Variables and Cases before Sources; see ``LateSection``)."""
        if self.variables is None:
            self.variables = dict(self.stream.variables)
            self.project_facts, self.holdout_start = F.read_project_facts(
                list(self.stream.cases), self.variables
            )
        return self.variables

    # -- each source ---------------------------------------------------------
    def _add(self, read: SourceRead) -> None:
        from groundcode.corpus.text import content_hash, segment

        source = read.source
        sf = F.read_source_facts(source.values, self._facts())
        body = _body(source.text)
        spans = F.decode_passages(sf.text("passages") or "", len(body))
        if spans is None:
            spans = segment(body, "paragraph") or [(0, len(body))]
        type_id = sf.integer("type") or self.default_type
        d = _Doc(source, sf, body, spans, type_id, read.codings, self.n_pos, sf.text("number"))
        self.n_pos += len(read.codings)
        self._ensure_type(type_id)
        h = sf.text("content_hash") or content_hash(body)
        sf.values["content_hash"] = h
        hit = self.by_guid.get(source.key)
        if hit is None and d.number in self.existing:
            hit = self.existing[d.number]
        if (hit is None or hit[1] != h) and self.same_file.get(h):
            hit = (self.same_file[h].pop(0), h)
        if hit is not None and hit[1] == h:
            d.present_id = d.id = hit[0]
            self.present.append(d.number or source.name)
        if read.noted:
            self.noted_docs[source.key] = -1  # its id once written
        self.buffer.append(d)
        self.buffer_chars += len(body)
        if len(self.buffer) >= SOURCES_PER_CHUNK or self.buffer_chars >= CHARS_PER_CHUNK:
            self._flush()

    def _ensure_type(self, type_id: int) -> None:
        """A source type the facts name and the project lacks, made as the project had it."""
        if type_id in self.known_types:
            return
        s = self.s
        stored: dict[str, list[str | None]] = self.project_facts.get("source_types") or {}
        zh, en, slug = (stored.get(str(type_id)) or [None, None, None])[:3]
        zh = zh or f"type {type_id}"
        taken = set(s.execute(select(col(SourceType.slug))).scalars()) | set(
            s.execute(select(col(SourceType.name_zh))).scalars()
        )
        slug = slug if slug and slug not in taken else f"type{type_id}"
        zh = zh if zh not in taken else f"{zh} ({type_id})"
        s.add(SourceType(id=type_id, name_zh=zh, name_en=en or zh, slug=slug))
        s.flush()
        self.known_types.add(type_id)
        self.seqs.setdefault(type_id, 1)

    def _flush(self) -> None:
        """Write the buffered sources: documents, passages, decisions; stage the rest."""
        s = self.s
        docs, self.buffer = self.buffer, []
        self.buffer_chars = 0
        new_docs = [d for d in docs if d.present_id is None]
        if new_docs:
            self._number(new_docs)
            if self.batch_id is None:
                batch = s.execute(
                    select(ImportBatch).where(col(ImportBatch.file_hash) == self.digest)
                ).scalar_one_or_none()
                if batch is None:
                    batch = ImportBatch(
                        file_name=self.file.name,
                        file_hash=self.digest,
                        source_type_id=new_docs[0].type_id,
                        imported_by=self.actor,
                        n_documents=0,
                    )
                    s.add(batch)
                    s.flush()
                    self.batch_created = True
                self.batch_id = batch.id
            self._insert_documents(new_docs)
        for d in docs:
            if d.source.key in self.noted_docs and d.id is not None:
                self.noted_docs[d.source.key] = d.id
        by_doc_passages: dict[int, list[tuple[int, int, int]]] = {}
        for pid, did, a, b in s.execute(
            select(col(Passage.id), col(Passage.document_id), col(Passage.start), col(Passage.end))
            .where(col(Passage.document_id).in_([d.id for d in docs if d.id is not None]))
            .order_by(col(Passage.document_id), col(Passage.start))
        ).all():
            by_doc_passages.setdefault(int(did), []).append((int(a), int(b), int(pid)))
        self._stage_codings(docs, by_doc_passages)
        self._stage_pairs(docs)

    def _number(self, new_docs: list[_Doc]) -> None:
        """Keep a source's own number when it is free; the rest are numbered at the end.

        A number is free when neither the project nor an earlier source of the file
        has it (the rows written so far say which). Sources without one get a
        placeholder (``~n``, negative sequence) until every given number is known.
        """
        asked = [d.number for d in new_docs if d.number]
        taken: set[str] = set()
        for lo in range(0, len(asked), _CHUNK):
            taken.update(
                self.s.execute(
                    select(col(Document.number)).where(
                        col(Document.number).in_(asked[lo : lo + _CHUNK])
                    )
                ).scalars()
            )
        for d in new_docs:
            parsed = _parse_number(d.number)
            if parsed and parsed[0] == d.type_id and d.number not in taken:
                d.number = f"{parsed[0]}-{parsed[1]}"
                taken.add(d.number)
                self.seqs[d.type_id] = max(self.seqs.get(d.type_id, 1), parsed[1] + 1)
            else:
                self.n_placeholders += 1
                d.number = f"~{self.n_placeholders}"
                d.wanted = True

    def _insert_documents(self, new_docs: list[_Doc]) -> None:
        s = self.s
        rows = []
        for d in new_docs:
            self.n_new += 1
            row = _document_row(d, self.n_new - 1, self.file.name, self.batch_id, self.now)
            rows.append(row)
        s.execute(insert(Document), rows)
        ids = dict(
            s.execute(
                select(col(Document.number), col(Document.id)).where(
                    col(Document.batch_id) == self.batch_id,
                    col(Document.number).in_([d.number for d in new_docs]),
                )
            ).all()
        )
        passages: list[dict[str, Any]] = []
        decisions: list[dict[str, Any]] = []
        for d, row in zip(new_docs, rows, strict=True):
            d.id = int(ids[d.number])
            for idx, (a, b) in enumerate(d.spans, start=1):
                passages.append(
                    {"document_id": d.id, "idx": idx, "start": a, "end": b, "text": d.body[a:b]}
                )
            if row["status"] == "excluded":
                decisions.append(
                    {
                        "document_id": d.id,
                        "action": "exclude",
                        "kind": row["exclusion_kind"],
                        "detail": row["exclusion_detail"],
                        "decided_by": self.actor,
                        "decided_at": self.now,
                    }
                )
        for plo in range(0, len(passages), _CHUNK):
            s.execute(insert(Passage), passages[plo : plo + _CHUNK])
        if decisions:
            s.execute(insert(ScreeningDecision), decisions)

    def _stage_codings(
        self, docs: list[_Doc], by_doc_passages: dict[int, list[tuple[int, int, int]]]
    ) -> None:
        """Each source's codings with their rank (from the facts) and file position."""
        rows: list[dict[str, Any]] = []
        for d in docs:
            order = d.facts.text("codings")
            # A source without the fact (another tool's) is simply in the file's order; it
            # was once warned about, one line per source, which grew with the corpus.
            listed = F.decode_codings(order) if order is not None else None
            # Selections fewer or more than listed: the facts do not fit, use the file's order.
            if listed is not None and len(listed) != len(d.codings):
                self.order_warnings.append(Notice("notice.order_facts", name=d.source.key))
            assert d.id is not None
            spans = by_doc_passages.get(d.id, [])
            for i, c in enumerate(d.codings):
                self.count_all[c.code_key] = self.count_all.get(c.code_key, 0) + 1
                if not 0 <= c.start < c.end <= len(d.body):
                    continue
                fact = listed[i] if listed is not None and i < len(listed) else None
                code_ix = self.code_ix.setdefault(c.code_key, len(self.code_ix))
                user_ix = self.user_ix.setdefault(c.user_key, len(self.user_ix))
                self.count_staged[code_ix] = self.count_staged.get(code_ix, 0) + 1
                self.n_staged += 1
                rows.append(
                    {
                        "n": self.n_staged,
                        "rank": (
                            max(-_RANK_BOUND, min(_RANK_BOUND, fact.rank))
                            if fact is not None
                            else None
                        ),
                        "pos": d.first_pos + i,
                        "code_ix": code_ix,
                        "user_ix": user_ix,
                        "document_id": d.id,
                        "passage_id": _passage_containing(spans, c.start, c.end),
                        "start": c.start,
                        "end": c.end,
                        "snippet": d.body[c.start : c.end][:MAX_SNIPPET],
                        "assisted": bool(fact.assisted) if fact else False,
                        "created_at": fact.at if fact else (c.created or self.now),
                        "memo": c.memo,
                        "key": c.key,
                    }
                )
                if len(rows) >= _CHUNK:
                    self.s.execute(insert(_CODING_STAGE), rows)
                    rows = []
        if rows:
            self.s.execute(insert(_CODING_STAGE), rows)

    def _stage_pairs(self, docs: list[_Doc]) -> None:
        """Done marks and assignments by coder name (coders are made after the sources)."""
        rows: list[dict[str, Any]] = []
        for d in docs:
            assert d.id is not None
            for kind, pairs in (("done", d.facts.done), ("assigned", d.facts.assigned)):
                for name, at in pairs.items():
                    self.n_pairs += 1
                    rows.append(
                        {
                            "n": self.n_pairs,
                            "kind": kind,
                            "coder": name,
                            "document_id": d.id,
                            "at": at,
                            "number": None if d.wanted else d.number,
                            "number_of_row": d.wanted,
                        }
                    )
        for lo in range(0, len(rows), _CHUNK):
            self.s.execute(insert(_PAIR_STAGE), rows[lo : lo + _CHUNK])

    # -- after the sources ---------------------------------------------------
    def run(self) -> QdpxImport:
        self._begin()
        for read in self.stream.sources():
            self._add(read)
        self._facts()
        self._flush()
        return self._finish(self.stream.tail)

    def _finish(self, tail: QdpxTail) -> QdpxImport:
        """Everything that needs the whole file, in the order the rows always had."""
        s = self.s
        file = self.file
        actor = self.actor
        project_facts = self.project_facts
        nodes: dict[str, dict[str, Any]] = project_facts.get("nodes") or {}
        spec = spec_from_codes(tail.codes, nodes)
        all_codes = iter_codes(tail.codes)
        leaf_names = {c.key: c.name for c in all_codes if not c.children}
        users = {u.key: u.name for u in tail.users}
        losses = list(tail.losses)
        warnings = list(tail.warnings) + self.order_warnings
        for key in sorted(k for k in self.count_all if k not in leaf_names):
            code = next((c for c in all_codes if c.key == key), None)
            losses.append(
                Loss("coded_folder", code.name if code else key, str(self.count_all[key]))
            )

        # -- people: users become coders; roles from the facts, else the first is lead
        roles: dict[str, str] = project_facts.get("roles") or {}
        coders = {c.name: c for c in s.execute(select(Coder)).scalars()}
        had_lead = any(c.role == "lead" for c in coders.values())
        name: str | None
        for name in dict.fromkeys(users.values()):
            if name in coders:
                continue
            has_lead = any(c.role == "lead" for c in coders.values())
            role = roles.get(name) if roles.get(name) in ("coder", "lead") else None
            role = role or ("coder" if has_lead else "lead")
            new_coder = Coder(name=name, role=role)
            s.add(new_coder)
            s.flush()
            coders[name] = new_coder
            record(
                s,
                actor=actor or name,
                action="coder.add",
                entity="coder",
                entity_id=new_coder.id,
                after={"name": name, "role": role, "source": file.name},
            )
        lead = (
            actor
            if had_lead
            else next((c.name for c in coders.values() if c.role == "lead"), actor)
        )

        # -- codebook: the four levels, with numbers and creation times from the facts
        before = {
            level: set(s.execute(select(col(table.name))).scalars())
            for level, table in LEVEL_TABLES.items()
        }
        summary = self.service.codebook.acting_as(lead)._import(s, spec, str(file.name))
        node_by_name: dict[tuple[str, str], dict[str, Any]] = {}
        for code in all_codes:
            node_fact = nodes.get(code.key)
            if node_fact and node_fact.get("level") in LEVEL_TABLES:
                node_by_name[(node_fact["level"], code.name)] = node_fact
        for level, table in LEVEL_TABLES.items():
            for row_id, item_name in s.execute(select(col(table.id), col(table.name))).all():
                node_fact = node_by_name.get((level, item_name))
                if item_name in before[level] or node_fact is None or "created" not in node_fact:
                    continue
                at = F.from_micros(int(node_fact["created"]))
                s.execute(update(table).where(col(table.id) == row_id).values(created_at=at))
                s.execute(
                    update(AuditLog)
                    .where(
                        col(AuditLog.id) > self.audit_floor,
                        col(AuditLog.action) == f"{level}.create",
                        col(AuditLog.entity_id) == row_id,
                    )
                    .values(at=at)
                )
        concept_ids = dict(s.execute(select(col(Concept.name), col(Concept.id))).all())
        carried: dict[str, list[list[Any]]] = project_facts.get("concept_history") or {}
        for code in all_codes:
            history = carried.get(code.key)
            cid = concept_ids.get(code.name)
            if not history or cid is None or code.name in before["concept"]:
                continue
            # The concept's placements as they were recorded, instead of this import's.
            s.execute(
                delete(AuditLog).where(
                    col(AuditLog.id) > self.audit_floor,
                    col(AuditLog.entity) == "concept",
                    col(AuditLog.entity_id) == cid,
                )
            )
            for at_us, action, category in history:
                s.add(
                    AuditLog(
                        at=F.from_micros(int(at_us)),
                        actor=lead,
                        action=str(action),
                        entity="concept",
                        entity_id=cid,
                        after=json.dumps(
                            {"name": code.name, "category": category, "source": file.name},
                            ensure_ascii=False,
                        ),
                    )
                )

        # -- numbers for the sources that wanted one, now that every given one is known
        self._number_wanted()
        for type_id, next_seq in self.seqs.items():
            s.execute(
                update(SourceType)
                .where(col(SourceType.id) == type_id, col(SourceType.next_seq) < next_seq)
                .values(next_seq=next_seq)
            )
        if self.batch_created:
            s.execute(
                update(ImportBatch)
                .where(col(ImportBatch.id) == self.batch_id)
                .values(n_documents=self.n_new)
            )

        # -- codings: in the project's original order, with their exact times
        lost_unknown_code = sum(
            n
            for key, n in self.count_all.items()
            if key in leaf_names and leaf_names[key] not in concept_ids
        )
        code_map = [
            {"ix": ix, "concept_id": int(concept_ids[leaf_names[key]])}
            for key, ix in self.code_ix.items()
            if key in leaf_names and leaf_names[key] in concept_ids
        ]
        user_map = [
            {"ix": ix, "coder_id": int(stored_id(coders[users[key]]))}
            for key, ix in self.user_ix.items()
            if users.get(key) in coders
        ]
        mapped = {m["ix"] for m in code_map}
        candidates = sum(n for ix, n in self.count_staged.items() if ix in mapped)
        n_inserted = self._insert_codings(code_map, user_map, tail.n_codings)
        skipped_present = candidates - n_inserted
        if lost_unknown_code:
            losses.append(Loss("codings", "", str(lost_unknown_code)))

        # -- memos: coding memos from the selections, notes on their targets
        id_to_name = {int(stored_id(c)): n for n, c in coders.items()}
        existing_memos = {
            (m.target_kind, m.target_id, m.author, m.text)
            for m in s.execute(select(Memo)).scalars()
        }
        memo_rows: list[dict[str, Any]] = []

        def add_memo(kind: str, target: int | None, author: str, text: str, at: datetime) -> None:
            key = (kind, target, author, text)
            if key in existing_memos:
                return
            existing_memos.add(key)
            memo_rows.append(
                {
                    "target_kind": kind,
                    "target_id": target,
                    "author": author,
                    "text": text,
                    "created_at": at,
                    "updated_at": at,
                }
            )

        win = _CODING_WIN
        on_key = and_(
            col(Coding.coder_id) == win.c.coder_id,
            col(Coding.concept_id) == win.c.concept_id,
            col(Coding.document_id) == win.c.document_id,
            col(Coding.start) == win.c.start,
            col(Coding.end) == win.c.end,
        )
        for cid, coder_id, memo, at in s.execute(
            select(col(Coding.id), win.c.coder_id, win.c.memo, win.c.created_at)
            .select_from(win.join(Coding, on_key))
            .where(win.c.memo.is_not(None))
            .order_by(win.c.ord, win.c.pos)
        ).all():
            add_memo("coding", int(cid), id_to_name[int(coder_id)], memo, at)
        targets = sorted(
            {n.target[1] for n in tail.notes if n.target is not None and n.target[0] == "coding"}
        )
        coding_id_by_key: dict[str, int] = {}
        for lo in range(0, len(targets), _CHUNK):
            for key, cid in s.execute(
                select(win.c.key, col(Coding.id))
                .select_from(win.join(Coding, on_key))
                .where(win.c.key.in_(targets[lo : lo + _CHUNK]))
                .order_by(win.c.document_id, col(Coding.id))
            ).all():
                coding_id_by_key[str(key)] = int(cid)
        level_of_code: dict[str, str] = {}
        for code in all_codes:
            node_fact = nodes.get(code.key)
            level_of_code[code.key] = (
                node_fact["level"]
                if node_fact and node_fact.get("level") in LEVEL_TABLES
                else ("concept" if not code.children else "")
            )
        code_names = {c.key: c.name for c in all_codes}
        level_ids = {
            level: dict(s.execute(select(col(table.name), col(table.id))).all())
            for level, table in LEVEL_TABLES.items()
        }
        for note in tail.notes:
            author = users.get(note.user_key, "unknown")
            at = note.created or self.now
            kind: str | None = None
            target: int | None = None
            if note.target is None or note.target[0] == "project":
                kind = "project"
            elif note.target[0] == "source":
                did = self.noted_docs.get(note.target[1])
                if did is not None and did >= 0:
                    kind, target = "document", did
            elif note.target[0] == "coding":
                cid = coding_id_by_key.get(note.target[1])
                if cid is not None:
                    kind, target = "coding", cid
            elif note.target[0] == "code":
                level = level_of_code.get(note.target[1], "")
                name = code_names.get(note.target[1], "")
                found = level_ids.get(level, {}).get(name) if level else None
                if found is None:
                    for lvl in ("concept", "category", "main_category", "relation_class"):
                        found = level_ids[lvl].get(name)
                        if found is not None:
                            level = lvl
                            break
                if found is not None:
                    kind, target = MEMO_LEVEL[level], int(found)
            if kind is None:
                losses.append(Loss("note", note.name, note.target[0] if note.target else ""))
                kind, target = "project", None
            add_memo(kind, target, author if author in coders else (lead or author), note.text, at)
        for lo in range(0, len(memo_rows), _CHUNK):
            s.execute(insert(Memo), memo_rows[lo : lo + _CHUNK])

        # -- done marks, assignments, settings, events, model edges
        n_done = self._add_pairs(
            DoneMark, "done", coders, lambda at: {"marked_at": at}, "done.mark"
        )
        self._add_pairs(
            Assignment,
            "assigned",
            coders,
            lambda at: {"assigned_by": lead, "assigned_at": at},
            None,
        )
        for table in reversed(_STAGE.sorted_tables):
            s.execute(text(f"DROP TABLE IF EXISTS {table.name}"))
        holdout_start = self.holdout_start
        settings: dict[str, str] = project_facts.get("settings") or {}
        if holdout_start is not None and "holdout_start" not in settings:
            settings = {**settings, "holdout_start": holdout_start.isoformat()}
        for key, value in settings.items():
            if key not in TRAVELLING_SETTINGS or not isinstance(value, str):
                continue
            if self.fresh_project or get_setting(s, key) in ("", None):
                set_setting(s, key, value)
        if self.fresh_project and tail.name:
            set_setting(s, "name", tail.name)
        have_events = set(
            s.execute(
                select(col(AuditLog.action), col(AuditLog.after)).where(
                    col(AuditLog.action).in_(TRAVELLING_EVENTS)
                )
            ).all()
        )
        started = any(action == "saturation.begin" for action, _after in have_events)
        for e in project_facts.get("events") or []:
            if (
                e.get("action") not in TRAVELLING_EVENTS
                or (e["action"], e.get("after")) in have_events
            ):
                continue
            if e["action"] == "saturation.begin" and started:
                continue
            s.add(
                AuditLog(
                    at=F.from_micros(int(e["at"])),
                    actor=e.get("actor"),
                    action=e["action"],
                    entity=e.get("entity") or "project",
                    after=e.get("after"),
                )
            )
        # Category-level items created and later deleted or merged away: the
        # verdict counts them, so their creation and fate come back as audit rows
        # (on a placeholder id no table row will ever have).
        seen_creates: set[tuple[object, ...]] = {
            (
                a,
                at.replace(tzinfo=None) if at.tzinfo else at,
                (json.loads(af or "{}") or {}).get("name"),
            )
            for a, at, af in s.execute(
                select(col(AuditLog.action), col(AuditLog.at), col(AuditLog.after)).where(
                    col(AuditLog.action).like("%.create"), col(AuditLog.entity_id) < 0
                )
            ).all()
        }
        placeholder = int(s.execute(select(func.min(col(AuditLog.entity_id)))).scalar() or 0)
        for ghost in project_facts.get("ghosts") or []:
            level = ghost.get("level")
            if level not in ("category", "main_category", "relation_class"):
                continue
            at = F.from_micros(int(ghost["at"]))
            ghost_key = (f"{level}.create", at.replace(tzinfo=None), ghost.get("name"))
            if ghost_key in seen_creates:
                continue
            placeholder = min(placeholder, 0) - 1
            s.add(
                AuditLog(
                    at=at,
                    actor=ghost.get("actor"),
                    action=f"{level}.create",
                    entity=level,
                    entity_id=placeholder,
                    after=json.dumps({"name": ghost.get("name")}, ensure_ascii=False),
                )
            )
            s.flush()
            gone = F.from_micros(int(ghost.get("gone_at") or ghost["at"]))
            if ghost.get("fate") == "merged":
                s.add(
                    AuditLog(
                        at=gone,
                        actor=ghost.get("actor"),
                        action=f"{level}.merge",
                        entity=level,
                        before=json.dumps({"id": placeholder, "name": ghost.get("name")}),
                        after=json.dumps({"into": ghost.get("into")}, ensure_ascii=False),
                    )
                )
            else:
                s.add(
                    AuditLog(
                        at=gone,
                        actor=ghost.get("actor"),
                        action=f"{level}.delete",
                        entity=level,
                        entity_id=placeholder,
                        before=json.dumps({"name": ghost.get("name")}, ensure_ascii=False),
                    )
                )
            s.flush()
        if not s.execute(select(col(ModelEdge.id)).limit(1)).first():
            for position, edge in enumerate(project_facts.get("edges") or []):
                if isinstance(edge, list) and len(edge) == 5:
                    s.add(new_row(Edge.from_flat(edge), position=position))
        codes_in_file = sum(
            c.created
            for c in (
                summary.relation_classes,
                summary.main_categories,
                summary.categories,
                summary.concepts,
            )
        )
        result = QdpxImport(
            file=str(file),
            documents=self.n_new,
            present=tuple(self.present),
            codes=codes_in_file,
            codings=n_inserted,
            codings_present=skipped_present,
            memos=len(memo_rows),
            done_marks=n_done,
            losses=tuple(losses),
            warnings=tuple(warnings),
        )
        record(
            s,
            actor=actor or lead,
            action="qdpx.import",
            entity="import_batch",
            entity_id=self.batch_id,
            after={
                "file": file.name,
                "documents": result.documents,
                "present": len(self.present),
                "codings": result.codings,
                "losses": len(losses),
                "codebook": summary.to_json(),
            },
        )
        return result

    def _number_wanted(self) -> None:
        """Number the sources that wanted one, after every given number (as ever).

        Each takes the next free number of its type from the type's next
        sequence; which numbers are free is asked a window at a time, and the
        sources are renumbered a page at a time, so nothing here grows with
        the corpus.
        """
        s = self.s
        free: dict[int, Iterator[int]] = {}
        last = 0
        while last < self.n_placeholders:
            upto = min(last + SOURCES_PER_CHUNK, self.n_placeholders)
            rows = s.execute(
                select(col(Document.id), col(Document.source_type_id))
                .where(col(Document.batch_id) == self.batch_id, col(Document.seq) < -last)
                .where(col(Document.seq) >= -upto)
                .order_by(col(Document.seq).desc())
            ).all()
            changes = []
            for did, type_id in rows:
                t = int(type_id)
                if t not in free:
                    free[t] = self._free_seqs(t, self.seqs.get(t, 1))
                seq = next(free[t])
                self.seqs[t] = seq + 1
                changes.append({"b_id": did, "b_number": f"{t}-{seq}", "b_seq": seq})
            if changes:
                table = Document.__table__  # type: ignore[attr-defined]
                s.execute(
                    update(table)
                    .where(table.c.id == bindparam("b_id"))
                    .values(number=bindparam("b_number"), seq=bindparam("b_seq")),
                    changes,
                )
            last = upto

    def _free_seqs(self, type_id: int, start: int) -> Iterator[int]:
        """Sequences from ``start`` whose number ``type-seq`` no document has yet."""
        seq = start
        while True:
            window = [f"{type_id}-{k}" for k in range(seq, seq + SOURCES_PER_CHUNK)]
            taken = set(
                self.s.execute(
                    select(col(Document.number)).where(col(Document.number).in_(window))
                ).scalars()
            )
            for k, number in enumerate(window, start=seq):
                if number not in taken:
                    yield k
            seq += SOURCES_PER_CHUNK

    def _insert_codings(
        self, code_map: list[dict[str, Any]], user_map: list[dict[str, Any]], n_codings: int
    ) -> int:
        """Move the staged codings into the coding table in the project's order.

        The order is each coding's rank from the facts, then (without one) its
        position in the file after every ranked one, as when all were sorted in
        memory. Of codings with the same key the first in that order is kept,
        and none the project already has. Returns how many were inserted.
        """
        s = self.s
        if code_map:
            s.execute(insert(_CODE_MAP), code_map)
        if user_map:
            s.execute(insert(_USER_MAP), user_map)
        st, cm, um = _CODING_STAGE, _CODE_MAP, _USER_MAP
        order = func.coalesce(st.c.rank, n_codings + st.c.pos)
        ranked = (
            select(
                order.label("ord"),
                st.c.pos,
                um.c.coder_id,
                cm.c.concept_id,
                st.c.document_id,
                st.c.passage_id,
                st.c.start,
                st.c.end,
                st.c.snippet,
                st.c.assisted,
                st.c.created_at,
                st.c.memo,
                st.c.key,
                func.row_number()
                .over(
                    partition_by=(
                        um.c.coder_id,
                        cm.c.concept_id,
                        st.c.document_id,
                        st.c.start,
                        st.c.end,
                    ),
                    order_by=(order, st.c.pos),
                )
                .label("rn"),
            )
            .select_from(st.join(cm, cm.c.ix == st.c.code_ix).join(um, um.c.ix == st.c.user_ix))
            .subquery()
        )
        stored = (
            select(col(Coding.id))
            .where(
                col(Coding.coder_id) == ranked.c.coder_id,
                col(Coding.concept_id) == ranked.c.concept_id,
                col(Coding.document_id) == ranked.c.document_id,
                col(Coding.start) == ranked.c.start,
                col(Coding.end) == ranked.c.end,
            )
            .exists()
        )
        names = [c.name for c in _CODING_WIN.columns]
        s.execute(
            insert(_CODING_WIN).from_select(
                names,
                select(*(ranked.c[n] for n in names)).where(ranked.c.rn == 1, ~stored),
            )
        )
        win = _CODING_WIN
        moved = [
            "coder_id",
            "concept_id",
            "document_id",
            "passage_id",
            "start",
            "end",
            "snippet",
            "assisted",
            "created_at",
        ]
        s.execute(
            insert(Coding).from_select(
                moved, select(*(win.c[n] for n in moved)).order_by(win.c.ord, win.c.pos)
            )
        )
        # Every winner is inserted (the drivers' row counts of INSERT ... SELECT differ).
        return int(s.execute(select(func.count()).select_from(win)).scalar() or 0)

    def _add_pairs(
        self,
        table: type[DoneMark] | type[Assignment],
        kind: str,
        coders: Mapping[str, Coder],
        columns: Callable[[datetime], dict[str, Any]],
        audit_action: str | None,
    ) -> int:
        """Rows of a (coder, document) table from the staged facts, page by page.

        Pairs the project already has (or an earlier page added), or whose coder
        is unknown, are skipped; each row is audited as ``audit_action`` when one
        is given. Returns how many rows were added.
        """
        s = self.s
        st = _PAIR_STAGE
        added = 0
        last = 0
        while True:
            page = s.execute(
                select(
                    st.c.n,
                    st.c.coder,
                    st.c.document_id,
                    st.c.at,
                    st.c.number,
                    st.c.number_of_row,
                    col(Document.number),
                )
                .select_from(st.join(Document, col(Document.id) == st.c.document_id))
                .where(st.c.kind == kind, st.c.n > last)
                .order_by(st.c.n)
                .limit(_CHUNK)
            ).all()
            if not page:
                return added
            last = int(page[-1][0])
            have = {
                (int(a), int(b))
                for a, b in s.execute(
                    select(col(table.coder_id), col(table.document_id)).where(
                        col(table.document_id).in_({int(r[2]) for r in page})
                    )
                ).all()
            }
            rows: list[dict[str, Any]] = []
            audit: list[dict[str, Any]] = []
            for _n, name, did, at, number, number_of_row, row_number in page:
                coder = coders.get(name)
                if coder is None or coder.id is None or (coder.id, did) in have:
                    continue
                have.add((coder.id, did))
                rows.append({"coder_id": coder.id, "document_id": did, **columns(at)})
                if audit_action is not None:
                    audit.append(
                        {
                            "at": at,
                            "actor": name,
                            "action": audit_action,
                            "entity": "document",
                            "entity_id": did,
                            "undone": False,
                            "after": json.dumps(
                                {
                                    "coder": name,
                                    "document": row_number if number_of_row else number,
                                    "source": self.file.name,
                                },
                                ensure_ascii=False,
                            ),
                        }
                    )
            if rows:
                s.execute(insert(table), rows)
            if audit:
                s.execute(insert(AuditLog), audit)
            added += len(rows)


def _concept_history(s: Session) -> dict[str, list[list[Any]]]:
    """Per concept GUID, the audit rows that record its initial category: [micros, action, name]."""
    categories = dict(s.execute(select(col(Category.id), col(Category.name))).all())
    current = set(s.execute(select(col(Concept.id))).scalars())
    out: dict[str, list[list[Any]]] = {}
    for at, action, eid, after in s.execute(
        select(col(AuditLog.at), col(AuditLog.action), col(AuditLog.entity_id), col(AuditLog.after))
        .where(col(AuditLog.entity) == "concept", col(AuditLog.undone).is_(False))
        .order_by(col(AuditLog.id))
    ).all():
        if eid not in current:
            continue
        try:
            info = json.loads(after or "{}")
        except ValueError:
            continue
        if not isinstance(info, dict):
            continue
        if "category" in info:
            where = info["category"]
        elif "category_id" in info:
            cid = info["category_id"]
            where = None if cid is None else categories.get(int(cid), f"#{cid}")
        else:
            continue
        out.setdefault(guid_for("code", f"concept:{eid}"), []).append(
            [F.micros(at), str(action), where]
        )
    return out


def _ghost_nodes(s: Session) -> list[dict[str, Any]]:
    """Category-level items whose creation is logged but which are gone, with their fate."""
    out: list[dict[str, Any]] = []
    for level in ("category", "main_category", "relation_class"):
        table = LEVEL_TABLES[level]
        current = set(s.execute(select(col(table.id))).scalars())
        rows = s.execute(
            select(
                col(AuditLog.id),
                col(AuditLog.at),
                col(AuditLog.action),
                col(AuditLog.entity_id),
                col(AuditLog.actor),
                col(AuditLog.before),
                col(AuditLog.after),
            )
            .where(
                col(AuditLog.action).in_([f"{level}.create", f"{level}.delete", f"{level}.merge"])
            )
            .order_by(col(AuditLog.id))
        ).all()
        for i, (_id, at, action, eid, actor, _before, after) in enumerate(rows):
            if action != f"{level}.create" or eid is None or eid in current:
                continue
            ghost: dict[str, Any] = {
                "level": level,
                "at": F.micros(at),
                "actor": actor,
                "name": (json.loads(after or "{}") or {}).get("name"),
                "fate": "deleted",
            }
            for _id2, at2, action2, eid2, _actor2, before2, after2 in rows[i + 1 :]:
                b = json.loads(before2 or "{}") or {}
                if action2 == f"{level}.delete" and eid2 == eid:
                    ghost["gone_at"] = F.micros(at2)
                    break
                if action2 == f"{level}.merge" and b.get("id") == eid:
                    ghost.update(
                        fate="merged",
                        into=(json.loads(after2 or "{}") or {}).get("into"),
                        gone_at=F.micros(at2),
                    )
                    break
            out.append(ghost)
    return out


def _document_row(
    d: _Doc, i: int, file_name: str, batch_id: int | None, now: datetime
) -> dict[str, Any]:
    """The document row of one source, from its facts (a foreign source: its name as title)."""
    f = d.facts
    status = f.text("status") if f.text("status") in ("included", "excluded") else None
    split = f.text("split") if f.text("split") in ("build", "holdout") else None
    assert d.number is not None
    excluded = status == "excluded"
    return {
        "source_type_id": d.type_id,
        # a placeholder ("~n") until numbered: a negative sequence, unique like the rest
        "seq": -int(d.number[1:]) if d.wanted else int(d.number.split("-")[1]),
        "number": d.number,
        "title": f.text("title") if "number" in f.values else d.source.name,
        "author": f.text("author"),
        "date": f.text("date"),
        "url": f.text("url"),
        "views": f.integer("views"),
        "text": d.body,
        "content_hash": f.text("content_hash"),
        "origin_file": file_name,
        "origin_row": i + 1,
        "meta": None,
        "batch_id": batch_id,
        "status": status or "included",
        "exclusion_kind": f.text("exclusion_kind") if excluded else None,
        "exclusion_detail": f.text("exclusion_detail") if excluded else None,
        "split": split,
        "personal": False,
        "created_at": now,
    }


def _passage_containing(spans: list[tuple[int, int, int]], start: int, end: int) -> int | None:
    """The passage (start-sorted ``(start, end, id)``) that holds ``[start, end)``, if any."""
    i = bisect_right(spans, (start, float("inf"), 0)) - 1
    while i >= 0:
        a, b, pid = spans[i]
        if a <= start and end <= b:
            return pid
        if b < start:
            return None
        i -= 1
    return None


def _body(text: str) -> str:
    """The text as stored: already LF-only from the reader; NFC only where offsets keep."""
    nfc = unicodedata.normalize("NFC", text)
    return nfc if len(nfc) == len(text) else text


def _parse_number(number: str | None) -> tuple[int, int] | None:
    if not number:
        return None
    t, _, n = number.strip().partition("-")
    if t.isdigit() and n.isdigit() and int(n) > 0:
        return int(t), int(n)
    return None


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def spec_from_codes(codes: Iterable[QdaCode], nodes: dict[str, dict[str, Any]]) -> CodebookSpec:
    """Map a code tree onto the four levels.

    With groundcode's facts (``nodes``: code GUID -> level and number) the tree
    comes back exactly; without them leaves are concepts, and above them
    category, main category and relation class by depth.
    """
    codes = list(codes)

    def level(c: QdaCode) -> str | None:
        fact = nodes.get(c.key)
        got = fact.get("level") if fact else None
        return got if got in LEVEL_TABLES else None

    def number(c: QdaCode) -> str | None:
        fact = nodes.get(c.key)
        got = fact.get("number") if fact else None
        return str(got) if got else None

    if codes and all(level(c) for c in iter_codes(codes)):

        def concept(c: QdaCode) -> ConceptSpec:
            group = (nodes.get(c.key) or {}).get("group")
            return ConceptSpec(
                name=c.name, definition=c.description, group=str(group) if group else None
            )

        def category(c: QdaCode) -> CategorySpec:
            return CategorySpec(
                name=c.name,
                number=number(c),
                definition=c.description,
                concepts=tuple(concept(k) for k in c.children if level(k) == "concept"),
            )

        def main(m: QdaCode) -> MainCategorySpec:
            return MainCategorySpec(
                name=m.name,
                number=number(m),
                definition=m.description,
                categories=tuple(category(c) for c in m.children if level(c) == "category"),
            )

        return CodebookSpec(
            relation_classes=tuple(
                RelationClassSpec(
                    name=r.name,
                    definition=r.description,
                    main_categories=tuple(
                        main(m) for m in r.children if level(m) == "main_category"
                    ),
                )
                for r in codes
                if level(r) == "relation_class"
            ),
            unassigned_main_categories=tuple(main(m) for m in codes if level(m) == "main_category"),
            unassigned_categories=tuple(category(c) for c in codes if level(c) == "category"),
            uncategorised=tuple(concept(k) for k in codes if level(k) == "concept"),
        )
    return _spec_by_depth(codes)


def _spec_by_depth(codes: list[QdaCode]) -> CodebookSpec:
    """Leaves are concepts, then category, main category, relation class by depth."""

    def leaves(c: QdaCode) -> list[QdaCode]:
        return [c] if not c.children else [x for ch in c.children for x in leaves(ch)]

    def concept_specs(c: QdaCode) -> tuple[ConceptSpec, ...]:
        return tuple(ConceptSpec(name=x.name, definition=x.description) for x in leaves(c))

    def depth(c: QdaCode) -> int:
        return 1 + max((depth(ch) for ch in c.children), default=0)

    rcs: list[RelationClassSpec] = []
    loose_cats: list[CategorySpec] = []
    loose: list[ConceptSpec] = []
    for top in codes:
        d = depth(top)
        if d >= 4:
            mains = tuple(
                MainCategorySpec(
                    number=None,
                    name=m.name,
                    definition=m.description,
                    categories=tuple(
                        CategorySpec(
                            number=None,
                            name=c.name,
                            definition=c.description,
                            concepts=concept_specs(c),
                        )
                        for c in m.children
                        if c.children
                    ),
                )
                for m in top.children
                if m.children
            )
            rcs.append(
                RelationClassSpec(name=top.name, definition=top.description, main_categories=mains)
            )
        elif d >= 2:
            loose_cats.append(
                CategorySpec(
                    number=None,
                    name=top.name,
                    definition=top.description,
                    concepts=concept_specs(top),
                )
            )
        else:
            loose.append(ConceptSpec(name=top.name, definition=top.description))
    if loose_cats:
        rcs.append(
            RelationClassSpec(
                name="(imported)",
                definition=None,
                main_categories=(
                    MainCategorySpec(
                        number=None,
                        name="(imported categories)",
                        definition=None,
                        categories=tuple(loose_cats),
                    ),
                ),
            )
        )
    return CodebookSpec(relation_classes=tuple(rcs), uncategorised=tuple(loose))


__all__ = ["InterchangeService", "QdpxImport", "spec_from_codes"]
