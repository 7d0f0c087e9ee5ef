"""assignments and done marks

A coder's queue (``assignment``) and their judgement that a document is done
(``done_mark``): the judged units of agreement and the coding order of the
saturation curve come from these (SPEC §4, §5). The holdout start is an audit
event plus the setting ``holdout_start``, so it needs no table.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coder_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("assigned_by", sa.String(length=128), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["coder_id"], ["coder.id"], name="fk_assignment_coder_id_coder"),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name="fk_assignment_document_id_document"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_assignment"),
        sa.UniqueConstraint("coder_id", "document_id", name="uq_assignment_coder_document"),
    )
    op.create_index("ix_assignment_coder_id", "assignment", ["coder_id"])
    op.create_index("ix_assignment_document_id", "assignment", ["document_id"])
    op.create_table(
        "done_mark",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coder_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["coder_id"], ["coder.id"], name="fk_done_mark_coder_id_coder"),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name="fk_done_mark_document_id_document"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_done_mark"),
        sa.UniqueConstraint("coder_id", "document_id", name="uq_done_mark_coder_document"),
    )
    op.create_index("ix_done_mark_coder_id", "done_mark", ["coder_id"])
    op.create_index("ix_done_mark_document_id", "done_mark", ["document_id"])


def downgrade() -> None:
    op.drop_table("done_mark")
    op.drop_table("assignment")
