"""Long lists a page at a time: the first page costs the same at any project size.

A screen keeps a ``Pager`` beside its table. ``restart()`` begins a new list
(a new search, a reload) and returns a token; the screen's worker reads one
page with a paged service call (``memos_page``, ``exclusions_page``,
``segments_page`` ...) and posts it with that token; ``accept`` keeps it only
if no newer list was started meanwhile. When the table's cursor comes near
the last row loaded (arrow keys, PageDown, End), ``wants_more`` says to read
the next page from ``len(rows)`` on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from groundcode.domain.paging import Page

T = TypeVar("T")

#: Rows read per page by the study screens (a screenful at 200x60, and then some).
TUI_PAGE = 100
#: Read the next page when the cursor is this close to the last row loaded.
MARGIN = 10


@dataclass
class Pager(Generic[T]):
    """The rows of one list loaded so far, whether more exist, and which list it is."""

    size: int = TUI_PAGE
    rows: list[T] = field(default_factory=list)
    has_more: bool = False
    loading: bool = False
    token: int = 0

    def restart(self) -> int:
        """Start the list again (the rows shown stay until the first page arrives)."""
        self.token += 1
        self.loading = True
        return self.token

    def accept(self, token: int, page: Page[Any], rows: list[T]) -> bool:
        """Keep ``rows`` (page ``page`` of list ``token``); False for a stale list's page."""
        if token != self.token:
            return False
        if page.offset == 0:
            self.rows = list(rows)
        elif page.offset == len(self.rows):
            self.rows.extend(rows)
        else:
            return False  # a page that no longer joins on: a newer read is coming
        self.has_more = page.has_more
        self.loading = False
        return True

    def wants_more(self, cursor_row: int) -> bool:
        """Whether to read the next page now (and mark it as being read)."""
        if self.has_more and not self.loading and cursor_row >= len(self.rows) - MARGIN:
            self.loading = True
            return True
        return False
