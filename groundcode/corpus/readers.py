"""Reading input files into raw documents (no database here).

One document per file for .txt .md .html .docx .pdf; one per row for .csv
.xlsx .jsonl. Row numbers in messages are what a spreadsheet shows: the
header is row 1, the first data row is row 2 (for .jsonl: the line number).
Every problem is one ``UsageError`` naming the file and row.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from groundcode.corpus.encoding import decode_bytes
from groundcode.corpus.safezip import check_zip
from groundcode.corpus.text import normalise, parse_date
from groundcode.errors import UsageError

MAX_BYTES = 100 * 1024 * 1024
FILE_FORMATS = (".txt", ".md", ".html", ".htm", ".docx", ".pdf")
ROW_FORMATS = (".csv", ".xlsx", ".jsonl")

TEXT_COLUMNS = ("text", "content", "comment", "body", "内容", "正文", "评论", "文本", "评论内容", "微博正文")
TITLE_COLUMNS = ("title", "标题", "题目")
DATE_COLUMNS = ("date", "time", "datetime", "created_at", "日期", "时间", "发布时间", "发表时间")
VIEWS_COLUMNS = ("views", "view", "reads", "阅读量", "浏览量", "阅读数", "点赞", "点赞数", "likes")
URL_COLUMNS = ("url", "link", "链接", "网址")
AUTHOR_COLUMNS = ("author", "user", "username", "作者", "用户", "用户名", "昵称", "来源")


@dataclass(frozen=True)
class RawDocument:
    text: str
    title: str | None = None
    author: str | None = None
    date: str | None = None
    url: str | None = None
    views: int | None = None
    meta: dict[str, str] = field(default_factory=dict)
    origin_row: int | None = None


def _first_line_title(text: str) -> str | None:
    for line in text.split("\n"):
        s = line.strip().lstrip("#").strip()
        if s:
            return s[:200]
    return None


class _HTMLText(HTMLParser):
    BLOCKS = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article",
              "blockquote", "pre", "table", "ul", "ol", "header", "footer"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.title: str | None = None
        self._in_title = False
        self.h1: str | None = None
        self._in_h1 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "noscript", "template"):
            self.skip += 1
        if tag == "title":
            self._in_title = True
        if tag == "h1":
            self._in_h1 = True
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "noscript", "template") and self.skip:
            self.skip -= 1
        if tag == "title":
            self._in_title = False
        if tag == "h1":
            self._in_h1 = False
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title = (self.title or "") + data.strip()
            return
        if self.skip:
            return
        if self._in_h1 and not self.h1:
            self.h1 = data.strip()
        self.parts.append(data)


def _read_html(path: Path, raw: bytes) -> RawDocument:
    parser = _HTMLText()
    parser.feed(decode_bytes(raw, str(path)))
    lines = [re.sub(r"[ \t\u3000]+", " ", ln).strip() for ln in "".join(parser.parts).split("\n")]
    text = normalise("\n".join(ln for ln in lines if ln))
    return RawDocument(text=text, title=parser.title or parser.h1 or _first_line_title(text))


def _read_docx(path: Path) -> RawDocument:
    check_zip(path, ".docx")
    try:
        import docx
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise UsageError(f"{path}: python-docx is not installed") from exc
    try:
        d = docx.Document(str(path))
    except Exception as exc:  # noqa: BLE001 - any parse failure is one clear message
        raise UsageError(f"{path}: not a valid .docx ({type(exc).__name__})") from None
    lines = [p.text for p in d.paragraphs]
    for table in d.tables:
        for row in table.rows:
            lines.extend(cell.text for cell in row.cells)
    text = normalise("\n".join(lines))
    title = (d.core_properties.title or "").strip() or _first_line_title(text)
    return RawDocument(text=text, title=title, author=(d.core_properties.author or None))


def _read_pdf(path: Path) -> RawDocument:
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError as exc:  # pragma: no cover
        raise UsageError(f"{path}: pypdf is not installed") from exc
    try:
        reader = PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise UsageError(f"{path}: not a readable PDF ({type(exc).__name__})") from None
    text = normalise("\n".join(pages))
    if not text.strip():
        raise UsageError(f"{path}: no text layer (scanned PDF?)")
    meta = reader.metadata
    title = (meta.title if meta and meta.title else None) or _first_line_title(text)
    return RawDocument(text=text, title=title)


def _pick(columns: Sequence[str], wanted: str | None, guesses: Iterable[str], path: Path, what: str) -> str | None:
    lower = {c.strip().lower(): c for c in columns}
    if wanted:
        key = wanted.strip().lower()
        if key not in lower:
            raise UsageError(f"{path}: no column '{wanted}' for the {what} (columns: {', '.join(columns)})")
        return lower[key]
    for g in guesses:
        if g.lower() in lower:
            return lower[g.lower()]
    return None


def _views(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise UsageError(f"{where}: views must be a number, not '{value}'")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    text = str(value).strip().replace(",", "").replace("，", "")
    if not text:
        return None
    mult = 1
    if text.endswith("万"):
        mult, text = 10_000, text[:-1]
    elif text.endswith("亿"):
        mult, text = 100_000_000, text[:-1]
    elif text.lower().endswith(("w", "k")):
        mult, text = (10_000 if text.lower().endswith("w") else 1_000), text[:-1]
    try:
        return int(round(float(text) * mult))
    except ValueError:
        raise UsageError(f"{where}: views must be a number, not '{str(value)[:20]}'") from None


def _rows_to_docs(
    path: Path,
    columns: list[str],
    rows: Iterable[tuple[int, dict[str, Any]]],
    *,
    text_column: str | None,
    title_column: str | None,
    date_column: str | None,
    views_column: str | None,
    url_column: str | None,
    author_column: str | None,
) -> list[RawDocument]:
    tcol = _pick(columns, text_column, TEXT_COLUMNS, path, "text")
    if tcol is None:
        raise UsageError(f"{path}: no text column (use --text-column; columns: {', '.join(columns)})")
    ti = _pick(columns, title_column, TITLE_COLUMNS, path, "title")
    da = _pick(columns, date_column, DATE_COLUMNS, path, "date")
    vi = _pick(columns, views_column, VIEWS_COLUMNS, path, "views")
    ur = _pick(columns, url_column, URL_COLUMNS, path, "url")
    au = _pick(columns, author_column, AUTHOR_COLUMNS, path, "author")
    used = {c for c in (tcol, ti, da, vi, ur, au) if c}
    out: list[RawDocument] = []
    for rowno, row in rows:
        if all(v is None or str(v).strip() == "" for v in row.values()):
            continue
        where = f"{path}: row {rowno}"
        raw_text = row.get(tcol)
        text = normalise("" if raw_text is None else str(raw_text))
        if not text.strip():
            raise UsageError(f"{where}: empty text")
        try:
            date = parse_date(row.get(da)) if da else None
        except ValueError as exc:
            raise UsageError(f"{where}: {exc}") from None

        def cell(col: str | None, row: dict[str, Any] = row) -> str | None:
            if not col:
                return None
            v = row.get(col)
            s = "" if v is None else str(v).strip()
            return s or None

        meta = {k: str(v) for k, v in row.items() if k not in used and v is not None and str(v).strip() != ""}
        out.append(RawDocument(text=text, title=cell(ti), author=cell(au), date=date, url=cell(ur),
                               views=_views(row.get(vi), where) if vi else None, meta=meta, origin_row=rowno))
    return out


def _read_csv(path: Path, raw: bytes, **cols: str | None) -> list[RawDocument]:
    text = decode_bytes(raw, str(path))
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise UsageError(f"{path}: row {line}: NUL byte in the file")
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    # The header line decides the delimiter; quoting stays standard (csv.Sniffer guesses
    # wrong on cells such as =HYPERLINK("..","..")).
    first = text.split("\n", 1)[0]
    delimiter = max(",\t;|", key=first.count) if any(d in first for d in ",\t;|") else ","
    reader = csv.reader(io.StringIO(text, newline=""), csv.excel, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise UsageError(f"{path}: empty file") from None
    except csv.Error as exc:
        raise UsageError(f"{path}: row 1: {exc}") from None
    header = [h.strip().lstrip("\ufeff") for h in header]
    if len(set(header)) != len(header):
        raise UsageError(f"{path}: row 1: repeated column names")

    def rows() -> Iterable[tuple[int, dict[str, Any]]]:
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise UsageError(f"{path}: row {reader.line_num}: {exc}") from None
            if len(values) > len(header) and any(v.strip() for v in values[len(header):]):
                raise UsageError(f"{path}: row {reader.line_num}: {len(values)} cells for {len(header)} columns")
            yield reader.line_num, dict(zip(header, values + [""] * (len(header) - len(values)), strict=False))

    return _rows_to_docs(path, header, rows(), **cols)  # type: ignore[arg-type]


def _read_xlsx(path: Path, **cols: str | None) -> list[RawDocument]:
    check_zip(path, ".xlsx")
    try:
        from openpyxl import load_workbook
    except ImportError as exc:  # pragma: no cover
        raise UsageError(f"{path}: openpyxl is not installed") from exc
    try:
        wb = load_workbook(str(path), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - a damaged workbook is one clear message
        raise UsageError(f"{path}: not a valid .xlsx ({type(exc).__name__})") from None
    try:
        ws = wb.worksheets[0]
        it = ws.iter_rows(values_only=True)
        try:
            header_row = next(it)
        except StopIteration:
            raise UsageError(f"{path}: empty workbook") from None
        header = ["" if h is None else str(h).strip() for h in header_row]

        def rows() -> Iterable[tuple[int, dict[str, Any]]]:
            for i, values in enumerate(it, start=2):
                yield i, {h: v for h, v in zip(header, values, strict=False) if h}

        return _rows_to_docs(path, [h for h in header if h], rows(), **cols)  # type: ignore[arg-type]
    finally:
        wb.close()


def _read_jsonl(path: Path, raw: bytes, **cols: str | None) -> list[RawDocument]:
    text = decode_bytes(raw, str(path))
    records: list[tuple[int, dict[str, Any]]] = []
    columns: list[str] = []
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}: row {lineno}: not JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise UsageError(f"{path}: row {lineno}: each line must be a JSON object")
        for k in obj:
            if k not in columns:
                columns.append(k)
        records.append((lineno, {k: (v if not isinstance(v, dict | list) else json.dumps(v, ensure_ascii=False))
                                 for k, v in obj.items()}))
    if not records:
        raise UsageError(f"{path}: empty file")
    return _rows_to_docs(path, columns, records, **cols)  # type: ignore[arg-type]


def read_file(
    path: Path,
    *,
    text_column: str | None = None,
    title_column: str | None = None,
    date_column: str | None = None,
    views_column: str | None = None,
    url_column: str | None = None,
    author_column: str | None = None,
    max_bytes: int = MAX_BYTES,
) -> list[RawDocument]:
    """Documents from one file, or a one-line UsageError naming the file (and row)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FILE_FORMATS + ROW_FORMATS:
        raise UsageError(f"{path}: unsupported file type (supported: {' '.join(FILE_FORMATS + ROW_FORMATS)})")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror})") from None
    if size > max_bytes:
        raise UsageError(f"{path}: {size / 1024 / 1024:.1f} MB is over the {max_bytes // (1024 * 1024)} MB limit")
    if size == 0:
        raise UsageError(f"{path}: empty file")
    cols = dict(text_column=text_column, title_column=title_column, date_column=date_column,
                views_column=views_column, url_column=url_column, author_column=author_column)
    if suffix == ".docx":
        docs = [_read_docx(path)]
    elif suffix == ".xlsx":
        return _read_xlsx(path, **cols)
    elif suffix == ".pdf":
        docs = [_read_pdf(path)]
    else:
        raw = path.read_bytes()
        if suffix in (".html", ".htm"):
            docs = [_read_html(path, raw)]
        elif suffix == ".csv":
            return _read_csv(path, raw, **cols)
        elif suffix == ".jsonl":
            return _read_jsonl(path, raw, **cols)
        else:
            text = normalise(decode_bytes(raw, str(path)))
            docs = [RawDocument(text=text, title=_first_line_title(text))]
    for d in docs:
        if not d.text.strip():
            raise UsageError(f"{path}: no text in the file")
    return docs
