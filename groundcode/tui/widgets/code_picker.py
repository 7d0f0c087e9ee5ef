"""The code picker: type to filter the codebook, Enter applies.

Coders apply dozens of codes an hour, so choosing one must be a few keys:
fuzzy matching over concept names (Chinese or not), the best match
highlighted, and a new name typed and confirmed becomes a new concept
(in-vivo). The dialog only returns the chosen name; the caller applies it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.fuzzy import FuzzySearch
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from groundcode.tui.i18n import tr
from groundcode.tui.safe import plain, shown

NEW = "\x00new"
LIMIT = 200


def _highlight(name: str, offsets: Sequence[int]) -> Content:
    """``name`` as plain content with the matched characters reversed."""
    content = Content(shown(name))
    for offset in offsets:
        content = content.stylize("reverse", offset, offset + 1)
    return content


class CodePicker(ModalScreen[str | None]):
    """Choose a concept by fuzzy search; returns its name, or None on Escape."""

    DEFAULT_CSS = """
    CodePicker {
        align: center middle;
        background: $background 60%;
    }
    CodePicker > #picker-box {
        width: 70;
        max-width: 95%;
        height: auto;
        max-height: 90%;
        padding: 0 1;
        border: thick $primary;
        background: $panel;
    }
    CodePicker #picker-title {
        text-style: bold;
        color: $primary;
    }
    CodePicker #picker-list {
        height: auto;
        max-height: 16;
    }
    CodePicker #picker-hint {
        color: $text-muted;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", tr("取消", "Cancel"), id="picker.cancel"),
        Binding("down", "move(1)", tr("下一个", "Next"), show=False),
        Binding("up", "move(-1)", tr("上一个", "Previous"), show=False),
    ]

    def __init__(
        self,
        names: Sequence[str],
        *,
        title: str | None = None,
        notes: dict[str, str] | None = None,
        allow_new: bool = True,
        initial: str = "",
    ) -> None:
        super().__init__()
        self._names = list(dict.fromkeys(names))
        self._title = title or tr("应用概念", "Apply a concept")
        self._notes = notes or {}
        self._allow_new = allow_new
        self._initial = initial

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-box"):
            yield Label(plain(self._title), id="picker-title")
            yield Input(
                value=self._initial,
                placeholder=tr("输入以筛选概念…", "Type to filter…"),
                id="picker-input",
            )
            yield OptionList(id="picker-list")
            yield Static(
                tr(
                    "Enter 应用 · ↑↓ 选择 · Esc 取消 · 输入新名称可新建概念",
                    "Enter apply · ↑↓ choose · Esc cancel · type a new name to create it",
                )
                if self._allow_new
                else tr("Enter 应用 · ↑↓ 选择 · Esc 取消", "Enter apply · ↑↓ choose · Esc cancel"),
                id="picker-hint",
            )

    def on_mount(self) -> None:
        self._refilter(self._initial)
        self.query_one(Input).focus()

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self._refilter(event.value)

    def _option(self, name: str, prompt: Content | str) -> Option:
        note = self._notes.get(name)
        if note:
            prompt = Content.assemble(prompt, ("  " + note, "dim"))
        return Option(prompt, id=name)

    def _refilter(self, query: str) -> None:
        query = query.strip()
        options = self.query_one(OptionList)
        options.clear_options()
        if query:
            # FuzzySearch, not Matcher: Matcher.highlight reads the name as markup.
            search = FuzzySearch()
            scored = [(*search.match(query, n), n) for n in self._names]
            ranked = sorted((s for s in scored if s[0] > 0), key=lambda s: -s[0])[:LIMIT]
            found = [self._option(n, _highlight(n, offsets)) for _, offsets, n in ranked]
        else:
            found = [self._option(n, Content(shown(n))) for n in self._names[:LIMIT]]
        options.add_options(found)
        if self._allow_new and query and query not in self._names:
            options.add_option(
                Option(plain(tr(f"＋ 新建概念「{query}」", f"+ new concept “{query}”")), id=NEW)
            )
        options.highlighted = 0 if options.option_count else None

    def action_move(self, delta: int) -> None:
        options = self.query_one(OptionList)
        if options.option_count:
            current = options.highlighted or 0
            options.highlighted = max(0, min(options.option_count - 1, current + delta))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        options = self.query_one(OptionList)
        if options.highlighted is None:
            return
        self._choose(options.get_option_at_index(options.highlighted).id)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._choose(event.option.id)

    def _choose(self, option_id: str | None) -> None:
        if option_id == NEW:
            self.dismiss(self.query_one(Input).value.strip())
        elif option_id:
            self.dismiss(option_id)

    def action_cancel(self) -> None:
        self.dismiss(None)
