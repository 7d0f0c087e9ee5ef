"""initial schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.Column("undone", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_actor"), ["actor"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)

    op.create_table(
        "coder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coder")),
        sa.UniqueConstraint("name", name=op.f("uq_coder_name")),
    )
    op.create_table(
        "memo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target_kind", sa.String(length=32), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(length=128), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memo")),
    )
    with op.batch_alter_table("memo", schema=None) as batch_op:
        batch_op.create_index("ix_memo_target", ["target_kind", "target_id"], unique=False)

    op.create_table(
        "model_edge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("from_kind", sa.String(length=32), nullable=False),
        sa.Column("from_name", sa.String(length=256), nullable=False),
        sa.Column("to_kind", sa.String(length=32), nullable=False),
        sa.Column("to_name", sa.String(length=256), nullable=False),
        sa.Column("label", sa.String(length=256), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_edge")),
    )
    op.create_table(
        "relation_class",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("definition", sa.Text(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relation_class")),
        sa.UniqueConstraint("name", name=op.f("uq_relation_class_name")),
    )
    op.create_table(
        "setting",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_setting")),
    )
    op.create_table(
        "source_type",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name_zh", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=64), nullable=False),
        sa.Column("slug", sa.String(length=32), nullable=False),
        sa.Column("next_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_type")),
        sa.UniqueConstraint("name_zh", name=op.f("uq_source_type_name_zh")),
        sa.UniqueConstraint("slug", name=op.f("uq_source_type_slug")),
    )
    op.create_table(
        "import_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=512), nullable=False),
        sa.Column("file_hash", sa.String(length=64), nullable=False),
        sa.Column("source_type_id", sa.Integer(), nullable=False),
        sa.Column("imported_by", sa.String(length=128), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("n_documents", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_type_id"],
            ["source_type.id"],
            name=op.f("fk_import_batch_source_type_id_source_type"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batch")),
        sa.UniqueConstraint("file_hash", name=op.f("uq_import_batch_file_hash")),
    )
    op.create_table(
        "main_category",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("definition", sa.Text(), nullable=True),
        sa.Column("relation_class_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["relation_class_id"],
            ["relation_class.id"],
            name=op.f("fk_main_category_relation_class_id_relation_class"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_main_category")),
        sa.UniqueConstraint("name", name=op.f("uq_main_category_name")),
    )
    with op.batch_alter_table("main_category", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_main_category_relation_class_id"), ["relation_class_id"], unique=False
        )

    op.create_table(
        "category",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("definition", sa.Text(), nullable=True),
        sa.Column("main_category_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["main_category_id"],
            ["main_category.id"],
            name=op.f("fk_category_main_category_id_main_category"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_category")),
        sa.UniqueConstraint("name", name=op.f("uq_category_name")),
    )
    with op.batch_alter_table("category", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_category_main_category_id"), ["main_category_id"], unique=False
        )

    op.create_table(
        "document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_type_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("author", sa.String(length=512), nullable=True),
        sa.Column("date", sa.String(length=32), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("views", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("origin_file", sa.String(length=512), nullable=True),
        sa.Column("origin_row", sa.Integer(), nullable=True),
        sa.Column("meta", sa.Text(), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("exclusion_kind", sa.String(length=32), nullable=True),
        sa.Column("exclusion_detail", sa.Text(), nullable=True),
        sa.Column("split", sa.String(length=16), nullable=True),
        sa.Column("personal", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["import_batch.id"], name=op.f("fk_document_batch_id_import_batch")
        ),
        sa.ForeignKeyConstraint(
            ["source_type_id"],
            ["source_type.id"],
            name=op.f("fk_document_source_type_id_source_type"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document")),
        sa.UniqueConstraint("number", name=op.f("uq_document_number")),
        sa.UniqueConstraint("source_type_id", "seq", name="uq_document_type_seq"),
    )
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_document_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_document_content_hash"), ["content_hash"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_document_source_type_id"), ["source_type_id"], unique=False
        )
        batch_op.create_index("ix_document_status_split", ["status", "split"], unique=False)

    op.create_table(
        "concept",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("definition", sa.Text(), nullable=True),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("color", sa.String(length=16), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"], ["category.id"], name=op.f("fk_concept_category_id_category")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concept")),
        sa.UniqueConstraint("name", name=op.f("uq_concept_name")),
    )
    with op.batch_alter_table("concept", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_concept_category_id"), ["category_id"], unique=False)

    op.create_table(
        "passage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name=op.f("fk_passage_document_id_document")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_passage")),
        sa.UniqueConstraint("document_id", "idx", name="uq_passage_document_idx"),
    )
    with op.batch_alter_table("passage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_passage_document_id"), ["document_id"], unique=False)

    op.create_table(
        "screening_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["document.id"],
            name=op.f("fk_screening_decision_document_id_document"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening_decision")),
    )
    with op.batch_alter_table("screening_decision", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_screening_decision_document_id"), ["document_id"], unique=False
        )

    op.create_table(
        "coding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coder_id", sa.Integer(), nullable=False),
        sa.Column("concept_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("passage_id", sa.Integer(), nullable=True),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("snippet", sa.Text(), nullable=False),
        sa.Column("assisted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["coder_id"], ["coder.id"], name=op.f("fk_coding_coder_id_coder")),
        sa.ForeignKeyConstraint(
            ["concept_id"], ["concept.id"], name=op.f("fk_coding_concept_id_concept")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name=op.f("fk_coding_document_id_document")
        ),
        sa.ForeignKeyConstraint(
            ["passage_id"], ["passage.id"], name=op.f("fk_coding_passage_id_passage")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coding")),
        sa.UniqueConstraint(
            "coder_id", "concept_id", "document_id", "start", "end", name="uq_coding_span"
        ),
    )
    with op.batch_alter_table("coding", schema=None) as batch_op:
        batch_op.create_index("ix_coding_coder_document", ["coder_id", "document_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_coding_concept_id"), ["concept_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_coding_document_id"), ["document_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_coding_passage_id"), ["passage_id"], unique=False)

    op.create_table(
        "token_cache",
        sa.Column("passage_id", sa.Integer(), nullable=False),
        sa.Column("dict_version", sa.String(length=64), nullable=False),
        sa.Column("tokens", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["passage_id"], ["passage.id"], name=op.f("fk_token_cache_passage_id_passage")
        ),
        sa.PrimaryKeyConstraint("passage_id", name=op.f("pk_token_cache")),
    )


def downgrade() -> None:

    op.drop_table("token_cache")
    with op.batch_alter_table("coding", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coding_passage_id"))
        batch_op.drop_index(batch_op.f("ix_coding_document_id"))
        batch_op.drop_index(batch_op.f("ix_coding_concept_id"))
        batch_op.drop_index("ix_coding_coder_document")

    op.drop_table("coding")
    with op.batch_alter_table("screening_decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_screening_decision_document_id"))

    op.drop_table("screening_decision")
    with op.batch_alter_table("passage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_passage_document_id"))

    op.drop_table("passage")
    with op.batch_alter_table("concept", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_concept_category_id"))

    op.drop_table("concept")
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_index("ix_document_status_split")
        batch_op.drop_index(batch_op.f("ix_document_source_type_id"))
        batch_op.drop_index(batch_op.f("ix_document_content_hash"))
        batch_op.drop_index(batch_op.f("ix_document_batch_id"))

    op.drop_table("document")
    with op.batch_alter_table("category", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_category_main_category_id"))

    op.drop_table("category")
    with op.batch_alter_table("main_category", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_main_category_relation_class_id"))

    op.drop_table("main_category")
    op.drop_table("import_batch")
    op.drop_table("source_type")
    op.drop_table("setting")
    op.drop_table("relation_class")
    op.drop_table("model_edge")
    with op.batch_alter_table("memo", schema=None) as batch_op:
        batch_op.drop_index("ix_memo_target")

    op.drop_table("memo")
    op.drop_table("coder")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))
        batch_op.drop_index(batch_op.f("ix_audit_log_actor"))

    op.drop_table("audit_log")
