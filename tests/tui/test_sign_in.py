"""serve's sign-in screen: a browser session of a team project acts as the database login."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, Static

from groundcode.tui.app import make_app
from groundcode.tui.screens.dashboard import DashboardScreen
from groundcode.tui.screens.sign_in import SignInScreen
from tests.team import Team, people, team
from tests.tui.conftest import settle, sync

__all__ = ["team"]  # the fixture

pytestmark = pytest.mark.postgres


def _location(t: Team) -> str:
    # What serve hands each session: the project without anybody's login in it.
    return t.admin._replace(username=None, password=None).render_as_string(hide_password=False)


async def _type(pilot: object, app: object, login: str, password: str) -> None:
    screen = app.screen  # type: ignore[attr-defined]
    screen.query_one("#sign-in-login", Input).value = login
    screen.query_one("#sign-in-password", Input).value = password
    screen.query_one("#sign-in-password", Input).focus()
    await pilot.press("enter")  # type: ignore[attr-defined]


@sync
async def test_signing_in_lands_on_the_dashboard_as_that_person(
    team: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    who = people(team)
    app = make_app(_location(team), None, lang="en", sign_in=True)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(app, pilot)
            assert isinstance(app.screen, SignInScreen)
            await _type(pilot, app, who.lin, team.passwords[who.lin])
            await settle(app, pilot)
            assert isinstance(app.screen, DashboardScreen)
            assert app.project.user == who.lin
            assert app.role == "coder"
            assert who.lin in app.sub_title
    finally:
        if app.has_project:
            app.project.close()


@sync
async def test_a_wrong_password_gives_one_line_and_nothing_else(
    team: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    who = people(team)
    # The server's own password must never stand in for an empty or wrong one.
    monkeypatch.setenv("PGPASSWORD", team.passwords[who.lead])
    app = make_app(_location(team), None, lang="en", sign_in=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        for login, password in ((who.lin, "wrong"), (who.lead, ""), ("nobody", "x")):
            await _type(pilot, app, login, password)
            await settle(app, pilot)
            assert isinstance(app.screen, SignInScreen)
            assert not app.has_project
            status = str(app.screen.query_one("#sign-in-status", Static).render())
            assert len(status.strip().splitlines()) == 1
            assert "sign-in failed" in status
            assert app.screen.query_one("#sign-in-password", Input).value == ""
        assert not list((tmp_path / "config").rglob("*recent*"))
