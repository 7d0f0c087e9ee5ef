"""A terminal plot of the saturation curve.

Cumulative distinct concepts over documents in coding order, drawn as a bar
chart with eighth-block characters (eight steps per cell, so a 10-row plot
still shows small rises), with the document where the Guest, Namey & Chen
(2020) stopping rule was reached marked by a vertical line. The widget knows
nothing of the services: the screen hands it plain points.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar, Protocol

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from groundcode.tui.i18n import tr

BLOCKS = " ▁▂▃▄▅▆▇█"


class CurvePointLike(Protocol):
    """What the widget needs of a ``CurvePoint``."""

    @property
    def index(self) -> int: ...

    @property
    def cumulative_concepts(self) -> int: ...


def column_values(values: Sequence[int], width: int) -> list[tuple[int, int]]:
    """(last document index 1-based, value) for each of ``width`` columns.

    A column shows the cumulative count at the last document it covers, so
    the final column always shows the total, however many documents there are.
    """
    n = len(values)
    if n == 0 or width <= 0:
        return []
    out = []
    for c in range(width):
        doc = min(n, max(1, math.ceil((c + 1) * n / width)))
        out.append((doc, values[doc - 1]))
    return out


def marker_column(reached_at: int | None, n: int, width: int) -> int | None:
    """The column holding document ``reached_at`` (1-based), if any."""
    if reached_at is None or n == 0 or width <= 0 or not 1 <= reached_at <= n:
        return None
    for c in range(width):
        if math.ceil((c + 1) * n / width) >= reached_at:
            return c
    return width - 1


class SaturationCurve(Widget):
    """Cumulative concepts over documents, with the Guest stopping point marked."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "saturation-curve--bar",
        "saturation-curve--marker",
        "saturation-curve--axis",
    }
    DEFAULT_CSS = """
    SaturationCurve {
        height: 14;
        min-height: 6;
        & > .saturation-curve--bar {
            color: $primary;
        }
        & > .saturation-curve--marker {
            color: $warning;
            text-style: bold;
        }
        & > .saturation-curve--axis {
            color: $text-muted;
        }
    }
    """

    values: reactive[tuple[int, ...]] = reactive(tuple)
    reached_at: reactive[int | None] = reactive(None)

    def show(self, points: Sequence[CurvePointLike], reached_at: int | None) -> None:
        """Plot these points (in coding order) and mark ``reached_at`` (a document position)."""
        ordered = sorted(points, key=lambda p: p.index)
        self.values = tuple(int(p.cumulative_concepts) for p in ordered)
        self.reached_at = reached_at

    def render(self) -> Text:
        values = self.values
        width, height = self.size.width, self.size.height
        if not values:
            return Text(tr("还没有编码，无法绘制饱和度曲线。", "No codings yet: nothing to plot."))
        bar = self.get_component_rich_style("saturation-curve--bar", partial=True)
        mark = self.get_component_rich_style("saturation-curve--marker", partial=True)
        axis = self.get_component_rich_style("saturation-curve--axis", partial=True)
        top = max(values) or 1
        label_w = len(str(top)) + 1
        plot_w = max(1, width - label_w - 1)
        plot_h = max(1, height - 2)
        columns = column_values(values, plot_w)
        marker = marker_column(self.reached_at, len(values), plot_w)
        eighths = [round(v / top * plot_h * 8) for _, v in columns]
        lines: list[Text] = []
        for row in range(plot_h):
            line = Text(no_wrap=True, overflow="crop")
            if row == 0:
                ylab = str(top)
            elif row == plot_h - 1:
                ylab = "0" if plot_h > 1 else str(top)
            elif row == plot_h // 2 and plot_h > 4:
                ylab = str(round(top * (plot_h - row - 0.5) / plot_h))
            else:
                ylab = ""
            line.append(ylab.rjust(label_w - 1) + " ", axis)
            line.append("│", axis)
            level = (plot_h - 1 - row) * 8
            for c, total in enumerate(eighths):
                cell = BLOCKS[max(0, min(8, total - level))]
                if c == marker:
                    line.append("┃", mark)  # a line through the bars: visible without colour
                else:
                    line.append(cell, bar)
            lines.append(line)
        if marker is not None and plot_h >= 1:
            self._label_marker(lines[0], label_w + 1 + marker, width, mark)
        lines.append(Text(" " * label_w + "└" + "─" * plot_w, axis, no_wrap=True))
        lines.append(self._x_labels(len(values), label_w, plot_w, marker, axis, mark))
        return Text("\n").join(lines)

    def _label_marker(self, line: Text, at: int, width: int, style: Style) -> None:
        """Write the stopping point's label into the top row, right of the marker if it fits."""
        label = tr(
            f" Guest 规则：第 {self.reached_at} 篇", f" Guest rule: document {self.reached_at}"
        )
        size = cell_len(label)
        start = at + 1 if at + 1 + size <= width else max(0, at - size)
        plain = line.plain
        if cell_len(plain) != len(plain):  # only ASCII/box characters here; stay safe
            return
        end = min(width, start + size)
        line.right_crop(max(0, len(plain) - start))
        line.append(label, style)
        tail = plain[end:] if end < len(plain) else ""
        line.append(tail)

    def _x_labels(
        self, n: int, label_w: int, plot_w: int, marker: int | None, axis: Style, mark: Style
    ) -> Text:
        cells = [" "] * plot_w
        styles: list[Style | None] = [None] * plot_w

        def put(text: str, at: int, style: Style | None) -> None:
            at = max(0, min(plot_w - len(text), at))
            for i, ch in enumerate(text):
                if 0 <= at + i < plot_w:
                    cells[at + i] = ch
                    styles[at + i] = style

        put("1", 0, axis)
        put(str(n), plot_w - len(str(n)), axis)
        if marker is not None and self.reached_at is not None:
            put(str(self.reached_at), marker - len(str(self.reached_at)) // 2, mark)
        line = Text(" " * (label_w + 1), no_wrap=True)
        for ch, style in zip(cells, styles, strict=True):
            line.append(ch, style or axis)
        return line
