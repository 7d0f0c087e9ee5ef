"""The codebook's levels (``domain.levels``) bound to the store's table classes.

The one map from a level to its table, so the codebook, the memos and the
interchange read the same hierarchy instead of each building its own.
"""

from __future__ import annotations

from typing import Any

from groundcode.domain.levels import HIERARCHY
from groundcode.store.tables import Category, Concept, MainCategory, RelationClass

_CLASSES: dict[str, type[Any]] = {
    cls.__tablename__: cls for cls in (Concept, Category, MainCategory, RelationClass)
}
LEVEL_TABLES: dict[str, type[Any]] = {s.level: _CLASSES[s.table] for s in HIERARCHY}
