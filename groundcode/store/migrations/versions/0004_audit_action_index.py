"""an index on the audit log's action

Reconciliation decisions, undo and redo look audit rows up by ``action``; after
a large codings import the log holds one row per imported coding, so without
an index each of those lookups scanned hundreds of thousands of rows (60 ms
per disagreements page at the reference size).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_log_action", "audit_log", ["action"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_action", table_name="audit_log")
