"""The start screen: shown whenever no project is open.

A new user runs ``groundcode`` in an empty folder; instead of a command-line
hint they get a way forward here: create a project (a name and a location:
an SQLite file, or a PostgreSQL URL whose password comes from the
environment), open one of the projects they opened lately, or build and open
the demo. Opening and creating run in workers; a failure is one line and the
screen stays, so there is always another choice.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, OptionList, Static
from textual.widgets.option_list import Option

from groundcode.tui.commands import Key, localised
from groundcode.tui.context import ReportsWorkerErrors, posted, run_service
from groundcode.tui.i18n import tr
from groundcode.tui.recent import forget_project, recent_projects
from groundcode.tui.safe import plain

if TYPE_CHECKING:
    from groundcode.project import Project

DEFAULT_FILE = "groundcode.db"


def _has_password(location: str) -> bool:
    """A URL such as ``postgresql://user:secret@host/db`` carries a password (refused)."""
    if "://" not in location:
        return False
    rest = location.split("://", 1)[1]
    creds = rest.split("@", 1)[0] if "@" in rest else ""
    return ":" in creds


@localised
class StartScreen(ReportsWorkerErrors, Screen[tuple[Any, str | None] | None]):
    """New project, recent projects, demo; dismisses with the opened project (and its user)."""

    CSS_PATH = "start.tcss"
    KEYS: ClassVar[tuple[Key, ...]] = (
        Key("n", "new", "新建项目", "New project", id="start.new"),
        Key("enter", "open_recent", "打开所选", "Open selected", id="start.open_recent"),
        Key("o", "open_other", "打开其他项目", "Open other", id="start.open_other"),
        Key("d", "demo", "示例项目", "Demo project", id="start.demo"),
        Key("delete", "forget", "从列表移除", "Forget", id="start.forget", show=False),
        Key("escape", "leave", "退出", "Quit", id="start.quit"),
    )
    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self, location: str | None = None, problem: str | None = None) -> None:
        super().__init__()
        self.location = location
        self.problem = problem
        self.recent: list[str] = []
        self.busy = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="start-box"):
            yield Label(
                tr("groundcode · 扎根理论工作台", "groundcode · grounded theory"), id="start-title"
            )
            yield Static(plain(self._intro()), id="start-hint")
            yield Label(tr("最近的项目", "Recent projects"), classes="panel-title")
            yield OptionList(id="start-recent")
            yield Static("", id="start-status")
        yield Footer()

    def _intro(self) -> str:
        here = self.location or str(Path.cwd() / DEFAULT_FILE)
        text = tr(
            f"此处没有项目：{here}\n按 n 新建项目，d 打开示例项目，或从下面选择最近的项目。",
            f"No project here: {here}\nPress n to create one, d for the demo, or pick a recent project below.",
        )
        if self.problem:
            text += "\n" + self.problem
        return text

    def on_mount(self) -> None:
        self.refresh_recent()

    def refresh_recent(self) -> None:
        self.recent = recent_projects()
        options = self.query_one("#start-recent", OptionList)
        options.clear_options()
        for loc in self.recent:
            exists = "://" in loc or Path(loc).exists()
            label = loc if exists else tr(f"{loc}（文件不存在）", f"{loc} (missing)")
            options.add_option(Option(plain(label), id=loc))
        if not self.recent:
            options.add_option(
                Option(tr("（还没有最近的项目）", "(no recent projects yet)"), disabled=True)
            )
        options.highlighted = 0 if self.recent else None
        options.focus()

    # -- actions ---------------------------------------------------------
    def _selected(self) -> str | None:
        options = self.query_one("#start-recent", OptionList)
        if options.highlighted is None or not self.recent:
            return None
        return self.recent[options.highlighted]

    def action_open_recent(self) -> None:
        loc = self._selected()
        if loc:
            self._start(tr(f"正在打开 {loc}…", f"Opening {loc}…"))
            self.open_project(loc)

    @on(OptionList.OptionSelected, "#start-recent")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_open_recent()

    def action_forget(self) -> None:
        loc = self._selected()
        if loc:
            forget_project(loc)
            self.refresh_recent()

    def action_open_other(self) -> None:
        from groundcode.tui.screens.prompt import PromptScreen

        def done(loc: str | None) -> None:
            if loc and self._location_ok(loc):
                self._start(tr(f"正在打开 {loc}…", f"Opening {loc}…"))
                self.open_project(loc)

        self.app.push_screen(
            PromptScreen(
                tr(
                    "项目位置（文件路径或 PostgreSQL URL）",
                    "Project location (a file or a PostgreSQL URL)",
                ),
                self.location or "",
            ),
            done,
        )

    def action_new(self) -> None:
        from groundcode.tui.screens.prompt import PromptScreen

        def named(name: str | None) -> None:
            if name is None:
                return

            def located(loc: str | None) -> None:
                if loc and self._location_ok(loc):
                    self._start(tr(f"正在创建 {loc}…", f"Creating {loc}…"))
                    self.create_project(loc, name)

            self.app.push_screen(
                PromptScreen(
                    tr(
                        "项目位置：SQLite 文件，或 PostgreSQL URL",
                        "Location: an SQLite file or a PostgreSQL URL",
                    ),
                    self.location or str(Path.cwd() / DEFAULT_FILE),
                    hint=tr(
                        "如 study.db 或 postgresql://user@host/db；密码来自 PGPASSWORD 或 ~/.pgpass",
                        "e.g. study.db or postgresql://user@host/db; the password comes from PGPASSWORD or ~/.pgpass",
                    ),
                ),
                located,
            )

        self.app.push_screen(PromptScreen(tr("项目名称", "Project name"), allow_empty=True), named)

    def action_demo(self) -> None:
        self._start(tr("正在构建示例项目…", "Building the demo project…"))
        self.build_demo(str(Path.cwd() / "demo.db"))

    def action_leave(self) -> None:
        self.dismiss(None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (self.busy and action in ("new", "open_recent", "open_other", "demo", "forget"))

    def _location_ok(self, loc: str) -> bool:
        if _has_password(loc):
            self.notify(
                tr(
                    "URL 中不能含密码：请用 PGPASSWORD 环境变量或 ~/.pgpass",
                    "No password in the URL: use the PGPASSWORD variable or ~/.pgpass",
                ),
                severity="error",
            )
            return False
        return True

    def _start(self, status: str) -> None:
        self.busy = True
        self.refresh_bindings()
        self.query_one("#start-status", Static).update(plain(status))

    # -- workers ---------------------------------------------------------
    def _user(self) -> str | None:
        """Who asked for the TUI (``--coder``/``--as``/``GROUNDCODE_USER``)."""
        return getattr(self.app, "start_user", None) or os.environ.get("GROUNDCODE_USER") or None

    @dataclass
    class Opened(Message):
        """A project is open; ``user`` acts in it (the demo's lead), or None: ask who."""

        project: Project
        user: str | None

    @dataclass
    class Failed(Message):
        """It could not be opened: shown on this screen, which stays up to try again."""

        error: BaseException

    def _open(self, call: Callable[[], StartScreen.Opened]) -> None:
        def guarded() -> Message:
            try:
                return call()
            except Exception as exc:  # any failure is a line here, never a crash
                return self.Failed(exc)

        run_service(self, guarded, posted, group="start")

    def open_project(self, loc: str) -> None:
        user = self._user()

        def call() -> StartScreen.Opened:
            from groundcode.project import Project

            return self.Opened(Project.open(loc, user=user), None)

        self._open(call)

    def create_project(self, loc: str, name: str) -> None:
        user = self._user()

        def call() -> StartScreen.Opened:
            from groundcode.project import Project

            return self.Opened(Project.create(loc, name=name or None, user=user), None)

        self._open(call)

    def build_demo(self, path: str) -> None:
        def echo(line: str) -> None:
            status = self.query_one("#start-status", Static)
            self.app.call_from_thread(status.update, plain(line.strip()))

        def call() -> StartScreen.Opened:
            from groundcode.demo import build_demo
            from groundcode.project import Project

            summary = build_demo(Path(path), echo=echo)
            return self.Opened(Project.open(path, user=summary.lead), summary.lead)

        self._open(call)

    @on(Opened)
    def _opened(self, message: Opened) -> None:
        message.stop()
        self.busy = False
        self.refresh_bindings()
        self.dismiss((message.project, message.user))

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        from groundcode.tui.i18n import one_line

        message.stop()
        self.busy = False
        self.refresh_bindings()
        line = one_line(message.error)
        self.query_one("#start-status", Static).update(plain(line))
        self.notify(line, title=tr("未能打开", "Could not open"), severity="error")
