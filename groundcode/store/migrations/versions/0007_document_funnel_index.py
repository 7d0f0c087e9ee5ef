"""a covering index for the screening funnel

The funnel (the dashboard's first figure, ``corpus`` in the CLI) counts
documents by source type, status, exclusion kind and split. Document rows carry
their text, so each of its counts read the whole table (0.24-0.38 s at 102,000
documents); over this index the counts are one index-only scan.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_document_funnel",
        "document",
        ["source_type_id", "status", "exclusion_kind", "split"],
    )


def downgrade() -> None:
    op.drop_index("ix_document_funnel", table_name="document")
