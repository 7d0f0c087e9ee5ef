"""A yes/no question as a modal screen.

Destructive actions (delete a code, overwrite files) ask first; the caller
receives ``True`` or ``False`` through ``push_screen(..., callback)`` or
``push_screen_wait`` and decides what to do, so the dialog knows nothing of
the action itself.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from groundcode.tui.commands import Key, localised
from groundcode.tui.i18n import tr
from groundcode.tui.safe import plain


@localised
class ConfirmScreen(ModalScreen[bool]):
    """Ask one question; ``y``/Enter confirm, ``n``/Escape decline."""

    CSS_PATH = "confirm.tcss"
    KEYS: ClassVar[tuple[Key, ...]] = (
        Key("y", "confirm", "是", "Yes", id="confirm.yes"),
        Key("n", "cancel", "否", "No", id="confirm.no"),
        Key("escape", "cancel", "取消", "Cancel", id="confirm.cancel"),
    )
    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(
        self,
        question: str,
        *,
        title: str | None = None,
        yes: str | None = None,
        no: str | None = None,
        danger: bool = False,
    ) -> None:
        super().__init__()
        self._question = question
        self._title = title or tr("请确认", "Please confirm")
        self._yes = yes or tr("确定 (y)", "Yes (y)")
        self._no = no or tr("取消 (n)", "No (n)")
        self._danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog"):
            yield Label(plain(self._title), id="confirm-title")
            yield Static(plain(self._question), id="confirm-question")
            with Horizontal(id="confirm-buttons"):
                yield Button(
                    self._yes,
                    id="confirm-yes",
                    variant="error" if self._danger else "primary",
                )
                yield Button(self._no, id="confirm-no")

    def on_mount(self) -> None:
        # Focus the safe choice for destructive questions, so a stray Enter does no harm.
        target = "#confirm-no" if self._danger else "#confirm-yes"
        self.query_one(target, Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
