"""The interchange room: REFI-QDA projects and codebooks, codebook xlsx, in and out.

Export reads the project in one read transaction into plain
:mod:`groundcode.interchange.model` objects, with groundcode's own facts as
variables (:mod:`groundcode.interchange.facts`), and streams them to the REFI
writer. Import reads the whole file first (nothing touches the project while
the file is checked), builds every row in memory and writes them in **one**
transaction: a refused import changes nothing. Sources already in the project
(same export GUID or number, and the same content) are reported as present,
not added twice. What the file holds that cannot be taken is listed in the
loss report. (The codings CSV import stays with the coding service.)
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, select, update
from sqlmodel import Session, col

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
    QdaUser,
    iter_codes,
)
from groundcode.interchange.refi_read import Loss, QdpxContent
from groundcode.interchange.refi_write import check_target, guid_for, safe_source_name
from groundcode.store.access import authorize, readable_coder_ids
from groundcode.store.audit import record
from groundcode.store.context import Context
from groundcode.store.edges import edge_of, new_row
from groundcode.store.lookup import coding_keys
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


@dataclass
class _Doc:
    """One source on its way into the document table."""

    source: QdaSource
    facts: F.SourceFacts
    body: str
    spans: list[tuple[int, int]]
    type_id: int
    number: str | None = None  # wanted number (from the facts) or the one given
    present_id: int | None = None
    id: int | None = None
    passages: list[tuple[int, int, int]] = field(default_factory=list)  # (start, end, id)


def _add_coder_document_rows(
    s: Session,
    table: type[DoneMark] | type[Assignment],
    docs: Sequence[_Doc],
    coders: Mapping[str, Coder],
    facts: str,
    columns: Callable[[datetime], dict[str, Any]],
    audit_action: str | None,
    source: str,
) -> int:
    """Rows of a (coder, document) table from each document's ``facts`` ({coder: time}).

    Done marks and assignments travel the same way: pairs the project already
    has, or whose coder or document is unknown, are skipped; the rest go in in
    chunks (two per document at the reference size), each row audited as
    ``audit_action`` when one is given. Returns how many rows were added.
    """
    have = {
        (int(a), int(b))
        for a, b in s.execute(select(col(table.coder_id), col(table.document_id))).all()
    }
    rows: list[dict[str, Any]] = []
    audit: list[dict[str, Any]] = []
    added = 0

    def flush() -> None:
        nonlocal added, rows, audit
        if rows:
            s.execute(insert(table), rows)
        if audit:
            s.execute(insert(AuditLog), audit)
        added += len(rows)
        rows, audit = [], []

    for d in docs:
        pairs: dict[str, datetime] = getattr(d.facts, facts)
        for name, at in pairs.items():
            coder = coders.get(name)
            if coder is None or coder.id is None or d.id is None or (coder.id, d.id) in have:
                continue
            have.add((coder.id, d.id))
            rows.append({"coder_id": coder.id, "document_id": d.id, **columns(at)})
            if audit_action is not None:
                audit.append(
                    {
                        "at": at,
                        "actor": name,
                        "action": audit_action,
                        "entity": "document",
                        "entity_id": d.id,
                        "undone": False,
                        "after": json.dumps(
                            {"coder": name, "document": d.number, "source": source},
                            ensure_ascii=False,
                        ),
                    }
                )
            if len(rows) >= _CHUNK:
                flush()
    flush()
    return added


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
        """The project as a ``.qdpx`` any REFI-QDA reader opens, with groundcode's facts."""
        from groundcode.interchange.refi_write import write_qdpx

        path = Path(path)
        check_target(path, force=force)
        project = self.build_project(include_personal=include_personal)
        warnings = write_qdpx(project, path)
        return path, warnings

    def build_project(self, *, include_personal: bool = False) -> QdaProject:
        """Everything the export carries, read in one transaction (blind mode applied)."""
        tree = self.codebook.tree()
        variables = F.FactVariables()
        with self.ctx.db.read() as s:
            hidden = self._hidden_creators(s)
            name = get_setting(s, "name")
            visible = readable_coder_ids(s, self.ctx.actor)
            people = [
                c
                for c in s.execute(select(Coder).order_by(col(Coder.id))).scalars()
                if visible is None or c.id in visible
            ]
            coder_name = {int(c.id): c.name for c in people}
            users = [QdaUser(key=f"coder:{c.id}", name=c.name) for c in people]
            types = {
                t.id: t
                for t in s.execute(select(SourceType).order_by(col(SourceType.id))).scalars()
            }
            doc_q = select(
                col(Document.id),
                col(Document.number),
                col(Document.source_type_id),
                col(Document.title),
                col(Document.author),
                col(Document.date),
                col(Document.url),
                col(Document.views),
                col(Document.text),
                col(Document.content_hash),
                col(Document.status),
                col(Document.exclusion_kind),
                col(Document.exclusion_detail),
                col(Document.split),
            ).order_by(col(Document.source_type_id), col(Document.seq))
            if not include_personal:
                doc_q = doc_q.where(col(Document.personal).is_(False))
            docs = s.execute(doc_q).all()
            doc_ids = {int(d.id) for d in docs}
            spans: dict[int, list[tuple[int, int]]] = {}
            for did, a, b in s.execute(
                select(col(Passage.document_id), col(Passage.start), col(Passage.end)).order_by(
                    col(Passage.document_id), col(Passage.idx)
                )
            ):
                spans.setdefault(int(did), []).append((int(a), int(b)))
            coding_q = select(
                col(Coding.id),
                col(Coding.coder_id),
                col(Coding.concept_id),
                col(Coding.document_id),
                col(Coding.start),
                col(Coding.end),
                col(Coding.created_at),
                col(Coding.assisted),
            ).order_by(col(Coding.created_at), col(Coding.id))
            # Plain tuples, never kept as result rows: 400k codings at the reference size.
            rows = [
                tuple(r)
                for r in s.execute(coding_q)
                if int(r[3]) in doc_ids and int(r[1]) in coder_name
            ]
            codes = self._qda_codes(tree, hidden, {int(r[2]) for r in rows})
            done: dict[int, dict[str, datetime]] = {}
            for coder_id, did, at in s.execute(
                select(col(DoneMark.coder_id), col(DoneMark.document_id), col(DoneMark.marked_at))
            ):
                if int(coder_id) in coder_name and int(did) in doc_ids:
                    done.setdefault(int(did), {})[coder_name[int(coder_id)]] = at
            assigned: dict[int, dict[str, datetime]] = {}
            for coder_id, did, at in s.execute(
                select(
                    col(Assignment.coder_id),
                    col(Assignment.document_id),
                    col(Assignment.assigned_at),
                )
            ):
                if int(coder_id) in coder_name and int(did) in doc_ids:
                    assigned.setdefault(int(did), {})[coder_name[int(coder_id)]] = at
            names = set(coder_name.values())
            memos = [
                m
                for m in s.execute(select(Memo).order_by(col(Memo.id))).scalars()
                if m.author in names
            ]
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
                    .where(
                        col(AuditLog.action).in_(TRAVELLING_EVENTS), col(AuditLog.undone).is_(False)
                    )
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

        coding_memo: dict[int, str] = {}
        for m in memos:
            if m.target_kind == "coding" and m.target_id is not None:
                coding_memo.setdefault(int(m.target_id), m.text)
        codings: list[QdaCoding] = []
        per_doc: dict[int, list[F.CodingFact]] = {}
        for rank, (cid, coder_id, concept_id, did, start, end, created, assisted) in enumerate(
            rows
        ):
            codings.append(
                QdaCoding(
                    key=f"coding:{cid}",
                    source_key=f"document:{did}",
                    start=int(start),
                    end=int(end),
                    code_key=f"concept:{concept_id}",
                    user_key=f"coder:{coder_id}",
                    created=created,
                    memo=coding_memo.get(int(cid)),
                )
            )
            per_doc.setdefault(int(did), []).append(F.CodingFact(rank, created, bool(assisted)))
        del rows
        sources: list[QdaSource] = []
        for d in docs:
            stype = types.get(d.source_type_id)
            title = d.title.strip() if isinstance(d.title, str) else ""
            shown = f"{d.number} {title}" if title else str(d.number)
            values = variables.source_values(
                {
                    "number": d.number,
                    "type": int(d.source_type_id),
                    "type_name": stype.name_zh if stype else None,
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
                    "passages": F.encode_passages(spans.get(int(d.id), [])),
                    "codings": F.encode_codings(per_doc.get(int(d.id), [])),
                },
                done.get(int(d.id), {}),
                assigned.get(int(d.id), {}),
            )
            sources.append(
                QdaSource(
                    key=f"document:{d.id}",
                    name=safe_source_name(shown, str(d.number)),
                    text=d.text,
                    description=(
                        f"{stype.name_zh if stype else d.source_type_id}; "
                        f"split: {d.split or '-'}; {d.status}"
                    ),
                    values=values,
                )
            )
        coder_key = {n: f"coder:{i}" for i, n in coder_name.items()}
        notes = self._notes(memos, doc_ids, {c.key for c in iter_codes(codes)}, coder_key)
        holdout = settings.get("holdout_start") or settings.get("holdout_started_at") or ""
        try:
            holdout_start = datetime.fromisoformat(holdout) if holdout else None
        except ValueError:
            holdout_start = None
        case = variables.project_case(
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
        return QdaProject(
            name=name,
            origin=ORIGIN,
            users=users,
            codes=codes,
            sources=sources,
            codings=codings,
            notes=notes,
            variables=variables.definitions(),
            cases=[case],
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
        from groundcode.interchange.refi_read import read_qdpx_content

        with self.ctx.db.read() as s:
            # Refused before the archive is even read (checked again in the write).
            authorize(s, self.ctx.actor, "corpus.import_qdpx")
        return self.import_content(read_qdpx_content(Path(path)), file=Path(path), type=type)

    def import_content(
        self, content: QdpxContent, *, file: Path, type: str | int = 1
    ) -> QdpxImport:
        """Write an already read ``.qdpx`` into the project in one transaction (consumes
        ``content``: the sources' raw variable values are cleared once decoded)."""
        qda = content.project
        losses = list(content.losses)
        warnings = list(content.warnings)
        default_type = self.corpus.resolve_type(type).id
        variables = {v.key: v for v in qda.variables}
        project_facts, holdout_start = F.read_project_facts(qda.cases, variables)
        nodes: dict[str, dict[str, Any]] = project_facts.get("nodes") or {}
        spec = spec_from_codes(qda.codes, nodes)
        leaf_names = {c.key: c.name for c in iter_codes(qda.codes) if not c.children}
        users = {u.key: u.name for u in qda.users}
        digest = _file_digest(file)

        docs: list[_Doc] = []
        for source in qda.sources:
            sf = F.read_source_facts(source.values, variables)
            # The facts hold what is needed; the raw values (a dict per source, ~40 MB
            # at 100k sources) are let go so the write's peak stays under 1 GB. The
            # content is consumed by this import.
            source.values.clear()
            body = _body(source.text)
            spans = F.decode_passages(sf.text("passages") or "", len(body))
            if spans is None:
                from groundcode.corpus.text import segment

                spans = segment(body, "paragraph") or [(0, len(body))]
            type_id = sf.integer("type") or default_type
            docs.append(_Doc(source, sf, body, spans, type_id, sf.text("number")))

        coded_folders = {c.code_key for c in qda.codings if c.code_key not in leaf_names}
        for key in sorted(coded_folders):
            code = next((c for c in iter_codes(qda.codes) if c.key == key), None)
            name = code.name if code else key
            n = sum(1 for c in qda.codings if c.code_key == key)
            losses.append(Loss("coded_folder", name, str(n)))

        def _write(s: Session) -> QdpxImport:
            return self._write(
                s,
                qda=qda,
                file=file,
                digest=digest,
                docs=docs,
                spec=spec,
                nodes=nodes,
                leaf_names=leaf_names,
                users=users,
                project_facts=project_facts,
                holdout_start=holdout_start,
                default_type=default_type,
                losses=losses,
                warnings=warnings,
            )

        return self.ctx.db.run(_write)

    def _write(
        self,
        s: Session,
        *,
        qda: QdaProject,
        file: Path,
        digest: str,
        docs: list[_Doc],
        spec: CodebookSpec,
        nodes: dict[str, dict[str, Any]],
        leaf_names: dict[str, str],
        users: dict[str, str],
        project_facts: dict[str, Any],
        holdout_start: datetime | None,
        default_type: int,
        losses: list[Loss],
        warnings: list[str],
    ) -> QdpxImport:
        now = utcnow()
        fresh_project = s.execute(select(func.count()).select_from(Document)).scalar() == 0
        audit_floor = s.execute(select(func.max(col(AuditLog.id)))).scalar() or 0

        # -- people: users become coders; roles from the facts, else the first is lead
        roles: dict[str, str] = project_facts.get("roles") or {}
        coders = {c.name: c for c in s.execute(select(Coder)).scalars()}
        had_lead = any(c.role == "lead" for c in coders.values())
        actor = self.ctx.actor
        # Bound by several loops below, some from lookups that may find nothing.
        name: str | None
        d: _Doc | None
        # The import acts for the project: a lead's task once the project has one.
        authorize(s, actor, "corpus.import_qdpx")
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
        summary = self.codebook.acting_as(lead)._import(s, spec, str(file.name))
        node_by_name: dict[tuple[str, str], dict[str, Any]] = {}
        for code in iter_codes(qda.codes):
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
                        col(AuditLog.id) > audit_floor,
                        col(AuditLog.action) == f"{level}.create",
                        col(AuditLog.entity_id) == row_id,
                    )
                    .values(at=at)
                )
        concept_ids = dict(s.execute(select(col(Concept.name), col(Concept.id))).all())
        carried: dict[str, list[list[Any]]] = project_facts.get("concept_history") or {}
        for code in iter_codes(qda.codes):
            history = carried.get(code.key)
            cid = concept_ids.get(code.name)
            if not history or cid is None or code.name in before["concept"]:
                continue
            # The concept's placements as they were recorded, instead of this import's.
            s.execute(
                delete(AuditLog).where(
                    col(AuditLog.id) > audit_floor,
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

        # -- source types the facts name and the project lacks
        known_types = {int(t) for t in s.execute(select(col(SourceType.id))).scalars()}
        stored_types: dict[str, list[str | None]] = project_facts.get("source_types") or {}
        for d in docs:
            if d.type_id in known_types:
                continue
            zh, en, slug = (stored_types.get(str(d.type_id)) or [None, None, None])[:3]
            zh = zh or f"type {d.type_id}"
            taken = set(s.execute(select(col(SourceType.slug))).scalars()) | set(
                s.execute(select(col(SourceType.name_zh))).scalars()
            )
            slug = slug if slug and slug not in taken else f"type{d.type_id}"
            zh = zh if zh not in taken else f"{zh} ({d.type_id})"
            s.add(SourceType(id=d.type_id, name_zh=zh, name_en=en or zh, slug=slug))
            s.flush()
            known_types.add(d.type_id)

        # -- documents: present ones are recognised, the rest numbered and inserted
        existing = {
            num: (int(did), h)
            for did, num, h in s.execute(
                select(col(Document.id), col(Document.number), col(Document.content_hash))
            ).all()
        }
        by_guid = {guid_for("source", f"document:{did}"): (did, h) for did, h in existing.values()}
        from groundcode.corpus.text import content_hash

        # The same file imported before: its documents, by content, in order.
        same_file: dict[str, list[int]] = {}
        for did, h in s.execute(
            select(col(Document.id), col(Document.content_hash))
            .join(ImportBatch, col(ImportBatch.id) == col(Document.batch_id))
            .where(col(ImportBatch.file_hash) == digest)
            .order_by(col(Document.id))
        ).all():
            same_file.setdefault(h, []).append(int(did))
        present: list[str] = []
        new_docs: list[_Doc] = []
        for d in docs:
            h = d.facts.text("content_hash") or content_hash(d.body)
            d.facts.values["content_hash"] = h
            hit = by_guid.get(d.source.key)
            if hit is None and d.number in existing:
                hit = existing[d.number]
            if (hit is None or hit[1] != h) and same_file.get(h):
                hit = (same_file[h].pop(0), h)
            if hit is not None and hit[1] == h:
                d.present_id = hit[0]
                d.id = hit[0]
                present.append(d.number or d.source.name)
            else:
                new_docs.append(d)
        seqs = {
            int(t): int(n)
            for t, n in s.execute(select(col(SourceType.id), col(SourceType.next_seq))).all()
        }
        taken_numbers = set(existing)
        wanted: list[_Doc] = []
        for d in new_docs:
            parsed = _parse_number(d.number)
            if parsed and parsed[0] == d.type_id and d.number not in taken_numbers:
                d.number = f"{parsed[0]}-{parsed[1]}"
                taken_numbers.add(d.number)
                seqs[d.type_id] = max(seqs.get(d.type_id, 1), parsed[1] + 1)
            else:
                d.number = None
                wanted.append(d)
        for d in wanted:
            seq = seqs.get(d.type_id, 1)
            while f"{d.type_id}-{seq}" in taken_numbers:
                seq += 1
            d.number = f"{d.type_id}-{seq}"
            taken_numbers.add(d.number)
            seqs[d.type_id] = seq + 1
        for type_id, next_seq in seqs.items():
            s.execute(
                update(SourceType)
                .where(col(SourceType.id) == type_id, col(SourceType.next_seq) < next_seq)
                .values(next_seq=next_seq)
            )
        batch_id: int | None = None
        if new_docs:
            batch = s.execute(
                select(ImportBatch).where(col(ImportBatch.file_hash) == digest)
            ).scalar_one_or_none()
            if batch is None:
                batch = ImportBatch(
                    file_name=file.name,
                    file_hash=digest,
                    source_type_id=new_docs[0].type_id,
                    imported_by=actor,
                    n_documents=len(new_docs),
                )
                s.add(batch)
                s.flush()
            batch_id = batch.id
            for lo in range(0, len(new_docs), _CHUNK):
                part = new_docs[lo : lo + _CHUNK]
                rows = [
                    _document_row(d, lo + i, file.name, batch_id, now) for i, d in enumerate(part)
                ]
                s.execute(insert(Document), rows)
                ids = dict(
                    s.execute(
                        select(col(Document.number), col(Document.id)).where(
                            col(Document.batch_id) == batch_id,
                            col(Document.number).in_([d.number for d in part]),
                        )
                    ).all()
                )
                passages: list[dict[str, Any]] = []
                decisions: list[dict[str, Any]] = []
                for d, row in zip(part, rows, strict=True):
                    d.id = int(ids[d.number])
                    for idx, (a, b) in enumerate(d.spans, start=1):
                        passages.append(
                            {
                                "document_id": d.id,
                                "idx": idx,
                                "start": a,
                                "end": b,
                                "text": d.body[a:b],
                            }
                        )
                    if row["status"] == "excluded":
                        decisions.append(
                            {
                                "document_id": d.id,
                                "action": "exclude",
                                "kind": row["exclusion_kind"],
                                "detail": row["exclusion_detail"],
                                "decided_by": actor,
                                "decided_at": now,
                            }
                        )
                for plo in range(0, len(passages), _CHUNK):
                    s.execute(insert(Passage), passages[plo : plo + _CHUNK])
                if decisions:
                    s.execute(insert(ScreeningDecision), decisions)
                del rows, passages
        doc_ids = [d.id for d in docs if d.id is not None]
        by_doc_passages: dict[int, list[tuple[int, int, int]]] = {}
        for lo in range(0, len(doc_ids), _CHUNK):
            for pid, did, a, b in s.execute(
                select(
                    col(Passage.id), col(Passage.document_id), col(Passage.start), col(Passage.end)
                )
                .where(col(Passage.document_id).in_(doc_ids[lo : lo + _CHUNK]))
                .order_by(col(Passage.document_id), col(Passage.start))
            ).all():
                by_doc_passages.setdefault(int(did), []).append((int(a), int(b), int(pid)))

        # -- codings: in the project's original order, with their exact times
        doc_of = {d.source.key: d for d in docs}
        ranked: list[tuple[float, int, QdaCoding, F.CodingFact | None]] = []
        per_source_index: dict[str, int] = {}
        order_facts = {d.source.key: F.decode_codings(d.facts.text("codings") or "") for d in docs}
        for position, c in enumerate(qda.codings):
            i = per_source_index.get(c.source_key, 0)
            per_source_index[c.source_key] = i + 1
            listed = order_facts.get(c.source_key)
            fact = listed[i] if listed is not None and i < len(listed) else None
            ranked.append((fact.rank if fact else len(qda.codings) + position, position, c, fact))
        # Selections fewer or more than listed: the facts do not fit, use the file's order.
        for key, listed in order_facts.items():
            if listed is not None and len(listed) != per_source_index.get(key, 0):
                warnings.append(Notice("notice.order_facts", name=key))
        ranked.sort(key=lambda t: (t[0], t[1]))
        present_ids = [d.present_id for d in docs if d.present_id is not None]
        existing_keys = coding_keys(s, present_ids)
        # Inserted chunk by chunk (memory stays flat at 400k codings); what memos and
        # notes need afterwards is kept apart, keyed by the coding's natural key.
        coding_targets = {
            n.target[1] for n in qda.notes if n.target is not None and n.target[0] == "coding"
        }
        chunk: list[dict[str, Any]] = []
        wanted_ids: dict[tuple[int, int, int, int, int], str] = {}
        memo_for: list[tuple[tuple[int, int, int, int, int], str, datetime]] = []
        n_inserted = 0
        skipped_present = 0
        lost_unknown_code = 0
        for _rank, _pos, c, fact in ranked:
            d = doc_of.get(c.source_key)
            name = leaf_names.get(c.code_key)
            if d is None or d.id is None:
                continue
            if name is None or name not in concept_ids:
                lost_unknown_code += 1 if name is not None else 0
                continue
            coder = coders.get(users.get(c.user_key, ""))
            if coder is None:
                continue
            if not 0 <= c.start < c.end <= len(d.body):
                continue
            key5 = (int(coder.id), int(concept_ids[name]), d.id, c.start, c.end)
            if key5 in existing_keys:
                skipped_present += 1
                continue
            existing_keys.add(key5)
            spans = by_doc_passages.get(d.id, [])
            created = fact.at if fact else (c.created or now)
            chunk.append(
                {
                    "coder_id": key5[0],
                    "concept_id": key5[1],
                    "document_id": d.id,
                    "passage_id": _passage_containing(spans, c.start, c.end),
                    "start": c.start,
                    "end": c.end,
                    "snippet": d.body[c.start : c.end][:MAX_SNIPPET],
                    "assisted": bool(fact.assisted) if fact else False,
                    "created_at": created,
                }
            )
            if c.memo:
                memo_for.append((key5, c.memo, created))
            if c.memo or c.key in coding_targets:
                wanted_ids[key5] = c.key
            if len(chunk) >= _CHUNK:
                s.execute(insert(Coding), chunk)
                n_inserted += len(chunk)
                chunk = []
        if chunk:
            s.execute(insert(Coding), chunk)
            n_inserted += len(chunk)
        del chunk, ranked
        if lost_unknown_code:
            losses.append(Loss("codings", "", str(lost_unknown_code)))
        id_by_key5: dict[tuple[int, int, int, int, int], int] = {}
        if wanted_ids:
            wanted_docs = sorted({k[2] for k in wanted_ids})
            for lo in range(0, len(wanted_docs), _CHUNK):
                for cid, *rest in s.execute(
                    select(
                        col(Coding.id),
                        col(Coding.coder_id),
                        col(Coding.concept_id),
                        col(Coding.document_id),
                        col(Coding.start),
                        col(Coding.end),
                    ).where(col(Coding.document_id).in_(wanted_docs[lo : lo + _CHUNK]))
                ).all():
                    k = tuple(int(x) for x in rest)
                    if k in wanted_ids:
                        id_by_key5[k] = int(cid)
        coding_id_by_key = {wanted_ids[k]: i for k, i in id_by_key5.items()}

        # -- memos: coding memos from the selections, notes on their targets
        id_to_name = {int(c.id): n for n, c in coders.items()}
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

        for key5, memo, at in memo_for:
            cid = id_by_key5.get(key5)
            if cid is not None:
                add_memo("coding", cid, id_to_name[key5[0]], memo, at)
        level_of_code: dict[str, str] = {}
        for code in iter_codes(qda.codes):
            node_fact = nodes.get(code.key)
            level_of_code[code.key] = (
                node_fact["level"]
                if node_fact and node_fact.get("level") in LEVEL_TABLES
                else ("concept" if not code.children else "")
            )
        code_names = {c.key: c.name for c in iter_codes(qda.codes)}
        level_ids = {
            level: dict(s.execute(select(col(table.name), col(table.id))).all())
            for level, table in LEVEL_TABLES.items()
        }
        for note in qda.notes:
            author = users.get(note.user_key, "unknown")
            at = note.created or now
            kind: str | None = None
            target: int | None = None
            if note.target is None or note.target[0] == "project":
                kind = "project"
            elif note.target[0] == "source":
                d = doc_of.get(note.target[1])
                if d is not None and d.id is not None:
                    kind, target = "document", d.id
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
        if memo_rows:
            s.execute(insert(Memo), memo_rows)

        # -- done marks, settings, events, model edges
        # Two marks and two assignments per document at the reference size: in chunks.
        del existing_keys, by_doc_passages, order_facts
        n_done = _add_coder_document_rows(
            s, DoneMark, docs, coders, "done", lambda at: {"marked_at": at}, "done.mark", file.name
        )
        _add_coder_document_rows(
            s,
            Assignment,
            docs,
            coders,
            "assigned",
            lambda at: {"assigned_by": lead, "assigned_at": at},
            None,
            file.name,
        )
        settings: dict[str, str] = project_facts.get("settings") or {}
        if holdout_start is not None and "holdout_start" not in settings:
            settings = {**settings, "holdout_start": holdout_start.isoformat()}
        for key, value in settings.items():
            if key not in TRAVELLING_SETTINGS or not isinstance(value, str):
                continue
            if fresh_project or get_setting(s, key) in ("", None):
                set_setting(s, key, value)
        if fresh_project and qda.name:
            set_setting(s, "name", qda.name)
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
            documents=len(new_docs),
            present=tuple(present),
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
            entity_id=batch_id,
            after={
                "file": file.name,
                "documents": result.documents,
                "present": len(present),
                "codings": result.codings,
                "losses": len(losses),
                "codebook": summary.to_json(),
            },
        )
        return result


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
        "seq": int(d.number.split("-")[1]),
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
