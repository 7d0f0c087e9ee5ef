"""A DataTable whose string cells and labels are data, never markup.

Textual's ``DataTable`` parses every ``str`` cell, column label and row label
as Rich markup: a document titled ``[/]标题`` in a cell raised ``MarkupError``
and killed the app. Every table of the TUI is this one, so no screen can
forget: strings become ``Text`` with control characters shown as escapes
(``groundcode.tui.safe.plain``); numbers and renderables pass unchanged.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text, TextType
from textual.widgets import DataTable
from textual.widgets.data_table import CellType, ColumnKey, RowKey

from groundcode.tui.safe import plain

__all__ = ["SafeTable"]


def _cell(value: Any) -> Any:
    return plain(value) if isinstance(value, str) else value


def _label(value: TextType | None) -> Text | None:
    return plain(value) if isinstance(value, str) else value


class SafeTable(DataTable[Any]):
    """``DataTable`` with every string cell and label shown as written."""

    def add_column(
        self,
        label: TextType,
        *,
        width: int | None = None,
        key: str | None = None,
        default: CellType | None = None,
    ) -> ColumnKey:
        return super().add_column(
            _label(label) or Text(), width=width, key=key, default=_cell(default)
        )

    def add_row(
        self,
        *cells: CellType,
        height: int | None = 1,
        key: str | None = None,
        label: TextType | None = None,
    ) -> RowKey:
        return super().add_row(
            *(_cell(c) for c in cells), height=height, key=key, label=_label(label)
        )

    def update_cell(
        self,
        row_key: RowKey | str,
        column_key: ColumnKey | str,
        value: CellType,
        *,
        update_width: bool = False,
    ) -> None:
        super().update_cell(row_key, column_key, _cell(value), update_width=update_width)
