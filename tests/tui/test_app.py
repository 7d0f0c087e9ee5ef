"""The app shell: who is coding, modes, help, language."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import HelpPanel, Label

from groundcode.tui.app import MODE_SCREENS
from groundcode.tui.screens.dashboard import DashboardScreen
from groundcode.tui.screens.who import SwitchUserScreen, WhoScreen
from tests.tui.conftest import MakeTestApp, settle, sync


@sync
async def test_no_coder_asks_who_and_picking_lin_opens_the_dashboard(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    app = make_test_app(demo_project, None)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, WhoScreen)
        await pilot.press("down", "enter")  # chen (lead) is first, lin second
        await settle(app, pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert app.project.user == "lin"
        assert app.role == "coder"
        assert "lin" in app.sub_title and "BLIND" in app.sub_title


@sync
async def test_a_lead_who_handed_over_in_blind_mode_switches_back_with_ctrl_o(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    """The person switch lists the lead in blind mode too, and rebuilds the screens."""
    from groundcode.tui.screens.agreement import AgreementScreen

    app = make_test_app(demo_project, "lin")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        assert app.blind and not app.is_lead
        await pilot.press("5")
        await settle(app, pilot)
        assert isinstance(app.screen, AgreementScreen) and app.screen.blind_for_me()
        # Escape goes back without switching (and without quitting).
        await pilot.press("ctrl+o")
        await settle(app, pilot)
        assert isinstance(app.screen, SwitchUserScreen)
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.project.user == "lin" and isinstance(app.screen, AgreementScreen)
        await pilot.press("ctrl+o")
        await settle(app, pilot)
        await pilot.press("home", "enter")  # chen, the lead, is first
        await settle(app, pilot, rounds=5)
        assert app.project.user == "chen" and app.is_lead and app.blind
        assert "chen" in app.sub_title and "BLIND" in app.sub_title
        assert isinstance(app.screen, DashboardScreen)
        await pilot.press("5")
        await settle(app, pilot, rounds=4)
        screen = app.screen
        assert isinstance(screen, AgreementScreen) and not screen.blind_for_me()
        assert screen.result is not None and screen.result.coders == ("lin", "zhou")


@sync
async def test_adding_a_coder_without_being_the_lead_is_refused(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    app = make_test_app(demo_project, None)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("a")
        await pilot.press(*"wang", "enter")
        await settle(app, pilot)
        assert any("lead" in n.message or "负责人" in n.message for n in app._notifications)
        assert "wang" not in [c.name for c in app.project.coding.coders()]


@pytest.mark.parametrize("key,mode", [(str(i), m) for i, m in enumerate(MODE_SCREENS, start=1)])
@sync
async def test_every_mode_key_reaches_its_screen(
    demo_project: Path, make_test_app: MakeTestApp, key: str, mode: str
) -> None:
    app = make_test_app(demo_project, "chen")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press(key)
        await settle(app, pilot)
        assert app.current_mode == mode
        assert type(app.screen).__name__ == MODE_SCREENS[mode][1]


@sync
async def test_question_mark_shows_the_keys(demo_project: Path, make_test_app: MakeTestApp) -> None:
    app = make_test_app(demo_project, "chen")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen.query(HelpPanel)
        await pilot.press("question_mark")
        await pilot.pause()
        assert not app.screen.query(HelpPanel)


@sync
async def test_language_switch_changes_labels_and_is_remembered(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    from groundcode.tui.i18n import remembered_language

    app = make_test_app(demo_project, "lin", lang="zh")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        titles = [str(label.render()) for label in app.screen.query(Label)]
        assert "语料漏斗" in titles
        await pilot.press("l")
        await settle(app, pilot)
        assert isinstance(app.screen, DashboardScreen)
        titles = [str(label.render()) for label in app.screen.query(Label)]
        assert "Corpus funnel" in titles
        assert remembered_language("lin") == "en"
        await pilot.press("l")
        await settle(app, pilot)
        assert remembered_language("lin") == "zh"


@sync
async def test_a_missing_project_opens_the_start_screen(
    tmp_path: Path, make_test_app: MakeTestApp
) -> None:
    from groundcode.tui.screens.start import StartScreen

    app = make_test_app(tmp_path / "missing.db", "lin")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, StartScreen)
        assert not app.has_project
    assert not (tmp_path / "missing.db").exists()


@sync
async def test_palette_lists_the_screen_keys(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    app = make_test_app(demo_project, "chen")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "刷新" in titles and "导出" in titles
