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


def _mode(key: str, *extra: str) -> Callable[[Pilot[Any]], Any]:
    async def before(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        await pilot.press(key)
        await _settle(pilot)
        for k in extra:
            await pilot.press(k)
            await _settle(pilot)

    return before


_ = (Path, MakeTestApp)
