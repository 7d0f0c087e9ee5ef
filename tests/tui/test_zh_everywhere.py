"""In zh mode no English is left on any screen, key help included, except names and codes.

Every mode, the help panel, the footer and the command palette are opened on
the demo project in Chinese; the words a user reads (labels, buttons, table
headers, footer and help-panel key descriptions, notifications, palette
entries) are collected from the widget tree, and every Latin word must be a
name or a code: a coder, a concept or document of the demo data, a statistic
abbreviation, a file format or a key name.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from rich.text import Text
from textual.command import CommandList, CommandPalette
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Button, DataTable, Input, Static, Tab
from textual.widgets._footer import FooterKey

from groundcode.project import Project
from groundcode.tui.app import MODE_SCREENS, STUDY_KEYS
from tests.tui.conftest import MakeTestApp, settle, sync

# Names and codes a Chinese screen may show in Latin letters.
ALLOWED = {
    # the program, the blind-mode badge, statistics
    "groundcode",
    "blind",
    "kappa",
    "ac",
    "pabak",
    "alpha",
    "krippendorff",
    "cohen",
    "fleiss",
    "gwet",
    "ci",
    "id",
    "n",
    "k",
    "p",
    "r",
    "x",
    "y",
    # formats and stores
    "csv",
    "xlsx",
    "qdc",
    "qdpx",
    "refi",
    "qda",
    "yaml",
    "yml",
    "json",
    "txt",
    "md",
    "docx",
    "svg",
    "sqlite",
    "postgresql",
    "db",
    "utc",
    # text encodings
    "utf",
    "gb",
    "gbk",
    "bom",
    # key names
    "ctrl",
    "alt",
    "shift",
    "enter",
    "esc",
    "escape",
    "tab",
    "space",
    "up",
    "down",
    "left",
    "right",
    "home",
    "end",
    "pgup",
    "pgdn",
    "delete",
    "backspace",
    "del",
    "super",
    # statistics and methods named as in Chinese papers: Scott's pi, p_pos/p_neg, bootstrap
    "scott",
    "pos",
    "neg",
    "bootstrap",
    # names: Guest's stopping rule, the consensus coder, the language switch's target
    "guest",
    "consensus",
    "english",
    "f",
}

WORD = re.compile(r"[A-Za-z][A-Za-z']+|[A-Za-z]")
# File paths are names: an absolute path, or a relative one ending in a file name.
PATH = re.compile(r"(?<![\w/])/[\w./-]+|(?:[\w.-]+/)+[\w.-]+\.\w+")


def visible_text(widget: Widget) -> list[str]:
    """The words ``widget`` itself shows (not its children's)."""
    out: list[str] = []
    if isinstance(widget, FooterKey):
        out.append(widget.description)
    elif isinstance(widget, Button):
        out.append(str(widget.label))
    elif isinstance(widget, Static):
        out.append(plain(widget.render()))
    if isinstance(widget, Input):
        out.append(str(widget.placeholder))
    if isinstance(widget, DataTable):
        out.extend(str(c.label) for c in widget.columns.values())
    if isinstance(widget, Tab):
        out.append(str(widget.label))
    if widget.border_title:
        out.append(str(widget.border_title))
    if widget.border_subtitle:
        out.append(str(widget.border_subtitle))
    return out


def plain(renderable: object) -> str:
    """A renderable as the text it shows (Rich tables drawn, markup dropped)."""
    if isinstance(renderable, str):
        return renderable
    if isinstance(renderable, Content | Text):
        return renderable.plain
    console = Console(width=200, file=io.StringIO(), color_system=None)
    with console.capture() as captured:
        console.print(renderable)
    return captured.get()


def screen_text(app: Any) -> list[str]:
    screen = app.screen
    texts: list[str] = [str(app.title), str(app.sub_title)]
    for widget in [screen, *screen.walk_children(with_self=False)]:
        if widget.display:
            texts.extend(visible_text(widget))
    texts.extend(str(n.message) for n in app._notifications)
    texts.extend(str(n.title or "") for n in app._notifications)
    return texts


def names_of(path: Path) -> set[str]:
    """Coder, concept, category and document names of the demo data (they are names)."""
    words: set[str] = set()
    with Project.open(path, user="chen") as p:
        pieces: list[str] = [c.name for c in p.coding.coders()]
        pieces.extend(str(n) for n in _tree_names(p.codebook.tree()))
        pieces.append(str(p.coding.status().get("name") or ""))
        for doc in p.corpus.documents():
            pieces.append(str(getattr(doc, "title", "") or ""))
            pieces.append(str(getattr(doc, "source", "") or ""))
    for piece in pieces:
        words.update(w.lower() for w in WORD.findall(piece))
    return words


def _tree_names(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        for key in ("name", "label"):
            if isinstance(node.get(key), str):
                yield node[key]
        for value in node.values():
            yield from _tree_names(value)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _tree_names(item)
    elif hasattr(node, "name") and isinstance(node.name, str):
        yield node.name
        for child in getattr(node, "children", ()) or ():
            yield from _tree_names(child)


def english(texts: Iterable[str], allowed: set[str]) -> list[str]:
    """The texts that hold a Latin word outside ``allowed``."""
    found = []
    for text in texts:
        # A single letter is a key name (``c`` 应用概念) or a code, never a word.
        words = WORD.findall(PATH.sub(" ", text))
        bad = [w for w in words if len(w) > 1 and w.lower().strip("'") not in allowed]
        if bad:
            found.append(f"{text!r} -> {bad}")
    return sorted(set(found))


MODES = [(str(i), mode) for i, mode in enumerate(MODE_SCREENS, start=1)] + [
    (key, mode) for mode, (key, _zh, _en) in STUDY_KEYS.items()
]


@pytest.mark.parametrize("key,mode", MODES, ids=[m for _k, m in MODES])
@sync
async def test_every_screen_in_zh_shows_no_english(
    demo_project: Path, make_test_app: MakeTestApp, key: str, mode: str
) -> None:
    allowed = ALLOWED | names_of(demo_project)
    app = make_test_app(demo_project, "chen", lang="zh")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(app, pilot)
        await pilot.press(key)
        await settle(app, pilot, rounds=5)
        assert app.current_mode == mode
        texts = screen_text(app)
        await pilot.press("question_mark")
        await settle(app, pilot)
        texts += screen_text(app)
        found = english(texts, allowed)
        assert not found, "\n".join(found)


@sync
async def test_the_command_palette_in_zh_shows_no_english(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    allowed = ALLOWED | names_of(demo_project)
    app = make_test_app(demo_project, "chen", lang="zh")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(app, pilot)
        await pilot.press(app.COMMAND_PALETTE_BINDING)
        await settle(app, pilot)
        assert isinstance(app.screen, CommandPalette)
        texts = screen_text(app)
        for option in app.screen.query_one(CommandList).options:
            texts.append(str(option.prompt))
        found = english(texts, allowed)
        assert not found, "\n".join(found)


# -- the dialogs ---------------------------------------------------------------


async def _dialog_text(app: Any, pilot: Any, allowed: set[str]) -> list[str]:
    """The dialog's words and its key help, checked for English."""
    await settle(app, pilot)
    texts = screen_text(app)
    await pilot.press("question_mark")
    await settle(app, pilot)
    texts += screen_text(app)
    return english(texts, allowed)


def _csv(tmp_path: Path) -> Path:
    path = tmp_path / "4-comments.csv"
    path.write_text(
        "title,text,author,views\n评论一,健康码数据共享与互认。,王,12\n评论二,行程码。,李,3\n",
        encoding="utf-8",
    )
    return path


def _open_dialog(name: str, tmp_path: Path) -> Any:
    """Push the dialog ``name`` onto a running app (the project is the demo's)."""
    from groundcode.tui.screens.confirm import ConfirmScreen
    from groundcode.tui.screens.export_dialog import ExportScreen
    from groundcode.tui.screens.import_run import ImportRunScreen
    from groundcode.tui.screens.importer import ImportItem
    from groundcode.tui.screens.mapping import MappingScreen
    from groundcode.tui.screens.prompt import PromptScreen
    from groundcode.tui.widgets.code_picker import CodePicker

    csv = _csv(tmp_path)
    if name == "export":
        return ExportScreen()
    if name == "confirm":
        return ConfirmScreen("删除这个概念？", danger=True)
    if name == "prompt":
        return PromptScreen("检索哪个代码？", choices=["数据共享", "隐私顾虑"], strict=True)
    if name == "picker":
        return CodePicker(["数据共享", "隐私顾虑"])
    if name == "mapping":
        return MappingScreen(csv)
    if name == "import":
        return ImportRunScreen([ImportItem(csv, 4, tmp_path)], None)
    raise AssertionError(name)


DIALOGS = ["export", "confirm", "prompt", "picker", "mapping", "import"]


@pytest.mark.parametrize("name", DIALOGS)
@sync
async def test_every_dialog_in_zh_shows_no_english(
    demo_project: Path, make_test_app: MakeTestApp, tmp_path: Path, name: str
) -> None:
    allowed = ALLOWED | names_of(demo_project) | {"comments"}
    app = make_test_app(demo_project, "chen", lang="zh")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(app, pilot)
        app.push_screen(_open_dialog(name, tmp_path))
        await settle(app, pilot, rounds=8)
        assert type(app.screen).__name__ != "DashboardScreen"
        found = await _dialog_text(app, pilot, allowed)
        assert not found, "\n".join(found)


@sync
async def test_the_progress_dialog_in_zh_shows_no_english(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    import threading

    from groundcode.tui.screens.progress import ProgressScreen

    allowed = ALLOWED | names_of(demo_project)
    release = threading.Event()
    app = make_test_app(demo_project, "chen", lang="zh")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(app, pilot)
        app.push_screen(ProgressScreen(lambda report: release.wait(30), title="合并概念"))
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, ProgressScreen)
        texts = screen_text(app)
        release.set()
        await settle(app, pilot)
        found = english(texts, allowed)
        assert not found, "\n".join(found)


@sync
async def test_the_start_screen_in_zh_shows_no_english(
    tmp_path: Path, make_test_app: MakeTestApp
) -> None:
    app = make_test_app(tmp_path / "nothing-here.db", None, lang="zh")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(app, pilot)
        assert type(app.screen).__name__ == "StartScreen"
        found = await _dialog_text(app, pilot, ALLOWED | {"nothing", "here"})
        assert not found, "\n".join(found)


@sync
async def test_who_is_coding_in_zh_shows_no_english(
    demo_project: Path, make_test_app: MakeTestApp
) -> None:
    app = make_test_app(demo_project, "nobody", lang="zh")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(app, pilot, rounds=5)
        assert type(app.screen).__name__ == "WhoScreen"
        found = await _dialog_text(app, pilot, ALLOWED | names_of(demo_project) | {"nobody"})
        assert not found, "\n".join(found)


@sync
async def test_sign_in_in_zh_shows_no_english(tmp_path: Path) -> None:
    from groundcode.tui.app import make_app

    location = "postgresql+psycopg://db.example.org/study"
    app = make_app(location, None, lang="zh", sign_in=True)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(app, pilot)
        assert type(app.screen).__name__ == "SignInScreen"
        allowed = ALLOWED | {"psycopg", "example", "org", "study"}
        found = await _dialog_text(app, pilot, allowed)
        assert not found, "\n".join(found)
