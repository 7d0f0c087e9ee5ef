"""Finding a document by the number a user typed, inside a caller's session.

The one lookup every room uses, so "2-05", " 2-5 " and "２－５" find the same
document everywhere (``domain.values.DocNumber`` parses them).
"""

from __future__ import annotations

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
