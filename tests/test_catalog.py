"""The message catalogs: both languages carry every id, and the compiled .mo files are fresh."""

from __future__ import annotations

import gettext
import io
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from groundcode.domain import errors as E
from groundcode.domain.wording import LOCALE_DIR, word

PO_FILES = sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po"))


def _ids(lang: str) -> set[str]:
    ids: set[str] = set()
    for po in (LOCALE_DIR / lang / "LC_MESSAGES").glob("*.po"):
        with po.open("rb") as fh:
            ids |= {str(m.id) for m in read_po(fh) if m.id}
    return ids


def test_both_languages_have_the_same_ids() -> None:
    zh, en = _ids("zh"), _ids("en")
    assert zh - en == set(), "ids only in zh"
    assert en - zh == set(), "ids only in en"


@pytest.mark.parametrize("po", PO_FILES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_compiled_catalog_is_fresh(po: Path) -> None:
    with po.open("rb") as fh:
        catalog = read_po(fh)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    expected = gettext.GNUTranslations(buf)._catalog  # type: ignore[attr-defined]
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo} missing: run ./dev catalog"
    with mo.open("rb") as fh:
        actual = gettext.GNUTranslations(fh)._catalog  # type: ignore[attr-defined]
    # The header entry carries compile-time dates; the messages are what must match.
    actual.pop("", None)
    expected.pop("", None)
    assert actual == expected, f"{mo} is stale: run ./dev catalog"


def test_typed_errors_are_worded_in_both_languages() -> None:
    err = E.NotFound(kind="document", name="2-5")
    assert word(err, "en") == "no document 2-5"
    assert word(err, "zh") == "没有文本 2-5"
    assert str(err) == "no document 2-5"
    opt = E.BadOption(option="force", value="x")
    assert "--force" in word(opt, "en", option_names={"force": "--force"})
