"""The codebook room, open and axial coding: create, rename, define, move, renumber,
reorder, merge, split and delete on the four levels.

Codings and memos that follow a merged, split or deleted item are moved by
their own rooms (``coding.service.move_codings``/``recode``,
``coding.memos.retarget_memos``) inside this room's transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, select

from groundcode.coding import memos
from groundcode.coding import service as codings
from groundcode.coding.codebook_yaml import (
    clean_text,
)
from groundcode.coding.codes import clean_name
from groundcode.coding.views import (
    CategoryView,
    ConceptView,
    DeleteResult,
    MainCategoryView,
    MergeResult,
    RelationClassView,
)
from groundcode.domain.errors import (
    Conflict,
    GroundcodeError,
    MergeStopped,
    Missing,
    OutOfRange,
    Refused,
    StillCoded,
)
from groundcode.domain.levels import parse_level, spec
from groundcode.domain.vocab import Level

if TYPE_CHECKING:
    pass

from groundcode.coding.codebook_base import (
    CHILDREN,
    HOLDING_CONCEPT,
    PARENTS,
    TABLES,
    WORDS,
    _Book,
    _order_key,
    normalise_level,
)
from groundcode.coding.codebook_model import CodebookModel


class CodebookStructure(CodebookModel):
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
