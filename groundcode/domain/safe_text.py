"""Text is data: what imported text may do on a terminal, in a file, in a name.

Documents, titles, concept names and memos come from outside (scraped
comments, other tools' exports, colleagues). Shown on a terminal, an escape
sequence in them (``ESC ] 0;… BEL`` retitles the window, ``ESC [2J`` clears
it) would act instead of being read; in a Rich or Textual widget, ``[/]`` or
``[b]`` would be taken for markup. Every output path therefore passes text
through ``visible`` (control characters shown as ``\\u001b``-style escapes), and
the front ends hand Rich/Textual plain ``Text`` objects, never markup strings.
XML (docx, xlsx, REFI-QDA) cannot hold most control characters at all:
``xml_safe`` drops them. Names (coders, concepts, categories) are checked once
at the edge by ``check_name``.
"""

from __future__ import annotations

import re
from typing import Any

# C0 controls except tab and newline, DEL, C1 controls, and the Unicode
# bidirectional overrides that reorder what a reader sees (Trojan-source style).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROL_NO_NEWLINE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# Characters XML 1.0 cannot carry (tab, newline and carriage return it can).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udfff]")

MAX_NAME_LENGTH = 200


def _escape(m: re.Match[str]) -> str:
    # ``\u001b`` reads as what it is on a terminal and stays a valid escape inside JSON.
    return f"\\u{ord(m.group(0)):04x}"


def visible(text: str, *, newlines: bool = True) -> str:
    """``text`` with every control character shown as an escape (``\\u001b``), never acted on.

    Tabs are kept; newlines are kept unless ``newlines`` is False (one-line fields).
    """
    if not text:
        return text
    rx = _CONTROL if newlines else _CONTROL_NO_NEWLINE
    return rx.sub(_escape, text)


def has_control(text: str) -> bool:
    return _CONTROL_NO_NEWLINE.search(text) is not None


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold (docx, xlsx, REFI-QDA)."""
    if not text:
        return text
    return _XML_ILLEGAL.sub("", text)


def name_problem(name: str, *, max_length: int = MAX_NAME_LENGTH) -> str | None:
    """Why ``name`` cannot be a name (a catalog reason id), or None when it can."""
    if not name.strip():
        return "name_empty"
    if has_control(name):
        return "name_control"
    if len(name) > max_length:
        return "name_too_long"
    return None


class VisibleStream:
    """A text stream that shows control characters instead of passing them on.

    The CLI writes every line of output through one of these (stdout, and
    stderr keeping ``\\r`` for its progress line), so no command can forget to.
    Writers that emit their own escape sequences (Rich on a terminal) write to
    ``raw`` instead, with the data inside already made visible.
    """

    def __init__(self, raw: Any, *, keep: str = "") -> None:
        self.raw = raw
        extra = "".join(re.escape(c) for c in keep)
        self._rx = re.compile(
            "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
            if not extra
            else f"(?![{extra}])[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
        )

    def write(self, text: str) -> int:
        self.raw.write(self._rx.sub(_escape, text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)
