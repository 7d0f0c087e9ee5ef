"""Looking up and creating concepts inside a caller's transaction.

Shared by the coding service (a code name not yet in the codebook becomes a
new, uncategorised concept) and the codebook service.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from groundcode.domain.errors import NotFound
from groundcode.domain.values import (
    clean_name as clean_name,
)  # re-exported: rooms import it from here
from groundcode.store.audit import record
from groundcode.store.tables import Concept


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
