"""A warning for the user that front ends word in their language.

A ``Notice`` is a ``str`` whose value is its English words, so the results
that carry warnings as strings (``--json`` output, reports, logs) read as
before; a front end that knows its language calls ``word(lang)`` (or
``say(w, lang)`` for any warning) and gets the same notice in zh or en from
the catalog id ``key`` and its ``fields``.
"""

from __future__ import annotations

from groundcode.domain.wording import text


class Notice(str):
    key: str
    fields: dict[str, object]

    def __new__(cls, key: str, /, **fields: object) -> Notice:
        obj = super().__new__(cls, text(key, "en", **fields))
        obj.key = key
        obj.fields = fields
        return obj

    def word(self, lang: str) -> str:
        return text(self.key, lang, **self.fields)

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (self.key, self.fields))


def _rebuild(key: str, fields: dict[str, object]) -> Notice:
    return Notice(key, **fields)


def say(warning: str, lang: str) -> str:
    """``warning`` in ``lang``: a ``Notice`` from the catalog, any other string as it is."""
    return warning.word(lang) if isinstance(warning, Notice) else warning
