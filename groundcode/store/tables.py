"""The project's tables: one SQLModel class per domain word of SPEC §1.

Design decisions that the rest of the code relies on:

* Document text is normalised once on import and never changes; passages and
  codings are code-point offsets into it (``text[start:end]``).
* Nothing is deleted by screening: a document carries its current status and
  every decision is kept in ``screening_decision``.
* ``audit_log`` is append-only; every service that changes codings or the
  codebook writes one row in the same transaction as the change.
* Category levels each have their own table so that names are unique within
  a level (SPEC: "uniqueness of code names within their level").
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, Index, MetaData, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

# A naming convention keeps Alembic diffs stable across SQLite and PostgreSQL.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


def utcnow() -> datetime:
    """Times are stored in UTC and come back timezone-aware."""
    return datetime.now(UTC)


class Setting(SQLModel, table=True):
    """Project-wide key/value settings (name, blind mode, seed, holdout ratio, core category...)."""

    __tablename__ = "setting"
    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_column=Column(Text, nullable=False))


class SourceType(SQLModel, table=True):
    """A source type; its id is the ``T`` of a ``T-N`` document number."""

    __tablename__ = "source_type"
    id: int = Field(primary_key=True)
    name_zh: str = Field(max_length=64, unique=True)
    name_en: str = Field(max_length=64)
    slug: str = Field(max_length=32, unique=True)
    next_seq: int = Field(default=1)


class ImportBatch(SQLModel, table=True):
    """One imported file; the content hash makes imports idempotent."""

    __tablename__ = "import_batch"
    id: int | None = Field(default=None, primary_key=True)
    file_name: str = Field(max_length=512)
    file_hash: str = Field(max_length=64, unique=True)
    source_type_id: int = Field(foreign_key="source_type.id")
    imported_by: str | None = Field(default=None, max_length=128)
    imported_at: datetime = Field(default_factory=utcnow)
    n_documents: int = 0


class Document(SQLModel, table=True):
    __tablename__ = "document"
    __table_args__ = (
        UniqueConstraint("source_type_id", "seq", name="uq_document_type_seq"),
        Index("ix_document_status_split", "status", "split"),
        # The funnel's counts, read from the index alone (migration 0007).
        Index("ix_document_funnel", "source_type_id", "status", "exclusion_kind", "split"),
    )
    id: int | None = Field(default=None, primary_key=True)
    source_type_id: int = Field(foreign_key="source_type.id", index=True)
    seq: int
    number: str = Field(max_length=32, unique=True)
    title: str | None = Field(default=None, sa_column=Column(Text))
    author: str | None = Field(default=None, max_length=512)
    date: str | None = Field(default=None, max_length=32)  # ISO date (YYYY-MM-DD[ HH:MM:SS])
    url: str | None = Field(default=None, sa_column=Column(Text))
    views: int | None = None
    text: str = Field(sa_column=Column(Text, nullable=False))
    content_hash: str = Field(max_length=64, index=True)
    origin_file: str | None = Field(default=None, max_length=512)
    origin_row: int | None = None
    meta: str | None = Field(default=None, sa_column=Column(Text))  # JSON object of extra columns
    batch_id: int | None = Field(default=None, foreign_key="import_batch.id", index=True)
    status: str = Field(default="included", max_length=16)  # included | excluded
    exclusion_kind: str | None = Field(default=None, max_length=32)
    exclusion_detail: str | None = Field(default=None, sa_column=Column(Text))
    split: str | None = Field(default=None, max_length=16)  # build | holdout | None
    personal: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)


class Passage(SQLModel, table=True):
    """A unit of a document; ``text`` is ``document.text[start:end]``, kept for search."""

    __tablename__ = "passage"
    __table_args__ = (UniqueConstraint("document_id", "idx", name="uq_passage_document_idx"),)
    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    idx: int  # 1-based position within the document
    start: int
    end: int
    text: str = Field(sa_column=Column(Text, nullable=False))


class ScreeningDecision(SQLModel, table=True):
    """Every include/exclude decision, in order; the document row holds the current one."""

    __tablename__ = "screening_decision"
    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    action: str = Field(max_length=16)  # exclude | include
    kind: str | None = Field(default=None, max_length=32)
    detail: str | None = Field(default=None, sa_column=Column(Text))
    decided_by: str | None = Field(default=None, max_length=128)
    decided_at: datetime = Field(default_factory=utcnow)


class Coder(SQLModel, table=True):
    __tablename__ = "coder"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=128, unique=True)
    role: str = Field(default="coder", max_length=16)  # coder | lead | consensus
    created_at: datetime = Field(default_factory=utcnow)
    # PostgreSQL team mode: the database login whose sessions act as this coder.
    login: str | None = Field(default=None, max_length=63, unique=True)


class RelationClass(SQLModel, table=True):
    __tablename__ = "relation_class"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=256, unique=True)
    definition: str | None = Field(default=None, sa_column=Column(Text))
    position: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class MainCategory(SQLModel, table=True):
    __tablename__ = "main_category"
    id: int | None = Field(default=None, primary_key=True)
    number: str | None = Field(default=None, max_length=32)
    name: str = Field(max_length=256, unique=True)
    definition: str | None = Field(default=None, sa_column=Column(Text))
    relation_class_id: int | None = Field(default=None, foreign_key="relation_class.id", index=True)
    position: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class Category(SQLModel, table=True):
    """An initial category (初步范畴)."""

    __tablename__ = "category"
    id: int | None = Field(default=None, primary_key=True)
    number: str | None = Field(default=None, max_length=32)
    name: str = Field(max_length=256, unique=True)
    definition: str | None = Field(default=None, sa_column=Column(Text))
    main_category_id: int | None = Field(default=None, foreign_key="main_category.id", index=True)
    position: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class Concept(SQLModel, table=True):
    """An open code (初始概念); ``category_id`` is None while uncategorised."""

    __tablename__ = "concept"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=256, unique=True)
    definition: str | None = Field(default=None, sa_column=Column(Text))
    category_id: int | None = Field(default=None, foreign_key="category.id", index=True)
    # The sub-definition its category lists it under (Table 1, row 10 of the paper); None: the
    # category's own definition.
    definition_group: str | None = Field(default=None, sa_column=Column(Text))
    color: str | None = Field(default=None, max_length=16)
    position: int = 0
    created_by: str | None = Field(default=None, max_length=128)
    created_at: datetime = Field(default_factory=utcnow)


class Coding(SQLModel, table=True):
    """One concept applied by one coder to ``document.text[start:end]``."""

    __tablename__ = "coding"
    __table_args__ = (
        UniqueConstraint(
            "coder_id", "concept_id", "document_id", "start", "end", name="uq_coding_span"
        ),
        Index("ix_coding_coder_document", "coder_id", "document_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    coder_id: int = Field(foreign_key="coder.id")
    concept_id: int = Field(foreign_key="concept.id", index=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    passage_id: int | None = Field(default=None, foreign_key="passage.id", index=True)
    start: int
    end: int
    snippet: str = Field(sa_column=Column(Text, nullable=False))
    assisted: bool = Field(default=False)  # accepted from a suggestion
    created_at: datetime = Field(default_factory=utcnow)


class Memo(SQLModel, table=True):
    """Free text on the project, a document, a code or a coding."""

    __tablename__ = "memo"
    __table_args__ = (Index("ix_memo_target", "target_kind", "target_id"),)
    id: int | None = Field(default=None, primary_key=True)
    # project | document | concept | category | main_category | relation_class | coding
    target_kind: str = Field(max_length=32)
    target_id: int | None = None
    author: str = Field(max_length=128)
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ModelEdge(SQLModel, table=True):
    """A directed, labelled edge of the selective-coding model.

    Nodes are addressed by kind (core, relation_class, main_category, category)
    and name, so the YAML codebook and the database speak the same language;
    renames in the codebook service update the edges that name the old node.
    """

    __tablename__ = "model_edge"
    id: int | None = Field(default=None, primary_key=True)
    from_kind: str = Field(max_length=32)
    from_name: str = Field(max_length=256)
    to_kind: str = Field(max_length=32)
    to_name: str = Field(max_length=256)
    label: str | None = Field(default=None, max_length=256)
    position: int = 0


class AuditLog(SQLModel, table=True):
    """Append-only history of every change to codings, the codebook and the corpus split."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_action", "action"),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str | None = Field(default=None, max_length=128, index=True)
    action: str = Field(max_length=64)
    entity: str = Field(max_length=32)
    entity_id: int | None = None
    before: str | None = Field(default=None, sa_column=Column(Text))  # JSON
    after: str | None = Field(default=None, sa_column=Column(Text))  # JSON
    undone: bool = Field(default=False)
    # The database session user (PostgreSQL; set by a trigger, not by the client).
    login: str | None = Field(default=None, max_length=63)


class TokenCache(SQLModel, table=True):
    """jieba segmentation of a passage, so a corpus is segmented once per dictionary."""

    __tablename__ = "token_cache"
    passage_id: int = Field(foreign_key="passage.id", primary_key=True)
    dict_version: str = Field(max_length=64)
    tokens: str = Field(sa_column=Column(Text, nullable=False))  # space-separated


class Assignment(SQLModel, table=True):
    """A document given to a coder to code: their queue is what is assigned and not done."""

    __tablename__ = "assignment"
    __table_args__ = (
        UniqueConstraint("coder_id", "document_id", name="uq_assignment_coder_document"),
    )
    id: int | None = Field(default=None, primary_key=True)
    coder_id: int = Field(foreign_key="coder.id", index=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    assigned_by: str | None = Field(default=None, max_length=128)
    assigned_at: datetime = Field(default_factory=utcnow)


class DoneMark(SQLModel, table=True):
    """A coder's judgement that they read a document and coded all they will (SPEC §1).

    A done document with no coding is the judgement "nothing here", which the
    agreement statistics count (SPEC §4). Undoing a mark deletes the row; both
    directions are audited (``done.mark`` / ``done.undo``) with their times.
    """

    __tablename__ = "done_mark"
    __table_args__ = (
        UniqueConstraint("coder_id", "document_id", name="uq_done_mark_coder_document"),
    )
    id: int | None = Field(default=None, primary_key=True)
    coder_id: int = Field(foreign_key="coder.id", index=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    marked_at: datetime = Field(default_factory=utcnow)
