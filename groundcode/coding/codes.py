"""Looking up and creating concepts inside a caller's transaction.

Shared by the coding service (a code name not yet in the codebook becomes a
new, uncategorised concept) and the codebook service.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from groundcode.domain.errors import BadName, NotFound
from groundcode.domain.safe_text import has_control, visible
from groundcode.store.audit import record
from groundcode.store.tables import Concept

MAX_NAME = 256


def clean_name(name: str, what: str = "concept") -> str:
    """``name`` with its whitespace collapsed; ``what`` (a catalog noun) names it in errors."""
    cleaned = " ".join(name.split())
    if not cleaned:
        raise BadName(kind=what, reason="empty_name")
    if has_control(cleaned):
        # A name is shown everywhere (tables, the TUI, exports): it may not act on a terminal.
        raise BadName(kind=what, reason="name_control", name=visible(cleaned[:40]))
    if len(cleaned) > MAX_NAME:
        raise BadName(kind=what, reason="name_too_long", name=cleaned[:40], limit=MAX_NAME)
    return cleaned


def find_concept(session: Session, name: str) -> Concept | None:
    return session.exec(select(Concept).where(Concept.name == name)).first()


def get_concept(session: Session, name: str) -> Concept:
    concept = find_concept(session, name)
    if concept is None:
        raise NotFound(kind="concept", name=name)
    return concept


def ensure_concept(
    session: Session, name: str, *, actor: str | None, category_id: int | None = None
) -> tuple[Concept, bool]:
    """The concept called ``name``, created (uncategorised) if missing; returns (concept, created)."""
    name = clean_name(name, "concept")
    concept = find_concept(session, name)
    if concept is not None:
        return concept, False
    position = session.exec(select(func.coalesce(func.max(Concept.position), 0))).one() + 1
    concept = Concept(name=name, category_id=category_id, created_by=actor, position=position)
    try:
        # A savepoint: another coder may create the same concept at the same moment
        # (PostgreSQL, read committed); then theirs is the one to use.
        with session.begin_nested():
            session.add(concept)
            session.flush()
    except IntegrityError:
        existing = find_concept(session, name)
        if existing is None:
            raise
        return existing, False
    record(
        session,
        actor=actor,
        action="concept.create",
        entity="concept",
        entity_id=concept.id,
        after={"name": name, "category_id": category_id},
    )
    return concept, True
