"""The saturation screen: the holdout test's verdict, new concepts, coverage and the curve.

The verdict and its reasons come straight from the analysis service (SPEC §5);
this screen only lays them out. A lead may switch the basis between the
reconciled ``consensus`` coding and any single coder; in blind mode a coder
sees the test on their own codings (the service decides that, not the screen).
"""

from __future__ import annotations

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
from groundcode.tui.context import ReportsWorkerErrors, app_of, project_of, run_refusable
from groundcode.tui.i18n import language, tr
from groundcode.tui.messages import Refused
from groundcode.tui.screens.returning import RefreshesOnReturn
from groundcode.tui.widgets.curve import SaturationCurve
from groundcode.tui.widgets.table import SafeTable

if TYPE_CHECKING:
    from groundcode.analysis.saturation import SaturationReport

CONSENSUS = "consensus"


def verdict_label(saturated: bool | None) -> str:
    return {
        True: tr("已饱和", "Saturated"),
        False: tr("未饱和", "Not saturated"),
        None: tr("尚无结论", "No verdict yet"),
    }[saturated]


@localised
class SaturationScreen(RefreshesOnReturn, ReportsWorkerErrors, Screen[None]):
    """Is the category system saturated? The holdout test and the Guest rule."""

    CSS_PATH = "saturation.tcss"
    KEYS: ClassVar[tuple[Key, ...]] = (
        Key("r", "recompute", "重新检验", "Recompute", id="saturation.recompute"),
        Key("b", "switch_basis", "切换依据", "Switch basis", id="saturation.basis"),
        Key("g", "begin_holdout", "记录检验开始", "Record holdout start", id="saturation.begin"),
    )
    BINDINGS: ClassVar[list[BindingType]] = []

    class Computed(Message):
        def __init__(self, report: SaturationReport, bases: list[str]) -> None:
            super().__init__()
            self.report = report
            self.bases = bases

    class Begun(Message):
        def __init__(self, at: str) -> None:
            super().__init__()
            self.at = at

    def __init__(self) -> None:
        super().__init__()
        self.basis: str | None = None  # None: the service's default for the acting user
        self.bases: list[str] = []
        self.report: SaturationReport | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="saturation-top"):
            with VerticalScroll(id="saturation-summary"):
                yield Static(id="saturation-verdict")
                yield Static(id="saturation-basis", classes="muted")
                yield Static(id="saturation-reasons")
                yield Label(tr("检验集覆盖", "Holdout coverage"), classes="panel-title")
                yield Static(id="saturation-holdout")
                yield Label(tr("Guest 停止规则", "Guest stopping rule"), classes="panel-title")
                yield Static(id="saturation-guest")
            with Vertical(id="saturation-new-box"):
                yield Label(
                    tr("检验集中的新概念及归属", "New concepts in the holdout"),
                    classes="panel-title",
                )
                yield SafeTable(id="saturation-new", cursor_type="row", zebra_stripes=True)
                yield Static(id="saturation-new-categories")
        yield SaturationCurve(id="saturation-curve")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#saturation-curve").border_title = tr(
            "饱和度曲线：累计概念数 / 文本（按编码顺序）",
            "Saturation curve: cumulative concepts over documents (coding order)",
        )
        table = self.query_one("#saturation-new", DataTable)
        table.add_column(tr("新概念", "New concept"), key="concept")
        table.add_column(tr("归入初步范畴", "Placed in category"), key="category")
        table.add_column(tr("归属记录", "Placement history"), key="history")
        self.recompute()

    def shown_once(self) -> bool:
        return self.report is not None

    def refresh_on_return(self) -> None:
        """Coming back after coding or placing concepts: the verdict may have changed."""
        self.recompute()

    # -- work ---------------------------------------------------------------
    def recompute(self) -> None:
        for selector in ("#saturation-top", "#saturation-curve"):
            self.query_one(selector).loading = True
        self.run_saturation(self.basis)

    def run_saturation(self, basis: str | None) -> None:
        def call() -> SaturationScreen.Computed:
            p = project_of(self)
            report = p.analysis.saturation(coder=basis)
            progress = p.queries.progress()
            coded = [
                str(c) for c, n in zip(progress["coder"], progress["codings"], strict=True) if n
            ]
            return self.Computed(report, [CONSENSUS, *(c for c in coded if c != CONSENSUS)])

        run_refusable(self, call, group="saturation")

    @on(Computed)
    def _show(self, message: Computed) -> None:
        report = message.report
        self.report = report
        self.bases = message.bases
        for selector in ("#saturation-top", "#saturation-curve"):
            self.query_one(selector).loading = False
        verdict = self.query_one("#saturation-verdict", Static)
        verdict.update(Text(verdict_label(report.saturated)))
        verdict.set_class(report.saturated is True, "-saturated")
        verdict.set_class(report.saturated is False, "-not-saturated")
        verdict.set_class(report.saturated is None, "-undecided")
        self.query_one("#saturation-basis", Static).update(
            Text(tr(f"依据：{report.basis} 的编码", f"Basis: the codings of {report.basis}"))
        )
        self.query_one("#saturation-reasons", Static).update(
            Text("\n".join(f"• {r}" for r in report.reasons_in(language())) or "—")
        )
        started = (
            report.holdout_start.isoformat(timespec="minutes") if report.holdout_start else None
        )
        holdout = Text(
            tr(
                f"检验开始：{started or '尚未记录（g 键记录）'}\n"
                f"检验集 {report.holdout_documents} 篇，已判定 {report.holdout_done} 篇，"
                f"已编码 {report.holdout_coded} 篇",
                f"Holdout start: {started or 'not recorded (press g)'}\n"
                f"{report.holdout_done} of {report.holdout_documents} holdout documents judged, "
                f"{report.holdout_coded} coded",
            )
        )
        for coder, cov in sorted(report.coverage.items()):
            holdout.append(
                tr(
                    f"\n  {coder}：{cov.get('documents', 0)} 篇，{cov.get('passages', 0)} 个片段",
                    f"\n  {coder}: {cov.get('documents', 0)} documents, "
                    f"{cov.get('passages', 0)} passages",
                ),
                style="dim",
            )
        self.query_one("#saturation-holdout", Static).update(holdout)
        g = report.guest
        rule = tr(
            f"基数 {g.base} 篇、窗口 {g.run} 篇、阈值 {g.threshold:.0%}",
            f"base {g.base}, run {g.run}, threshold {g.threshold:.0%}",
        )
        if g.confirmed_at is not None:
            result = tr(
                f"饱和点 {g.saturation_point} 篇，第 {g.confirmed_at} 篇处确认",
                f"saturation point {g.saturation_point}, confirmed at document {g.confirmed_at}",
            )
        else:
            result = tr("尚未达到", "not reached")
        guest = Text(rule + "\n")
        guest.append(result, style="bold")
        if g.later_exceedances:
            guest.append(
                tr(
                    f"\n之后仍有 {len(g.later_exceedances)} 个窗口超过阈值",
                    f"\n{len(g.later_exceedances)} later run(s) above the threshold",
                ),
                style="dim",
            )
        if g.note:
            guest.append(f"\n{g.note}", style="dim")
        self.query_one("#saturation-guest", Static).update(guest)
        table = self.query_one("#saturation-new", DataTable)
        table.clear()
        for item in report.new_concept_items:
            table.add_row(
                Text(item.concept),
                Text(item.category)
                if item.category
                else Text(tr("未归类", "not placed"), style="bold"),
                Text(" → ".join(h.category or "—" for h in item.history), style="dim"),
            )
        new_categories = self.query_one("#saturation-new-categories", Static)
        if report.new_categories:
            new_categories.update(
                Text(
                    tr("检验集编码开始后新建的范畴：", "Created after holdout coding began: ")
                    + "、".join(report.new_categories),
                    style="bold",
                )
            )
        else:
            new_categories.update(
                tr(
                    "检验集编码开始后没有新建范畴。",
                    "No category was created after holdout coding began.",
                )
                if report.new_concepts or report.holdout_coded
                else ""
            )
        self.query_one("#saturation-curve", SaturationCurve).show(report.curve, g.reached_at)

    @on(Refused)
    def _failed(self, message: Refused) -> None:
        for selector in ("#saturation-top", "#saturation-curve"):
            self.query_one(selector).loading = False
        self.query_one("#saturation-verdict", Static).update(Text(verdict_label(None)))
        self.notify(message.message, severity="error", title=tr("未完成", "Not done"), markup=False)

    # -- actions ------------------------------------------------------------
    def action_recompute(self) -> None:
        self.recompute()

    def action_begin_holdout(self) -> None:
        """The lead records the holdout start (once); the service refuses anyone else."""
        self.begin_holdout()

    def begin_holdout(self) -> None:
        run_refusable(
            self,
            lambda: self.Begun(
                project_of(self).progress.begin_holdout().isoformat(timespec="minutes")
            ),
            group="saturation-begin",
        )

    @on(Begun)
    def _begun(self, message: Begun) -> None:
        from groundcode.domain.wording import text

        self.notify(text("saturation.begun", language(), at=message.at))
        self.recompute()

    def action_switch_basis(self) -> None:
        """A lead cycles consensus -> each coder -> consensus."""
        if not app_of(self).is_lead:
            self.notify(
                tr("只有负责人可以切换检验依据", "Only a lead can switch the basis"),
                severity="warning",
            )
            return
        bases = self.bases or [CONSENSUS]
        current = self.report.basis if self.report is not None else (self.basis or CONSENSUS)
        index = bases.index(current) if current in bases else -1
        self.basis = bases[(index + 1) % len(bases)]
        self.notify(tr(f"依据：{self.basis}", f"Basis: {self.basis}"))
        self.recompute()
