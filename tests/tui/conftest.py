"""Shared fixtures for the TUI tests: real SQLite copies of the demo project.

* ``demo_db``: the demo project, built once per session with ``build_demo``.
* ``demo_project``: a private copy of it in the test's ``tmp_path`` (tests
  never share a mutable database).
* ``make_test_app(path, coder)``: the real app, as the CLI builds it, with
  the language preference kept in a private folder.
"""

from __future__ import annotations

import asyncio
import functools
import shutil
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest

from groundcode.tui.app import GroundcodeApp, make_app

MakeTestApp = Callable[..., GroundcodeApp]


@pytest.fixture(autouse=True)
def _isolated_prefs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The remembered language goes to a private config folder, never the user's."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from groundcode.demo import build_demo

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    build_demo(path)
    return path


@pytest.fixture
def demo_project(demo_db: Path, tmp_path: Path) -> Path:
    target = tmp_path / "project.db"
    shutil.copy(demo_db, target)
    for suffix in ("-wal", "-shm"):
        side = demo_db.with_name(demo_db.name + suffix)
        if side.exists():
            shutil.copy(side, target.with_name(target.name + suffix))
    return target


@pytest.fixture
def make_test_app() -> Iterator[MakeTestApp]:
    apps: list[GroundcodeApp] = []

    def make(path: Path | str, coder: str | None, *, lang: str = "zh") -> GroundcodeApp:
        app = make_app(str(path), coder, lang=lang)
        apps.append(app)
        return app

    yield make
    for app in apps:
        if app.has_project:
            app.project.close()


async def settle(app: GroundcodeApp, pilot: object, rounds: int = 3) -> None:
    """Wait until workers and the messages they post have been handled.

    A file tree's loader is a worker that never ends (it waits for folders to
    read), so it is not waited for; the folders it reads are.
    """
    for _ in range(rounds):
        await wait_idle(app)
        await pilot.pause()  # type: ignore[attr-defined]


async def wait_idle(app: Any) -> None:
    """Wait for the app's workers that finish by themselves (all but directory-tree loaders)."""
    workers = [w for w in app.workers if w.group != "_loader"]
    if workers:  # an empty list would mean "all workers" to Textual
        import contextlib

        from textual.worker import WorkerCancelled

        # An exclusive worker replaced by a newer one is cancelled: normal, and finished.
        with contextlib.suppress(WorkerCancelled):
            await app.workers.wait_for_complete(workers)


def sync(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async Pilot test with ``asyncio.run`` (no async pytest plugin needed)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(fn(*args, **kwargs))

    return wrapper
