"""The paged-list handling the memos, retrieval and screening screens share.

The screens' Pilot tests page through real projects; these check the rules
themselves on a stand-in screen: a stale list's page is dropped, a page that
no longer joins on is dropped, the next page is read once when the cursor
nears the end, and only for the paged table.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from groundcode.domain.paging import Page
from groundcode.tui.widgets.paged import MARGIN, PagedList, Pager


class _List(PagedList[int]):
    PAGED_TABLE = "rows"

    def __init__(self, size: int) -> None:
        self.pager: Pager[int] = Pager(size=size)
        self.reads: list[tuple[int, int]] = []
        self.shown: list[list[int]] = []
        self.added: list[list[int]] = []

    def read_page(self, token: int, offset: int) -> None:
        self.reads.append((token, offset))

    def show_rows(self) -> None:
        self.shown.append(list(self.pager.rows))

    def append_rows(self, rows: list[int]) -> None:
        self.added.append(rows)


def _page(offset: int, n: int, has_more: bool) -> tuple[Page[int], list[int]]:
    rows = list(range(offset, offset + n))
    return Page(tuple(rows), offset, n, has_more), rows


def _highlight(table: str, row: int) -> Any:
    return SimpleNamespace(data_table=SimpleNamespace(id=table), cursor_row=row)


def test_a_list_restarts_shows_its_first_page_and_reads_on_near_the_end() -> None:
    screen = _List(size=20)
    screen.restart_list()
    assert screen.reads == [(1, 0)]
    assert screen.take_page(1, *_page(0, 20, True))
    assert screen.shown == [list(range(20))] and screen.pager.count() == "20+"

    screen.on_data_table_row_highlighted(_highlight("rows", 20 - MARGIN - 1))
    screen.on_data_table_row_highlighted(_highlight("other", 19))
    assert screen.reads == [(1, 0)]  # not near the end yet; another table's cursor
    screen.on_data_table_row_highlighted(_highlight("rows", 20 - MARGIN))
    screen.on_data_table_row_highlighted(_highlight("rows", 19))
    assert screen.reads == [(1, 0), (1, 20)]  # once: the page is being read

    assert screen.take_page(1, *_page(20, 5, False))
    assert screen.added == [list(range(20, 25))]
    assert screen.pager.rows == list(range(25)) and screen.pager.count() == "25"
    screen.on_data_table_row_highlighted(_highlight("rows", 24))
    assert screen.reads == [(1, 0), (1, 20)]  # nothing more to read


def test_a_stale_lists_page_and_a_page_that_does_not_join_on_are_dropped() -> None:
    screen = _List(size=10)
    screen.restart_list()
    screen.take_page(1, *_page(0, 10, True))
    screen.restart_list()  # a new search before the next page arrived
    assert not screen.take_page(1, *_page(10, 10, True))
    assert not screen.take_page(2, *_page(30, 10, True))
    assert screen.pager.rows == list(range(10)) and screen.added == []
    assert screen.take_page(2, *_page(0, 3, False))
    assert screen.shown[-1] == [0, 1, 2] and not screen.pager.has_more
