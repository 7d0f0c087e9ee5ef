"""A document shown passage by passage, with codings, a caret and a selection.

Why a Line-API widget and not a TextArea: the coder works in passages (a
gutter shows each passage's number), codings are drawn as coloured spans per
concept, and every position is a code-point offset into the document text,
which is exactly what the coding service stores. Wrapping is computed here
with terminal cell widths, so Chinese text (two cells a character) wraps
and maps mouse positions correctly; no (row, column) ever leaves this file.

Keys: up/down or j/k move between passages; left/right move the caret;
shift+left/right extend the selection by a character, w/b move (and W/B
extend) to the next/previous clause; v starts a selection at the caret;
Escape drops it. The mouse selects by dragging inside one passage.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar, Protocol

from rich.cells import get_character_cell_size
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import var
from textual.scroll_view import ScrollView
from textual.strip import Strip

from groundcode.tui.safe import pictured

GUTTER = 6
CLAUSE_ENDS = set("，。！？；、：,.!?;:\n")
# Chinese typesetting keeps these off the start of a line (kinsoku).
NO_LINE_START = set("，。、；：！？）》」』】”’,.;:!?)")


class PassageLike(Protocol):
    idx: int
    start: int
    end: int


@dataclass(frozen=True)
class Span:
    """A coded span to draw: offsets into the text and its concept's name."""

    start: int
    end: int
    concept: str


@dataclass(frozen=True)
class _Line:
    passage: int  # index into the passages list; -1 for the blank line between passages
    start: int
    end: int
    first: bool


@lru_cache(maxsize=4096)
def concept_colour(name: str) -> Color:
    """A stable background colour for a concept: the same name, the same hue, always.

    Cached: a line asks once per coded character, and a redraw after each coding
    asked over a thousand times for the same few names.
    """
    hue = (zlib.crc32(name.encode("utf-8")) % 360) / 360.0
    return Color.from_rgb(*_hsl_to_rgb(hue, 0.55, 0.30))


def _hsl_to_rgb(h: float, s: float, lightness: float) -> tuple[int, int, int]:
    import colorsys

    r, g, b = colorsys.hls_to_rgb(h, lightness, s)
    return round(r * 255), round(g * 255), round(b * 255)


class PassageView(ScrollView, can_focus=True):
    """The coding canvas: a read-only document with passage gutter and coded spans."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "passage-view--gutter",
        "passage-view--gutter-current",
        "passage-view--current",
        "passage-view--selection",
        "passage-view--caret",
    }
    DEFAULT_CSS = """
    PassageView {
        background: $surface;
        scrollbar-gutter: stable;
    }
    PassageView > .passage-view--gutter {
        color: $text-muted;
    }
    PassageView > .passage-view--gutter-current {
        color: $text;
        background: $primary;
        text-style: bold;
    }
    PassageView > .passage-view--current {
        background: $boost;
    }
    PassageView > .passage-view--selection {
        background: $accent;
        color: $text;
    }
    PassageView > .passage-view--caret {
        text-style: reverse;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "passage(-1)", "Previous passage", show=False),
        Binding("down,j", "passage(1)", "Next passage", show=False),
        Binding("left", "caret(-1, False)", "Left", show=False),
        Binding("right", "caret(1, False)", "Right", show=False),
        Binding("shift+left", "caret(-1, True)", "Extend left", show=False),
        Binding("shift+right", "caret(1, True)", "Extend right", show=False),
        Binding("w", "clause(1, False)", "Next clause", show=False),
        Binding("b", "clause(-1, False)", "Previous clause", show=False),
        Binding("W", "clause(1, True)", "Extend to next clause", show=False),
        Binding("B", "clause(-1, True)", "Extend to previous clause", show=False),
        Binding("home", "edge(0)", "Passage start", show=False),
        Binding("end", "edge(1)", "Passage end", show=False),
        Binding("pageup", "passage(-5)", "Up 5 passages", show=False),
        Binding("pagedown", "passage(5)", "Down 5 passages", show=False),
        Binding("v", "toggle_select", "Select", show=False),
        Binding("escape", "clear_selection", "Clear selection", show=False),
    ]

    current: var[int] = var(0, init=False)

    @dataclass
    class Moved(Message):
        """The current passage changed (``idx`` counts from 1 as in the service)."""

        view: PassageView
        idx: int

    @dataclass
    class Selected(Message):
        """The selection changed; ``start``/``end`` are code-point offsets or None."""

        view: PassageView
        start: int | None
        end: int | None

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.text: str = ""
        self.passages: list[PassageLike] = []
        self.spans: list[Span] = []
        self.caret: int = 0
        self.anchor: int | None = None  # type: ignore[assignment]
        self._lines: list[_Line] = []
        self._first_line: list[int] = []
        self._owner: list[int] = []
        self._layout_width = -1
        self._dragging = False
        self._select_mode = False

    # -- data in ---------------------------------------------------------
    def load(
        self,
        text: str,
        passages: Sequence[PassageLike],
        spans: Sequence[Span],
        *,
        current_idx: int | None = None,
    ) -> None:
        """Show a new document; ``current_idx`` is a passage number (from 1).

        Control characters are drawn as one-cell pictures (ESC as ␛), so offsets
        into the stored text stay offsets into what is drawn, and none reaches
        the terminal.
        """
        self.text = pictured(text)
        self.passages = list(passages)
        self.anchor = None
        self._layout_width = -1
        self.set_spans(spans, refresh=False)
        self._relayout()
        index = 0
        if current_idx is not None:
            index = next((i for i, p in enumerate(self.passages) if p.idx == current_idx), 0)
        self.set_reactive(PassageView.current, index)
        self.caret = self.passages[index].start if self.passages else 0
        self.scroll_to(y=0, animate=False, immediate=True)
        self._scroll_current()
        self.refresh()
        self._post_moved()

    def set_spans(self, spans: Sequence[Span], *, refresh: bool = True) -> None:
        """Redraw codings; where spans overlap the shortest one shows."""
        self.spans = list(spans)
        owner = [-1] * len(self.text)
        for i in sorted(
            range(len(self.spans)), key=lambda k: -(self.spans[k].end - self.spans[k].start)
        ):
            span = self.spans[i]
            for pos in range(max(0, span.start), min(len(self.text), span.end)):
                owner[pos] = i
        self._owner = owner
        if refresh:
            self.refresh()

    # -- what the screen reads -------------------------------------------
    @property
    def passage(self) -> PassageLike | None:
        return self.passages[self.current] if self.passages else None

    @property
    def selection(self) -> tuple[int, int] | None:
        """The selected span as code-point offsets (end exclusive), or None."""
        if self.anchor is None or self.anchor == self.caret:
            return None
        return min(self.anchor, self.caret), max(self.anchor, self.caret)

    def select(self, start: int, end: int) -> None:
        """Select ``[start, end)`` inside the passage that holds ``start``."""
        index = self._passage_at(start)
        if index != self.current:
            self.current = index
        p = self.passages[index]
        self.anchor = max(p.start, start)
        self.caret = min(p.end, end)
        self.refresh()
        self._post_selected()

    def go_to(self, idx: int) -> None:
        """Make passage number ``idx`` current."""
        for i, p in enumerate(self.passages):
            if p.idx == idx:
                self.current = i
                return

    # -- layout ----------------------------------------------------------
    def _text_width(self) -> int:
        return max(10, self.scrollable_content_region.width - GUTTER)

    def _relayout(self) -> None:
        width = self._text_width()
        if width == self._layout_width:
            return
        self._layout_width = width
        lines: list[_Line] = []
        firsts: list[int] = []
        text = self.text
        for pi, p in enumerate(self.passages):
            if pi:
                lines.append(_Line(-1, p.start, p.start, False))
            firsts.append(len(lines))
            line_start = p.start
            cells = 0
            first = True
            pos = p.start
            while pos < p.end:
                ch = text[pos]
                if ch == "\n":
                    lines.append(_Line(pi, line_start, pos, first))
                    first = False
                    line_start, cells = pos + 1, 0
                    pos += 1
                    continue
                size = get_character_cell_size(ch)
                if cells + size > width:
                    brk = pos
                    if ch in NO_LINE_START and pos - 1 > line_start:
                        brk = pos - 1
                    lines.append(_Line(pi, line_start, brk, first))
                    first = False
                    line_start = brk
                    cells = sum(get_character_cell_size(c) for c in text[brk:pos])
                cells += size
                pos += 1
            if line_start < p.end or first:
                lines.append(_Line(pi, line_start, p.end, first))
        self._lines = lines
        self._first_line = firsts
        self.virtual_size = Size(width + GUTTER, len(lines))

    def on_resize(self, event: events.Resize) -> None:
        self._relayout()
        self.refresh()

    # -- rendering -------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = y + scroll_y
        width = self.scrollable_content_region.width
        base = self.rich_style
        if index >= len(self._lines):
            return Strip.blank(width, base)
        line = self._lines[index]
        if line.passage < 0:
            return Strip.blank(width, base)
        is_current = line.passage == self.current
        gutter_style = base + self.get_component_rich_style(
            "passage-view--gutter-current" if is_current else "passage-view--gutter"
        )
        number = str(self.passages[line.passage].idx) if line.first else ""
        segments = [Segment(f"{number:>4} ", gutter_style), Segment(" ", base)]
        row_style = (
            base + self.get_component_rich_style("passage-view--current") if is_current else base
        )
        selection = self.selection if is_current else None
        sel_style = self.get_component_rich_style("passage-view--selection")
        caret_style = self.get_component_rich_style("passage-view--caret")
        show_caret = is_current and self.has_focus
        run_style: Style | None = None
        run: list[str] = []
        coded: dict[int, Style] = {}  # one style per span on this line, not per character
        for pos in range(line.start, line.end):
            style = row_style
            owner = self._owner[pos] if pos < len(self._owner) else -1
            if owner >= 0:
                style = coded.get(owner) or coded.setdefault(
                    owner, row_style + Style(bgcolor=concept_colour(self.spans[owner].concept))
                )
            if selection and selection[0] <= pos < selection[1]:
                style = style + sel_style
            if show_caret and pos == self.caret:
                style = style + caret_style
            if style != run_style and run:
                segments.append(Segment("".join(run), run_style))
                run = []
            run_style = style
            run.append(self.text[pos])
        if run:
            segments.append(Segment("".join(run), run_style))
        if show_caret and self.caret == line.end and self._is_last_line(index):
            segments.append(Segment(" ", row_style + caret_style))
        strip = Strip(segments).crop(scroll_x, scroll_x + width)
        return strip.extend_cell_length(width, row_style).crop(0, width)

    def _is_last_line(self, index: int) -> bool:
        nxt = index + 1
        return nxt >= len(self._lines) or self._lines[nxt].passage != self._lines[index].passage

    # -- movement --------------------------------------------------------
    def watch_current(self, old: int, new: int) -> None:
        if not self.passages:
            return
        self.anchor = None
        self._select_mode = False
        self.caret = self.passages[new].start
        self._scroll_current()
        self.refresh()
        self._post_moved()

    def _scroll_current(self) -> None:
        if not self._first_line or not self.passages:
            return
        top = self._first_line[self.current]
        bottom = (
            self._first_line[self.current + 1] - 1
            if self.current + 1 < len(self._first_line)
            else len(self._lines)
        )
        self.scroll_to_region(
            Region(0, top, 1, max(1, bottom - top)), animate=False, immediate=True, top=False
        )

    def _post_moved(self) -> None:
        if self.passages:
            self.post_message(self.Moved(self, self.passages[self.current].idx))

    def _post_selected(self) -> None:
        sel = self.selection
        self.post_message(self.Selected(self, sel[0] if sel else None, sel[1] if sel else None))

    def action_passage(self, delta: int) -> None:
        if self.passages:
            self.current = max(0, min(len(self.passages) - 1, self.current + delta))

    def _move_caret(self, target: int, extend: bool) -> None:
        p = self.passage
        if p is None:
            return
        target = max(p.start, min(p.end, target))
        extend = extend or self._select_mode
        if extend and self.anchor is None:
            self.anchor = self.caret
        elif not extend:
            self.anchor = None
        self.caret = target
        self.refresh()
        self._post_selected()

    @property
    def _selecting(self) -> bool:
        return self._select_mode

    def action_caret(self, delta: int, extend: bool) -> None:
        self._move_caret(self.caret + delta, extend)

    def action_clause(self, direction: int, extend: bool) -> None:
        p = self.passage
        if p is None:
            return
        pos = self.caret
        if direction > 0:
            pos += 1
            while pos < p.end and self.text[pos - 1] not in CLAUSE_ENDS:
                pos += 1
        else:
            pos -= 1
            while pos > p.start and self.text[pos - 1] not in CLAUSE_ENDS:
                pos -= 1
        self._move_caret(pos, extend)

    def action_edge(self, which: int) -> None:
        p = self.passage
        if p is not None:
            self._move_caret(p.end if which else p.start, False)

    def action_toggle_select(self) -> None:
        if self._selecting:
            self._select_mode = False
        else:
            self._select_mode = True
            self.anchor = self.caret
        self.refresh()
        self._post_selected()

    def action_clear_selection(self) -> None:
        self._select_mode = False
        self.anchor = None
        self.refresh()
        self._post_selected()

    # -- mouse -----------------------------------------------------------
    def _passage_at(self, offset: int) -> int:
        for i, p in enumerate(self.passages):
            if p.start <= offset < p.end or (offset == p.end and i == len(self.passages) - 1):
                return i
        return self.current

    def _offset_at(self, x: int, y: int) -> tuple[int, int] | None:
        """The passage index and code-point offset under a screen cell, if any."""
        index = y + self.scroll_offset.y
        if not (0 <= index < len(self._lines)):
            return None
        line = self._lines[index]
        if line.passage < 0:
            return None
        column = x + self.scroll_offset.x - GUTTER
        cells = 0
        pos = line.start
        while pos < line.end:
            size = get_character_cell_size(self.text[pos])
            if cells + size > column:
                break
            cells += size
            pos += 1
        return line.passage, pos

    def on_mouse_down(self, event: events.MouseDown) -> None:
        hit = self._offset_at(event.x, event.y)
        if hit is None:
            return
        self.focus()
        index, pos = hit
        if index != self.current:
            self.current = index
        self._select_mode = False
        self.caret = pos
        self.anchor = pos
        self._dragging = True
        self.capture_mouse()
        self.refresh()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if not self._dragging:
            return
        hit = self._offset_at(event.x, event.y)
        p = self.passage
        if hit is None or p is None:
            return
        _, pos = hit
        anchor = self.anchor if self.anchor is not None else pos
        # Dragging forwards covers the character under the pointer too.
        self.caret = max(p.start, min(p.end, pos + 1 if pos >= anchor else pos))
        self.refresh()

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if not self._dragging:
            return
        self._dragging = False
        self.release_mouse()
        if self.anchor == self.caret:
            self.anchor = None
        self.refresh()
        self._post_selected()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
