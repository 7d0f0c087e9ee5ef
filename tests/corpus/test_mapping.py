"""Column guesses from header names and the import preview (groundcode.corpus.mapping)."""

from __future__ import annotations

from pathlib import Path

import pytest

from groundcode.corpus.mapping import check_mapping, guess_columns, options_for, preview, read_table
from groundcode.domain.errors import NoColumn

ROOT = Path(__file__).resolve().parents[2]
GB = ROOT / "corpora" / "health-code" / "4-selfmedia" / "comments-gb18030.csv"


def test_crawl_export_headers_are_guessed() -> None:
    cols = ["微博正文", "发布时间", "转发数", "链接", "用户昵称", "标题", "id"]
    assert guess_columns(cols) == {
        "text": "微博正文",
        "title": "标题",
        "date": "发布时间",
        "views": "转发数",
        "url": "链接",
        "author": "用户昵称",
    }
    assert guess_columns(["评论内容", "创建时间", "播放量"])["text"] == "评论内容"
    assert guess_columns(["评论内容", "创建时间", "播放量"])["date"] == "创建时间"
    assert guess_columns(["content", "created_at", "views", "url", "author", "title"]) == {
        "text": "content",
        "title": "title",
        "date": "created_at",
        "views": "views",
        "url": "url",
        "author": "author",
    }
    assert guess_columns(["a", "b"]) == dict.fromkeys(guess_columns(["a"]), None)


def test_gb18030_preview_is_what_the_import_stores(project) -> None:  # type: ignore[no-untyped-def]
    table = read_table(GB)
    assert table.encoding == "GB18030"
    mapping = guess_columns(table.columns)
    mapping["author"] = None  # the user turns a guess off: the import must not guess it again
    shown = preview(table, mapping)
    assert len(shown.rows) == 20 and not shown.errors
    report = project.corpus.import_files([GB], type=4, **options_for(mapping))
    stored = project.corpus.documents()
    assert report.documents == 305
    first = project.corpus.document(stored["number"].iloc[0])
    doc = shown.rows[0].document
    assert doc is not None
    assert (first.text, first.date, first.views, first.url) == (
        doc.text,
        doc.date,
        doc.views,
        doc.url,
    )
    assert first.author is None and doc.author is None
    assert "author" in first.meta


def test_a_column_that_does_not_exist_is_refused() -> None:
    table = read_table(GB)
    with pytest.raises(NoColumn, match="no column '正文'"):
        check_mapping(table, {**guess_columns(table.columns), "text": "正文"})


def test_an_empty_text_column_shows_the_row_errors(tmp_path: Path) -> None:
    f = tmp_path / "empty.csv"
    f.write_text("text,date\n,2021-01-01\n,2021-01-02\n", encoding="utf-8")
    shown = preview(read_table(f), guess_columns(["text", "date"]))
    assert [r.row for r in shown.errors] == [2, 3]
    assert all("empty text" in (r.error or "") for r in shown.errors)
