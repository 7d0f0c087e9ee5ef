"""Sampling and the build/holdout split, with the counts shown before they apply.

The sample (one source type, ``n`` documents, optionally stratified by view
bins, a seed) and the split (holdout ratio, seed) are each drawn as a dry run
whenever a setting changes, so the tables show the counts per stratum and
per type that ``s`` (sample) and ``p`` (split) would write. A split that
would move coded documents between sets asks for an explicit confirmation.
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
from groundcode.tui.screens.screening import ask
from groundcode.tui.widgets.table import SafeTable

if TYPE_CHECKING:
    from groundcode.corpus.views import SampleReport, SourceTypeView, SplitReport


@localised
class SamplingScreen(ReportsWorkerErrors, Screen[None]):
    """A stratified sample of one type, then the stratified 70/30 split."""

    CSS_PATH = "sampling.tcss"
    KEYS: ClassVar[tuple[Key, ...]] = (
        Key("t", "cycle_type", "抽样类型", "Sample type", id="sampling.type"),
        Key("n", "set_n", "样本量", "Sample size", id="sampling.n"),
        Key("b", "set_bins", "阅读数分层", "View bins", id="sampling.bins"),
        Key("d", "set_seed", "抽样种子", "Sample seed", id="sampling.seed"),
        Key("s", "sample", "执行抽样", "Draw sample", id="sampling.sample"),
        Key("h", "set_ratio", "检验集比例", "Holdout ratio", id="sampling.ratio"),
        Key("e", "set_split_seed", "划分种子", "Split seed", id="sampling.split_seed"),
        Key("p", "split", "执行划分", "Split", id="sampling.split"),
    )
    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self) -> None:
        super().__init__()
        self.types: list[SourceTypeView] = []
        self.type_id: int | None = None
        self.n: int | None = None
        self.bins = 0
        self.seed: int | None = None
        self.ratio = 0.3
        self.split_seed: int | None = None
        self.sample_plan: SampleReport | None = None
        self.split_plan: SplitReport | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="sampling-body"):
            with Vertical(id="sampling-sample"):
                yield Label(tr("抽样（尚未应用）", "Sample (not applied)"), classes="panel-title")
                yield Static("", id="sampling-sample-settings")
                yield SafeTable(id="sampling-strata", cursor_type="row")
            with Vertical(id="sampling-split"):
                yield Label(tr("划分（尚未应用）", "Split (not applied)"), classes="panel-title")
                yield Static("", id="sampling-split-settings")
                yield SafeTable(id="sampling-types", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        strata = self.query_one("#sampling-strata", DataTable)
        for key, zh, en in (
            ("stratum", "层", "Stratum"),
            ("size", "文本数", "Size"),
            ("taken", "抽取", "Taken"),
        ):
            strata.add_column(tr(zh, en), key=key)
        types = self.query_one("#sampling-types", DataTable)
        for key, zh, en in (
            ("type", "类型", "Type"),
            ("build", "建模集", "Build"),
            ("holdout", "检验集", "Holdout"),
        ):
            types.add_column(tr(zh, en), key=key)
        strata.focus()
        self.load_types()
        self.plan_split()

    # -- workers ---------------------------------------------------------
    @dataclass
    class TypesLoaded(Message):
        types: list[SourceTypeView]

    @dataclass
    class SamplePlanned(Message):
        """A dry-run sample (None: nothing to plan yet); ``problem``: why it cannot be drawn."""

        plan: SampleReport | None
        problem: BaseException | None = None

    @dataclass
    class SplitPlanned(Message):
        plan: SplitReport

    @dataclass
    class Sampled(Message):
        report: SampleReport

    @dataclass
    class SplitDone(Message):
        report: SplitReport

    def load_types(self) -> None:
        run_service(
            self,
            lambda: project_of(self).corpus.source_types(),
            self.TypesLoaded,
            group="sampling-types",
        )

    def _sample_args(self) -> dict[str, Any]:
        return {
            "type": self.type_id,
            "n": self.n,
            "stratify_by": "views" if self.bins else None,
            "bins": self.bins or 5,
            "seed": self.seed,
        }

    def plan_sample(self) -> None:
        ready = self.type_id is not None and bool(self.n)
        args = self._sample_args()

        def call() -> SamplingScreen.SamplePlanned:
            if not ready:
                return self.SamplePlanned(None)
            try:
                return self.SamplePlanned(project_of(self).corpus.sample(**args, dry_run=True))
            except Exception as exc:  # shown beside the settings: a state, not a failure
                return self.SamplePlanned(None, exc)

        run_service(self, call, posted, group="sampling-plan")

    def plan_split(self) -> None:
        ratio, seed = self.ratio, self.split_seed
        run_service(
            self,
            lambda: project_of(self).corpus.split(holdout=ratio, seed=seed, dry_run=True),
            self.SplitPlanned,
            group="sampling-split-plan",
        )

    def do_sample(self, args: dict[str, Any]) -> None:
        run_service(
            self,
            lambda: project_of(self).corpus.sample(**args),
            self.Sampled,
            group="sampling-apply",
        )

    def do_split(self, ratio: float, seed: int | None, force: bool) -> None:
        run_service(
            self,
            lambda: project_of(self).corpus.split(holdout=ratio, seed=seed, force=force),
            self.SplitDone,
            group="sampling-apply",
        )

    @on(TypesLoaded)
    def _types_loaded(self, message: TypesLoaded) -> None:
        message.stop()
        self.types = message.types
        if self.types and self.type_id is None:
            self.type_id = self.types[-1].id
        self._show_settings()
        self.plan_sample()

    @on(SamplePlanned)
    def _sample_planned(self, message: SamplePlanned) -> None:
        from groundcode.tui.i18n import one_line

        message.stop()
        self.sample_plan = message.plan
        self._show_sample(None if message.problem is None else one_line(message.problem))

    @on(SplitPlanned)
    def _split_planned(self, message: SplitPlanned) -> None:
        message.stop()
        self.split_plan = message.plan
        self._show_split()

    @on(Sampled)
    def _sampled(self, message: Sampled) -> None:
        message.stop()
        r = message.report
        self.notify(
            tr(
                f"抽取 {len(r.sampled)} 个，排除 {r.excluded} 个未抽中",
                f"Sampled {len(r.sampled)}, excluded {r.excluded} not sampled",
            )
        )
        self.plan_sample()
        self.plan_split()

    @on(SplitDone)
    def _split_done(self, message: SplitDone) -> None:
        message.stop()
        r = message.report
        self.notify(
            tr(
                f"已划分（{r.changed} 个文本变动）",
                f"Split done ({r.changed} documents changed)",
            )
        )
        self.plan_split()

    # -- showing -----------------------------------------------------------
    def _type_name(self) -> str:
        for t in self.types:
            if t.id == self.type_id:
                return f"{t.id} {tr(t.name_zh, t.slug)}"
        return "—"

    def _show_settings(self) -> None:
        bins = str(self.bins) if self.bins else tr("不分层", "none")
        seed = str(self.seed) if self.seed is not None else tr("项目种子", "project seed")
        self.query_one("#sampling-sample-settings", Static).update(
            plain(
                tr(
                    f"类型(t) {self._type_name()} · 样本量(n) {self.n or '—'} · 分层(b) {bins} · 种子(d) {seed}",
                    f"type(t) {self._type_name()} · n(n) {self.n or '—'} · view bins(b) {bins} · seed(d) {seed}",
                )
            )
        )
        sseed = (
            str(self.split_seed) if self.split_seed is not None else tr("项目种子", "project seed")
        )
        self.query_one("#sampling-split-settings", Static).update(
            tr(
                f"检验集比例(h) {self.ratio:.2f} · 种子(e) {sseed}",
                f"holdout ratio(h) {self.ratio:.2f} · seed(e) {sseed}",
            )
        )

    def _show_sample(self, problem: str | None = None) -> None:
        table = self.query_one("#sampling-strata", DataTable)
        table.clear()
        plan = self.sample_plan
        if plan is None:
            table.add_row(
                problem or tr("按 n 设定样本量", "Press n to set the sample size"), "", ""
            )
            return
        for label, size, taken in plan.strata:
            table.add_row(label, size, taken, key=label)
        table.add_row(tr("合计", "total"), plan.population, len(plan.sampled), key="__total__")

    def _show_split(self) -> None:
        table = self.query_one("#sampling-types", DataTable)
        table.clear()
        plan = self.split_plan
        if plan is None:
            return
        for slug, counts in plan.by_type.items():
            table.add_row(slug, counts.get("build", 0), counts.get("holdout", 0), key=slug)
        table.add_row(
            tr("合计", "total"),
            sum(c.get("build", 0) for c in plan.by_type.values()),
            sum(c.get("holdout", 0) for c in plan.by_type.values()),
            key="__total__",
        )
        note = tr(
            f"种子 {plan.seed} · {plan.changed} 个文本将变动",
            f"seed {plan.seed} · {plan.changed} documents change",
        )
        if plan.coded_moving:
            note += tr(
                f" · 其中 {plan.coded_moving} 个已编码（需确认）",
                f" · {plan.coded_moving} of them coded (asks first)",
            )
        self._show_settings()
        settings = self.query_one("#sampling-split-settings", Static)
        settings.update(plain(f"{settings.render()}\n{note}"))

    # -- settings ----------------------------------------------------------
    def _changed_sample(self) -> None:
        self._show_settings()
        self.plan_sample()

    def _changed_split(self) -> None:
        self._show_settings()
        self.plan_split()

    def action_cycle_type(self) -> None:
        if not self.types:
            return
        ids = [t.id for t in self.types]
        self.type_id = (
            ids[(ids.index(self.type_id) + 1) % len(ids)] if self.type_id in ids else ids[0]
        )
        self._changed_sample()

    def _number(self, title: str, current: Any, setter: Any, *, ratio: bool = False) -> None:
        def done(text: str | None) -> None:
            if text is None:
                return
            text = text.strip()
            try:
                value = (float(text) if ratio else int(text)) if text else None
            except ValueError:
                self.notify(tr("请输入数字", "Enter a number"), severity="error")
                return
            setter(value)

        ask(self, title, "" if current is None else str(current), done, allow_empty=True)

    def action_set_n(self) -> None:
        def set_n(v: Any) -> None:
            self.n = v
            self._changed_sample()

        self._number(tr("样本量", "Sample size"), self.n, set_n)

    def action_set_bins(self) -> None:
        def set_bins(v: Any) -> None:
            self.bins = int(v or 0)
            self._changed_sample()

        self._number(
            tr("按阅读数分几层（0 不分层）", "View bins (0 for none)"), self.bins, set_bins
        )

    def action_set_seed(self) -> None:
        def set_seed(v: Any) -> None:
            self.seed = v
            self._changed_sample()

        self._number(
            tr("抽样种子（留空用项目种子）", "Sample seed (empty: the project's)"),
            self.seed,
            set_seed,
        )

    def action_set_ratio(self) -> None:
        def set_ratio(v: Any) -> None:
            if v is None or not 0 <= v < 1:
                self.notify(
                    tr("比例须在 0 与 1 之间", "The ratio must be from 0 to below 1"),
                    severity="error",
                )
                return
            self.ratio = float(v)
            self._changed_split()

        self._number(
            tr("检验集比例（如 0.3）", "Holdout ratio (e.g. 0.3)"),
            self.ratio,
            set_ratio,
            ratio=True,
        )

    def action_set_split_seed(self) -> None:
        def set_seed(v: Any) -> None:
            self.split_seed = v
            self._changed_split()

        self._number(
            tr("划分种子（留空用项目种子）", "Split seed (empty: the project's)"),
            self.split_seed,
            set_seed,
        )

    # -- applying ----------------------------------------------------------
    def action_sample(self) -> None:
        from groundcode.tui.screens.confirm import ConfirmScreen

        plan = self.sample_plan
        if plan is None:
            self.notify(tr("先设定样本量", "Set the sample size first"), severity="warning")
            return
        args = self._sample_args()

        def done(yes: bool | None) -> None:
            if yes:
                self.do_sample(args)

        self.app.push_screen(
            ConfirmScreen(
                tr(
                    f"抽取 {len(plan.sampled)} 个，其余 {plan.excluded} 个排除为“未抽中”？",
                    f"Keep {len(plan.sampled)} and exclude the other {plan.excluded} as not sampled?",
                )
            ),
            done,
        )

    def action_split(self) -> None:
        from groundcode.tui.screens.confirm import ConfirmScreen

        plan = self.split_plan
        ratio, seed = self.ratio, self.split_seed
        if plan is None:
            return
        if not plan.coded_moving:
            self.do_split(ratio, seed, False)
            return

        def done(yes: bool | None) -> None:
            if yes:
                self.do_split(ratio, seed, True)

        self.app.push_screen(
            ConfirmScreen(
                tr(
                    f"{plan.coded_moving} 个已编码的文本将换到另一集合。确定重新划分？",
                    f"{plan.coded_moving} coded documents would change set. Split anyway?",
                ),
                danger=True,
            ),
            done,
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("sample", "split"):
            return app_of(self).is_lead
        return True
