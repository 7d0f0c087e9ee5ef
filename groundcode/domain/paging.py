"""One page of a long list, for screens that show a project of any size.

A screen shows fifty rows of a list that may hold hundreds of thousands; the
paged service methods read only those rows (an index-ordered ``LIMIT``), so a
page costs the same at 1k or 100k comments. Counting a whole list is a
separate call (``*_count``), because an exact count of a large table is the
one part that grows with the project; ``has_more`` says whether a next page
exists without counting. The DataFrame methods stay for Jupyter users.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

#: Rows per page unless the caller asks for another size.
PAGE_SIZE = 50


@dataclass(frozen=True)
class Page(Generic[T]):
    """``items`` of a list from position ``offset`` on; ``has_more`` if the list goes on."""

    items: tuple[T, ...]
    offset: int
    limit: int
    has_more: bool

    def __len__(self) -> int:
        return len(self.items)


def check_window(offset: int, limit: int) -> None:
    """Refuse a negative offset or an empty page (a programming error, not user input)."""
    if offset < 0 or limit < 1:
        raise ValueError(f"a page needs offset >= 0 and limit >= 1, not {offset}, {limit}")
