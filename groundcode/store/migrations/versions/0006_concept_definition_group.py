"""concept.definition_group: the sub-definition a category lists a concept under

Some initial categories group their concepts under several definitions (the
reference study's Table 1, row 10: "集中式采集: ... ; 分布式采集: ..."). The
category keeps its overall definition; each concept may name the definition
it is listed under, so Table 1 keeps each definition with its own concepts.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("concept") as batch:
        batch.add_column(sa.Column("definition_group", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("concept") as batch:
        batch.drop_column("definition_group")
