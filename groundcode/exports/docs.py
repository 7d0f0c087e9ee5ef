"""Small report writers (docx and Markdown) and the Word three-line table.

Reports (storyline, model, saturation) are a title plus sections; a section is
text or a DataFrame. Word output follows Chinese journal habits: tables are
三线表 (a thick rule above and below the table, a thin rule under the header, no
vertical lines), East-Asian text in SimSun and Latin text in Times New Roman.
The three-line table helper is shared with the paper tables in ``tables.py``.

Text sections are written as given, with two small readings so the same
section list serves both formats: lines starting with ``- `` become bullets
in Word, and text drawn for the terminal (indented lines, box-drawing
characters, or a ``` fenced block) is kept in a fixed-width font in Word and
fenced in Markdown, so its alignment survives.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from groundcode.domain.errors import InvalidInput
from groundcode.domain.safe_text import xml_safe
from groundcode.exports.frames import cell_text, md_table
from groundcode.exports.safety import atomic_output, save_docx

if TYPE_CHECKING:
    import pandas as pd
    from docx.document import Document as DocxDocument
    from docx.table import Table, _Cell

__all__ = [
    "EAST_ASIAN_FONT",
    "LATIN_FONT",
    "MONO_FONT",
    "new_document",
    "set_fonts",
    "three_line_table",
    "write_report_docx",
    "write_report_md",
]

#: Word's East-Asian font. The ASCII name resolves to 宋体 on every Windows and
#: in WPS, whereas "宋体" is only matched where the localized name is known.
EAST_ASIAN_FONT = "SimSun"
LATIN_FONT = "Times New Roman"
MONO_FONT = "Consolas"

#: Rule widths in eighths of a point: 1.5 pt outer rules, 0.75 pt header rule.
THICK = 12
THIN = 6

_DRAWN = re.compile(r"^(?:\s{2,}\S|[\u2500-\u25ff])")

# Children of w:tblPr and w:tcPr that must follow w:tblBorders / w:tcBorders
# (OOXML fixes the order and Word refuses files that break it).
_AFTER_TBL_BORDERS = (
    "shd",
    "tblLayout",
    "tblCellMar",
    "tblLook",
    "tblCaption",
    "tblDescription",
    "tblPrChange",
)
_AFTER_TC_BORDERS = (
    "shd",
    "noWrap",
    "tcMar",
    "textDirection",
    "tcFitText",
    "vAlign",
    "hideMark",
    "headers",
    "cellIns",
    "cellDel",
    "cellMerge",
    "tcPrChange",
)


def _w(tag: str) -> str:
    from docx.oxml.ns import qn

    return qn(f"w:{tag}")


def _insert_ordered(parent: Any, child: Any, successors: Sequence[str]) -> Any:
    """Insert ``child`` before the first existing successor, keeping schema order."""
    later = {_w(t) for t in successors}
    for i, existing in enumerate(parent):
        if existing.tag in later:
            parent.insert(i, child)
            return child
    parent.append(child)
    return child


def _borders_element(tag: str, edges: dict[str, int | None]) -> Any:
    """``<w:tag>`` with one child per edge: a width in eighths of a point, or None for no line."""
    from docx.oxml import OxmlElement

    box = OxmlElement(f"w:{tag}")
    for edge, size in edges.items():
        el = OxmlElement(f"w:{edge}")
        if size is None:
            el.set(_w("val"), "nil")
        else:
            el.set(_w("val"), "single")
            el.set(_w("sz"), str(size))
            el.set(_w("space"), "0")
            el.set(_w("color"), "000000")
        box.append(el)
    return box


def set_fonts(element: Any, *, latin: str = LATIN_FONT, east_asia: str = EAST_ASIAN_FONT) -> None:
    """Set Latin and East-Asian fonts on a style or run (its ``w:rPr``), dropping theme fonts.

    python-docx's ``font.name`` sets only the Latin slots; without ``w:eastAsia``
    Word falls back to the theme font for Chinese, and the heading styles'
    theme attributes would override any name we give.
    """
    rpr = element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    for attr in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        fonts.attrib.pop(_w(attr), None)
    fonts.set(_w("ascii"), latin)
    fonts.set(_w("hAnsi"), latin)
    fonts.set(_w("cs"), latin)
    fonts.set(_w("eastAsia"), east_asia)


def new_document(*, latin: str = LATIN_FONT, east_asia: str = EAST_ASIAN_FONT) -> DocxDocument:
    """A blank A4 document whose body and heading styles use the given fonts, in black."""
    from docx import Document
    from docx.shared import Cm, Pt, RGBColor

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2.5))
    for name in ("Normal", "Title", "Heading 1", "Heading 2", "List Bullet"):
        style = doc.styles[name]
        set_fonts(style.element, latin=latin, east_asia=east_asia)
        if name != "Normal":
            style.font.color.rgb = RGBColor(0, 0, 0)
    doc.styles["Normal"].font.size = Pt(10.5)  # 五号
    return doc


def _cell_borders(cell: _Cell, edges: dict[str, int | None]) -> None:
    tcpr = cell._tc.get_or_add_tcPr()
    old = tcpr.find(_w("tcBorders"))
    if old is not None:
        tcpr.remove(old)
    _insert_ordered(tcpr, _borders_element("tcBorders", edges), _AFTER_TC_BORDERS)


def _set_cell(cell: _Cell, text: str, *, bold: bool = False, center: bool = False) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    para = cell.paragraphs[0]
    # No run at all for empty text: python-docx's merge treats a cell with an
    # empty run as content and would carry blank lines into the merged cell.
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if text else []
    for i, line in enumerate(lines):
        run = para.add_run(xml_safe(line))
        run.bold = bold or None
        if i < len(lines) - 1:
            run.add_break()
    para.paragraph_format.space_after = Pt(0)
    para.paragraph_format.space_before = Pt(0)
    if center:
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER


def three_line_table(
    doc: DocxDocument,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    widths_cm: Sequence[float] | None = None,
    center_cols: Sequence[int] = (),
    merge_first: Sequence[tuple[int, int]] = (),
) -> Table:
    """Add a 三线表 to ``doc`` and return it.

    The outer rules are table borders (``w:tblBorders`` top/bottom), the header
    rule is a bottom border on each header cell (``w:tcBorders``); inside and
    side borders are switched off explicitly so no table style can add them.
    ``merge_first`` lists (first, last) body-row ranges whose first-column cells
    are merged vertically (the relation classes of Table 2) and centred. Every
    row carries ``w:cantSplit``, so no row breaks across a page.
    """
    from docx.enum.table import WD_ALIGN_VERTICAL
    from docx.oxml import OxmlElement
    from docx.shared import Cm

    table = doc.add_table(rows=1 + len(rows), cols=len(header))
    tblpr = table._tbl.tblPr
    old = tblpr.find(_w("tblBorders"))
    if old is not None:
        tblpr.remove(old)
    _insert_ordered(
        tblpr,
        _borders_element(
            "tblBorders",
            {
                "top": THICK,
                "left": None,
                "bottom": THICK,
                "right": None,
                "insideH": None,
                "insideV": None,
            },
        ),
        _AFTER_TBL_BORDERS,
    )
    head = table.rows[0]
    head._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))  # repeat on each page
    # A row is never split across pages: a category's concepts stay on one page with it.
    for row_ in table.rows:
        row_._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
    for j, name in enumerate(header):
        cell = head.cells[j]
        _set_cell(cell, name, bold=True, center=True)
        _cell_borders(cell, {"bottom": THIN})
    for i, row in enumerate(rows, start=1):
        cells = table.rows[i].cells
        for j, value in enumerate(row):
            _set_cell(cells[j], value, center=j in center_cols)
            cells[j].vertical_alignment = WD_ALIGN_VERTICAL.TOP
    if widths_cm:
        table.autofit = False
        # LibreOffice and WPS read the grid, Word the cell widths: set both.
        for j, col in enumerate(table._tbl.tblGrid.gridCol_lst):
            if j < len(widths_cm):
                col.w = Cm(widths_cm[j])
        for row_ in table.rows:
            for j, cell in enumerate(row_.cells):
                if j < len(widths_cm):
                    cell.width = Cm(widths_cm[j])
    # Merge last: merged-away cells are no longer reachable through row.cells.
    for first, last in merge_first:
        top = table.cell(first + 1, 0)
        if last > first:
            top = top.merge(table.cell(last + 1, 0))
        top.vertical_alignment = WD_ALIGN_VERTICAL.CENTER
    out: Table = table
    return out


def _is_drawn(text: str) -> bool:
    """Text laid out for a fixed-width terminal (indents, box drawing), which must stay aligned."""
    return any(_DRAWN.match(line) for line in text.splitlines())


def _frame_rows(df: pd.DataFrame) -> list[list[str]]:
    return [[cell_text(v) for v in row] for row in df.itertuples(index=False, name=None)]


def _check_sections(path: Path, sections: Sequence[tuple[str, Any]]) -> None:
    for item in sections:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)):
            raise InvalidInput(str(path), 0, "report_section")


def _mono(doc: DocxDocument, lines: Sequence[str]) -> None:
    from docx.shared import Pt

    para = doc.add_paragraph()
    for i, line in enumerate(lines):
        run = para.add_run(xml_safe(line))
        set_fonts(run._r, latin=MONO_FONT)
        if i < len(lines) - 1:
            run.add_break()
    para.paragraph_format.space_after = Pt(6)


def _docx_text(doc: DocxDocument, text: str) -> None:
    """Paragraphs from text: blank lines separate, ``- `` lines are bullets, fences stay fixed-width."""
    blocks = re.split(r"^```[^\n]*\n?", text, flags=re.MULTILINE)
    for k, block in enumerate(blocks):
        if k % 2 == 1:  # inside a fence
            _mono(doc, block.rstrip("\n").split("\n"))
            continue
        if _is_drawn(block):
            _mono(doc, block.strip("\n").split("\n"))
            continue
        for line in block.splitlines():
            stripped = line.strip()
            if not stripped:
                continue
            if stripped.startswith(("- ", "* ")):
                doc.add_paragraph(xml_safe(stripped[2:]), style="List Bullet")
            else:
                doc.add_paragraph(xml_safe(stripped))


def write_report_docx(
    path: Path,
    *,
    title: str,
    sections: Sequence[tuple[str, str | pd.DataFrame]],
    force: bool = False,
) -> Path:
    """A Word report: title, then each section as a heading and its text or three-line table."""
    path = Path(path)
    _check_sections(path, sections)
    doc = new_document()
    doc.add_heading(xml_safe(title), level=0)
    for heading, content in sections:
        doc.add_heading(xml_safe(heading), level=1)
        if isinstance(content, str):
            _docx_text(doc, content)
        else:
            three_line_table(doc, [str(c) for c in content.columns], _frame_rows(content))
            doc.add_paragraph()
    with atomic_output(path, force=force) as tmp:
        save_docx(doc, tmp)
    return path


def _md_text(text: str) -> str:
    if "```" not in text and _is_drawn(text):
        return "```text\n" + text.strip("\n") + "\n```"
    return text.strip("\n")


def write_report_md(
    path: Path,
    *,
    title: str,
    sections: Sequence[tuple[str, str | pd.DataFrame]],
    force: bool = False,
) -> Path:
    """A Markdown report: ``# title``, ``## heading`` per section, text as given or a GitHub table."""
    path = Path(path)
    _check_sections(path, sections)
    parts = [f"# {title}"]
    for heading, content in sections:
        parts.append(f"## {heading}")
        if isinstance(content, str):
            parts.append(_md_text(content))
        else:
            parts.append(
                md_table([str(c) for c in content.columns], _frame_rows(content)).rstrip("\n")
            )
    with atomic_output(path, force=force) as tmp:
        tmp.write_text("\n\n".join(parts) + "\n", encoding="utf-8")
    return path
