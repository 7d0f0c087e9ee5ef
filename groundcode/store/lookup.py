"""Finding a document by the number a user typed, inside a caller's session.

The one lookup every room uses, so "2-05", " 2-5 " and "２－５" find the same
document everywhere (``domain.values.DocNumber`` parses them).
"""

from __future__ import annotations

from typing import Protocol

from sqlmodel import Session, col, select

from groundcode.domain.errors import NotFound
from groundcode.domain.values import DocNumber
from groundcode.store.tables import Document


def document_by_number(session: Session, number: DocNumber | str) -> Document:
    """The document numbered ``number``; ``BadDocNumber`` or ``NotFound`` otherwise."""
    num = str(DocNumber.parse(number))
    doc = session.exec(select(Document).where(col(Document.number) == num)).first()
    if doc is None:
        raise NotFound(kind="document", name=num)
    return doc


class _Stored(Protocol):
    @property
    def id(self) -> int | None: ...


def row_id(row: _Stored) -> int:
    """The primary key of a row read from (or flushed to) the database.

    SQLModel types ``id`` as ``int | None`` because a new row has none until
    it is flushed; a row that came out of a query always has one.
    """
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has not been stored yet")
    return row.id
