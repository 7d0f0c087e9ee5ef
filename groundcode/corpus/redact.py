"""Patterns of personal data that researchers mask before coding starts.

Masks keep the masked text's length so every offset into the document stays
valid; the first and last characters of a match are kept where that still
hides the value (``138****5678``-style), which helps coders see what was there.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

PATTERNS: dict[str, re.Pattern[str]] = {
    # Mainland mobile numbers, optionally with +86; landlines like 028-12345678.
    "phone": re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d{9}(?!\d)|(?<!\d)0\d{2,3}-\d{7,8}(?!\d)"),
    # 18-digit resident identity numbers (last character may be X).
    "id": re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])"),
    "email": re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"),
}


def _mask(value: str) -> str:
    if len(value) <= 4:
        return "*" * len(value)
    keep = 3 if len(value) >= 11 else 1
    return value[:keep] + "*" * (len(value) - keep - 2) + value[-2:]


def redact_text(text: str, patterns: Sequence[str]) -> tuple[str, dict[str, int]]:
    """The text with every match masked (same length), and the count per pattern."""
    counts = {p: 0 for p in patterns}
    for name in patterns:
        rx = PATTERNS[name]

        def _sub(m: re.Match[str], name: str = name) -> str:
            counts[name] += 1
            return _mask(m.group(0))

        text = rx.sub(_sub, text)
    return text, counts
