"""The codebook room, reading: the tree with coding counts and the concepts frame.

Blind mode is applied here once (``_hide_others``): the tree, the YAML and the
xlsx codebook all read through it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from groundcode.coding.views import (
    CategoryView,
    CodebookTree,
    ConceptView,
    MainCategoryView,
    RelationClassView,
)
from groundcode.store.access import hidden_creators
from groundcode.store.tables import (
    Category,
    Concept,
    MainCategory,
)

if TYPE_CHECKING:
    import pandas as pd

from groundcode.coding.codebook_base import CodebookBase, _Book


class CodebookReads(CodebookBase):
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
