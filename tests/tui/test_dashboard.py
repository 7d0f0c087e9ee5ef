"""Dashboard: the funnel from the service; kappa for a lead, none for a blind coder."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from groundcode.project import Project
from groundcode.tui.screens.dashboard import DashboardScreen
from groundcode.tui.widgets.funnel import FunnelTable
from tests.tui.conftest import MakeTestApp, settle, sync


def _text(widget: Static) -> str:
    return str(widget.render())


@sync
async def test_funnel_numbers_equal_the_service(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    app = make_test_app(demo_project, "lin")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, DashboardScreen)
        table = app.screen.query_one(FunnelTable)
        with Project.open(demo_project, user="lin") as p:
            funnel = p.corpus.funnel()
        for slug, entry in funnel["by_type"].items():
            row = table.get_row(slug)
            assert row[1] == entry["documents"]
            assert row[-3:] == [entry["included"], entry["build"], entry["holdout"]]
        total = table.get_row("__total__")
        assert total[1] == funnel["documents"]
        assert total[-3] == funnel["included"]
        assert total[-2:] == [funnel["by_split"]["build"], funnel["by_split"]["holdout"]]
        for i, kind in enumerate(table.kinds, start=2):
            assert total[i] == funnel["excluded"][kind]


@sync
async def test_lead_sees_kappa_and_saturation(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    app = make_test_app(demo_project, "chen")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot, rounds=5)
        with Project.open(demo_project, user="chen") as p:
            result = p.analysis.agreement(bootstrap=0)
        shown = _text(app.screen.query_one("#kappa", Static))
        assert f"{result.kappa:.3f}" in shown
        # The figure says what it is: the kind of kappa, and the methods sentence.
        assert "合并 κ" in shown and result.methods("zh") in shown
        assert "饱和" in _text(app.screen.query_one("#saturation", Static))


@sync
async def test_blind_coder_sees_no_kappa_and_only_own_progress(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    app = make_test_app(demo_project, "lin")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot, rounds=5)
        shown = _text(app.screen.query_one("#kappa", Static))
        assert "kappa" not in shown and "负责人" in shown
        assert not [w for w in app.workers if w.group == "dash-kappa"]
        progress = app.screen.query_one("#progress")
        coders = [str(progress.get_row_at(i)[0]) for i in range(progress.row_count)]
        assert coders == ["lin"]
