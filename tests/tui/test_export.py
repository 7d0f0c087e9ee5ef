"""The export dialog writes through the service in a worker, and never overwrites unasked."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Switch

from groundcode.tui.screens.export_dialog import ExportScreen
from groundcode.tui.screens.progress import ProgressScreen
from tests.tui.conftest import MakeTestApp, settle, sync


async def _open_export(app, pilot) -> ExportScreen:  # type: ignore[no-untyped-def]
    await settle(app, pilot)
    await pilot.press("e")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, ExportScreen)
    return screen


async def _export_to(app, pilot, screen: ExportScreen, folder: Path) -> None:  # type: ignore[no-untyped-def]
    """Type the folder like a user and press Enter (which starts the export)."""
    field = screen.query_one("#export-folder", Input)
    field.focus()
    await pilot.press("end", "ctrl+u", *str(folder), "enter")
    await settle(app, pilot)


@sync
async def test_export_tables_as_xlsx_and_refuse_to_overwrite(
    demo_project: Path, make_test_app: MakeTestApp, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "out"
    app = make_test_app(demo_project, "chen")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open_export(app, pilot)
        assert screen.request().kind == "tables" and screen.request().fmt == "xlsx"
        await _export_to(app, pilot, screen, out)
        assert not isinstance(app.screen, (ExportScreen, ProgressScreen))
        assert any("导出" in n.message for n in app._notifications)
        written = out / "tables.xlsx"
        assert written.exists()
        sheet = load_workbook(written).worksheets[0]
        assert [c.value for c in sheet[2]][:3] == ["编号", "初步范畴", "初始概念及分类"]
        stamp = written.stat().st_mtime_ns

        # Again, without the overwrite switch: refused, nothing written, the dialog stays.
        screen = await _open_export(app, pilot)
        await _export_to(app, pilot, screen, out)
        assert app.screen is screen
        assert any(
            "已存在" in n.message and "覆盖已有文件" in n.message for n in app._notifications
        )
        assert written.stat().st_mtime_ns == stamp

        # With the switch on, the same export replaces the file and the dialog closes.
        switch = screen.query_one("#export-overwrite", Switch)
        switch.focus()
        await pilot.press("space")
        assert switch.value is True
        await _export_to(app, pilot, screen, out)
        assert not isinstance(app.screen, ExportScreen)
        assert written.stat().st_mtime_ns != stamp


@sync
async def test_escape_closes_the_dialog_without_writing(
    demo_project: Path, make_test_app: MakeTestApp, tmp_path: Path
) -> None:
    app = make_test_app(demo_project, "chen")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open_export(app, pilot)
        screen.query_one("#export-folder", Input).value = str(tmp_path / "never")
        await pilot.press("escape")
        await settle(app, pilot)
        assert not isinstance(app.screen, ExportScreen)
    assert not (tmp_path / "never").exists()


@sync
async def test_codebook_export_offers_its_own_formats(
    demo_project: Path, make_test_app: MakeTestApp, tmp_path: Path
) -> None:
    app = make_test_app(demo_project, "chen", lang="en")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open_export(app, pilot)
        screen.select_kind("codebook")
        await pilot.pause()
        assert screen.request().fmt == "yaml"
        await _export_to(app, pilot, screen, tmp_path)
        assert (tmp_path / "codebook.yaml").exists()


@sync
async def test_progress_dialog_reports_and_can_be_cancelled(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    import threading

    from groundcode.tui.screens.progress import ProgressReport

    results: list[object] = []
    started = threading.Event()
    steps: list[int] = []

    def job(report: ProgressReport) -> str:
        started.set()
        for i in range(10_000):
            report(i, 10_000)  # raises JobCancelled once Escape was pressed
            steps.append(i)
            threading.Event().wait(0.001)
        return "finished"

    def quick(report: ProgressReport) -> str:
        report(1, 1)
        return "finished"

    app = make_test_app(demo_project, "chen")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        app.push_screen(ProgressScreen(quick, title="quick"), results.append)
        await settle(app, pilot)
        app.push_screen(ProgressScreen(job, title="long"), results.append)
        await pilot.pause()
        assert started.wait(5)
        await pilot.press("escape")
        await settle(app, pilot)
        assert not isinstance(app.screen, ProgressScreen)
    assert results == ["finished", None]
    assert len(steps) < 10_000
