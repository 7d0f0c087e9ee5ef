"""Snapshots of the study screens at the smallest (80x24) and a large (200x60) terminal.

Regenerate after an intended layout change with
``pytest tests/tui/test_study_snapshots.py --snapshot-update`` and look at the SVGs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from groundcode.tui.app import GroundcodeApp
from groundcode.tui.commands import relocalise
from groundcode.tui.i18n import set_language
from tests.tui.conftest import MakeTestApp, wait_idle

SIZES = [(80, 24), (200, 60)]


async def _settle(pilot: Pilot[Any], rounds: int = 5) -> None:
    for _ in range(rounds):
        await wait_idle(pilot.app)
        await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_start_screen(size: tuple[int, int], snap_compare: Callable[..., bool]) -> None:
    set_language("zh")
    relocalise()
    app = GroundcodeApp(None, start_location="/study/groundcode.db")
    assert snap_compare(app, run_before=_settle, terminal_size=size)


FIXED = "2026-01-01T09:00:00+00:00"


def _fixed_times(screen: Any) -> None:
    """Memo times change with every build of the demo: show one fixed time."""
    from dataclasses import replace
    from datetime import datetime

    if hasattr(screen, "memos") and hasattr(screen, "_show"):
        when = datetime.fromisoformat(FIXED)
        screen.memos = [replace(m, created_at=when, updated_at=when) for m in screen.memos]
        screen._show()


def _fixed_decision_times(monkeypatch: pytest.MonkeyPatch) -> None:
    """Screening decisions carry the time the demo was built: the service answers one fixed time.

    Patched in the service (not in the screen after the fact), so a reload that
    arrives late shows the same time too.
    """
    from dataclasses import replace

    from groundcode.corpus.service import CorpusService

    original = CorpusService.exclusions_page

    def fixed(self: CorpusService, **kw: Any) -> Any:
        page = original(self, **kw)
        return replace(page, items=tuple(replace(e, decided_at=FIXED) for e in page.items))

    monkeypatch.setattr(CorpusService, "exclusions_page", fixed)


async def _until(pilot: Pilot[Any], ready: Callable[[], bool], rounds: int = 400) -> None:
    """Settle until ``ready()`` holds (a screen's workers have delivered what it shows)."""
    for _ in range(rounds):
        await _settle(pilot, rounds=1)
        if ready():
            await _settle(pilot, rounds=2)
            return
    raise AssertionError("the screen never became ready")


# What each screen shows once its workers have delivered (checked before the snapshot).
READY: dict[str, Callable[[Any], bool]] = {
    "screening": lambda s: s.would is not None and s.query_one("#screening-funnel").row_count > 0,
}
STUDY = {
    "import": ("I",),
    "screening": ("S",),
    "reposts": ("D", "minus", "minus"),
    "sampling": ("P", "n", "6", "0", "enter", "b", "3", "enter"),
    "people": ("C",),
    "memos": ("M",),
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("screen", list(STUDY))
def test_study_screen(
    screen: str,
    size: tuple[int, int],
    demo_project: Path,
    make_test_app: MakeTestApp,
    snap_compare: Callable[..., bool],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = Path(__file__).resolve().parents[2] / "corpora" / "health-code"
    monkeypatch.chdir(root)  # the import screen browses the working directory
    from datetime import datetime

    from groundcode.coding.progress import ProgressService

    start = datetime.fromisoformat(FIXED)
    monkeypatch.setattr(ProgressService, "holdout_start", lambda self: start)
    _fixed_decision_times(monkeypatch)
    keys = STUDY[screen]
    ready = READY.get(screen, lambda s: True)

    async def before(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        for k in keys:
            await pilot.press(k)
            await _settle(pilot)
        await _until(pilot, lambda: ready(pilot.app.screen))
        _fixed_times(pilot.app.screen)
        await _settle(pilot)

    assert snap_compare(make_test_app(demo_project, "chen"), run_before=before, terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_mapping_dialog(
    size: tuple[int, int],
    demo_project: Path,
    make_test_app: MakeTestApp,
    snap_compare: Callable[..., bool],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The column mapping of the GB18030 comments: guesses, encoding and the 20-row preview."""
    from tests.tui.test_import import goto

    root = Path(__file__).resolve().parents[2] / "corpora" / "health-code"
    monkeypatch.chdir(root)

    async def before(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        await pilot.press("I")
        await _settle(pilot)
        await goto(pilot, root / "4-selfmedia" / "comments-gb18030.csv")
        await pilot.press("a", "tab", "m")
        await _until(
            pilot,
            lambda: (
                getattr(pilot.app.screen, "shown", None) is not None
                and not pilot.app.screen.query_one("#mapping-fields").loading
            ),
        )

    assert snap_compare(make_test_app(demo_project, "chen"), run_before=before, terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_retrieval_list(
    size: tuple[int, int],
    demo_project: Path,
    make_test_app: MakeTestApp,
    snap_compare: Callable[..., bool],
) -> None:
    """Every segment of one category with its context, as a lead sees it (coder column)."""
    from groundcode.project import Project

    with Project.open(demo_project, user="chen") as p:
        category = str(p.codebook.concepts_frame()["category"].dropna().iloc[0])

    async def before(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        await pilot.press("G")
        await _until(pilot, lambda: bool(getattr(pilot.app.screen, "codes", None)))
        await pilot.press("c", *f"范畴：{category}", "enter")
        await _until(pilot, lambda: bool(getattr(pilot.app.screen, "segments", None)))

    assert snap_compare(make_test_app(demo_project, "chen"), run_before=before, terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_switch_user_dialog(
    size: tuple[int, int],
    demo_project: Path,
    make_test_app: MakeTestApp,
    snap_compare: Callable[..., bool],
) -> None:
    """The person switch (ctrl+o) over the dashboard: everyone listed, the acting lead highlighted."""
    from textual.widgets import OptionList

    async def before(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        await pilot.press("ctrl+o")
        await _until(
            pilot,
            lambda: (
                bool(pilot.app.screen.query(OptionList))
                and pilot.app.screen.query_one(OptionList).option_count > 0
            ),
        )

    assert snap_compare(make_test_app(demo_project, "chen"), run_before=before, terminal_size=size)
