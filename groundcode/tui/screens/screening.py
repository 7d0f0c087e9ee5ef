"""The screening screen: rules with live counts, the excluded list, include back, the funnel.

Every change of a rule (keywords any/all, date range, minimum characters)
runs the screening as a dry run in a worker, so the table shows, by source
type and reason, what the rules would exclude before anything is applied;
``x`` applies them (one service call). The excluded list shows each
document's reason and who decided when; ``i`` includes one back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label, Static

from groundcode.tui.commands import Key, localised
from groundcode.tui.context import ReportsWorkerErrors, app_of, posted, project_of, run_service
from groundcode.tui.i18n import tr
from groundcode.tui.safe import plain
from groundcode.tui.screens.corpus import _clip
from groundcode.tui.widgets.funnel import EXCLUSION_LABELS, FunnelTable
from groundcode.tui.widgets.paged import PagedList, Pager
from groundcode.tui.widgets.table import SafeTable

if TYPE_CHECKING:
    from groundcode.corpus.views import ExclusionView, Funnel, ScreenReport
    from groundcode.domain.paging import Page


def ask(screen: Screen[Any], title: str, initial: str, done: Any, **kw: Any) -> None:
    """A one-line question (the shared prompt dialog); ``done`` gets the text or None."""
    from groundcode.tui.screens.prompt import PromptScreen

    screen.app.push_screen(PromptScreen(title, initial, **kw), done)


def kind_label(kind: str) -> str:
    return tr(*EXCLUSION_LABELS.get(kind, (kind, kind)))


@localised
class ScreeningScreen(PagedList["ExclusionView"], ReportsWorkerErrors, Screen[None]):
    """Screening rules, their effect before they apply, and the excluded documents."""

    CSS_PATH = "screening.tcss"
    KEYS: ClassVar[tuple[Key, ...]] = (
        Key("k", "keywords", "关键词", "Keywords", id="screening.keywords"),
        Key("a", "toggle_mode", "任一/全部", "Any/all", id="screening.mode"),
        Key("f", "date_from", "起始日期", "From date", id="screening.from"),
        Key("t", "date_to", "截止日期", "To date", id="screening.to"),
        Key("c", "min_chars", "最少字数", "Min chars", id="screening.min_chars"),
        Key("x", "apply", "应用规则", "Apply rules", id="screening.apply"),
        Key("i", "include", "重新纳入", "Include back", id="screening.include"),
        Key("r", "reload", "刷新", "Refresh", id="screening.reload", show=False),
    )
    BINDINGS: ClassVar[list[BindingType]] = []
    PAGED_TABLE = "screening-excluded"

    def __init__(self) -> None:
        super().__init__()
        self.keywords: list[str] = []
        self.mode = "any"
        self.date_from: str | None = None
        self.date_to: str | None = None
        self.min_chars: int | None = None
        self.pager: Pager[ExclusionView] = Pager()
        self.excluded_total: int | None = None  # from the funnel: every excluded document
        self.would: ScreenReport | None = None

    @property
    def excluded(self) -> list[ExclusionView]:
        """The excluded documents loaded so far (``exclusions_page``, a page at a time)."""
        return self.pager.rows

    @excluded.setter
    def excluded(self, rows: list[ExclusionView]) -> None:
        self.pager.rows = rows

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="screening-rules")
        with Horizontal(id="screening-top"):
            with Vertical(id="screening-would-box"):
                yield Label(
                    tr("规则将排除（尚未应用）", "The rules would exclude (not applied)"),
                    classes="panel-title",
                )
                yield SafeTable(id="screening-would", cursor_type="row")
            with Vertical(id="screening-funnel-box"):
                yield Label(tr("语料漏斗", "Corpus funnel"), classes="panel-title")
                yield FunnelTable(id="screening-funnel")
        yield Label("", id="screening-excluded-title", classes="panel-title")
        yield SafeTable(id="screening-excluded", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#screening-excluded", DataTable)
        for key, zh, en in (
            ("number", "编号", "No."),
            ("type", "类型", "Type"),
            ("kind", "原因", "Reason"),
            ("detail", "说明", "Detail"),
            ("by", "决定人", "By"),
            ("at", "时间", "When"),
        ):
            table.add_column(tr(zh, en), key=key)
        table.focus()
        self._show_rules()
        self.reload()
        self.count()

    def on_screen_resume(self) -> None:
        self.reload()

    # -- workers ---------------------------------------------------------
    def _rules(self) -> dict[str, Any]:
        return {
            "keywords": self.keywords,
            "mode": self.mode,
            "date_from": self.date_from,
            "date_to": self.date_to,
            "min_chars": self.min_chars,
        }

    def reload(self) -> None:
        """The funnel and the first page of the excluded list."""
        self.restart_list()

    @dataclass
    class StateLoaded(Message):
        """The funnel and the first page of the excluded list (``token``: which list)."""

        token: int
        funnel: Funnel
        page: Page[ExclusionView]

    @dataclass
    class WouldExclude(Message):
        """What the rules would exclude (a dry run: nothing applied)."""

        report: ScreenReport

    @dataclass
    class Applied(Message):
        report: ScreenReport

    @dataclass
    class Included(Message):
        number: str

    def read_page(self, token: int, offset: int) -> None:
        """The first page comes with the funnel (``StateLoaded``); later ones alone."""
        limit = self.pager.size
        if offset == 0:

            def call() -> ScreeningScreen.StateLoaded:
                p = project_of(self)
                page = p.corpus.exclusions_page(limit=limit)
                return self.StateLoaded(token, p.corpus.funnel(), page)

            run_service(self, call, posted, group="screening-load")
            return

        def more() -> PagedList.PageLoaded:
            page = project_of(self).corpus.exclusions_page(offset=offset, limit=limit)
            return self.PageLoaded(token, page, list(page.items))

        run_service(self, more, posted, group="screening-more")

    def action_reload(self) -> None:
        self.reload()
        self.count()

    def count(self) -> None:
        rules = self._rules()
        run_service(
            self,
            lambda: project_of(self).corpus.screen(**rules, dry_run=True),
            self.WouldExclude,
            group="screening-count",
        )

    def apply(self, rules: dict[str, Any]) -> None:
        run_service(
            self,
            lambda: project_of(self).corpus.screen(**rules),
            self.Applied,
            group="screening-apply",
        )

    def include(self, number: str) -> None:
        def call() -> str:
            project_of(self).corpus.include([number])
            return number

        run_service(self, call, self.Included, group="screening-include")

    @on(StateLoaded)
    def _state_loaded(self, message: StateLoaded) -> None:
        message.stop()
        funnel, page = message.funnel, message.page
        if self.pager.accept(message.token, page, list(page.items)):
            self.query_one(FunnelTable).load_funnel(funnel)
            by_kind = funnel.get("excluded")
            self.excluded_total = (
                sum(int(n) for n in by_kind.values()) if isinstance(by_kind, dict) else None
            )
            self.show_rows()

    @on(WouldExclude)
    def _would(self, message: WouldExclude) -> None:
        message.stop()
        self.would = message.report
        self._show_would()

    @on(Applied)
    def _applied(self, message: Applied) -> None:
        message.stop()
        n = sum(message.report.excluded.values())
        self.notify(tr(f"已排除 {n} 个文本", f"Excluded {n} documents"))
        self.reload()
        self.count()

    @on(Included)
    def _included(self, message: Included) -> None:
        message.stop()
        self.notify(tr(f"{message.number}：已重新纳入", f"{message.number}: included again"))
        self.reload()
        self.count()

    # -- showing -----------------------------------------------------------
    def _show_rules(self) -> None:
        kws = "，".join(self.keywords) if self.keywords else tr("（无）", "(none)")
        mode = tr("任一", "any") if self.mode == "any" else tr("全部", "all")
        dates = f"{self.date_from or '…'} – {self.date_to or '…'}"
        chars = str(self.min_chars) if self.min_chars is not None else "—"
        self.query_one("#screening-rules", Static).update(
            plain(
                tr(
                    f"关键词(k) {kws} · 匹配(a) {mode} · 日期(f/t) {dates} · 最少字数(c) {chars}",
                    f"keywords(k) {kws} · match(a) {mode} · dates(f/t) {dates} · min chars(c) {chars}",
                )
            )
        )

    def _show_would(self) -> None:
        report = self.would
        table = self.query_one("#screening-would", DataTable)
        table.clear(columns=True)
        if report is None:
            return
        kinds = sorted(report.excluded)
        table.add_column(tr("类型", "Type"), key="type")
        for k in kinds:
            table.add_column(kind_label(k), key=k)
        for slug, per in sorted(report.by_type.items()):
            table.add_row(slug, *(per.get(k, 0) for k in kinds), key=slug)
        table.add_row(
            tr(f"合计（共查 {report.checked}）", f"total (of {report.checked})"),
            *(report.excluded.get(k, 0) for k in kinds),
            key="__total__",
        )

    def show_rows(self) -> None:
        table = self.query_one("#screening-excluded", DataTable)
        row = table.cursor_row
        table.clear()
        self._add_excluded(self.excluded)
        if self.excluded:
            table.move_cursor(row=min(max(0, row), len(self.excluded) - 1))
        self._excluded_title()

    def append_rows(self, rows: list[ExclusionView]) -> None:
        self._add_excluded(rows)
        self._excluded_title()

    def _add_excluded(self, rows: Any) -> None:
        table = self.query_one("#screening-excluded", DataTable)
        for e in rows:
            table.add_row(
                e.number,
                e.type,
                kind_label(e.kind),
                _clip(e.detail or "", 40),
                e.decided_by or "",
                (e.decided_at or "")[:16].replace("T", " "),
                key=e.number,
            )

    def _excluded_title(self) -> None:
        # The funnel counts every excluded document; the list holds the pages read so far.
        n = len(self.excluded)
        total = self.excluded_total if self.excluded_total is not None else n
        shown = (
            tr(f"，已载入 {n} 个，向下翻页载入更多", f", {n} loaded, page down for more")
            if self.pager.has_more
            else ""
        )
        self.query_one("#screening-excluded-title", Label).update(
            tr(
                f"已排除 {total} 个文本（i 重新纳入{shown}）",
                f"{total} excluded documents (i includes back{shown})",
            )
        )

    # -- rules -----------------------------------------------------------
    def _changed(self) -> None:
        self._show_rules()
        self.count()

    def action_keywords(self) -> None:
        def done(text: str | None) -> None:
            if text is not None:
                self.keywords = [k.strip() for k in text.replace("，", ",").split(",") if k.strip()]
                self._changed()

        ask(
            self,
            tr("关键词（逗号分隔）", "Keywords (comma separated)"),
            ",".join(self.keywords),
            done,
            allow_empty=True,
        )

    def action_toggle_mode(self) -> None:
        self.mode = "all" if self.mode == "any" else "any"
        self._changed()

    def _date(self, which: str) -> None:
        current = getattr(self, which) or ""

        def done(text: str | None) -> None:
            if text is not None:
                setattr(self, which, text.strip() or None)
                self._changed()

        title = tr(
            "起始日期（如 2020-01-01，留空取消）", "From date (e.g. 2020-01-01, empty for none)"
        )
        if which == "date_to":
            title = tr("截止日期（留空取消）", "To date (empty for none)")
        ask(self, title, current, done, allow_empty=True)

    def action_date_from(self) -> None:
        self._date("date_from")

    def action_date_to(self) -> None:
        self._date("date_to")

    def action_min_chars(self) -> None:
        def done(text: str | None) -> None:
            if text is None:
                return
            text = text.strip()
            if text and not text.isdigit():
                self.notify(tr("请输入整数", "Enter a whole number"), severity="error")
                return
            self.min_chars = int(text) if text else None
            self._changed()

        ask(
            self,
            tr("最少实质字数（留空取消）", "Minimum characters (empty for none)"),
            str(self.min_chars or ""),
            done,
            allow_empty=True,
        )

    def action_apply(self) -> None:
        from groundcode.tui.screens.confirm import ConfirmScreen

        n = sum(self.would.excluded.values()) if self.would else 0
        rules = self._rules()

        def done(yes: bool | None) -> None:
            if yes:
                self.apply(rules)

        self.app.push_screen(
            ConfirmScreen(
                tr(f"按这些规则排除 {n} 个文本？", f"Exclude {n} documents by these rules?")
            ),
            done,
        )

    def action_include(self) -> None:
        table = self.query_one("#screening-excluded", DataTable)
        if 0 <= table.cursor_row < len(self.excluded):
            self.include(self.excluded[table.cursor_row].number)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("apply", "include"):
            return app_of(self).is_lead
        return True
