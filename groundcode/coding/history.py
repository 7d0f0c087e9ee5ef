"""The codings' history: undo and redo as audited steps.

Every coding change a coder makes (``coding.apply``, ``coding.remove``,
``coding.span``) is an audit row written in the change's own transaction.
Undo reverts the coder's last change not yet undone and redo re-applies the
last undone one, each as a new audit row (``coding.undo``/``coding.redo``
naming the row it flipped); the log is never edited beyond the row's
``undone`` mark. One pair of handlers per action, in ``HANDLERS``: an action
with none cannot be undone (imports, for one, are left alone).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlmodel import Session, col, select

from groundcode.coding import memos as memo_steps
from groundcode.coding.records import MAX_SNIPPET, UndoResult
from groundcode.domain.errors import Refused
from groundcode.domain.notice import Notice
from groundcode.domain.vocab import CODING_CHANGES
from groundcode.store.audit import record
from groundcode.store.tables import AuditLog, Coder, Coding, Concept, Document

# (session, coding id, state before, state after) -> what the step did, in words
Step = Callable[[Session, int | None, dict[str, Any] | None, dict[str, Any] | None], str]


def last_change(s: Session, me: Coder) -> AuditLog | None:
    """The coder's last coding change that is not undone (what undo reverts)."""
    return (
        s.execute(
            select(AuditLog)
            .where(
                col(AuditLog.actor) == me.name,
                col(AuditLog.action).in_(CODING_CHANGES),
                col(AuditLog.undone).is_(False),
            )
            .order_by(col(AuditLog.id).desc())
        )
        .scalars()
        .first()
    )


def last_undone(s: Session, me: Coder) -> AuditLog | None:
    """The change redo re-applies: the last undone one, unless a fresh change came since."""
    rows = (
        s.execute(
            select(AuditLog)
            .where(
                col(AuditLog.actor) == me.name,
                col(AuditLog.action).in_((*CODING_CHANGES, "coding.undo", "coding.redo")),
            )
            .order_by(col(AuditLog.id).desc())
        )
        .scalars()
        .all()
    )
    # Walk back over undo/redo entries; a fresh change ends the redo chain.
    pending: list[int] = []
    redone: set[int] = set()
    for r in rows:
        if r.action == "coding.redo":
            redone.add(int(r.entity_id or 0))
        elif r.action == "coding.undo":
            if r.entity_id not in redone:
                pending.append(int(r.entity_id or 0))
        elif not r.undone:
            break
    return s.get(AuditLog, pending[0]) if pending else None


def flip(s: Session, me: Coder, row: AuditLog, *, undo: bool) -> UndoResult:
    """Undo (or redo) the change ``row`` records, mark it, and log the step itself."""
    handlers = HANDLERS.get(row.action)
    if handlers is None:
        raise Refused("cannot_undo", name=row.action)
    before = json.loads(row.before) if row.before else None
    after = json.loads(row.after) if row.after else None
    desc = handlers[0 if undo else 1](s, row.entity_id, before, after)
    row.undone = undo
    s.add(row)
    word = "undo" if undo else "redo"
    record(
        s,
        actor=me.name,
        action=f"coding.{word}",
        entity="audit_log",
        entity_id=row.id,
        after={"undid" if undo else "redid": row.action},
    )
    return UndoResult(word, desc)


def _restore(s: Session, coding_id: int | None, state: dict[str, Any] | None) -> str:
    assert state is not None
    doc = s.get(Document, state["document_id"])
    con = s.get(Concept, state["concept_id"])
    if doc is None or con is None:
        raise Refused("coding_target_gone")
    c = Coding(
        id=coding_id,
        coder_id=state["coder_id"],
        concept_id=state["concept_id"],
        document_id=state["document_id"],
        passage_id=state["passage_id"],
        start=state["start"],
        end=state["end"],
        snippet=doc.text[state["start"] : state["end"]][:MAX_SNIPPET],
        assisted=bool(state.get("assisted", False)),
    )
    s.add(c)
    s.flush()
    return Notice("notice.undo.restored", concept=con.name)


def _undo_apply(
    s: Session, coding_id: int | None, before: dict[str, Any] | None, after: dict[str, Any] | None
) -> str:
    c = s.get(Coding, coding_id)
    if c is not None and c.id is not None:
        memo_steps.drop_coding_memos(s, [c.id])
        s.delete(c)
    return Notice("notice.undo.removed", concept=after.get("concept", "") if after else "")


def _redo_apply(
    s: Session, coding_id: int | None, before: dict[str, Any] | None, after: dict[str, Any] | None
) -> str:
    return _restore(s, coding_id, after)


def _undo_remove(
    s: Session, coding_id: int | None, before: dict[str, Any] | None, after: dict[str, Any] | None
) -> str:
    return _restore(s, coding_id, before)


def _redo_remove(
    s: Session, coding_id: int | None, before: dict[str, Any] | None, after: dict[str, Any] | None
) -> str:
    c = s.get(Coding, coding_id)
    if c is not None:
        s.delete(c)
    return Notice("notice.undo.removed_again")


def _set_span(s: Session, coding_id: int | None, state: dict[str, Any] | None) -> str:
    c = s.get(Coding, coding_id)
    if c is None:
        raise Refused("coding_gone")
    assert state is not None
    doc = s.get(Document, c.document_id)
    assert doc is not None
    c.start, c.end, c.passage_id = state["start"], state["end"], state["passage_id"]
    c.snippet = doc.text[c.start : c.end][:MAX_SNIPPET]
    s.add(c)
    return Notice("notice.undo.span", start=c.start, end=c.end)


def _undo_span(
    s: Session, coding_id: int | None, before: dict[str, Any] | None, after: dict[str, Any] | None
) -> str:
    return _set_span(s, coding_id, before)


def _redo_span(
    s: Session, coding_id: int | None, before: dict[str, Any] | None, after: dict[str, Any] | None
) -> str:
    return _set_span(s, coding_id, after)


# One (undo, redo) pair per coding action that can be undone.
HANDLERS: dict[str, tuple[Step, Step]] = {
    "coding.apply": (_undo_apply, _redo_apply),
    "coding.remove": (_undo_remove, _redo_remove),
    "coding.span": (_undo_span, _redo_span),
}
