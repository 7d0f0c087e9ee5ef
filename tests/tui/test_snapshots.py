"""Snapshots of the seven modes and the export dialog at 80x24 (the smallest) and 200x60.

Each picture is taken only once the screen's workers have delivered what it
shows (no widget still loading, the screen's own data in place), and times the
demo build stamps are answered fixed by the service, so a snapshot does not
depend on timing or on the day. Regenerate after an intended layout change with
``pytest tests/tui/test_snapshots.py --snapshot-update`` and look at the SVGs
before committing them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.tui.conftest import MakeTestApp, wait_idle

SIZES = [(80, 24), (200, 60)]
FIXED = "2026-01-01T09:00:00+00:00"


async def _settle(pilot: Pilot[Any], rounds: int = 5) -> None:
    for _ in range(rounds):
        await wait_idle(pilot.app)
        await pilot.pause()


def _nothing_loading(screen: Any) -> bool:
    return not screen.loading and not any(w.loading for w in screen.query("*"))


async def _until(pilot: Pilot[Any], ready: Callable[[Any], bool], rounds: int = 400) -> None:
    """Settle until the screen shows what its workers deliver, and nothing is loading."""
    for _ in range(rounds):
        await _settle(pilot, rounds=1)
        screen = pilot.app.screen
        if ready(screen) and _nothing_loading(screen):
            await _settle(pilot, rounds=2)
            return
    raise AssertionError("the screen never became ready")


def _fixed_holdout_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo records its holdout start when it is built: the services answer one time.

    Only the time shown is replaced, after the test has been computed on the
    real one, so the verdict is the service's own.
    """
    from dataclasses import replace

    from groundcode.analysis.service import AnalysisService
    from groundcode.coding.progress import ProgressService

    start = datetime.fromisoformat(FIXED)
    monkeypatch.setattr(ProgressService, "holdout_start", lambda self: start)
    original = AnalysisService.saturation

    def fixed(self: AnalysisService, *args: Any, **kw: Any) -> Any:
        report = original(self, *args, **kw)
        return replace(report, holdout_start=start) if report.holdout_start else report

    monkeypatch.setattr(AnalysisService, "saturation", fixed)


def _started(screen: Any) -> bool:
    return bool(screen.app.started)


# mode -> (who acts, the keys that lead there, what the screen shows once ready)
MODES: dict[str, tuple[str, tuple[str, ...], Callable[[Any], bool]]] = {
    "dashboard": (
        "chen",
        (),
        lambda s: _started(s) and s.query_one("#funnel").row_count > 0,
    ),
    "corpus": ("chen", ("2", "t"), lambda s: bool(getattr(s, "rows", None))),
    "codebook": (
        "chen",
        ("4", "down", "space", "down", "space"),
        lambda s: bool(getattr(s, "_loaded_once", False)),
    ),
    "agreement": (
        "chen",
        ("5",),
        lambda s: getattr(s, "result", None) is not None and hasattr(s, "disagreements"),
    ),
    "saturation": ("chen", ("6",), lambda s: getattr(s, "report", None) is not None),
    "model": ("chen", ("7",), lambda s: bool(getattr(s, "_loaded_once", False))),
    "export": ("chen", ("e",), lambda s: bool(s.query("#export-folder"))),
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("mode", list(MODES))
def test_mode(
    mode: str,
    size: tuple[int, int],
    demo_project: Path,
    make_test_app: MakeTestApp,
    snap_compare: Callable[..., bool],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _fixed_holdout_start(monkeypatch)
    coder, keys, ready = MODES[mode]

    async def before(pilot: Pilot[Any]) -> None:
        await _until(pilot, MODES["dashboard"][2])
        for k in keys:
            await pilot.press(k)
            await _settle(pilot)
        await _until(pilot, ready)

    assert snap_compare(make_test_app(demo_project, coder), run_before=before, terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_coding_with_a_selection(
    size: tuple[int, int],
    demo_project: Path,
    make_test_app: MakeTestApp,
    snap_compare: Callable[..., bool],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A coder on passage 3 of document 1-1 with a clause selected (the coding screen)."""
    _fixed_holdout_start(monkeypatch)

    async def before(pilot: Pilot[Any]) -> None:
        await _until(pilot, MODES["dashboard"][2])
        pilot.app.open_document("1-1", 3)  # type: ignore[attr-defined]
        await _until(pilot, lambda s: getattr(s, "doc", None) is not None)
        await pilot.press("v", "W")
        await _until(pilot, lambda s: bool(getattr(s, "concepts", None)))

    assert snap_compare(make_test_app(demo_project, "lin"), run_before=before, terminal_size=size)
