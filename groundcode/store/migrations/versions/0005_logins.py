"""database logins for people, and the session user on every audit row

Team mode on PostgreSQL (``groundcode team init``) maps each person to a
database login: ``coder.login`` names the role whose sessions act as that
coder (unique, so one login is one person). ``audit_log.login`` records the
database session user of every change; on PostgreSQL a trigger fills it from
``session_user`` whatever the client sent, so nobody can write an audit row in
another login's name. On SQLite (one person, the file is the trust boundary)
it stays empty.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("coder") as batch:
        batch.add_column(sa.Column("login", sa.String(length=63), nullable=True))
        batch.create_unique_constraint("uq_coder_login", ["login"])
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("login", sa.String(length=63), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION gc_audit_login() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN IF TG_OP = 'UPDATE' THEN NEW.login := OLD.login; "
            "ELSE NEW.login := session_user; END IF; RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_log_login BEFORE INSERT OR UPDATE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION gc_audit_login()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_login ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS gc_audit_login()")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("login")
    with op.batch_alter_table("coder") as batch:
        batch.drop_constraint("uq_coder_login", type_="unique")
        batch.drop_column("login")
