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


# Characters a masked value is made of (digits, letters and the e-mail/phone punctuation):
# a known value inside other text sits within one run of them.
_RUN = re.compile(r"[0-9A-Za-z._%+@-]{5,}")
_MAY_HOLD = re.compile(r"[0-9@]")


class Masker:
    """Masks personal data in any text and remembers every value it masked.

    ``mask`` applies the patterns (counting matches when asked); ``mask_known``
    also masks the values already masked elsewhere wherever they appear
    literally, even where a pattern's context rule would not match (an ID
    number glued to a letter in a memo, a phone number in a file name), so a
    value masked in a document is masked in every copy of it.
    """

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns = list(patterns)
        self.counts: dict[str, int] = {p: 0 for p in self.patterns}
        self.masks: dict[str, str] = {}
        self._lengths: list[int] = []

    def mask(self, text: str, *, count: bool = True) -> str:
        for name in self.patterns:

            def _sub(m: re.Match[str], name: str = name) -> str:
                if count:
                    self.counts[name] += 1
                value = m.group(0)
                masked = self.masks.get(value)
                if masked is None:
                    masked = self.masks[value] = _mask(value)
                    self._lengths = []
                return masked

            text = PATTERNS[name].sub(_sub, text)
        return text

    def mask_known(self, text: str) -> str:
        text = self.mask(text, count=False)
        if not self.masks:
            return text
        if not self._lengths:
            self._lengths = sorted({len(v) for v in self.masks}, reverse=True)

        def _run(m: re.Match[str]) -> str:
            run = m.group(0)
            if not _MAY_HOLD.search(run):
                return run  # every value masked holds a digit (phones, IDs) or an @ (e-mail)
            out: list[str] = []
            i = 0
            while i < len(run):
                for n in self._lengths:
                    piece = run[i : i + n]
                    if len(piece) == n and piece in self.masks:
                        out.append(self.masks[piece])
                        i += n
                        break
                else:
                    out.append(run[i])
                    i += 1
            return "".join(out)

        return _RUN.sub(_run, text)
