"""The words the database stores, as enums: roles, levels, splits, statuses, kinds, actions.

Each value is the string already stored in its column, so the enums change no
data: a ``StrEnum`` member compares equal to its string and SQLAlchemy writes
it as that string. Code names members instead of repeating literals, so a typo
is a name error, and the front ends word the members from the catalog
(``vocab.<enum>.<value>``) instead of keeping their own tables.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A person's role in a project; ``consensus`` is the reconciled set, not a person."""

    CODER = "coder"
    LEAD = "lead"
    CONSENSUS = "consensus"


# The roles a person can be given (the consensus coder is made by the project).
PERSON_ROLES: tuple[Role, ...] = (Role.CODER, Role.LEAD)


class Level(StrEnum):
    """The four levels of the codebook, leaf first (see ``levels.HIERARCHY``)."""

    CONCEPT = "concept"
    CATEGORY = "category"
    MAIN_CATEGORY = "main_category"
    RELATION_CLASS = "relation_class"


class NodeKind(StrEnum):
    """What a model edge may point at: the core category or a category above concepts."""

    CORE = "core"
    RELATION_CLASS = "relation_class"
    MAIN_CATEGORY = "main_category"
    CATEGORY = "category"


class Split(StrEnum):
    """The corpus split for saturation (SPEC §5); no split is stored as NULL."""

    BUILD = "build"
    HOLDOUT = "holdout"


class DocStatus(StrEnum):
    INCLUDED = "included"
    EXCLUDED = "excluded"


class ScreeningAction(StrEnum):
    """One row of ``screening_decision``."""

    EXCLUDE = "exclude"
    INCLUDE = "include"


class ExclusionKind(StrEnum):
    DUPLICATE = "duplicate"
    IRRELEVANT = "irrelevant"
    NO_SUBSTANCE = "no_substance"
    OUT_OF_RANGE = "out_of_range"
    NOT_SAMPLED = "not_sampled"
    MANUAL = "manual"


class MemoTarget(StrEnum):
    """What a memo is written on (``memo.target_kind``)."""

    PROJECT = "project"
    DOCUMENT = "document"
    CONCEPT = "concept"
    CATEGORY = "category"
    MAIN_CATEGORY = "main_category"
    RELATION_CLASS = "relation_class"
    CODING = "coding"


class AuditAction(StrEnum):
    """Every ``audit_log.action``; the codebook's are ``<level>.<verb>`` (``level_action``)."""

    CODER_ADD = "coder.add"
    CODING_APPLY = "coding.apply"
    CODING_REMOVE = "coding.remove"
    CODING_SPAN = "coding.span"
    CODING_UNDO = "coding.undo"
    CODING_REDO = "coding.redo"
    CONCEPT_SPLIT = "concept.split"
    CODEBOOK_IMPORT = "codebook.import"
    CORPUS_IMPORT = "corpus.import"
    CORPUS_EXCLUDE = "corpus.exclude"
    CORPUS_INCLUDE = "corpus.include"
    CORPUS_PERSONAL = "corpus.personal"
    CORPUS_REDACT = "corpus.redact"
    CORPUS_SPLIT = "corpus.split"
    CORPUS_RESPLIT = "corpus.resplit"
    SOURCE_TYPE_CREATE = "source_type.create"
    MEMO_ADD = "memo.add"
    MEMO_EDIT = "memo.edit"
    MEMO_DELETE = "memo.delete"
    EDGE_CREATE = "edge.create"
    EDGE_UPDATE = "edge.update"
    EDGE_DELETE = "edge.delete"
    MODEL_FORBID_CYCLES = "model.forbid_cycles"
    SETTING_UPDATE = "setting.update"
    PROJECT_BLIND_MODE = "project.blind_mode"
    PROJECT_USER_DICT = "project.user_dict"
    RECONCILE_AGREED = "reconcile.agreed"
    RECONCILE_DECIDE = "reconcile.decide"
    ASSIGN = "assign"
    DONE_MARK = "done.mark"
    DONE_UNDO = "done.undo"
    SATURATION_BEGIN = "saturation.begin"
    CONCEPT_CREATE = "concept.create"
    CONCEPT_UPDATE = "concept.update"
    CONCEPT_RENAME = "concept.rename"
    CONCEPT_DEFINE = "concept.define"
    CONCEPT_MOVE = "concept.move"
    CONCEPT_RENUMBER = "concept.renumber"
    CONCEPT_REORDER = "concept.reorder"
    CONCEPT_MERGE = "concept.merge"
    CONCEPT_DELETE = "concept.delete"
    CATEGORY_CREATE = "category.create"
    CATEGORY_UPDATE = "category.update"
    CATEGORY_RENAME = "category.rename"
    CATEGORY_DEFINE = "category.define"
    CATEGORY_MOVE = "category.move"
    CATEGORY_RENUMBER = "category.renumber"
    CATEGORY_REORDER = "category.reorder"
    CATEGORY_MERGE = "category.merge"
    CATEGORY_DELETE = "category.delete"
    MAIN_CATEGORY_CREATE = "main_category.create"
    MAIN_CATEGORY_UPDATE = "main_category.update"
    MAIN_CATEGORY_RENAME = "main_category.rename"
    MAIN_CATEGORY_DEFINE = "main_category.define"
    MAIN_CATEGORY_MOVE = "main_category.move"
    MAIN_CATEGORY_RENUMBER = "main_category.renumber"
    MAIN_CATEGORY_REORDER = "main_category.reorder"
    MAIN_CATEGORY_MERGE = "main_category.merge"
    MAIN_CATEGORY_DELETE = "main_category.delete"
    RELATION_CLASS_CREATE = "relation_class.create"
    RELATION_CLASS_UPDATE = "relation_class.update"
    RELATION_CLASS_RENAME = "relation_class.rename"
    RELATION_CLASS_DEFINE = "relation_class.define"
    RELATION_CLASS_MOVE = "relation_class.move"
    RELATION_CLASS_RENUMBER = "relation_class.renumber"
    RELATION_CLASS_REORDER = "relation_class.reorder"
    RELATION_CLASS_MERGE = "relation_class.merge"
    RELATION_CLASS_DELETE = "relation_class.delete"

    @classmethod
    def level_action(cls, level: str, verb: str) -> AuditAction:
        """The action of ``verb`` (create, rename, merge, ...) on a codebook level."""
        return cls(f"{level}.{verb}")


# The coding changes a coder can undo and redo.
CODING_CHANGES: tuple[AuditAction, ...] = (
    AuditAction.CODING_APPLY,
    AuditAction.CODING_REMOVE,
    AuditAction.CODING_SPAN,
)
