"""The four-level hierarchy of the codebook as one table of level specs.

Every part that walks the hierarchy (the codebook tree and its edits, the YAML
and REFI-QDA files, the CLI's level arguments, the TUI tree) reads this table
instead of keeping its own map of parents, tables, words and aliases.
"""

from __future__ import annotations

from dataclasses import dataclass

from groundcode.domain.errors import BadOption
from groundcode.domain.vocab import Level, NodeKind


@dataclass(frozen=True)
class LevelSpec:
    """One level: where it is stored, what holds it, and what people call it.

    ``parent_column`` is the column of ``table`` holding the parent's id;
    ``numbered`` levels carry a ``number`` shown before the name ("C1");
    ``aliases`` are the words a user may type for the level (lower case).
    """

    level: Level
    table: str
    parent: Level | None
    parent_column: str | None
    zh: str
    en: str
    aliases: tuple[str, ...]
    numbered: bool
    plural: str  # the YAML/JSON key for a list of this level ("main_categories")

    @property
    def child(self) -> Level | None:
        return CHILD.get(self.level)

    @property
    def is_model_node(self) -> bool:
        """Whether model edges may name items of this level (all but concepts)."""
        return self.level != Level.CONCEPT

    def word(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


# Leaf first; ``TOP_DOWN`` reads it root first (relation class, main, category, concept).
HIERARCHY: tuple[LevelSpec, ...] = (
    LevelSpec(
        Level.CONCEPT,
        "concept",
        Level.CATEGORY,
        "category_id",
        "初始概念",
        "concept",
        ("concept", "concepts", "code", "初始概念", "概念"),
        False,
        "concepts",
    ),
    LevelSpec(
        Level.CATEGORY,
        "category",
        Level.MAIN_CATEGORY,
        "main_category_id",
        "初步范畴",
        "initial category",
        ("category", "categories", "initial", "初步范畴"),
        True,
        "categories",
    ),
    LevelSpec(
        Level.MAIN_CATEGORY,
        "main_category",
        Level.RELATION_CLASS,
        "relation_class_id",
        "主范畴",
        "main category",
        ("main", "main_category", "main-category", "主范畴"),
        True,
        "main_categories",
    ),
    LevelSpec(
        Level.RELATION_CLASS,
        "relation_class",
        None,
        None,
        "关系类别",
        "relation class",
        ("relation", "relation_class", "relation-class", "class", "关系类别"),
        False,
        "relation_classes",
    ),
)
TOP_DOWN: tuple[LevelSpec, ...] = tuple(reversed(HIERARCHY))
LEVELS: tuple[Level, ...] = tuple(s.level for s in HIERARCHY)
SPECS: dict[Level, LevelSpec] = {s.level: s for s in HIERARCHY}
PARENT: dict[Level, Level] = {s.level: s.parent for s in HIERARCHY if s.parent is not None}
CHILD: dict[Level, Level] = {parent: child for child, parent in PARENT.items()}
ALIASES: dict[str, Level] = {alias: s.level for s in HIERARCHY for alias in s.aliases}
# Model nodes: the core category, then the levels above concepts, root first.
NODE_KINDS: tuple[NodeKind, ...] = (NodeKind.CORE,) + tuple(
    NodeKind(s.level) for s in TOP_DOWN if s.is_model_node
)


def spec(level: Level | str) -> LevelSpec:
    return SPECS[Level(level)]


def parse_level(text: str, *, allowed: tuple[Level, ...] = LEVELS) -> Level:
    """The level a user named (``main``, ``主范畴``, ``relation-class``, ...).

    Raises ``BadOption(option="level")`` naming the allowed levels.
    """
    found = ALIASES.get(str(text).strip().lower())
    if found is None or found not in allowed:
        raise BadOption(option="level", value=str(text), allowed=", ".join(allowed))
    return found


# The levels a code is counted at by agreement and the passage matrix, by the
# word the user types, and the codings-frame column each reads.
CODE_LEVELS: dict[str, str] = {
    "concept": "concept",
    "category": "category",
    "main": "main_category",
}


def code_level(text: str) -> str:
    """``concept``, ``category`` or ``main`` for what a user typed (``main_category`` is ``main``).

    Raises ``BadOption(option="level")`` naming the three.
    """
    word = "main" if text == "main_category" else text
    if word not in CODE_LEVELS:
        raise BadOption(option="level", value=text, allowed=", ".join(CODE_LEVELS))
    return word
