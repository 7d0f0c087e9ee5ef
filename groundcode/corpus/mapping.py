"""Column mapping for spreadsheet imports: guesses from header names and a faithful preview.

A researcher importing a crawl export (微博, 抖音, 知乎 ...) should not have to
know our field names: ``guess_columns`` reads the header in Chinese or English
and proposes which column is the text, the date, the view count and so on;
every guess can be changed. ``preview`` then shows the first rows exactly as
the import will store them, because it runs the same row reader
(``readers._rows_to_docs``) on them, so what the user approves is what they get.
Pure functions, no database: the CLI and the TUI share them.
"""

from __future__ import annotations

import codecs
import csv
import io
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from groundcode.corpus.encoding import BOMS, CHINESE_CODECS, decode_bytes
from groundcode.corpus.readers import (
    AUTHOR_COLUMNS,
    DATE_COLUMNS,
    FILE_FORMATS,
    MAX_BYTES,
    ROW_FORMATS,
    TEXT_COLUMNS,
    TITLE_COLUMNS,
    URL_COLUMNS,
    VIEWS_COLUMNS,
    RawDocument,
    _delimiter,
    _rows_to_docs,
    jsonl_rows,
    open_workbook,
    sheet_rows,
)
from groundcode.domain.errors import BadRow, FileProblem, GroundcodeError, NoColumn

FIELDS = ("text", "title", "date", "views", "url", "author")
PREVIEW_ROWS = 20

# Header names of common Chinese platform crawls (微博, 抖音, B站, 知乎, 小红书 ...)
# beside the readers' own; compared case-insensitively, earlier names win.
GUESSES: dict[str, tuple[str, ...]] = {
    "text": (
        *TEXT_COLUMNS,
        "微博内容",
        "评论正文",
        "回答内容",
        "笔记内容",
        "弹幕内容",
        "message",
    ),
    "title": (*TITLE_COLUMNS, "文章标题", "视频标题", "笔记标题", "问题"),
    "date": (
        *DATE_COLUMNS,
        "创建时间",
        "发帖时间",
        "回复时间",
        "发布日期",
        "published_at",
        "timestamp",
    ),
    "views": (
        *VIEWS_COLUMNS,
        "阅读数",
        "播放量",
        "播放数",
        "转发数",
        "评论数",
        "点赞数",
        "点赞量",
        "转发量",
        "评论量",
        "reposts",
        "shares",
    ),
    "url": (*URL_COLUMNS, "微博链接", "原文链接", "地址", "link_url"),
    "author": (
        *AUTHOR_COLUMNS,
        "用户昵称",
        "博主昵称",
        "发布者",
        "昵称",
        "用户名称",
        "screen_name",
        "nickname",
    ),
}


def is_row_format(path: Path | str) -> bool:
    """Whether ``path`` holds one document per row (and so needs a column mapping)."""
    return Path(path).suffix.lower() in ROW_FORMATS


def is_readable(path: Path | str) -> bool:
    """Whether ``path`` has an extension the importer reads."""
    return Path(path).suffix.lower() in FILE_FORMATS + ROW_FORMATS


def guess_columns(columns: list[str]) -> dict[str, str | None]:
    """For each field, the column its header name suggests (or ``None``); a column serves one field."""
    lower: dict[str, str] = {}
    for c in columns:
        lower.setdefault(c.strip().lower(), c)
    taken: set[str] = set()
    out: dict[str, str | None] = {}
    for fld in FIELDS:
        out[fld] = None
        for name in GUESSES[fld]:
            col = lower.get(name.lower())
            if col is not None and col not in taken:
                out[fld] = col
                taken.add(col)
                break
    return out


@dataclass(frozen=True)
class Table:
    """The header and the first rows of a spreadsheet file, with the encoding it was read in."""

    path: Path
    columns: list[str]
    rows: list[tuple[int, dict[str, Any]]]
    encoding: str | None  # None for .xlsx (a zip of XML, always UTF-8 inside)
    unit: str = "row"


@dataclass(frozen=True)
class PreviewRow:
    """One row as the import would store it, or the error the import would stop at."""

    row: int
    document: RawDocument | None
    error: str | None = None
    # The typed error behind ``error`` (English), so a front end can word it in its language.
    problem: GroundcodeError | None = None


@dataclass(frozen=True)
class Preview:
    columns: list[str]
    encoding: str | None
    rows: list[PreviewRow] = field(default_factory=list)

    @property
    def errors(self) -> list[PreviewRow]:
        return [r for r in self.rows if r.error]


def detect_encoding(data: bytes, text: str) -> str:
    """The codec ``decode_bytes`` used to produce ``text`` from ``data`` (its order of trust)."""
    for bom, codec in BOMS:
        if data.startswith(bom):
            return {"utf-8-sig": "UTF-8 (BOM)", "utf-16": "UTF-16", "utf-32": "UTF-32"}[codec]
    for codec in ("utf-16-le", "utf-16-be"):
        if data[:2] and data.count(b"\x00") > len(data) // 4:
            try:
                if data.decode(codec) == text:
                    return "UTF-16"
            except UnicodeDecodeError:
                pass
    try:
        data.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        pass
    for codec in CHINESE_CODECS:
        try:
            if data.decode(codec) == text:
                return codecs.lookup(codec).name.upper()
        except UnicodeDecodeError:
            continue
    return "GB18030"


def read_table(path: Path | str, *, limit: int = PREVIEW_ROWS) -> Table:
    """The header and first ``limit`` records of a .csv/.xlsx/.jsonl file (errors name the file)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in ROW_FORMATS:
        raise FileProblem(str(path), 0, "not_a_spreadsheet", " ".join(ROW_FORMATS))
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise FileProblem(
            str(path), 0, "cannot_read_cause", cause=exc.strerror or type(exc).__name__
        ) from None
    if size == 0:
        raise FileProblem(str(path), 0, "empty_file")
    if size > MAX_BYTES:
        raise FileProblem(str(path), 0, "too_large_to_import")
    if suffix == ".xlsx":
        return _xlsx_table(path, limit)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FileProblem(
            str(path), 0, "cannot_read_cause", cause=exc.strerror or type(exc).__name__
        ) from None
    text = decode_bytes(raw, str(path))
    encoding = detect_encoding(raw, text)
    if text.startswith("\ufeff"):
        text = text[1:]
    if suffix == ".jsonl":
        return _jsonl_table(path, text, encoding, limit)
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    nl = text.find("\n")
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=_delimiter(text[: nl if nl >= 0 else 5000])
    )
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise FileProblem(str(path), 0, "empty_file") from None
    except csv.Error as exc:
        raise BadRow(str(path), 1, "csv_error", str(exc)) from None
    rows: list[tuple[int, dict[str, Any]]] = []
    rowno = 1
    for values in reader:
        rowno += 1
        values = values + [""] * (len(header) - len(values))
        rows.append((rowno, {h: v for h, v in zip(header, values, strict=False) if h}))
        if len(rows) >= limit:
            break
    return Table(path, [h for h in header if h], rows, encoding)


def _jsonl_table(path: Path, text: str, encoding: str, limit: int) -> Table:
    columns: list[str] = []
    rows = jsonl_rows(path, text, columns, limit)
    return Table(path, columns, rows, encoding, unit="line")


def _xlsx_table(path: Path, limit: int) -> Table:
    wb = open_workbook(path)
    try:
        header, rows = sheet_rows(path, wb.worksheets[0].iter_rows(values_only=True), limit)
    finally:
        wb.close()
    return Table(path, [h for h in header if h], rows, None)


def options_for(mapping: dict[str, str | None]) -> dict[str, str | None]:
    """The ``import_files``/``read_file`` keyword arguments for a field -> column mapping.

    An unmapped field becomes ``""`` (no column, no guessing), so the import
    stores exactly what the preview showed.
    """
    return {f"{fld}_column": mapping.get(fld) or "" for fld in FIELDS}


def check_mapping(table: Table, mapping: dict[str, str | None]) -> None:
    """Refuse a mapping that names a column the file does not have, or has no text column."""
    for fld in FIELDS:
        col = mapping.get(fld)
        if col and col.strip().lower() not in {c.strip().lower() for c in table.columns}:
            raise NoColumn(str(table.path), col, fld, ", ".join(table.columns))
    if not mapping.get("text"):
        raise FileProblem(str(table.path), 0, "no_text_column_chosen")


def preview(table: Table, mapping: dict[str, str | None]) -> Preview:
    """The first rows as the import will store them: the importer's own row reader, row by row."""
    check_mapping(table, mapping)
    options = options_for(mapping)
    out: list[PreviewRow] = []
    for rowno, row in table.rows:
        try:
            docs = _rows_to_docs(table.path, table.columns, [(rowno, row)], options, table.unit)
        except GroundcodeError as exc:
            out.append(PreviewRow(rowno, None, str(exc), exc))
            continue
        if docs:
            out.append(PreviewRow(rowno, docs[0]))
    return Preview(table.columns, table.encoding, out)
