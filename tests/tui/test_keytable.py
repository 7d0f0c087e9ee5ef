"""README's TUI chapter is the app's own key tables (regenerate: python -m groundcode.tui.keytable README.md)."""

from __future__ import annotations

from pathlib import Path

from groundcode.tui.app import STUDY_KEYS, GroundcodeApp
from groundcode.tui.keytable import END, START, render, screens

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_keys_match_the_app() -> None:
    text = README.read_text(encoding="utf-8")
    chapter = START + text.split(START, 1)[1].split(END, 1)[0] + END
    assert chapter == render(), (
        "README's TUI keys drifted: run python -m groundcode.tui.keytable README.md"
    )


def test_every_study_screen_has_a_global_key_and_a_table() -> None:
    bound = {k.key for k in GroundcodeApp.KEYS}
    assert {key for key, _, _ in STUDY_KEYS.values()} <= bound
    titles = [t for t, _, _ in screens()]
    for _, _, en in STUDY_KEYS.values():
        assert any(t.startswith(en) for t in titles)
    for _, _, keys in screens():
        assert len({k.key for k in keys}) == len(keys)  # no key bound twice on one screen
