"""The export service: paper tables, data exports and reports (backups: ``groundcode.backup``).

Every file is written through ``atomic_output`` (temp file + rename, refused
without ``force`` when the target exists), every xlsx/csv cell is neutralised
against formula injection, blind mode decides whose codings are exported, and
documents marked as personal data stay out unless ``include_personal``.
"""

from __future__ import annotations

import contextlib
import csv
import os
import shutil
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlmodel import col

from groundcode.domain.errors import (
    AlreadyExists,
    BadOption,
    GroundcodeError,
    InvalidInput,
    OutOfRange,
    Refused,
)
from groundcode.domain.levels import CODE_LEVELS, code_level
from groundcode.store.access import find_coder, readable_coder_ids
from groundcode.store.context import Context
from groundcode.store.seed import CONSENSUS
from groundcode.store.tables import Coding, Document

if TYPE_CHECKING:
    from groundcode.analysis.queries import QueryService
    from groundcode.analysis.saturation import SaturationReport
    from groundcode.analysis.service import AnalysisService
    from groundcode.coding.codebook import CodebookService
    from groundcode.coding.memos import MemoService
    from groundcode.coding.service import CodingService
    from groundcode.corpus.service import CorpusService
    from groundcode.exports.tables import Table1Row, Table2Group
    from groundcode.interchange.service import InterchangeService

ORIGIN = "groundcode 0.1.0"
TABLE_FORMATS = ("xlsx", "csv", "md", "tex", "docx")
RETRIEVAL_COLUMNS = (
    "document",
    "passage",
    "coder",
    "concept",
    "category",
    "main_category",
    "before",
    "text",
    "after",
)


class ExportService:
    """Writes files from what its sibling rooms read; ``Project`` hands them in."""

    def __init__(
        self,
        ctx: Context,
        *,
        corpus: CorpusService,
        codings: CodingService,
        memos: MemoService,
        codebook: CodebookService,
        analysis: AnalysisService,
        interchange: InterchangeService,
        queries: QueryService,
    ) -> None:
        self.ctx = ctx
        self.corpus = corpus
        self.codings = codings
        self.memo_room = memos
        self.codebook_room = codebook
        self.analysis = analysis
        self.interchange = interchange
        self.queries = queries

    # -- helpers ---------------------------------------------------------
    def _personal(self) -> tuple[set[str], set[str]]:
        """Numbers of documents marked personal, and the ids (as text) of codings on them."""
        with self.ctx.db.read() as s:
            numbers = set(
                s.execute(select(col(Document.number)).where(col(Document.personal))).scalars()
            )
            codings = (
                {
                    str(i)
                    for i in s.execute(
                        select(col(Coding.id))
                        .join(Document, col(Document.id) == col(Coding.document_id))
                        .where(col(Document.personal))
                    ).scalars()
                }
                if numbers
                else set()
            )
        return numbers, codings

    def _ref_coders(self, coder: str | None) -> list[str] | None:
        """Whose codings give Table 1's document refs: consensus, else a named coder, else everyone visible."""
        with self.ctx.db.read() as s:
            if coder:
                readable_coder_ids(s, self.ctx.actor, [coder])
                return [coder]
            cons = find_coder(s, CONSENSUS)
            has = s.execute(
                select(col(Coding.id)).where(col(Coding.coder_id) == cons.id).limit(1)
            ).first()
            visible = readable_coder_ids(s, self.ctx.actor)
            if has and (visible is None or cons.id in visible):
                return [CONSENSUS]
            return None

    # -- paper tables ----------------------------------------------------
    def table_rows(
        self, *, coder: str | None = None, refs_from: str = "build"
    ) -> tuple[list[Table1Row], list[Table2Group]]:
        """Table 1 rows and Table 2 groups from the codebook and the codings.

        Table 1's document numbers come from build-set documents by default
        (``refs_from="all"``: every included document): the categories were
        built on the build set, and citing holdout documents would mix the
        saturation test's evidence into the model's (SPEC §6). Concepts listed
        under a sub-definition of their category keep that grouping.
        """
        from groundcode.exports.tables import Table1Row, Table2Group

        if refs_from not in ("build", "all"):
            raise BadOption("refs_from", refs_from, "build|all")
        tree = self.codebook_room.tree()
        refs = self._concept_refs(coder, refs_from)
        t1 = [
            Table1Row(
                number=cat.number or "",
                category=cat.name,
                definition=cat.definition,
                concepts=[(k.name, refs.get(k.name, [])) for k in cat.concepts],
                groups=[k.group for k in cat.concepts],
            )
            for cat in tree.categories()
        ]
        t2 = [
            Table2Group(
                relation_class=rc.name,
                mains=[
                    (m.number or "", m.name, [c.name for c in m.categories])
                    for m in rc.main_categories
                ],
            )
            for rc in tree.relation_classes
        ]
        return t1, t2

    def _concept_refs(self, coder: str | None, refs_from: str) -> dict[str, list[str]]:
        """Per concept, the distinct documents it was coded in, by type and number.

        The distinct (concept, document) pairs come from the codings' covering
        index and the documents from one read of their numbers, joined here:
        building the whole codings frame (snippets, categories, times) took
        seconds at the reference size, and so did letting SQLite look up each
        coding's document row. Blind mode applies as in ``codings()``.
        """
        from groundcode.store.raw import fetch_rows, id_list

        requested = self._ref_coders(coder)
        with self.ctx.db.read() as s:
            visible = readable_coder_ids(s, self.ctx.actor, requested)
            where = "" if visible is None else f" WHERE coder_id IN {id_list(visible)}"
            build = " WHERE split = 'build'" if refs_from == "build" else ""
            doc_of = {
                int(i): (int(t), int(n), str(num))
                for i, t, n, num in fetch_rows(
                    s, "SELECT id, source_type_id, seq, number FROM document" + build
                )
            }
            names = dict(fetch_rows(s, "SELECT id, name FROM concept"))
            found: dict[int, list[tuple[int, int, str]]] = {}
            for concept_id, document_id in fetch_rows(
                s, "SELECT DISTINCT concept_id, document_id FROM coding" + where
            ):
                doc = doc_of.get(document_id)
                if doc is not None:
                    found.setdefault(concept_id, []).append(doc)
        return {
            str(names[cid]): [number for _t, _n, number in sorted(docs_of)]
            for cid, docs_of in found.items()
        }

    def tables(
        self,
        *,
        fmt: str = "xlsx",
        lang: str = "zh",
        out_dir: Path = Path("exports"),
        refs: int = 1,
        refs_from: str = "build",
        coder: str | None = None,
        force: bool = False,
    ) -> list[Path]:
        from groundcode.exports.tables import write_tables

        if fmt not in TABLE_FORMATS:
            raise BadOption(option="format", value=fmt, allowed=", ".join(TABLE_FORMATS))
        if lang not in ("zh", "en"):
            raise BadOption(option="lang", value=lang, allowed="zh, en")
        if refs < 0:
            raise OutOfRange(option="refs", value=str(refs), rule="nonnegative")
        t1, t2 = self.table_rows(coder=coder, refs_from=refs_from)
        if not t1:
            raise Refused("no_categories_yet")
        return list(
            write_tables(t1, t2, fmt=fmt, lang=lang, out_dir=Path(out_dir), force=force, refs=refs)
        )

    # -- data exports ----------------------------------------------------
    def segments(
        self,
        path: Path,
        *,
        coders: Sequence[str] | None = None,
        include_personal: bool = False,
        force: bool = False,
    ) -> Path:
        from groundcode.exports.frames import write_frame

        frame = self.codings.codings(coders=coders, include_personal=include_personal)
        memos = self.memo_room.memos(kind="coding")
        memo = {str(t): txt for t, txt in zip(memos["target"], memos["text"], strict=True)}
        frame = frame.assign(memo=[memo.get(str(i), "") for i in frame["id"]])
        frame = frame.drop(columns=["id"])
        frame["created_at"] = frame["created_at"].astype(str)
        return write_frame(frame, Path(path), force=force, sheet_name="segments")

    def matrix(
        self,
        path: Path,
        *,
        level: str = "concept",
        coder: str | None = None,
        include_personal: bool = False,
        force: bool = False,
    ) -> Path:
        """One row per passage, one 0/1 column per code, with document attributes."""
        import pandas as pd

        from groundcode.exports.frames import write_frame

        corpus, coding = self.corpus, self.codings
        col = CODE_LEVELS[code_level(level)]
        who = [coder] if coder else self._ref_coders(None)
        frame = coding.codings(coders=who, include_personal=include_personal).dropna(
            subset=["passage", col]
        )
        docs = corpus.documents(status="included")
        if not include_personal:
            docs = docs[~docs["personal"]]
        passages = corpus.passages()
        passages = passages[passages["document"].isin(docs["number"])]
        base = passages.merge(
            docs[["number", "type", "title", "date", "views", "split"]].rename(
                columns={"number": "document", "split": "doc_split"}
            ),
            on="document",
        )
        base = base[
            ["document", "passage", "type", "doc_split", "date", "views", "title", "text"]
        ].rename(columns={"doc_split": "split"})
        if not frame.empty:
            frame = frame.assign(passage=frame["passage"].astype(int))
            hits = (
                pd.crosstab([frame["document"], frame["passage"]], frame[col])
                .clip(upper=1)
                .reset_index()
            )
            base = base.merge(hits, on=["document", "passage"], how="left")
            codes = [c for c in hits.columns if c not in ("document", "passage")]
            base[codes] = base[codes].fillna(0).astype(int)
        return write_frame(base, Path(path), force=force, sheet_name="matrix")

    def memos(self, path: Path, *, include_personal: bool = False, force: bool = False) -> Path:
        """Memos the acting user may read; those on a personal document or on a coding
        of one stay out unless ``include_personal``."""
        from groundcode.exports.frames import write_frame

        frame = self.memo_room.memos()
        if not include_personal:
            numbers, codings = self._personal()
            if numbers:
                on_doc = (frame["kind"] == "document") & frame["target"].isin(numbers)
                on_coding = (frame["kind"] == "coding") & frame["target"].astype(str).isin(codings)
                frame = frame[~(on_doc | on_coding)].reset_index(drop=True)
        frame["created_at"] = frame["created_at"].astype(str)
        frame["updated_at"] = frame["updated_at"].astype(str)
        return write_frame(frame, Path(path), force=force, sheet_name="memos")

    def retrieval(
        self,
        path: Path,
        code: str,
        *,
        level: str = "concept",
        context: int = 30,
        include_personal: bool = False,
        force: bool = False,
    ) -> Path:
        """Every segment of one code with its context, as the retrieval list shows it;
        personal documents' segments stay out unless ``include_personal``."""
        from groundcode.exports.frames import write_frame

        frame = self.queries.retrieve(code, level=level, context=context)
        if not include_personal and len(frame):
            numbers, _codings = self._personal()
            frame = frame[~frame["document"].isin(numbers)]
        columns = [c for c in RETRIEVAL_COLUMNS if c in frame.columns]
        return write_frame(
            frame[columns].reset_index(drop=True), Path(path), force=force, sheet_name="segments"
        )

    def agreement(
        self,
        path: Path,
        *,
        coders: Sequence[str] | None = None,
        level: str = "concept",
        force: bool = False,
        bootstrap: int = 1000,
        seed: int = 0,
        include_personal: bool = False,
    ) -> Path:
        """The agreement report as a workbook: summary (the methods sentence in zh
        and en first, every statistic, CIs, SEs, notes), per-code table,
        diagnostics and the disagreements.

        The statistics count every judged unit; the disagreements sheet, which
        quotes passages, leaves out personal documents unless ``include_personal``
        (the summary says how many were left out)."""
        import pandas as pd

        from groundcode.exports.frames import write_frames

        analysis = self.analysis
        result = analysis.agreement(coders=coders, level=level, seed=seed, bootstrap=bootstrap)
        data = result.to_json()
        # The methods sentence first: it is what a paper quotes (SPEC §4).
        rows: list[dict[str, object]] = [
            {"statistic": "methods (zh)", "value": data["methods"]["zh"]},
            {"statistic": "methods (en)", "value": data["methods"]["en"]},
            {"statistic": "coders", "value": ", ".join(data["coders"])},
        ]
        for k in (
            "level",
            "unit",
            "judged",
            "n_units",
            "n_documents",
            "percent_agreement",
            "decision_agreement",
            "kappa",
            "kappa_kind",
            "kappa_pooled",
            "ac1",
            "scott_pi",
            "kappa_bp",
            "kappa_bp_label",
            "alpha",
            "fleiss_kappa",
            "conger_kappa",
            "ci_method",
        ):
            rows.append({"statistic": k, "value": data.get(k)})
        for stat, (lo, hi) in (data.get("ci") or {}).items():
            rows.append({"statistic": f"95% CI {stat}", "value": f"{lo:.4f} – {hi:.4f}"})
        for stat, se in (data.get("se") or {}).items():
            if se is not None:
                rows.append({"statistic": f"SE {stat}", "value": se})
        rows += [{"statistic": "note", "value": n} for n in data.get("notes", [])]
        summary = pd.DataFrame(rows)
        diagnostics = pd.DataFrame(
            data.get("diagnostics") or [],
            columns=["kind", "code", "message_zh", "message_en"],
        )
        per_code = pd.DataFrame(data["per_code"])
        items = analysis.disagreements(coders=coders, level=level, result=result)
        if not include_personal:
            numbers, _codings = self._personal()
            kept = [d for d in items if d.document not in numbers]
            if len(kept) != len(items):
                left = len({d.document for d in items if d.document in numbers})
                summary = pd.concat(
                    [
                        summary,
                        pd.DataFrame(
                            [
                                {
                                    "statistic": "personal documents left out of the disagreements",
                                    "value": left,
                                }
                            ]
                        ),
                    ],
                    ignore_index=True,
                )
            items = kept
        dis = pd.DataFrame(
            [
                {
                    "document": d.document,
                    "passage": d.passage,
                    "text": d.text,
                    **{c: ", ".join(v) for c, v in d.codes.items()},
                    "decided": d.decided or "",
                }
                for d in items
            ]
        )
        return write_frames(
            {
                "summary": summary,
                "per_code": per_code,
                "diagnostics": diagnostics,
                "disagreements": dis,
            },
            Path(path),
            force=force,
        )

    def codings_csv(
        self,
        path: str | Path,
        *,
        coders: Sequence[str] | None = None,
        force: bool = False,
        include_personal: bool = True,
    ) -> int:
        """Write codings in the span form with coder, passage and text (SPEC §3)."""
        from groundcode.exports.safety import atomic_output, neutralise

        frame = self.codings.codings(coders=coders, include_personal=include_personal)
        memo_frame = self.memo_room.memos(kind="coding")
        memo_by_coding: dict[str, str] = {}
        for _, m in memo_frame.iterrows():
            memo_by_coding.setdefault(str(m["target"]), m["text"])
        with (
            atomic_output(Path(path), force=force) as tmp,
            tmp.open("w", encoding="utf-8-sig", newline="") as fh,
        ):
            w = csv.writer(fh)
            w.writerow(["document", "start", "end", "code", "coder", "passage", "text", "memo"])
            for r in frame.itertuples(index=False):
                w.writerow(
                    [
                        r.document,
                        r.start,
                        r.end,
                        neutralise(r.concept),
                        neutralise(r.coder),
                        ""
                        if r.passage is None or str(r.passage) == "<NA>"
                        else int(str(r.passage)),
                        neutralise(r.text),
                        neutralise(memo_by_coding.get(str(r.id), "")),
                    ]
                )
        return len(frame)

    # -- saturation ------------------------------------------------------
    def saturation_plot(self, report: SaturationReport, path: Path, *, force: bool = False) -> Path:
        from groundcode.exports.plots import saturation_curve

        return saturation_curve(report, Path(path), force=force)

    def saturation(
        self, out_dir: Path, *, coder: str | None = None, force: bool = False
    ) -> list[Path]:
        import pandas as pd

        from groundcode.exports.docs import write_report_docx, write_report_md
        from groundcode.exports.frames import write_frame

        # 200 seeded random orders give the plot its band of the saturation point.
        report = self.analysis.saturation(coder=coder, permutations=200)
        out_dir = Path(out_dir)
        curve = pd.DataFrame([p.__dict__ for p in report.curve])
        verdict = {
            True: "saturated / 已饱和",
            False: "not saturated / 未饱和",
            None: "no verdict / 无结论",
        }[report.saturated]
        new = pd.DataFrame(
            [
                {
                    "concept": n.concept,
                    "document": n.document,
                    "category": n.category or "",
                    "history": " -> ".join(h.category or "-" for h in n.history),
                }
                for n in report.new_concept_items
            ],
            columns=["concept", "document", "category", "history"],
        )
        g = report.guest
        band = g.permutations
        start = (
            report.holdout_start.isoformat(timespec="seconds")
            if report.holdout_start
            else "not recorded"
        )
        sections: list[tuple[str, Any]] = [
            (
                "Verdict",
                f"{verdict} (basis: {report.basis})\n"
                + "\n".join(f"- {r}" for r in report.reasons),
            ),
            (
                "Holdout",
                f"Holdout start: {start}. {report.holdout_done} of {report.holdout_documents} "
                f"holdout documents judged (done) in the basis, {report.holdout_coded} coded.",
            ),
            ("New concepts in the holdout", new if not new.empty else "None."),
            (
                "Guest, Namey & Chen (2020) stopping rule",
                f"base {g.base}, run {g.run}, threshold {g.threshold:.0%}: "
                + (
                    f"saturation point {g.saturation_point} documents, confirmed at "
                    f"document {g.confirmed_at}"
                    if g.confirmed_at
                    else "not reached"
                )
                + (f" ({g.note})" if g.note else "")
                + (
                    f"; later runs above the threshold end at documents "
                    f"{', '.join(map(str, g.later_exceedances))}"
                    if g.later_exceedances
                    else ""
                )
                + (
                    f"; over {band.k} random orders the saturation point has median "
                    f"{band.median:g} (5-95%: {band.p5:g} to {band.p95:g})"
                    if band is not None and band.median is not None
                    else ""
                ),
            ),
        ]
        paths = [
            write_report_md(
                out_dir / "saturation.md",
                title="Theoretical saturation / 理论饱和度检验",
                sections=sections,
                force=force,
            ),
            write_report_docx(
                out_dir / "saturation.docx",
                title="Theoretical saturation / 理论饱和度检验",
                sections=sections,
                force=force,
            ),
            write_frame(curve, out_dir / "saturation-curve.csv", force=force),
            write_frame(curve, out_dir / "saturation-curve.xlsx", force=force, sheet_name="curve"),
        ]
        if not curve.empty:
            paths.append(
                self.saturation_plot(report, out_dir / "saturation-curve.png", force=force)
            )
            paths.append(
                self.saturation_plot(report, out_dir / "saturation-curve.svg", force=force)
            )
        return paths

    # -- codebook and model ----------------------------------------------
    def codebook(self, path: Path, *, force: bool = False) -> Path:
        path = Path(path)
        codebook = self.codebook_room
        suffix = path.suffix.lower()
        if suffix in (".yaml", ".yml"):
            return Path(codebook.export_yaml(path, force=force))
        if suffix == ".xlsx":
            from groundcode.exports.frames import write_frame

            return write_frame(codebook.concepts_frame(), path, force=force, sheet_name="codebook")
        if suffix == ".qdc":
            return self.interchange.export_qdc(path, force=force)
        raise BadOption(option="output", value=str(path), allowed=".yaml, .xlsx, .qdc")

    def model_report(self, out_dir: Path, *, force: bool = False) -> list[Path]:
        from groundcode.exports.docs import write_report_docx, write_report_md
        from groundcode.exports.safety import atomic_output

        codebook, analysis = self.codebook_room, self.analysis
        model = codebook.model()
        out_dir = Path(out_dir)
        mermaid = analysis.render_model("mermaid")
        svg = analysis.render_model("svg")
        text = analysis.render_model("text")
        edges = "\n".join(
            f"- {e.from_name} → {e.to_name}" + (f" ({e.label})" if e.label else "")
            for e in model.edges
        )
        sections: list[tuple[str, Any]] = [
            (
                "Core category / 核心范畴",
                f"{model.core or '(not named yet)'}"
                + (f"\n\n{model.core_definition}" if model.core_definition else ""),
            ),
            ("Storyline / 故事线", model.storyline or "(not written yet)"),
            ("Model / 模型", text),
            ("Edges / 关系", edges or "(none)"),
        ]
        paths = []
        for name, content in (("model.mmd", mermaid), ("model.svg", svg)):
            with atomic_output(out_dir / name, force=force) as tmp:
                tmp.write_text(content, encoding="utf-8")
            paths.append(out_dir / name)
        md_sections = [*sections, ("Diagram (Mermaid)", "```mermaid\n" + mermaid + "```")]
        paths.append(
            write_report_md(
                out_dir / "model.md",
                title="Selective coding / 选择性编码",
                sections=md_sections,
                force=force,
            )
        )
        paths.append(
            write_report_docx(
                out_dir / "model.docx",
                title="Selective coding / 选择性编码",
                sections=sections,
                force=force,
            )
        )
        return paths

    # -- REFI-QDA (the interchange room writes it) ------------------------
    def qdpx(
        self, path: Path, *, include_personal: bool = False, force: bool = False
    ) -> tuple[Path, list[str]]:
        return self.interchange.export_qdpx(path, include_personal=include_personal, force=force)

    # -- everything ------------------------------------------------------
    def all(
        self, out_dir: Path = Path("exports"), *, lang: str = "zh", include_personal: bool = False
    ) -> tuple[Path, list[Path]]:
        """Every export into a new dated folder under ``out_dir``, all or nothing.

        The files are written into a hidden temporary folder beside the dated one
        (``.<date>.<pid>.<random>.partial``) and the folder is renamed when the
        last file is complete, so a failure part-way (a refused file, a full disk)
        leaves no dated folder and removes the temporary one; a kill -9 leaves at
        most the hidden ``.partial`` folder, never a dated folder that looks
        complete, and the next ``export all`` there removes it. Errors name the
        dated folder, never the temporary one.
        """
        out_dir = Path(out_dir)
        folder = out_dir / datetime.now().strftime("%Y-%m-%d-%H%M%S")
        if folder.exists():
            raise AlreadyExists(str(folder))
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            _remove_abandoned(out_dir)
            work = Path(
                tempfile.mkdtemp(
                    prefix=f".{folder.name}.{os.getpid()}.", suffix=".partial", dir=out_dir
                )
            )
        except OSError as exc:
            raise InvalidInput(
                str(out_dir), 0, "cannot_create_folder", str(exc.strerror or exc)
            ) from None
        try:
            paths = self._all_into(work, lang=lang, include_personal=include_personal)
            if folder.exists():  # another export took the same second
                raise AlreadyExists(str(folder))
            os.rename(work, folder)
        except BaseException as exc:
            shutil.rmtree(work, ignore_errors=True)
            if isinstance(exc, GroundcodeError):
                _rename_in_fields(exc, str(work), str(folder))
            raise
        return folder, [folder / p.relative_to(work) for p in paths]

    def _all_into(self, folder: Path, *, lang: str, include_personal: bool) -> list[Path]:
        paths: list[Path] = []
        for fmt in TABLE_FORMATS:
            paths += self.tables(fmt=fmt, lang=lang, out_dir=folder / "tables")
        paths.append(self.codebook(folder / "codebook.yaml"))
        paths.append(self.codebook(folder / "codebook.xlsx"))
        paths.append(self.codebook(folder / "codebook.qdc"))
        paths.append(self.segments(folder / "segments.xlsx", include_personal=include_personal))
        paths.append(self.matrix(folder / "matrix.csv", include_personal=include_personal))
        paths.append(self.memos(folder / "memos.xlsx", include_personal=include_personal))
        # Fewer than two coders, or not a lead in blind mode: no agreement to report.
        with contextlib.suppress(GroundcodeError):
            paths.append(
                self.agreement(folder / "agreement.xlsx", include_personal=include_personal)
            )
        paths += self.saturation(folder / "saturation")
        paths += self.model_report(folder / "model")
        paths.append(self.qdpx(folder / "project.qdpx", include_personal=include_personal)[0])
        return paths


def _remove_abandoned(out_dir: Path) -> None:
    """Remove the temporary folders of ``export all`` runs that were killed.

    Each is named ``.<date>.<pid>.<random>.partial``; one whose process no longer
    runs was abandoned (another export still running keeps its own).
    """
    for folder in out_dir.glob(".*.*.*.partial"):
        try:
            pid = int(folder.name.split(".")[2])
        except (IndexError, ValueError):
            continue
        if pid == os.getpid() or not folder.is_dir():
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except OSError:  # alive, owned by someone else
            continue


def _rename_in_fields(exc: GroundcodeError, old: str, new: str) -> None:
    """Point an error's path fields at the folder the user asked for, not the temporary one."""
    for name, value in exc.fields().items():
        if isinstance(value, str) and old in value:
            setattr(exc, name, value.replace(old, new))


__all__ = ["ExportService"]
