"""A one-line text input as a modal screen, optionally with a fuzzy list of choices.

Used to ask for a name, a definition or a label, or to pick one item from a
long list (the target of a merge, a new parent, a model node): the caller gets
the text (stripped) or ``None`` when the user pressed Escape, and never sees
the widgets themselves. With ``choices`` the typed text filters the list by
fuzzy match (Chinese names match character by character) and Enter takes the
highlighted choice; ``strict`` refuses text that is not one of the choices.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.fuzzy import FuzzySearch
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from groundcode.tui.commands import Key, localised
from groundcode.tui.i18n import tr
from groundcode.tui.safe import pictured, plain, shown

_MAX_SHOWN = 200


@localised
class PromptScreen(ModalScreen[str | None]):
    """Ask for one line of text; Enter accepts, Escape cancels, Up/Down walk the choices."""

    CSS_PATH = "prompt.tcss"
    KEYS: ClassVar[tuple[Key, ...]] = (
        Key("escape", "cancel", "取消", "Cancel", id="prompt.cancel"),
        Key("down", "cursor(1)", "下一个", "Next choice", id="prompt.next", show=False),
        Key("up", "cursor(-1)", "上一个", "Previous choice", id="prompt.prev", show=False),
    )
    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(
        self,
        title: str,
        initial: str = "",
        *,
        placeholder: str = "",
        hint: str | None = None,
        allow_empty: bool = False,
        choices: Sequence[str] | None = None,
        strict: bool = False,
    ) -> None:
        super().__init__()
        self._title = title
        self._initial = initial
        self._placeholder = placeholder
        self._hint = hint
        self._allow_empty = allow_empty
        self._choices = list(dict.fromkeys(choices)) if choices is not None else None
        self._strict = strict and choices is not None
        self._search = FuzzySearch()
        self._shown: list[str] = []  # the choices listed, in OptionList order

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-dialog"):
            yield Label(plain(self._title), id="prompt-title")
            yield Input(
                # Shown with control characters as pictures: never sent to the terminal.
                value=pictured(self._initial),
                placeholder=self._placeholder,
                id="prompt-input",
                select_on_focus=False,
            )
            if self._choices is not None:
                yield OptionList(id="prompt-choices")
            yield Static(self._hint or self._default_hint(), id="prompt-hint")

    def _default_hint(self) -> str:
        if self._choices is not None:
            return tr(
                "输入以筛选 · ↑↓ 选择 · Enter 确定 · Esc 取消",
                "Type to filter · ↑↓ to choose · Enter to accept · Esc to cancel",
            )
        return tr("Enter 确定 · Esc 取消", "Enter to accept · Esc to cancel")

    def on_mount(self) -> None:
        if self._choices is not None:
            options = self.query_one("#prompt-choices", OptionList)
            options.can_focus = False  # typing stays in the Input; arrows move the highlight
            self._filter(self._initial)
        self.query_one("#prompt-input", Input).focus()

    # -- filtering --------------------------------------------------------
    def _matches(self, query: str) -> list[tuple[str, tuple[int, ...]]]:
        assert self._choices is not None
        query = query.strip()
        if not query:
            return [(c, ()) for c in self._choices[:_MAX_SHOWN]]
        scored: list[tuple[float, int, str, tuple[int, ...]]] = []
        for i, choice in enumerate(self._choices):
            score, offsets = self._search.match(query, choice)
            if score > 0:
                scored.append((-score, i, choice, tuple(offsets)))
        scored.sort()
        return [(choice, offsets) for _, _, choice, offsets in scored[:_MAX_SHOWN]]

    def _filter(self, query: str) -> None:
        options = self.query_one("#prompt-choices", OptionList)
        options.clear_options()
        self._shown = []
        labels: list[Option] = []
        for choice, offsets in self._matches(query):
            label = Content(shown(choice, newlines=False))
            for offset in offsets:
                label = label.stylize("reverse", offset, offset + 1)
            labels.append(Option(label))
            self._shown.append(choice)
        options.add_options(labels)
        if options.option_count:
            options.highlighted = 0

    def _highlighted_choice(self) -> str | None:
        index = self.query_one("#prompt-choices", OptionList).highlighted
        if index is None or not 0 <= index < len(self._shown):
            return None
        return self._shown[index]

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._choices is not None:
            self._filter(event.value)

    def action_cursor(self, step: int) -> None:
        if self._choices is None:
            return
        options = self.query_one("#prompt-choices", OptionList)
        if options.option_count == 0:
            return
        current = options.highlighted if options.highlighted is not None else -1
        options.highlighted = max(0, min(options.option_count - 1, current + step))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if 0 <= event.option_index < len(self._shown):
            self.dismiss(self._shown[event.option_index])

    # -- accepting ----------------------------------------------------------
    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        if self._choices is not None:
            picked = self._highlighted_choice()
            if value in self._choices:
                picked = value
            if picked is not None:
                self.dismiss(picked)
                return
            if self._strict:
                self.notify(tr("没有匹配的选项", "No choice matches"), severity="warning")
                return
        if not value and not self._allow_empty:
            self.notify(tr("请输入内容", "Please enter a value"), severity="warning")
            return
        if value == pictured(self._initial).strip():
            value = self._initial.strip()  # unchanged: the text as stored, controls and all
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)
