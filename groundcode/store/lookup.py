"""Finding a document by the number a user typed, inside a caller's session.

The one lookup every room uses, so "2-05", " 2-5 " and "２－５" find the same
document everywhere (``domain.values.DocNumber`` parses them); and the keys
of the codings already in a set of documents, which every importer checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from groundcode.domain.errors import NotFound
from groundcode.domain.values import DocNumber
from groundcode.store.tables import Coding, Document

#: A coding's natural key: coder, concept, document, start, end.
CodingKey = tuple[int, int, int, int, int]
_CHUNK = 5000


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


def coding_keys(session: Session, document_ids: Sequence[int]) -> set[CodingKey]:
    """The natural keys of the codings already stored in these documents.

    Both importers (the codings CSV and REFI-QDA) skip a coding whose key is
    here, which is what makes importing the same file twice harmless. Read in
    chunks so a large import's id list stays under the database's bind limit.
    """
    keys: set[CodingKey] = set()
    for lo in range(0, len(document_ids), _CHUNK):
        for coder, concept, document, start, end in session.execute(
            sa_select(
                col(Coding.coder_id),
                col(Coding.concept_id),
                col(Coding.document_id),
                col(Coding.start),
                col(Coding.end),
            ).where(col(Coding.document_id).in_(document_ids[lo : lo + _CHUNK]))
        ).all():
            keys.add((coder, concept, document, start, end))
    return keys
