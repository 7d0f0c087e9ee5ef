"""Reading input files into raw documents (pure functions, no database).

One document per file for ``.txt .md .html .htm .docx .pdf``; one per row for
``.csv .xlsx .jsonl``. Every problem is one typed error line naming the file
and, for row formats, the row, so the researcher can find it.

Row numbers are what a spreadsheet shows: the header is row 1 and the first
data record is row 2 (for ``.csv`` a record with a quoted multi-line cell is
still one row, as in Excel; blank lines count as rows, as Excel shows them).
For ``.jsonl`` messages name the ``line`` (and ``origin_row`` is the line
number). Problems found before the records are split (NUL bytes) name the
physical ``line`` of the file.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from groundcode.corpus.encoding import decode_bytes
from groundcode.corpus.safezip import check_zip
from groundcode.corpus.text import normalise, parse_date
from groundcode.domain import csv_rows
from groundcode.domain.errors import BadRow, FileProblem, GroundcodeError, InvalidInput, NoColumn

MAX_BYTES = 100 * 1024 * 1024
FILE_FORMATS = (".txt", ".md", ".html", ".htm", ".docx", ".pdf")
ROW_FORMATS = (".csv", ".xlsx", ".jsonl")
SUPPORTED = FILE_FORMATS + ROW_FORMATS

# Auto-detected column names, compared case-insensitively, first match wins.
TEXT_COLUMNS = (
    "text",
    "content",
    "comment",
    "body",
    "内容",
    "正文",
    "评论",
    "文本",
    "评论内容",
    "微博正文",
)
TITLE_COLUMNS = ("title", "标题", "题目")
DATE_COLUMNS = (
    "date",
    "time",
    "datetime",
    "created_at",
    "日期",
    "时间",
    "发布时间",
    "发表时间",
    "评论时间",
)
VIEWS_COLUMNS = ("views", "view", "reads", "likes", "阅读量", "浏览量", "阅读数", "点赞", "点赞数")
URL_COLUMNS = ("url", "link", "链接", "网址")
AUTHOR_COLUMNS = ("author", "user", "username", "作者", "用户", "用户名", "昵称")


@dataclass(frozen=True)
class RawDocument:
    """One document as read from a file, before it gets a number and passages."""

    text: str
    title: str | None = None
    author: str | None = None
    date: str | None = None
    url: str | None = None
    views: int | None = None
    meta: dict[str, str] = field(default_factory=dict)
    origin_row: int | None = None


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n} bytes"


def _limit(n: int) -> str:
    if n >= 1024 * 1024 and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MB"
    return _size(n)


def _first_line_title(text: str, *, markdown: bool = False) -> str | None:
    for line in text.split("\n"):
        s = line.strip()
        if markdown:
            s = s.lstrip("#").strip()
        if s:
            return s[:200]
    return None


# -- one document per file -------------------------------------------------


class _HTMLText(HTMLParser):
    """Visible text of an HTML page: block elements become line breaks, scripts and styles vanish."""

    BLOCKS = frozenset(
        [
            "p",
            "div",
            "br",
            "li",
            "dt",
            "dd",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "tr",
            "td",
            "th",
            "section",
            "article",
            "aside",
            "blockquote",
            "pre",
            "table",
            "ul",
            "ol",
            "dl",
            "header",
            "footer",
            "nav",
            "main",
            "figure",
            "figcaption",
            "hr",
            "form",
            "address",
            "caption",
        ]
    )
    HIDDEN = frozenset(("script", "style", "noscript", "template", "head", "svg"))

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0
        self.pre = 0
        self.title: str | None = None
        self.h1: str | None = None
        self._title_buf: list[str] | None = None
        self._h1_buf: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag == "title" and self.title is None:
            self._title_buf = []
        elif tag == "h1" and self.h1 is None:
            self._h1_buf = []
        if tag == "pre":
            self.pre += 1
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN and self.hidden:
            self.hidden -= 1
        elif tag == "title" and self._title_buf is not None:
            self.title = " ".join("".join(self._title_buf).split()) or None
            self._title_buf = None
        elif tag == "h1" and self._h1_buf is not None:
            self.h1 = " ".join("".join(self._h1_buf).split()) or None
            self._h1_buf = None
        if tag == "pre" and self.pre:
            self.pre -= 1
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._title_buf is not None:
            self._title_buf.append(data)
            return
        if self.hidden:
            return
        if self._h1_buf is not None:
            self._h1_buf.append(data)
        # Source line breaks are just spaces in HTML, except inside <pre> (which keeps
        # its line breaks; lines are stripped afterwards, so not its indentation).
        self.parts.append(data if self.pre else re.sub(r"\s+", " ", data))


def _read_html(path: Path, raw: bytes) -> RawDocument:
    parser = _HTMLText()
    try:
        parser.feed(decode_bytes(raw, str(path)))
        parser.close()
    except GroundcodeError:
        raise
    except Exception as exc:  # noqa: BLE001 - html.parser is lenient; anything left is one clear line
        raise FileProblem(str(path), 0, "html_unreadable", type(exc).__name__) from None
    lines = [ln.strip(" \t") for ln in "".join(parser.parts).split("\n")]
    text = normalise("\n".join(ln for ln in lines if ln.strip()))
    return RawDocument(text=text, title=parser.title or parser.h1 or _first_line_title(text))


def _docx_lines(document: Any) -> list[str]:
    """Paragraphs and table cells in document order, one line each (merged cells once)."""
    from docx.table import Table

    lines: list[str] = []

    def table_lines(table: Any) -> None:
        for row in table.rows:
            seen: set[int] = set()
            for cell in row.cells:
                if id(cell._tc) in seen:  # a merged cell appears once per grid column it spans
                    continue
                seen.add(id(cell._tc))
                for block in cell.iter_inner_content():
                    if isinstance(block, Table):
                        table_lines(block)
                    else:
                        lines.append(block.text)

    for block in document.iter_inner_content():
        if isinstance(block, Table):
            table_lines(block)
        else:
            lines.append(block.text)
    return lines


def _read_docx(path: Path) -> RawDocument:
    check_zip(path, ".docx")
    import docx

    try:
        d = docx.Document(str(path))
        text = normalise("\n".join(_docx_lines(d)))
        props = d.core_properties
        title = (props.title or "").strip() or None
        author = (props.author or "").strip() or None
    except Exception as exc:  # noqa: BLE001 - any parse failure of a damaged file is one clear line
        raise FileProblem(str(path), 0, "docx_invalid", type(exc).__name__) from None
    return RawDocument(text=text, title=title or _first_line_title(text), author=author)


def _read_pdf(path: Path) -> RawDocument:
    import logging
    import warnings

    from pypdf import PdfReader

    # pypdf logs its repairs of damaged files ("EOF marker not found"); the user
    # gets our one line or the text, not library chatter on stderr.
    log = logging.getLogger("pypdf")
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(str(path))
            if reader.is_encrypted:
                raise FileProblem(str(path), 0, "pdf_encrypted")
            pages = [page.extract_text() or "" for page in reader.pages]
            meta = reader.metadata
            title = str(meta.title).strip() if meta is not None and meta.title else None
    except GroundcodeError:
        raise
    except Exception as exc:  # noqa: BLE001 - pypdf raises many kinds on damaged files
        raise FileProblem(str(path), 0, "pdf_unreadable", type(exc).__name__) from None
    finally:
        log.setLevel(level)
    text = normalise("\n".join(p.strip("\n") for p in pages))
    if not text.strip():
        raise FileProblem(str(path), 0, "pdf_no_text")
    return RawDocument(text=text, title=title or _first_line_title(text))


# -- one document per row ----------------------------------------------------


def _pick(
    columns: Sequence[str], wanted: str | None, guesses: Iterable[str], path: Path, what: str
) -> str | None:
    if wanted is not None and not wanted.strip():
        return None  # "" means "no column for this field": do not guess one
    lower: dict[str, str] = {}
    for c in columns:
        lower.setdefault(c.strip().lower(), c)
    if wanted:
        key = wanted.strip().lower()
        if key not in lower:
            raise NoColumn(str(path), wanted, what, ", ".join(columns))
        return lower[key]
    for g in guesses:
        if g.lower() in lower:
            return lower[g.lower()]
    return None


_UNITS = {"万": 10_000, "w": 10_000, "亿": 100_000_000, "千": 1_000, "k": 1_000}


MAX_VIEWS = 2**63 - 1  # the largest integer the database stores


@dataclass(frozen=True)
class _Where:
    """A row (or line) of a table file, for the errors that name it."""

    path: Path
    unit: str
    row: int

    def bad(self, reason: str, detail: str = "", limit: int = 0) -> BadRow:
        return BadRow(str(self.path), self.row, reason, detail, unit=self.unit, limit=limit)


def _views(value: Any, where: _Where) -> int | None:
    """A count such as ``1234``, ``1,234``, ``1.2万`` or ``3万``; empty is None."""
    count = _views_value(value, where)
    if count is not None and count > MAX_VIEWS:
        raise where.bad("views_too_large", str(value).strip()[:30])
    return count


def _views_value(value: Any, where: _Where) -> int | None:
    if value is None or isinstance(value, bool):
        if isinstance(value, bool):
            raise where.bad("views_not_whole", str(value))
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if not math.isfinite(value) or value != int(value) or value < 0:
            raise where.bad("views_not_whole", str(value))
        return int(value)
    if isinstance(value, int):
        if value < 0:
            raise where.bad("views_not_whole", str(value))
        return value
    raw = str(value).strip()
    text = raw.replace(",", "").replace("，", "").replace(" ", "").lower()
    if not text:
        return None
    mult = 1
    if text[-1:] in _UNITS:
        mult, text = _UNITS[text[-1]], text[:-1]
    if not re.fullmatch(r"\d+(?:\.\d+)?", text) or (
        mult == 1 and "." in text and float(text) != int(float(text))
    ):
        raise where.bad("views_not_whole", raw[:30])
    return int(round(float(text) * mult))


def _cell(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    s = str(value).strip()
    return s or None


def _blank(value: Any) -> bool:
    return _cell(value) is None


def _rows_to_docs(
    path: Path,
    columns: list[str],
    rows: Iterable[tuple[int, dict[str, Any]]],
    options: dict[str, str | None],
    unit: str = "row",
    progress: Callable[[int, int], None] | None = None,
    estimate: int = 0,
) -> list[RawDocument]:
    if len({c.strip().lower() for c in columns}) != len(columns):
        dup = sorted(
            {
                c
                for c in columns
                if [x.strip().lower() for x in columns].count(c.strip().lower()) > 1
            }
        )
        raise BadRow(str(path), 1, "repeated_columns", ", ".join(dup))
    tcol = _pick(columns, options.get("text_column"), TEXT_COLUMNS, path, "text")
    if tcol is None:
        raise InvalidInput(str(path), 0, "no_text_column", ", ".join(columns) or "-")
    title = _pick(columns, options.get("title_column"), TITLE_COLUMNS, path, "title")
    date_col = _pick(columns, options.get("date_column"), DATE_COLUMNS, path, "date")
    views = _pick(columns, options.get("views_column"), VIEWS_COLUMNS, path, "views")
    url = _pick(columns, options.get("url_column"), URL_COLUMNS, path, "url")
    author = _pick(columns, options.get("author_column"), AUTHOR_COLUMNS, path, "author")
    used = {c for c in (tcol, title, date_col, views, url, author) if c}
    out: list[RawDocument] = []
    for rowno, row in rows:
        if progress is not None and rowno % 2000 == 0:
            progress(rowno, max(estimate, rowno))
        if all(_blank(v) for v in row.values()):
            continue
        where = _Where(path, unit, rowno)
        raw_text = _cell(row.get(tcol))
        if raw_text is None:
            raise where.bad("empty_text")
        text = normalise(str(row.get(tcol)))
        try:
            date = parse_date(row.get(date_col)) if date_col else None
        except ValueError:
            shown = str(row.get(date_col or "")).strip()[:40]
            raise where.bad("date_unreadable", shown) from None
        meta = {k: str(v) for k, v in row.items() if k not in used and not _blank(v)}
        out.append(
            RawDocument(
                text=text,
                title=_cell(row.get(title)) if title else None,
                author=_cell(row.get(author)) if author else None,
                date=date,
                url=_cell(row.get(url)) if url else None,
                views=_views(row.get(views), where) if views else None,
                meta=meta,
                origin_row=rowno,
            )
        )
    return out


def _delimiter(first_line: str) -> str:
    """Comma unless the header line clearly uses tabs or semicolons (Excel in some locales)."""
    counts = {d: first_line.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def _read_csv(
    path: Path,
    raw: bytes,
    options: dict[str, str | None],
    progress: Callable[[int, int], None] | None = None,
) -> list[RawDocument]:
    text = decode_bytes(raw, str(path))  # refuses NUL bytes, naming the line
    if text.startswith("\ufeff"):
        text = text[1:]
    nl = text.find("\n")
    # Strict: an unterminated quote is refused with its line, never swallows the file.
    records = csv_rows.rows(text, str(path), delimiter=_delimiter(text[: nl if nl >= 0 else 5000]))
    try:
        header = [h.strip() for h in next(records)[1]]
    except StopIteration:
        raise FileProblem(str(path), 0, "empty_file") from None
    if not any(header):
        raise BadRow(str(path), 1, "header_empty")

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        for rowno, values in records:
            if len(values) > len(header) and any(v.strip() for v in values[len(header) :]):
                raise BadRow(
                    str(path), rowno, "too_many_cells", str(len(values)), limit=len(header)
                )
            values = values + [""] * (len(header) - len(values))
            yield rowno, {h: v for h, v in zip(header, values, strict=False) if h}

    estimate = text.count("\n") if progress is not None else 0
    return _rows_to_docs(
        path, [h for h in header if h], rows(), options, progress=progress, estimate=estimate
    )


def _xlsx_formulas(path: Path, sheet: str | None, wanted: dict[int, int]) -> dict[int, Any]:
    """Formulas as written for cells that have no cached value (row -> value); never evaluated."""
    from openpyxl import load_workbook

    wb = load_workbook(str(path), read_only=True, data_only=False)
    try:
        ws = wb[sheet] if sheet else wb.worksheets[0]
        found: dict[int, Any] = {}
        last = max(wanted)
        for rowno, values in enumerate(ws.iter_rows(values_only=True), start=1):
            if rowno in wanted and wanted[rowno] < len(values):
                found[rowno] = values[wanted[rowno]]
            if rowno >= last:
                break
        return found
    finally:
        wb.close()


def open_workbook(path: Path) -> Any:
    """An .xlsx file opened read-only with cached values; a damaged one is one clear line.

    The reader and the mapping preview open workbooks the same way, so a file
    the preview accepts is one the import can read.
    """
    check_zip(path, ".xlsx")
    from openpyxl import load_workbook

    try:
        return load_workbook(str(path), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - a damaged workbook is one clear line
        raise FileProblem(str(path), 0, "xlsx_invalid", type(exc).__name__) from None


def sheet_rows(
    path: Path, grid: Iterator[tuple[Any, ...]], limit: int | None = None
) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    """A sheet's header (blank names kept, so positions line up) and its rows by row number.

    Each row maps the non-blank header names to its cells; ``limit`` stops
    after that many rows (the preview reads only a few).
    """
    header_row = next(grid, None)
    if header_row is None:
        raise FileProblem(str(path), 0, "empty_workbook")
    header = ["" if h is None else str(h).strip() for h in header_row]
    rows: list[tuple[int, dict[str, Any]]] = []
    for rowno, values in enumerate(grid, start=2):
        rows.append((rowno, {h: v for h, v in zip(header, values, strict=False) if h}))
        if limit is not None and len(rows) >= limit:
            break
    return header, rows


def _read_xlsx(
    path: Path,
    options: dict[str, str | None],
    sheet: str | None,
    progress: Callable[[int, int], None] | None = None,
) -> list[RawDocument]:
    wb = open_workbook(path)
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise FileProblem(str(path), 0, "no_sheet", ", ".join(wb.sheetnames), name=sheet)
        ws = wb[sheet] if sheet else wb.worksheets[0]
        header, table = sheet_rows(path, ws.iter_rows(values_only=True))
    except GroundcodeError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise FileProblem(str(path), 0, "xlsx_invalid", type(exc).__name__) from None
    finally:
        wb.close()
    columns = [h for h in header if h]
    # A formula saved without a cached result reads as empty with data_only; use
    # the formula text as written rather than report an empty row.
    tcol = _pick(columns, options.get("text_column"), TEXT_COLUMNS, path, "text")
    if tcol is not None:
        idx = header.index(tcol)
        missing = {
            rowno: idx
            for rowno, row in table
            if _blank(row.get(tcol)) and not all(_blank(v) for v in row.values())
        }
        if missing:
            try:
                formulas = _xlsx_formulas(path, sheet, missing)
            except Exception as exc:  # noqa: BLE001
                raise FileProblem(str(path), 0, "xlsx_invalid", type(exc).__name__) from None
            for rowno, row in table:
                if rowno in formulas and not _blank(formulas[rowno]):
                    row[tcol] = str(formulas[rowno])
    return _rows_to_docs(path, columns, table, options, progress=progress, estimate=len(table))


def jsonl_rows(
    path: Path, text: str, columns: list[str], limit: int | None = None
) -> list[tuple[int, dict[str, Any]]]:
    """Rows of a JSON-lines text as (line number, row), the columns collected in order.

    The importer and the import preview both read through here, so the
    preview shows exactly what the import will store.
    """
    records: list[tuple[int, dict[str, Any]]] = []
    known: set[str] = set(columns)
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            msg = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
            raise BadRow(str(path), lineno, "json_invalid", msg, unit="line") from None
        if not isinstance(obj, dict):
            raise BadRow(str(path), lineno, "json_not_object", unit="line")
        row: dict[str, Any] = {}
        for k, v in obj.items():
            if k not in known:
                known.add(k)
                columns.append(k)
            row[k] = json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v
        records.append((lineno, row))
        if limit is not None and len(records) >= limit:
            break
    return records


def _read_jsonl(
    path: Path,
    raw: bytes,
    options: dict[str, str | None],
    progress: Callable[[int, int], None] | None = None,
) -> list[RawDocument]:
    text = decode_bytes(raw, str(path))
    columns: list[str] = []
    records = jsonl_rows(path, text, columns)
    if not records:
        raise FileProblem(str(path), 0, "no_json_lines")
    return _rows_to_docs(
        path, columns, records, options, unit="line", progress=progress, estimate=len(records)
    )


def read_file(
    path: Path,
    *,
    text_column: str | None = None,
    title_column: str | None = None,
    date_column: str | None = None,
    views_column: str | None = None,
    url_column: str | None = None,
    author_column: str | None = None,
    sheet: str | None = None,
    max_bytes: int = MAX_BYTES,
    progress: Callable[[int, int], None] | None = None,
) -> list[RawDocument]:
    """Documents from one file, or a one-line typed error naming the file (and row).

    Column options name a column (case-insensitively); without them the usual
    names are detected. Columns not used for a field go to ``meta`` as strings.
    ``sheet`` picks an .xlsx worksheet (default: the first). ``progress(rows, estimate)``
    is called every 2,000 rows of a row format; raising in it stops the read.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise FileProblem(
            str(path),
            0,
            "unsupported_type" if suffix else "unsupported_type_none",
            " ".join(SUPPORTED),
            name=suffix,
        )
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise FileProblem(
            str(path), 0, "cannot_read_cause", cause=exc.strerror or type(exc).__name__
        ) from None
    if size > max_bytes:
        raise FileProblem(str(path), 0, "over_size_limit", _size(size), name=_limit(max_bytes))
    if size == 0:
        raise FileProblem(str(path), 0, "empty_file")
    options: dict[str, str | None] = {
        "text_column": text_column,
        "title_column": title_column,
        "date_column": date_column,
        "views_column": views_column,
        "url_column": url_column,
        "author_column": author_column,
    }
    if suffix == ".xlsx":
        docs = _read_xlsx(path, options, sheet, progress)
    elif suffix == ".docx":
        docs = [_read_docx(path)]
    elif suffix == ".pdf":
        docs = [_read_pdf(path)]
    else:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise FileProblem(
                str(path), 0, "cannot_read_cause", cause=exc.strerror or type(exc).__name__
            ) from None
        if suffix == ".csv":
            docs = _read_csv(path, raw, options, progress)
        elif suffix == ".jsonl":
            docs = _read_jsonl(path, raw, options, progress)
        elif suffix in (".html", ".htm"):
            docs = [_read_html(path, raw)]
        else:
            text = normalise(decode_bytes(raw, str(path)))
            docs = [RawDocument(text=text, title=_first_line_title(text, markdown=suffix == ".md"))]
    if suffix in FILE_FORMATS and not docs[0].text.strip():
        raise FileProblem(str(path), 0, "no_text_in_file")
    return docs
