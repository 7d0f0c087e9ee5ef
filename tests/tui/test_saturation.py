"""The saturation screen shows the service's verdict; the curve widget's geometry."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Static

from groundcode.project import Project
from groundcode.tui.screens.saturation import SaturationScreen, verdict_label
from groundcode.tui.widgets.curve import SaturationCurve, column_values, marker_column
from tests.tui.conftest import MakeTestApp, settle, sync


async def _open_saturation(app, pilot) -> SaturationScreen:  # type: ignore[no-untyped-def]
    await settle(app, pilot)
    await pilot.press("6")
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, SaturationScreen)
    return screen


@sync
async def test_the_verdict_is_the_services(demo_project: Path, make_test_app: MakeTestApp) -> None:
    with Project.open(demo_project, user="chen") as p:
        expected = p.analysis.saturation()
    app = make_test_app(demo_project, "chen", lang="en")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open_saturation(app, pilot)
        assert screen.report is not None
        assert screen.report.saturated == expected.saturated
        verdict = str(screen.query_one("#saturation-verdict", Static).render())
        assert verdict_label(expected.saturated) in verdict
        reasons = str(screen.query_one("#saturation-reasons", Static).render())
        assert expected.reasons[0][:30] in reasons.replace("\n", " ")
        table = screen.query_one("#saturation-new", DataTable)
        assert table.row_count == len(expected.new_concepts)
        curve = screen.query_one("#saturation-curve", SaturationCurve)
        assert curve.values[-1] == expected.curve[-1].cumulative_concepts
        assert curve.reached_at == expected.guest.reached_at
        if expected.guest.reached_at is not None:
            assert "Guest rule: document" in str(curve.render())
        # A lead switches the basis to a single coder and back with one key.
        await pilot.press("b")
        await settle(app, pilot)
        assert screen.report.basis == screen.bases[1]
        await pilot.press("r")
        await settle(app, pilot)
        assert screen.report.basis == screen.bases[1]


@sync
async def test_a_coder_sees_the_test_on_their_own_codings(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    app = make_test_app(demo_project, "lin", lang="en")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open_saturation(app, pilot)
        assert screen.report is not None and screen.report.basis == "lin"
        await pilot.press("b")
        await settle(app, pilot)
        assert screen.report.basis == "lin"
        assert any("Only a lead" in n.message for n in app._notifications)


def test_curve_columns_cover_every_document() -> None:
    values = [1, 3, 3, 4, 6, 6, 7, 7, 7, 8]
    wide = column_values(values, 20)
    assert wide[-1] == (10, 8) and wide[0] == (1, 1)
    narrow = column_values(values, 4)
    assert [doc for doc, _ in narrow] == [3, 5, 8, 10]
    assert narrow[-1][1] == 8
    assert column_values([], 10) == []
    assert marker_column(5, 10, 4) == 1
    assert marker_column(None, 10, 4) is None
    assert marker_column(11, 10, 4) is None


def _unstart(path: Path) -> None:
    """The demo has its holdout start recorded; take it out to record it again from the TUI."""
    import sqlite3

    con = sqlite3.connect(str(path))
    con.execute("DELETE FROM setting WHERE key = 'holdout_start'")
    con.commit()
    con.close()


@sync
async def test_the_lead_records_the_holdout_start_once_with_g(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    _unstart(demo_project)
    app = make_test_app(demo_project, "lin", lang="en")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open_saturation(app, pilot)
        assert screen.report is not None and screen.report.saturated is None
        await pilot.press("g")
        await settle(app, pilot)
        assert any("needs a lead" in n.message for n in app._notifications)
    with Project.open(demo_project, user="chen") as p:
        assert p.progress.holdout_start() is None
    app = make_test_app(demo_project, "chen", lang="en")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open_saturation(app, pilot)
        assert screen.report is not None and screen.report.saturated is None
        await pilot.press("g")
        await settle(app, pilot, rounds=4)
        assert screen.report.holdout_start is not None
        await pilot.press("g")
        await settle(app, pilot)
        assert any("already recorded" in n.message for n in app._notifications)
    with Project.open(demo_project, user="chen") as p:
        assert p.progress.holdout_start() is not None
