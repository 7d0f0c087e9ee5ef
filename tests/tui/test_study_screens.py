"""Screening, repost review, sampling and split in the TUI, checked against the service."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from textual.widgets import DataTable

from groundcode.project import Project
from groundcode.tui.screens.confirm import ConfirmScreen
from groundcode.tui.screens.reposts import RepostScreen
from groundcode.tui.screens.sampling import SamplingScreen
from groundcode.tui.screens.screening import ScreeningScreen
from tests.tui.conftest import MakeTestApp, settle, sync

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpora" / "health-code"
FOLDERS = (("1-policy", 1), ("2-media", 2), ("3-academic", 3))


def imported(path: Path) -> Path:
    """The sample corpus imported by the lead, nothing screened yet."""
    with Project.create(path, name="t") as p:
        p.coding.add_coder("chen", role="lead")
        lead = p.as_user("chen")
        for folder, t in FOLDERS:
            lead.corpus.import_files(sorted((CORPUS / folder).iterdir()), type=t)
        lead.corpus.import_files([CORPUS / "4-selfmedia" / "comments.csv"], type=4)
    return path


@pytest.fixture(scope="module")
def corpus_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return imported(tmp_path_factory.mktemp("corpus") / "c.db")


@pytest.fixture
def fresh(corpus_db: Path, tmp_path: Path) -> Path:
    target = tmp_path / "p.db"
    shutil.copy(corpus_db, target)
    for suffix in ("-wal", "-shm"):
        side = Path(str(corpus_db) + suffix)
        if side.exists():
            shutil.copy(side, Path(str(target) + suffix))
    return target


def rows(table: DataTable) -> list[list[str]]:  # type: ignore[type-arg]
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


@sync
async def test_screening_counts_before_applying_then_include_back(
    fresh: Path, make_test_app: MakeTestApp
) -> None:
    with Project.open(fresh, user="chen") as p:
        expected = p.corpus.screen(keywords=["健康码", "行程码"], min_chars=20, dry_run=True)
    app = make_test_app(fresh, "chen", lang="en")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("S")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ScreeningScreen)
        await pilot.press("k", *"健康码,行程码", "enter")
        await settle(app, pilot)
        await pilot.press("c", *"20", "enter")
        await settle(app, pilot)
        assert screen.would is not None
        assert screen.would.excluded == expected.excluded
        assert screen.would.by_type == expected.by_type
        total = rows(screen.query_one("#screening-would", DataTable))[-1]
        assert total[1:] == [str(expected.excluded[k]) for k in sorted(expected.excluded)]
        # nothing applied yet
        with Project.open(fresh) as p:
            assert p.corpus.funnel()["included"] == p.corpus.funnel()["documents"]
        await pilot.press("x", "y")
        await settle(app, pilot, rounds=5)
        # The title counts them all; the list holds its first page.
        assert screen.excluded_total == sum(expected.excluded.values())
        assert len(screen.excluded) == min(screen.pager.size, screen.excluded_total)
        first = screen.excluded[0]
        assert first.decided_by == "chen" and first.detail
        listed = rows(screen.query_one("#screening-excluded", DataTable))[0]
        assert listed[0] == first.number and listed[4] == "chen"
        await pilot.press("i")
        await settle(app, pilot, rounds=5)
        assert first.number not in [e.number for e in screen.excluded]
    with Project.open(fresh) as p:
        funnel = p.corpus.funnel()
        assert funnel["documents"] - funnel["included"] == sum(expected.excluded.values()) - 1
        assert p.corpus.document(first.number).status == "included"


@sync
async def test_the_excluded_list_loads_a_page_at_a_time(
    fresh: Path, make_test_app: MakeTestApp
) -> None:
    """Every document excluded: the first page is 100 of them, PageDown and ctrl+end read on."""
    with Project.open(fresh, user="chen") as p:
        p.corpus.screen(min_chars=100_000)
        numbers = [e.number for e in p.corpus.exclusions()]
    assert len(numbers) > 250
    app = make_test_app(fresh, "chen", lang="en")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("S")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ScreeningScreen)
        assert [e.number for e in screen.excluded] == numbers[:100] and screen.pager.has_more
        title = str(screen.query_one("#screening-excluded-title").render())
        assert f"{len(numbers)} excluded documents" in title and "100 loaded" in title
        table = screen.query_one("#screening-excluded", DataTable)
        for _ in range(10):
            await pilot.press("pagedown")
            await settle(app, pilot)
            if len(screen.excluded) > 100:
                break
        assert table.row_count == len(screen.excluded) == 200
        for _ in range(10):
            await pilot.press("ctrl+end")
            await settle(app, pilot)
            if not screen.pager.has_more:
                break
        assert [e.number for e in screen.excluded] == numbers == [str(k.value) for k in table.rows]
        assert "loaded" not in str(screen.query_one("#screening-excluded-title").render())


@sync
async def test_repost_groups_are_drawn_a_page_at_a_time(
    tmp_path: Path, make_test_app: MakeTestApp
) -> None:
    """150 repost groups: 100 rows drawn first, the rest when the cursor nears the end;
    keeping another copy redraws that one row."""
    import csv
    import random

    rng = random.Random(5)
    chars = "健康码行程核酸检测疫情防控数据信息共享平台政务部门社区网格出行复工隐私安全存储销毁申诉"
    rows = []
    for i in range(150):
        text = "".join(rng.choice(chars) for _ in range(120))
        rows += [[f"{i}号：{text}"], [f"{i}号：{text}！"]]
    path = tmp_path / "c.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["text"], *rows])
    db = tmp_path / "p.db"
    with Project.create(db, name="t") as p:
        p.coding.add_coder("chen", role="lead")
        p.as_user("chen").corpus.import_files([path], type=4)
        groups = p.corpus.dedup(threshold=0.9, dry_run=True).groups
    assert len(groups) == 150
    app = make_test_app(db, "chen", lang="en")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("D")
        await settle(app, pilot, rounds=5)
        screen = app.screen
        assert isinstance(screen, RepostScreen)
        table = screen.query_one("#reposts-groups", DataTable)
        assert len(screen.groups) == 150 and table.row_count == 100
        await pilot.press("ctrl+end")
        await settle(app, pilot)
        assert table.row_count == 150
        assert [str(r[0]) for r in rows_of(table)] == [g.keep for g in groups]
        await pilot.press("ctrl+home")
        await settle(app, pilot)
        copy = screen.groups[0].copies[0][0]
        await pilot.press("x", "y")
        await settle(app, pilot, rounds=5)
        assert screen.applied and table.row_count == 100  # the applied pass: its first page
        await pilot.press("tab", "K")
        await settle(app, pilot, rounds=5)
        assert screen.groups[0].keep == copy and str(table.get_row_at(0)[0]) == copy
        assert table.row_count == 100


def rows_of(table: DataTable) -> list[list[object]]:  # type: ignore[type-arg]
    return [list(table.get_row_at(i)) for i in range(table.row_count)]


@sync
async def test_repost_review_threshold_groups_keep_another_release(
    fresh: Path, make_test_app: MakeTestApp
) -> None:
    with Project.open(fresh, user="chen") as p:
        at_80 = p.corpus.dedup(threshold=0.8, dry_run=True)
    assert at_80.groups
    app = make_test_app(fresh, "chen", lang="en")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("D")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, RepostScreen)
        await pilot.press("minus", "minus")
        await settle(app, pilot)
        assert screen.threshold == 0.8
        assert [g.keep for g in screen.groups] == [g.keep for g in at_80.groups]
        assert "groups" in str(screen.query_one("#reposts-status").render())
        assert not screen.applied
        await pilot.press("x", "y")
        await settle(app, pilot, rounds=5)
        assert screen.applied
        g = screen.groups[0]
        kept, copy = g.keep, g.copies[0][0]
        shown = str(screen.query_one("#reposts-copy").render())
        assert copy in shown and "similarity" in shown
        await pilot.press("tab", "K")
        await settle(app, pilot, rounds=5)
        assert screen.groups[0].keep == copy
        with Project.open(fresh) as p:
            assert p.corpus.document(copy).status == "included"
            old = p.corpus.document(kept)
            assert old.status == "excluded" and old.exclusion_detail == f"duplicate of {copy}"
        released = screen.groups[0].copies[0][0]
        await pilot.press("R")
        await settle(app, pilot, rounds=5)
        assert released not in [n for n, _ in screen.groups[0].copies]
    with Project.open(fresh) as p:
        assert p.corpus.document(released).status == "included"


@sync
async def test_sample_and_split_counts_before_applying(
    fresh: Path, make_test_app: MakeTestApp
) -> None:
    with Project.open(fresh, user="chen") as p:
        plan = p.corpus.sample(type=4, n=60, stratify_by="views", bins=3, seed=5, dry_run=True)
    app = make_test_app(fresh, "chen", lang="en")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("P")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, SamplingScreen)
        assert screen.type_id == 4
        await pilot.press("n", *"60", "enter")
        await settle(app, pilot)
        await pilot.press("b", *"3", "enter")
        await settle(app, pilot)
        await pilot.press("d", *"5", "enter")
        await settle(app, pilot)
        assert screen.sample_plan is not None
        assert screen.sample_plan.strata == plan.strata
        shown = rows(screen.query_one("#sampling-strata", DataTable))
        assert shown[:-1] == [[s, str(n), str(k)] for s, n, k in plan.strata]
        await pilot.press("s", "y")
        await settle(app, pilot, rounds=5)
        await pilot.press("h", *["backspace"] * 5, *"0.25", "enter")
        await settle(app, pilot)
        with Project.open(fresh) as p:
            assert p.corpus.funnel()["excluded"]["not_sampled"] == plan.excluded
            split_plan = p.corpus.split(holdout=0.25, dry_run=True)
        assert screen.split_plan is not None and screen.split_plan.by_type == split_plan.by_type
        await pilot.press("p")
        await settle(app, pilot, rounds=5)
    with Project.open(fresh) as p:
        funnel = p.corpus.funnel()
        assert funnel["by_split"]["holdout"] == sum(
            c["holdout"] for c in split_plan.by_type.values()
        )


@sync
async def test_a_split_that_moves_coded_documents_asks_first(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    with Project.open(demo_project) as p:
        before = p.corpus.funnel()["by_split"]
    app = make_test_app(demo_project, "chen", lang="en")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("P")
        await settle(app, pilot)
        await pilot.press("e", *"3", "enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, SamplingScreen)
        assert screen.split_plan is not None and screen.split_plan.coded_moving > 0
        await pilot.press("p")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(app, pilot)
    with Project.open(demo_project) as p:
        assert p.corpus.funnel()["by_split"] == before
