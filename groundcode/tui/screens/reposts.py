"""Repost review: the near-duplicate pass at a chosen threshold, then each group side by side.

``+``/``-`` move the threshold; every change runs the pass as a dry run in a
worker and shows how many groups and copies it finds. ``x`` applies it (the
copies are excluded as duplicates, audited as the CLI does). Then each group
shows the kept document beside the highlighted copy with the differing text
marked and the similarity; ``K`` keeps that copy instead (one audited
service call), ``R`` releases it from the group (included again).

A pass over a large corpus may find thousands of groups: the table draws
them a page at a time (more as the cursor nears the last row drawn), and a
change to one group redraws its row only. The texts are read for the group
on screen only.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label, Static

from groundcode.tui.commands import Key, localised
from groundcode.tui.context import ReportsWorkerErrors, app_of, posted, project_of, run_service
from groundcode.tui.i18n import tr
from groundcode.tui.safe import shown
from groundcode.tui.widgets.paged import MARGIN, TUI_PAGE
from groundcode.tui.widgets.table import SafeTable

if TYPE_CHECKING:
    from groundcode.corpus.views import DedupReport

STEP = 0.05
MARK = "bold reverse"


@dataclass
class Group:
    keep: str
    copies: list[tuple[str, float]]


def marked(a: str, b: str) -> tuple[Text, Text]:
    """``a`` and ``b`` with the stretches that differ between them marked."""
    left, right = Text(), Text()
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        style = "" if op == "equal" else MARK
        left.append(a[i1:i2], style=style)
        right.append(b[j1:j2], style=style)
    return left, right


@localised
class RepostScreen(ReportsWorkerErrors, Screen[None]):
    """Near-duplicate groups: count at a threshold, apply, then review each group."""

    CSS_PATH = "reposts.tcss"
    KEYS: ClassVar[tuple[Key, ...]] = (
        Key(
            "plus,equals_sign",
            "threshold(1)",
            "提高阈值",
            "Threshold up",
            id="reposts.up",
            key_display="+",
        ),
        Key(
            "minus",
            "threshold(-1)",
            "降低阈值",
            "Threshold down",
            id="reposts.down",
            key_display="-",
        ),
        Key("x", "apply", "排除转发", "Exclude reposts", id="reposts.apply"),
        Key("K", "keep_instead", "改留此文本", "Keep this one", id="reposts.keep"),
        Key("R", "release", "移出该组", "Release", id="reposts.release"),
        Key("tab", "app.focus_next", "切换窗格", "Next pane", id="reposts.next_pane", show=False),
    )
    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self) -> None:
        super().__init__()
        self.threshold = 0.9
        self.groups: list[Group] = []
        self.applied = False
        self.texts: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="reposts-status")
        with Horizontal(id="reposts-body"):
            with Vertical(id="reposts-lists"):
                yield Label(tr("转发组", "Groups"), classes="panel-title")
                yield SafeTable(id="reposts-groups", cursor_type="row")
                yield Label(tr("组内副本", "Copies"), classes="panel-title")
                yield SafeTable(id="reposts-copies", cursor_type="row")
            with VerticalScroll(id="reposts-kept-box"):
                yield Static("", id="reposts-kept")
            with VerticalScroll(id="reposts-copy-box"):
                yield Static("", id="reposts-copy")
        yield Footer()

    def on_mount(self) -> None:
        groups = self.query_one("#reposts-groups", DataTable)
        groups.add_column(tr("保留", "Kept"), key="keep")
        groups.add_column(tr("副本", "Copies"), key="n")
        groups.add_column(tr("相似度", "Sim."), key="sim")
        copies = self.query_one("#reposts-copies", DataTable)
        copies.add_column(tr("副本", "Copy"), key="number")
        copies.add_column(tr("相似度", "Similarity"), key="sim")
        groups.focus()
        self.count()

    # -- workers ---------------------------------------------------------
    @dataclass
    class GroupsFound(Message):
        """The repost groups at a threshold; ``applied``: the copies are now excluded."""

        report: DedupReport
        applied: bool

    @dataclass
    class TextsLoaded(Message):
        texts: dict[str, str]

    @dataclass
    class KeptInstead(Message):
        """``member`` is now kept and the group's former keeper is a copy."""

        group: int
        member: str

    @dataclass
    class Released(Message):
        """``member`` left its group and is included again."""

        group: int
        member: str

    def count(self) -> None:
        threshold = self.threshold
        run_service(
            self,
            lambda: self.GroupsFound(
                project_of(self).corpus.dedup(threshold=threshold, dry_run=True), False
            ),
            posted,
            group="reposts-count",
        )

    def apply(self, threshold: float) -> None:
        run_service(
            self,
            lambda: self.GroupsFound(project_of(self).corpus.dedup(threshold=threshold), True),
            posted,
            group="reposts-apply",
        )

    def load_texts(self, numbers: list[str]) -> None:
        def call() -> dict[str, str]:
            corpus = project_of(self).corpus
            return {n: corpus.document(n).text for n in numbers}

        run_service(self, call, self.TextsLoaded, group="reposts-texts")

    def keep(self, group: int, member: str) -> None:
        g = self.groups[group]
        copies = [n for n, _ in g.copies]

        def call() -> RepostScreen.KeptInstead:
            project_of(self).corpus.keep_instead(g.keep, member, copies)
            return self.KeptInstead(group, member)

        run_service(self, call, posted, group="reposts-change")

    def release_copy(self, group: int, member: str) -> None:
        def call() -> RepostScreen.Released:
            project_of(self).corpus.include([member])
            return self.Released(group, member)

        run_service(self, call, posted, group="reposts-change")

    @on(GroupsFound)
    def _groups_found(self, message: GroupsFound) -> None:
        message.stop()
        self._show_groups(message.report, message.applied)

    @on(TextsLoaded)
    def _texts_loaded(self, message: TextsLoaded) -> None:
        message.stop()
        self.texts.update({n: shown(t) for n, t in message.texts.items()})
        self._show_pair()

    @on(KeptInstead)
    def _kept(self, message: KeptInstead) -> None:
        message.stop()
        index, member = message.group, message.member
        g = self.groups[index]
        sims = dict(g.copies)
        others = [(n, s) for n, s in g.copies if n != member]
        self.groups[index] = Group(member, [(g.keep, sims.get(member, 1.0)), *others])
        self.notify(tr(f"改为保留 {member}", f"Now keeping {member}"))
        self._update_group(index)

    @on(Released)
    def _released(self, message: Released) -> None:
        message.stop()
        index, member = message.group, message.member
        g = self.groups[index]
        g.copies = [(n, s) for n, s in g.copies if n != member]
        self.notify(tr(f"{member} 已移出该组并纳入", f"{member} released and included"))
        self._update_group(index)

    # -- showing -----------------------------------------------------------
    def _show_groups(self, report: DedupReport, applied: bool) -> None:
        self.applied = applied
        self.groups = [Group(g.keep, list(g.duplicates)) for g in report.groups]
        copies = sum(len(g.copies) for g in self.groups)
        if applied:
            self.notify(
                tr(f"已排除 {report.excluded} 个转发", f"Excluded {report.excluded} reposts")
            )
        self._status(copies)
        self._refill(0)
        self.refresh_bindings()

    def _status(self, copies: int) -> None:
        state = (
            tr("已应用", "applied") if self.applied else tr("预览（x 应用）", "preview (x applies)")
        )
        self.query_one("#reposts-status", Static).update(
            tr(
                f"阈值(+/-) {self.threshold:.2f} · {len(self.groups)} 组 · {copies} 个副本 · {state}",
                f"threshold (+/-) {self.threshold:.2f} · {len(self.groups)} groups · {copies} copies · {state}",
            )
        )

    def _refill(self, index: int) -> None:
        """A new pass's groups: the first page of rows (more as the cursor nears the end)."""
        table = self.query_one("#reposts-groups", DataTable)
        table.clear()
        self._add_groups(max(index + 1, TUI_PAGE))
        if self.groups:
            table.move_cursor(row=min(index, len(self.groups) - 1))
        self._show_copies()

    def _add_groups(self, upto: int) -> None:
        """Rows for the groups up to ``upto`` (a pass may find thousands: drawn a page at a time)."""
        table = self.query_one("#reposts-groups", DataTable)
        for i in range(table.row_count, min(upto, len(self.groups))):
            g = self.groups[i]
            table.add_row(*self._group_cells(g), key=str(i))

    @staticmethod
    def _group_cells(g: Group) -> tuple[str, int, str]:
        best = max((s for _, s in g.copies), default=0.0)
        return g.keep, len(g.copies), f"{best:.2f}"

    def _update_group(self, index: int) -> None:
        """One group changed (keep another, release): its row only, not the whole table."""
        table = self.query_one("#reposts-groups", DataTable)
        if index < table.row_count:
            for column, value in zip(
                ("keep", "n", "sim"), self._group_cells(self.groups[index]), strict=True
            ):
                table.update_cell(str(index), column, value)
        self._show_copies()

    def _group(self) -> int | None:
        table = self.query_one("#reposts-groups", DataTable)
        return table.cursor_row if 0 <= table.cursor_row < len(self.groups) else None

    def _copy(self) -> str | None:
        index = self._group()
        table = self.query_one("#reposts-copies", DataTable)
        if index is None or not 0 <= table.cursor_row < len(self.groups[index].copies):
            return None
        return self.groups[index].copies[table.cursor_row][0]

    def _show_copies(self) -> None:
        table = self.query_one("#reposts-copies", DataTable)
        table.clear()
        index = self._group()
        if index is None:
            self.query_one("#reposts-kept", Static).update(tr("（没有转发组）", "(no groups)"))
            self.query_one("#reposts-copy", Static).update("")
            return
        g = self.groups[index]
        for n, s in g.copies:
            table.add_row(n, f"{s:.2f}", key=n)
        wanted = [n for n in [g.keep, *(n for n, _ in g.copies)] if n not in self.texts]
        if wanted:
            self.load_texts(wanted)
        self._show_pair()

    def _show_pair(self) -> None:
        index = self._group()
        if index is None:
            return
        g = self.groups[index]
        copy = self._copy()
        kept_text = self.texts.get(g.keep)
        if kept_text is None:
            return
        title = Text(tr(f"保留 {g.keep}\n", f"kept {g.keep}\n"), style="bold")
        if copy is None or copy not in self.texts:
            self.query_one("#reposts-kept", Static).update(title + Text(kept_text))
            self.query_one("#reposts-copy", Static).update("")
            return
        sim = dict(g.copies).get(copy, 0.0)
        left, right = marked(kept_text, self.texts[copy])
        self.query_one("#reposts-kept", Static).update(title + left)
        self.query_one("#reposts-copy", Static).update(
            Text(
                tr(f"副本 {copy} · 相似度 {sim:.2f}\n", f"copy {copy} · similarity {sim:.2f}\n"),
                style="bold",
            )
            + right
        )

    @on(DataTable.RowHighlighted, "#reposts-groups")
    def _group_moved(self, event: DataTable.RowHighlighted) -> None:
        shown = self.query_one("#reposts-groups", DataTable).row_count
        if shown < len(self.groups) and event.cursor_row >= shown - MARGIN:
            self._add_groups(shown + TUI_PAGE)
        self._show_copies()

    @on(DataTable.RowHighlighted, "#reposts-copies")
    def _copy_moved(self, event: DataTable.RowHighlighted) -> None:
        self._show_pair()

    # -- actions ---------------------------------------------------------
    def action_threshold(self, step: int) -> None:
        self.threshold = round(min(1.0, max(0.5, self.threshold + step * STEP)), 2)
        self.applied = False
        self._status(sum(len(g.copies) for g in self.groups))
        self.count()

    def action_apply(self) -> None:
        from groundcode.tui.screens.confirm import ConfirmScreen

        copies = sum(len(g.copies) for g in self.groups)
        threshold = self.threshold

        def done(yes: bool | None) -> None:
            if yes:
                self.apply(threshold)

        self.app.push_screen(
            ConfirmScreen(
                tr(
                    f"在阈值 {threshold:.2f} 排除 {copies} 个转发（每组保留最早的一个）？",
                    f"Exclude {copies} reposts at {threshold:.2f} (the earliest of each group stays)?",
                )
            ),
            done,
        )

    def action_keep_instead(self) -> None:
        index, copy = self._group(), self._copy()
        if index is not None and copy is not None:
            self.keep(index, copy)

    def action_release(self) -> None:
        index, copy = self._group(), self._copy()
        if index is not None and copy is not None:
            self.release_copy(index, copy)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "apply":
            return app_of(self).is_lead and not self.applied
        if action in ("keep_instead", "release"):
            return app_of(self).is_lead and self.applied
        return True
