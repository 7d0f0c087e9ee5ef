"""Corpus screen: filters, search, screening as a lead, opening a document."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Static

from groundcode.project import Project
from groundcode.tui.screens.coding import CodingScreen
from groundcode.tui.screens.corpus import CorpusScreen
from tests.tui.conftest import MakeTestApp, settle, sync


def _numbers(table: DataTable) -> list[str]:  # type: ignore[type-arg]
    return [str(k.value) for k in table.rows]


async def _open_corpus(app, pilot) -> DataTable:  # type: ignore[no-untyped-def,type-arg]
    await settle(app, pilot)
    await pilot.press("2")
    await settle(app, pilot, rounds=5)
    assert isinstance(app.screen, CorpusScreen)
    return app.screen.query_one("#docs", DataTable)


@sync
async def test_filters_by_type_split_and_status(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    app = make_test_app(demo_project, "chen")
    async with app.run_test(size=(120, 36)) as pilot:
        table = await _open_corpus(app, pilot)
        with Project.open(demo_project, user="chen") as p:
            all_docs = p.corpus.documents()
            policy = p.corpus.documents(type="policy")
            policy_build = p.corpus.documents(type="policy", split="build")
            excluded = p.corpus.documents(status="excluded")
        assert _numbers(table) == list(all_docs["number"])
        await pilot.press("t")  # first type: policy
        await settle(app, pilot)
        assert _numbers(table) == list(policy["number"])
        await pilot.press("s")  # build set
        await settle(app, pilot)
        assert _numbers(table) == list(policy_build["number"])
        filters = str(app.screen.query_one("#filters", Static).render())
        assert "建模集" in filters and f"{len(policy_build)}/{len(all_docs)}" in filters
        for key in ("t", "t", "t", "t", "s", "s"):  # back to all types, all splits
            await pilot.press(key)
        await pilot.press("f", "f")  # status: excluded
        await settle(app, pilot)
        assert _numbers(table) == list(excluded["number"])


@sync
async def test_search_shows_hits_and_enter_opens_the_passage(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    app = make_test_app(demo_project, "lin")
    async with app.run_test(size=(120, 36)) as pilot:
        await _open_corpus(app, pilot)
        await pilot.press("slash")
        await pilot.press(*"红码", "enter")
        await settle(app, pilot)
        hits = app.screen.query_one("#hits", DataTable)
        with Project.open(demo_project, user="lin") as p:
            result = p.corpus.search("红码", limit=200)
        assert hits.row_count == len(result.hits) > 0
        first = result.hits[0]
        # String cells are held as plain Text (never markup): compare what they show.
        assert [str(c) for c in hits.get_row_at(0)[:2]] == [first.document, str(first.passage)]
        assert "红码" in str(app.screen.query_one("#hits-title").render())
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, CodingScreen)
        assert app.screen.number == first.document
        assert app.screen.query_one("PassageView").passage.idx == first.passage


@sync
async def test_lead_excludes_with_a_reason(demo_project: Path, make_test_app: MakeTestApp) -> None:
    app = make_test_app(demo_project, "chen")
    async with app.run_test(size=(120, 36)) as pilot:
        table = await _open_corpus(app, pilot)
        number = _numbers(table)[0]
        await pilot.press("x")
        await pilot.press(*"与研究无关", "enter")
        await settle(app, pilot)
        with Project.open(demo_project, user="chen") as p:
            doc = p.corpus.document(number)
        assert doc.status == "excluded"
        assert doc.exclusion_detail == "与研究无关"
        assert str(table.get_row(number)[table.get_column_index("status")]) == "排除"
        await pilot.press("i")
        await settle(app, pilot)
        with Project.open(demo_project, user="chen") as p:
            assert p.corpus.document(number).status == "included"


@sync
async def test_a_coder_cannot_screen(demo_project: Path, make_test_app: MakeTestApp) -> None:
    app = make_test_app(demo_project, "lin")
    async with app.run_test(size=(120, 36)) as pilot:
        table = await _open_corpus(app, pilot)
        number = _numbers(table)[0]
        await pilot.press("x")
        await settle(app, pilot)
        assert isinstance(app.screen, CorpusScreen)
        with Project.open(demo_project, user="lin") as p:
            assert p.corpus.document(number).status == "included"


@sync
async def test_enter_opens_the_document_in_the_coding_screen(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    app = make_test_app(demo_project, "lin")
    async with app.run_test(size=(120, 36)) as pilot:
        table = await _open_corpus(app, pilot)
        await pilot.press("down", "down")
        number = _numbers(table)[2]
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, CodingScreen)
        assert app.screen.number == number


@sync
async def test_a_title_that_looks_like_markup_is_shown_as_written(
    tmp_path: Path, make_test_app: MakeTestApp
) -> None:
    """A row titled ``[/]标题`` killed the app when this screen opened (Rich read it as a
    closing tag); the title is drawn literally and the app keeps running."""
    path = tmp_path / "markup.db"
    csv = tmp_path / "c.csv"
    csv.write_text(
        "title,text\n[/]标题,健康码数据共享。\n[bold red]第二[/],行程码\x1b]0;PWNED\x07互认。\n",
        encoding="utf-8",
    )
    with Project.create(path) as p:
        p.coding.add_coder("chen", role="lead")
        p.as_user("chen").corpus.import_files([csv], type=4)
    app = make_test_app(path, "chen")
    async with app.run_test(size=(120, 36)) as pilot:
        table = await _open_corpus(app, pilot)
        assert _numbers(table) == ["4-1", "4-2"]
        drawn = "\n".join(s.text for s in app.screen._compositor.render_strips())
        assert "[/]标题" in drawn and "[bold red]第二[/]" in drawn
        assert "\x1b" not in drawn and "\x07" not in drawn
        assert app.return_code is None
