"""The coder's workflow in the coding screen, checked against the database."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import OptionList

from groundcode.coding.service import CodingService
from groundcode.project import Project
from groundcode.tui.screens.coding import CodingScreen
from groundcode.tui.widgets.code_picker import CodePicker
from groundcode.tui.widgets.passage_view import PassageView
from tests.tui.conftest import MakeTestApp, settle, sync

NEW_CONCEPT = "分级管理"


def _codings(path: Path, user: str, number: str) -> list:  # type: ignore[type-arg]
    with Project.open(path, user=user) as p:
        return p.coding.document_codings(number)


async def _coding_screen(
    app, pilot, number: str = "1-1", passage: int | None = None
) -> PassageView:  # type: ignore[no-untyped-def]
    await settle(app, pilot)
    app.open_document(number, passage)
    await settle(app, pilot, rounds=4)
    assert isinstance(app.screen, CodingScreen)
    assert app.screen.number == number
    return app.screen.query_one(PassageView)


def _listed(app) -> list[str]:  # type: ignore[no-untyped-def]
    options = app.screen.query_one("#codings", OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


@sync
async def test_select_a_span_apply_via_picker_then_undo(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    app = make_test_app(demo_project, "lin")
    async with app.run_test(size=(120, 36)) as pilot:
        view = await _coding_screen(app, pilot)
        before = _codings(demo_project, "lin", "1-1")
        await pilot.press("j", "j", "j")  # passage 4
        assert view.passage.idx == 4
        await pilot.press("right", "right", "v", *["shift+right"] * 4)
        start = view.passage.start + 2
        assert view.selection == (start, start + 4)
        await pilot.press("c")
        assert isinstance(app.screen, CodePicker)
        await pilot.press(*NEW_CONCEPT)
        await pilot.pause()
        await pilot.press("enter")
        await settle(app, pilot)
        after = _codings(demo_project, "lin", "1-1")
        new = [c for c in after if c not in before]
        assert [(c.concept, c.start, c.end, c.coder) for c in new] == [
            (NEW_CONCEPT, start, start + 4, "lin")
        ]
        screen = app.screen
        assert isinstance(screen, CodingScreen)
        assert any(s.concept == NEW_CONCEPT and s.start == start for s in view.spans)
        assert any(NEW_CONCEPT in line for line in _listed(app))
        assert "已保存" in str(screen.query_one("#saved").render())
        assert app.recent_concepts[0] == NEW_CONCEPT

        await pilot.press("u")
        await settle(app, pilot)
        assert _codings(demo_project, "lin", "1-1") == before
        assert not any(s.concept == NEW_CONCEPT for s in view.spans)

        await pilot.press("U")  # redo
        await settle(app, pilot)
        assert [c.concept for c in _codings(demo_project, "lin", "1-1") if c not in before] == [
            NEW_CONCEPT
        ]


@sync
async def test_existing_concept_from_picker_codes_the_whole_passage(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    app = make_test_app(demo_project, "lin")
    async with app.run_test(size=(120, 36)) as pilot:
        view = await _coding_screen(app, pilot, "1-2", 2)
        passage = view.passage
        await pilot.press("c", *"隔离")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, CodePicker)
        options = picker.query_one(OptionList)
        first = options.get_option_at_index(0).id
        assert first and "隔离" in first
        await pilot.press("enter")
        await settle(app, pilot)
        coded = [c for c in _codings(demo_project, "lin", "1-2") if c.concept == first]
        assert [(c.start, c.end) for c in coded] == [(passage.start, passage.end)]
        # The hot key re-applies the most recent concept.
        await pilot.press("j", "alt+1")
        await settle(app, pilot)
        assert len([c for c in _codings(demo_project, "lin", "1-2") if c.concept == first]) == 2


@sync
async def test_invivo_and_remove(
    demo_project: Path, make_test_app: MakeTestApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_test_app(demo_project, "lin")
    async with app.run_test(size=(120, 36)) as pilot:
        view = await _coding_screen(app, pilot, "1-1", 6)
        # From here on the screen updates from what apply and remove return: the
        # document's codings are not read again, yet match the database each time.
        reads: list[str] = []
        read = CodingService.document_codings

        def counted(self, document, **kw):  # type: ignore[no-untyped-def]
            reads.append(document)
            return read(self, document, **kw)

        monkeypatch.setattr(CodingService, "document_codings", counted)
        await pilot.press("v", "W")  # to the end of the first clause
        start, end = view.selection
        words = view.text[start:end]
        await pilot.press("i")
        await settle(app, pilot)
        coded = [
            c for c in _codings(demo_project, "lin", "1-1") if (c.start, c.end) == (start, end)
        ]
        assert [c.concept for c in coded] == [" ".join(words.split())]
        screen = app.screen
        assert isinstance(screen, CodingScreen)
        assert reads == ["1-1"]  # the test's own read above, none by the screen
        reads.clear()
        assert screen.codings == _codings(demo_project, "lin", "1-1")
        # The new coding is listed first for this span; remove what the list highlights.
        screen = app.screen
        options = screen.query_one("#codings", OptionList)
        index = next(
            i
            for i in range(options.option_count)
            if options.get_option_at_index(i).id == str(coded[0].id)
        )
        options.highlighted = index
        await pilot.press("x")
        await settle(app, pilot)
        assert not [c for c in _codings(demo_project, "lin", "1-1") if c.id == coded[0].id]
        assert screen.codings == _codings(demo_project, "lin", "1-1")
        assert reads == ["1-1"] * 3  # the test's own reads, none by the screen
        assert not any(
            (s.start, s.end, s.concept) == (start, end, coded[0].concept) for s in view.spans
        )


@sync
async def test_mouse_drag_selects_a_span(demo_project: Path, make_test_app: MakeTestApp) -> None:
    app = make_test_app(demo_project, "lin")
    async with app.run_test(size=(120, 36)) as pilot:
        view = await _coding_screen(app, pilot, "1-1", 1)
        first = view.passages[0]
        # Passage 1 is on the first line; the text starts after the 6-cell gutter.
        await pilot.mouse_down(PassageView, offset=(6 + 2 * 2, 0))
        await pilot.hover(PassageView, offset=(6 + 2 * 5, 0))
        await pilot.mouse_up(PassageView, offset=(6 + 2 * 5, 0))
        await pilot.pause()
        assert view.selection == (first.start + 2, first.start + 6)


@sync
async def test_next_uncoded(demo_project: Path, make_test_app: MakeTestApp) -> None:
    app = make_test_app(demo_project, "lin")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        with Project.open(demo_project, user="lin") as p:
            expected = p.coding.next_uncoded()
            holdout = p.coding.next_uncoded(split="holdout")
        assert expected is not None
        await pilot.press(
            "3"
        )  # with nothing pending the coding screen opens the next uncoded passage
        await settle(app, pilot, rounds=4)
        view = app.screen.query_one(PassageView)
        assert (app.screen.number, view.passage.idx) == expected
        app.open_document("2-3", 1)
        await settle(app, pilot, rounds=4)
        await pilot.press("n")
        await settle(app, pilot, rounds=4)
        with Project.open(demo_project, user="lin") as p:
            assert (app.screen.number, view.passage.idx) == p.coding.next_uncoded(after="2-3")
        await pilot.press("N")
        await settle(app, pilot, rounds=4)
        if holdout is not None:
            assert (app.screen.number, app.screen.query_one(PassageView).passage.idx) == holdout


@sync
async def test_blind_coder_never_sees_another_coders_codings(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    app = make_test_app(demo_project, "lin")
    async with app.run_test(size=(120, 36)) as pilot:
        view = await _coding_screen(app, pilot, "1-1", 3)
        screen = app.screen
        assert isinstance(screen, CodingScreen)
        assert {c.coder for c in screen.codings} == {"lin"}
        assert {c.coder for c in _codings(demo_project, "lin", "1-1")} == {"lin"}
        with Project.open(demo_project, user="chen") as p:
            zhou = [c for c in p.coding.document_codings("1-1") if c.coder == "zhou"]
        assert zhou, "the demo has zhou's codings on 1-1"
        zhou_only = {c.concept for c in zhou} - {c.concept for c in screen.codings}
        shown = "\n".join(_listed(app)) + " ".join(s.concept for s in view.spans)
        for concept in zhou_only:
            assert concept not in shown
        # "o" (everyone's codings) is a lead's key: for a coder it does nothing.
        await pilot.press("o")
        await pilot.pause()
        assert not screen.show_all


@sync
async def test_lead_can_show_everyones_codings(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    app = make_test_app(demo_project, "chen")
    async with app.run_test(size=(120, 36)) as pilot:
        view = await _coding_screen(app, pilot, "1-1", 3)
        assert view.spans == []  # chen has coded nothing himself
        await pilot.press("o")
        await pilot.pause()
        assert {s.concept for s in view.spans}
        assert any("zhou" in line for line in _listed(app))


@sync
async def test_done_key_marks_the_document_and_t_opens_the_next_in_the_queue(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    # The demo's coders have finished everything: give lin two documents back.
    with Project.open(demo_project, user="lin") as p:
        p.progress.done(["1-1", "1-2"], undo=True)
        assert {"1-1", "1-2"} <= set(p.progress.queue()["number"])
    app = make_test_app(demo_project, "lin")
    async with app.run_test(size=(120, 36)) as pilot:
        await _coding_screen(app, pilot, "1-1")
        await pilot.press("d")
        await settle(app, pilot)
        with Project.open(demo_project, user="lin") as p:
            assert "1-1" in set(p.progress.done_marks("lin")["document"])
            assert list(p.progress.queue()["number"]) == ["1-2"]
        await pilot.press("D")
        await settle(app, pilot)
        with Project.open(demo_project, user="lin") as p:
            assert "1-1" not in set(p.progress.done_marks("lin")["document"])
        await pilot.press("t")  # the next in the queue after 1-1 is 1-2
        await settle(app, pilot, rounds=4)
        assert app.screen.number == "1-2"


@sync
async def test_the_person_switch_works_from_the_coding_screen(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    """``w`` stays the passage view's next clause; ctrl+o switches person from here too."""
    from groundcode.tui.screens.who import SwitchUserScreen

    app = make_test_app(demo_project, "lin")
    async with app.run_test(size=(120, 36)) as pilot:
        view = await _coding_screen(app, pilot)
        assert app.focused is view
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "切换用户" in titles
        caret = view.caret
        await pilot.press("w")
        await settle(app, pilot)
        assert isinstance(app.screen, CodingScreen) and view.caret > caret
        await pilot.press("ctrl+o")
        await settle(app, pilot)
        assert isinstance(app.screen, SwitchUserScreen)
        stack = len(app.screen_stack)
        await pilot.press("ctrl+o")  # the switch is open already: not a second one
        await settle(app, pilot)
        assert len(app.screen_stack) == stack
        await pilot.press("home", "enter")  # chen, the lead, is first
        await settle(app, pilot, rounds=5)
        assert app.project.user == "chen" and app.is_lead
