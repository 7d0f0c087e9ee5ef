"""The codebook room's shared ground: the level maps, the loaded book, the row helpers.

Every part of the codebook room (``codebook_tree``, ``codebook_model``,
``codebook_structure``, ``codebook_files``) builds on ``CodebookBase``: one
place for finding rows, the access check for structure changes and the audit
row. ``coding.codebook.CodebookService`` is the four parts together, and its
docstring states the rules the whole room keeps.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Self

from sqlmodel import Session, col, func, select

from groundcode.coding.views import (
    LevelCounts,
)
from groundcode.domain.errors import (
    NotFound,
    Refused,
)
from groundcode.domain.levels import CHILD, HIERARCHY, NODE_KINDS, parse_level, spec
from groundcode.domain.vocab import Level, NodeKind
from groundcode.store.access import authorize, visibility
from groundcode.store.audit import record
from groundcode.store.context import Context
from groundcode.store.levels import LEVEL_TABLES
from groundcode.store.settings import get_setting, set_setting
from groundcode.store.tables import (
    Category,
    Coding,
    Concept,
    MainCategory,
    RelationClass,
)

if TYPE_CHECKING:
    pass

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


class CodebookBase:
    """Shared state (the context) and row helpers inside a caller's session."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    @property
    def actor(self) -> str | None:
        return self.ctx.actor

    def acting_as(self, actor: str | None) -> Self:
        """The same room acting as ``actor`` (an import that writes as the file's lead)."""
        return type(self)(self.ctx.as_user(actor))

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

    def _set(self, session: Session, key: str, value: str) -> None:
        """A setting change with its audit row."""
        before = get_setting(session, key)
        set_setting(session, key, value)
        self._audit(session, "setting.update", "setting", None, {key: before}, {key: value})

    @staticmethod
    def _normalise_positions(session: Session) -> None:
        book = _Book.load(session)
        for level in TABLES:
            for i, row in enumerate(book.ordered(level), start=1):
                if row.position != i:
                    row.position = i
                    session.add(row)
        session.flush()
