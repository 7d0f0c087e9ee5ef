"""The codebook screen: the tree, and changes made with keys reach the database."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Tree

from groundcode.project import Project
from groundcode.tui.screens.codebook import CodebookScreen
from groundcode.tui.screens.confirm import ConfirmScreen
from groundcode.tui.screens.prompt import PromptScreen
from tests.tui.conftest import MakeTestApp, settle, sync


def _two_concepts(path: Path) -> tuple[str, int, str, int]:
    with Project.open(path, user="chen") as p:
        concepts = list(p.codebook.tree().concepts())
    a, b = concepts[0], concepts[1]
    return a.name, a.n_codings, b.name, b.n_codings


async def _open_codebook(app, pilot) -> CodebookScreen:  # type: ignore[no-untyped-def]
    await settle(app, pilot)
    await pilot.press("4")
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, CodebookScreen)
    return screen


def _labels(screen: CodebookScreen) -> list[str]:
    tree = screen.query_one("#codebook-tree", Tree)
    return [str(line.node.label) for line in tree._tree_lines]


@sync
async def test_tree_shows_the_levels_with_counts(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    with Project.open(demo_project, user="chen") as p:
        book = p.codebook.tree()
    rc = book.relation_classes[0]
    app = make_test_app(demo_project, "chen")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open_codebook(app, pilot)
        labels = _labels(screen)
        assert labels[0] == f"{rc.name}  {rc.n_codings}"
        assert screen.current() is not None and screen.current().name == rc.name  # type: ignore[union-attr]
        concept = next(book.concepts())
        assert screen.select("concept", concept.name)
        await pilot.pause()
        detail = str(screen.query_one("#codebook-detail-meta").render())
        assert f"{concept.n_codings}" in detail


@sync
async def test_merge_two_concepts_with_keys_moves_the_codings(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    source, n_source, target, n_target = _two_concepts(demo_project)
    app = make_test_app(demo_project, "chen")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open_codebook(app, pilot)
        assert screen.select("concept", source)
        await pilot.press("m")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*target)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(app, pilot)
        assert app.screen is screen
        current = screen.current()
        assert current is not None and current.name == target
        assert all(source not in label for label in _labels(screen))
    with Project.open(demo_project, user="chen") as p:
        names = {k.name: k.n_codings for k in p.codebook.tree().concepts()}
    assert source not in names
    # Exact duplicates (same coder, document and span) are dropped, nothing else is lost.
    assert n_target < names[target] <= n_source + n_target


@sync
async def test_rename_shows_in_the_tree_and_the_database(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    source, n_source, _, _ = _two_concepts(demo_project)
    app = make_test_app(demo_project, "chen")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open_codebook(app, pilot)
        assert screen.select("concept", source)
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("ctrl+u", *"改过的名字", "enter")
        await settle(app, pilot)
        assert f"改过的名字  {n_source}" in [label.strip() for label in _labels(screen)]
    with Project.open(demo_project, user="chen") as p:
        assert p.codebook.tree().concept("改过的名字").n_codings == n_source


@sync
async def test_deleting_a_coded_concept_is_refused_with_the_message(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    source, _, _, _ = _two_concepts(demo_project)
    app = make_test_app(demo_project, "chen")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open_codebook(app, pilot)
        assert screen.select("concept", source)
        await pilot.press("delete")
        await pilot.pause()
        await pilot.press("y")
        await settle(app, pilot)
        # The service refused (StillCoded): the screen words it in the interface
        # language and a second question offers to force it.
        assert isinstance(app.screen, ConfirmScreen)
        assert any("未删除" in n.message or "not deleted" in n.message for n in app._notifications)
        await pilot.press("n")
        await settle(app, pilot)
    with Project.open(demo_project, user="chen") as p:
        assert p.codebook.tree().concept(source)


@sync
async def test_a_coder_cannot_reshape_the_codebook(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    source, _, _, _ = _two_concepts(demo_project)
    app = make_test_app(demo_project, "lin")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open_codebook(app, pilot)
        assert screen.select("concept", source)
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("ctrl+u", *"别的名字", "enter")
        await settle(app, pilot)
        assert app.screen is screen
        assert any("lead" in n.message or "负责人" in n.message for n in app._notifications)
    with Project.open(demo_project, user="chen") as p:
        assert p.codebook.tree().concept(source)


@sync
async def test_new_concept_under_a_category(demo_project: Path, make_test_app: MakeTestApp) -> None:
    with Project.open(demo_project, user="chen") as p:
        category = next(p.codebook.tree().categories()).name
    app = make_test_app(demo_project, "chen")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open_codebook(app, pilot)
        assert screen.select("category", category)
        await pilot.press("n")
        await pilot.pause()
        await pilot.press(*"新概念", "enter")
        await settle(app, pilot)
        current = screen.current()
        assert current is not None and (current.level, current.name) == ("concept", "新概念")
    with Project.open(demo_project, user="chen") as p:
        assert p.codebook.tree().concept("新概念").category == category


@sync
async def test_a_blind_coder_never_sees_concepts_only_the_other_coder_created(
    tmp_path: Path, make_test_app: MakeTestApp
) -> None:
    """Blind mode: the tree follows the visibility rule of ``codebook show``, so a concept
    only zhou has coded with is neither in lin's tree nor findable by name."""
    path = tmp_path / "blind.db"
    csv = tmp_path / "c.csv"
    csv.write_text("title,text\n一,健康码数据共享。\n二,行程码互认。\n", encoding="utf-8")
    with Project.create(path) as p:
        p.coding.add_coder("chen", role="lead")
        lead = p.as_user("chen")
        lead.coding.add_coder("lin")
        lead.coding.add_coder("zhou")
        lead.corpus.import_files([csv], type=4)
        lead.codebook.create_concept("共享概念")
        p.as_user("lin").coding.apply("4-1", "林的概念", passage=1)
        p.as_user("zhou").coding.apply("4-1", "周的秘密概念", passage=1)
        lead.coding.set_blind_mode(True)
    app = make_test_app(path, "lin")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open_codebook(app, pilot)
        names = {c.name for c in screen.codebook.concepts()}
        assert {"林的概念", "共享概念"} <= names
        assert "周的秘密概念" not in names
        assert not screen.select("concept", "周的秘密概念")
        for node in screen.query_one("#codebook-tree", Tree).root.children:
            node.expand_all()
        await pilot.pause()
        assert not any("周的秘密概念" in label for label in _labels(screen))
    lead_app = make_test_app(path, "chen")
    async with lead_app.run_test(size=(120, 36)) as pilot:
        screen = await _open_codebook(lead_app, pilot)
        assert "周的秘密概念" in {c.name for c in screen.codebook.concepts()}
