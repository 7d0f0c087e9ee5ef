"""A one-line text input as a modal screen.

Used to ask for a name, a definition or a label: the caller gets the text
(stripped) or ``None`` when the user pressed Escape, and never sees the Input
widget itself.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from groundcode.tui.i18n import tr


class PromptScreen(ModalScreen[str | None]):
    """Ask for one line of text; Enter accepts, Escape cancels."""

    CSS_PATH = "prompt.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", tr("取消", "Cancel"), id="prompt.cancel"),
    ]

    def __init__(
        self,
        title: str,
        initial: str = "",
        *,
        placeholder: str = "",
        hint: str | None = None,
        allow_empty: bool = False,
    ) -> None:
        super().__init__()
        self._title = title
        self._initial = initial
        self._placeholder = placeholder
        self._hint = hint
        self._allow_empty = allow_empty

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-dialog"):
            yield Label(self._title, id="prompt-title")
            yield Input(
                value=self._initial,
                placeholder=self._placeholder,
                id="prompt-input",
                select_on_focus=False,
            )
            yield Static(
                self._hint or tr("Enter 确定 · Esc 取消", "Enter to accept · Esc to cancel"),
                id="prompt-hint",
            )

    def on_mount(self) -> None:
        self.query_one("#prompt-input", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        if not value and not self._allow_empty:
            self.notify(tr("请输入内容", "Please enter a value"), severity="warning")
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)
