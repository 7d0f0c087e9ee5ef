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

from groundcode.coding.codebook_base import (
    CHILDREN,
    HOLDING_CONCEPT,
    PARENTS,
    TABLES,
    WORDS,
    normalise_level,
)
from groundcode.coding.codebook_files import CodebookFiles
from groundcode.coding.codebook_structure import CodebookStructure

__all__ = [
    "CHILDREN",
    "HOLDING_CONCEPT",
    "PARENTS",
    "TABLES",
    "WORDS",
    "CodebookService",
    "normalise_level",
]


class CodebookService(CodebookStructure, CodebookFiles):
    """Open, axial and selective coding on one project, for one acting user.

    One room in four parts, each its own module over ``CodebookBase``: reading
    (``codebook_tree``), the model (``codebook_model``), structure edits
    (``codebook_structure``) and files (``codebook_files``).
    """
