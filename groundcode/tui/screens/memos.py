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

from typing import ClassVar

from textual import on
from textual.binding import BindingType
from textual.widgets import DataTable, Static

from groundcode.coding.records import MemoView
from groundcode.tui.commands import Key, localised
from groundcode.tui.context import app_of, posted, project_of, run_service
from groundcode.tui.i18n import tr
from groundcode.tui.messages import MemoSaved
from groundcode.tui.safe import plain
from groundcode.tui.screens.corpus import _clip
from groundcode.tui.screens.listing import ListScreen
from groundcode.tui.screens.screening import ask
from groundcode.tui.widgets.paged import PagedList, Pager

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
class MemosScreen(PagedList[MemoView], ListScreen[MemoView]):
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
    TABLE_ID = PAGED_TABLE = "memos-table"
    STATUS_ID = "memos-status"
    COLUMNS = (
        ("kind", "对象类型", "Target"),
        ("target", "对象", "Of"),
        ("author", "作者", "Author"),
        ("when", "时间", "When"),
        ("text", "内容", "Memo"),
    )

    def __init__(self) -> None:
        self.pager: Pager[MemoView] = Pager()
        super().__init__()
        self.search: str | None = None

    @property
    def records(self) -> list[MemoView]:
        """The memos loaded so far (the first pages of the list)."""
        return self.pager.rows

    @records.setter
    def records(self, rows: list[MemoView]) -> None:
        self.pager.rows = rows

    @property
    def memos(self) -> list[MemoView]:
        return self.records

    @memos.setter
    def memos(self, rows: list[MemoView]) -> None:
        self.records = rows

    def reload(self) -> None:
        """Read the list again from its first page (a search, an edit, coming back)."""
        self.restart_list()

    def read_page(self, token: int, offset: int) -> None:
        """One page of the memos the user may read (blind mode applied by the memos room)."""
        limit, search = self.pager.size, self.search

        def call() -> PagedList.PageLoaded:
            page = project_of(self).memos.memos_page(search=search, offset=offset, limit=limit)
            return self.PageLoaded(token, page, list(page.items))

        run_service(self, call, posted, group="memos-load")

    def save(self, memo_id: int | None, text: str) -> None:
        def call() -> MemoSaved:
            memos = project_of(self).memos
            if memo_id is None:
                memos.add_memo("project", None, text)
            else:
                memos.edit_memo(memo_id, text)
            return MemoSaved(memo_id)

        run_service(self, call, posted, group="memos-write", exclusive=False)

    @on(MemoSaved)
    def _saved(self, message: MemoSaved) -> None:
        message.stop()
        self.notify(tr("备忘录已保存", "Memo saved"))
        self.reload()

    def show_rows(self) -> None:
        table = self.query_one("#memos-table", DataTable)
        row = table.cursor_row
        table.clear()
        self._add_rows(self.memos)
        if self.memos:
            table.move_cursor(row=min(max(0, row), len(self.memos) - 1))
        self._status()

    def append_rows(self, rows: list[MemoView]) -> None:
        self._add_rows(rows)
        self._status()

    def _add_rows(self, rows: list[MemoView]) -> None:
        table = self.query_one("#memos-table", DataTable)
        width = max(20, self.app.size.width - 50)
        for m in rows:
            when = m.updated_at or m.created_at
            table.add_row(
                tr(*KIND.get(m.target_kind, (m.target_kind, m.target_kind))),
                _clip(m.target or "—", 16),
                m.author or "",
                f"{when:%Y-%m-%d %H:%M}",
                _clip(m.text, width),
                key=str(m.id),
            )

    def _status(self) -> None:
        found = tr(f"，含「{self.search}」", f" containing “{self.search}”") if self.search else ""
        n = self.pager.count()
        self.query_one("#memos-status", Static).update(
            plain(
                tr(
                    f"{n} 条备忘录{found} · / 搜索 · Enter 编辑 · g 转到对象",
                    f"{n} memos{found} · / search · Enter edit · g go to target",
                )
            )
        )

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
        memo = self.current()
        if memo is None:
            return
        memo_id = memo.id

        def done(text: str | None) -> None:
            if text:
                self.save(memo_id, text)

        ask(self, tr("编辑备忘录", "Edit the memo"), memo.text, done)

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
        memo = self.current()
        if memo is None or not memo.target:
            return
        app = app_of(self)
        if memo.target_kind == "document":
            app.open_document(memo.target)
        elif memo.target_kind in ("concept", "category", "main_category", "relation_class"):
            app.switch_mode("codebook")
        else:
            self.notify(
                tr("此备忘录没有可跳转的对象", "This memo has no target to go to"),
                severity="warning",
            )
