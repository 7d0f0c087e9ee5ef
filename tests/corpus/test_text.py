"""Normalisation, segmentation, substantive length, hashes and dates."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from groundcode.corpus.text import (
    content_hash,
    normalise,
    parse_date,
    segment,
    substantive_length,
)


def test_normalise_line_ends_nfc_bom_and_blank_ends() -> None:
    raw = "\ufeff\r\n  \n\u3000\u3000第一段\r\n第二段e\u0301\r\r\n\n  \n"
    out = normalise(raw)
    assert out == "\u3000\u3000第一段\n第二段\u00e9"
    assert normalise(out) == out  # idempotent: the service may normalise again


def test_normalise_keeps_inner_blank_lines_and_spaces() -> None:
    assert normalise("a  b\n\n\nc") == "a  b\n\n\nc"


def test_content_hash_is_of_the_normalised_text() -> None:
    assert content_hash("健康码\r\n") == content_hash("健康码")
    assert content_hash("健康码") != content_hash("健康碼")
    assert len(content_hash("x")) == 64


def _texts(text: str, spans: list[tuple[int, int]]) -> list[str]:
    return [text[a:b] for a, b in spans]


def test_paragraph_spans_exclude_line_whitespace() -> None:
    text = "\u3000\u3000健康码互认。  \n\n   \n数据共享\t"
    spans = segment(text, "paragraph")
    assert _texts(text, spans) == ["健康码互认。", "数据共享"]
    assert spans[0] == (2, 8)


def test_sentence_mode_splits_chinese_and_western_ends() -> None:
    text = "他说：“健康码很方便。”我同意！真的吗？是的……好\nIt works. Version 3.5 is fine.Next"
    got = _texts(text, segment(text, "sentence"))
    assert got == [
        "他说：“健康码很方便。”",
        "我同意！",
        "真的吗？",
        "是的……",
        "好",
        "It works.",
        "Version 3.5 is fine.Next",
    ]


def test_sentence_mode_keeps_closing_brackets_after_a_period() -> None:
    text = "He said (it was fine.) Then left."
    assert _texts(text, segment(text, "sentence")) == ["He said (it was fine.)", "Then left."]


def test_whole_mode_and_blank_text() -> None:
    text = "\n  甲\n\n乙  \n"
    assert _texts(text, segment(text, "whole")) == ["甲\n\n乙"]
    assert segment("  \n ", "paragraph") == []
    assert segment("", "whole") == []
    with pytest.raises(ValueError):
        segment("x", "chapter")


def test_substantive_length_drops_decorations_but_keeps_hashtag_words() -> None:
    text = "//@小王: #健康码# 好用！！😀 https://t.cn/abc123 @张三 ok 2022"
    # 健康码 (3) + 好用 (2) + ok (2) + 2022 (4)
    assert substantive_length(text) == 11
    assert substantive_length("。。。！！ 😀😀 http://x.cn/a") == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2022-03-01", "2022-03-01"),
        ("2022/3/1", "2022-03-01"),
        ("2022.3.1", "2022-03-01"),
        ("20220301", "2022-03-01"),
        ("2022年3月1日", "2022-03-01"),
        ("2022年3月1日 12:30", "2022-03-01 12:30:00"),
        ("2022-03-01 12:30", "2022-03-01 12:30:00"),
        ("2022-03-01T12:30:05+08:00", "2022-03-01 12:30:05"),
        (" 2022-03-01 08:00:00 ", "2022-03-01 08:00:00"),
        (datetime(2022, 3, 1, 9, 5), "2022-03-01 09:05:00"),
        (datetime(2022, 3, 1), "2022-03-01"),
        (date(2022, 3, 1), "2022-03-01"),
        (pd.Timestamp("2022-03-01 10:00"), "2022-03-01 10:00:00"),
        (None, None),
        ("  ", None),
        (pd.NaT, None),
        (float("nan"), None),
    ],
)
def test_parse_date_accepts_common_forms(value: object, expected: str | None) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    "value", ["yesterday", "2022-13-01", "03/01/2022", "2022年2月30日", 44621, "12:30"]
)
def test_parse_date_refuses_the_rest(value: object) -> None:
    with pytest.raises(ValueError, match="cannot read date"):
        parse_date(value)
