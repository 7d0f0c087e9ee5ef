"""Generic tabular exports: one DataFrame (or several sheets) to xlsx, csv, md or json.

Used for the data exports (coded segments, code matrix, memos, agreement,
saturation data). The format follows the file's suffix so the CLI needs one
``--output`` option only. Every file goes through ``atomic_output`` and every
text cell in xlsx/csv through ``neutralise`` (SPEC §6); Markdown and JSON are
never opened by a spreadsheet as formulas, so they carry the text unchanged.

The small helpers here (display width, cell values for openpyxl, Markdown
tables) are shared with the paper-table writers in ``tables.py``.
"""

from __future__ import annotations

import contextlib
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from groundcode.domain.errors import BadOption, InvalidInput
from groundcode.exports.safety import atomic_output, neutralise

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "FRAME_SUFFIXES",
    "cell_text",
    "display_width",
    "md_escape",
    "md_table",
    "write_frame",
    "write_frames",
    "xlsx_value",
]

FRAME_SUFFIXES = (".xlsx", ".csv", ".md", ".json")

#: Widest column in characters (CJK counted double); longer text wraps instead.
MAX_WIDTH = 60
#: Columns whose longest cell exceeds this get wrap text in xlsx.
WRAP_FROM = 40

# Control characters the xlsx XML cannot hold (openpyxl raises on them).
_ILLEGAL_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_INVALID_SHEET = re.compile(r"[\[\]:*?/\\]")


def display_width(text: str) -> int:
    """Width of the longest line in terminal/Excel columns: wide (CJK) characters count two.

    Column widths computed from ``len`` are half as wide as Chinese text needs.
    """
    best = 0
    for line in str(text).splitlines() or [""]:
        w = sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in line)
        best = max(best, w)
    return best


def _missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    # pandas' NA and NaT are not equal to themselves / not comparable.
    return type(value).__name__ in ("NAType", "NaTType")


def cell_text(value: object) -> str:
    """Plain text of a cell for csv/md/tex/docx: missing values become the empty string."""
    if _missing(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def xlsx_value(value: object) -> Any:
    """A value openpyxl can store safely: numbers and dates as such, the rest as neutralised text."""
    if _missing(value):
        return None
    import numpy as np

    if isinstance(value, np.integer | np.floating | np.bool_):
        value = value.item()
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)  # Excel has no inf
    if isinstance(value, datetime):
        # Excel has no time zones; keep the wall time and say which zone in text.
        return value.isoformat(sep=" ") if value.tzinfo is not None else value
    if isinstance(value, date):
        return value
    return neutralise(_ILLEGAL_XLSX.sub("", str(value)))


def md_escape(value: object) -> str:
    """Cell text for a GitHub table: pipes escaped, line breaks as ``<br>``."""
    text = cell_text(value).replace("|", "\\|")
    return "<br>".join(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))


def md_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A GitHub-flavoured Markdown table, ending with a newline."""
    lines = [
        "| " + " | ".join(md_escape(h) for h in header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    for row in rows:
        lines.append("| " + " | ".join(md_escape(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def sheet_title(name: str) -> str:
    """A name Excel accepts for a sheet: no ``[]:*?/\\``, at most 31 characters."""
    clean = _INVALID_SHEET.sub("_", name).strip("'") or "Sheet"
    return clean[:31]


def _longest(values: Iterable[object], header: str) -> int:
    """The widest cell of a column (``display_width`` of its text), counted once per distinct value.

    Only the outcome matters: the width is capped at ``MAX_WIDTH`` and wrapping
    starts above ``WRAP_FROM``, so the scan stops once a cell reaches the cap, and a
    cell whose text cannot beat the best so far (at most two columns per character)
    is not measured.
    """
    best = display_width(header)
    cap = max(MAX_WIDTH, WRAP_FROM + 1)
    for v in values:
        t = cell_text(v)
        if 2 * len(t) <= best:
            continue
        best = max(best, display_width(t))
        if best >= cap:
            break
    return best


def _column_cells(series: pd.Series) -> tuple[list[Any], list[object]]:
    """A column's xlsx values, converted once per distinct value, and its distinct values.

    Values are told apart by type as well (``1``, ``1.0`` and ``True`` are equal keys
    in a dict but different cells).
    """
    values = series.tolist()
    converted: dict[tuple[type, object], Any] = {}
    out = []
    try:
        for v in values:
            key = (type(v), v)
            if key not in converted:
                converted[key] = xlsx_value(v)
            out.append(converted[key])
    except TypeError:  # unhashable cells (lists, dicts) are converted one by one
        return [xlsx_value(v) for v in values], values
    return out, [v for _, v in converted]


def _fill_sheet(ws: Any, df: pd.DataFrame, *, widths: bool) -> None:
    """Header in bold with a filter and a frozen row; wrap and widths from the content.

    ``ws`` is a write-only sheet: column widths, the frozen row and the filter are
    set before the rows stream out, and only cells of wrapped columns carry a style.
    """
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    columns = [str(c) for c in df.columns]
    if not columns:
        ws.append([])
        return
    cells: list[list[Any]] = []
    wrapped: list[int] = []
    for idx, name in enumerate(columns, start=1):
        values, distinct = _column_cells(df.iloc[:, idx - 1])
        cells.append(values)
        longest = _longest(distinct, name)
        if widths:
            ws.column_dimensions[get_column_letter(idx)].width = min(max(longest, 6), MAX_WIDTH) + 2
        if longest > WRAP_FROM:
            wrapped.append(idx - 1)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(df) + 1}"
    bold = Font(bold=True)
    header = []
    for c in columns:
        cell = WriteOnlyCell(ws, xlsx_value(c))
        cell.font = bold
        header.append(cell)
    ws.append(header)
    wrap = Alignment(wrap_text=True, vertical="top")
    for j in wrapped:
        styled = []
        for v in cells[j]:
            cell = WriteOnlyCell(ws, v)
            cell.alignment = wrap
            styled.append(cell)
        cells[j] = styled
    for row in zip(*cells, strict=True):
        ws.append(list(row))


def _neutralised(df: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells are neutralised (numbers untouched), for csv."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or str(out[col].dtype) in ("string", "str"):
            out[col] = out[col].map(neutralise).astype(object)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def write_frame(
    df: pd.DataFrame,
    path: Path,
    *,
    force: bool = False,
    sheet_name: str = "Sheet1",
    widths: bool = True,
) -> Path:
    """Write ``df`` in the format its suffix names (.xlsx, .csv, .md, .json) and return the path.

    csv is UTF-8 with a BOM so Excel on Chinese Windows opens it without
    mojibake; json is a list of records with Chinese kept as is.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FRAME_SUFFIXES:
        raise BadOption(option="output", value=str(path), allowed=", ".join(FRAME_SUFFIXES))
    if suffix == ".xlsx":
        return write_frames({sheet_name: df}, path, force=force, widths=widths)
    with atomic_output(path, force=force) as tmp:
        if suffix == ".csv":
            _neutralised(df).to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n")
        elif suffix == ".md":
            tmp.write_text(
                md_table([str(c) for c in df.columns], df.itertuples(index=False, name=None)),
                encoding="utf-8",
            )
        else:
            text = df.to_json(orient="records", force_ascii=False, date_format="iso", indent=2)
            tmp.write_text((text or "[]") + "\n", encoding="utf-8")
    return path


def write_frames(
    sheets: dict[str, pd.DataFrame], path: Path, *, force: bool = False, widths: bool = True
) -> Path:
    """Write several DataFrames as the sheets of one xlsx workbook (in dict order)."""
    from openpyxl import Workbook

    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise BadOption(option="output", value=str(path), allowed=".xlsx")
    if not sheets:
        raise InvalidInput(str(path), 0, "no_sheets")
    with atomic_output(path, force=force) as tmp:
        # Write-only: rows stream to the file instead of living as cell objects, so
        # a 200k-row sheet neither takes gigabytes nor a per-cell save pass.
        wb = Workbook(write_only=True)
        used: set[str] = set()
        try:
            for name, df in sheets.items():
                title = sheet_title(str(name))
                n = 2
                while title.lower() in used:
                    title = f"{sheet_title(str(name))[:28]}_{n}"
                    n += 1
                used.add(title.lower())
                _fill_sheet(wb.create_sheet(title), df, widths=widths)
            wb.save(tmp)
        except BaseException:
            _discard_streams(wb)
            raise
    return path


def _discard_streams(wb: Any) -> None:
    """Close the write-only sheets' streams after a failed write (a full disk).

    Each sheet streams into its own temporary file through a suspended generator;
    left to the garbage collector, closing it flushes into the same full disk and
    Python prints that second failure as a traceback after the one-line error.
    """
    for ws in wb.worksheets:
        writer = getattr(ws, "_writer", None)
        if writer is None:
            continue
        with contextlib.suppress(Exception):
            writer.xf.close()
        with contextlib.suppress(Exception):
            writer.cleanup()
