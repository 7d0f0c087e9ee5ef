"""Words for typed errors and messages, in zh or en, from one gettext catalog.

The catalogs are ``groundcode/locale/{zh,en}/LC_MESSAGES/*.po`` (the sources,
edited by hand) compiled to ``.mo`` beside them (``./dev catalog`` runs
Babel's compiler; a test fails when a ``.mo`` is stale or a message lacks one
of the languages). Message ids are stable keys (``NotFound``,
``noun.document``, ``saturation.reason.holdout_not_done``); their texts are
``str.format`` templates over the error's fields.

Front ends pass ``option_names`` so that ``BadOption(option="force")`` reads
``--force`` in the CLI and the TUI's own switch label in the TUI; a template
names an option as ``{opt[force]}`` (the neutral name when a front end has no
spelling for it), so no core message spells a CLI flag.
"""

from __future__ import annotations

import gettext
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from groundcode.domain.errors import GroundcodeError

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = ("zh", "en")
# Fields whose values are catalog ids (``noun.<v>``, ``reason.<v>``, ``action.<v>``,
# ``rule.<v>``), worded before they fill the template.
WORDED_FIELDS = ("kind", "needs", "what", "reason", "action", "rule", "level", "other")


@cache
def _catalog(lang: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    for mo in sorted(folder.glob("*.mo")):
        with mo.open("rb") as fh:
            merged.update(gettext.GNUTranslations(fh)._catalog)  # type: ignore[attr-defined]
    merged.pop("", None)  # the header entry
    return merged


class _Options(dict[str, str]):
    """``{opt[force]}`` in a template: the front end's spelling of an option, else its name."""

    def __init__(self, names: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self._names = names if names is not None else {}

    def __missing__(self, key: str) -> str:
        return self._names.get(key, key)


def text(key: str, lang: str = "en", /, **fields: object) -> str:
    """The message ``key`` in ``lang`` with ``fields`` filled in.

    A key missing from the catalog shows as itself with its fields, so a gap
    is visible (and caught by the catalog test) rather than hidden.
    """
    template = _catalog("en" if lang == "en" else "zh").get(key)
    if template is None:
        template = _catalog("en").get(key)
    if template is None:
        args = ", ".join(f"{k}={v}" for k, v in fields.items())
        return f"{key}({args})" if args else key
    fields.setdefault("opt", _Options())
    try:
        return template.format(**fields)
    except (KeyError, IndexError, ValueError):
        return template


def word(
    error: GroundcodeError,
    lang: str = "en",
    *,
    option_names: Mapping[str, str] | None = None,
) -> str:
    """One line for ``error`` in ``lang``.

    Fields that name catalog nouns (``kind``, ``needs``, ``what``, ``reason``)
    are worded too when the catalog has ``noun.<value>`` / ``reason.<value>``;
    ``option`` goes through ``option_names``.
    """
    from groundcode.domain.errors import GroundcodeError

    names = _Options(option_names)
    fields = error.fields()
    # An error carrying another (why a step stopped) words it in the same language.
    for name, value in list(fields.items()):
        if isinstance(value, GroundcodeError):
            fields[name] = word(value, lang, option_names=option_names)
    # Nouns first (a level, a kind), then the sentences that may use them.
    for prefixes in (("noun.",), ("reason.", "action.", "rule.")):
        worded = dict(fields)
        for name in WORDED_FIELDS:
            value = fields.get(name)
            if not isinstance(value, str) or not value:
                continue
            for prefix in prefixes:
                if prefix + value in _catalog("en"):
                    others = {k: v for k, v in fields.items() if k != name}
                    worded[name] = text(prefix + value, lang, **others, opt=names)
                    break
        fields = worded
    option = fields.get("option")
    if isinstance(option, str):
        fields["option"] = names[option]
    fields["opt"] = names
    return " ".join(text(error.key, lang, **fields).split())
