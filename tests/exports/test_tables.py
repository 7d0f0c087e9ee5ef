"""Table 1 and Table 2 in every format, opened with the library that reads the format."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from groundcode.domain.errors import AlreadyExists, BadOption, OutOfRange
from groundcode.exports.tables import (
    FORMATS,
    Table1Row,
    Table2Group,
    concepts_text,
    latex_escape,
    table1_frame,
    table2_frame,
    write_tables,
)

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
SPECIAL = "指标|A & 50% 的 x_y"


def t1_rows() -> list[Table1Row]:
    return [
        Table1Row(
            "1",
            "危害性",
            "新冠肺炎疫情对公众的危害",
            [("危及生命安全", ["2-5", "2-7"]), ("合并基础疾病", ["2-7"])],
        ),
        Table1Row("2", "传染性", "传染特征", [(SPECIAL, ["1-6"]), ("未见于文本", [])]),
        Table1Row("3", "突发性", None, [("潜伏期不定", ["2-3"])]),
    ]


def t2_groups() -> list[Table2Group]:
    return [
        Table2Group(
            "情境背景",
            [
                ("1", "突发公共卫生事件", ["危害性", "传染性"]),
                ("2", "健康码驱动因素", ["精准防控", "复工复产"]),
                ("3", "社会动员", ["突发性"]),
            ],
        ),
        Table2Group("信息采集", [("4", "采集方式", ["采集主体", "采集方法"])]),
    ]


def write(tmp_path: Path, fmt: str, lang: str = "zh", **kw: object) -> list[Path]:
    return write_tables(t1_rows(), t2_groups(), fmt=fmt, lang=lang, out_dir=tmp_path, **kw)  # type: ignore[arg-type]


# -- frames ----------------------------------------------------------------------------


def test_table1_frame_matches_the_paper_layout() -> None:
    zh = table1_frame(t1_rows(), lang="zh")
    assert list(zh.columns) == ["编号", "初步范畴", "初始概念及分类"]
    assert zh.iloc[0, 2] == "新冠肺炎疫情对公众的危害：危及生命安全（2-5），合并基础疾病（2-7）"
    assert zh.iloc[1, 2] == f"传染特征：{SPECIAL}（1-6），未见于文本"
    assert zh.iloc[2, 2] == "潜伏期不定（2-3）"
    en = table1_frame(t1_rows(), lang="en", refs=2)
    assert list(en.columns) == ["No.", "Initial category", "Initial concepts"]
    assert en.iloc[0, 2] == "新冠肺炎疫情对公众的危害: 危及生命安全 (2-5, 2-7), 合并基础疾病 (2-7)"


def test_refs_count() -> None:
    row = t1_rows()[0]
    assert (
        concepts_text(row, refs=2)
        == "新冠肺炎疫情对公众的危害：危及生命安全（2-5、2-7），合并基础疾病（2-7）"
    )
    assert concepts_text(row, refs=0) == "新冠肺炎疫情对公众的危害：危及生命安全，合并基础疾病"
    assert concepts_text(Table1Row("9", "空", "只有定义", [])) == "只有定义"


def test_table2_frame_repeats_relation_class() -> None:
    zh = table2_frame(t2_groups(), lang="zh")
    assert list(zh.columns) == ["关系类别", "编号", "主范畴", "初步范畴"]
    assert zh["关系类别"].tolist() == ["情境背景"] * 3 + ["信息采集"]
    assert zh.iloc[0, 3] == "危害性、传染性"
    en = table2_frame(t2_groups(), lang="en")
    assert list(en.columns) == ["Relation class", "No.", "Main category", "Initial categories"]
    assert en.iloc[3, 3] == "采集主体, 采集方法"


# -- xlsx ----------------------------------------------------------------------------


def test_xlsx_cells_merges_and_styles(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    (path,) = write(tmp_path, "xlsx")
    assert path == tmp_path / "tables.xlsx"
    wb = load_workbook(path)
    assert wb.sheetnames == ["表1", "表2"]
    ws1, ws2 = wb["表1"], wb["表2"]
    assert ws1["A1"].value.startswith("表1 ")
    assert [c.value for c in ws1[2]] == ["编号", "初步范畴", "初始概念及分类"]
    assert ws1["C3"].value == "新冠肺炎疫情对公众的危害：危及生命安全（2-5），合并基础疾病（2-7）"
    assert ws1["C4"].value == f"传染特征：{SPECIAL}（1-6），未见于文本"
    assert ws1.freeze_panes == "A3"
    header = ws1["B2"]
    assert header.font.b and header.fill.fgColor.rgb.endswith("D9D9D9")
    for row in ws1.iter_rows(min_row=2, max_row=5):
        for cell in row:
            assert cell.border.top.style == "thin" and cell.border.bottom.style == "thin"
            assert cell.border.left.style == "thin" and cell.border.right.style == "thin"
            assert cell.font.name == "SimSun"
    assert ws1["C3"].alignment.wrap_text and ws1["C3"].alignment.vertical == "top"
    # CJK counts double: the long third column is wider than the number column.
    assert ws1.column_dimensions["C"].width > 2 * ws1.column_dimensions["A"].width

    merged = {str(r) for r in ws2.merged_cells.ranges}
    assert merged == {"A1:D1", "A3:A5"}
    assert ws2["A3"].value == "情境背景"
    assert ws2["A3"].alignment.vertical == "center"
    assert ws2["A6"].value == "信息采集"
    assert [c.value for c in ws2[4]][1:] == ["2", "健康码驱动因素", "精准防控、复工复产"]


def test_xlsx_english_font_and_sheets(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    (path,) = write(tmp_path, "xlsx", lang="en", title_prefix="Study A")
    wb = load_workbook(path)
    assert wb.sheetnames == ["Table 1", "Table 2"]
    assert wb["Table 1"]["A1"].value.startswith("Study A Table 1 ")
    assert wb["Table 2"]["B2"].value == "No."
    assert wb["Table 1"]["A3"].font.name == "Times New Roman"


# -- csv -----------------------------------------------------------------------------


def test_csv_bom_and_round_trip(tmp_path: Path) -> None:
    paths = write(tmp_path, "csv")
    assert paths == [tmp_path / "table1.csv", tmp_path / "table2.csv"]
    for p in paths:
        assert p.read_bytes().startswith(b"\xef\xbb\xbf")
    with paths[0].open(encoding="utf-8-sig", newline="") as fh:
        rows1 = list(csv.reader(fh))
    assert rows1[0] == ["编号", "初步范畴", "初始概念及分类"]
    assert rows1[2] == ["2", "传染性", f"传染特征：{SPECIAL}（1-6），未见于文本"]
    with paths[1].open(encoding="utf-8-sig", newline="") as fh:
        rows2 = list(csv.reader(fh))
    assert [r[0] for r in rows2] == ["关系类别", "情境背景", "", "", "信息采集"]
    assert rows2[1][1:] == ["1", "突发公共卫生事件", "危害性、传染性"]


# -- Markdown --------------------------------------------------------------------------


def test_markdown_tables(tmp_path: Path) -> None:
    (path,) = write(tmp_path, "md")
    text = path.read_text(encoding="utf-8")
    tables = [b for b in text.split("\n\n") if b.startswith("|")]
    assert len(tables) == 2
    rows1 = tables[0].strip().splitlines()
    rows2 = tables[1].strip().splitlines()
    assert len(rows1) == 2 + 3 and len(rows2) == 2 + 4
    assert "**表1 " in text and "**表2 " in text
    # Split on unescaped pipes only: every row has exactly the header's cells.
    for block, n in ((rows1, 3), (rows2, 4)):
        for line in block:
            assert len(re.split(r"(?<!\\)\|", line)) == n + 2
    assert "指标\\|A & 50% 的 x_y" in rows1[3]
    assert rows2[3].startswith("|  | 2 |")


# -- LaTeX ---------------------------------------------------------------------------


def _balanced(tex: str) -> bool:
    depth = 0
    for m in re.finditer(r"\\[{}]|[{}]", tex):
        if m.group(0) == "{":
            depth += 1
        elif m.group(0) == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def test_latex_document_and_body(tmp_path: Path) -> None:
    full_path, body_path = write(tmp_path, "tex")
    assert (full_path.name, body_path.name) == ("tables.tex", "tables-body.tex")
    full = full_path.read_text(encoding="utf-8")
    body = body_path.read_text(encoding="utf-8")
    assert full.startswith("%") and "\\documentclass" in full
    assert (
        full.index("\\begin{document}")
        < full.index(body.splitlines()[2])
        < full.index("\\end{document}")
    )
    assert full.rstrip().endswith("\\end{document}")
    for pkg in ("xeCJK", "booktabs", "longtable", "multirow", "array"):
        assert f"\\usepackage{{{pkg}}}" in full
    assert "\\setCJKmainfont" in full
    assert "\\documentclass" not in body and "\\begin{document}" not in body
    assert body.count("\\begin{longtable}") == 2 and body.count("\\end{longtable}") == 2
    for rule in ("\\toprule", "\\midrule", "\\bottomrule"):
        assert rule in body
    assert "\\multirow{3}{=}{情境背景}" in body
    assert "\\multirow" not in body.split("信息采集")[1].split("\\\\")[0]
    assert "指标|A \\& 50\\% 的 x\\_y（1-6）" in body
    assert _balanced(full) and _balanced(body)
    rows2 = [
        ln
        for ln in body.split("\\begin{longtable}")[2].splitlines()
        if ln.endswith("\\\\") and "&" in ln and "关系类别" not in ln
    ]
    assert len(rows2) == 4 and all(ln.count(" & ") == 3 for ln in rows2)


def test_latex_escape_every_special() -> None:
    raw = "\\ & % $ # _ { } ~ ^"
    out = latex_escape(raw)
    assert out == (
        "\\textbackslash{} \\& \\% \\$ \\# \\_ \\{ \\} \\textasciitilde{} \\textasciicircum{}"
    )
    assert _balanced(out)


# -- docx ----------------------------------------------------------------------------


def test_docx_three_line_tables(tmp_path: Path) -> None:
    import docx

    (path,) = write(tmp_path, "docx")
    doc = docx.Document(str(path))
    captions = [p.text for p in doc.paragraphs if p.text]
    assert captions[0].startswith("表1 ") and captions[1].startswith("表2 ")
    t1, t2 = doc.tables
    assert [c.text for c in t1.rows[0].cells] == ["编号", "初步范畴", "初始概念及分类"]
    assert [c.text for c in t1.rows[2].cells] == [
        "2",
        "传染性",
        f"传染特征：{SPECIAL}（1\u20116），未见于文本",  # a non-breaking hyphen in docx
    ]
    assert [[c.text for c in r.cells] for r in t2.rows[1:]] == [
        ["情境背景", "1", "突发公共卫生事件", "危害性、传染性"],
        ["情境背景", "2", "健康码驱动因素", "精准防控、复工复产"],
        ["情境背景", "3", "社会动员", "突发性"],
        ["信息采集", "4", "采集方式", "采集主体、采集方法"],
    ]
    for table in (t1, t2):
        borders = table._tbl.tblPr.find(f"{W}tblBorders")
        assert borders is not None
        assert borders.find(f"{W}top").get(f"{W}val") == "single"
        assert borders.find(f"{W}bottom").get(f"{W}val") == "single"
        assert int(borders.find(f"{W}top").get(f"{W}sz")) > 6
        for edge in ("left", "right", "insideH", "insideV"):
            assert borders.find(f"{W}{edge}").get(f"{W}val") == "nil"
        for cell in table.rows[0].cells:
            bottom = cell._tc.tcPr.find(f"{W}tcBorders/{W}bottom")
            assert bottom is not None and bottom.get(f"{W}val") == "single"
        for row in table.rows[1:]:
            for cell in row.cells:
                tcpr = cell._tc.tcPr
                assert tcpr is None or tcpr.find(f"{W}tcBorders") is None
    merges = [el.get(f"{W}val") for el in t2._tbl.iter(f"{W}vMerge")]
    assert merges == ["restart", None, None]
    assert not list(t1._tbl.iter(f"{W}vMerge"))
    first_col = {tr.tc_lst[0].tcPr.find(f"{W}tcW").get(f"{W}w") for tr in t2._tbl.tr_lst}
    assert first_col == {"1701"}  # 3 cm on every row, merged ones included
    fonts = doc.styles["Normal"].element.rPr.rFonts
    assert fonts.get(f"{W}eastAsia") == "SimSun"
    assert fonts.get(f"{W}ascii") == "Times New Roman"


# -- safety, overwrite, failure -----------------------------------------------------------

INJECT = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tTAB", "\rCR"]


def inject_rows() -> tuple[list[Table1Row], list[Table2Group]]:
    t1 = [Table1Row(str(i), v, None, []) for i, v in enumerate(INJECT, start=1)]
    t2 = [Table2Group(v, [("1", v, [])]) for v in INJECT]
    return t1, t2


def test_injection_neutralised_in_xlsx_and_csv(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    t1, t2 = inject_rows()
    write_tables(t1, t2, fmt="xlsx", lang="zh", out_dir=tmp_path)
    ws = load_workbook(tmp_path / "tables.xlsx")["表1"]
    assert [ws.cell(row=i, column=2).value for i in range(3, 3 + len(INJECT))] == [
        "'" + v for v in INJECT
    ]
    assert all(ws.cell(row=i, column=2).data_type == "s" for i in range(3, 3 + len(INJECT)))
    ws2 = load_workbook(tmp_path / "tables.xlsx")["表2"]
    assert [ws2.cell(row=i, column=1).value for i in range(3, 3 + len(INJECT))] == [
        "'" + v for v in INJECT
    ]

    write_tables(t1, t2, fmt="csv", lang="zh", out_dir=tmp_path)
    with (tmp_path / "table1.csv").open(encoding="utf-8-sig", newline="") as fh:
        assert [r[1] for r in list(csv.reader(fh))[1:]] == ["'" + v for v in INJECT]
    with (tmp_path / "table2.csv").open(encoding="utf-8-sig", newline="") as fh:
        assert [r[2] for r in list(csv.reader(fh))[1:]] == ["'" + v for v in INJECT]


def test_injection_untouched_in_md_tex_docx(tmp_path: Path) -> None:
    import docx

    t1, t2 = inject_rows()
    write_tables(t1, t2, fmt="md", lang="zh", out_dir=tmp_path)
    md = (tmp_path / "tables.md").read_text(encoding="utf-8")
    assert "| 1 | =1+1 |" in md and "'" not in md
    write_tables(t1, t2, fmt="tex", lang="zh", out_dir=tmp_path)
    assert "1 & =1+1 &" in (tmp_path / "tables-body.tex").read_text(encoding="utf-8")
    write_tables(t1, t2, fmt="docx", lang="zh", out_dir=tmp_path)
    doc = docx.Document(str(tmp_path / "tables.docx"))
    assert [r.cells[1].text for r in doc.tables[0].rows[1:4]] == ["=1+1", "+SUM(A1)", "-2+3"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_overwrite_needs_force(tmp_path: Path, fmt: str) -> None:
    paths = write(tmp_path, fmt)
    kept = paths[-1]
    if len(paths) > 1:
        paths[0].unlink()  # one target of two exists: still nothing at all is written
    before = kept.read_bytes()
    with pytest.raises(AlreadyExists):
        write_tables([Table1Row("1", "别的", None, [])], [], fmt=fmt, lang="zh", out_dir=tmp_path)
    assert kept.read_bytes() == before
    assert sorted(tmp_path.iterdir()) == [kept]
    write(tmp_path, fmt, lang="en", force=True)
    assert all(p.exists() for p in paths)
    assert kept.read_bytes() != before
    assert sorted(tmp_path.iterdir()) == sorted(paths)


class Boom:
    """A value whose text cannot be made: the writer fails half-way."""

    def __str__(self) -> str:
        raise RuntimeError("cannot render")


@pytest.mark.parametrize("fmt", FORMATS)
def test_failure_leaves_no_file(tmp_path: Path, fmt: str) -> None:
    rows = [*t1_rows(), Table1Row("4", Boom(), None, [])]  # type: ignore[arg-type]
    with pytest.raises(RuntimeError):
        write_tables(rows, t2_groups(), fmt=fmt, lang="zh", out_dir=tmp_path / "out")
    out = tmp_path / "out"
    assert not out.exists() or list(out.iterdir()) == []


def test_bad_arguments() -> None:
    with pytest.raises(BadOption, match="format"):
        write_tables([], [], fmt="pdf", lang="zh", out_dir=Path("."))
    with pytest.raises(BadOption, match="lang"):
        write_tables([], [], fmt="md", lang="fr", out_dir=Path("."))
    with pytest.raises(OutOfRange, match="refs"):
        write_tables([], [], fmt="md", lang="zh", out_dir=Path("."), refs=-1)
