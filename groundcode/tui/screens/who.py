"""The first-run question, and the person switch (``ctrl+o``): who is coding?

Every coding belongs to one coder and blind mode depends on who asks, so
the TUI needs a name before it shows any data. Enter picks the highlighted
person; ``a`` adds a new one (the service refuses once a lead exists and the
acting user is not that lead, and the refusal is shown as it is).

The same list is the person switch of a single-user (SQLite) project: on
one machine the file is the trust boundary and ``--as`` only says whose
work a command is, so every person, the lead included, is listed in blind
mode too, and a lead who handed the keyboard to a coder can always switch
back. (Team projects switch by signing in as another login instead, so the
database decides who acts.) Escape goes back without switching there, and
quits only at the first-run question.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, OptionList, Static
from textual.widgets.option_list import Option

from groundcode.tui.commands import Key, localised
from groundcode.tui.context import ReportsWorkerErrors, project_of, run_service
from groundcode.tui.i18n import tr
from groundcode.tui.safe import plain

if TYPE_CHECKING:
    from groundcode.coding.records import CoderView

ROLE = {"lead": ("负责人", "lead"), "coder": ("编码人员", "coder")}


@localised
class WhoScreen(ReportsWorkerErrors, Screen[str | None]):
    """Pick the acting coder from the project's people, or add one."""

    CSS_PATH = "who.tcss"
    KEYS: ClassVar[tuple[Key, ...]] = (
        Key("enter", "pick", "选择", "Pick", id="who.pick"),
        Key("a", "add", "新增编码人员", "Add coder", id="who.add"),
        Key("escape", "leave", "退出", "Quit", id="who.quit"),
    )
    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self, current: str | None = None, *, switching: bool = False) -> None:
        super().__init__()
        self.current = current
        self.switching = switching

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="who-box"):
            yield Label(
                tr("切换到谁？", "Switch to whom?")
                if self.switching
                else tr("谁在编码？", "Who is coding?"),
                id="who-title",
            )
            yield Static(
                tr(
                    "每条编码都属于一位编码人员；盲编模式下只看到自己的编码。",
                    "Every coding belongs to one coder; in blind mode you see only your own.",
                ),
                id="who-hint",
            )
            yield OptionList(id="who-list")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(OptionList).loading = True
        self.load_coders()

    @dataclass
    class CodersLoaded(Message):
        coders: list[CoderView]

    @dataclass
    class CoderAdded(Message):
        coder: CoderView

    def load_coders(self) -> None:
        run_service(self, lambda: project_of(self).people.coders(), self.CodersLoaded, group="who")

    def add_coder(self, name: str) -> None:
        def call() -> CoderView:
            # The first person in a new project is the one who set it up: its lead.
            people = project_of(self).people
            return people.add_coder(name, role="coder" if people.coders() else "lead")

        run_service(self, call, self.CoderAdded, group="who-add")

    @on(CodersLoaded)
    def _coders_loaded(self, message: CodersLoaded) -> None:
        message.stop()
        coders = message.coders
        options = self.query_one(OptionList)
        options.loading = False
        options.clear_options()
        for c in coders:
            role = tr(*ROLE.get(c.role, (c.role, c.role)))
            options.add_option(Option(plain(f"{c.name}  ·  {role}"), id=c.name))
        if not coders:
            options.add_option(
                Option(tr("（还没有人，按 a 新增）", "(nobody yet, press a to add)"), disabled=True)
            )
        names = [c.name for c in coders]
        here = names.index(self.current) if self.current in names else 0
        options.highlighted = here if coders else None
        options.focus()

    @on(CoderAdded)
    def _coder_added(self, message: CoderAdded) -> None:
        message.stop()
        self.notify(tr(f"已新增 {message.coder.name}", f"Added {message.coder.name}"))
        self.load_coders()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.dismiss(event.option.id)

    def action_pick(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None:
            option = options.get_option_at_index(options.highlighted)
            if option.id:
                self.dismiss(option.id)

    def action_add(self) -> None:
        from groundcode.tui.screens.prompt import PromptScreen

        def done(name: str | None) -> None:
            if name:
                self.add_coder(name)

        self.app.push_screen(PromptScreen(tr("新编码人员的名字", "Name of the new coder")), done)

    def action_leave(self) -> None:
        self.dismiss(None)


@localised
class SwitchUserScreen(WhoScreen):
    """The person switch (``ctrl+o``): the same list, with Escape going back instead of quitting."""

    KEYS: ClassVar[tuple[Key, ...]] = (
        Key("enter", "pick", "切换到此人", "Switch to", id="switch_user.pick"),
        Key("a", "add", "新增编码人员", "Add coder", id="switch_user.add"),
        Key("escape", "leave", "返回", "Back", id="switch_user.back"),
    )
    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self, current: str | None) -> None:
        super().__init__(current, switching=True)
