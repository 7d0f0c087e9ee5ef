"""Generic DataFrame exports and the small report writers."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from groundcode.domain.errors import AlreadyExists, BadOption, InvalidInput
from groundcode.exports.docs import write_report_docx, write_report_md
from groundcode.exports.frames import display_width, write_frame, write_frames

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
INJECT = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tTAB", "\rCR"]
LONG = "健康码数据集中式采集，通过数据库与个体填报获取信息数据，" * 3


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "document": ["1-1", "2-5", "4-13"] + ["3-1"] * len(INJECT),
            "start": [0, 12, 7] + list(range(len(INJECT))),
            "score": [-5, 0.5, None] + [1.0] * len(INJECT),
            "text": [LONG, "a|b", "-5"] + INJECT,
        }
    )


def test_display_width_counts_cjk_double() -> None:
    assert display_width("abc") == 3
    assert display_width("健康码") == 6
    assert display_width("ab\n健康码x") == 7


def test_xlsx(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    path = write_frame(frame(), tmp_path / "segments.xlsx", sheet_name="segments")
    ws = load_workbook(path)["segments"]
    assert [c.value for c in ws[1]] == ["document", "start", "score", "text"]
    assert all(c.font.b for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:D{len(frame()) + 1}"
    assert ws["B3"].value == 12 and ws["C2"].value == -5 and ws["C4"].value is None
    assert ws["D2"].value == LONG and ws["D2"].alignment.wrap_text
    assert not ws["A2"].alignment.wrap_text
    assert ws["D4"].value == "-5"
    assert [ws.cell(row=5 + i, column=4).value for i in range(len(INJECT))] == [
        "'" + v for v in INJECT
    ]
    assert ws.column_dimensions["D"].width > ws.column_dimensions["A"].width


def test_csv(tmp_path: Path) -> None:
    path = write_frame(frame(), tmp_path / "segments.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["document", "start", "score", "text"]
    assert rows[1][3] == LONG and rows[2][3] == "a|b" and rows[3][3] == "-5"
    assert rows[1][2] == "-5.0"  # numbers are never prefixed
    assert [r[3] for r in rows[4:]] == ["'" + v for v in INJECT]


def test_md_and_json_keep_text(tmp_path: Path) -> None:
    md = write_frame(frame(), tmp_path / "segments.md").read_text(encoding="utf-8")
    lines = md.strip().splitlines()
    assert len(lines) == 2 + len(frame())
    assert all(len(re.split(r"(?<!\\)\|", ln)) == 6 for ln in lines)
    assert "| 2-5 | 12 | 0.5 | a\\|b |" in md
    assert "=1+1" in md and "'=1+1" not in md
    data = json.loads(
        (write_frame(frame(), tmp_path / "segments.json")).read_text(encoding="utf-8")
    )
    assert data[0]["text"] == LONG and data[3]["text"] == "=1+1"
    assert "健康码" in (tmp_path / "segments.json").read_text(encoding="utf-8")


def test_multi_sheet(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    summary = pd.DataFrame({"statistic": ["kappa"], "value": [0.85]})
    path = write_frames(
        {"summary": summary, "per/code": frame(), "empty": pd.DataFrame()},
        tmp_path / "agreement.xlsx",
    )
    wb = load_workbook(path)
    assert wb.sheetnames == ["summary", "per_code", "empty"]
    assert wb["summary"]["B2"].value == 0.85
    assert wb["per_code"]["D5"].value == "'=1+1"
    with pytest.raises(BadOption, match="xlsx"):
        write_frames({"a": summary}, tmp_path / "a.csv")


def test_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(BadOption, match=r"a\.pdf"):
        write_frame(frame(), tmp_path / "a.pdf")


@pytest.mark.parametrize("suffix", [".xlsx", ".csv", ".md", ".json"])
def test_overwrite_needs_force(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"out{suffix}"
    write_frame(frame(), path)
    before = path.read_bytes()
    with pytest.raises(AlreadyExists):
        write_frame(frame().head(1), path)
    assert path.read_bytes() == before
    write_frame(frame().head(1), path, force=True)
    assert path.read_bytes() != before
    assert list(tmp_path.iterdir()) == [path]


class Boom:
    """A cell whose text cannot be made: the writer fails half-way through the file."""

    def __str__(self) -> str:
        raise RuntimeError("cannot render")

    __repr__ = __str__


@pytest.mark.parametrize("suffix", [".xlsx", ".csv", ".md"])
def test_failure_mid_write_leaves_no_file(tmp_path: Path, suffix: str) -> None:
    bad = pd.DataFrame({"a": ["ok", "ok", Boom()]}, dtype=object)
    with pytest.raises(RuntimeError):
        write_frame(bad, tmp_path / f"out{suffix}")
    assert list(tmp_path.iterdir()) == []


def test_failure_keeps_the_old_file(tmp_path: Path) -> None:
    path = write_frame(frame(), tmp_path / "out.csv")
    before = path.read_bytes()
    with pytest.raises(RuntimeError):
        write_frame(pd.DataFrame({"a": [Boom()]}, dtype=object), path, force=True)
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]


# -- reports -------------------------------------------------------------------------

SECTIONS: list[tuple[str, str | pd.DataFrame]] = [
    ("Verdict", "saturated / 已饱和 (basis: holdout)\n- no new concept\n- 3 of 3 coded"),
    (
        "New concepts",
        pd.DataFrame({"concept": ["数据真实性", "a|b"], "category": ["信息安全", ""]}),
    ),
    ("Model / 模型", "◎ 健康码信息共享\n▣ 情境背景\n   └ 突发公共卫生事件\n"),
    ("Diagram", "```mermaid\ngraph TD\n  a --> b\n```"),
]


def test_report_md(tmp_path: Path) -> None:
    text = write_report_md(
        tmp_path / "r.md", title="Theoretical saturation / 理论饱和度检验", sections=SECTIONS
    ).read_text(encoding="utf-8")
    assert text.startswith("# Theoretical saturation / 理论饱和度检验\n")
    assert [ln for ln in text.splitlines() if ln.startswith("## ")] == [
        f"## {h}" for h, _ in SECTIONS
    ]
    assert "- no new concept" in text
    assert "| concept | category |" in text and "| a\\|b |  |" in text
    assert "```text\n◎ 健康码信息共享" in text
    assert text.count("```") == 4
    with pytest.raises(AlreadyExists):
        write_report_md(tmp_path / "r.md", title="x", sections=[])


def test_report_docx(tmp_path: Path) -> None:
    import docx

    path = write_report_docx(tmp_path / "r.docx", title="理论饱和度检验", sections=SECTIONS)
    doc = docx.Document(str(path))
    heads = [p.text for p in doc.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    assert heads == ["理论饱和度检验"] + [h for h, _ in SECTIONS]
    bullets = [p.text for p in doc.paragraphs if p.style.name == "List Bullet"]
    assert bullets == ["no new concept", "3 of 3 coded"]
    (table,) = doc.tables
    assert [[c.text for c in r.cells] for r in table.rows] == [
        ["concept", "category"],
        ["数据真实性", "信息安全"],
        ["a|b", ""],
    ]
    assert table._tbl.tblPr.find(f"{W}tblBorders/{W}top").get(f"{W}val") == "single"
    assert table._tbl.tblPr.find(f"{W}tblBorders/{W}insideV").get(f"{W}val") == "nil"
    mono = [p for p in doc.paragraphs if "健康码信息共享" in p.text]
    assert mono and mono[0].runs[0]._r.rPr.rFonts.get(f"{W}ascii") == "Consolas"
    assert any("graph TD" in p.text for p in doc.paragraphs)
    assert not any("```" in p.text for p in doc.paragraphs)
    with pytest.raises(InvalidInput, match="section"):
        write_report_docx(tmp_path / "bad.docx", title="x", sections=[("only heading",)])  # type: ignore[list-item]
    assert not (tmp_path / "bad.docx").exists()


def _reference_xlsx(df: pd.DataFrame, path: Path) -> None:
    """The writer as it was before streaming (a normal openpyxl workbook), kept as the reference."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    from groundcode.exports.frames import MAX_WIDTH, WRAP_FROM, cell_text, xlsx_value

    wb = Workbook()
    ws = wb.active
    ws.title = "segments"
    columns = [str(c) for c in df.columns]
    ws.append([xlsx_value(c) for c in columns])
    for row in df.itertuples(index=False, name=None):
        ws.append([xlsx_value(v) for v in row])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(ws.max_row, 1)}"
    for idx, name in enumerate(columns, start=1):
        letter = get_column_letter(idx)
        longest = max(
            [display_width(name)] + [display_width(cell_text(v)) for v in df.iloc[:, idx - 1]]
        )
        ws.column_dimensions[letter].width = min(max(longest, 6), MAX_WIDTH) + 2
        if longest > WRAP_FROM:
            for (cell,) in ws.iter_rows(min_row=2, min_col=idx, max_col=idx):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    wb.save(path)


def test_streamed_xlsx_equals_the_reference_cell_by_cell(tmp_path: Path) -> None:
    """Values, types, bold header, wrapping, widths, frozen row and filter as before streaming."""
    from datetime import UTC, date, datetime

    from openpyxl import load_workbook

    n = 40
    df = pd.DataFrame(
        {
            "id": range(n),
            "passage": pd.array([None if i % 7 == 0 else i for i in range(n)], dtype="Int64"),
            "flag": [i % 3 == 0 for i in range(n)],
            "mixed": [[1, 1.0, True, "1", None, float("nan")][i % 6] for i in range(n)],
            "when": [datetime(2022, 3, 1, 12, i, tzinfo=UTC) for i in range(n)],
            "day": [date(2022, 1, 1 + i % 28) for i in range(n)],
            "short": ["红码" if i % 2 else "ab" for i in range(n)],
            "lines": ["第一行\n" + "健康码" * (i % 15) for i in range(n)],
            "text": [LONG[: 5 + 3 * i] for i in range(n)],
            "inject": [INJECT[i % len(INJECT)] + "\x07" for i in range(n)],
        }
    )
    new = write_frame(df, tmp_path / "new.xlsx", sheet_name="segments")
    _reference_xlsx(df, tmp_path / "ref.xlsx")
    a = load_workbook(new)["segments"]
    b = load_workbook(tmp_path / "ref.xlsx")["segments"]
    assert (a.max_row, a.max_column) == (b.max_row, b.max_column) == (n + 1, len(df.columns))
    for ra, rb in zip(a.iter_rows(), b.iter_rows(), strict=True):
        for ca, cb in zip(ra, rb, strict=True):
            assert (ca.value, ca.data_type) == (cb.value, cb.data_type), ca.coordinate
            assert ca.font.b == cb.font.b and ca.alignment.wrap_text == cb.alignment.wrap_text
            assert ca.alignment.vertical == cb.alignment.vertical, ca.coordinate
    for letter in "ABCDEFGHIJ":
        assert a.column_dimensions[letter].width == b.column_dimensions[letter].width, letter
    assert a.freeze_panes == b.freeze_panes == "A2"
    assert a.auto_filter.ref == b.auto_filter.ref
