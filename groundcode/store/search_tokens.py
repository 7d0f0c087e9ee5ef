"""Tokens for the passage search index: overlapping character bigrams.

Chinese has no spaces, so words cannot be indexed; bigrams of letters and
digits can, and any search term of two or more characters is found through
the bigrams it contains (then checked literally). SQLite's FTS5 indexes the
space-separated bigram string with its ``unicode61`` tokenizer; the same
function is registered as ``gc_bigrams`` on every SQLite connection so the
index triggers can compute the tokens of old text.
"""

from __future__ import annotations

import unicodedata


def _is_word_char(ch: str) -> bool:
    return unicodedata.category(ch)[0] in ("L", "N")


def bigrams(text: str | None) -> str:
    if not text:
        return ""
    out: list[str] = []
    prev = ""
    for ch in text.lower():
        if _is_word_char(ch):
            if prev:
                out.append(prev + ch)
            prev = ch
        else:
            prev = ""
    return " ".join(out)


def query_bigrams(term: str) -> list[str]:
    """The distinct bigrams a literal match of ``term`` must contain."""
    return list(dict.fromkeys(bigrams(term).split()))
