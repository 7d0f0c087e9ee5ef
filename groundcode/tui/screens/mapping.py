"""The column-mapping step of a spreadsheet import, with a live preview.

The dialog reads the header and the first 20 rows once (in a worker, with the
detected encoding), proposes a column for each field from the header names
(``groundcode.corpus.mapping.guess_columns``) and shows the rows exactly as
the import will store them; every change of a column redraws the preview.
Rows the import would refuse (an empty text, a date it cannot read) show
their error in place, so a wrong mapping is visible before anything is
written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from groundcode.tui.commands import Key, localised
from groundcode.tui.context import ReportsWorkerErrors, posted, run_service
from groundcode.tui.i18n import one_line, tr
from groundcode.tui.safe import plain
from groundcode.tui.screens.corpus import _clip
from groundcode.tui.widgets.table import SafeTable

if TYPE_CHECKING:
    from groundcode.corpus.mapping import Preview, PreviewRow, Table

FIELD_LABELS = {
    "text": ("正文", "text"),
    "title": ("标题", "title"),
    "date": ("日期", "date"),
    "views": ("阅读/点赞数", "views"),
    "url": ("链接", "url"),
    "author": ("作者", "author"),
}
NONE = "—"


@localised
class MappingScreen(ReportsWorkerErrors, ModalScreen[dict[str, str | None] | None]):
    """Field -> column for one spreadsheet file; ``s`` keeps the mapping, Escape drops it."""

    CSS_PATH = "mapping.tcss"
    KEYS: ClassVar[tuple[Key, ...]] = (
        Key("enter", "choose", "选择列", "Choose column", id="mapping.choose"),
        Key("n", "unset", "不导入此项", "No column", id="mapping.none"),
        Key("s", "accept", "确定", "Accept", id="mapping.accept"),
        Key("escape", "cancel", "取消", "Cancel", id="mapping.cancel"),
    )
    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self, path: Path, mapping: dict[str, str | None] | None = None) -> None:
        super().__init__()
        self.path = path
        self.mapping: dict[str, str | None] = dict(mapping) if mapping else {}
        self.table: Table | None = None
        self.shown: Preview | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="mapping-dialog"):
            yield Label(
                tr(f"列映射：{self.path.name}", f"Columns of {self.path.name}"), id="mapping-title"
            )
            yield Static(tr("正在读取…", "Reading…"), id="mapping-info")
            yield SafeTable(id="mapping-fields", cursor_type="row")
            yield Label(
                tr("前 20 行（与导入结果一致）", "First 20 rows, as they will be imported"),
                classes="panel-title",
            )
            yield SafeTable(id="mapping-preview", cursor_type="row", zebra_stripes=True)
            yield Static(
                tr(
                    "Enter 选择列 · n 不导入此项 · s 确定 · Esc 取消",
                    "Enter choose a column · n no column · s accept · Esc cancel",
                ),
                id="mapping-hint",
            )

    def on_mount(self) -> None:
        fields = self.query_one("#mapping-fields", DataTable)
        # Fixed widths: a column sized from the rows would change as the workers fill them.
        fields.add_column(tr("字段", "Field"), key="field", width=14)
        fields.add_column(tr("列", "Column"), key="column", width=28)
        fields.loading = True
        fields.focus()
        self.read()

    @dataclass
    class TableRead(Message):
        """The file's first rows; ``problem``: why it cannot be read (the dialog closes)."""

        table: Table | None
        guessed: dict[str, str | None]
        problem: BaseException | None = None

    @dataclass
    class PreviewMade(Message):
        """The rows as the import would store them; ``problem``: the mapping cannot work."""

        preview: Preview | None
        problem: BaseException | None = None

    def read(self) -> None:
        path = self.path

        def call() -> MappingScreen.TableRead:
            from groundcode.corpus.mapping import guess_columns, read_table

            try:
                table = read_table(path)
            except Exception as exc:  # any unreadable file is one line, then the dialog closes
                return self.TableRead(None, {}, exc)
            return self.TableRead(table, guess_columns(table.columns))

        run_service(self, call, posted, group="mapping-read")

    def redo_preview(self, mapping: dict[str, str | None]) -> None:
        table = self.table
        assert table is not None

        def call() -> MappingScreen.PreviewMade:
            from groundcode.corpus.mapping import preview

            try:
                return self.PreviewMade(preview(table, mapping))
            except Exception as exc:  # shown in the dialog: the user picks another column
                return self.PreviewMade(None, exc)

        run_service(self, call, posted, group="mapping-preview")

    @on(TableRead)
    def _table_read(self, message: TableRead) -> None:
        from groundcode.tui.i18n import one_line

        message.stop()
        if message.table is None:
            self.notify(one_line(message.problem), severity="error")
            self.dismiss(None)
            return
        self.table = message.table
        if not self.mapping:
            self.mapping = message.guessed
        self._show_fields()
        self.redo_preview(dict(self.mapping))

    @on(PreviewMade)
    def _preview_made(self, message: PreviewMade) -> None:
        from groundcode.tui.i18n import one_line

        message.stop()
        if message.preview is not None:
            self._show_preview(message.preview)
            return
        self.query_one("#mapping-info", Static).update(plain(one_line(message.problem)))
        self.query_one("#mapping-preview", DataTable).clear(columns=True)

    def _show_fields(self) -> None:
        from groundcode.corpus.mapping import FIELDS

        fields = self.query_one("#mapping-fields", DataTable)
        row = fields.cursor_row
        fields.loading = False
        fields.clear()
        for f in FIELDS:
            fields.add_row(tr(*FIELD_LABELS[f]), self.mapping.get(f) or NONE, key=f)
        fields.move_cursor(row=max(0, row))

    def _show_preview(self, shown: Preview) -> None:
        self.shown = shown
        assert self.table is not None
        enc = shown.encoding or "xlsx"
        bad = len(shown.errors)
        info = tr(
            f"编码：{enc} · {len(self.table.columns)} 列 · 预览 {len(shown.rows)} 行",
            f"encoding: {enc} · {len(self.table.columns)} columns · {len(shown.rows)} rows shown",
        )
        if bad:
            info += tr(f" · {bad} 行无法导入", f" · {bad} rows would fail")
        self.query_one("#mapping-info", Static).update(plain(info))
        table = self.query_one("#mapping-preview", DataTable)
        table.clear(columns=True)
        # Every column has a fixed width (the text column shares what the terminal has
        # left), so the preview renders the same way whatever rows arrive first.
        width = max(20, self.app.size.width // 2 - 10)
        for key, zh, en, cells in (
            ("row", "行", "Row", 5),
            ("text", "正文", "Text", width),
            ("date", "日期", "Date", 16),
            ("views", "数", "Views", 8),
            ("author", "作者", "Author", 10),
            ("title", "标题", "Title", 16),
            ("url", "链接", "URL", 24),
        ):
            table.add_column(tr(zh, en), key=key, width=cells)
        for r in shown.rows:
            d = r.document
            if d is None:
                table.add_row(
                    r.row,
                    Text(_clip(_problem(r), width), style="bold red"),
                    "",
                    "",
                    "",
                    "",
                    "",
                )
                continue
            table.add_row(
                r.row,
                _clip(d.text, width),
                (d.date or "")[:16],
                "" if d.views is None else d.views,
                _clip(d.author or "", 10),
                _clip(d.title or "", 16),
                _clip(d.url or "", 24),
            )

    # -- actions ---------------------------------------------------------
    def _field(self) -> str | None:
        from groundcode.corpus.mapping import FIELDS

        row = self.query_one("#mapping-fields", DataTable).cursor_row
        return FIELDS[row] if 0 <= row < len(FIELDS) else None

    def _set(self, field: str, column: str | None) -> None:
        self.mapping[field] = column
        self._show_fields()
        self.redo_preview(dict(self.mapping))

    def action_choose(self) -> None:
        from groundcode.tui.screens.prompt import PromptScreen

        field = self._field()
        if field is None or self.table is None:
            return

        def done(column: str | None) -> None:
            if column is not None:
                self._set(field, None if column == NONE else column)

        self.app.push_screen(
            PromptScreen(
                tr(f"「{tr(*FIELD_LABELS[field])}」取自哪一列？", f"Which column is the {field}?"),
                choices=[*self.table.columns, NONE],
                strict=True,
            ),
            done,
        )

    @on(DataTable.RowSelected, "#mapping-fields")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_choose()

    def action_unset(self) -> None:
        field = self._field()
        if field is not None:
            self._set(field, None)

    def action_accept(self) -> None:
        if self.table is None:
            return
        if not self.mapping.get("text"):
            self.notify(tr("必须选择正文列", "Choose the text column"), severity="error")
            return
        if self.shown is not None and self.shown.errors:
            self.notify(
                tr(
                    f"注意：预览中 {len(self.shown.errors)} 行无法导入，导入时会停在第一处",
                    f"Note: {len(self.shown.errors)} preview rows would fail; the import stops at the first",
                ),
                severity="warning",
            )
        self.dismiss(dict(self.mapping))

    def action_cancel(self) -> None:
        self.dismiss(None)


def _problem(row: PreviewRow) -> str:
    """A preview row's error in the interface language."""
    return one_line(row.problem) if row.problem is not None else row.error or ""
