"""Text as stored: normalised once on import, then cut into passages by offsets.

Normalisation is NFC, ``\\n`` line ends, no BOM, no blank lines at the ends.
It happens once; afterwards the text never changes and codings are
code-point offsets into it (SPEC §3).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import date, datetime
from typing import Any

SENTENCE_END = re.compile(r"[。！？!?；;…]+[”’」』）)\]】\"']*|\.(?=\s|$)[”’\"')\]]*")
URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
MENTION = re.compile(r"@[\w\u4e00-\u9fff\-]{1,30}")
HASHTAG_MARK = re.compile(r"#")
REPOST = re.compile(r"//@[^:：]{1,30}[:：]")


def normalise(text: str) -> str:
    text = text.lstrip("\ufeff")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", text)
    lines = text.split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(line.rstrip() for line in lines)


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _strip_span(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


def segment(text: str, mode: str = "paragraph") -> list[tuple[int, int]]:
    """Passages as (start, end) code-point spans; every non-blank line is a paragraph."""
    if mode == "whole":
        a, b = _strip_span(text, 0, len(text))
        return [(a, b)] if b > a else []
    spans: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        a, b = _strip_span(text, pos, pos + len(line))
        pos += len(line) + 1
        if b <= a:
            continue
        if mode == "paragraph":
            spans.append((a, b))
            continue
        start = a
        for m in SENTENCE_END.finditer(text, a, b):
            s, e = _strip_span(text, start, m.end())
            if e > s:
                spans.append((s, e))
            start = m.end()
        s, e = _strip_span(text, start, b)
        if e > s:
            spans.append((s, e))
    return spans


def substantive_length(text: str) -> int:
    """Characters that carry content: no URLs, mentions, repost markers, emoji, punctuation or space."""
    text = URL.sub("", text)
    text = REPOST.sub("", text)
    text = MENTION.sub("", text)
    text = HASHTAG_MARK.sub("", text)
    n = 0
    for ch in text:
        cat = unicodedata.category(ch)
        if cat[0] in ("L", "N"):
            n += 1
    return n


DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d",
    "%Y.%m.%d", "%Y%m%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%d/%m/%Y",
)
CN_DATE = re.compile(r"^\s*(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?\s*(?:(\d{1,2})[:：时](\d{1,2})分?)?\s*$")


def _iso(d: datetime, with_time: bool) -> str:
    return d.strftime("%Y-%m-%d %H:%M:%S") if with_time else d.strftime("%Y-%m-%d")


def parse_date(value: Any) -> str | None:
    """An ISO date (``YYYY-MM-DD`` or ``YYYY-MM-DD HH:MM:SS``), or None for empty; ValueError otherwise."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return _iso(value, bool(value.hour or value.minute or value.second))
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    if hasattr(value, "to_pydatetime"):
        return parse_date(value.to_pydatetime())
    text = str(value).strip()
    if not text:
        return None
    m = CN_DATE.match(text)
    if m:
        y, mo, d, hh, mm = m.groups()
        dt = datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0))
        return _iso(dt, hh is not None)
    for fmt in DATE_FORMATS:
        try:
            dt = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return _iso(dt, "%H" in fmt)
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"cannot read date '{text[:40]}'") from None
    return _iso(dt, True)
