"""The project dashboard: where the study stands, at a glance.

The funnel and the coders' progress are for everybody; kappa and the
saturation verdict are for a lead only (the services refuse them to a coder
in blind mode, so a coder's dashboard does not even ask).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label, Static

from groundcode.domain.errors import GroundcodeError
from groundcode.tui.commands import Key, localised
from groundcode.tui.context import ReportsWorkerErrors, app_of, posted, project_of, run_service
from groundcode.tui.i18n import tr
from groundcode.tui.messages import ProjectReady
from groundcode.tui.safe import escaped
from groundcode.tui.widgets.funnel import FunnelTable
from groundcode.tui.widgets.table import SafeTable

if TYPE_CHECKING:
    from groundcode.analysis.agreement_core import AgreementResult
    from groundcode.analysis.saturation import SaturationReport
    from groundcode.corpus.views import Funnel

RELOAD_AFTER = 20.0  # seconds


def _fmt(value: Any, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


@localised
class DashboardScreen(ReportsWorkerErrors, Screen[None]):
    """Funnel, progress, blind mode; kappa and saturation for a lead."""

    CSS_PATH = "dashboard.tcss"
    KEYS: ClassVar[tuple[Key, ...]] = (
        Key("r", "reload", "刷新", "Refresh", id="dashboard.reload"),
        Key("b", "toggle_blind", "切换盲编", "Blind mode", id="dashboard.blind"),
    )
    BINDINGS: ClassVar[list[BindingType]] = []
    _loaded_at: float = -1e9

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="dash-body"):
            with VerticalScroll(id="dash-left"):
                yield Label(tr("语料漏斗", "Corpus funnel"), classes="panel-title")
                yield FunnelTable(id="funnel")
                yield Static("", id="funnel-note", classes="muted")
                yield Label(tr("编码进度", "Coding progress"), classes="panel-title")
                yield SafeTable(id="progress", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="dash-right"):
                yield Label(tr("盲编模式", "Blind mode"), classes="panel-title")
                yield Static("", id="blind")
                yield Label(tr("编码者间信度", "Inter-coder agreement"), classes="panel-title")
                yield Static("", id="kappa")
                yield Label(tr("理论饱和度", "Theoretical saturation"), classes="panel-title")
                yield Static("", id="saturation")
        yield Footer()

    def on_screen_resume(self) -> None:
        # Also sent when the mode first opens. Paint first; the queries (and pandas) follow.
        # Progress is costly on a large project, so coming back within a while reuses it.
        if time.monotonic() - self._loaded_at > RELOAD_AFTER:
            self.call_after_refresh(self.reload)

    def action_reload(self) -> None:
        self.reload()

    def reload(self) -> None:
        """Fetch everything; the lead-only numbers in their own workers (they are slower)."""
        if not app_of(self).has_project or not app_of(self).started:
            return  # painted while the project opens; "project-ready" calls back
        self._loaded_at = time.monotonic()
        self.query_one("#funnel").loading = True
        self.query_one("#progress").loading = True
        self.load_overview()
        app = app_of(self)
        lead_view = app.is_lead
        for wid in ("#kappa", "#saturation"):
            widget = self.query_one(wid, Static)
            widget.loading = lead_view
            if not lead_view:
                widget.update(
                    tr("盲编模式下仅负责人可见", "Visible to the lead only in blind mode")
                    if app.blind
                    else tr("仅负责人可见", "Visible to the lead only")
                )
        if lead_view:
            self.load_kappa()
            self.load_saturation()

    # -- results, one typed message per kind ------------------------------
    @dataclass
    class Overview(Message):
        """Funnel, blind mode and every coder's progress (coder, codings, documents, passages)."""

        funnel: Funnel
        blind: bool
        rows: list[tuple[str, int, int, int]]

    @dataclass
    class KappaLoaded(Message):
        report: AgreementResult

    @dataclass
    class SaturationLoaded(Message):
        report: SaturationReport

    @dataclass
    class NotYet(Message):
        """A lead-only number cannot be computed yet (no codings): a state, not an error."""

        selector: str
        error: GroundcodeError

    @dataclass
    class BlindSet(Message):
        on: bool

    # -- workers (no widget work in here) --------------------------------
    def load_overview(self) -> None:
        def call() -> DashboardScreen.Overview:
            p = project_of(self)
            funnel = p.corpus.funnel()
            blind = p.people.blind_mode()
            frame = p.queries.progress()
            rows = [
                (str(r.coder), int(r.codings), int(r.documents), int(r.passages))  # type: ignore[arg-type]
                for r in frame.itertuples(index=False)
            ]
            return self.Overview(funnel, blind, rows)

        run_service(self, call, posted, group="dash-overview")

    def _lead_number(self, selector: str, compute: Callable[[], Message], group: str) -> None:
        def call() -> Message:
            try:
                return compute()
            except GroundcodeError as exc:
                return self.NotYet(selector, exc)
            finally:
                self.app.call_from_thread(self._stop_loading, selector)

        run_service(self, call, posted, group=group)

    def load_kappa(self) -> None:
        self._lead_number(
            "#kappa",
            lambda: self.KappaLoaded(project_of(self).analysis.agreement(bootstrap=0)),
            "dash-kappa",
        )

    def load_saturation(self) -> None:
        self._lead_number(
            "#saturation",
            lambda: self.SaturationLoaded(project_of(self).analysis.saturation()),
            "dash-saturation",
        )

    def _stop_loading(self, selector: str) -> None:
        self.query_one(selector).loading = False

    @on(ProjectReady)
    def _project_ready(self, message: ProjectReady) -> None:
        message.stop()
        self.reload()

    @on(Overview)
    def _show_overview(self, message: Overview) -> None:
        funnel, blind, rows = message.funnel, message.blind, message.rows
        table = self.query_one(FunnelTable)
        table.loading = False
        table.load_funnel(funnel)
        unsplit = funnel.get("unsplit", 0)
        note = tr(f"尚未划分：{unsplit}", f"not yet split: {unsplit}") if unsplit else ""
        self.query_one("#funnel-note", Static).update(note)
        progress = self.query_one("#progress", DataTable)
        progress.loading = False
        progress.clear(columns=True)
        progress.add_column(tr("编码人员", "Coder"), key="coder")
        progress.add_column(tr("编码数", "Codings"), key="codings")
        progress.add_column(tr("文本", "Documents"), key="documents")
        progress.add_column(tr("片段", "Passages"), key="passages")
        included = funnel.get("included", 0)
        for coder, codings, docs, passages in rows:
            progress.add_row(coder, codings, f"{docs}/{included}", passages, key=coder)
        if not rows:
            progress.add_row(tr("（还没有编码）", "(no codings yet)"), "", "", "")
        app = app_of(self)
        app.blind = blind
        app.update_header()
        self.query_one("#blind", Static).update(
            tr("开启：编码人员只看到自己的编码", "ON: coders see only their own codings")
            if blind
            else tr("关闭：所有人可见全部编码", "OFF: everyone sees all codings")
        )

    @on(NotYet)
    def _show_not_yet(self, message: NotYet) -> None:
        from groundcode.tui.i18n import one_line

        line = f"[dim]{escaped(one_line(message.error))}[/dim]"
        self.query_one(message.selector, Static).update(line)

    @on(KappaLoaded)
    def _show_kappa(self, message: KappaLoaded) -> None:
        from groundcode.tui.i18n import language
        from groundcode.tui.screens.agreement import kappa_kind_label

        r = message.report
        # The figures with their definition (SPEC §4's methods sentence): which kappa,
        # at which level, over which units, and how judged and uncoded units count.
        lines = [
            f"{escaped(kappa_kind_label(r.kappa_kind))} ({escaped(', '.join(r.coders))}): "
            f"[b]{_fmt(r.kappa)}[/b]",
            tr(
                f"一致率 {_fmt(r.percent_agreement)} · {r.n_units} 个片段",
                f"agreement {_fmt(r.percent_agreement)} · {r.n_units} passages",
            ),
            f"[dim]{escaped(r.methods(language()))}[/dim]",
        ]
        self.query_one("#kappa", Static).update("\n".join(lines))

    @on(SaturationLoaded)
    def _show_saturation(self, message: SaturationLoaded) -> None:
        report = message.report
        verdict = {
            True: tr("[b]已饱和[/b]", "[b]saturated[/b]"),
            False: tr("[b]未饱和[/b]", "[b]not saturated[/b]"),
            None: tr("尚无结论", "no verdict yet"),
        }[report.saturated]
        from groundcode.tui.i18n import language

        reasons = report.reasons_in(language())[:3]
        lines = [verdict, *(f"[dim]{escaped(r)}[/dim]" for r in reasons)]
        lines.append(
            tr(
                f"检验集：已判定 {report.holdout_done}/{report.holdout_documents}",
                f"holdout: {report.holdout_done}/{report.holdout_documents} judged (done)",
            )
        )
        self.query_one("#saturation", Static).update("\n".join(lines))

    # -- blind mode ------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_blind":
            app = app_of(self)
            return app.is_lead or not app.blind
        return True

    def action_toggle_blind(self) -> None:
        self.set_blind(not app_of(self).blind)

    def set_blind(self, on: bool) -> None:
        def call() -> DashboardScreen.BlindSet:
            project_of(self).people.set_blind_mode(on)
            return self.BlindSet(on)

        run_service(self, call, posted, group="dash-blind")

    @on(BlindSet)
    def _blind_set(self, message: BlindSet) -> None:
        message.stop()
        self.reload()
