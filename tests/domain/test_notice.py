"""Warnings the core hands to front ends read as English strings and word in zh too."""

from __future__ import annotations

import json
import pickle

from groundcode.domain.notice import Notice, say
from groundcode.domain.wording import text


def test_a_notice_is_its_english_words_and_words_itself_in_zh() -> None:
    w = Notice("notice.line_ends", name="a.txt")
    assert w == "a.txt: line ends normalised to LF; positions remapped"
    assert json.dumps([w]) == json.dumps(["a.txt: line ends normalised to LF; positions remapped"])
    assert say(w, "zh") == "a.txt：换行符统一为 LF；位置已重新映射"
    assert say("plain words", "zh") == "plain words"
    again = pickle.loads(pickle.dumps(w))
    assert isinstance(again, Notice) and again.word("zh") == w.word("zh")


def test_every_notice_id_has_both_languages() -> None:
    from pathlib import Path

    from groundcode.domain.wording import LOCALE_DIR

    ids = [
        line.split('"')[1]
        for line in Path(LOCALE_DIR / "en" / "LC_MESSAGES" / "notices.po").read_text().splitlines()
        if line.startswith('msgid "notice.')
    ]
    assert len(ids) >= 20
    for key in ids:
        assert text(key, "zh") != text(key, "en"), key


def test_a_statistics_reason_in_a_chinese_note_is_worded_in_chinese() -> None:
    from groundcode.analysis import stats
    from groundcode.analysis.agreement_core import Note, stat_reason

    all_applied = f"{stats.NO_VARIATION} (both applied it to all 12)"
    note = Note("kappa_undefined", {"reason": all_applied})
    assert all_applied in note.text("en")
    assert "12" in note.text("zh") and "no variation" not in note.text("zh")
    for reason in (stats.NO_UNITS, stats.NO_VARIATION, "undefined"):
        assert stat_reason(reason, "en") == reason
        assert stat_reason(reason, "zh") != reason
