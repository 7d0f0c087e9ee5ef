"""The agreement screen: figures and per-code table for a lead, decisions, the blind rule."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Static

from groundcode.project import Project
from groundcode.tui.screens.agreement import AgreementScreen
from tests.tui.conftest import MakeTestApp, settle, sync


async def _open_agreement(app, pilot) -> AgreementScreen:  # type: ignore[no-untyped-def]
    await settle(app, pilot)
    await pilot.press("5")
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, AgreementScreen)
    return screen


def _consensus_count(path: Path) -> int:
    with Project.open(path, user="chen") as p:
        frame = p.coding.codings(coders=["consensus"])
    return len(frame)


@sync
async def test_lead_sees_the_per_code_table_of_the_service(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    with Project.open(demo_project, user="chen") as p:
        expected = p.analysis.agreement().to_json()["per_code"]
    app = make_test_app(demo_project, "chen")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open_agreement(app, pilot)
        table = screen.query_one("#agreement-codes", DataTable)
        assert table.row_count == len(expected)
        for i, row in enumerate(expected[:5]):
            cells = [str(c) for c in table.get_row_at(i)]
            assert cells[0] == row["code"]
            assert cells[1] == ("—" if row["kappa"] is None else f"{row['kappa']:.3f}")
            assert cells[3:] == [str(row[k]) for k in ("both", "a_only", "b_only", "neither")]
        summary = str(screen.query_one("#agreement-summary", Static).render())
        assert "κ" in summary and "lin" in summary and "zhou" in summary
        # The kind of kappa is named, never plain "Cohen's kappa" for the pooled one, and
        # the methods sentence of the service is shown in the interface language.
        with Project.open(demo_project, user="chen") as p:
            data = p.analysis.agreement().to_json()
        from groundcode.tui.i18n import tr

        assert data["kappa_kind"] == "pooled"
        assert tr("合并 κ", "pooled κ") in summary
        methods = tr(data["methods"]["zh"], data["methods"]["en"])
        assert methods[:20] in summary.replace("\n", "")
        diagnostics = str(screen.query_one("#agreement-diagnostics", Static).render())
        first = data["diagnostics"][0]
        assert tr(first["message_zh"], first["message_en"])[:10] in diagnostics
        # Sorting with a key reorders the table; a full cycle returns to the service's order.
        await pilot.press("s", "s")
        await pilot.pause()
        kappas = [r.kappa for r in screen.sorted_rows() if r.kappa is not None]
        assert kappas == sorted(kappas)
        # Switching the level recomputes at the main-category level.
        await pilot.press("L")
        await settle(app, pilot)
        await pilot.press("L")
        await settle(app, pilot)
        assert screen.level == "main"
        with Project.open(demo_project, user="chen") as p:
            mains = p.analysis.agreement(level="main").to_json()["per_code"]
        assert {r.code for r in screen.per_code} == {r["code"] for r in mains}


@sync
async def test_enter_on_a_disagreement_opens_it_in_the_coding_mode(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    app = make_test_app(demo_project, "chen")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open_agreement(app, pilot)
        assert screen.disagreements
        await pilot.press("t")
        await pilot.pause()
        first = screen.disagreements[0]
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.current_mode == "coding"
        assert type(app.screen).__name__ == "CodingScreen"
        location = getattr(app.screen, "current_location", None)
        if callable(location):
            assert location()[0] == first.document


@sync
async def test_deciding_a_disagreement_adds_consensus_codings(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    before = _consensus_count(demo_project)
    app = make_test_app(demo_project, "chen")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open_agreement(app, pilot)
        await pilot.press("t")
        await pilot.pause()
        first = screen.disagreements[0]
        await pilot.press("B")  # keep both coders' codes
        await settle(app, pilot)
        assert screen.disagreements[0].decided == "both"
        table = screen.query_one("#agreement-disagreements", DataTable)
        assert str(table.get_row_at(0)[-1]) != ""
    after = _consensus_count(demo_project)
    assert after > before
    with Project.open(demo_project, user="chen") as p:
        decided = [d for d in p.analysis.disagreements() if d.decided]
        assert (first.document, first.passage, "both") in {
            (d.document, d.passage, d.decided) for d in decided
        }


@sync
async def test_reconcile_reports_and_keeps_the_list(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    app = make_test_app(demo_project, "chen")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open_agreement(app, pilot)
        await pilot.press("R")
        await settle(app, pilot)
        assert any("consensus" in n.message or "共识" in n.message for n in app._notifications)
        assert screen.disagreements


@sync
async def test_a_coder_in_blind_mode_sees_only_the_lead_message(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    app = make_test_app(demo_project, "lin", lang="en")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open_agreement(app, pilot)
        message = str(screen.query_one("#agreement-blind", Static).render())
        assert "only a lead sees agreement during blind coding" in message
        assert screen.result is None
        assert not screen.query_one("#agreement-body").display
        assert not [w for w in app.workers if w.group == "agreement"]
