"""The export service: paper tables, data exports, reports, REFI-QDA, backups.

Every file is written through ``atomic_output`` (temp file + rename, refused
without ``force`` when the target exists), every xlsx/csv cell is neutralised
against formula injection, blind mode decides whose codings are exported, and
documents marked as personal data stay out unless ``include_personal``.
"""

from __future__ import annotations

import contextlib
import csv
import json
import shutil
import sqlite3
import zipfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlmodel import Session

from groundcode.errors import UsageError
from groundcode.store.access import find_coder, readable_coder_ids
from groundcode.store.context import Context
from groundcode.store.seed import CONSENSUS
from groundcode.store.settings import get_setting
from groundcode.store.tables import Coder, Coding, Document, metadata

if TYPE_CHECKING:
    from groundcode.analysis.saturation import SaturationReport

ORIGIN = "groundcode 0.1.0"
TABLE_FORMATS = ("xlsx", "csv", "md", "tex", "docx")


class ExportService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    # -- helpers ---------------------------------------------------------
    def _services(self) -> tuple[Any, Any, Any, Any]:
        from groundcode.analysis.service import AnalysisService
        from groundcode.coding.codebook import CodebookService
        from groundcode.coding.service import CodingService
        from groundcode.corpus.service import CorpusService

        return (
            CorpusService(self.ctx),
            CodingService(self.ctx),
            CodebookService(self.ctx),
            AnalysisService(self.ctx),
        )

    def _ref_coders(self, coder: str | None) -> list[str] | None:
        """Whose codings give Table 1's document refs: consensus, else a named coder, else everyone visible."""
        with self.ctx.db.read() as s:
            if coder:
                readable_coder_ids(s, self.ctx.actor, [coder])
                return [coder]
            cons = find_coder(s, CONSENSUS)
            has = s.execute(select(Coding.id).where(Coding.coder_id == cons.id).limit(1)).first()
            visible = readable_coder_ids(s, self.ctx.actor)
            if has and (visible is None or cons.id in visible):
                return [CONSENSUS]
            return None

    # -- paper tables ----------------------------------------------------
    def table_rows(self, *, coder: str | None = None) -> tuple[list[Any], list[Any]]:
        """Table 1 rows and Table 2 groups from the codebook and the codings."""
        from groundcode.exports.tables import Table1Row, Table2Group

        _corpus, coding, codebook, _analysis = self._services()
        tree = codebook.tree()
        frame = coding.codings(coders=self._ref_coders(coder))
        refs: dict[str, list[str]] = {}
        if not frame.empty:
            order = frame.assign(
                t=frame["document"].str.split("-").str[0].astype(int),
                n=frame["document"].str.split("-").str[1].astype(int),
            ).sort_values(["t", "n", "start"])
            for concept, g in order.groupby("concept", sort=False):
                refs[str(concept)] = list(dict.fromkeys(g["document"]))
        t1 = [
            Table1Row(
                number=cat.number or "",
                category=cat.name,
                definition=cat.definition,
                concepts=[(k.name, refs.get(k.name, [])) for k in cat.concepts],
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

    def tables(
        self,
        *,
        fmt: str = "xlsx",
        lang: str = "zh",
        out_dir: Path = Path("exports"),
        refs: int = 1,
        coder: str | None = None,
        force: bool = False,
    ) -> list[Path]:
        from groundcode.exports.tables import write_tables

        if fmt not in TABLE_FORMATS:
            raise UsageError(f"--format must be one of {', '.join(TABLE_FORMATS)}, not '{fmt}'")
        if lang not in ("zh", "en"):
            raise UsageError(f"--lang must be zh or en, not '{lang}'")
        if refs < 0:
            raise UsageError("--refs must be zero or more")
        t1, t2 = self.table_rows(coder=coder)
        if not t1:
            raise UsageError(
                "the codebook has no initial categories yet (groundcode codebook import FILE)"
            )
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

        _corpus, coding, _cb, _an = self._services()
        frame = coding.codings(coders=coders, include_personal=include_personal)
        memos = coding.memos(kind="coding")
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

        corpus, coding, _cb, _an = self._services()
        col = {
            "concept": "concept",
            "category": "category",
            "main": "main_category",
            "main_category": "main_category",
        }.get(level)
        if col is None:
            raise UsageError(f"--level must be concept, category or main, not '{level}'")
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

    def memos(self, path: Path, *, force: bool = False) -> Path:
        from groundcode.exports.frames import write_frame

        frame = self._services()[1].memos()
        frame["created_at"] = frame["created_at"].astype(str)
        frame["updated_at"] = frame["updated_at"].astype(str)
        return write_frame(frame, Path(path), force=force, sheet_name="memos")

    def agreement(
        self,
        path: Path,
        *,
        coders: Sequence[str] | None = None,
        level: str = "concept",
        force: bool = False,
    ) -> Path:
        import pandas as pd

        from groundcode.exports.frames import write_frames

        analysis = self._services()[3]
        result = analysis.agreement(coders=coders, level=level)
        data = result.to_json()
        summary = pd.DataFrame(
            [
                {"statistic": k, "value": data.get(k)}
                for k in (
                    "n_units",
                    "percent_agreement",
                    "kappa",
                    "kappa_pooled",
                    "alpha",
                    "fleiss_kappa",
                )
            ]
            + [
                {"statistic": "coders", "value": ", ".join(data["coders"])},
                {"statistic": "level", "value": data["level"]},
                {"statistic": "unit", "value": data["unit"]},
            ]
            + [{"statistic": "note", "value": n} for n in data.get("notes", [])]
        )
        per_code = pd.DataFrame(data["per_code"])
        items = analysis.disagreements(coders=coders, level=level, result=result)
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
            {"summary": summary, "per_code": per_code, "disagreements": dis},
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
        from groundcode.coding.service import CodingService
        from groundcode.exports.safety import atomic_output, neutralise

        coding = CodingService(self.ctx)
        frame = coding.codings(coders=coders, include_personal=include_personal)
        memo_frame = coding.memos(kind="coding")
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
                        "" if r.passage is None or str(r.passage) == "<NA>" else int(r.passage),
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

        report = self._services()[3].saturation(coder=coder)
        out_dir = Path(out_dir)
        curve = pd.DataFrame([p.__dict__ for p in report.curve])
        verdict = {
            True: "saturated / 已饱和",
            False: "not saturated / 未饱和",
            None: "no verdict / 无结论",
        }[report.saturated]
        new = pd.DataFrame(
            [{"concept": c, "category": cat or ""} for c, cat in report.new_concepts],
            columns=["concept", "category"],
        )
        g = report.guest
        sections: list[tuple[str, Any]] = [
            (
                "Verdict",
                f"{verdict} (basis: {report.basis})\n"
                + "\n".join(f"- {r}" for r in report.reasons),
            ),
            (
                "Holdout",
                f"{report.holdout_coded} of {report.holdout_documents} holdout documents coded.",
            ),
            ("New concepts in the holdout", new if not new.empty else "None."),
            (
                "Guest, Namey & Chen (2020) stopping rule",
                f"base {g.base}, run {g.run}, threshold {g.threshold:.0%}: "
                + (f"reached after {g.reached_at} documents" if g.reached_at else "not reached")
                + (f" ({g.note})" if g.note else ""),
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
        _corpus, _coding, codebook, _an = self._services()
        suffix = path.suffix.lower()
        if suffix in (".yaml", ".yml"):
            return Path(codebook.export_yaml(path, force=force))
        if suffix == ".xlsx":
            from groundcode.exports.frames import write_frame

            return write_frame(codebook.concepts_frame(), path, force=force, sheet_name="codebook")
        if suffix == ".qdc":
            from groundcode.exports.refi import write_qdc
            from groundcode.exports.safety import atomic_output

            codes = self._qda_codes(codebook.tree())
            with atomic_output(path, force=force) as tmp:
                write_qdc(codes, tmp, origin=ORIGIN)
            return path
        raise UsageError(f"{path}: codebooks export as .yaml, .xlsx or .qdc")

    def model_report(self, out_dir: Path, *, force: bool = False) -> list[Path]:
        from groundcode.exports.docs import write_report_docx, write_report_md
        from groundcode.exports.safety import atomic_output

        _corpus, _coding, codebook, analysis = self._services()
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

    # -- REFI-QDA --------------------------------------------------------
    def _qda_codes(self, tree: Any) -> list[Any]:
        """The category system as a REFI-QDA code tree; only concepts are codable."""
        from groundcode.exports.refi_model import QdaCode

        def concept(k: Any) -> Any:
            return QdaCode(
                key=f"concept:{k.id}", name=k.name, codable=True, description=k.definition
            )

        def folder(kind: str, node: Any, children: list[Any]) -> Any:
            return QdaCode(
                key=f"{kind}:{node.id}",
                name=node.name,
                codable=False,
                description=node.definition,
                children=children,
            )

        def category(c: Any) -> Any:
            return folder("category", c, [concept(k) for k in c.concepts])

        def main(m: Any) -> Any:
            return folder("main", m, [category(c) for c in m.categories])

        return (
            [
                folder("relation", rc, [main(m) for m in rc.main_categories])
                for rc in tree.relation_classes
            ]
            + [main(m) for m in tree.unassigned_main_categories]
            + [category(c) for c in tree.unassigned_categories]
            + [concept(k) for k in tree.uncategorised]
        )

    def qdpx(
        self, path: Path, *, include_personal: bool = False, force: bool = False
    ) -> tuple[Path, list[str]]:
        from groundcode.exports.refi import write_qdpx
        from groundcode.exports.refi_model import QdaCoding, QdaNote, QdaProject, QdaSource, QdaUser
        from groundcode.exports.safety import atomic_output

        corpus, coding, codebook, _an = self._services()
        tree = codebook.tree()
        frame = coding.codings(include_personal=include_personal)
        docs = corpus.documents(status="included")
        if not include_personal:
            docs = docs[~docs["personal"]]
        with self.ctx.db.read() as s:
            name = get_setting(s, "name")
            visible = readable_coder_ids(s, self.ctx.actor)
            people = [
                c
                for c in s.execute(select(Coder).order_by(Coder.id)).scalars()
                if visible is None or c.id in visible
            ]
            texts = dict(
                s.execute(
                    select(Document.number, Document.text).where(
                        Document.number.in_(docs["number"].tolist())
                    )
                ).all()
            )  # type: ignore[attr-defined]
        concept_keys = {k.name: f"concept:{k.id}" for k in tree.concepts()}
        users = [QdaUser(key=f"coder:{c.id}", name=c.name) for c in people]
        user_key = {c.name: f"coder:{c.id}" for c in people}
        sources = [
            QdaSource(
                key=f"document:{r.id}",
                name=f"{r.number} {r.title or ''}".strip(),
                text=texts[r.number],
                description=f"{r.type_zh}; split: {r.split or '-'}",
            )
            for r in docs.itertuples(index=False)
        ]
        source_key = {r.number: f"document:{r.id}" for r in docs.itertuples(index=False)}
        memos = coding.memos()
        coding_memo = {
            str(t): txt
            for k, t, txt in zip(memos["kind"], memos["target"], memos["text"], strict=True)
            if k == "coding"
        }
        codings = [
            QdaCoding(
                key=f"coding:{r.id}",
                source_key=source_key[r.document],
                start=int(r.start),
                end=int(r.end),
                code_key=concept_keys[r.concept],
                user_key=user_key[r.coder],
                created=r.created_at.to_pydatetime()
                if hasattr(r.created_at, "to_pydatetime")
                else r.created_at,
                memo=coding_memo.get(str(r.id)),
            )
            for r in frame.itertuples(index=False)
            if r.document in source_key and r.coder in user_key
        ]
        notes = []
        for m in memos.itertuples(index=False):
            if m.kind == "coding" or m.author not in user_key:
                continue
            target: tuple[str, str] | None = None
            if m.kind == "document" and m.target in source_key:
                target = ("source", source_key[m.target])
            elif m.kind == "concept" and m.target in concept_keys:
                target = ("code", concept_keys[m.target])
            elif m.kind == "project":
                target = ("project", "")
            if target is None:
                continue
            notes.append(
                QdaNote(
                    key=f"memo:{m.id}",
                    name=(m.text.splitlines() or ["memo"])[0][:40],
                    text=m.text,
                    user_key=user_key[m.author],
                    created=m.created_at,
                    target=target,
                )
            )
        project = QdaProject(
            name=name,
            origin=ORIGIN,
            users=users,
            codes=self._qda_codes(tree),
            sources=sources,
            codings=codings,
            notes=notes,
        )
        path = Path(path)
        with atomic_output(path, force=force) as tmp:
            warnings = write_qdpx(project, tmp)
        return path, warnings

    # -- everything ------------------------------------------------------
    def all(
        self, out_dir: Path = Path("exports"), *, lang: str = "zh", include_personal: bool = False
    ) -> tuple[Path, list[Path]]:
        folder = Path(out_dir) / datetime.now().strftime("%Y-%m-%d-%H%M%S")
        if folder.exists():
            raise UsageError(f"{folder} exists already")
        paths: list[Path] = []
        for fmt in TABLE_FORMATS:
            paths += self.tables(fmt=fmt, lang=lang, out_dir=folder / "tables")
        paths.append(self.codebook(folder / "codebook.yaml"))
        paths.append(self.codebook(folder / "codebook.xlsx"))
        paths.append(self.codebook(folder / "codebook.qdc"))
        paths.append(self.segments(folder / "segments.xlsx", include_personal=include_personal))
        paths.append(self.matrix(folder / "matrix.csv", include_personal=include_personal))
        paths.append(self.memos(folder / "memos.xlsx"))
        # Fewer than two coders, or not a lead in blind mode: no agreement to report.
        with contextlib.suppress(UsageError):
            paths.append(self.agreement(folder / "agreement.xlsx"))
        paths += self.saturation(folder / "saturation")
        paths += self.model_report(folder / "model")
        paths.append(self.qdpx(folder / "project.qdpx", include_personal=include_personal)[0])
        return folder, paths

    # -- backup and restore ----------------------------------------------
    def backup(self, path: Path, *, force: bool = False) -> str:
        """SQLite: the online backup API (consistent while others write). PostgreSQL: a table dump."""
        from groundcode.exports.safety import atomic_output

        path = Path(path)
        db = self.ctx.db
        if db.is_sqlite:
            with atomic_output(path, force=force) as tmp:
                src = sqlite3.connect(str(db.url.database))
                try:
                    dst = sqlite3.connect(str(tmp))
                    with dst:
                        src.backup(dst)
                    dst.close()
                finally:
                    src.close()
            return f"backup written to {path} (SQLite; open it with --db {path})"
        with atomic_output(path, force=force) as tmp, db.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin(), zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
                for table in metadata.sorted_tables:
                    rows = conn.execute(table.select()).mappings().all()
                    body = "\n".join(
                        json.dumps(dict(r), ensure_ascii=False, default=_json_default) for r in rows
                    )
                    zf.writestr(f"{table.name}.jsonl", body)
                zf.writestr(
                    "manifest.json",
                    json.dumps(
                        {
                            "format": "groundcode-backup",
                            "version": 1,
                            "tables": [t.name for t in metadata.sorted_tables],
                        }
                    ),
                )
        return (
            f"backup written to {path} (restore with: groundcode --db URL restore {path}; "
            f"or use pg_dump --format=custom for a server-level copy)"
        )

    def restore(self, path: Path) -> str:
        """Load a PostgreSQL/any-backend table dump into an empty project."""
        path = Path(path)
        if not zipfile.is_zipfile(path):
            if path.is_file() and path.read_bytes()[:16].startswith(b"SQLite format 3"):
                raise UsageError(
                    f"{path}: an SQLite backup; copy it into place or open it with --db {path}"
                )
            raise UsageError(f"{path}: not a groundcode backup")
        from sqlalchemy import DateTime, func, insert

        with zipfile.ZipFile(path) as zf:
            manifest = json.loads(zf.read("manifest.json"))
            if manifest.get("format") != "groundcode-backup":
                raise UsageError(f"{path}: not a groundcode backup")

            def _do(s: Session) -> int:
                n_docs = s.execute(select(func.count()).select_from(Document)).scalar()
                if n_docs:
                    raise UsageError("restore needs an empty project (this one has documents)")
                total = 0
                for table in reversed(metadata.sorted_tables):
                    s.execute(table.delete())
                for table in metadata.sorted_tables:
                    if f"{table.name}.jsonl" not in zf.namelist():
                        continue
                    lines = zf.read(f"{table.name}.jsonl").decode("utf-8").splitlines()
                    rows = [json.loads(ln) for ln in lines if ln.strip()]
                    dt_cols = [c.name for c in table.columns if isinstance(c.type, DateTime)]
                    for r in rows:
                        for c in dt_cols:
                            if r.get(c):
                                r[c] = datetime.fromisoformat(r[c])
                    for lo in range(0, len(rows), 2000):
                        s.execute(insert(table), rows[lo : lo + 2000])
                    total += len(rows)
                if not self.ctx.db.is_sqlite:
                    for table in metadata.sorted_tables:
                        if "id" in table.columns and table.columns["id"].autoincrement is not False:
                            s.execute(
                                select(
                                    func.setval(
                                        func.pg_get_serial_sequence(table.name, "id"),
                                        func.coalesce(
                                            select(func.max(table.columns["id"])).scalar_subquery(),
                                            0,
                                        )
                                        + 1,
                                        False,
                                    )
                                )
                            )
                return total

            total = self.ctx.db.run(_do)
        return f"restored {total} rows from {path}"

    # -- codebook imports from other formats ------------------------------
    def import_qdc(self, path: Path) -> Any:
        from groundcode.exports.refi_read import read_qdc

        codes = read_qdc(Path(path))
        return self._import_code_tree(codes, source=str(path))

    def _import_code_tree(self, codes: list[Any], *, source: str) -> Any:
        """Map a code tree onto the four levels: leaves are concepts, then category, main, relation class."""
        from groundcode.coding.codebook_yaml import (
            CategorySpec,
            CodebookSpec,
            ConceptSpec,
            MainCategorySpec,
            RelationClassSpec,
        )

        codebook = self._services()[2]

        def leaves(c: Any) -> list[Any]:
            return [c] if not c.children else [x for ch in c.children for x in leaves(ch)]

        def concept_specs(c: Any) -> tuple[Any, ...]:
            return tuple(ConceptSpec(name=x.name, definition=x.description) for x in leaves(c))

        def depth(c: Any) -> int:
            return 1 + max((depth(ch) for ch in c.children), default=0)

        rcs: list[Any] = []
        loose_cats: list[Any] = []
        loose: list[Any] = []
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
                    RelationClassSpec(
                        name=top.name, definition=top.description, main_categories=mains
                    )
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
        spec = CodebookSpec(
            name=None,
            core_category=None,
            core_definition=None,
            storyline=None,
            relation_classes=tuple(rcs),
            uncategorised=tuple(loose),
            edges=(),
        )
        return codebook.import_spec(spec, source=source)

    def import_codebook_xlsx(self, path: Path) -> Any:
        """Read the xlsx written by ``export codebook`` (one row per concept with its path)."""
        import pandas as pd

        from groundcode.exports.refi_model import QdaCode

        try:
            frame = pd.read_excel(path, dtype=str).fillna("")
        except Exception as exc:  # noqa: BLE001 - any unreadable workbook is one clear error
            raise UsageError(f"{path}: cannot read the workbook ({type(exc).__name__})") from None
        needed = {"concept", "category", "main_category", "relation_class"}
        if not needed <= set(frame.columns):
            raise UsageError(f"{path}: needs columns {', '.join(sorted(needed))}")
        tree: dict[str, dict[str, dict[str, list[Any]]]] = {}
        loose: list[Any] = []
        for r in frame.itertuples(index=False):
            leaf = QdaCode(
                key=r.concept, name=r.concept, description=getattr(r, "definition", "") or None
            )
            if not r.category:
                loose.append(leaf)
                continue
            tree.setdefault(r.relation_class or "(imported)", {}).setdefault(
                r.main_category or "(imported categories)", {}
            ).setdefault(r.category, []).append(leaf)
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
        return self._import_code_tree(codes, source=str(path))

    def import_qdpx(self, path: Path, *, type: str | int = 1) -> tuple[str, list[str]]:
        """Bring a REFI-QDA project (plain-text sources) into this project.

        Users become coders (the first one a lead when the project has none),
        the code tree maps onto the four levels (leaves are concepts), sources
        become documents of ``type`` and selections become codings.
        """
        import csv
        import io
        import tempfile

        from groundcode.coding.service import CodingService
        from groundcode.corpus.service import CorpusService
        from groundcode.exports.refi_read import read_qdpx

        qda, warnings = read_qdpx(Path(path))
        coding = CodingService(self.ctx)
        existing = {c.name for c in coding.coders(include_consensus=True)}
        users = {u.key: u.name for u in qda.users}
        for u in qda.users:
            if u.name in existing:
                continue
            lead = next((c.name for c in coding.coders() if c.role == "lead"), None)
            CodingService(self.ctx.as_user(lead)).add_coder(
                u.name, role="coder" if lead else "lead"
            )
            existing.add(u.name)
        lead = next((c.name for c in coding.coders() if c.role == "lead"), None)
        acting = self.ctx.as_user(lead)
        ExportService(acting)._import_code_tree(qda.codes, source=str(path))
        codes = {c.key: c.name for c in _walk(qda.codes)}
        numbers: dict[str, str] = {}
        corpus = CorpusService(acting)
        tmp_dir = Path(tempfile.mkdtemp(prefix="groundcode-qdpx-"))
        try:
            for i, src in enumerate(qda.sources):
                f = tmp_dir / f"{i:05d}.txt"
                f.write_text(src.text, encoding="utf-8")
                report = corpus.import_files([f], type=type, segment="paragraph")
                if report.files[0].first:
                    numbers[src.key] = report.files[0].first
            buf = io.StringIO()
            w = csv.writer(buf)
            w.writerow(["document", "start", "end", "code", "coder"])
            n = 0
            for c in qda.codings:
                if c.source_key in numbers and c.code_key in codes and c.user_key in users:
                    w.writerow(
                        [
                            numbers[c.source_key],
                            c.start,
                            c.end,
                            codes[c.code_key],
                            users[c.user_key],
                        ]
                    )
                    n += 1
            if n:
                tmp = tmp_dir / "codings.csv"
                tmp.write_text(buf.getvalue(), encoding="utf-8")
                CodingService(acting).import_csv(tmp)
        finally:
            shutil.rmtree(tmp_dir, ignore_errors=True)
        return (
            f"imported {len(numbers)} documents, {len(codes)} codes and {n} codings from {path}",
            warnings,
        )


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _walk(codes: list[Any]) -> list[Any]:
    out = []
    for c in codes:
        out.append(c)
        out.extend(_walk(c.children))
    return out


__all__ = ["ExportService"]
