"""The codebook room, files: the codebook as a spec, YAML import and export.

The format itself (parse, dump, resolve) is ``codebook_yaml``; this part
merges a spec into the project by name in one transaction and writes one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from groundcode.coding.codebook_yaml import (
    CategorySpec,
    CodebookSpec,
    ConceptSpec,
    MainCategorySpec,
    RelationClassSpec,
    dump_codebook,
    parse_codebook,
)
from groundcode.coding.views import (
    ImportSummary,
)
from groundcode.domain.errors import (
    AlreadyExists,
    BlindHidden,
    Forbidden,
    InvalidInput,
    LevelClash,
    NotFound,
    Refused,
)
from groundcode.domain.levels import LEVELS
from groundcode.store.edges import edge_of, new_row
from groundcode.store.settings import get_setting
from groundcode.store.tables import (
    Category,
    MainCategory,
    Setting,
)

if TYPE_CHECKING:
    pass

from groundcode.coding.codebook_base import TABLES, _Book, _Counter
from groundcode.coding.codebook_model import CodebookModel


class CodebookFiles(CodebookModel):
    def to_spec(self) -> CodebookSpec:
        """The project's codebook as plain values (what ``export_yaml`` writes)."""
        with self.ctx.db.read() as session:
            book = _Book.load(session)
            self._hide_for_export(session, book)
            return self._spec(session, book)

    def _hide_for_export(self, session: Session, book: _Book) -> None:
        """The blind-mode filter of a codebook file: what the reader's own codings use.

        A file carries no counts, so when nobody may read codings (blind mode,
        nobody acting) no coded concept of another coder is kept either.
        """
        try:
            counts = self._counts(session, self._visible(session, None))
        except (BlindHidden, Forbidden):
            counts = {}
        self._hide_others(session, book, counts)

    @staticmethod
    def _codebook_name(session: Session) -> str | None:
        row = session.get(Setting, "codebook_name")
        if row is not None:
            return row.value or None
        return get_setting(session, "name") or None

    def _spec(self, session: Session, book: _Book) -> CodebookSpec:
        def concepts(cid: int | None) -> tuple[ConceptSpec, ...]:
            return tuple(
                ConceptSpec(k.name, k.definition, k.definition_group)
                for k in book.concepts.get(cid, [])
            )

        def category(c: Category) -> CategorySpec:
            return CategorySpec(c.name, c.number, c.definition, concepts(c.id))

        def main(m: MainCategory) -> MainCategorySpec:
            cats = tuple(category(c) for c in book.cats.get(m.id, []))
            return MainCategorySpec(m.name, m.number, m.definition, cats)

        rcs = tuple(
            RelationClassSpec(
                rc.name, rc.definition, tuple(main(m) for m in book.mains.get(rc.id, []))
            )
            for rc in book.rcs
        )
        edges = tuple(edge_of(e) for e in self._edge_rows(session))
        header_raw = get_setting(session, "codebook_header")
        header = tuple(json.loads(header_raw)) if header_raw else ()
        return CodebookSpec(
            name=self._codebook_name(session),
            core_category=get_setting(session, "core_category") or None,
            core_definition=get_setting(session, "core_definition") or None,
            storyline=get_setting(session, "storyline") or None,
            relation_classes=rcs,
            uncategorised=concepts(None),
            unassigned_main_categories=tuple(main(m) for m in book.mains.get(None, [])),
            unassigned_categories=tuple(category(c) for c in book.cats.get(None, [])),
            edges=edges,
            header=header,
        )

    def import_yaml(self, path: Path) -> ImportSummary:
        """Merge a codebook file into the project; all or nothing."""
        path = Path(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise InvalidInput(str(path), 0, "unreadable", exc.strerror or "") from None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise InvalidInput(str(path), line, "not_utf8") from None
        spec = parse_codebook(text, str(path))
        return self.import_spec(spec, source=str(path))

    def import_spec(self, spec: CodebookSpec, *, source: str = "<codebook>") -> ImportSummary:
        """Merge an already parsed codebook (YAML, or another importer's) into the project."""
        return self.ctx.db.run(lambda session: self._import(session, spec, source))

    def export_yaml(self, path: Path, *, force: bool = False) -> Path:
        """Write the codebook as YAML; never overwrites without ``force``."""
        path = Path(path)
        if path.exists() and not force:
            raise AlreadyExists(str(path))
        if not path.parent.is_dir():
            raise NotFound(kind="folder", name=str(path.parent))
        with self.ctx.db.read() as session:
            book = _Book.load(session)
            problems = self._problems(session, book)
            if problems:
                raise Refused("edge_to_missing_node", name=str(path), detail=problems[0])
            self._hide_for_export(session, book)
            spec = self._spec(session, book)
        text = dump_codebook(spec)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
        return path

    def _import(self, session: Session, spec: CodebookSpec, source: str) -> ImportSummary:
        self._require_structure(session, "importing a codebook")
        book = _Book.load(session)
        in_file: dict[str, list[str]] = {
            "relation_class": [rc.name for rc in spec.relation_classes],
            "main_category": [m.name for m in spec.main_categories()],
            "category": [c.name for c in spec.categories()],
            "concept": [k.name for k in spec.concepts()],
        }
        self._check_levels(book, in_file, source)
        counters = {level: _Counter() for level in TABLES}

        rows: dict[str, dict[str, Any]] = {level: dict(book.by_name[level]) for level in TABLES}

        def upsert(level: str, name: str, values: dict[str, Any]) -> Any:
            row = rows[level].get(name)
            if row is None:
                table = TABLES[level]
                extra: dict[str, Any] = {"created_by": self.actor} if level == "concept" else {}
                row = table(name=name, **{k: v for k, v in values.items()}, **extra)
                session.add(row)
                session.flush()
                rows[level][name] = row
                counters[level].created += 1
                self._audit(
                    session, f"{level}.create", level, row.id, after=self._snap(session, level, row)
                )
                return row
            before = self._snap(session, level, row)
            changed = False
            for key, value in values.items():
                if value is not None and getattr(row, key) != value:
                    setattr(row, key, value)
                    changed = True
            if changed:
                session.add(row)
                session.flush()
                counters[level].updated += 1
                self._audit(
                    session,
                    f"{level}.update",
                    level,
                    row.id,
                    before=before,
                    after=self._snap(session, level, row),
                )
            else:
                counters[level].unchanged += 1
            return row

        def put_main(m: MainCategorySpec, rc_id: int | None) -> None:
            main = upsert(
                "main_category",
                m.name,
                {"number": m.number, "definition": m.definition, "relation_class_id": rc_id},
            )
            for c in m.categories:
                put_category(c, main.id)

        def put_category(c: CategorySpec, main_id: int | None) -> None:
            cat = upsert(
                "category",
                c.name,
                {"number": c.number, "definition": c.definition, "main_category_id": main_id},
            )
            for k in c.concepts:
                upsert(
                    "concept",
                    k.name,
                    {
                        "definition": k.definition,
                        "category_id": cat.id,
                        "definition_group": k.group,
                    },
                )

        for rc_spec in spec.relation_classes:
            rc = upsert("relation_class", rc_spec.name, {"definition": rc_spec.definition})
            for m in rc_spec.main_categories:
                put_main(m, rc.id)
        for m in spec.unassigned_main_categories:
            put_main(m, None)
        for c in spec.unassigned_categories:
            put_category(c, None)
        for k in spec.uncategorised:
            upsert("concept", k.name, {"definition": k.definition})

        changed_settings = self._import_settings(session, spec)
        edge_counts = self._import_edges(session, spec)
        session.flush()
        self._reposition_after_import(session, in_file)
        summary = ImportSummary(
            source=source,
            relation_classes=counters["relation_class"].frozen(),
            main_categories=counters["main_category"].frozen(),
            categories=counters["category"].frozen(),
            concepts=counters["concept"].frozen(),
            edges=edge_counts.frozen(),
            settings_changed=tuple(changed_settings),
        )
        self._audit(
            session,
            "codebook.import",
            "codebook",
            None,
            after={
                "source": source,
                **{level: vars(counters[level].frozen()) for level in reversed(LEVELS)},
                "edges": vars(edge_counts.frozen()),
                "settings": changed_settings,
            },
        )
        return summary

    @staticmethod
    def _check_levels(book: _Book, in_file: dict[str, list[str]], source: str) -> None:
        """A name new on one level that the project has only on another level is a conflict."""
        file_sets = {level: set(names) for level, names in in_file.items()}
        for level, names in in_file.items():
            for name in names:
                if name in book.by_name[level]:
                    continue
                for other in TABLES:
                    if other == level or name not in book.by_name[other]:
                        continue
                    if name in file_sets[other]:
                        continue
                    raise LevelClash(file=source, name=name, level=level, other=other)

    def _import_settings(self, session: Session, spec: CodebookSpec) -> list[str]:
        changed: list[str] = []
        # A nameless file leaves the name alone (the export then shows the project's name).
        if spec.name is not None and get_setting(session, "codebook_name") != spec.name:
            changed.append("codebook_name")
            self._set(session, "codebook_name", spec.name)
        if spec.header:
            header = json.dumps(list(spec.header), ensure_ascii=False)
            if get_setting(session, "codebook_header") != header:
                changed.append("codebook_header")
                self._set(session, "codebook_header", header)
        if spec.core_category is not None:
            old = get_setting(session, "core_category")
            if old != spec.core_category:
                changed.append("core_category")
                self._set(session, "core_category", spec.core_category)
                if old:
                    self._repoint_edges(session, "core", old, "core", spec.core_category)
        if (
            spec.core_definition is not None
            and get_setting(session, "core_definition") != spec.core_definition
        ):
            changed.append("core_definition")
            self._set(session, "core_definition", spec.core_definition)
        if spec.storyline is not None and get_setting(session, "storyline") != spec.storyline:
            changed.append("storyline")
            self._set(session, "storyline", spec.storyline)
        return changed

    def _import_edges(self, session: Session, spec: CodebookSpec) -> _Counter:
        counter = _Counter()
        existing = {edge_of(e).ends: e for e in self._edge_rows(session)}
        position = self._next_edge_position(session)
        for edge in spec.edges:
            row = existing.get(edge.ends)
            if row is None:
                row = new_row(edge, position=position)
                position += 1
                session.add(row)
                session.flush()
                existing[edge.ends] = row
                counter.created += 1
                self._audit(session, "edge.create", "model_edge", row.id, after=edge.to_json())
            elif edge.label is not None and row.label != edge.label:
                before = edge_of(row).to_json()
                row.label = edge.label
                session.add(row)
                counter.updated += 1
                self._audit(
                    session, "edge.update", "model_edge", row.id, before, edge_of(row).to_json()
                )
            else:
                counter.unchanged += 1
        return counter

    def _reposition_after_import(self, session: Session, in_file: dict[str, list[str]]) -> None:
        """File order first, then the project's other items in their old order."""
        book = _Book.load(session)
        for level, names in in_file.items():
            listed = set(names)
            # tree order already follows the new parents; within a parent, file order wins
            order = {name: i for i, name in enumerate(names)}
            rows = book.ordered(level)
            rank = {id(row): i for i, row in enumerate(rows)}
            rows.sort(key=lambda r: (0, order[r.name]) if r.name in listed else (1, rank[id(r)]))
            for i, row in enumerate(rows, start=1):
                if row.position != i:
                    row.position = i
                    session.add(row)
        session.flush()
        # Positions are global per level; re-read in tree order so a parent's children
        # and the level as a whole agree.
        self._normalise_positions(session)
