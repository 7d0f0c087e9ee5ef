"""The corpus screen: every document, filtered, searched, screened.

Rows are fetched once in a worker and added to the table in batches from
an async task on the UI loop, so a 100,000-document corpus appears at once
and fills in while the user already scrolls. Filters work on the rows in
memory (no new query); the preview, search, include and exclude go through
the corpus service in workers.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.cells import cell_len, get_character_cell_size
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Label, Static

from groundcode.tui.commands import Key, localised
from groundcode.tui.context import ReportsWorkerErrors, app_of, posted, project_of, run_service
from groundcode.tui.i18n import tr
from groundcode.tui.safe import escaped, plain, shown
from groundcode.tui.widgets.funnel import EXCLUSION_LABELS
from groundcode.tui.widgets.table import SafeTable

if TYPE_CHECKING:
    from groundcode.corpus.views import DocumentView, SearchResult

BATCH = 100
PAGE = 500  # rows in the table at a time: a DataTable slows down with 100,000 rows
TITLE_CELLS = 30
PREVIEW_CHARS = 1500
PREVIEW_DELAY = 0.15  # seconds
SPLITS: tuple[str | None, ...] = (None, "build", "holdout")
STATUSES: tuple[str | None, ...] = (None, "included", "excluded")
SPLIT_LABELS = {"build": ("建模集", "build"), "holdout": ("检验集", "holdout")}
TYPE_SHORT = {"policy": "政策", "media": "官媒", "academic": "学术", "selfmedia": "自媒体"}


@dataclass(frozen=True)
class DocRow:
    """One document as the table shows it (plain strings, no pandas)."""

    number: str
    type: str
    type_name: str
    title: str
    date: str
    split: str | None
    status: str
    exclusion: str | None
    passages: int


def _clip(text: str, cells: int) -> str:
    """``text`` on one line, cut to ``cells`` terminal cells (CJK counts two) with an ellipsis."""
    flat = " ".join(text.split())
    if cell_len(flat) <= cells:
        return flat
    out, used = [], 0
    for ch in flat:
        size = get_character_cell_size(ch)
        if used + size > cells - 1:
            break
        out.append(ch)
        used += size
    return "".join(out) + "…"


def _status_label(row: DocRow) -> str:
    """Short on purpose: the reason is in the preview pane."""
    return tr("纳入", "in") if row.status == "included" else tr("排除", "out")


@localised
class CorpusScreen(ReportsWorkerErrors, Screen[None]):
    """All documents with filters, search, preview and screening."""

    CSS_PATH = "corpus.tcss"
    KEYS: ClassVar[tuple[Key, ...]] = (
        Key("enter", "open", "打开编码", "Open", id="corpus.open", show=False),
        Key("slash", "search", "搜索", "Search", id="corpus.search", key_display="/"),
        Key("t", "cycle_type", "类型", "Type", id="corpus.type"),
        Key("s", "cycle_split", "集合", "Split", id="corpus.split"),
        Key("f", "cycle_status", "状态", "Status", id="corpus.status"),
        Key("x", "exclude", "排除", "Exclude", id="corpus.exclude"),
        Key("i", "include", "纳入", "Include", id="corpus.include"),
        Key(
            "escape", "close_hits", "关闭搜索结果", "Close hits", id="corpus.close_hits", show=False
        ),
        Key("r", "reload", "刷新", "Refresh", id="corpus.reload", show=False),
        Key(
            "right_square_bracket",
            "page(1)",
            "下一页",
            "Next page",
            id="corpus.next_page",
            key_display="]",
        ),
        Key(
            "left_square_bracket",
            "page(-1)",
            "上一页",
            "Previous page",
            id="corpus.prev_page",
            key_display="[",
            show=False,
        ),
    )
    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[DocRow] = []
        self.types: list[tuple[str, str]] = []
        self.type_filter: str | None = None
        self.split_filter: str | None = None
        self.status_filter: str | None = None
        self.shown: list[DocRow] = []
        self.page = 0
        self.has_dates = False
        self._title_cells = TITLE_CELLS
        self._generation = 0
        self._preview_for: str | None = None
        self._preview_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="filters")
        with Horizontal(id="corpus-body"):
            with Vertical(id="corpus-main"):
                yield SafeTable(id="docs", cursor_type="row", zebra_stripes=True)
                with Vertical(id="hits-box"):
                    yield Label("", id="hits-title", classes="panel-title")
                    yield SafeTable(id="hits", cursor_type="row")
            with VerticalScroll(id="preview-box"):
                yield Static(
                    tr("选择一个文本查看预览", "Highlight a document to preview it"), id="preview"
                )
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#docs", DataTable)
        hits = self.query_one("#hits", DataTable)
        hits.add_column(tr("文本", "Document"), key="document")
        hits.add_column(tr("片段", "Passage"), key="passage")
        hits.add_column(tr("摘录", "Snippet"), key="snippet")
        self.query_one("#hits-box").display = False
        table.loading = True
        table.focus()
        self.load_rows()

    # -- loading ---------------------------------------------------------
    # -- one message per kind of result ------------------------------------
    @dataclass
    class RowsLoaded(Message):
        rows: list[DocRow]

    @dataclass
    class PreviewLoaded(Message):
        doc: DocumentView

    @dataclass
    class SearchDone(Message):
        result: SearchResult

    @dataclass
    class StatusChanged(Message):
        """A document was included or excluded (committed)."""

        number: str
        status: str
        kind: str | None

    def load_rows(self) -> None:
        run_service(self, self._read_rows, self.RowsLoaded, group="corpus-rows")

    def _read_rows(self) -> list[DocRow]:
        frame = project_of(self).corpus.documents()
        return [
            DocRow(
                number=str(r.number),
                type=str(r.type),
                type_name=str(r.type_zh),
                title="" if r.title is None or r.title != r.title else str(r.title),  # type: ignore[operator]
                date="" if r.date is None or r.date != r.date else str(r.date),  # type: ignore[operator]
                split=r.split if isinstance(r.split, str) else None,
                status=str(r.status),
                exclusion=r.exclusion if isinstance(r.exclusion, str) else None,
                passages=int(r.passages),  # type: ignore[arg-type]
            )
            for r in frame.itertuples(index=False)
        ]

    def action_reload(self) -> None:
        self.load_rows()

    def _columns(self) -> None:
        """(Re)build the columns; the title takes the width the others leave."""
        table = self.query_one("#docs", DataTable)
        table.clear(columns=True)
        cols = [
            ("number", "编号", "No.", 6),
            ("type", "类型", "Type", 6),
            ("title", "标题", "Title", 0),
        ]
        if self.has_dates:
            cols.append(("date", "日期", "Date", 10))
        cols += [
            ("split", "集合", "Split", 6),
            ("status", "状态", "Status", 6),
            ("passages", "片段", "Psg", 4),
        ]
        fixed = sum(c[3] for c in cols) + 2 * len(cols) + 2
        width = table.size.width or self.app.size.width * 7 // 10
        self._title_cells = max(12, min(TITLE_CELLS * 2, width - fixed))
        for key, zh, en, _ in cols:
            table.add_column(tr(zh, en), key=key)

    def _row_cells(self, row: DocRow) -> tuple[Any, ...]:
        split = tr(*SPLIT_LABELS[row.split]) if row.split in SPLIT_LABELS else "—"
        kind = TYPE_SHORT.get(row.type, row.type_name) if tr("zh", "en") == "zh" else row.type
        cells: list[Any] = [row.number, _clip(kind, 6), _clip(row.title, self._title_cells)]
        if self.has_dates:
            cells.append(row.date[:10])
        cells += [split, _status_label(row), row.passages]
        return tuple(cells)

    def _matches(self, row: DocRow) -> bool:
        return (
            (self.type_filter is None or row.type == self.type_filter)
            and (self.split_filter is None or row.split == self.split_filter)
            and (self.status_filter is None or row.status == self.status_filter)
        )

    def refill(self) -> None:
        """Show the rows that pass the filters (first page), added in small batches."""
        self.shown = [r for r in self.rows if self._matches(r)]
        self.page = 0
        self._show_page()

    def _show_page(self) -> None:
        self._generation += 1
        self.query_one("#docs", DataTable).clear()
        self._show_filters()
        rows = self.shown[self.page * PAGE : (self.page + 1) * PAGE]
        self.run_worker(
            self._fill(self._generation, rows),
            exclusive=True,
            group="corpus-fill",
            exit_on_error=False,
        )

    @property
    def pages(self) -> int:
        return max(1, -(-len(self.shown) // PAGE))

    def action_page(self, delta: int) -> None:
        page = max(0, min(self.pages - 1, self.page + delta))
        if page != self.page:
            self.page = page
            self._show_page()

    async def _fill(self, generation: int, rows: list[DocRow]) -> None:
        table = self.query_one("#docs", DataTable)
        for i in range(0, len(rows), BATCH):
            if generation != self._generation:
                return
            for row in rows[i : i + BATCH]:
                table.add_row(*self._row_cells(row), key=row.number)
            if i == 0:
                table.loading = False
                self._preview_highlighted()
            await asyncio.sleep(0)
        table.loading = False

    def _show_filters(self) -> None:
        def show(value: str | None, label: str) -> str:
            return f"[b]{escaped(label)}[/b]" if value else tr("全部", "all")

        type_label = dict(self.types).get(self.type_filter or "", self.type_filter or "")
        split_label = tr(*SPLIT_LABELS[self.split_filter]) if self.split_filter else ""
        status_label = {"included": tr("纳入", "included"), "excluded": tr("排除", "excluded")}.get(
            self.status_filter or "", ""
        )
        text = tr(
            f"类型(t) {show(self.type_filter, type_label)} · 集合(s) {show(self.split_filter, split_label)}"
            f" · 状态(f) {show(self.status_filter, status_label)} · {len(self.shown)}/{len(self.rows)} 个文本",
            f"type(t) {show(self.type_filter, type_label)} · split(s) {show(self.split_filter, split_label)}"
            f" · status(f) {show(self.status_filter, status_label)} · {len(self.shown)}/{len(self.rows)} documents",
        )
        if self.pages > 1:
            text += tr(
                f" · 第 {self.page + 1}/{self.pages} 页 ([ ])",
                f" · page {self.page + 1}/{self.pages} ([ ])",
            )
        self.query_one("#filters", Static).update(text)

    # -- results from workers --------------------------------------------
    @on(RowsLoaded)
    def _rows_loaded(self, message: RowsLoaded) -> None:
        message.stop()
        self.rows = message.rows
        seen: dict[str, str] = {}
        for r in self.rows:
            seen.setdefault(r.type, r.type_name)
        self.has_dates = any(r.date for r in self.rows)
        self._columns()
        self.types = [
            (slug, name if tr("zh", "en") == "zh" else slug) for slug, name in seen.items()
        ]
        self.refill()

    @on(PreviewLoaded)
    def _preview_loaded(self, message: PreviewLoaded) -> None:
        message.stop()
        self._show_preview(message.doc)

    @on(SearchDone)
    def _search_done(self, message: SearchDone) -> None:
        message.stop()
        self._show_hits(message.result)

    @on(StatusChanged)
    def _status_message(self, message: StatusChanged) -> None:
        message.stop()
        self._status_changed(message.number, message.status, message.kind)

    # -- filters ---------------------------------------------------------
    @staticmethod
    def _cycle(values: list[str | None], current: str | None) -> str | None:
        index = values.index(current) if current in values else 0
        return values[(index + 1) % len(values)]

    def action_cycle_type(self) -> None:
        self.type_filter = self._cycle([None, *(slug for slug, _ in self.types)], self.type_filter)
        self.refill()

    def action_cycle_split(self) -> None:
        self.split_filter = self._cycle(list(SPLITS), self.split_filter)
        self.refill()

    def action_cycle_status(self) -> None:
        self.status_filter = self._cycle(list(STATUSES), self.status_filter)
        self.refill()

    # -- preview ---------------------------------------------------------
    def _current_number(self) -> str | None:
        table = self.query_one("#docs", DataTable)
        if not table.row_count or table.cursor_row < 0:
            return None
        try:
            key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key  # type: ignore[arg-type]
        except Exception:
            return None
        return str(key.value) if key.value is not None else None

    @on(DataTable.RowHighlighted, "#docs")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        # Wait until the cursor rests, so scrolling fast does not queue a fetch per row.
        if self._preview_timer is not None:
            self._preview_timer.stop()
        self._preview_timer = self.set_timer(PREVIEW_DELAY, self._preview_highlighted)

    def _preview_highlighted(self) -> None:
        number = self._current_number()
        if number and number != self._preview_for:
            self._preview_for = number
            self.load_preview(number)

    def load_preview(self, number: str) -> None:
        run_service(
            self,
            lambda: project_of(self).corpus.document(number),
            self.PreviewLoaded,
            group="corpus-preview",
        )

    def _show_preview(self, doc: DocumentView) -> None:
        if doc.number != self._preview_for:
            return
        text = Text()
        text.append(shown(f"{doc.number}  {doc.type_name}\n"), style="bold")
        if doc.title:
            text.append(shown(doc.title) + "\n", style="bold")
        meta = [m for m in (doc.date, doc.author, f"{doc.views} views" if doc.views else None) if m]
        if meta:
            text.append(shown(" · ".join(str(m) for m in meta)) + "\n", style="dim")
        split = (
            tr(*SPLIT_LABELS[doc.split]) if doc.split in SPLIT_LABELS else tr("未划分", "unsplit")
        )
        text.append(
            tr(
                f"{split} · {len(doc.passages)} 个片段\n",
                f"{split} · {len(doc.passages)} passages\n",
            ),
            style="dim",
        )
        if doc.status != "included":
            kind = EXCLUSION_LABELS.get(doc.exclusion_kind or "manual", ("", ""))
            text.append(tr(f"已排除：{kind[0]}", f"excluded: {kind[1]}"), style="bold")
            if doc.exclusion_detail:
                text.append(f"（{shown(doc.exclusion_detail)}）")
            text.append("\n")
        text.append("\n")
        text.append(shown(doc.text[:PREVIEW_CHARS]))
        if len(doc.text) > PREVIEW_CHARS:
            text.append("…", style="dim")
        self.query_one("#preview", Static).update(text)

    # -- search ----------------------------------------------------------
    def action_search(self) -> None:
        from groundcode.tui.screens.prompt import PromptScreen

        def done(term: str | None) -> None:
            if term:
                self.query_one("#hits-title", Label).update(
                    plain(tr(f"搜索「{term}」…", f"Searching “{term}”…"))
                )
                self.query_one("#hits-box").display = True
                self.run_search(term)

        self.app.push_screen(
            PromptScreen(tr("搜索语料（原文子串）", "Search the corpus (literal text)")), done
        )

    def run_search(self, term: str) -> None:
        run_service(
            self,
            lambda: project_of(self).corpus.search(term, limit=200),
            self.SearchDone,
            group="corpus-search",
        )

    def _show_hits(self, result: SearchResult) -> None:
        hits = self.query_one("#hits", DataTable)
        hits.clear()
        for i, hit in enumerate(result.hits):
            hits.add_row(
                hit.document,
                hit.passage,
                _clip(hit.snippet, 80),
                key=f"{i}:{hit.document}:{hit.passage}",
            )
        count = len(result.hits)
        self.query_one("#hits-title", Label).update(
            plain(
                tr(
                    f"「{result.term}」：{result.total} 处（显示 {count}；Enter 打开，Esc 关闭）",
                    f"“{result.term}”: {result.total} hits (showing {count}; Enter opens, Esc closes)",
                )
            )
        )
        self.query_one("#hits-box").display = True
        if count:
            hits.focus()

    def action_close_hits(self) -> None:
        self.query_one("#hits-box").display = False
        self.query_one("#docs", DataTable).focus()

    @on(DataTable.RowSelected, "#hits")
    def _hit_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        _, number, passage = str(event.row_key.value).split(":")
        app_of(self).open_document(number, int(passage))

    # -- open, include, exclude -----------------------------------------
    @on(DataTable.RowSelected, "#docs")
    def _doc_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value:
            app_of(self).open_document(str(event.row_key.value))

    def action_open(self) -> None:
        number = self._current_number()
        if number:
            app_of(self).open_document(number)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "page":
            return self.pages > 1
        if action in ("exclude", "include"):
            return app_of(self).is_lead
        if action == "close_hits":
            return bool(self.query_one("#hits-box").display)
        return True

    def action_exclude(self) -> None:
        from groundcode.tui.screens.prompt import PromptScreen

        number = self._current_number()
        if not number:
            return

        def done(reason: str | None) -> None:
            if reason:
                self.set_status(number, False, reason)

        self.app.push_screen(
            PromptScreen(tr(f"排除 {number} 的理由", f"Why exclude {number}?")), done
        )

    def action_include(self) -> None:
        number = self._current_number()
        if number:
            self.set_status(number, True, None)

    def set_status(self, number: str, include: bool, reason: str | None) -> None:
        def call() -> CorpusScreen.StatusChanged:
            p = project_of(self)
            if include:
                p.corpus.include([number])
            else:
                p.corpus.exclude([number], reason=reason or "")
            doc = p.corpus.document(number)
            return self.StatusChanged(number, doc.status, doc.exclusion_kind)

        run_service(self, call, posted, group="corpus-status")

    def _status_changed(self, number: str, status: str, kind: str | None) -> None:
        for i, row in enumerate(self.rows):
            if row.number == number:
                new = DocRow(**{**row.__dict__, "status": status, "exclusion": kind})
                self.rows[i] = new
                table = self.query_one("#docs", DataTable)
                if number in table.rows:
                    table.update_cell(number, "status", _status_label(new))
                break
        self._preview_for = None
        self._preview_highlighted()
        self.notify(
            tr(f"{number}：{'已纳入' if status == 'included' else '已排除'}", f"{number}: {status}")
        )
