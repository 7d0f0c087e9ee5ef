"""The interchange room: REFI-QDA projects and codebooks, codebook xlsx, in and out.

Export builds plain :mod:`groundcode.interchange.model` objects from the
project and hands them to the REFI writer; import reads a file into the same
objects and maps them onto the project. (The codings CSV import stays with
the coding service.)
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import select

from groundcode.coding.codebook import CodebookService
from groundcode.coding.service import CodingService
from groundcode.corpus.service import CorpusService
from groundcode.errors import UsageError
from groundcode.interchange.refi_write import check_target
from groundcode.store.access import readable_coder_ids
from groundcode.store.context import Context
from groundcode.store.settings import get_setting
from groundcode.store.tables import Coder, Document

ORIGIN = "groundcode 0.1.0"


class InterchangeService:
    """REFI-QDA and codebook files for one project, acting as one user."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def export_qdc(self, path: Path, *, force: bool = False) -> Path:
        """The category system as a REFI-QDA codebook (``.qdc``)."""
        from groundcode.interchange.refi_write import write_qdc

        path = Path(path)
        check_target(path, force=force)
        write_qdc(self._qda_codes(CodebookService(self.ctx).tree()), path, origin=ORIGIN)
        return path

    def _qda_codes(self, tree: Any) -> list[Any]:
        """The category system as a REFI-QDA code tree; only concepts are codable."""
        from groundcode.interchange.model import QdaCode

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

    def export_qdpx(
        self, path: Path, *, include_personal: bool = False, force: bool = False
    ) -> tuple[Path, list[str]]:
        from groundcode.interchange.model import QdaCoding, QdaNote, QdaProject, QdaSource, QdaUser
        from groundcode.interchange.refi_write import write_qdpx

        corpus, coding, codebook = (
            CorpusService(self.ctx),
            CodingService(self.ctx),
            CodebookService(self.ctx),
        )
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
                name=f"{r.number!s} {r.title or ''!s}".strip(),
                text=texts[r.number],
                description=f"{r.type_zh!s}; split: {r.split or '-'!s}",
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
        check_target(path, force=force)
        warnings = write_qdpx(project, path)
        return path, warnings

    # -- codebook imports from other formats ------------------------------
    def import_qdc(self, path: Path) -> Any:
        from groundcode.interchange.refi_read import read_qdc

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

        codebook = CodebookService(self.ctx)

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

        from groundcode.interchange.model import QdaCode

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
        from groundcode.interchange.refi_read import read_qdpx

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
        InterchangeService(acting)._import_code_tree(qda.codes, source=str(path))
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


def _walk(codes: list[Any]) -> list[Any]:
    out = []
    for c in codes:
        out.append(c)
        out.extend(_walk(c.children))
    return out


__all__ = ["InterchangeService"]
