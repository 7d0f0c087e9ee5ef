"""The model screen: the storyline is edited and saved, edges are added and removed."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Static, TextArea

from groundcode.project import Project
from groundcode.tui.screens.confirm import ConfirmScreen
from groundcode.tui.screens.model import ModelScreen
from groundcode.tui.screens.prompt import PromptScreen
from tests.tui.conftest import MakeTestApp, settle, sync


async def _open_model(app, pilot) -> ModelScreen:  # type: ignore[no-untyped-def]
    await settle(app, pilot)
    await pilot.press("7")
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, ModelScreen)
    return screen


@sync
async def test_editing_and_saving_the_storyline_persists(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    with Project.open(demo_project, user="chen") as p:
        model = p.codebook.model()
        diagram = p.analysis.render_model("text")
    app = make_test_app(demo_project, "chen")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open_model(app, pilot)
        area = screen.query_one("#model-storyline", TextArea)
        assert area.text == (model.storyline or "")
        assert model.core is not None
        assert model.core in str(screen.query_one("#model-core", Static).render())
        assert str(screen.query_one("#model-diagram", Static).render()).strip() == diagram.strip()
        area.focus()
        await pilot.press("f7", *"疫情催生健康码", "enter", *"各地标准不一")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert any("saved" in n.message or "已保存" in n.message for n in app._notifications)
    with Project.open(demo_project, user="chen") as p:
        assert p.codebook.model().storyline == "疫情催生健康码\n各地标准不一"


@sync
async def test_add_and_remove_an_edge_with_keys(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    with Project.open(demo_project, user="chen") as p:
        before = len(p.codebook.model().edges)
        mains = [m.name for rc in p.codebook.model().relation_classes for m in rc.main_categories]
    app = make_test_app(demo_project, "chen")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open_model(app, pilot)
        table = screen.query_one("#model-edges", DataTable)
        table.focus()
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*mains[-1], "enter")
        await pilot.pause()
        await pilot.press(*mains[0], "enter")
        await pilot.pause()
        await pilot.press(*"反馈", "enter")
        await settle(app, pilot)
        assert table.row_count == before + 1
        last = table.get_row_at(before)
        assert [str(c) for c in last] == [mains[-1], "反馈", mains[0]]
        # Remove it again: the cursor goes to the new row, delete, confirm.
        table.move_cursor(row=before)
        await pilot.press("delete")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(app, pilot)
        assert table.row_count == before
    with Project.open(demo_project, user="chen") as p:
        assert len(p.codebook.model().edges) == before


@sync
async def test_a_coder_may_not_change_the_storyline(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    with Project.open(demo_project, user="chen") as p:
        storyline = p.codebook.model().storyline
    app = make_test_app(demo_project, "lin")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open_model(app, pilot)
        screen.query_one("#model-storyline", TextArea).focus()
        await pilot.press("f7", *"随便写写", "ctrl+s")
        await settle(app, pilot)
        assert any("lead" in n.message or "负责人" in n.message for n in app._notifications)
    with Project.open(demo_project, user="chen") as p:
        assert p.codebook.model().storyline == storyline
