"""Memos: every memo the user may read, by target, searchable, editable, with a jump.

``/`` filters by text (the service searches), Enter edits the highlighted
memo, ``n`` writes a project memo, ``g`` jumps to the memo's target (a
document opens in the coding screen, a code in the codebook). Blind mode
applies through the service: a coder sees only their own memos.

The list is read a page at a time (``MemoService.memos_page``, in the order
the memos were written); the next page is read when the cursor nears the
last row loaded, so the first page does not grow with the project.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from groundcode.tui.commands import Key, localised
from groundcode.tui.context import ReportsWorkerErrors, app_of, project_of
from groundcode.tui.i18n import tr
from groundcode.tui.messages import ServiceResult
from groundcode.tui.screens.corpus import _clip
from groundcode.tui.screens.screening import ask
from groundcode.tui.widgets.paged import Pager

KIND = {
    "project": ("项目", "project"),
    "document": ("文本", "document"),
    "concept": ("概念", "concept"),
    "category": ("范畴", "category"),
    "main_category": ("主范畴", "main category"),
    "relation_class": ("关系类别", "relation class"),
    "coding": ("编码", "coding"),
}


@localised
class MemosScreen(ReportsWorkerErrors, Screen[None]):
    """All memos by target; search, edit, add, jump."""

    CSS_PATH = "memos.tcss"
    KEYS: ClassVar[tuple[Key, ...]] = (
        Key("slash", "search", "搜索", "Search", id="memos.search", key_display="/"),
        Key("enter", "edit", "编辑", "Edit", id="memos.edit"),
        Key("n", "new", "新备忘录", "New memo", id="memos.new"),
        Key("g", "jump", "转到对象", "Go to target", id="memos.jump"),
        Key("r", "reload", "刷新", "Refresh", id="memos.reload", show=False),
    )
    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self) -> None:
        super().__init__()
        self.search: str | None = None
        self.pager: Pager[dict[str, Any]] = Pager()

    @property
    def memos(self) -> list[dict[str, Any]]:
        """The memos loaded so far (the first pages of the list)."""
        return self.pager.rows

    @memos.setter
    def memos(self, rows: list[dict[str, Any]]) -> None:
        self.pager.rows = rows

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="memos-status")
        yield DataTable(id="memos-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#memos-table", DataTable)
        for key, zh, en in (
            ("kind", "对象类型", "Target"),
            ("target", "对象", "Of"),
            ("author", "作者", "Author"),
            ("when", "时间", "When"),
            ("text", "内容", "Memo"),
        ):
            table.add_column(tr(zh, en), key=key)
        table.focus()
        self.reload()

    def on_screen_resume(self) -> None:
        self.reload()

    def action_reload(self) -> None:
        self.reload()

    def reload(self) -> None:
        """Read the list again from its first page (a search, an edit, coming back)."""
        self.load_page(self.pager.restart(), 0, self.search)

    @work(thread=True, exclusive=True, exit_on_error=False, group="memos-load")
    def load_page(self, token: int, offset: int, search: str | None) -> None:
        page = project_of(self).memos.memos_page(
            search=search, offset=offset, limit=self.pager.size
        )
        rows = [
            {
                "id": m.id,
                "kind": m.target_kind,
                "target": m.target,
                "author": m.author,
                "text": m.text,
                "created_at": m.created_at,
                "updated_at": m.updated_at,
            }
            for m in page.items
        ]
        self.post_message(ServiceResult("memos", (page, rows), token))

    @work(thread=True, exclusive=False, exit_on_error=False, group="memos-write")
    def save(self, memo_id: int | None, text: str) -> None:
        c = project_of(self).coding
        if memo_id is None:
            c.add_memo("project", None, text)
        else:
            c.edit_memo(memo_id, text)
        self.post_message(ServiceResult("saved", memo_id))

    @on(ServiceResult)
    def _result(self, message: ServiceResult) -> None:
        message.stop()
        if message.tag == "memos":
            page, rows = message.value
            first = page.offset == 0
            if not self.pager.accept(message.token, page, rows):
                return
            if first:
                self._show()
            else:
                self._append(rows)
        elif message.tag == "saved":
            self.notify(tr("备忘录已保存", "Memo saved"))
            self.reload()

    def _show(self) -> None:
        table = self.query_one("#memos-table", DataTable)
        row = table.cursor_row
        table.clear()
        self._add_rows(self.memos)
        if self.memos:
            table.move_cursor(row=min(max(0, row), len(self.memos) - 1))
        self._status()

    def _append(self, rows: list[dict[str, Any]]) -> None:
        self._add_rows(rows)
        self._status()

    def _add_rows(self, rows: list[dict[str, Any]]) -> None:
        table = self.query_one("#memos-table", DataTable)
        width = max(20, self.app.size.width - 50)
        for m in rows:
            when = m.get("updated_at") or m.get("created_at")
            table.add_row(
                tr(*KIND.get(m["kind"], (m["kind"], m["kind"]))),
                _clip(str(m.get("target") or "—"), 16),
                m.get("author") or "",
                f"{when:%Y-%m-%d %H:%M}" if when is not None and hasattr(when, "strftime") else "",
                _clip(str(m["text"]), width),
                key=str(m["id"]),
            )

    def _status(self) -> None:
        found = tr(f"，含「{self.search}」", f" containing “{self.search}”") if self.search else ""
        n = f"{len(self.memos)}+" if self.pager.has_more else str(len(self.memos))
        self.query_one("#memos-status", Static).update(
            tr(
                f"{n} 条备忘录{found} · / 搜索 · Enter 编辑 · g 转到对象",
                f"{n} memos{found} · / search · Enter edit · g go to target",
            )
        )

    @on(DataTable.RowHighlighted, "#memos-table")
    def _moved(self, event: DataTable.RowHighlighted) -> None:
        if self.pager.wants_more(event.cursor_row):
            self.load_page(self.pager.token, len(self.memos), self.search)

    def _current(self) -> dict[str, Any] | None:
        table = self.query_one("#memos-table", DataTable)
        if 0 <= table.cursor_row < len(self.memos):
            return self.memos[table.cursor_row]
        return None

    def action_search(self) -> None:
        def done(text: str | None) -> None:
            if text is not None:
                self.search = text.strip() or None
                self.reload()

        ask(
            self,
            tr("搜索备忘录（留空显示全部）", "Search memos (empty for all)"),
            self.search or "",
            done,
            allow_empty=True,
        )

    def action_edit(self) -> None:
        memo = self._current()
        if memo is None:
            return
        memo_id = int(memo["id"])

        def done(text: str | None) -> None:
            if text:
                self.save(memo_id, text)

        ask(self, tr("编辑备忘录", "Edit the memo"), str(memo["text"]), done)

    @on(DataTable.RowSelected, "#memos-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_edit()

    def action_new(self) -> None:
        def done(text: str | None) -> None:
            if text:
                self.save(None, text)

        ask(self, tr("新的项目备忘录", "A new project memo"), "", done)

    def action_jump(self) -> None:
        memo = self._current()
        if memo is None or not memo.get("target"):
            return
        app = app_of(self)
        if memo["kind"] == "document":
            app.open_document(str(memo["target"]))
        elif memo["kind"] in ("concept", "category", "main_category", "relation_class"):
            app.switch_mode("codebook")
        else:
            self.notify(
                tr("此备忘录没有可跳转的对象", "This memo has no target to go to"),
                severity="warning",
            )
