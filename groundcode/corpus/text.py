"""Text as stored: normalised once on import, then cut into passages by offsets.

Normalisation is deliberately minimal, because every coding is a code-point
offset into the stored text (SPEC §3) and the researcher must recognise the
text they imported:

* a leading BOM is dropped;
* ``\\r\\n`` and lone ``\\r`` become ``\\n``;
* Unicode NFC (so the same character typed two ways compares equal);
* blank lines at the start and whitespace at the very end are removed.

Indentation (e.g. the full-width ``\\u3000\\u3000`` paragraph indent), inner blank
lines and spaces inside lines are kept. NUL characters never get here: the
decoder refuses them. ``normalise`` is idempotent, so callers may apply it again.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import date, datetime, time
from typing import Any

SEGMENT_MODES = ("paragraph", "sentence", "whole")

_CLOSERS = "”’」』）)\\]】》〉\"'"
# A run of sentence-ending marks with any closing quotes/brackets after it, or
# a Western full stop followed (after closers) by whitespace or the end.
SENTENCE_END = re.compile(rf"[。！？!?；…]+[{_CLOSERS}]*|\.[{_CLOSERS}]*(?=\s|$)")

URL = re.compile(r"(?:https?://|www\.)[^\s\u3000，。！？、；：“”（）《》]+", re.IGNORECASE)
REPOST_CHAIN = re.compile(r"//\s*@[^:：\s]{1,30}\s*[:：]")
MENTION = re.compile(r"@[\w\-]{1,30}")


def normalise(text: str) -> str:
    """NFC, ``\\n`` line ends, no BOM, no blank lines at the start, no whitespace at the end."""
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", text)
    text = text.rstrip()
    # Drop whole blank lines at the start, but keep the first line's indentation.
    start = 0
    while True:
        nl = text.find("\n", start)
        if nl < 0 or text[start:nl].strip():
            break
        start = nl + 1
    return text[start:]


def content_hash(text: str) -> str:
    """sha256 hex of the normalised text: the identity of a document's content."""
    return hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()


def _strip_span(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


def segment(text: str, mode: str = "paragraph") -> list[tuple[int, int]]:
    """Passages as (start, end) code-point spans into ``text`` (end exclusive).

    ``paragraph``: every non-blank line, without its leading/trailing whitespace.
    ``sentence``: within each paragraph, split after 。！？!?；… (runs count as one
    end) and after a ``.`` followed by whitespace or the line end; closing quotes
    and brackets stay with the sentence they close. ``whole``: one span over the
    text without its surrounding whitespace. Blank text gives no spans.
    """
    if mode not in SEGMENT_MODES:
        raise ValueError(f"segment mode must be one of {', '.join(SEGMENT_MODES)}, not '{mode}'")
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


def _hashtag_marks(text: str) -> str:
    """Drop the ``#`` of Weibo topics (``#话题#``) and Western hashtags, keeping the words."""
    return text.replace("#", " ")


def substantive_length(text: str) -> int:
    """How many characters carry content: letters and digits only.

    Removed before counting: URLs, ``//@name:`` repost chains, ``@mentions``,
    emoji and other symbols, punctuation and whitespace. Hashtag *words* are
    kept (``#健康码#`` counts 3): a topic name is content a researcher may
    screen on; only the ``#`` markers go.
    """
    text = URL.sub(" ", text)
    text = REPOST_CHAIN.sub(" ", text)
    text = MENTION.sub(" ", text)
    text = _hashtag_marks(text)
    return sum(1 for ch in text if unicodedata.category(ch)[0] in "LN")


# Numeric forms, one regex instead of a strptime loop (strptime is slow at 100k rows):
# 2022-03-01, 2022/3/1, 2022.3.1 (one separator throughout), optional time,
# fractions and a time zone (dropped: the wall-clock time is kept); or 20220301.
NUM_DATE = re.compile(
    r"^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})"
    r"(?:(?:[ T]|\s+)(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?(?:\s*(?:Z|[+-]\d{2}:?\d{2}))?)?$"
)
COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
CN_DATE = re.compile(
    r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?"
    r"(?:\s*(\d{1,2})\s*[:：时點点]\s*(\d{1,2})\s*分?(?:\s*[:：]?\s*(\d{1,2})\s*秒?)?)?$"
)


def _iso(d: datetime, with_time: bool) -> str:
    day = f"{d.year:04d}-{d.month:02d}-{d.day:02d}"
    return f"{day} {d.hour:02d}:{d.minute:02d}:{d.second:02d}" if with_time else day


def parse_date(value: Any) -> str | None:
    """``YYYY-MM-DD`` or ``YYYY-MM-DD HH:MM:SS`` from common forms; None for an empty value.

    Accepted: ISO dates and datetimes (``T`` or space, optional seconds,
    fractions and time zones, which are dropped: the wall-clock time is kept),
    ``2022/3/1``, ``2022.3.1``, ``20220301``, ``2022年3月1日 12:30``, and the
    ``datetime``/``date`` objects openpyxl and pandas produce. Day-first or
    month-first forms such as ``03/01/2022`` are ambiguous and refused. A
    datetime at exactly midnight from a spreadsheet is a date. Anything else
    raises ValueError (the caller names the file and row).
    """
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN: an empty spreadsheet cell
        return None
    if isinstance(value, datetime):
        if value != value:  # pandas NaT
            return None
        return _iso(value, value.time() != time(0, 0))
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    if not isinstance(value, str):
        raise ValueError(f"cannot read date '{str(value)[:40]}'")
    text = value.strip()
    if not text:
        return None
    try:
        m = NUM_DATE.match(text)
        if m:
            y, _, mo, d, hh, mm, ss = m.groups()
            dt = datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
            return _iso(dt, hh is not None)
        m = CN_DATE.match(text) or COMPACT_DATE.match(text)
        if m:
            y, mo, d, *rest = m.groups()
            hh, mm, ss = (rest + [None, None, None])[:3]
            dt = datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
            return _iso(dt, hh is not None)
    except (ValueError, OverflowError):
        pass
    raise ValueError(f"cannot read date '{text[:40]}'")
