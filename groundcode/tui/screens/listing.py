"""A screen that is one status line and one table of records (memos, people).

The memos and people screens had the same forty lines: a header, a status
line, a table with localised columns, focus, reload on mount, on resume and
on ``r``, and "the record under the cursor". They are written once here;
a screen names its columns and ids and says how to ``reload``.
"""

from __future__ import annotations

from typing import ClassVar, Generic, TypeVar

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label, Static

from groundcode.tui.context import ReportsWorkerErrors
from groundcode.tui.i18n import tr
from groundcode.tui.widgets.table import SafeTable

R = TypeVar("R")


class ListScreen(ReportsWorkerErrors, Screen[None], Generic[R]):
    """Status line, optional heading, one table of ``records``; ``reload`` fills it."""

    TABLE_ID: ClassVar[str]
    STATUS_ID: ClassVar[str]
    # (column key, zh label, en label)
    COLUMNS: ClassVar[tuple[tuple[str, str, str], ...]]
    HEADING: ClassVar[tuple[str, str] | None] = None

    def __init__(self) -> None:
        super().__init__()
        self._records: list[R] = []

    @property
    def records(self) -> list[R]:
        """The records shown (a paged screen keeps them in its pager)."""
        return self._records

    @records.setter
    def records(self, rows: list[R]) -> None:
        self._records = rows

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id=self.STATUS_ID)
        if self.HEADING is not None:
            yield Label(tr(*self.HEADING), classes="panel-title")
        yield SafeTable(id=self.TABLE_ID, cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.table
        for key, zh, en in self.COLUMNS:
            table.add_column(tr(zh, en), key=key)
        table.focus()
        self.reload()

    def on_screen_resume(self) -> None:
        self.reload()

    def action_reload(self) -> None:
        self.reload()

    def reload(self) -> None:
        """Read the records in a worker (``run_service``); the result fills the table."""
        raise NotImplementedError

    @property
    def table(self) -> DataTable[object]:
        return self.query_one(f"#{self.TABLE_ID}", DataTable)

    def current(self) -> R | None:
        """The record under the table's cursor."""
        row = self.table.cursor_row
        return self.records[row] if 0 <= row < len(self.records) else None
