"""The sign-in screen of ``groundcode serve`` on PostgreSQL: the browser user is a database login.

Every browser session of a team project starts here. The login and password
typed open the project as that database role, so the row-level security of
team mode (``groundcode team init``) applies to the browser exactly as to psql:
who signed in is who acts, and nobody picks another name afterwards. The
password stays in the engine's URL in memory only; a failed sign-in is one
line under the form and nothing else happens (no project opens, no name is
remembered, the form stays for another try).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Label, Static

from groundcode.domain.errors import GroundcodeError
from groundcode.domain.wording import word
from groundcode.tui.commands import Key, localised
from groundcode.tui.context import ReportsWorkerErrors, posted, run_service
from groundcode.tui.i18n import language, tr
from groundcode.tui.safe import plain

if TYPE_CHECKING:
    from groundcode.project import Project


@localised
class SignInScreen(ReportsWorkerErrors, Screen[tuple[Any, str | None] | None]):
    """Login and password for ``location``; dismisses with the opened project."""

    CSS_PATH = "sign_in.tcss"
    KEYS: ClassVar[tuple[Key, ...]] = (Key("escape", "leave", "退出", "Quit", id="sign_in.quit"),)
    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self, location: str, shown_as: str) -> None:
        super().__init__()
        self.location = location
        self.shown_as = shown_as
        self.busy = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="sign-in-box"):
            yield Label(tr("登录 groundcode", "Sign in to groundcode"), id="sign-in-title")
            yield Static(
                plain(
                    tr(
                        f"项目：{self.shown_as}\n用你的数据库账号登录；你看到和写入的只是你的权限允许的。",
                        f"Project: {self.shown_as}\nSign in with your database login; "
                        "what you see and write is what it allows.",
                    )
                ),
                id="sign-in-hint",
            )
            yield Input(placeholder=tr("账号", "login"), id="sign-in-login")
            yield Input(placeholder=tr("密码", "password"), password=True, id="sign-in-password")
            yield Button(tr("登录", "Sign in"), variant="primary", id="sign-in-go")
            yield Static("", id="sign-in-status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#sign-in-login", Input).focus()

    @on(Input.Submitted, "#sign-in-login")
    def _next_field(self) -> None:
        self.query_one("#sign-in-password", Input).focus()

    @on(Input.Submitted, "#sign-in-password")
    @on(Button.Pressed, "#sign-in-go")
    def submit(self) -> None:
        if self.busy:
            return
        login = self.query_one("#sign-in-login", Input).value.strip()
        password = self.query_one("#sign-in-password", Input).value
        self.busy = True
        self.query_one("#sign-in-status", Static).update(tr("正在登录…", "Signing in…"))
        self.sign_in(login, password)

    @dataclass
    class SignedIn(Message):
        project: Project

    @dataclass
    class Refused(Message):
        """The server refused (a wrong password, no such login, no server): one line here."""

        error: BaseException

    def sign_in(self, login: str, password: str) -> None:
        location = self.location

        def call() -> Message:
            from groundcode.project import Project

            try:
                return self.SignedIn(Project.sign_in(location, login, password))
            except Exception as exc:  # the server's refusal is shown here; the user tries again
                return self.Refused(exc)

        run_service(self, call, posted, group="sign-in")

    @on(SignedIn)
    def _signed_in(self, message: SignedIn) -> None:
        message.stop()
        self.dismiss((message.project, None))

    @on(Refused)
    def _refused(self, message: Refused) -> None:
        message.stop()
        self.busy = False
        error = message.error
        first = str(error).splitlines()[0] if str(error) else ""
        line = (
            word(error, language())
            if isinstance(error, GroundcodeError)
            else f"{type(error).__name__}: {first}"
        )
        self.query_one("#sign-in-status", Static).update(line)
        password = self.query_one("#sign-in-password", Input)
        password.value = ""
        password.focus()

    def action_leave(self) -> None:
        self.dismiss(None)
