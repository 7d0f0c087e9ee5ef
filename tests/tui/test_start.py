"""The start screen: the way forward when no project is open."""

from __future__ import annotations

from pathlib import Path

from groundcode.project import Project
from groundcode.tui.recent import recent_projects, remember_project
from groundcode.tui.screens.start import StartScreen
from groundcode.tui.screens.who import WhoScreen
from tests.tui.conftest import MakeTestApp, settle, sync


async def _type(pilot: object, text: str) -> None:
    await pilot.press(*text)  # type: ignore[attr-defined]


@sync
async def test_new_project_from_an_empty_folder(tmp_path: Path, make_test_app: MakeTestApp) -> None:
    target = tmp_path / "study.db"
    app = make_test_app(target, None, lang="en")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, StartScreen)
        await pilot.press("n")
        await _type(pilot, "健康码研究")
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("enter")  # the offered location is the missing file
        await settle(app, pilot, rounds=6)
        # A new project has nobody in it yet: the app asks who is coding.
        assert isinstance(app.screen, WhoScreen)
        assert app.has_project
    assert target.exists()
    with Project.open(target) as p:
        assert p.coding.status()["name"] == "健康码研究"
    assert recent_projects()[0] == str(target.resolve())


@sync
async def test_recent_projects_most_recent_first_and_open_with_enter(
    demo_project: Path, tmp_path: Path, make_test_app: MakeTestApp
) -> None:
    other = tmp_path / "other.db"
    Project.create(other).close()
    remember_project(str(other))
    remember_project(str(demo_project))
    assert recent_projects() == [str(demo_project.resolve()), str(other.resolve())]
    app = make_test_app(tmp_path / "nothing.db", "chen")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot, rounds=6)
        assert app.current_mode == "dashboard"
        assert app.project.user == "chen"


@sync
async def test_a_password_in_the_url_is_refused_and_a_bad_file_is_one_line(
    tmp_path: Path, make_test_app: MakeTestApp
) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    app = make_test_app(tmp_path / "none.db", None, lang="en")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("o", *["backspace"] * 200)
        await _type(pilot, "postgresql://me:secret@localhost/db")
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, StartScreen)
        assert any("password" in n.message for n in app._notifications)
        await pilot.press("o", *["backspace"] * 200)
        await _type(pilot, str(junk))
        await pilot.press("enter")
        await settle(app, pilot, rounds=6)
        assert isinstance(app.screen, StartScreen)
        errors = [n.message for n in app._notifications if n.severity == "error"]
        assert errors and "Traceback" not in errors[-1] and "\n" not in errors[-1]
        assert not app.has_project


@sync
async def test_the_demo_opens_as_its_lead(
    tmp_path: Path, make_test_app: MakeTestApp, monkeypatch: object
) -> None:
    monkeypatch.chdir(tmp_path)  # type: ignore[attr-defined]
    app = make_test_app(tmp_path / "none.db", None)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("d")
        await settle(app, pilot, rounds=8)
        assert app.current_mode == "dashboard"
        assert app.project.user == "chen" and app.is_lead
    assert (tmp_path / "demo.db").exists()
