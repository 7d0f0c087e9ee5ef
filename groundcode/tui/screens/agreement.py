"""The agreement screen: inter-coder reliability, the disagreements, and reconciliation.

A lead's screen while the project is in blind mode (SPEC §7): a coder sees a
plain message and the screen asks the service nothing. For a lead, one worker
computes the agreement (figures and the per-code table appear first) and then
the disagreement list; reconciling copies what the coders agree on into
``consensus``, and each open disagreement is decided with one key.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static, TabbedContent, TabPane

from groundcode.tui.commands import Key, localised
from groundcode.tui.context import ReportsWorkerErrors, app_of, project_of, run_refusable
from groundcode.tui.i18n import language, tr
from groundcode.tui.messages import Refused
from groundcode.tui.safe import shown
from groundcode.tui.widgets.table import SafeTable

if TYPE_CHECKING:
    from groundcode.analysis.agreement_core import AgreementResult, CodeAgreement
    from groundcode.analysis.service import Disagreement, ReconcileReport

LEVELS = ("concept", "category", "main")
PER_CODE_COLUMNS = ("code", "kappa", "agreement", "both", "a_only", "b_only", "neither")
CHOICES = {"a": "a", "b": "b", "both": "both", "neither": "neither"}


def level_label(level: str) -> str:
    return {
        "concept": tr("初始概念", "concept"),
        "category": tr("初步范畴", "initial category"),
        "main": tr("主范畴", "main category"),
    }.get(level, level)


def landis_koch_label(label: str) -> str:
    """The Landis & Koch benchmark in the interface language."""
    zh = {
        "poor": "差",
        "slight": "轻微",
        "fair": "一般",
        "moderate": "中等",
        "substantial": "高度",
        "almost perfect": "几乎完全一致",
        "undefined": "无法计算",
    }
    return tr(zh.get(label, label), label)


def kappa_kind_label(kind: str) -> str:
    """The kind of kappa in the interface language: never plain "Cohen's kappa" for the pooled one."""
    return {
        "multiclass": tr("Cohen κ（多类别）", "Cohen's κ (multi-class)"),
        "pooled": tr("合并 κ（单元 × 代码判定）", "pooled κ (unit × code decisions)"),
        "light_multiclass": tr(
            "Light κ（两两多类别 Cohen κ 的平均）", "Light's κ (mean pairwise multi-class)"
        ),
        "light_pooled": tr("Light κ（两两合并 κ 的平均）", "Light's κ (mean pairwise pooled)"),
    }.get(kind, "κ")


def fmt(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def choice_label(choice: str | None, coders: tuple[str, ...]) -> str:
    if choice is None:
        return ""
    names = {"a": coders[0] if coders else "A", "b": coders[1] if len(coders) > 1 else "B"}
    return {
        "a": tr(f"取 {names['a']}", f"{names['a']}'s"),
        "b": tr(f"取 {names['b']}", f"{names['b']}'s"),
        "both": tr("两者", "both"),
        "neither": tr("都不取", "neither"),
    }.get(choice, tr(f"取 {choice}", f"{choice}'s"))


@localised
class AgreementScreen(ReportsWorkerErrors, Screen[None]):
    """Kappa and friends, per code; the disagreements; reconcile and decide."""

    CSS_PATH = "agreement.tcss"
    KEYS: ClassVar[tuple[Key, ...]] = (
        Key("L", "next_level", "切换层级", "Switch level", id="agreement.level"),
        Key("s", "sort", "排序", "Sort", id="agreement.sort"),
        Key("t", "switch_table", "代码/分歧", "Codes/disagreements", id="agreement.table"),
        Key("R", "reconcile", "合并一致编码", "Reconcile", id="agreement.reconcile"),
        Key("a", "decide('a')", "取 A", "Keep A", id="agreement.decide_a"),
        Key("b", "decide('b')", "取 B", "Keep B", id="agreement.decide_b"),
        Key("B", "decide('both')", "两者都取", "Keep both", id="agreement.decide_both"),
        Key("0", "decide('neither')", "都不取", "Keep neither", id="agreement.decide_neither"),
        Key("ctrl+r", "reload", "重新计算", "Recompute", id="agreement.reload"),
    )
    BINDINGS: ClassVar[list[BindingType]] = []

    class Computed(Message):
        """The agreement figures for one level."""

        def __init__(self, level: str, result: AgreementResult) -> None:
            super().__init__()
            self.level = level
            self.result = result

    class Listed(Message):
        """The disagreements for one level."""

        def __init__(self, level: str, items: list[Disagreement]) -> None:
            super().__init__()
            self.level = level
            self.items = items

    class Decided(Message):
        def __init__(self, document: str, passage: int, choice: str, added: int) -> None:
            super().__init__()
            self.document = document
            self.passage = passage
            self.choice = choice
            self.added = added

    class Reconciled(Message):
        def __init__(self, report: ReconcileReport) -> None:
            super().__init__()
            self.report = report

    def __init__(self) -> None:
        super().__init__()
        self.level = "concept"
        self.result: AgreementResult | None = None
        self.coders: tuple[str, ...] = ()
        self.per_code: list[CodeAgreement] = []
        self.disagreements: list[Disagreement] = []
        self.sort_index = -1  # -1: the service's order (by code)
        self.sort_reverse = False

    # -- layout -----------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="agreement-blind")
        with Vertical(id="agreement-body"):
            yield Static(id="agreement-summary")
            with TabbedContent(id="agreement-tabs"):
                with TabPane(tr("各代码", "Per code"), id="tab-codes"):
                    yield SafeTable(id="agreement-codes", cursor_type="row", zebra_stripes=True)
                with TabPane(tr("分歧", "Disagreements"), id="tab-disagreements"):
                    yield SafeTable(
                        id="agreement-disagreements", cursor_type="row", zebra_stripes=True
                    )
                    yield Static(id="agreement-passage")
                with (
                    TabPane(tr("诊断", "Diagnostics"), id="tab-diagnostics"),
                    VerticalScroll(),
                ):
                    yield Static(id="agreement-diagnostics")
        yield Footer()

    def on_mount(self) -> None:
        if self.blind_for_me():
            self.query_one("#agreement-body").display = False
            self.query_one("#agreement-blind", Static).update(
                tr(
                    "盲编进行中：只有负责人可以查看编码者间信度。\n"
                    "请继续独立编码；负责人结束盲编后即可在此查看结果。",
                    "Blind coding is on: only a lead sees agreement during blind coding.\n"
                    "Keep coding independently; the results appear here once a lead ends blind mode.",
                )
            )
            return
        self.query_one("#agreement-blind").display = False
        self.compute()

    def blind_for_me(self) -> bool:
        """True when the acting user is a coder in blind mode (the service would refuse)."""
        app = app_of(self)
        return bool(getattr(app, "blind", False)) and not getattr(app, "is_lead", False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in {"next_level", "sort", "switch_table", "reconcile", "decide", "reload"}:
            return None if self.blind_for_me() else True
        return True

    # -- workers ------------------------------------------------------------
    def compute(self) -> None:
        self.query_one("#agreement-summary").loading = True
        self.query_one("#agreement-tabs").loading = True
        self.run_agreement(self.level)

    def run_agreement(self, level: str) -> None:
        """Figures first, then the disagreement list (each arrives as its own message)."""

        def call() -> Message:
            analysis = project_of(self).analysis
            result = analysis.agreement(level=level)
            self.post_message(self.Computed(level, result))
            items = analysis.disagreements(coders=list(result.coders), level=level, result=result)
            return self.Listed(level, items)

        run_refusable(self, call, group="agreement")

    def run_decide(self, document: str, passage: int, choice: str, coders: tuple[str, ...]) -> None:
        def call() -> Message:
            added = project_of(self).analysis.decide(
                document, passage, choice, coders=list(coders) or None
            )
            return self.Decided(document, passage, choice, added)

        run_refusable(self, call, group="agreement-decide", exclusive=False)

    def run_reconcile(self, coders: tuple[str, ...]) -> None:
        run_refusable(
            self,
            lambda: self.Reconciled(
                project_of(self).analysis.reconcile(coders=list(coders) or None)
            ),
            group="agreement-reconcile",
        )

    # -- results ------------------------------------------------------------
    @on(Computed)
    def _show_figures(self, message: Computed) -> None:
        if message.level != self.level:
            return
        result = message.result
        self.result = result
        self.coders = tuple(result.coders)
        self.per_code = list(result.per_code)
        self.query_one("#agreement-summary").loading = False
        self.query_one("#agreement-tabs").loading = False
        self._show_summary(result)
        self._fill_codes()
        disagreements = self.query_one("#agreement-disagreements", DataTable)
        disagreements.loading = True

    def _show_summary(self, r: AgreementResult) -> None:
        """The figures, read from the result's fields (the same numbers ``agree --json`` prints)."""
        from groundcode.analysis.stats import landis_koch

        kappa = r.kappa
        text = Text()
        text.append(tr("编码者 ", "Coders "), style="dim")
        text.append(" × ".join(r.coders), style="bold")
        text.append(tr("  ·  层级 ", "  ·  level "), style="dim")
        text.append(level_label(self.level))
        text.append(tr("  ·  单元 ", "  ·  units "), style="dim")
        docs = r.n_documents
        text.append(
            tr(
                f"{r.n_units} 个片段" + (f"（{docs} 份文本）" if docs is not None else ""),
                f"{r.n_units} passages" + (f" in {docs} documents" if docs is not None else ""),
            )
        )
        text.append(tr("  ·  判定 ", "  ·  judged "), style="dim")
        text.append(
            {"done": tr("已完成标记", "done marks"), "coded": tr("有编码即判定", "coded")}.get(
                str(r.judged), str(r.judged)
            )
        )
        text.append("\n")
        text.append(kappa_kind_label(str(r.kappa_kind)) + " ", style="dim")
        text.append(fmt(kappa), style="bold")
        ci = r.ci.get("kappa")
        if ci:
            text.append(f" [{ci[0]:.3f}, {ci[1]:.3f}]", style="dim")
        text.append("  ")
        text.append(f"[{landis_koch_label(landis_koch(kappa))}]", style="bold")
        text.append(tr("   一致率 ", "   agreement "), style="dim")
        text.append(pct(r.percent_agreement))
        text.append(tr("   判定一致率 ", "   decisions "), style="dim")
        text.append(pct(r.decision_agreement))
        text.append("\n")
        text.append("Gwet AC1 ", style="dim")
        text.append(fmt(r.ac1.value))
        text.append("   Scott π ", style="dim")
        text.append(fmt(r.scott_pi))
        bp = "PABAK " if r.bp_q == 2 else f"Brennan-Prediger (q={r.bp_q}) "
        text.append("   " + bp, style="dim")
        text.append(fmt(r.bp.value))
        text.append("   Krippendorff α ", style="dim")
        text.append(fmt(r.alpha.value))
        if r.fleiss_kappa is not None and len(r.coders) > 2:
            text.append("   Fleiss κ ", style="dim")
            text.append(fmt(r.fleiss_kappa))
        if r.kappa_kind != "pooled" and r.kappa_pooled is not None:
            text.append(tr("   合并 κ ", "   pooled κ "), style="dim")
            text.append(fmt(r.kappa_pooled))
        methods = r.methods(language())
        if methods:
            text.append("\n")
            text.append(methods, style="italic")
        self.query_one("#agreement-summary", Static).update(text)
        view = Text()
        if not r.diagnostics:
            view.append(tr("没有需要注意的问题。", "Nothing to flag."))
        for d in r.diagnostics:
            view.append("• ", style="bold")
            view.append(d.message(language()))
            view.append("\n")
        self.query_one("#agreement-diagnostics", Static).update(view)
        pane = self.query_one("#agreement-tabs", TabbedContent).get_tab("tab-diagnostics")
        n = len(r.diagnostics)
        pane.label = tr(f"诊断 {n}", f"Diagnostics {n}")

    def _fill_codes(self) -> None:
        table = self.query_one("#agreement-codes", DataTable)
        table.clear(columns=True)
        a = self.coders[0] if self.coders else "A"
        b = self.coders[1] if len(self.coders) > 1 else "B"
        headers = (
            level_label(self.level),
            "κ",
            tr("一致率", "agreement"),
            tr("两者都用", "both"),
            tr(f"仅 {a}", f"{a} only"),
            tr(f"仅 {b}", f"{b} only"),
            tr("都未用", "neither"),
        )
        # Long concept names must not push the counts off screen: the name column takes the rest.
        name_width = max(14, self.size.width - 70)
        for key, header in zip(PER_CODE_COLUMNS, headers, strict=True):
            marker = ""
            if self.sort_index >= 0 and PER_CODE_COLUMNS[self.sort_index] == key:
                marker = " ▼" if self.sort_reverse else " ▲"
            table.add_column(header + marker, key=key, width=name_width if key == "code" else None)
        for row in self.sorted_rows():
            table.add_row(
                Text(str(row.code)),
                Text(fmt(row.kappa), justify="right"),
                Text(pct(row.agreement), justify="right"),
                Text(str(row.both), justify="right"),
                Text(str(row.a_only), justify="right"),
                Text(str(row.b_only), justify="right"),
                Text(str(row.neither), justify="right"),
                key=str(row.code),
            )

    def sorted_rows(self) -> list[CodeAgreement]:
        """The per-code rows in the chosen order (undefined kappa always last)."""
        if self.sort_index < 0:
            return list(self.per_code)
        column = PER_CODE_COLUMNS[self.sort_index]
        defined = [r for r in self.per_code if getattr(r, column) is not None]
        missing = [r for r in self.per_code if getattr(r, column) is None]
        defined.sort(key=lambda r: getattr(r, column), reverse=self.sort_reverse)
        return defined + missing

    @on(Listed)
    def _show_disagreements(self, message: Listed) -> None:
        if message.level != self.level:
            return
        self.disagreements = list(message.items)
        self._fill_disagreements()

    def _fill_disagreements(self) -> None:
        table = self.query_one("#agreement-disagreements", DataTable)
        table.loading = False
        row_before = table.cursor_row
        table.clear(columns=True)
        table.add_column(tr("文本", "Document"), key="document", width=8)
        table.add_column(tr("片段", "Passage"), key="passage", width=5)
        # Code lists can be long: share the width so the decision column stays in view.
        width = max(16, (self.size.width - 50) // max(1, len(self.coders)))
        for i, coder in enumerate(self.coders):
            letter = "AB"[i] if i < 2 else str(i + 1)
            table.add_column(f"{letter}: {coder}", key=f"coder-{i}", width=width)
        table.add_column(tr("决定", "Decided"), key="decided", width=12)
        for d in self.disagreements:
            cells: list[Any] = [d.document, Text(str(d.passage), justify="right")]
            for coder in self.coders:
                cells.append(Text("、".join(d.codes.get(coder, [])) or "—"))
            cells.append(Text(choice_label(d.decided, self.coders), style="bold"))
            table.add_row(*cells, key=self._row_key(d.document, d.passage))
        self._fill_tab_label()
        if self.disagreements:
            table.move_cursor(row=max(0, min(row_before, len(self.disagreements) - 1)))
        self._show_passage()

    @staticmethod
    def _row_key(document: str, passage: int) -> str:
        return f"{document}#{passage}"

    def selected_disagreement(self) -> Disagreement | None:
        table = self.query_one("#agreement-disagreements", DataTable)
        if not self.disagreements or table.row_count == 0:
            return None
        row = table.cursor_row
        if not 0 <= row < len(self.disagreements):
            return None
        return self.disagreements[row]

    @on(DataTable.RowHighlighted, "#agreement-disagreements")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_passage()

    def _show_passage(self) -> None:
        d = self.selected_disagreement()
        view = self.query_one("#agreement-passage", Static)
        if d is None:
            view.update(tr("没有分歧。", "No disagreements."))
            return
        text = Text()
        text.append(f"{d.document} · {tr('片段', 'passage')} {d.passage}\n", style="bold")
        for coder in self.coders:
            text.append(f"{coder}: ", style="bold")
            text.append("、".join(d.codes.get(coder, [])) or "—")
            text.append("\n")
        text.append(shown(d.text))
        text.append(
            tr(
                "\n\nEnter 打开原文 · a/b 取一方 · B 两者 · 0 都不取",
                "\n\nEnter opens the passage · a/b keep one · B both · 0 neither",
            ),
            style="dim",
        )
        view.update(text)

    @on(DataTable.RowSelected, "#agreement-disagreements")
    def _jump(self, event: DataTable.RowSelected) -> None:
        d = self.selected_disagreement()
        if d is not None:
            app_of(self).open_document(d.document, d.passage)

    @on(DataTable.HeaderSelected, "#agreement-codes")
    def _sort_by_header(self, event: DataTable.HeaderSelected) -> None:
        column = str(event.column_key.value)
        index = PER_CODE_COLUMNS.index(column)
        if index == self.sort_index:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_index, self.sort_reverse = index, False
        self._fill_codes()

    @on(Decided)
    def _mark_decided(self, message: Decided) -> None:
        for i, d in enumerate(self.disagreements):
            if d.document == message.document and d.passage == message.passage:
                self.disagreements[i] = replace(d, decided=message.choice)
                table = self.query_one("#agreement-disagreements", DataTable)
                table.update_cell(
                    self._row_key(d.document, d.passage),
                    "decided",
                    Text(choice_label(message.choice, self.coders), style="bold"),
                )
                if table.cursor_row == i and i + 1 < table.row_count:
                    table.move_cursor(row=i + 1)
                break
        self._fill_tab_label()
        self.notify(
            tr(
                f"{message.document} 片段 {message.passage}：已加入 {message.added} 条共识编码",
                f"{message.document} passage {message.passage}: "
                f"{message.added} consensus codings added",
            )
        )

    def _fill_tab_label(self) -> None:
        open_count = sum(1 for d in self.disagreements if d.decided is None)
        pane = self.query_one("#agreement-tabs", TabbedContent).get_tab("tab-disagreements")
        pane.label = tr(
            f"分歧 {open_count}/{len(self.disagreements)}",
            f"Disagreements {open_count}/{len(self.disagreements)}",
        )

    @on(Reconciled)
    def _reconciled(self, message: Reconciled) -> None:
        report = message.report
        self.query_one("#agreement-tabs").loading = False
        if self.level == "concept":
            self.disagreements = list(report.disagreements)
            self._fill_disagreements()
        open_count = sum(1 for d in report.disagreements if d.decided is None)
        self.notify(
            tr(
                f"已将 {report.copied} 条一致编码复制到共识（已有 {report.already} 条），"
                f"尚有 {open_count} 处分歧待决定",
                f"Copied {report.copied} agreed codings to consensus ({report.already} were there); "
                f"{open_count} disagreements left to decide",
            )
        )

    @on(Refused)
    def _failed(self, message: Refused) -> None:
        for selector in ("#agreement-summary", "#agreement-tabs", "#agreement-disagreements"):
            self.query_one(selector).loading = False
        self.notify(message.message, severity="error", title=tr("未完成", "Not done"), markup=False)

    # -- actions ------------------------------------------------------------
    def action_reload(self) -> None:
        self.compute()

    def action_next_level(self) -> None:
        self.level = LEVELS[(LEVELS.index(self.level) + 1) % len(LEVELS)]
        self.notify(tr(f"层级：{level_label(self.level)}", f"Level: {level_label(self.level)}"))
        self.compute()

    def action_sort(self) -> None:
        """Cycle the sort column; a full cycle comes back to the service's order."""
        self.sort_index += 1
        if self.sort_index >= len(PER_CODE_COLUMNS):
            self.sort_index = -1
        # Worst first for kappa and agreement, most first for the counts.
        column = PER_CODE_COLUMNS[self.sort_index] if self.sort_index >= 0 else None
        self.sort_reverse = column in ("both", "a_only", "b_only", "neither")
        self._fill_codes()
        self.query_one("#agreement-tabs", TabbedContent).active = "tab-codes"

    def action_switch_table(self) -> None:
        tabs = self.query_one("#agreement-tabs", TabbedContent)
        tabs.active = "tab-disagreements" if tabs.active == "tab-codes" else "tab-codes"
        target = (
            "#agreement-disagreements" if tabs.active == "tab-disagreements" else "#agreement-codes"
        )
        self.query_one(target, DataTable).focus()

    def action_reconcile(self) -> None:
        self.query_one("#agreement-tabs").loading = True
        self.run_reconcile(self.coders)

    def action_decide(self, choice: str) -> None:
        tabs = self.query_one("#agreement-tabs", TabbedContent)
        if tabs.active != "tab-disagreements":
            self.notify(
                tr("先切换到分歧列表（t）", "Switch to the disagreements first (t)"),
                severity="warning",
            )
            return
        d = self.selected_disagreement()
        if d is None:
            self.notify(tr("没有选中的分歧", "No disagreement selected"), severity="warning")
            return
        self.run_decide(d.document, d.passage, CHOICES[choice], self.coders)
