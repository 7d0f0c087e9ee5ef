"""People and assignments, retrieval of coded segments, memos."""

from __future__ import annotations

import csv
from pathlib import Path

from textual.widgets import DataTable, Static

from groundcode.project import Project
from groundcode.tui.screens.memos import MemosScreen
from groundcode.tui.screens.people import PeopleScreen
from groundcode.tui.screens.retrieval import RetrievalScreen
from tests.tui.conftest import MakeTestApp, settle, sync
from tests.tui.test_study_screens import corpus_db, fresh  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[2]


@sync
async def test_people_add_assign_blind_codebook(
    fresh: Path,  # noqa: F811
    tmp_path: Path,
    make_test_app: MakeTestApp,
) -> None:
    with Project.open(fresh, user="chen") as p:
        p.corpus.split(seed=1)
    app = make_test_app(fresh, "chen", lang="en")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("C")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, PeopleScreen)
        for name in ("lin", "zhou"):
            await pilot.press("a", *name, "enter")
            await settle(app, pilot)
        await pilot.press("A", *"wu", "enter")
        await settle(app, pilot)
        await pilot.press("c", *str(ROOT / "codebooks" / "health-code.yaml"), "enter")
        await settle(app, pilot)
        await pilot.press("g", *["backspace"] * 40, *"lin,zhou", "enter")
        await settle(app, pilot)
        await pilot.press("enter")  # build (the offered choice)
        await settle(app, pilot, rounds=5)
        assert screen.blind and "BLIND" in app.sub_title  # coders added: blind from now on
        await pilot.press("b")
        await settle(app, pilot, rounds=5)
        assert not screen.blind and "BLIND" not in app.sub_title
        await pilot.press("b")
        await settle(app, pilot, rounds=5)
        assert screen.blind
        out = tmp_path / "book.yaml"
        await pilot.press("x", *["backspace"] * 200, *str(out), "enter")
        await settle(app, pilot, rounds=5)
        table = screen.query_one("#people-table", DataTable)
        shown = {str(table.get_row_at(i)[0]): table.get_row_at(i) for i in range(table.row_count)}
    with Project.open(fresh, user="chen") as p:
        roles = {c.name: c.role for c in p.coding.coders()}
        assert roles == {"chen": "lead", "lin": "coder", "zhou": "coder", "wu": "lead"}
        build = p.corpus.funnel()["by_split"]["build"]
        progress = p.progress.progress().set_index("coder")
        assert int(progress.loc["lin", "assigned"]) == build
        assert shown["lin"][2] == build and shown["zhou"][3] == 0
        assert p.coding.status()["blind"]
        assert len(p.codebook.concepts_frame()) > 50
    assert out.exists() and "relation_classes" in out.read_text(encoding="utf-8")


@sync
async def test_retrieval_lists_every_segment_with_context_and_opens_it(
    demo_project: Path, tmp_path: Path, make_test_app: MakeTestApp
) -> None:
    with Project.open(demo_project, user="chen") as p:
        frame = p.codebook.concepts_frame()
        category = str(frame["category"].dropna().iloc[0])
        expected = p.coding.retrieve(category, level="category")
    app = make_test_app(demo_project, "chen", lang="en")
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("G")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, RetrievalScreen)
        await pilot.press("c", *f"category：{category}", "enter")
        await settle(app, pilot)
        assert screen.code == ("category", category)
        assert len(screen.segments) == len(expected) > 0
        table = screen.query_one("#retrieval-table", DataTable)
        first = table.get_row_at(0)
        assert str(first[0]) == expected["document"].iloc[0]
        assert str(first[2]) == expected["coder"].iloc[0]  # a lead sees the coder
        out = tmp_path / "seg.csv"
        await pilot.press("x", *["backspace"] * 200, *str(out), "enter")
        await settle(app, pilot)
        with out.open(encoding="utf-8-sig") as fh:
            assert len(list(csv.reader(fh))) == len(expected) + 1
        await pilot.press("enter")
        await settle(app, pilot, rounds=5)
        assert app.current_mode == "coding"


@sync
async def test_memos_search_edit_and_jump(demo_project: Path, make_test_app: MakeTestApp) -> None:
    with Project.open(demo_project, user="chen") as p:
        p.coding.add_memo("document", "1-1", "政策文本的共享条款值得细看")
        p.coding.add_memo("project", None, "第一轮编码结束后讨论分歧")
    app = make_test_app(demo_project, "chen", lang="en")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("M")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, MemosScreen)
        assert len(screen.memos) >= 2
        await pilot.press("slash", *"共享条款", "enter")
        await settle(app, pilot)
        assert [m.target for m in screen.memos] == ["1-1"]
        await pilot.press("enter")
        await settle(app, pilot)  # the edit dialog is up before anything is typed into it
        await pilot.press(*" ok", "enter")
        for _ in range(100):
            await settle(app, pilot)
            if screen.memos and screen.memos[0].text.endswith(" ok"):
                break
        assert screen.memos[0].text == "政策文本的共享条款值得细看 ok"
        await pilot.press("g")
        await settle(app, pilot, rounds=5)
        assert app.current_mode == "coding"
    with Project.open(demo_project, user="chen") as p:
        assert "政策文本的共享条款值得细看 ok" in p.coding.memos()["text"].tolist()


@sync
async def test_memos_load_a_page_at_a_time_and_more_at_the_end(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    """The first page is 100 memos whatever the project holds; PageDown near its end reads more."""
    with Project.open(demo_project, user="chen") as p:
        before = len(p.coding.memos())
        for i in range(250 - before):
            p.coding.add_memo("project", None, f"备忘 {i:03d}")
        ids = p.coding.memos()["id"].tolist()
    app = make_test_app(demo_project, "chen", lang="en")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("M")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, MemosScreen)
        assert [m.id for m in screen.memos] == ids[:100] and screen.pager.has_more
        assert "100+ memos" in str(screen.query_one("#memos-status", Static).render())
        table = screen.query_one("#memos-table", DataTable)
        for _ in range(10):
            await pilot.press("pagedown")
            await settle(app, pilot)
            if len(screen.memos) > 100:
                break
        assert len(screen.memos) == table.row_count == 200
        await pilot.press("ctrl+end")
        await settle(app, pilot)
        assert len(screen.memos) == table.row_count == 250
        assert [m.id for m in screen.memos] == ids and not screen.pager.has_more
        assert "250 memos" in str(screen.query_one("#memos-status", Static).render())


@sync
async def test_retrieval_loads_a_page_at_a_time_and_exports_the_whole_list(
    demo_project: Path, tmp_path: Path, make_test_app: MakeTestApp
) -> None:
    """A main category with hundreds of segments: 100 first, more on PageDown; x writes all."""
    with Project.open(demo_project, user="chen") as p:
        sizes = p.coding.codings().groupby("main_category").size()
        main = str(sizes.idxmax())
        expected = p.coding.retrieve(main, level="main")
    assert len(expected) > 200
    app = make_test_app(demo_project, "chen", lang="en")
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("G")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, RetrievalScreen)
        await pilot.press("c", *f"main：{main}", "enter")
        await settle(app, pilot)
        assert len(screen.segments) == 100 and screen.pager.has_more
        assert [r.coding.document for r in screen.segments] == expected["document"].tolist()[:100]
        assert "100+ segments" in str(screen.query_one("#retrieval-status", Static).render())
        table = screen.query_one("#retrieval-table", DataTable)
        for _ in range(10):
            await pilot.press("pagedown")
            await settle(app, pilot)
            if len(screen.segments) > 100:
                break
        assert len(screen.segments) == table.row_count == 200
        out = tmp_path / "all.csv"
        await pilot.press("x", *["backspace"] * 200, *str(out), "enter")
        await settle(app, pilot)
        with out.open(encoding="utf-8-sig") as fh:
            assert len(list(csv.reader(fh))) == len(expected) + 1
