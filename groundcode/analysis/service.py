"""The analysis service: agreement, reconciliation, saturation, the model, words, suggestions.

Agreement and other coders' work are a lead's business while the project is
in blind mode (SPEC §7); that rule lives here, not in the screens.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast, overload

from sqlalchemy import delete, func, insert, select
from sqlmodel import Session, col

from groundcode.analysis.saturation import SaturationReport
from groundcode.domain.errors import (
    BadOption,
    FileRefused,
    Forbidden,
    InvalidInput,
    ModelProblems,
    OutOfRange,
    PassageNotFound,
    Refused,
)
from groundcode.domain.levels import code_level
from groundcode.domain.paging import PAGE_SIZE, Page, check_window
from groundcode.domain.safe_text import has_control, visible
from groundcode.store.access import (
    authorize,
    find_coder,
    readable_coder_ids,
    visibility,
)
from groundcode.store.audit import record
from groundcode.store.context import Context
from groundcode.store.derived import DerivedFiles
from groundcode.store.lookup import document_by_number, row_id
from groundcode.store.seed import CONSENSUS
from groundcode.store.settings import get_setting, set_setting
from groundcode.store.tables import (
    AuditLog,
    Coder,
    Coding,
    Concept,
    Document,
    ImportBatch,
    Passage,
    TokenCache,
)

if TYPE_CHECKING:
    import pandas as pd

    from groundcode.analysis.agreement_core import AgreementResult
    from groundcode.analysis.char_agreement import CharAgreement
    from groundcode.analysis.model_render import Graph
    from groundcode.analysis.suggest import Suggestion, SuggestionScores, SuggestModel
    from groundcode.analysis.words import Segmenter
    from groundcode.coding.codebook import CodebookService
    from groundcode.coding.service import CodingService
    from groundcode.corpus.service import CorpusService

SPLITS = ("build", "holdout", "all")


@dataclass(frozen=True)
class Disagreement:
    document: str
    passage: int
    text: str
    codes: dict[str, list[str]]
    decided: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "document": self.document,
            "passage": self.passage,
            "text": self.text,
            "codes": self.codes,
            "decided": self.decided,
        }


@dataclass(frozen=True)
class ReconcileReport:
    coders: tuple[str, ...]
    copied: int
    already: int
    disagreements: tuple[Disagreement, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {
            "coders": list(self.coders),
            "copied": self.copied,
            "already": self.already,
            "open": len([d for d in self.disagreements if d.decided is None]),
            "disagreements": [d.to_json() for d in self.disagreements],
        }


# jieba's user dictionary: a word (no spaces), then an optional count and part of speech.
_USER_DICT_LINE = re.compile(r"\S{1,64}(?:[ \t]+\d{1,12})?(?:[ \t]+[A-Za-z]{1,8})?")


class AnalysisService:
    """Agreement, saturation, words, suggestions and the model graph: read-only.

    ``Project`` hands in the sibling rooms it reads (corpus, codings,
    codebook); it builds none of them.
    """

    def __init__(
        self,
        ctx: Context,
        *,
        corpus: CorpusService,
        codings: CodingService,
        codebook: CodebookService,
    ) -> None:
        self.ctx = ctx
        self.corpus = corpus
        self.codings = codings
        self.codebook = codebook
        # The last result paged by ``disagreements_page`` and its units in number order.
        self._dis_order: tuple[AgreementResult, list[Any]] | None = None
        self._segmenter: Segmenter | None = None
        # Trained suggestion models by the hash of their training data.
        self._models: dict[str, SuggestModel] = {}

    # -- who may see what ------------------------------------------------
    def _blind_basis(self, s: Session) -> str | None:
        """In blind mode, whose codings an analysis uses by default (``Visibility.default_basis``)."""
        return visibility(s, self.ctx.actor).default_basis()

    def _lead_only_in_blind(self, s: Session, what: str) -> None:
        visibility(s, self.ctx.actor).lead_only(what)

    def _pick_coders(self, s: Session, coders: Sequence[str] | None) -> list[Coder]:
        if coders:
            picked = [find_coder(s, c) for c in coders]
        else:
            picked = list(
                s.execute(
                    select(Coder)
                    .where(
                        col(Coder.role) != "consensus",
                        col(Coder.id).in_(select(col(Coding.coder_id)).distinct()),
                    )
                    .order_by(col(Coder.id))
                ).scalars()
            )
        if len({c.id for c in picked}) < 2:
            raise Refused("agreement_two_coders")
        return picked

    # -- agreement data --------------------------------------------------
    def _coded_frame(
        self, s: Session, coder_ids: Sequence[int], split: str, *, with_time: bool = False
    ) -> pd.DataFrame:
        """Codings of the given coders on included documents, with every level of the category path.

        Bulk reads of plain columns joined in pandas: at 400,000 codings a SQL
        join with per-row processing costs seconds, this costs a fraction.
        """
        from groundcode.store.raw import fetch_frame, fetch_ints, id_list

        cols = [
            "id",
            "coder_id",
            "document_id",
            "passage_id",
            "start",
            "end",
            "concept_id",
            "assisted",
        ]
        who = id_list(list(coder_ids))
        frame = fetch_ints(
            s,
            'SELECT id, coder_id, document_id, coalesce(passage_id, -1), start, "end", concept_id, '
            f"CASE WHEN assisted THEN 1 ELSE 0 END FROM coding WHERE coder_id IN {who}",
            cols,
        )
        frame["passage_id"] = frame["passage_id"].where(frame["passage_id"] >= 0)
        frame["assisted"] = frame["assisted"].astype(bool)
        if with_time:
            import pandas as pd

            times = fetch_frame(
                s,
                f"SELECT id, created_at FROM coding WHERE coder_id IN {who}",
                ["id", "created_at"],
            )
            times["created_at"] = pd.to_datetime(times["created_at"], utc=True, format="ISO8601")
            frame = frame.merge(times, on="id")
        docs = fetch_frame(
            s, "SELECT id, split FROM document WHERE status = 'included'", ["document_id", "split"]
        )
        if split != "all":
            docs = docs[docs["split"] == split]
        frame = frame.merge(docs, on="document_id", how="inner")
        names = fetch_frame(
            s,
            "SELECT k.id, k.name, cat.name, m.name FROM concept k LEFT JOIN category cat ON cat.id = k.category_id "
            "LEFT JOIN main_category m ON m.id = cat.main_category_id",
            ["concept_id", "concept", "category", "main_category"],
        )
        return frame.merge(names, on="concept_id", how="left")

    @overload
    def agreement(
        self,
        *,
        coders: Sequence[str] | None = None,
        level: str = "concept",
        unit: Literal["passage"] = "passage",
        split: str = "all",
        ignore_uncoded: bool = False,
        bootstrap: int = 1000,
        seed: int = 0,
        assisted: bool = True,
        judged: str | None = None,
    ) -> AgreementResult: ...

    @overload
    def agreement(
        self,
        *,
        coders: Sequence[str] | None = None,
        level: str = "concept",
        unit: str,
        split: str = "all",
        ignore_uncoded: bool = False,
        bootstrap: int = 1000,
        seed: int = 0,
        assisted: bool = True,
        judged: str | None = None,
    ) -> AgreementResult | CharAgreement: ...

    def agreement(
        self,
        *,
        coders: Sequence[str] | None = None,
        level: str = "concept",
        unit: str = "passage",
        split: str = "all",
        ignore_uncoded: bool = False,
        bootstrap: int = 1000,
        seed: int = 0,
        assisted: bool = True,
        judged: str | None = None,
    ) -> AgreementResult | CharAgreement:
        """Inter-coder agreement of SPEC §4 over the project's codings.

        ``judged``: ``done`` (units of documents the coders marked done),
        ``coded`` (documents they coded anything in) or None: done marks when
        the project has any, else ``coded`` with a note naming the fallback.
        ``assisted=False`` leaves out codings accepted from a suggestion, so a
        report can show agreement with and without assisted coding.
        ``bootstrap`` resamples units for the CIs (0 = analytic CIs only).
        """
        import numpy as np

        from groundcode.analysis.agreement_core import Note, compute_encoded

        level = code_level(level)
        if unit not in ("passage", "char"):
            raise BadOption("unit", unit, "passage, char")
        if split not in SPLITS:
            raise BadOption("split", split, ", ".join(SPLITS))
        if judged not in (None, "done", "coded"):
            raise BadOption("judged", str(judged), "done, coded")
        if bootstrap < 0:
            raise BadOption("bootstrap", str(bootstrap), "0, 1, 2, ...")
        from groundcode.analysis import agreement_data

        notes: list[Any] = []
        with self.ctx.db.read() as s:
            self._lead_only_in_blind(s, "agreement")
            picked = self._pick_coders(s, coders)
            ids = [int(c.id) for c in picked if c.id is not None]
            rule = judged
            if rule is None:
                rule = "done" if agreement_data.has_done_marks(s, ids) else "coded"
                if rule == "coded":
                    notes.append(Note("judged.fallback"))
            data = agreement_data.read(s, ids, split, assisted=assisted, rule=rule)
            enc, n_documents, more_notes, diagnostics, frame = agreement_data.encode(
                data, ids, [c.name for c in picked], level, rule
            )
            notes.extend(more_notes)
            diagnostics.extend(agreement_data.boundary_diagnostics(frame, ids, enc.universe))
            if unit == "char":
                import pandas as pd

                from groundcode.analysis.char_agreement import CharAgreement, char_agreement_json

                if len(picked) != 2:
                    raise BadOption("coders", ",".join(c.name for c in picked), "two coders")
                names = np.asarray(enc.universe + [None], dtype=object)
                frame = frame.assign(code=names[frame["code"].to_numpy()])
                pairs = pd.DataFrame(data.judged, columns=["coder_id", "document_id"])
                char = char_agreement_json(
                    frame,
                    {c.id: c.name for c in picked if c.id is not None},
                    "code",
                    self._doc_lengths(s, pairs),
                    level,
                    judged=pairs,
                    rule=rule,
                    doc_numbers=self._numbers(s, pairs),
                    notes=notes,
                    diagnostics=diagnostics,
                )
                return CharAgreement(char)
        return compute_encoded(
            enc,
            ignore_uncoded=ignore_uncoded,
            seed=seed,
            level=level,
            unit_kind=unit,
            bootstrap=bootstrap,
            judged=rule,
            n_documents=n_documents,
            extra_notes=notes,
            extra_diagnostics=diagnostics,
        )

    def _numbers(self, s: Session, frame: pd.DataFrame) -> dict[int, str]:
        from groundcode.store.raw import fetch_frame, id_list

        ids = sorted(set(frame["document_id"].tolist()))
        docs = fetch_frame(
            s, f"SELECT id, number FROM document WHERE id IN {id_list(ids)}", ["id", "number"]
        )
        return dict(zip(docs["id"].tolist(), docs["number"].tolist(), strict=True))

    def _doc_lengths(self, s: Session, frame: pd.DataFrame) -> dict[int, int]:
        ids = sorted(set(frame["document_id"].tolist()))
        if not ids:
            return {}
        return dict(
            s.execute(
                select(col(Document.id), func.length(col(Document.text))).where(
                    col(Document.id).in_(ids)
                )
            ).all()
        )

    def disagreements(
        self,
        *,
        coders: Sequence[str] | None = None,
        level: str = "concept",
        split: str = "all",
        result: AgreementResult | None = None,
    ) -> list[Disagreement]:
        """Passages where the coders' code sets differ, with text and any decision taken.

        Pass the ``result`` of an ``agreement`` call already made (a screen that
        shows both) to avoid computing the agreement twice.
        """
        if result is None:
            result = self.agreement(coders=coders, level=level, split=split, bootstrap=0)
        decided = self._decisions()
        ids = [int(u) for u, _ in result.disagreements]
        found: dict[int, tuple[str, int, str]] = {}
        with self.ctx.db.read() as s:
            for lo in range(0, len(ids), 5000):
                rows = s.execute(
                    select(
                        col(Passage.id), col(Document.number), col(Passage.idx), col(Passage.text)
                    )
                    .join(Document, col(Document.id) == col(Passage.document_id))
                    .where(col(Passage.id).in_(ids[lo : lo + 5000]))
                ).all()
                found.update({pid: (number, idx, text) for pid, number, idx, text in rows})
        out = []
        for unit_id, codes in result.disagreements:
            number, idx, text = found[int(unit_id)]
            out.append(
                Disagreement(
                    number,
                    idx,
                    text,
                    {k: list(v) for k, v in codes.items()},
                    decided.get((number, idx)),
                )
            )
        out.sort(
            key=lambda d: (int(d.document.split("-")[0]), int(d.document.split("-")[1]), d.passage)
        )
        return out

    def disagreements_page(
        self,
        *,
        result: AgreementResult,
        offset: int = 0,
        limit: int = PAGE_SIZE,
    ) -> Page[Disagreement]:
        """Rows ``offset`` .. ``offset + limit`` of ``disagreements(result=...)``, same order.

        The units are put in number order once per result without reading their
        text (within a source type passage ids follow document numbers, so the key
        is the type of the passage's import batch, then the passage id); each page
        then reads its own passages only.
        """
        check_window(offset, limit)
        cached = self._dis_order
        if cached is None or cached[0] is not result:
            cached = (result, self._order_units(result))
            self._dis_order = cached
        ordered = cached[1]
        window = ordered[offset : offset + limit]
        ids = [int(u) for u, _ in window]
        with self.ctx.db.read() as s:
            found = {
                pid: (number, idx, text)
                for pid, number, idx, text in s.execute(
                    select(
                        col(Passage.id), col(Document.number), col(Passage.idx), col(Passage.text)
                    )
                    .join(Document, col(Document.id) == col(Passage.document_id))
                    .where(col(Passage.id).in_(ids))
                ).all()
            }
        decided = self._decisions() if window else {}
        items = []
        for unit_id, codes in window:
            number, idx, text = found[int(unit_id)]
            items.append(
                Disagreement(
                    number,
                    idx,
                    text,
                    {k: list(v) for k, v in codes.items()},
                    decided.get((number, idx)),
                )
            )
        return Page(tuple(items), offset, limit, len(ordered) > offset + limit)

    def _order_units(self, result: AgreementResult) -> list[Any]:
        """``result.disagreements`` in (source type, passage id) order, i.e. number order."""
        import numpy as np

        units = list(result.disagreements)
        if not units:
            return []
        # Each import is one transaction, so its documents and their passages have
        # contiguous ids: a few (first passage id, type) ranges type every passage.
        with self.ctx.db.read() as s:
            bounds: list[tuple[int, int]] = []
            for batch_id, type_id in s.execute(
                select(col(ImportBatch.id), col(ImportBatch.source_type_id))
            ).all():
                first_doc = s.execute(
                    select(col(Document.id))
                    .where(col(Document.batch_id) == batch_id)
                    .order_by(col(Document.id))
                    .limit(1)
                ).scalar()
                if first_doc is None:
                    continue
                first_pas = s.execute(
                    select(func.min(col(Passage.id))).where(col(Passage.document_id) == first_doc)
                ).scalar()
                if first_pas is not None:
                    bounds.append((int(first_pas), int(type_id)))
        bounds.sort()
        starts = np.array([b for b, _ in bounds], dtype=np.int64)
        types = np.array([t for _, t in bounds], dtype=np.int64)
        pids = np.array([int(u) for u, _ in units], dtype=np.int64)
        pos = np.searchsorted(starts, pids, side="right") - 1
        unit_type = types[np.clip(pos, 0, len(types) - 1)]
        order = np.lexsort((pids, unit_type))
        return [units[i] for i in order.tolist()]

    def _decisions(self) -> dict[tuple[str, int], str]:
        with self.ctx.db.read() as s:
            rows = (
                s.execute(
                    select(col(AuditLog.after))
                    .where(col(AuditLog.action) == "reconcile.decide")
                    .order_by(col(AuditLog.id))
                )
                .scalars()
                .all()
            )
        out: dict[tuple[str, int], str] = {}
        for raw in rows:
            info = json.loads(raw or "{}")
            out[(info["document"], int(info["passage"]))] = info["choice"]
        return out

    # -- reconciliation --------------------------------------------------
    def reconcile(
        self, *, coders: Sequence[str] | None = None, split: str = "all"
    ) -> ReconcileReport:
        """Copy codings all coders agree on (same concept, same passage) into consensus."""
        with self.ctx.db.read() as s:
            authorize(s, self.ctx.actor, "reconcile")
            picked = self._pick_coders(s, coders)
            frame = self._coded_frame(
                s, [c.id for c in picked if c.id is not None], split, with_time=True
            )
        frame = frame.dropna(subset=["passage_id"])
        n_coders = len(picked)
        agreed = frame.groupby(["passage_id", "concept"]).filter(
            lambda g: g["coder_id"].nunique() == n_coders
        )
        actor = self.ctx.actor

        def _do(s: Session) -> tuple[int, int]:
            cons = find_coder(s, CONSENSUS)
            existing = {
                (p, c)
                for p, c in s.execute(
                    select(col(Coding.passage_id), col(Concept.name))
                    .join(Concept, col(Concept.id) == col(Coding.concept_id))
                    .where(col(Coding.coder_id) == cons.id)
                ).all()
            }
            concept_ids: dict[str, int | None] = {
                name: cid for name, cid in s.execute(select(col(Concept.name), col(Concept.id)))
            }
            texts: dict[int, str] = {}
            values = []
            already = 0
            for key, g in agreed.groupby(["passage_id", "concept"]):
                pid_raw, concept_raw = cast("tuple[float, str]", key)
                pid, concept = int(pid_raw), str(concept_raw)
                if (pid, concept) in existing:
                    already += 1
                    continue
                doc_id = int(g["document_id"].iloc[0])
                if doc_id not in texts:
                    doc = s.get(Document, doc_id)
                    assert doc is not None
                    texts[doc_id] = doc.text
                a, b = int(g["start"].min()), int(g["end"].max())
                values.append(
                    {
                        "coder_id": cons.id,
                        "concept_id": concept_ids[concept],
                        "document_id": doc_id,
                        "passage_id": pid,
                        "start": a,
                        "end": b,
                        "snippet": texts[doc_id][a:b][:4000],
                        "assisted": False,
                        "created_at": g["created_at"].min().to_pydatetime(),
                    }
                )
            for lo in range(0, len(values), 2000):
                s.execute(insert(Coding), values[lo : lo + 2000])
            record(
                s,
                actor=actor,
                action="reconcile.agreed",
                entity="project",
                after={
                    "coders": [c.name for c in picked],
                    "copied": len(values),
                    "already": already,
                },
            )
            return len(values), already

        copied, already = self.ctx.db.run(_do)
        open_items = self.disagreements(coders=[c.name for c in picked], split=split)
        return ReconcileReport(tuple(c.name for c in picked), copied, already, tuple(open_items))

    def decide(
        self, document: str, passage: int, choice: str, *, coders: Sequence[str] | None = None
    ) -> int:
        """Settle one disagreement: keep coder A's codes, B's, both, or neither (audited)."""
        with self.ctx.db.read() as s:
            authorize(s, self.ctx.actor, "reconcile")
            picked = self._pick_coders(s, coders)
        names = [c.name for c in picked]
        valid = {"a", "b", "both", "neither", *names}
        if choice not in valid:
            raise Refused("decide_choice", detail=choice)
        if choice == "a":
            keep = [picked[0]]
        elif choice == "b":
            keep = [picked[1]]
        elif choice == "both":
            keep = picked
        elif choice == "neither":
            keep = []
        else:
            keep = [c for c in picked if c.name == choice]
        actor = self.ctx.actor

        def _do(s: Session) -> int:
            doc = document_by_number(s, document)
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
                raise PassageNotFound(document, passage)
            cons = find_coder(s, CONSENSUS)
            have = {
                (c.concept_id)
                for c in s.execute(
                    select(Coding).where(
                        col(Coding.coder_id) == cons.id, col(Coding.passage_id) == pas.id
                    )
                ).scalars()
            }
            src = (
                s.execute(
                    select(Coding).where(
                        col(Coding.passage_id) == pas.id,
                        col(Coding.coder_id).in_([c.id for c in keep]),
                    )
                )
                .scalars()
                .all()
                if keep
                else []
            )
            added = 0
            for c in src:
                if c.concept_id in have:
                    continue
                have.add(c.concept_id)
                s.add(
                    Coding(
                        coder_id=row_id(cons),
                        concept_id=c.concept_id,
                        document_id=c.document_id,
                        passage_id=c.passage_id,
                        start=c.start,
                        end=c.end,
                        snippet=c.snippet,
                        created_at=c.created_at,
                    )
                )
                added += 1
            record(
                s,
                actor=actor,
                action="reconcile.decide",
                entity="passage",
                entity_id=pas.id,
                after={
                    "document": document,
                    "passage": passage,
                    "choice": choice,
                    "added": added,
                    "coders": names,
                },
            )
            return added

        return self.ctx.db.run(_do)

    # -- saturation ------------------------------------------------------
    def saturation(
        self,
        *,
        coder: str | None = None,
        base: int = 4,
        run: int = 2,
        threshold: float = 0.05,
        permutations: int = 0,
        seed: int | None = None,
    ) -> SaturationReport:
        """The holdout test and the saturation curve (SPEC §5), on consensus or one coder's codings.

        The facts are read by ``saturation_data``, the rules applied by
        ``saturation.judge``; ``permutations`` repeats the Guest rule over that
        many seeded random orders (the project's seed by default).
        """
        from groundcode.analysis.saturation import judge
        from groundcode.analysis.saturation_data import load_input
        from groundcode.domain.collector import collector_held

        if base < 1 or run < 1:
            raise BadOption("base/run", f"{base}/{run}", ">= 1")
        if not 0 <= threshold < 1:
            raise BadOption("threshold", str(threshold), "0 <= T < 1")
        if permutations < 0:
            raise BadOption("permutations", str(permutations), ">= 0")
        with collector_held(), self.ctx.db.read() as s:
            basis = coder or self._blind_basis(s) or CONSENSUS
            visible = readable_coder_ids(s, self.ctx.actor, None if basis == CONSENSUS else [basis])
            who = find_coder(s, basis)
            if basis == CONSENSUS and visible is not None:
                raise Forbidden(action="read.consensus", actor=self.ctx.actor or "", needs="lead")
            seed = int(get_setting(s, "seed")) if seed is None else seed
            inp = load_input(s, basis=basis, basis_id=row_id(who), visible=visible)
        with collector_held():
            return judge(
                inp, base=base, run=run, threshold=threshold, permutations=permutations, seed=seed
            )

    # -- the model -------------------------------------------------------
    def model_graph(self) -> Graph:
        """The selective-coding model as a graph ready to draw."""
        from groundcode.analysis.model_render import Edge, Graph, Node

        model = self.codebook.model()
        ids: dict[tuple[str, str], str] = {}

        def nid(kind: str, name: str) -> str:
            key = (kind, name)
            if key not in ids:
                prefix = {
                    "core": "core",
                    "relation_class": "rc",
                    "main_category": "mc",
                    "category": "ic",
                }.get(kind, "n")
                ids[key] = f"{prefix}{len(ids) + 1}"
            return ids[key]

        nodes: list[Node] = []
        if model.core:
            nodes.append(Node(nid("core", model.core), model.core, "core"))
        for rc in model.relation_classes:
            rc_id = nid("relation_class", rc.name)
            nodes.append(Node(rc_id, rc.name, "relation_class"))
            for m in rc.main_categories:
                nodes.append(
                    Node(nid("main_category", m.name), m.name, "main_category", group=rc_id)
                )
        edges = []
        known = {(n.kind, n.label) for n in nodes}
        for e in model.edges:
            for ref in e.edge.ends:
                if (ref.kind, ref.name) not in known:
                    nodes.append(Node(nid(ref.kind, ref.name), ref.name, ref.kind))
                    known.add((ref.kind, ref.name))
            source, target = e.edge.ends
            edges.append(
                Edge(nid(source.kind, source.name), nid(target.kind, target.name), e.edge.label)
            )
        title = model.core or None
        return Graph(tuple(nodes), tuple(edges), title, tuple(model.problems))

    def forbid_cycles(self, on: bool = True) -> None:
        """Mark feedback loops in the model as an error (some designs want a strict causal chain)."""

        def _do(s: Session) -> None:
            authorize(s, self.ctx.actor, "project.forbid_cycles")
            set_setting(s, "forbid_cycles", "1" if on else "0")
            record(
                s,
                actor=self.ctx.actor,
                action="model.forbid_cycles",
                entity="project",
                after={"on": on},
            )

        self.ctx.db.run(_do)

    def render_model(self, fmt: str = "mermaid") -> str:
        from groundcode.analysis import model_render

        renderers = {
            "mermaid": model_render.to_mermaid,
            "dot": model_render.to_dot,
            "svg": model_render.to_svg,
            "text": model_render.to_text,
        }
        if fmt not in renderers:
            raise BadOption(option="format", value=fmt, allowed=", ".join(renderers))
        graph = self.model_graph()
        if graph.problems:
            raise ModelProblems(graph.problems[0], len(graph.problems) - 1)
        forbid = get_setting_value(self.ctx, "forbid_cycles") == "1"
        if forbid:
            from groundcode.analysis.model_render import find_cycles

            cycles = find_cycles(graph.edges)
            if cycles:
                labels = {n.id: n.label for n in graph.nodes}
                raise Refused(
                    "model_cycle", detail=" -> ".join(labels.get(x, x) for x in cycles[0])
                )
        return renderers[fmt](graph)

    # -- words and suggestions -------------------------------------------
    def segmenter(self) -> Segmenter:
        from groundcode.analysis.words import Segmenter

        if self._segmenter is None:
            with self.ctx.db.read() as s:
                user_dict = get_setting(s, "user_dict")
                extra = get_setting(s, "stopwords_extra")
            dict_path: Path | None = None
            if user_dict.strip():
                dict_path = _user_dict_file(self.ctx, user_dict)
            self._segmenter = Segmenter(user_dict=dict_path, extra_stopwords=extra.split())
        return self._segmenter

    def set_user_dictionary(self, path: Path) -> int:
        """Load a jieba user dictionary (``word freq pos`` lines) into the project."""
        if not path.is_file():
            raise FileRefused(file=str(path), row=0, reason="no_such_file")
        from groundcode.corpus.encoding import decode_bytes

        # Detected like any text file (UTF-8, GBK/GB18030, Big5, UTF-16), then checked
        # line by line: a bad line is refused here, not stored to break every later `words`.
        text = decode_bytes(path.read_bytes(), str(path))
        lines: list[str] = []
        for lineno, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
            ln = raw.strip()
            if not ln or ln.startswith("#"):
                continue
            if not _USER_DICT_LINE.fullmatch(ln) or has_control(ln):
                raise InvalidInput(str(path), lineno, "dict_line", visible(ln[:40]))
            lines.append(ln)

        def _do(s: Session) -> None:
            authorize(s, self.ctx.actor, "project.user_dict")
            set_setting(s, "user_dict", "\n".join(lines) + "\n")
            record(
                s,
                actor=self.ctx.actor,
                action="project.user_dict",
                entity="project",
                after={"entries": len(lines), "file": path.name},
            )

        self.ctx.db.run(_do)
        self._segmenter = None
        return len(lines)

    def passage_tokens(self, passages: pd.DataFrame) -> list[list[str]]:
        """jieba tokens of each passage, cached in the project per dictionary version."""
        seg = self.segmenter()
        version = seg.version
        ids = [int(i) for i in passages["passage_id"]]
        cached: dict[int, list[str]] = {}
        with self.ctx.db.read() as s:
            for lo in range(0, len(ids), 5000):
                for pid, toks in s.execute(
                    select(col(TokenCache.passage_id), col(TokenCache.tokens)).where(
                        col(TokenCache.passage_id).in_(ids[lo : lo + 5000]),
                        col(TokenCache.dict_version) == version,
                    )
                ).all():
                    cached[pid] = toks.split(" ") if toks else []
        missing = [
            (pid, t) for pid, t in zip(ids, passages["text"], strict=True) if pid not in cached
        ]
        if missing:
            import threading

            # Forking a pool from a worker thread (the TUI) can deadlock on held locks.
            big = sum(len(t) for _, t in missing) > 2_000_000
            workers = 2 if big and threading.current_thread() is threading.main_thread() else 1
            fresh = seg.tokens_many([t for _, t in missing], workers=workers)
            for (pid, _), toks in zip(missing, fresh, strict=True):
                cached[pid] = toks

            def _store(s: Session) -> None:
                pids = [pid for pid, _ in missing]
                for lo in range(0, len(pids), 5000):
                    s.execute(
                        delete(TokenCache).where(
                            col(TokenCache.passage_id).in_(pids[lo : lo + 5000])
                        )
                    )
                rows = [
                    {"passage_id": pid, "dict_version": version, "tokens": " ".join(cached[pid])}
                    for pid in pids
                ]
                for lo in range(0, len(rows), 5000):
                    s.execute(insert(TokenCache), rows[lo : lo + 5000])

            # The cache is an optimisation: a failed write (e.g. a read-only project) costs only time.
            with contextlib.suppress(Exception):
                self.ctx.db.run(_store)
        return [cached[pid] for pid in ids]

    def words(self, *, by: str = "type", top: int = 20, distinctive: bool = False) -> pd.DataFrame:
        """Word frequencies (or TF-IDF distinctive terms) by source type, split, document or code."""
        from groundcode.analysis.words import distinctive_terms, word_frequencies

        if by not in ("type", "split", "document", "code"):
            raise BadOption(option="by", value=by, allowed="type, split, document, code")
        if top < 1:
            raise OutOfRange(option="top", value=str(top), rule="positive")
        passages = self.corpus.passages()
        if by == "code":
            codings = self.codings.codings()
            codings = codings.dropna(subset=["passage"])
            keys = passages.assign(
                key=[
                    f"{d}#{p}"
                    for d, p in zip(passages["document"], passages["passage"], strict=True)
                ]
            )
            codings = codings.assign(
                key=[
                    f"{d}#{int(p)}"
                    for d, p in zip(codings["document"], codings["passage"], strict=True)
                ]
            )
            passages = keys.merge(codings[["key", "concept"]].drop_duplicates(), on="key")
            groups = passages["concept"].tolist()
        elif by == "type":
            groups = passages["type_id"].astype(str).tolist()
        elif by == "split":
            groups = passages["split"].fillna("unsplit").tolist()
        else:
            groups = passages["document"].tolist()
        tokens = self.passage_tokens(passages.drop_duplicates(subset=["passage_id"]))
        tok_by_id = dict(
            zip(passages.drop_duplicates(subset=["passage_id"])["passage_id"], tokens, strict=True)
        )
        token_lists = [tok_by_id[p] for p in passages["passage_id"]]
        if distinctive:
            return distinctive_terms(token_lists, groups, top=top)
        return word_frequencies(token_lists, groups, top=top)

    def _training_set(self, coder: str | None) -> tuple[str, list[str], list[list[str]], list[int]]:
        """Build-set passages with the concepts of one coder (or consensus); blind mode applies."""
        with self.ctx.db.read() as s:
            if coder is None:
                coder = self._blind_basis(s)
            if coder is None:
                has_cons = s.execute(
                    select(col(Coding.id))
                    .join(Coder, col(Coder.id) == col(Coding.coder_id))
                    .where(col(Coder.name) == CONSENSUS)
                    .limit(1)
                ).first()
                if has_cons:
                    coder = CONSENSUS
                elif self.ctx.actor:
                    coder = self.ctx.actor
                else:
                    raise Refused("no_consensus_yet")
            visible = readable_coder_ids(s, self.ctx.actor, None if coder == CONSENSUS else [coder])
            if coder == CONSENSUS and visible is not None:
                raise Forbidden(action="read.consensus", actor=self.ctx.actor or "", needs="lead")
            who = find_coder(s, coder)
            rows = s.execute(
                select(col(Passage.id), col(Passage.text), col(Concept.name))
                .join(Coding, col(Coding.passage_id) == col(Passage.id))
                .join(Concept, col(Concept.id) == col(Coding.concept_id))
                .join(Document, col(Document.id) == col(Passage.document_id))
                .where(
                    col(Coding.coder_id) == who.id,
                    col(Document.status) == "included",
                    (col(Document.split) == "build") | col(Document.split).is_(None),
                )
                .order_by(col(Passage.id))
            ).all()
        labels: dict[int, set[str]] = {}
        texts: dict[int, str] = {}
        for pid, text, concept in rows:
            labels.setdefault(pid, set()).add(concept)
            texts[pid] = text
        ids = sorted(labels)
        return coder, [texts[i] for i in ids], [sorted(labels[i]) for i in ids], ids

    def suggest_model(self, coder: str | None = None) -> SuggestModel:
        """A trained suggestion model, cached by a hash of its training data."""
        import pandas as pd

        from groundcode.analysis.suggest import SuggestModel

        who, texts, labels, ids = self._training_set(coder)
        if len(texts) < 4:
            raise Refused("suggest_too_few_coded", name=who, detail=str(len(texts)))
        # Keyed by everything the model is learnt from: the passages' text (a redaction
        # changes it), their concepts and the segmentation (a new dictionary changes it).
        text_digest = hashlib.sha256("\x00".join(texts).encode()).hexdigest()
        version = self.segmenter().version
        digest = hashlib.sha256(
            json.dumps([who, ids, labels, text_digest, version], ensure_ascii=False).encode()
        ).hexdigest()[:24]
        # One model per person at a time: the person's older models (learnt from codings or
        # text since changed, e.g. redacted on another machine) go when a new one is written.
        person = hashlib.sha256(who.encode()).hexdigest()[:8]
        name = f"suggest-{person}-{digest}.npz"
        memo = self._models
        if digest in memo:
            return memo[digest]
        files = DerivedFiles.of(self.ctx.db)
        model = None
        data = files.read(name)
        if data is not None:
            try:
                model = SuggestModel.from_bytes(data)
            except ValueError:
                model = None  # stale, corrupt or not ours: treated as absent, trained again below
        if model is None:
            tokens = self.passage_tokens(pd.DataFrame({"passage_id": ids, "text": texts}))
            model = SuggestModel.train(texts, labels, tokens=tokens)
            files.write(name, model.to_bytes(), replacing=f"suggest-{person}-*.npz")
        memo[digest] = model
        return model

    def suggest(
        self, document: str, *, passage: int | None = None, coder: str | None = None, top: int = 5
    ) -> list[Suggestion]:
        """Ranked concepts for a passage, best first; never applied without the coder's say."""
        import pandas as pd

        from groundcode.analysis.suggest import Suggestion

        doc = self.corpus.document(document)
        if not doc.passages:
            raise Refused("no_passages", name=doc.number)
        if passage is None:
            pas = doc.passages[0]
        else:
            match = [p for p in doc.passages if p.idx == passage]
            if not match:
                raise PassageNotFound(doc.number, passage)
            pas = match[0]
        model = self.suggest_model(coder)
        tokens = self.passage_tokens(pd.DataFrame({"passage_id": [pas.id], "text": [pas.text]}))
        ranked = model.predict([pas.text], tokens=tokens, top=top)[0]
        return [Suggestion(concept=c, score=round(float(p), 4)) for c, p in ranked]

    def evaluate_suggestions(self, *, coder: str | None = None, seed: int = 0) -> SuggestionScores:
        import pandas as pd

        from groundcode.analysis.suggest import evaluate

        who, texts, labels, ids = self._training_set(coder)
        if len(texts) < 8:
            raise Refused("evaluate_too_few_coded", name=who, detail=str(len(texts)))
        tokens = self.passage_tokens(pd.DataFrame({"passage_id": ids, "text": texts}))
        return evaluate(texts, labels, tokens=tokens, seed=seed)


def get_setting_value(ctx: Context, key: str) -> str:
    with ctx.db.read() as s:
        return get_setting(s, key)


def _user_dict_file(ctx: Context, user_dict: str) -> Path:
    """A file holding the project's user dictionary, for jieba (which reads paths only)."""
    name = f"userdict-{hashlib.sha256(user_dict.encode()).hexdigest()[:16]}.txt"
    files = DerivedFiles.of(ctx.db)
    if files.read(name) == user_dict.encode():
        return files.folder / name
    written = files.write(name, user_dict.encode())
    if written is not None:
        return written
    # The project's folder is read-only: a private temporary file serves this process.
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix="groundcode-userdict-", suffix=".txt")
    with os.fdopen(fd, "wb") as fh:
        fh.write(user_dict.encode())
    return Path(tmp)
