"""Layout snapshots of the dashboard, corpus and coding screens at 100x30.

Regenerate after an intended layout change with ``pytest tests/tui/test_snapshots.py --snapshot-update``
and look at the SVGs before committing them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from tests.tui.conftest import MakeTestApp

SIZE = (100, 30)


async def _settle(pilot: Pilot[Any], rounds: int = 5) -> None:
    for _ in range(rounds):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def test_dashboard_as_lead(
    demo_project: Path, make_test_app: MakeTestApp, snap_compare: Callable[..., bool]
) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await _settle(pilot)

    assert snap_compare(make_test_app(demo_project, "chen"), run_before=before, terminal_size=SIZE)


def test_corpus_filtered_to_policy(
    demo_project: Path, make_test_app: MakeTestApp, snap_compare: Callable[..., bool]
) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        await pilot.press("2")
        await _settle(pilot)
        await pilot.press("t")
        await _settle(pilot)

    assert snap_compare(make_test_app(demo_project, "chen"), run_before=before, terminal_size=SIZE)


def test_coding_with_a_selection(
    demo_project: Path, make_test_app: MakeTestApp, snap_compare: Callable[..., bool]
) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        pilot.app.open_document("1-1", 3)  # type: ignore[attr-defined]
        await _settle(pilot)
        await pilot.press("v", "W")
        # Let every worker and message settle so the picture does not depend on timing.
        await _settle(pilot)

    assert snap_compare(make_test_app(demo_project, "lin"), run_before=before, terminal_size=SIZE)
