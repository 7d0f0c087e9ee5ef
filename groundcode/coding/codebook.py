"""The codebook service: the category system from open to selective coding.

Levels are ``concept`` (初始概念), ``category`` (初步范畴), ``main_category``
(主范畴) and ``relation_class`` (关系类别); selective coding adds the core
category, the storyline and the model's edges.

Rules this service enforces (below every UI, so the CLI and TUI agree):

* **Who may change what.** Creating an uncategorised concept is open coding and
  open to anyone. Everything that shapes the category system (placing,
  renaming, defining, merging, splitting, moving, renumbering, reordering and
  deleting items at any level; the core category, storyline and model; a YAML
  import) needs a lead, or anyone while the project has no lead yet, so a
  small team can start before it appoints one.
* **One call, one transaction, one audit row per change**, with before/after
  values, so the audit log keeps old names after renames and merges.
* **Codings are never lost.** Merging moves the sources' codings to the
  survivor, dropping only exact duplicates (same coder, document and span,
  counted in the result and kept in the audit row). Deleting anything that is
  coded is refused; with ``force`` a category, main category or relation class
  is removed and its children become unplaced, and a concept's codings move to
  the holding concept ``未分类`` (created uncategorised when missing).
* **Importing merges by name** and never deletes: items missing from the file
  stay; a value the file leaves out (definition, number) keeps the project's
  value; an item the file places under another parent moves there (audited);
  the file's ``uncategorised``/``unassigned_*`` sections never take an item out
  of its current parent. A name the file puts on one level that the project
  has only on another level is a conflict error, because a merge by name could
  not tell a promotion from a typo.
* **The model names nodes by kind and name.** Renames rewrite the edges that
  name the old node, merges point them at the survivor; deleting a node leaves
  its edges dangling and ``model().problems`` names them (export refuses until
  they are fixed, so every exported file imports again).
* **Reads honour blind mode**: coding counts cover only the coders the acting
  user may see (``store.access.visibility``).

Positions are kept per level in tree order (relation class, then main
category, then category), so sorting a parent's children by position gives
their order and ``renumber`` numbers a level 1..n as it reads top to bottom.
"""

from __future__ import annotations

import functools
import json
import os
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, func, select

from groundcode.coding import memos
from groundcode.coding import service as codings
from groundcode.coding.codebook_yaml import (
    CategorySpec,
    CodebookSpec,
    ConceptSpec,
    MainCategorySpec,
    RelationClassSpec,
    Unresolved,
    clean_text,
    dump_codebook,
    parse_codebook,
    resolve_node,
)
from groundcode.coding.codes import clean_name
from groundcode.coding.views import (
    CategoryView,
    CodebookTree,
    ConceptView,
    DeleteResult,
    EdgeView,
    ImportSummary,
    LevelCounts,
    MainCategoryView,
    MergeResult,
    ModelView,
    RelationClassView,
)
from groundcode.domain.errors import (
    AlreadyExists,
    BlindHidden,
    Conflict,
    Forbidden,
    GroundcodeError,
    InvalidInput,
    LevelClash,
    MergeStopped,
    Missing,
    NotFound,
    OutOfRange,
    Refused,
    StillCoded,
)
from groundcode.domain.levels import CHILD, HIERARCHY, LEVELS, NODE_KINDS, parse_level, spec
from groundcode.domain.model import Edge, NodeRef
from groundcode.domain.vocab import Level, NodeKind
from groundcode.errors import PermissionDenied
from groundcode.store.access import authorize, hidden_creators, visibility
from groundcode.store.audit import record
from groundcode.store.context import Context
from groundcode.store.levels import LEVEL_TABLES
from groundcode.store.settings import get_setting, set_setting
from groundcode.store.tables import (
    Category,
    Coding,
    Concept,
    MainCategory,
    ModelEdge,
    RelationClass,
    Setting,
)

if TYPE_CHECKING:
    import pandas as pd

HOLDING_CONCEPT = "未分类"

Row = Concept | Category | MainCategory | RelationClass

# The hierarchy's table (``domain.levels``) bound to the store's classes.
TABLES: dict[str, type[Any]] = LEVEL_TABLES
# level -> (parent level, the column holding the parent's id)
PARENTS: dict[str, tuple[str, str]] = {
    s.level: (s.parent, s.parent_column)
    for s in HIERARCHY
    if s.parent is not None and s.parent_column is not None
}
CHILDREN: dict[str, str] = {str(k): str(v) for k, v in CHILD.items()}
WORDS: dict[str, str] = {**{s.level: s.en for s in HIERARCHY}, NodeKind.CORE: "core category"}
WORDS[Level.CATEGORY] = "category"


def normalise_level(level: str) -> str:
    """Accept the level names users type (``main``, ``主范畴``) and return the canonical one."""
    return parse_level(level)


def _order_key(row: Row) -> tuple[int, int]:
    return (row.position, row.id or 0)


@dataclass
class _Book:
    """Every codebook row of a project, grouped in tree order (codebooks are small)."""

    rcs: list[RelationClass]
    mains: dict[int | None, list[MainCategory]]
    cats: dict[int | None, list[Category]]
    concepts: dict[int | None, list[Concept]]
    by_name: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session) -> _Book:
        rcs = sorted(session.exec(select(RelationClass)).all(), key=_order_key)
        mains: dict[int | None, list[MainCategory]] = defaultdict(list)
        for m in sorted(session.exec(select(MainCategory)).all(), key=_order_key):
            mains[m.relation_class_id].append(m)
        cats: dict[int | None, list[Category]] = defaultdict(list)
        for c in sorted(session.exec(select(Category)).all(), key=_order_key):
            cats[c.main_category_id].append(c)
        concepts: dict[int | None, list[Concept]] = defaultdict(list)
        for k in sorted(session.exec(select(Concept)).all(), key=_order_key):
            concepts[k.category_id].append(k)
        book = cls(rcs, mains, cats, concepts)
        for level in TABLES:
            book.by_name[level] = {row.name: row for row in book.ordered(level)}
        return book

    def ordered(self, level: str) -> list[Any]:
        """All rows of ``level`` in tree order, unplaced ones last."""
        if level == "relation_class":
            return list(self.rcs)
        if level == "main_category":
            return [m for rc in self.rcs for m in self.mains.get(rc.id, [])] + self.mains.get(
                None, []
            )
        if level == "category":
            return [c for m in self.ordered("main_category") for c in self.cats.get(m.id, [])] + (
                self.cats.get(None, [])
            )
        return [
            k for c in self.ordered("category") for k in self.concepts.get(c.id, [])
        ] + self.concepts.get(None, [])

    def node_names(self, core: str | None) -> dict[str, set[str]]:
        names: dict[str, set[str]] = {NodeKind.CORE: {core} if core else set()}
        names.update({kind: set(self.by_name[kind]) for kind in NODE_KINDS[1:]})
        return names


@dataclass
class _Counter:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def frozen(self) -> LevelCounts:
        return LevelCounts(self.created, self.updated, self.unchanged)


class CodebookService:
    """Open, axial and selective coding on one project, for one acting user."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    @property
    def actor(self) -> str | None:
        return self.ctx.actor

    # =====================================================================
    # access and lookups (inside a caller's session)
    # =====================================================================
    def _require_structure(self, session: Session, what: str) -> None:
        """Structure changes need a lead once the project has one (``store.access``)."""
        del what  # the refusal names the action, not the sentence
        authorize(session, self.actor, "codebook.structure")

    def _visible(self, session: Session, coder_ids: list[int] | None) -> list[int] | None:
        view = visibility(session, self.actor)
        if coder_ids is None:
            return view.ids()
        return view.check_ids(coder_ids)

    @staticmethod
    def _find(session: Session, level: str, name: str) -> Any | None:
        table = TABLES[level]
        return session.exec(select(table).where(table.name == name)).first()

    def _get(self, session: Session, level: str, name: str) -> Any:
        row = self._find(session, level, " ".join(name.split()))
        if row is None:
            raise NotFound(kind=level, name=name)
        return row

    @staticmethod
    def _next_position(session: Session, level: str) -> int:
        table = TABLES[level]
        return int(session.exec(select(func.coalesce(func.max(table.position), 0))).one()) + 1

    @staticmethod
    def _parent_name(session: Session, level: str, row: Any) -> str | None:
        if level not in PARENTS:
            return None
        parent_level, column = PARENTS[level]
        parent_id = getattr(row, column)
        if parent_id is None:
            return None
        parent = session.get(TABLES[parent_level], parent_id)
        return None if parent is None else parent.name

    def _snap(self, session: Session, level: str, row: Any) -> dict[str, Any]:
        """What the audit log keeps of an item."""
        out: dict[str, Any] = {"name": row.name, "definition": row.definition}
        if spec(level).numbered:
            out["number"] = row.number
        if level in PARENTS:
            out[PARENTS[level][0]] = self._parent_name(session, level, row)
        return out

    def _audit(
        self,
        session: Session,
        action: str,
        entity: str,
        entity_id: int | None,
        before: Any = None,
        after: Any = None,
    ) -> None:
        record(
            session,
            actor=self.actor,
            action=action,
            entity=entity,
            entity_id=entity_id,
            before=before,
            after=after,
        )

    @staticmethod
    def _coded(session: Session, level: str, row: Any) -> int:
        """Codings (by anyone) of the concepts at or below ``row``."""
        q = select(func.count()).select_from(Coding)
        if level == "concept":
            q = q.where(Coding.concept_id == row.id)
        else:
            q = q.join(Concept, col(Concept.id) == Coding.concept_id)
            if level == "category":
                q = q.where(Concept.category_id == row.id)
            else:
                q = q.join(Category, col(Category.id) == Concept.category_id)
                if level == "main_category":
                    q = q.where(Category.main_category_id == row.id)
                else:
                    q = q.join(MainCategory, col(MainCategory.id) == Category.main_category_id)
                    q = q.where(MainCategory.relation_class_id == row.id)
        return int(session.exec(q).one())

    @staticmethod
    def _counts(session: Session, coder_ids: list[int] | None) -> dict[int, int]:
        q = select(Coding.concept_id, func.count()).group_by(col(Coding.concept_id))
        if coder_ids is not None:
            if not coder_ids:
                return {}
            q = q.where(col(Coding.coder_id).in_(coder_ids))
        return {int(cid): int(n) for cid, n in session.exec(q).all()}

    def _resolve_parent(self, session: Session, level: str, parent: str | None) -> int | None:
        if parent is None:
            return None
        if level not in PARENTS:
            raise Refused("no_parent_level", name=level)
        parent_row = self._get(session, PARENTS[level][0], parent)
        return int(parent_row.id)

    # =====================================================================
    # reading
    # =====================================================================
    def tree(self, *, coder_ids: list[int] | None = None) -> CodebookTree:
        """The whole category system with coding counts over ``coder_ids`` (None = all visible)."""
        with self.ctx.db.read() as session:
            visible = self._visible(session, coder_ids)
            book = _Book.load(session)
            counts = self._counts(session, visible)
            self._hide_others(session, book, counts)
            return self._tree(book, counts)

    def _hide_others(self, session: Session, book: _Book, counts: dict[int, int]) -> None:
        """Blind mode: drop from ``book`` the concepts only another coder created.

        Another coder's own concepts stay theirs unless a coding the reader may
        see (``counts``) uses them. The tree, the YAML and the xlsx codebook all
        pass through here, so every view of the codebook follows one rule.
        (Model edges never point at concepts, so none needs to go with them.)
        """
        hidden = hidden_creators(session, self.actor)
        if not hidden:
            return
        for key, concepts in book.concepts.items():
            book.concepts[key] = [
                k for k in concepts if k.created_by not in hidden or counts.get(k.id or 0)
            ]
        book.by_name["concept"] = {k.name: k for k in book.ordered("concept")}

    @staticmethod
    def _tree(book: _Book, counts: dict[int, int]) -> CodebookTree:
        def concept_view(k: Concept, category: str | None) -> ConceptView:
            assert k.id is not None
            return ConceptView(
                k.id,
                k.name,
                k.definition,
                category,
                counts.get(k.id, 0),
                k.created_by,
                k.definition_group,
            )

        def category_view(c: Category, main: str | None) -> CategoryView:
            kids = tuple(concept_view(k, c.name) for k in book.concepts.get(c.id, []))
            assert c.id is not None
            return CategoryView(
                c.id, c.name, c.number, c.definition, main, kids, sum(k.n_codings for k in kids)
            )

        def main_view(m: MainCategory, rc: str | None) -> MainCategoryView:
            kids = tuple(category_view(c, m.name) for c in book.cats.get(m.id, []))
            assert m.id is not None
            return MainCategoryView(
                m.id, m.name, m.number, m.definition, rc, kids, sum(c.n_codings for c in kids)
            )

        rcs: list[RelationClassView] = []
        for rc in book.rcs:
            kids = tuple(main_view(m, rc.name) for m in book.mains.get(rc.id, []))
            assert rc.id is not None
            rcs.append(
                RelationClassView(
                    rc.id, rc.name, rc.definition, kids, sum(m.n_codings for m in kids)
                )
            )
        lone_mains = tuple(main_view(m, None) for m in book.mains.get(None, []))
        lone_cats = tuple(category_view(c, None) for c in book.cats.get(None, []))
        loose = tuple(concept_view(k, None) for k in book.concepts.get(None, []))
        return CodebookTree(
            relation_classes=tuple(rcs),
            unassigned_main_categories=lone_mains,
            unassigned_categories=lone_cats,
            uncategorised=loose,
            n_codings=sum(counts.values()),
        )

    def concepts_frame(self, *, coder_ids: list[int] | None = None) -> pd.DataFrame:
        """One row per concept in tree order, uncategorised last."""
        import pandas as pd

        tree = self.tree(coder_ids=coder_ids)
        rows: list[dict[str, Any]] = []

        def add(k: ConceptView, cat: CategoryView | None, main: MainCategoryView | None) -> None:
            rows.append(
                {
                    "concept": k.name,
                    "category": None if cat is None else cat.name,
                    "category_number": None if cat is None else cat.number,
                    "main_category": None if main is None else main.name,
                    "relation_class": None if main is None else main.relation_class,
                    "definition": k.definition,
                    "n_codings": k.n_codings,
                }
            )

        mains = {m.name: m for m in tree.main_categories()}
        for cat in tree.categories():
            main = mains.get(cat.main_category) if cat.main_category else None
            for k in cat.concepts:
                add(k, cat, main)
        for k in tree.uncategorised:
            add(k, None, None)
        columns = [
            "concept",
            "category",
            "category_number",
            "main_category",
            "relation_class",
            "definition",
            "n_codings",
        ]
        # Text columns stay object dtype so a missing value is None, not NaN (pandas 3
        # would otherwise infer its string dtype).
        frame = pd.DataFrame(
            {
                name: pd.Series(
                    [row[name] for row in rows],
                    dtype="int64" if name == "n_codings" else object,
                )
                for name in columns
            }
        )
        return frame

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
        except (PermissionDenied, BlindHidden, Forbidden):
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
        edges = tuple(_edge(e) for e in self._edge_rows(session))
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

    # =====================================================================
    # YAML
    # =====================================================================
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

    def _set(self, session: Session, key: str, value: str) -> None:
        """A setting change with its audit row."""
        before = get_setting(session, key)
        set_setting(session, key, value)
        self._audit(session, "setting.update", "setting", None, {key: before}, {key: value})

    def _import_edges(self, session: Session, spec: CodebookSpec) -> _Counter:
        counter = _Counter()
        existing = {
            (e.from_kind, e.from_name, e.to_kind, e.to_name): e for e in self._edge_rows(session)
        }
        position = self._next_edge_position(session)
        for edge in spec.edges:
            key = (edge.source.kind, edge.source.name, edge.target.kind, edge.target.name)
            row = existing.get(key)
            if row is None:
                row = ModelEdge(
                    from_kind=key[0],
                    from_name=key[1],
                    to_kind=key[2],
                    to_name=key[3],
                    label=edge.label,
                    position=position,
                )
                position += 1
                session.add(row)
                session.flush()
                existing[key] = row
                counter.created += 1
                self._audit(session, "edge.create", "model_edge", row.id, after=_edge_dict(row))
            elif edge.label is not None and row.label != edge.label:
                before = _edge_dict(row)
                row.label = edge.label
                session.add(row)
                counter.updated += 1
                self._audit(session, "edge.update", "model_edge", row.id, before, _edge_dict(row))
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

    @staticmethod
    def _normalise_positions(session: Session) -> None:
        book = _Book.load(session)
        for level in TABLES:
            for i, row in enumerate(book.ordered(level), start=1):
                if row.position != i:
                    row.position = i
                    session.add(row)
        session.flush()

    # =====================================================================
    # open and axial coding
    # =====================================================================
    def _create(
        self,
        session: Session,
        level: str,
        name: str,
        *,
        parent: str | None = None,
        number: str | None = None,
        definition: str | None = None,
    ) -> Any:
        name = clean_name(name, level)
        if self._find(session, level, name) is not None:
            raise Conflict(what=f"exists.{level}", name=name)
        parent_id = self._resolve_parent(session, level, parent)
        values: dict[str, Any] = {
            "name": name,
            "definition": clean_text(definition),
            "position": self._next_position(session, level),
        }
        if level in PARENTS:
            values[PARENTS[level][1]] = parent_id
        if spec(level).numbered:
            values["number"] = clean_text(number)
        if level == "concept":
            values["created_by"] = self.actor
        row = TABLES[level](**values)
        session.add(row)
        session.flush()
        self._audit(
            session, f"{level}.create", level, row.id, after=self._snap(session, level, row)
        )
        return row

    def create_concept(
        self, name: str, *, category: str | None = None, definition: str | None = None
    ) -> ConceptView:
        """Open coding: anyone may add a concept; placing it in a category is axial work."""

        def work(session: Session) -> ConceptView:
            if category is not None:
                self._require_structure(session, "placing a concept in a category")
            row = self._create(session, "concept", name, parent=category, definition=definition)
            return ConceptView(row.id, row.name, row.definition, category, 0, row.created_by)

        return self.ctx.db.run(work)

    def create_category(
        self,
        name: str,
        *,
        number: str | None = None,
        main: str | None = None,
        definition: str | None = None,
    ) -> CategoryView:
        def work(session: Session) -> CategoryView:
            self._require_structure(session, "creating a category")
            row = self._create(
                session, "category", name, parent=main, number=number, definition=definition
            )
            return CategoryView(row.id, row.name, row.number, row.definition, main, (), 0)

        return self.ctx.db.run(work)

    def create_main_category(
        self,
        name: str,
        *,
        number: str | None = None,
        relation_class: str | None = None,
        definition: str | None = None,
    ) -> MainCategoryView:
        def work(session: Session) -> MainCategoryView:
            self._require_structure(session, "creating a main category")
            row = self._create(
                session,
                "main_category",
                name,
                parent=relation_class,
                number=number,
                definition=definition,
            )
            return MainCategoryView(
                row.id, row.name, row.number, row.definition, relation_class, (), 0
            )

        return self.ctx.db.run(work)

    def create_relation_class(
        self, name: str, *, definition: str | None = None
    ) -> RelationClassView:
        def work(session: Session) -> RelationClassView:
            self._require_structure(session, "creating a relation class")
            row = self._create(session, "relation_class", name, definition=definition)
            return RelationClassView(row.id, row.name, row.definition, (), 0)

        return self.ctx.db.run(work)

    def create(
        self,
        level: str,
        name: str,
        *,
        parent: str | None = None,
        number: str | None = None,
        definition: str | None = None,
    ) -> ConceptView | CategoryView | MainCategoryView | RelationClassView:
        """Create an item at any level the user named (``main``, ``主范畴``, ...).

        The one dispatch the CLI and the TUI share; ``number`` applies to the
        numbered levels, ``parent`` to the levels that have one.
        """
        lvl = parse_level(level)
        if lvl == Level.CONCEPT:
            return self.create_concept(name, category=parent, definition=definition)
        if lvl == Level.CATEGORY:
            return self.create_category(name, number=number, main=parent, definition=definition)
        if lvl == Level.MAIN_CATEGORY:
            return self.create_main_category(
                name, number=number, relation_class=parent, definition=definition
            )
        return self.create_relation_class(name, definition=definition)

    def rename(self, level: str, old: str, new: str) -> None:
        """Rename an item; model edges that name it follow, the audit log keeps the old name."""
        level = normalise_level(level)

        def work(session: Session) -> None:
            self._require_structure(session, f"renaming a {WORDS[level]}")
            row = self._get(session, level, old)
            name = clean_name(new, level)
            if name == row.name:
                return
            if self._find(session, level, name) is not None:
                raise Conflict(what=f"exists.{level}", name=name)
            before = row.name
            row.name = name
            session.add(row)
            edges = self._repoint_edges(session, level, before, level, name)
            self._audit(
                session,
                f"{level}.rename",
                level,
                row.id,
                before={"name": before},
                after={"name": name, "edges": edges},
            )

        self.ctx.db.run(work)

    def define(self, level: str, name: str, definition: str | None) -> None:
        """Set (or, with None/empty text, clear) an item's definition."""
        level = normalise_level(level)

        def work(session: Session) -> None:
            self._require_structure(session, f"defining a {WORDS[level]}")
            row = self._get(session, level, name)
            text = clean_text(definition)
            if row.definition == text:
                return
            before = row.definition
            row.definition = text
            session.add(row)
            self._audit(
                session,
                f"{level}.define",
                level,
                row.id,
                before={"name": row.name, "definition": before},
                after={"name": row.name, "definition": text},
            )

        self.ctx.db.run(work)

    def move(self, level: str, name: str, to_parent: str | None) -> None:
        """Place an item under another parent (None = uncategorised / unassigned)."""
        level = normalise_level(level)
        if level not in PARENTS:
            raise Refused("no_parent_level", name=level)

        def work(session: Session) -> None:
            self._require_structure(session, f"moving a {WORDS[level]}")
            row = self._get(session, level, name)
            column = PARENTS[level][1]
            parent_id = self._resolve_parent(session, level, to_parent)
            if getattr(row, column) == parent_id:
                return
            before = self._snap(session, level, row)
            setattr(row, column, parent_id)
            row.position = self._next_position(session, level)
            session.add(row)
            session.flush()
            self._normalise_positions(session)
            self._audit(
                session, f"{level}.move", level, row.id, before, self._snap(session, level, row)
            )

        self.ctx.db.run(work)

    def renumber(self, level: str) -> dict[str, str]:
        """Number categories or main categories 1..n as the tree reads; returns name -> number."""
        level = normalise_level(level)
        if not spec(level).numbered:
            raise Refused("not_numbered", name=level)

        def work(session: Session) -> dict[str, str]:
            self._require_structure(session, f"renumbering {WORDS[level]}s")
            out: dict[str, str] = {}
            for i, row in enumerate(_Book.load(session).ordered(level), start=1):
                number = str(i)
                out[row.name] = number
                if row.number != number:
                    before = row.number
                    row.number = number
                    session.add(row)
                    self._audit(
                        session,
                        f"{level}.renumber",
                        level,
                        row.id,
                        {"name": row.name, "number": before},
                        {"name": row.name, "number": number},
                    )
            return out

        return self.ctx.db.run(work)

    def reorder(self, level: str, name: str, position: int) -> None:
        """Put an item at ``position`` (1-based) among its siblings."""
        level = normalise_level(level)

        def work(session: Session) -> None:
            self._require_structure(session, f"reordering {WORDS[level]}s")
            row = self._get(session, level, name)
            column = PARENTS[level][1] if level in PARENTS else None
            parent_id = getattr(row, column) if column else None
            ordered = _Book.load(session).ordered(level)
            siblings = [r for r in ordered if (getattr(r, column) if column else None) == parent_id]
            if not 1 <= position <= len(siblings):
                raise OutOfRange(option="position", value=str(position), rule=f"1..{len(siblings)}")
            old_index = next(i for i, r in enumerate(siblings) if r.id == row.id)
            if old_index == position - 1:
                return
            moved = [r for r in siblings if r.id != row.id]
            moved.insert(position - 1, row)
            queue = iter(moved)
            new_order = [
                next(queue) if (getattr(r, column) if column else None) == parent_id else r
                for r in ordered
            ]
            for i, r in enumerate(new_order, start=1):
                if r.position != i:
                    r.position = i
                    session.add(r)
            self._audit(
                session,
                f"{level}.reorder",
                level,
                row.id,
                {"name": row.name, "position": old_index + 1},
                {"name": row.name, "position": position},
            )

        self.ctx.db.run(work)

    # -- merging, splitting, deleting --------------------------------------
    def merge(
        self,
        level: str,
        sources: list[str],
        into: str,
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> MergeResult:
        """Fold ``sources`` into ``into``; a missing ``into`` is the first source renamed.

        Every name is checked first, in one transaction (which also renames the
        first source when ``into`` is new); then each source is folded in its own
        short transaction, so a merge of many coded concepts never holds the
        write lock for long: other writers go between the steps (readers never
        wait). ``progress(done, total)`` is called after each committed step.
        Each step leaves a whole codebook; a step refused part-way (another
        session removed a source meanwhile) raises ``MergeStopped`` naming the
        sources already folded in.
        """
        level = normalise_level(level)
        names = [" ".join(s.split()) for s in sources]
        target_name = clean_name(into, level)
        if not names:
            raise Missing("merge_source")
        if len(set(names)) != len(names):
            raise Refused("named_twice")
        if target_name in names:
            raise Refused("merge_into_itself", name=target_name)

        def first(session: Session) -> list[str]:
            self._require_structure(session, f"merging {WORDS[level]}s")
            rows = [self._get(session, level, n) for n in names]
            if self._find(session, level, target_name) is not None:
                return names
            target = rows[0]
            old = target.name
            target.name = target_name
            session.add(target)
            edges = self._repoint_edges(session, level, old, level, target_name)
            self._audit(
                session,
                f"{level}.rename",
                level,
                target.id,
                {"name": old},
                {"name": target_name, "edges": edges, "by": "merge"},
            )
            return names[1:]

        rest = self.ctx.db.run(first)
        moved = 0
        dropped_total = 0
        done: list[str] = []
        for name in rest:
            try:
                n, dropped = self.ctx.db.run(
                    functools.partial(self._fold, level=level, name=name, target_name=target_name)
                )
            except GroundcodeError as exc:
                if not done:
                    raise
                raise MergeStopped(into=target_name, merged=", ".join(done), cause=exc) from exc
            moved += n
            dropped_total += dropped
            done.append(name)
            if progress is not None:
                progress(len(done), len(rest))
        self.ctx.db.run(self._normalise_positions)
        return MergeResult(level, target_name, tuple(names), moved, dropped_total)

    def _fold(self, session: Session, level: str, name: str, target_name: str) -> tuple[int, int]:
        """One merge step: ``name`` folded into ``target_name``; (moved, duplicates dropped)."""
        self._require_structure(session, f"merging {WORDS[level]}s")
        row = self._get(session, level, name)
        target = self._get(session, level, target_name)
        before = self._snap(session, level, row)
        before["id"] = row.id
        before["n_codings"] = self._coded(session, level, row)
        after: dict[str, Any] = {"into": target.name, "into_id": target.id}
        n_dropped = 0
        if level == "concept":
            moved, dropped = codings.move_codings(session, row.id, target.id)
            n_dropped = len(dropped)
            after.update(moved_codings=moved, dropped_duplicates=dropped)
        else:
            child = CHILDREN[level]
            column = PARENTS[child][1]
            table = TABLES[child]
            kids = session.exec(select(table).where(getattr(table, column) == row.id)).all()
            for kid in sorted(kids, key=_order_key):
                setattr(kid, column, target.id)
                kid.position = self._next_position(session, child)
                session.add(kid)
                session.flush()
            moved = len(kids)
            after.update(moved=[k.name for k in kids])
            after["edges"] = self._repoint_edges(session, level, row.name, level, target.name)
        memos.retarget_memos(session, level, row.id, target.id)
        session.delete(row)
        session.flush()
        self._audit(session, f"{level}.merge", level, target.id, before, after)
        return moved, n_dropped

    def map_concepts(self, sources: list[str], into: str) -> MergeResult:
        """Map concepts that coders created independently onto one (a concept merge)."""
        return self.merge("concept", sources, into)

    def split_concept(self, name: str, new_name: str, coding_ids: list[int]) -> ConceptView:
        """Move the given codings to a new concept in the same category."""

        def work(session: Session) -> ConceptView:
            self._require_structure(session, "splitting a concept")
            source = self._get(session, "concept", name)
            if not coding_ids:
                raise Missing("split_codings", detail=source.name)
            wanted = codings.codings_coded_with(session, coding_ids, source.id, source.name)
            category = self._parent_name(session, "concept", source)
            row = self._create(session, "concept", new_name, parent=category, definition=None)
            codings.recode(session, wanted, row.id)
            self._normalise_positions(session)
            self._audit(
                session,
                "concept.split",
                "concept",
                row.id,
                {"name": source.name, "coding_ids": wanted},
                {"name": row.name, "coding_ids": wanted},
            )
            return ConceptView(row.id, row.name, None, category, len(wanted), row.created_by)

        return self.ctx.db.run(work)

    def delete(self, level: str, name: str, *, force: bool = False) -> DeleteResult:
        """Delete an item; refused while anything is coded with it, unless ``force``."""
        level = normalise_level(level)

        def work(session: Session) -> DeleteResult:
            self._require_structure(session, f"deleting a {WORDS[level]}")
            row = self._get(session, level, name)
            coded = self._coded(session, level, row)
            if coded and not force:
                raise StillCoded(level=level, name=row.name, n_codings=coded)
            before = self._snap(session, level, row)
            before["id"] = row.id
            before["n_codings"] = coded
            moved = 0
            dropped: list[dict[str, Any]] = []
            released: list[str] = []
            if level == "concept":
                if coded:
                    if row.name == HOLDING_CONCEPT:
                        raise Refused("holding_concept", name=HOLDING_CONCEPT)
                    holding = self._find(session, "concept", HOLDING_CONCEPT)
                    if holding is None:
                        holding = self._create(session, "concept", HOLDING_CONCEPT)
                    moved, dropped = codings.move_codings(session, row.id, holding.id)
            else:
                child = CHILDREN[level]
                column = PARENTS[child][1]
                table = TABLES[child]
                for kid in session.exec(select(table).where(getattr(table, column) == row.id)):
                    setattr(kid, column, None)
                    session.add(kid)
                    released.append(kid.name)
                session.flush()
            memos.retarget_memos(session, level, row.id, None)
            session.delete(row)
            session.flush()
            self._normalise_positions(session)
            self._audit(
                session,
                f"{level}.delete",
                level,
                before["id"],
                before,
                {
                    "force": force,
                    "moved_codings": moved,
                    "dropped_duplicates": dropped,
                    "released": released,
                },
            )
            return DeleteResult(level, row.name, moved, len(released), len(dropped))

        return self.ctx.db.run(work)

    # =====================================================================
    # selective coding
    # =====================================================================
    def set_core(self, name: str, definition: str | None = None) -> None:
        """Name the core category (edges naming the old core follow); None keeps the definition."""

        def work(session: Session) -> None:
            self._require_structure(session, "setting the core category")
            new = clean_name(name, "core")
            old = get_setting(session, "core_category")
            if new != old:
                self._set(session, "core_category", new)
                if old:
                    self._repoint_edges(session, "core", old, "core", new)
            text = clean_text(definition)
            if text is not None and text != get_setting(session, "core_definition"):
                self._set(session, "core_definition", text)

        self.ctx.db.run(work)

    def set_storyline(self, text: str | None) -> None:
        def work(session: Session) -> None:
            self._require_structure(session, "writing the storyline")
            value = clean_text(text) or ""
            if value != get_setting(session, "storyline"):
                self._set(session, "storyline", value)

        self.ctx.db.run(work)

    def add_edge(self, from_: str, to: str, label: str | None = None) -> EdgeView:
        """Add a model edge; endpoints are node names, prefixed (``category:X``) when ambiguous."""

        def work(session: Session) -> EdgeView:
            self._require_structure(session, "changing the model")
            names = _Book.load(session).node_names(get_setting(session, "core_category") or None)
            ends: list[NodeRef] = []
            for text in (from_, to):
                ref = resolve_node(text, names)
                if isinstance(ref, Unresolved):
                    raise ref.error()
                ends.append(ref)
            row = ModelEdge(
                from_kind=ends[0].kind,
                from_name=ends[0].name,
                to_kind=ends[1].kind,
                to_name=ends[1].name,
                label=clean_text(label),
                position=self._next_edge_position(session),
            )
            session.add(row)
            session.flush()
            self._audit(session, "edge.create", "model_edge", row.id, after=_edge_dict(row))
            return _edge_view(row, dangling=False)

        return self.ctx.db.run(work)

    def remove_edge(self, edge_id: int) -> None:
        def work(session: Session) -> None:
            self._require_structure(session, "changing the model")
            row = session.get(ModelEdge, edge_id)
            if row is None:
                raise NotFound(kind="edge", name=str(edge_id))
            self._audit(session, "edge.delete", "model_edge", row.id, before=_edge_dict(row))
            session.delete(row)

        self.ctx.db.run(work)

    def edges(self) -> list[EdgeView]:
        with self.ctx.db.read() as session:
            book = _Book.load(session)
            names = book.node_names(get_setting(session, "core_category") or None)
            return [_edge_view(e, dangling=_dangling(e, names)) for e in self._edge_rows(session)]

    def model(self, *, coder_ids: list[int] | None = None) -> ModelView:
        """Core, storyline, the axial tree and the edges, with problems named.

        The model is structure, so it is never refused: when the acting user may
        not read codings (blind mode, nobody acting) the counts in the tree are 0.
        """
        with self.ctx.db.read() as session:
            try:
                counts = self._counts(session, self._visible(session, coder_ids))
            except (PermissionDenied, BlindHidden, Forbidden):
                if coder_ids is not None:
                    raise
                counts = {}
            book = _Book.load(session)
            tree = self._tree(book, counts)
            core = get_setting(session, "core_category") or None
            names = book.node_names(core)
            edges = tuple(
                _edge_view(e, dangling=_dangling(e, names)) for e in self._edge_rows(session)
            )
            return ModelView(
                core=core,
                core_definition=get_setting(session, "core_definition") or None,
                storyline=get_setting(session, "storyline") or None,
                relation_classes=tree.relation_classes,
                edges=edges,
                problems=tuple(self._problems(session, book)),
            )

    # -- edge helpers ---------------------------------------------------------
    @staticmethod
    def _edge_rows(session: Session) -> list[ModelEdge]:
        rows = session.exec(select(ModelEdge)).all()
        return sorted(rows, key=lambda e: (e.position, e.id or 0))

    @staticmethod
    def _next_edge_position(session: Session) -> int:
        return int(session.exec(select(func.coalesce(func.max(ModelEdge.position), 0))).one()) + 1

    def _problems(self, session: Session, book: _Book) -> list[str]:
        names = book.node_names(get_setting(session, "core_category") or None)
        out: list[str] = []
        for e in self._edge_rows(session):
            for kind, name in ((e.from_kind, e.from_name), (e.to_kind, e.to_name)):
                if name not in names.get(kind, set()):
                    out.append(
                        f"edge {e.id} ({_edge_view(e, dangling=True).describe()}): "
                        f"{WORDS.get(kind, kind)} '{name}' no longer exists"
                    )
        return out

    def _repoint_edges(
        self, session: Session, old_kind: str, old: str, new_kind: str, new: str
    ) -> list[int]:
        """Point every edge end naming (old_kind, old) at (new_kind, new); returns edge ids."""
        if old_kind not in NODE_KINDS:
            return []
        touched: list[int] = []
        for e in self._edge_rows(session):
            hit = False
            if e.from_kind == old_kind and e.from_name == old:
                e.from_kind, e.from_name = new_kind, new
                hit = True
            if e.to_kind == old_kind and e.to_name == old:
                e.to_kind, e.to_name = new_kind, new
                hit = True
            if hit:
                session.add(e)
                assert e.id is not None
                touched.append(e.id)
        return touched


def _edge_dict(e: ModelEdge) -> dict[str, Any]:
    return {
        "from": f"{e.from_kind}:{e.from_name}",
        "to": f"{e.to_kind}:{e.to_name}",
        "label": e.label,
    }


def _edge_view(e: ModelEdge, *, dangling: bool) -> EdgeView:
    assert e.id is not None
    return EdgeView(e.id, _edge(e), e.position, dangling)


def _edge(e: ModelEdge) -> Edge:
    """The domain edge a row stores."""
    return Edge(NodeRef(e.from_kind, e.from_name), NodeRef(e.to_kind, e.to_name), e.label)


def _dangling(e: ModelEdge, names: dict[str, set[str]]) -> bool:
    return e.from_name not in names.get(e.from_kind, set()) or e.to_name not in names.get(
        e.to_kind, set()
    )
