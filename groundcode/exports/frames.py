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

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from groundcode.errors import UsageError
from groundcode.exports.safety import atomic_output, neutralise

if TYPE_CHECKING:
    import pandas as pd
    from openpyxl.worksheet.worksheet import Worksheet

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


def _fill_sheet(ws: Worksheet, df: pd.DataFrame, *, widths: bool) -> None:
    """Header in bold with a filter and a frozen row; wrap and widths from the content."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    columns = [str(c) for c in df.columns]
    ws.append([xlsx_value(c) for c in columns])
    for row in df.itertuples(index=False, name=None):
        ws.append([xlsx_value(v) for v in row])
    if not columns:
        return
    bold = Font(bold=True)
    for cell in ws[1]:
        cell.font = bold
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(ws.max_row, 1)}"
    for idx, name in enumerate(columns, start=1):
        letter = get_column_letter(idx)
        longest = max(
            [display_width(name)] + [display_width(cell_text(v)) for v in df.iloc[:, idx - 1]]
        )
        if widths:
            ws.column_dimensions[letter].width = min(max(longest, 6), MAX_WIDTH) + 2
        if longest > WRAP_FROM:
            wrap = Alignment(wrap_text=True, vertical="top")
            for (cell,) in ws.iter_rows(min_row=2, min_col=idx, max_col=idx):
                cell.alignment = wrap


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
        raise UsageError(f"{path}: exports are written as {', '.join(FRAME_SUFFIXES)}")
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
        raise UsageError(f"{path}: several sheets need an .xlsx file")
    if not sheets:
        raise UsageError(f"{path}: nothing to write (no sheets)")
    with atomic_output(path, force=force) as tmp:
        wb = Workbook()
        wb.remove(wb.active)
        used: set[str] = set()
        for name, df in sheets.items():
            title = sheet_title(str(name))
            n = 2
            while title.lower() in used:
                title = f"{sheet_title(str(name))[:28]}_{n}"
                n += 1
            used.add(title.lower())
            _fill_sheet(wb.create_sheet(title), df, widths=widths)
        wb.save(tmp)
    return path
