"""Long lists a page at a time: the first page costs the same at any project size.

A screen keeps a ``Pager`` beside its table. ``restart()`` begins a new list
(a new search, a reload) and returns a token; the screen's worker reads one
page with a paged service call (``memos_page``, ``exclusions_page``,
``segments_page`` ...) and posts it with that token; ``accept`` keeps it only
if no newer list was started meanwhile. When the table's cursor comes near
the last row loaded (arrow keys, PageDown, End), ``wants_more`` says to read
the next page from ``len(rows)`` on.

``PagedList`` is that handling once, for a screen: it says how to read a
page (``read_page``) and how to show the first page and add a later one; the
mixin restarts the list, reads on when the cursor nears the end of its table
and drops a stale list's pages. The memos, retrieval and screening screens
had written it out three times.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from textual.message import Message
from textual.widgets import DataTable

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

    def count(self) -> str:
        """How many rows are loaded, for a status line: ``100+`` while more exist."""
        return f"{len(self.rows)}+" if self.has_more else str(len(self.rows))

    def wants_more(self, cursor_row: int) -> bool:
        """Whether to read the next page now (and mark it as being read)."""
        if self.has_more and not self.loading and cursor_row >= len(self.rows) - MARGIN:
            self.loading = True
            return True
        return False


class PagedList(Generic[T]):
    """Mixin for a screen with one paged table (``PAGED_TABLE``) fed by ``pager``.

    The screen implements ``read_page`` (start a worker that reads one page and
    posts ``PagedList.PageLoaded``), ``show_rows`` (fill the table anew from
    ``pager.rows``) and ``append_rows`` (add a later page). A plain mixin, as
    ``ReportsWorkerErrors``: Textual finds its ``on_...`` handlers through the
    screen's MRO.
    """

    #: The id of the table the pager feeds (other tables on the screen are ignored).
    PAGED_TABLE: ClassVar[str]
    pager: Pager[T]

    @dataclass
    class PageLoaded(Message):
        """One page of the list (``token``: which list it belongs to)."""

        token: int
        page: Page[Any]
        rows: list[Any]

    def read_page(self, token: int, offset: int) -> None:
        """Read the page at ``offset`` of list ``token`` in a worker; post ``PageLoaded``."""
        raise NotImplementedError

    def show_rows(self) -> None:
        """Fill the table anew from ``pager.rows`` (the first page arrived)."""
        raise NotImplementedError

    def append_rows(self, rows: list[T]) -> None:
        """Add the rows of a later page to the table."""
        raise NotImplementedError

    def restart_list(self) -> None:
        """Read the list again from its first page (a search, an edit, coming back)."""
        self.read_page(self.pager.restart(), 0)

    def take_page(self, token: int, page: Page[Any], rows: list[T]) -> bool:
        """Keep and show one page; False (nothing shown) for a stale list's page."""
        if not self.pager.accept(token, page, rows):
            return False
        if page.offset == 0:
            self.show_rows()
        else:
            self.append_rows(rows)
        return True

    def on_paged_list_page_loaded(self, message: PagedList.PageLoaded) -> None:
        message.stop()
        self.take_page(message.token, message.page, message.rows)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == self.PAGED_TABLE and self.pager.wants_more(event.cursor_row):
            self.read_page(self.pager.token, len(self.pager.rows))
