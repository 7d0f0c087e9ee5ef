"""The append-only audit log, written in the same transaction as the change.

Every row names who acted: the acting person, or before a project has a lead
(when anonymous changes are still allowed) the operating-system login.
"""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session

from groundcode.store.access import audit_actor
from groundcode.store.tables import AuditLog


def _dump(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


def record(
    session: Session,
    *,
    actor: str | None,
    action: str,
    entity: str,
    entity_id: int | None = None,
    before: Any = None,
    after: Any = None,
) -> AuditLog:
    row = AuditLog(
        actor=audit_actor(actor),
        action=action,
        entity=entity,
        entity_id=entity_id,
        before=_dump(before),
        after=_dump(after),
    )
    session.add(row)
    return row
