"""Memos: every memo the user may read, by target, searchable, editable, with a jump.

``/`` filters by text (the service searches), Enter edits the highlighted
memo, ``n`` writes a project memo, ``g`` jumps to the memo's target (a
document opens in the coding screen, a code in the codebook). Blind mode
applies through the service: a coder sees only their own memos.
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
        self.memos: list[dict[str, Any]] = []

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

    @work(thread=True, exclusive=True, exit_on_error=False, group="memos-load")
    def reload(self) -> None:
        frame = project_of(self).coding.memos(search=self.search)
        rows = frame.sort_values(["kind", "target", "created_at"], na_position="first").to_dict(
            "records"
        )
        self.post_message(ServiceResult("memos", rows))

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
            self.memos = message.value
            self._show()
        elif message.tag == "saved":
            self.notify(tr("备忘录已保存", "Memo saved"))
            self.reload()

    def _show(self) -> None:
        table = self.query_one("#memos-table", DataTable)
        row = table.cursor_row
        table.clear()
        width = max(20, self.app.size.width - 50)
        for m in self.memos:
            when = m.get("updated_at") or m.get("created_at")
            table.add_row(
                tr(*KIND.get(m["kind"], (m["kind"], m["kind"]))),
                _clip(str(m.get("target") or "—"), 16),
                m.get("author") or "",
                f"{when:%Y-%m-%d %H:%M}" if when is not None and hasattr(when, "strftime") else "",
                _clip(str(m["text"]), width),
                key=str(m["id"]),
            )
        if self.memos:
            table.move_cursor(row=min(max(0, row), len(self.memos) - 1))
        found = tr(f"，含「{self.search}」", f" containing “{self.search}”") if self.search else ""
        self.query_one("#memos-status", Static).update(
            tr(
                f"{len(self.memos)} 条备忘录{found} · / 搜索 · Enter 编辑 · g 转到对象",
                f"{len(self.memos)} memos{found} · / search · Enter edit · g go to target",
            )
        )

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
