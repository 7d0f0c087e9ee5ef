"""Small values with one parser each, so every room reads user input the same way."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from groundcode.domain.errors import BadDocNumber, BadName
from groundcode.domain.safe_text import has_control, visible

# Dashes people type between the two numbers besides "-": hyphens, en/em dashes,
# the minus sign and the ideographic "一" never (it is also the digit one).
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63"


@dataclass(frozen=True, order=True)
class DocNumber:
    """A document number ``T-N``: source type ``T``, sequence ``N`` within the type.

    ``parse`` accepts what people type and paste: spaces around the parts,
    leading zeros (``2-05``), full-width digits and dashes (``２－５``), so
    every method that takes a number finds the same document.
    """

    type_id: int
    seq: int

    @classmethod
    def parse(cls, value: DocNumber | str | int) -> DocNumber:
        if isinstance(value, DocNumber):
            return value
        text = str(value)
        # NFKC turns full-width digits, "－" and the ideographic space into ASCII.
        norm = unicodedata.normalize("NFKC", text)
        for dash in _DASHES:
            norm = norm.replace(dash, "-")
        head, sep, tail = norm.partition("-")
        head, tail = head.strip(), tail.strip()
        if not sep or not _ascii_digits(head) or not _ascii_digits(tail):
            raise BadDocNumber(text=text.strip())
        return cls(int(head), int(tail))

    @classmethod
    def maybe(cls, value: DocNumber | str | int | None) -> DocNumber | None:
        """``parse`` for optional arguments."""
        return None if value is None else cls.parse(value)

    def __str__(self) -> str:
        """The stored form (``document.number``): no padding, no spaces."""
        return f"{self.type_id}-{self.seq}"


def _ascii_digits(s: str) -> bool:
    return bool(s) and s.isascii() and s.isdigit()


def normalise_number(value: DocNumber | str | int) -> str:
    """The stored form of a number a user typed (raises ``BadDocNumber``)."""
    return str(DocNumber.parse(value))


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
