"""Text is data on every screen: markup and terminal escapes in project text never act.

A document titled ``[/]标题`` used to kill the app when the corpus screen opened
(Rich and Textual read it as a closing tag); a concept named ``[/x]``, a coder
``[b]lin`` or a memo holding ``[bold]`` would do the same on the codebook,
people or memo screens; ``ESC ] 0;PWNED BEL ESC [2J`` in a comment would reach
the terminal raw. Every screen is opened on such a project: the app must not
crash, the markup must be shown as written, and no raw control character may
be drawn (they show as ``\\u001b``-style escapes).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from groundcode.project import Project
from groundcode.tui.app import MODE_SCREENS, STUDY_KEYS
from tests.tui.conftest import MakeTestApp, settle, sync

HOSTILE = "评论\x1b]0;PWNED\x07正文\x1b[2J结束"
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]")


@pytest.fixture
def hostile_project(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.db"
    csv = tmp_path / "c.csv"
    csv.write_text(
        "title,text,author\n"
        f'[/]标题,"{HOSTILE}",[b]作者\n'
        "[bold red]第二[/],健康码数据共享与互认。健康码数据共享与互认。,x\n"
        "[/]转发,健康码数据共享与互认。健康码数据共享与互认。,y\n",
        encoding="utf-8",
    )
    with Project.create(path, name="[/]项目\x1b]0;T\x07") as p:
        p.coding.add_coder("chen", role="lead")
        lead = p.as_user("chen")
        lead.coding.add_coder("[b]lin")
        lead.coding.add_coder("zhou")
        lead.corpus.import_files([csv], type=4)
        lead.codebook.create_main_category("[b]主范畴")
        lead.codebook.create_category("[/c]范畴", main="[b]主范畴", definition="[i]定义")
        lin, zhou = p.as_user("[b]lin"), p.as_user("zhou")
        for who in (lin, zhou, lead):
            who.coding.apply("4-1", "[/x]", passage=1)
            who.coding.apply("4-2", "[/x]", passage=1)
        lead.codebook.move("concept", "[/x]", "[/c]范畴")
        lin.coding.add_memo("document", "4-1", f"[bold]备忘 {HOSTILE}")
        lead.coding.add_memo("concept", "[/x]", "[/]概念备忘")
        lead.coding.add_memo("document", "4-1", f"[bold]负责人备忘 {HOSTILE}")
    return path


def drawn(app: Any) -> str:
    """Everything the current screen draws, as text (what a terminal would receive)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text for strip in strips)


def notified(app: Any) -> str:
    return "\n".join(f"{n.title or ''} {n.message}" for n in app._notifications)


MODES = [(str(i), mode) for i, mode in enumerate(MODE_SCREENS, start=1)] + [
    (key, mode) for mode, (key, _zh, _en) in STUDY_KEYS.items()
]

# What each screen must show literally (the markup as written).
EXPECT: dict[str, list[str]] = {
    "dashboard": ["[/]项目"],
    "corpus": ["[/]标题", "[bold red]第二[/]"],
    "codebook": ["[b]主范畴"],
    "memos": ["[bold]负责人备忘", "[/]概念备忘"],
    "people": ["[b]lin"],
}


@pytest.mark.parametrize("key,mode", MODES, ids=[m for _k, m in MODES])
@pytest.mark.parametrize("lang", ["zh", "en"])
@sync
async def test_every_screen_shows_hostile_text_as_written(
    hostile_project: Path, make_test_app: MakeTestApp, key: str, mode: str, lang: str
) -> None:
    app = make_test_app(hostile_project, "chen", lang=lang)
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(app, pilot)
        await pilot.press(key)
        await settle(app, pilot, rounds=5)
        assert app.current_mode == mode
        text = drawn(app)
        assert not RAW_CONTROL.search(text), repr(text)
        assert not RAW_CONTROL.search(notified(app)), notified(app)
        for literal in EXPECT.get(mode, []):
            assert literal in text, f"{literal!r} not shown on {mode}:\n{text}"
        assert app.return_code is None


@sync
async def test_the_coding_screen_shows_an_escape_sequence_visibly(
    hostile_project: Path, make_test_app: MakeTestApp
) -> None:
    app = make_test_app(hostile_project, "chen", lang="zh")
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(app, pilot)
        app.open_document("4-1", 1)
        await settle(app, pilot, rounds=5)
        text = drawn(app)
        assert not RAW_CONTROL.search(text), repr(text)
        # In the passage each control character is one picture, so offsets stay offsets.
        assert "␛]0;PWNED␇" in text
        assert "[/]标题" in text and "[/x]" in text


@sync
async def test_retrieval_of_a_markup_concept_shows_its_segments(
    hostile_project: Path, make_test_app: MakeTestApp
) -> None:
    app = make_test_app(hostile_project, "chen", lang="zh")
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(app, pilot)
        await pilot.press("G")
        await settle(app, pilot)
        screen = app.screen
        screen.code = ("concept", "[/x]")  # type: ignore[attr-defined]
        screen.retrieve("concept", "[/x]")  # type: ignore[attr-defined]
        await settle(app, pilot, rounds=5)
        text = drawn(app)
        assert not RAW_CONTROL.search(text), repr(text)
        assert "[/x]" in text and "[b]lin" in text


@sync
async def test_editing_a_memo_with_an_escape_sequence_shows_it_as_pictures(
    hostile_project: Path, make_test_app: MakeTestApp
) -> None:
    """The edit prompt holds the memo's text: its escape sequences are drawn as ␛, and an
    unchanged memo is saved back exactly as it was."""
    from groundcode.tui.screens.prompt import PromptScreen

    app = make_test_app(hostile_project, "chen", lang="zh")
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(app, pilot)
        await pilot.press("M")
        await settle(app, pilot, rounds=5)
        screen = app.screen
        index = next(i for i, m in enumerate(screen.memos) if "\x1b" in m.text)  # type: ignore[attr-defined]
        original = screen.memos[index].text  # type: ignore[attr-defined]
        screen.table.move_cursor(row=index)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, PromptScreen)
        text = drawn(app)
        assert not RAW_CONTROL.search(text), repr(text)
        assert "␛]0;PWNED␇" in text
        await pilot.press("enter")
        await settle(app, pilot, rounds=5)
    with Project.open(hostile_project, user="chen") as p:
        assert original in p.memos.memos()["text"].tolist()


@sync
async def test_the_concept_picker_lists_and_filters_a_markup_name(
    hostile_project: Path, make_test_app: MakeTestApp
) -> None:
    """Textual's fuzzy highlighter reads a candidate as markup; the picker must not."""
    from groundcode.tui.widgets.code_picker import CodePicker

    app = make_test_app(hostile_project, "chen", lang="zh")
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(app, pilot)
        app.open_document("4-1", 1)
        await settle(app, pilot, rounds=5)
        await pilot.press("c")
        await settle(app, pilot)
        assert isinstance(app.screen, CodePicker)
        assert "[/x]" in drawn(app)
        await pilot.press("/", "x")
        await settle(app, pilot)
        assert "[/x]" in drawn(app)
        assert app.return_code is None
