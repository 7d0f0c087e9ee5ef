"""The two tables a grounded-theory paper reports (SPEC §6), in five formats.

* Table 1 lists the initial categories (初步范畴) of open coding: number,
  category, and a third column ``definition：concept（2-5），concept（1-6）`` that
  names the documents where each concept was coded, as the reference study does.
* Table 2 lists the relation classes (关系类别) of axial coding with their main
  categories (主范畴) and the initial categories under each; the relation class
  spans its main categories.

Punctuation. The study's text dump shows ASCII ``:`` ``,`` ``( )`` throughout,
even in running Chinese prose, so the dump was width-normalised; the printed
paper uses full-width marks. Chinese output therefore uses ``：`` ``，`` ``（）``
and ``、`` (between document numbers and between initial categories, where the
dump shows only spaces); English output uses ``: `` ``, `` and ``( )``.

Spreadsheet safety. Every cell written to xlsx or csv goes through
``neutralise`` because those are opened by spreadsheets that execute formulas;
Markdown, LaTeX and Word never evaluate cell text, so there the text is kept
exactly as coded (an apostrophe would only be noise in a paper).

Merged cells. xlsx, LaTeX (``\\multirow``) and docx (vertical merge) merge the
relation-class cells. csv and Markdown cannot merge, so, like the printed
table, the relation class is written on its first row only and left empty
below. The DataFrames from ``table1_frame``/``table2_frame`` repeat it on every
row, which is what analysis code wants.

Fonts. xlsx and docx use SimSun (宋体) for Chinese tables and Times New Roman
for English ones; docx sets both slots (Latin Times New Roman, East-Asian
SimSun) because Chinese journals ask for exactly that pairing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from groundcode.domain.errors import AlreadyExists, BadOption, OutOfRange
from groundcode.exports.frames import display_width, md_table
from groundcode.exports.safety import atomic_output, neutralise, save_docx

if TYPE_CHECKING:
    import pandas as pd
    from openpyxl.worksheet.worksheet import Worksheet

__all__ = [
    "FORMATS",
    "Table1Row",
    "Table2Group",
    "captions",
    "concepts_text",
    "headers",
    "latex_escape",
    "table1_frame",
    "table2_frame",
    "write_tables",
]

FORMATS = ("xlsx", "csv", "md", "tex", "docx")
LANGS = ("zh", "en")


@dataclass
class Table1Row:
    """One initial category: its number, name, definition and (concept, document refs) pairs."""

    number: str
    category: str
    definition: str | None
    concepts: list[tuple[str, list[str]]] = field(default_factory=list)
    # Per concept, the sub-definition its category lists it under (None: the category's own);
    # empty when the category has no sub-definitions.
    groups: list[str | None] = field(default_factory=list)


@dataclass
class Table2Group:
    """One relation class with its (main number, main name, initial category names) triples."""

    relation_class: str
    mains: list[tuple[str, str, list[str]]] = field(default_factory=list)


_HEADERS = {
    "zh": (("编号", "初步范畴", "初始概念及分类"), ("关系类别", "编号", "主范畴", "初步范畴")),
    "en": (
        ("No.", "Initial category", "Initial concepts"),
        ("Relation class", "No.", "Main category", "Initial categories"),
    ),
}
# (label, text): the label is "表1"/"Table 1"; LaTeX numbers tables itself and takes the text only.
_CAPTIONS = {
    "zh": (
        ("表1", "开放性编码所得的初步范畴与初始概念"),
        ("表2", "主轴编码归纳的关系类别与主范畴"),
    ),
    "en": (
        ("Table 1", "Initial categories and concepts from open coding"),
        ("Table 2", "Relation classes and main categories from axial coding"),
    ),
}
_SHEETS = {"zh": ("表1", "表2"), "en": ("Table 1", "Table 2")}
_FONTS = {"zh": "SimSun", "en": "Times New Roman"}
# lang -> (after definition, between concepts, between refs, ref open, ref close, between categories)
_PUNCT = {"zh": ("：", "，", "、", "（", "）", "、"), "en": (": ", ", ", ", ", " (", ")", ", ")}
_FILES = {
    "xlsx": ("tables.xlsx",),
    "csv": ("table1.csv", "table2.csv"),
    "md": ("tables.md",),
    "tex": ("tables.tex", "tables-body.tex"),
    "docx": ("tables.docx",),
}


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise BadOption(option="lang", value=lang, allowed="zh, en")


def headers(lang: str = "zh") -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Column headers of Table 1 and Table 2 in ``lang``."""
    _check_lang(lang)
    return _HEADERS[lang]


def captions(lang: str = "zh", title_prefix: str | None = None) -> tuple[str, str]:
    """Full captions of Table 1 and Table 2 (``title_prefix``, if given, goes in front)."""
    _check_lang(lang)
    lead = f"{title_prefix} " if title_prefix else ""
    (l1, c1), (l2, c2) = _CAPTIONS[lang]
    return f"{lead}{l1} {c1}", f"{lead}{l2} {c2}"


def concepts_text(row: Table1Row, *, lang: str = "zh", refs: int = 1) -> str:
    """Table 1's third column: ``definition：concept（2-5），concept（1-6）``.

    The first ``refs`` document numbers are shown per concept (0 shows none); a
    concept coded nowhere shows no parentheses, a category without definition
    shows the concepts alone. A category whose concepts sit under several
    sub-definitions (the paper's row 10) writes each sub-definition with its own
    concepts, separated by ``；`` (``; `` in English); concepts under no
    sub-definition come first, under the category's definition.
    """
    _check_lang(lang)
    colon, comma, ref_sep, left, right, _ = _PUNCT[lang]

    def listed(items: Sequence[tuple[str, list[str]]]) -> str:
        parts = []
        for name, docs in items:
            shown = [str(d) for d in docs][: max(refs, 0)]
            parts.append(f"{name}{left}{ref_sep.join(shown)}{right}" if shown else str(name))
        return comma.join(parts)

    def segment(definition: str | None, items: Sequence[tuple[str, list[str]]]) -> str:
        text, label = listed(items), (definition or "").strip()
        if label and text:
            return f"{label}{colon}{text}"
        return label or text

    groups = list(row.groups) + [None] * (len(row.concepts) - len(row.groups))
    if not any(g is not None for g in groups):
        return segment(row.definition, row.concepts)
    ordered: dict[str | None, list[tuple[str, list[str]]]] = {}
    ungrouped = [c for c, g in zip(row.concepts, groups, strict=True) if g is None]
    for concept, g in zip(row.concepts, groups, strict=True):
        if g is not None:
            ordered.setdefault(g, []).append(concept)
    segments = [segment(row.definition, ungrouped)] if ungrouped else []
    segments += [segment(g, items) for g, items in ordered.items()]
    return ("；" if lang == "zh" else "; ").join(s for s in segments if s)


def _table1_rows(rows: Sequence[Table1Row], lang: str, refs: int) -> list[list[str]]:
    return [[str(r.number), str(r.category), concepts_text(r, lang=lang, refs=refs)] for r in rows]


def _table2_rows(
    groups: Sequence[Table2Group], lang: str
) -> tuple[list[list[str]], list[tuple[int, int]]]:
    """Body rows with the relation class on every row, and each group's (first, last) row index."""
    sep = _PUNCT[lang][5]
    rows: list[list[str]] = []
    spans: list[tuple[int, int]] = []
    for g in groups:
        first = len(rows)
        for number, main, cats in g.mains or [("", "", [])]:
            rows.append(
                [str(g.relation_class), str(number), str(main), sep.join(str(c) for c in cats)]
            )
        spans.append((first, len(rows) - 1))
    return rows, spans


def _blank_repeats(rows: list[list[str]], spans: Sequence[tuple[int, int]]) -> list[list[str]]:
    """Rows with the relation class kept on each group's first row only (csv, Markdown)."""
    out = [list(r) for r in rows]
    for first, last in spans:
        for i in range(first + 1, last + 1):
            out[i][0] = ""
    return out


def table1_frame(rows: Sequence[Table1Row], *, lang: str = "zh", refs: int = 1) -> pd.DataFrame:
    """Table 1 as a DataFrame with the headers of ``lang``."""
    import pandas as pd

    _check_lang(lang)
    return pd.DataFrame(
        _table1_rows(rows, lang, refs), columns=list(_HEADERS[lang][0]), dtype=object
    )


def table2_frame(groups: Sequence[Table2Group], *, lang: str = "zh") -> pd.DataFrame:
    """Table 2 as a DataFrame; the relation class is repeated on each of its rows."""
    import pandas as pd

    _check_lang(lang)
    rows, _ = _table2_rows(groups, lang)
    return pd.DataFrame(rows, columns=list(_HEADERS[lang][1]), dtype=object)


# -- xlsx --------------------------------------------------------------------


def _xlsx_sheet(
    ws: Worksheet,
    caption: str,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    font: str,
    caps: Sequence[int],
    center_cols: Sequence[int],
    spans: Sequence[tuple[int, int]] = (),
) -> None:
    """Caption row, styled header (row 2, frozen) and bordered, wrapped body from row 3."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    from groundcode.exports.frames import xlsx_value

    ncol = len(header)
    thin = Side(style="thin", color="000000")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    plain, bold = Font(name=font, size=11), Font(name=font, size=11, bold=True)

    ws.cell(row=1, column=1, value=xlsx_value(caption)).font = Font(name=font, size=12, bold=True)
    ws.cell(row=1, column=1).alignment = Alignment(horizontal="center", vertical="center")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncol)
    ws.row_dimensions[1].height = 24
    fill = PatternFill(fill_type="solid", start_color="D9D9D9", end_color="D9D9D9")
    for j, name in enumerate(header, start=1):
        c = ws.cell(row=2, column=j, value=xlsx_value(name))
        c.font, c.fill, c.border = bold, fill, box
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for i, row in enumerate(rows, start=3):
        for j, value in enumerate(row, start=1):
            c = ws.cell(row=i, column=j, value=xlsx_value(value))
            c.font, c.border = plain, box
            c.alignment = Alignment(
                wrap_text=True,
                vertical="top",
                horizontal="center" if j - 1 in center_cols else "left",
            )
    for first, last in spans:
        top = ws.cell(row=first + 3, column=1)
        top.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        if last > first:
            ws.merge_cells(start_row=first + 3, start_column=1, end_row=last + 3, end_column=1)
    for j in range(ncol):
        longest = max([display_width(header[j])] + [display_width(r[j]) for r in rows])
        ws.column_dimensions[get_column_letter(j + 1)].width = min(max(longest, 6), caps[j]) + 2
    ws.freeze_panes = "A3"
    ws.print_title_rows = "2:2"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _write_xlsx(path: Path, parts: _Parts, lang: str, force: bool) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws1 = wb.active
    ws1.title = _SHEETS[lang][0]
    font = _FONTS[lang]
    _xlsx_sheet(
        ws1,
        parts.captions[0],
        parts.headers[0],
        parts.t1,
        font=font,
        caps=(8, 24, 80),
        center_cols=(0,),
    )
    ws2 = wb.create_sheet(_SHEETS[lang][1])
    _xlsx_sheet(
        ws2,
        parts.captions[1],
        parts.headers[1],
        parts.t2,
        font=font,
        caps=(20, 8, 24, 60),
        center_cols=(1,),
        spans=parts.spans,
    )
    with atomic_output(path, force=force) as tmp:
        wb.save(tmp)


# -- csv / md ------------------------------------------------------------------


def _csv_text(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([neutralise(h) for h in header])
    for row in rows:
        w.writerow([neutralise(v) for v in row])
    return buf.getvalue()


def _md_text(parts: _Parts) -> str:
    t2 = _blank_repeats(parts.t2, parts.spans)
    return (
        f"**{parts.captions[0]}**\n\n{md_table(parts.headers[0], parts.t1)}\n"
        f"**{parts.captions[1]}**\n\n{md_table(parts.headers[1], t2)}"
    )


# -- LaTeX ---------------------------------------------------------------------

_TEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_TEX_RE = re.compile(r"[\\&%$#_{}~^]")


def latex_escape(text: str) -> str:
    """Text safe in a LaTeX cell: the ten special characters escaped, line breaks as ``\\newline``."""
    out = _TEX_RE.sub(lambda m: _TEX_SPECIAL[m.group(0)], str(text))
    lines = out.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return r"\newline{}".join(lines)


def _tex_col(width: float, align: str = "raggedright") -> str:
    return rf">{{\{align}\arraybackslash}}p{{{width}\linewidth}}"


def _longtable(
    spec: str, caption: str, label: str, header: Sequence[str], body: Sequence[str], continued: str
) -> str:
    head = " & ".join(latex_escape(h) for h in header) + r" \\"
    return (
        "\n".join(
            [
                rf"\begin{{longtable}}{{@{{}}{spec}@{{}}}}",
                rf"\caption{{{latex_escape(caption)}}}\label{{{label}}} \\",
                r"\toprule",
                head,
                r"\midrule",
                r"\endfirsthead",
                rf"\caption[]{{{continued}}} \\",
                r"\toprule",
                head,
                r"\midrule",
                r"\endhead",
                r"\bottomrule",
                r"\endfoot",
                r"\bottomrule",
                r"\endlastfoot",
                *body,
                r"\end{longtable}",
            ]
        )
        + "\n"
    )


def _tex_body(parts: _Parts, lang: str, title_prefix: str | None) -> str:
    lead = f"{title_prefix} " if title_prefix else ""
    continued = "（续）" if lang == "zh" else "(continued)"
    t1_body = [" & ".join(latex_escape(v) for v in row) + r" \\" for row in parts.t1]
    t2_body = []
    first_of = {first: last - first + 1 for first, last in parts.spans}
    for i, row in enumerate(parts.t2):
        cells = [latex_escape(v) for v in row]
        n = first_of.get(i)
        if n is None:
            cells[0] = ""
        elif n > 1:
            cells[0] = rf"\multirow{{{n}}}{{=}}{{{cells[0]}}}"
        t2_body.append(" & ".join(cells) + r" \\")
    spec1 = _tex_col(0.07, "centering") + _tex_col(0.17) + _tex_col(0.68)
    spec2 = _tex_col(0.17) + _tex_col(0.06, "centering") + _tex_col(0.2) + _tex_col(0.45)
    return (
        "% Table 1 and Table 2 of the grounded-theory analysis (written by groundcode).\n"
        "% Needs xeCJK (or ctex), booktabs, longtable, array and multirow; compile with xelatex.\n"
        + _longtable(
            spec1,
            lead + _CAPTIONS[lang][0][1],
            "tab:open-coding",
            parts.headers[0],
            t1_body,
            continued,
        )
        + "\n"
        + _longtable(
            spec2,
            lead + _CAPTIONS[lang][1][1],
            "tab:axial-coding",
            parts.headers[1],
            t2_body,
            continued,
        )
    )


def _tex_document(body: str, lang: str) -> str:
    name = r"\renewcommand{\tablename}{表}" + "\n" if lang == "zh" else ""
    return (
        "% Standalone Table 1 and Table 2; compile with: xelatex tables.tex\n"
        "\\documentclass[a4paper]{article}\n"
        "\\usepackage[margin=2.5cm]{geometry}\n"
        "\\usepackage{xeCJK}\n"
        "% Chinese font. FandolSong ships with TeX Live, so this compiles on any TeX Live\n"
        "% installation. For the usual journal look use SimSun on Windows\n"
        "% (\\setCJKmainfont{SimSun}) or Noto Serif CJK SC / Source Han Serif SC elsewhere.\n"
        "\\setCJKmainfont[Extension=.otf, UprightFont=*-Regular, BoldFont=*-Bold]{FandolSong}\n"
        "\\usepackage{booktabs}\n"
        "\\usepackage{longtable}\n"
        "\\usepackage{array}\n"
        "\\usepackage{multirow}\n"
        "\\usepackage[labelsep=quad]{caption}\n"
        + name
        + "\\begin{document}\n\n"
        + body
        + "\n\\end{document}\n"
    )


# -- docx ----------------------------------------------------------------------

_DOC_NUMBER = re.compile(r"(?<![\d-])(\d+)-(\d+)(?![\d-])")
NB_HYPHEN = "\u2011"


def nonbreaking_numbers(text: str) -> str:
    """Document numbers (``2-5``) with a non-breaking hyphen (U+2011), so Word never
    breaks a line between the source type and the sequence number."""
    return _DOC_NUMBER.sub(lambda m: f"{m.group(1)}{NB_HYPHEN}{m.group(2)}", str(text))


def _write_docx(path: Path, parts: _Parts, force: bool) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    from groundcode.exports.docs import new_document, three_line_table

    doc = new_document()
    t2 = _blank_repeats(parts.t2, parts.spans)
    t1 = [[nonbreaking_numbers(v) for v in row] for row in parts.t1]
    for k, (caption, header, rows, widths, center, spans) in enumerate(
        (
            (parts.captions[0], parts.headers[0], t1, (1.2, 3.0, 11.8), (0,), ()),
            (parts.captions[1], parts.headers[1], t2, (3.0, 1.2, 3.6, 8.2), (1,), parts.spans),
        )
    ):
        if k:
            doc.add_paragraph()
        para = doc.add_paragraph()
        para.add_run(caption).bold = True
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        para.paragraph_format.keep_with_next = True
        three_line_table(doc, header, rows, widths_cm=widths, center_cols=center, merge_first=spans)
    with atomic_output(path, force=force) as tmp:
        save_docx(doc, tmp)


# -- entry point -------------------------------------------------------------------


@dataclass
class _Parts:
    captions: tuple[str, str]
    headers: tuple[tuple[str, ...], tuple[str, ...]]
    t1: list[list[str]]
    t2: list[list[str]]
    spans: list[tuple[int, int]]


def write_tables(
    t1: list[Table1Row],
    t2: list[Table2Group],
    *,
    fmt: str,
    lang: str,
    out_dir: Path,
    force: bool = False,
    refs: int = 1,
    title_prefix: str | None = None,
) -> list[Path]:
    """Write Table 1 and Table 2 in ``fmt`` into ``out_dir`` and return the files written.

    All targets are checked before anything is written, so without ``force`` an
    existing file stops the export with nothing changed; each file is then
    written atomically.
    """
    if fmt not in FORMATS:
        raise BadOption(option="format", value=fmt, allowed=", ".join(FORMATS))
    _check_lang(lang)
    if refs < 0:
        raise OutOfRange(option="refs", value=str(refs), rule="nonnegative")
    out_dir = Path(out_dir)
    targets = [out_dir / name for name in _FILES[fmt]]
    if not force:
        for target in targets:
            if target.exists():
                raise AlreadyExists(str(target))
    rows2, spans = _table2_rows(t2, lang)
    parts = _Parts(
        captions=captions(lang, title_prefix),
        headers=_HEADERS[lang],
        t1=_table1_rows(t1, lang, refs),
        t2=rows2,
        spans=spans,
    )
    if fmt == "xlsx":
        _write_xlsx(targets[0], parts, lang, force)
    elif fmt == "docx":
        _write_docx(targets[0], parts, force)
    else:
        if fmt == "csv":
            texts = [
                _csv_text(parts.headers[0], parts.t1),
                _csv_text(parts.headers[1], _blank_repeats(parts.t2, parts.spans)),
            ]
            encoding = "utf-8-sig"
        elif fmt == "md":
            texts, encoding = [_md_text(parts)], "utf-8"
        else:
            body = _tex_body(parts, lang, title_prefix)
            texts, encoding = [_tex_document(body, lang), body], "utf-8"
        for target, text in zip(targets, texts, strict=True):
            with atomic_output(target, force=force) as tmp:
                tmp.write_text(text, encoding=encoding, newline="")
    return targets
