"""Plain, frozen results of the codebook service.

Services hand these to the CLI and the TUI instead of ORM rows: a row belongs
to the session (and thread) that loaded it, a frozen dataclass belongs to
nobody and can cross into a UI worker safely.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Protocol, TypeVar

from groundcode.domain.levels import LEVELS as _LEVELS
from groundcode.domain.model import Edge


class _Named(Protocol):
    @property
    def name(self) -> str: ...


_T = TypeVar("_T", bound=_Named)

LEVELS: tuple[str, ...] = tuple(_LEVELS)


@dataclass(frozen=True)
class ConceptView:
    id: int
    name: str
    definition: str | None
    category: str | None
    n_codings: int
    created_by: str | None = None
    group: str | None = None  # the category's sub-definition it is listed under, if any


@dataclass(frozen=True)
class CategoryView:
    id: int
    name: str
    number: str | None
    definition: str | None
    main_category: str | None
    concepts: tuple[ConceptView, ...]
    n_codings: int


@dataclass(frozen=True)
class MainCategoryView:
    id: int
    name: str
    number: str | None
    definition: str | None
    relation_class: str | None
    categories: tuple[CategoryView, ...]
    n_codings: int


@dataclass(frozen=True)
class RelationClassView:
    id: int
    name: str
    definition: str | None
    main_categories: tuple[MainCategoryView, ...]
    n_codings: int


@dataclass(frozen=True)
class CodebookTree:
    """Relation class > main category > category > concept, plus what is not placed yet.

    Counts are codings of the concepts below each node, over the coders asked for.
    """

    relation_classes: tuple[RelationClassView, ...]
    unassigned_main_categories: tuple[MainCategoryView, ...]
    unassigned_categories: tuple[CategoryView, ...]
    uncategorised: tuple[ConceptView, ...]
    n_codings: int

    def main_categories(self) -> Iterator[MainCategoryView]:
        for rc in self.relation_classes:
            yield from rc.main_categories
        yield from self.unassigned_main_categories

    def categories(self) -> Iterator[CategoryView]:
        for main in self.main_categories():
            yield from main.categories
        yield from self.unassigned_categories

    def concepts(self) -> Iterator[ConceptView]:
        for category in self.categories():
            yield from category.concepts
        yield from self.uncategorised

    def concept(self, name: str) -> ConceptView:
        return _one(self.concepts(), name, "concept")

    def category(self, name: str) -> CategoryView:
        return _one(self.categories(), name, "category")

    def main_category(self, name: str) -> MainCategoryView:
        return _one(self.main_categories(), name, "main category")

    def relation_class(self, name: str) -> RelationClassView:
        return _one(iter(self.relation_classes), name, "relation class")


def _one(items: Iterator[_T], name: str, what: str) -> _T:
    for item in items:
        if item.name == name:
            return item
    raise KeyError(f"no {what} named '{name}'")


@dataclass(frozen=True)
class EdgeView:
    """A stored model edge: the domain ``Edge`` with its row id, place and health."""

    id: int
    edge: Edge
    position: int
    dangling: bool  # an endpoint names a node that no longer exists

    @property
    def from_kind(self) -> str:
        return self.edge.source.kind

    @property
    def from_name(self) -> str:
        return self.edge.source.name

    @property
    def to_kind(self) -> str:
        return self.edge.target.kind

    @property
    def to_name(self) -> str:
        return self.edge.target.name

    @property
    def label(self) -> str | None:
        return self.edge.label

    def describe(self) -> str:
        return self.edge.describe()


@dataclass(frozen=True)
class ModelView:
    core: str | None
    core_definition: str | None
    storyline: str | None
    relation_classes: tuple[RelationClassView, ...]
    edges: tuple[EdgeView, ...]
    problems: tuple[str, ...]


@dataclass(frozen=True)
class LevelCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class ImportSummary:
    source: str
    relation_classes: LevelCounts
    main_categories: LevelCounts
    categories: LevelCounts
    concepts: LevelCounts
    edges: LevelCounts
    settings_changed: tuple[str, ...]  # core_category, core_definition, storyline, ...

    def levels(self) -> dict[str, LevelCounts]:
        return {
            "relation_classes": self.relation_classes,
            "main_categories": self.main_categories,
            "categories": self.categories,
            "concepts": self.concepts,
            "edges": self.edges,
        }

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"source": self.source}
        out.update({level: asdict(counts) for level, counts in self.levels().items()})
        out["settings_changed"] = list(self.settings_changed)
        return out

    def __str__(self) -> str:
        parts = [
            f"{level.replace('_', ' ')} {c.created} new, {c.updated} updated, "
            f"{c.unchanged} unchanged"
            for level, c in self.levels().items()
        ]
        return "; ".join(parts)


@dataclass(frozen=True)
class MergeResult:
    level: str
    into: str
    sources: tuple[str, ...]
    moved: int  # codings (concepts) or children (other levels) that moved
    dropped_duplicates: int  # codings identical to one the survivor already had

    def word(self, lang: str) -> str:
        """What the merge moved, in ``lang`` (catalog ``codebook.merged.*``)."""
        from groundcode.domain.wording import text

        what = "codings" if self.level == "concept" else "items"
        key = f"codebook.merged.{what}" + (".dropped" if self.dropped_duplicates else "")
        return text(key, lang, n=self.moved, dropped=self.dropped_duplicates)

    def __str__(self) -> str:
        return self.word("en")


@dataclass(frozen=True)
class DeleteResult:
    level: str
    name: str
    moved_codings: int  # with force on a concept: codings moved to the holding concept
    released: int  # children left without a parent
    dropped_duplicates: int = 0  # codings identical to one the holding concept already had
