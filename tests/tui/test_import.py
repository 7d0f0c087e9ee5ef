"""The import screen: browse, choose types and columns, import with progress, cancel, results."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

import pytest

from groundcode.project import Project
from groundcode.tui.screens.import_run import ImportRunScreen
from groundcode.tui.screens.importer import ImportScreen, ReadableTree
from groundcode.tui.screens.mapping import MappingScreen
from tests.tui.conftest import MakeTestApp, settle, sync, wait_idle

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpora" / "health-code"


def _lead_project(path: Path) -> Path:
    with Project.create(path, name="t") as p:
        p.coding.add_coder("chen", role="lead")
    return path


async def goto(pilot: Any, target: Path) -> None:
    """Move the file tree's cursor to ``target`` with arrow keys (expanding folders on the way)."""
    tree = pilot.app.screen.query_one(ReadableTree)
    tree.focus()
    for part in [*reversed(target.relative_to(tree.path).parents)][1:] + [
        target.relative_to(tree.path)
    ]:
        want = Path(tree.path) / part
        for _ in range(200):
            await wait_idle(pilot.app)
            await pilot.pause()
            lines = [tree.get_node_at_line(i) for i in range(tree.last_line + 1)]
            paths = [Path(n.data.path) if n and n.data else None for n in lines]
            if want in paths:
                break
        else:
            raise AssertionError(f"{want} not in the tree")
        delta = paths.index(want) - tree.cursor_line
        await pilot.press(*(["down"] * delta if delta > 0 else ["up"] * -delta))
        if want.is_dir() and want != target:
            node = tree.cursor_node
            if node is not None and not node.is_expanded:
                await pilot.press("space")


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    work = tmp_path / "study"
    (work / "1-policy").mkdir(parents=True)
    for f in sorted((CORPUS / "1-policy").glob("*.txt"))[:3]:
        shutil.copy(f, work / "1-policy" / f.name)
    (work / "4-selfmedia").mkdir()
    shutil.copy(CORPUS / "4-selfmedia" / "comments-gb18030.csv", work / "4-selfmedia")
    (work / "notes.bin").write_bytes(b"\x00\x01")  # not a readable format: not listed
    monkeypatch.chdir(work)
    return work


@sync
async def test_a_folder_and_a_mapped_gb18030_file_are_imported(
    folder: Path, tmp_path: Path, make_test_app: MakeTestApp
) -> None:
    db = _lead_project(tmp_path / "p.db")
    app = make_test_app(db, "chen", lang="en")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("I")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ImportScreen)
        await goto(pilot, folder / "1-policy")
        await pilot.press("a")
        await goto(pilot, folder / "4-selfmedia" / "comments-gb18030.csv")
        await pilot.press("a")
        assert [i.path.name for i in screen.items][-1] == "comments-gb18030.csv"
        assert [i.type_id for i in screen.items] == [1, 1, 1, 4]  # from the folder names
        await pilot.press("tab", "down", "down", "down", "m")  # the last row: the spreadsheet
        await settle(app, pilot)
        mapping = app.screen
        assert isinstance(mapping, MappingScreen)
        assert mapping.table is not None and mapping.table.encoding == "GB18030"
        assert mapping.mapping["text"] == "text" and mapping.mapping["views"] == "views"
        assert mapping.shown is not None and len(mapping.shown.rows) == 20
        # turn the author off: the preview and the import both lose it
        await pilot.press(*["down"] * 5, "n")
        await settle(app, pilot)
        assert mapping.shown.rows[0].document.author is None  # type: ignore[union-attr]
        await pilot.press("s")
        await settle(app, pilot)
        assert screen.items[-1].mapping is not None and screen.items[-1].mapping["author"] is None
        await pilot.press("i")
        await settle(app, pilot, rounds=8)
        run = app.screen
        assert isinstance(run, ImportRunScreen) and run.finished
        await pilot.press("enter")
        await settle(app, pilot, rounds=5)
        assert app.screen is screen
        results = [i.result for i in screen.items]
        assert results[:3] == [
            "1 documents added as 1-1..1-1",
            "1 documents added as 1-2..1-2",
            "1 documents added as 1-3..1-3",
        ]
        assert results[3] == "305 documents added as 4-1..4-305"
        assert "search index" in str(screen.query_one("#import-status").render())
        # again: already imported
        await pilot.press("shift+tab")
    with Project.open(db) as p:
        assert p.corpus.funnel()["documents"] == 308
        assert p.corpus.document("4-1").author is None


def test_the_tree_lists_only_readable_formats(folder: Path) -> None:
    tree = ReadableTree(folder)
    shown = {p.name for p in tree.filter_paths(folder.iterdir())}
    assert shown == {"1-policy", "4-selfmedia"}


@sync
async def test_bad_input_unreadable_file_missing_column_empty_text_column(
    folder: Path, tmp_path: Path, make_test_app: MakeTestApp
) -> None:
    (folder / "bad").mkdir()
    (folder / "bad" / "broken.docx").write_bytes(b"not a zip at all")
    with (folder / "bad" / "empty.csv").open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["内容", "发布时间"], ["", "2021-01-01"], ["", "2021-01-02"]])
    db = _lead_project(tmp_path / "p.db")
    app = make_test_app(db, "chen", lang="en")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("I")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ImportScreen)
        await goto(pilot, folder / "bad")
        await pilot.press("a")
        assert [i.path.name for i in screen.items] == ["broken.docx", "empty.csv"]
        await pilot.press("tab", "down", "m")
        await settle(app, pilot)
        mapping = app.screen
        assert isinstance(mapping, MappingScreen)
        assert mapping.mapping["text"] == "内容" and mapping.mapping["date"] == "发布时间"
        assert mapping.shown is not None and [r.row for r in mapping.shown.errors] == [2, 3]
        # a column that does not exist cannot be chosen
        await pilot.press("enter")
        await pilot.press(*"nosuchcolumn", "enter")
        await settle(app, pilot)
        assert any("No choice matches" in n.message for n in app._notifications)
        await pilot.press("escape")
        await settle(app, pilot)
        assert mapping.mapping["text"] == "内容"
        await pilot.press("s")
        await settle(app, pilot)
        await pilot.press("i")
        await settle(app, pilot, rounds=8)
        await pilot.press("enter")
        await settle(app, pilot)
        broken, empty = (i.result for i in screen.items)
        assert "broken.docx" in broken and screen.items[0].failed
        assert "row 2" in empty and "empty text" in empty and screen.items[1].failed
    with Project.open(db) as p:
        assert p.corpus.funnel()["documents"] == 0


@sync
async def test_cancel_in_the_middle_of_a_50000_row_import_keeps_nothing(
    folder: Path, tmp_path: Path, make_test_app: MakeTestApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On a quiet machine the whole file imports while Pilot is still settling the key
    # that started it, so the cancel comes from the screen's own Escape action, run on
    # the UI thread from the worker's first progress report past the halfway mark
    # (the worker waits for it): in the middle of the file's single write
    # transaction, on any machine.
    original = ImportRunScreen._report
    cancelled_at: list[tuple[int, int]] = []

    def report_then_escape(self: ImportRunScreen, i: int, done: int, total: int) -> None:
        if not cancelled_at and total and done * 2 >= total and done < total:
            cancelled_at.append((done, total))
            self.app.call_from_thread(self.action_cancel)
        original(self, i, done, total)

    monkeypatch.setattr(ImportRunScreen, "_report", report_then_escape)
    big = folder / "big"
    big.mkdir()
    with (big / "comments.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["评论内容", "点赞数"])
        w.writerows(
            [f"第{i}条评论：健康码今天又变黄了，不知道为什么。", i % 97] for i in range(50_000)
        )
    db = _lead_project(tmp_path / "p.db")
    with Project.open(db, user="chen") as p:
        p.corpus.import_files(sorted((folder / "1-policy").iterdir())[:1], type=1)
        before = p.corpus.funnel()
    app = make_test_app(db, "chen", lang="en")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("I")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ImportScreen)
        await goto(pilot, big / "comments.csv")
        await pilot.press("a", "i")
        await pilot.pause()
        run = app.screen
        assert isinstance(run, ImportRunScreen)
        for _ in range(2000):
            if run.finished:
                break
            await pilot.pause(0.02)
        assert cancelled_at, "no progress update in the middle of the file"
        await settle(app, pilot, rounds=5)
        assert run.finished
        await pilot.press("enter")
        await settle(app, pilot)
        assert screen.items[0].result == "cancelled: nothing of this file kept"
    with Project.open(db) as p:
        assert p.corpus.funnel() == before
