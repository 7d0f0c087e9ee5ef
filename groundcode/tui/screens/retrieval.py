"""Retrieval: every coded segment of a concept, category or main category, across documents.

``c`` picks the code (fuzzy, all three levels); the table lists each segment
with its context, its document number and passage and, for a lead, its
coder. Enter opens the segment in the coding screen; ``x`` writes the list
to a file through the export service (personal documents left out, as in
every export). In blind mode a coder sees only their own segments (the
service applies it).

The list is read a page at a time (``QueryService.retrieve_page``) and the
next page when the cursor nears the last row loaded, so the first page costs
the same for a code with ten segments or a hundred thousand; the export
writes the whole list.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from groundcode.tui.commands import Key, localised
from groundcode.tui.context import ReportsWorkerErrors, app_of, posted, project_of, run_service
from groundcode.tui.i18n import tr
from groundcode.tui.safe import plain
from groundcode.tui.safe import shown as visible_text
from groundcode.tui.screens.corpus import _clip
from groundcode.tui.screens.screening import ask
from groundcode.tui.widgets.paged import PagedList, Pager
from groundcode.tui.widgets.table import SafeTable

if TYPE_CHECKING:
    from groundcode.analysis.queries import Segment

LEVELS = {
    "concept": ("概念", "concept"),
    "category": ("范畴", "category"),
    "main": ("主范畴", "main"),
}


@localised
class RetrievalScreen(PagedList["Segment"], ReportsWorkerErrors, Screen[None]):
    """The segments of one code with context; jump to them; export them."""

    CSS_PATH = "retrieval.tcss"
    KEYS: ClassVar[tuple[Key, ...]] = (
        Key("c", "choose", "选择代码", "Choose code", id="retrieval.choose"),
        Key("enter", "open", "打开编码", "Open", id="retrieval.open", show=False),
        Key("x", "export", "导出列表", "Export list", id="retrieval.export"),
    )
    BINDINGS: ClassVar[list[BindingType]] = []
    PAGED_TABLE = "retrieval-table"

    def __init__(self) -> None:
        super().__init__()
        self.codes: list[tuple[str, str]] = []  # (level, name)
        self.code: tuple[str, str] | None = None
        self.pager: Pager[Segment] = Pager()

    @property
    def segments(self) -> list[Segment]:
        """The segments loaded so far (the first pages of the list; blind mode applied in the room)."""
        return self.pager.rows

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(
            tr(
                "按 c 选择概念、范畴或主范畴",
                "Press c to choose a concept, category or main category",
            ),
            id="retrieval-status",
        )
        yield SafeTable(id="retrieval-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#retrieval-table", DataTable).focus()
        self.load_codes()

    @dataclass
    class CodesLoaded(Message):
        codes: list[tuple[str, str]]  # (level, name)

    @dataclass
    class Written(Message):
        path: str

    def load_codes(self) -> None:
        def call() -> list[tuple[str, str]]:
            frame = project_of(self).codebook.concepts_frame()
            codes: list[tuple[str, str]] = []
            for level, col in (
                ("concept", "concept"),
                ("category", "category"),
                ("main", "main_category"),
            ):
                for name in frame[col].dropna().unique().tolist():
                    codes.append((level, str(name)))
            return codes

        run_service(self, call, self.CodesLoaded, group="retrieval-codes")

    def retrieve(self, level: str, name: str) -> None:
        """Show the first page of ``name``'s segments."""
        self.code = (level, name)
        self.restart_list()

    def read_page(self, token: int, offset: int) -> None:
        """One page of the chosen code's segments with their context."""
        if self.code is None:
            return
        (level, name), limit = self.code, self.pager.size

        def call() -> PagedList.PageLoaded:
            page = project_of(self).queries.retrieve_page(
                name, level=level, context=30, offset=offset, limit=limit
            )
            return self.PageLoaded(token, page, list(page.items))

        run_service(self, call, posted, group="retrieval-load")

    def write(self, path: str, level: str, name: str) -> None:
        def call() -> str:
            # The export service writes it: cells neutralised, personal documents left out.
            exports = project_of(self).exports
            exports.retrieval(Path(path), name, level=level, context=30, force=True)
            return path

        run_service(self, call, self.Written, group="retrieval-export")

    @on(CodesLoaded)
    def _codes_loaded(self, message: CodesLoaded) -> None:
        message.stop()
        self.codes = message.codes

    @on(Written)
    def _written(self, message: Written) -> None:
        message.stop()
        self.notify(tr(f"已导出到 {message.path}", f"Exported to {message.path}"))

    def _label(self, level: str, name: str) -> str:
        return f"{tr(*LEVELS[level])}：{name}"

    def show_rows(self) -> None:
        lead = app_of(self).is_lead
        table = self.query_one("#retrieval-table", DataTable)
        table.clear(columns=True)
        # Fixed widths: the context column takes what the terminal has left, so the
        # list renders the same way however its rows arrive.
        width = self._context_width()
        table.add_column(tr("文本", "Doc."), key="document", width=7)
        table.add_column(tr("片段", "Psg"), key="passage", width=4)
        if lead:
            table.add_column(tr("编码人员", "Coder"), key="coder", width=9)
        table.add_column(tr("概念", "Concept"), key="concept", width=16)
        table.add_column(tr("上下文", "In context"), key="text", width=width)
        self._add_rows(self.segments)
        self._status()

    def append_rows(self, rows: list[Segment]) -> None:
        self._add_rows(rows)
        self._status()

    def _context_width(self) -> int:
        return max(30, self.app.size.width - 40 - (11 if app_of(self).is_lead else 0))

    def _add_rows(self, rows: list[Segment]) -> None:
        lead = app_of(self).is_lead
        table = self.query_one("#retrieval-table", DataTable)
        width = self._context_width()
        start = table.row_count
        for i, r in enumerate(rows, start=start):
            c = r.coding
            shown = Text()
            shown.append(_clip(visible_text(r.before), width // 4), style="dim")
            shown.append(_clip(visible_text(r.text), width // 2), style="bold")
            shown.append(_clip(visible_text(r.after), width // 4), style="dim")
            cells: list[Any] = [c.document, c.passage or ""]
            if lead:
                cells.append(c.coder or "")
            cells += [_clip(c.concept or "", 16), shown]
            table.add_row(*cells, key=str(i))

    def _status(self) -> None:
        assert self.code is not None
        docs = len({r.coding.document for r in self.segments})
        n = self.pager.count()
        more = tr("，向下翻页载入更多", ", page down for more") if self.pager.has_more else ""
        self.query_one("#retrieval-status", Static).update(
            plain(
                tr(
                    f"{self._label(*self.code)} · {n} 个编码片段，{docs} 个文本（Enter 打开，x 导出{more}）",
                    f"{self._label(*self.code)} · {n} segments in {docs} documents (Enter opens, x exports{more})",
                )
            )
        )

    def action_choose(self) -> None:
        labels = {self._label(level, name): (level, name) for level, name in self.codes}

        def done(label: str | None) -> None:
            if label and label in labels:
                self.retrieve(*labels[label])

        ask(self, tr("检索哪个代码？", "Which code?"), "", done, choices=list(labels), strict=True)

    def _current(self) -> Segment | None:
        table = self.query_one("#retrieval-table", DataTable)
        if 0 <= table.cursor_row < len(self.segments):
            return self.segments[table.cursor_row]
        return None

    def action_open(self) -> None:
        seg = self._current()
        if seg is not None:
            app_of(self).open_document(seg.coding.document, seg.coding.passage or None)

    @on(DataTable.RowSelected, "#retrieval-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_export(self) -> None:
        if not self.segments or self.code is None:
            self.notify(tr("先选择代码", "Choose a code first"), severity="warning")
            return
        level, name = self.code

        def done(path: str | None) -> None:
            if path:
                self.write(str(Path(path).expanduser()), level, name)

        ask(
            self,
            tr("导出到（.csv）", "Export to (.csv)"),
            str(Path.cwd() / f"segments-{self.code[1]}.csv"),
            done,
        )
