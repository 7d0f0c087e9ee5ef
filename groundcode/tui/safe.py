"""Text is data in the TUI: what project text may do on a screen.

Titles, concept names, memos and comments come from outside. Given to a
widget as a string, ``[/]标题`` or ``[/x]`` is read as markup (a closing tag
with nothing to close kills the app) and ``ESC ] 0;… BEL`` reaches the
terminal. So project text reaches widgets only through these helpers:

* ``plain(value)``: a Rich ``Text`` (never parsed as markup) with control
  characters shown as ``\\u001b``-style escapes; for Static, Label, Option,
  Tree labels and table cells.
* ``escaped(value)``: the same text made safe to sit inside a Textual markup
  string (``f"[b]{escaped(name)}[/b]"``).
* ``pictured(text)``: each control character replaced by one visible
  character (ESC as ␛, BEL as ␇), keeping every offset; for the passage view,
  where code-point offsets into the stored text are the coding spans.
* ``shown(value)``: a plain string with control characters made visible, for
  places that never read markup (notifications, the header, Input values).

The control-character rule itself is the core's (``domain.safe_text``), shared
with the CLI, so a comment looks the same in ``groundcode show`` and on screen.
"""

from __future__ import annotations

import re

from rich.text import Text
from textual.markup import escape as _escape_markup

from groundcode.domain.safe_text import visible

__all__ = ["escaped", "pictured", "plain", "shown"]

# The same set as ``domain.safe_text`` (tab and newline are text, not controls).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _picture(m: re.Match[str]) -> str:
    code = ord(m.group(0))
    if code < 0x20:
        return chr(0x2400 + code)  # Unicode's control pictures: ␀ .. ␟
    if code == 0x7F:
        return "\u2421"  # ␡
    return "\ufffd"  # C1 controls and bidirectional overrides have no picture


def pictured(text: str) -> str:
    """``text`` with each control character shown as one visible character (same length)."""
    return _CONTROL.sub(_picture, text) if text else text


def shown(value: object, *, newlines: bool = True) -> str:
    """``value`` as a string whose control characters show as escapes."""
    return visible("" if value is None else str(value), newlines=newlines)


def plain(value: object, style: str = "", *, newlines: bool = True) -> Text:
    """``value`` as text a widget shows literally: no markup, control characters visible."""
    return Text(shown(value, newlines=newlines), style=style)


def escaped(value: object) -> str:
    """``value`` ready to be put inside a Textual markup string."""
    return _escape_markup(shown(value))
