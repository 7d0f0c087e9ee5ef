"""Alembic environment: runs on the connection groundcode hands over."""

from __future__ import annotations

from alembic import context

from groundcode.store.tables import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - groundcode always passes its connection
    raise RuntimeError("groundcode migrations run through groundcode.store.migrate")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
