"""Readers for every input kind, and one clear error line for every bad input."""

from __future__ import annotations

import json
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from groundcode.corpus.encoding import decode_bytes
from groundcode.corpus.readers import RawDocument, read_file
from groundcode.corpus.safezip import check_zip
from groundcode.domain.errors import GroundcodeError

SIMPLIFIED = (
    "健康码信息共享与互认机制研究\n政府部门应当加强个人数据保护，避免信息泄露。\n第三行：数据互认。"
)
TRADITIONAL = (
    "健康碼資訊共享與互認機制研究\n政府部門應當加強個人資料保護，避免資訊洩漏。\n第三行：資料互認。"
)


def _refused(path: Path, *, match: str = "", **kwargs: object) -> str:
    """Read ``path`` expecting a one-line error that names the file."""
    with pytest.raises(GroundcodeError) as err:
        read_file(path, **kwargs)  # type: ignore[arg-type]
    msg = str(err.value)
    assert "\n" not in msg
    assert path.name in msg
    assert match in msg
    return msg


# -- encodings -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        (SIMPLIFIED, "utf-8"),
        (SIMPLIFIED, "utf-8-sig"),
        (SIMPLIFIED, "gb18030"),
        (SIMPLIFIED, "gbk"),
        (TRADITIONAL, "big5"),
        (SIMPLIFIED, "utf-16"),
        (SIMPLIFIED, "utf-16-be-bom"),
        ("Health code sharing, " * 20 + SIMPLIFIED, "utf-16-le"),
        ("Health code sharing, " * 20 + SIMPLIFIED, "utf-16-be"),
    ],
)
def test_encodings_decode_to_the_utf8_original(tmp_path: Path, text: str, codec: str) -> None:
    data = (
        b"\xfe\xff" + text.encode("utf-16-be") if codec == "utf-16-be-bom" else text.encode(codec)
    )
    f = tmp_path / "doc.txt"
    f.write_bytes(data)
    [doc] = read_file(f)
    assert doc.text == text
    assert decode_bytes(data, "doc.txt") == text


def test_short_big5_and_gbk_are_told_apart() -> None:
    assert decode_bytes("資料保護與隱私".encode("big5"), "a.txt") == "資料保護與隱私"
    assert decode_bytes("数据保护与隐私".encode("gbk"), "b.txt") == "数据保护与隐私"


def test_mixed_encodings_are_refused_with_the_line(tmp_path: Path) -> None:
    f = tmp_path / "mixed.txt"
    f.write_bytes("前半部分是UTF-8文本。\n".encode() * 3 + "后半部分是GBK。".encode("gbk"))
    msg = _refused(f, match="line 4")
    assert "mixed encodings" in msg and "byte" in msg


def test_empty_and_blank_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    _refused(empty, match="empty file")
    blank = tmp_path / "blank.md"
    blank.write_text(" \n\n\t\n", encoding="utf-8")
    _refused(blank, match="no text")
    with pytest.raises(GroundcodeError, match="x.csv: empty file"):
        decode_bytes(b"", "x.csv")


def test_binary_garbage_named_txt(tmp_path: Path) -> None:
    f = tmp_path / "image.txt"
    f.write_bytes(bytes(range(256)) * 20)
    _refused(f, match="binary")
    g = tmp_path / "controls.txt"
    g.write_bytes(b"\x01\x02\x03\x04\x05\x06abc" * 100)
    _refused(g, match="binary")


def test_ten_million_character_line(tmp_path: Path) -> None:
    f = tmp_path / "huge.txt"
    f.write_text("健康码" * 3_400_000, encoding="utf-8")
    [doc] = read_file(f)
    assert len(doc.text) == 10_200_000
    assert doc.title == ("健康码" * 67)[:200]


def test_file_over_the_limit(tmp_path: Path) -> None:
    f = tmp_path / "big.txt"
    f.write_bytes(b"x" * 3 * 1024 * 1024)
    _refused(f, match="3.0 MB is over the 2 MB limit", max_bytes=2 * 1024 * 1024)


def test_unknown_extension_lists_the_supported_ones(tmp_path: Path) -> None:
    f = tmp_path / "notes.rtf"
    f.write_text("x", encoding="utf-8")
    msg = _refused(f, match="unsupported")
    assert ".docx" in msg and ".jsonl" in msg


# -- one document per file -------------------------------------------------------


def test_txt_and_md_titles(tmp_path: Path) -> None:
    t = tmp_path / "a.txt"
    t.write_text("\n\n  # 不是标题符号\r\n正文一段。\r\n", encoding="utf-8")
    [doc] = read_file(t)
    assert doc.text == "  # 不是标题符号\n正文一段。"
    assert doc.title == "# 不是标题符号"
    m = tmp_path / "b.md"
    m.write_text("## 健康码政策\n\n正文。\n", encoding="utf-8")
    [md] = read_file(m)
    assert md.title == "健康码政策"
    assert md.text.startswith("## 健康码政策")
    assert md.origin_row is None and md.meta == {}


def test_html_body_text_without_scripts(tmp_path: Path) -> None:
    f = tmp_path / "page.html"
    f.write_text(
        "<html><head><title> 健康码 报道 </title><style>p{color:red}</style></head>"
        "<body><script>var x = '不要';</script><h1>大标题</h1><p>第一段\n续行&amp;符号</p>"
        "<div>第二段<br>换行</div><pre>a\n  b</pre></body></html>",
        encoding="utf-8",
    )
    [doc] = read_file(f)
    assert doc.title == "健康码 报道"
    assert (
        doc.text == "大标题\n第一段 续行&符号\n第二段\n换行\na\nb"
    )  # <pre> keeps its lines, not indentation
    assert "不要" not in doc.text and "color" not in doc.text


def test_html_title_falls_back_to_h1(tmp_path: Path) -> None:
    f = tmp_path / "p.htm"
    f.write_bytes("<body><h1>通知</h1><p>内容</p></body>".encode("gb18030"))
    [doc] = read_file(f)
    assert doc.title == "通知"


def test_docx_paragraphs_tables_and_title(tmp_path: Path) -> None:
    import docx

    d = docx.Document()
    d.add_paragraph("第一段：健康码。")
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "单元格甲"
    table.cell(0, 1).text = "单元格乙"
    merged = table.cell(1, 0).merge(table.cell(1, 1))
    merged.text = "合并单元格"
    d.add_paragraph("最后一段。")
    d.core_properties.title = "卫健委通知"
    d.core_properties.author = "李四"
    f = tmp_path / "policy.docx"
    d.save(str(f))
    [doc] = read_file(f)
    assert doc.text == "第一段：健康码。\n单元格甲\n单元格乙\n合并单元格\n最后一段。"
    assert doc.title == "卫健委通知"
    assert doc.author == "李四"


def test_docx_title_from_first_paragraph(tmp_path: Path) -> None:
    import docx

    d = docx.Document()
    d.core_properties.title = ""
    d.add_paragraph("")
    d.add_paragraph("关于健康码的通知")
    f = tmp_path / "n.docx"
    d.save(str(f))
    [doc] = read_file(f)
    assert doc.title == "关于健康码的通知"


def _pdf_with_text(lines: list[str]) -> bytes:
    """A minimal one-page PDF with a Helvetica text layer (ASCII lines)."""
    ops = ["BT /F1 12 Tf 72 720 Td 14 TL"]
    for line in lines:
        ops.append(f"({line}) Tj T*")
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def test_pdf_text_layer(tmp_path: Path) -> None:
    f = tmp_path / "report.pdf"
    f.write_bytes(_pdf_with_text(["Health code report", "Data sharing works."]))
    [doc] = read_file(f)
    assert "Health code report" in doc.text and "Data sharing works." in doc.text
    assert doc.title == "Health code report"


def test_pdf_without_text_layer(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    w = PdfWriter()
    w.add_blank_page(width=200, height=200)
    f = tmp_path / "scan.pdf"
    with f.open("wb") as fh:
        w.write(fh)
    _refused(f, match="no text layer (scanned PDF?)")


def test_damaged_pdf(tmp_path: Path) -> None:
    f = tmp_path / "broken.pdf"
    f.write_bytes(_pdf_with_text(["x"])[:60])
    _refused(f, match="broken.pdf")


# -- one document per row ----------------------------------------------------------


def test_csv_rows_columns_and_meta(tmp_path: Path) -> None:
    f = tmp_path / "comments.csv"
    f.write_text(
        "评论,发布时间,点赞,链接,用户,地区\n"
        '"第一条,带逗号",2022/3/1,1.2万,http://a.cn/1,张三,北京\n'
        "\n"
        '"第二条\n跨两行",2022年3月2日 08:30,"1,234",,李四,\n'
        "第三条,,3万,,,上海\n",
        encoding="gb18030",
    )
    docs = read_file(f)
    assert [d.text for d in docs] == ["第一条,带逗号", "第二条\n跨两行", "第三条"]
    assert [d.origin_row for d in docs] == [2, 4, 5]  # header is row 1; the blank line is row 3
    assert [d.date for d in docs] == ["2022-03-01", "2022-03-02 08:30:00", None]
    assert [d.views for d in docs] == [12000, 1234, 30000]
    assert docs[0].url == "http://a.cn/1" and docs[0].author == "张三"
    assert docs[0].meta == {"地区": "北京"} and docs[1].meta == {}


def test_csv_explicit_columns_case_insensitive(tmp_path: Path) -> None:
    f = tmp_path / "c.csv"
    f.write_text("ID,Body Text,When\n1,hello,2022-01-02\n", encoding="utf-8")
    [doc] = read_file(f, text_column="body text", date_column="WHEN")
    assert doc.text == "hello" and doc.date == "2022-01-02" and doc.meta == {"ID": "1"}
    _refused(f, match="no column 'nope'", text_column="nope")


def test_csv_missing_text_column_names_columns(tmp_path: Path) -> None:
    f = tmp_path / "notext.csv"
    f.write_text("id,date\n1,2022-01-01\n", encoding="utf-8")
    msg = _refused(f, match="no text column")
    assert "id, date" in msg


def test_csv_unparseable_date_names_the_row(tmp_path: Path) -> None:
    f = tmp_path / "dates.csv"
    f.write_text("text,date\n好,2022-01-01\n坏,昨天下午\n", encoding="utf-8")
    _refused(f, match="row 3: cannot read date '昨天下午'")


def test_csv_empty_text_and_bad_views_name_the_row(tmp_path: Path) -> None:
    f = tmp_path / "rows.csv"
    f.write_text("text,views\n好,1\n,5\n", encoding="utf-8")
    _refused(f, match="row 3: empty text")
    g = tmp_path / "views.csv"
    g.write_text("text,views\n好,12.5\n", encoding="utf-8")
    _refused(g, match="row 2: views must be a whole number")
    h = tmp_path / "views2.csv"
    h.write_text("text,views\n好,很多\n", encoding="utf-8")
    _refused(h, match="row 2")


def test_csv_nul_bytes_name_the_line(tmp_path: Path) -> None:
    f = tmp_path / "nul.csv"
    f.write_bytes("text\n正常一行\n坏\x00行\n".encode())
    _refused(f, match="line 3: NUL")


def test_csv_ten_million_character_field(tmp_path: Path) -> None:
    f = tmp_path / "long.csv"
    body = "码" * 10_000_000
    f.write_text(f'text,title\n"{body}",长\n', encoding="utf-8")
    [doc] = read_file(f)
    assert len(doc.text) == 10_000_000 and doc.title == "长"


def test_csv_tab_separated_and_too_many_cells(tmp_path: Path) -> None:
    f = tmp_path / "t.csv"
    f.write_text("text\tauthor\n你好, 世界\t王五\n", encoding="utf-8")
    [doc] = read_file(f)
    assert doc.text == "你好, 世界" and doc.author == "王五"
    g = tmp_path / "extra.csv"
    g.write_text("text,author\n一,二,三\n", encoding="utf-8")
    _refused(g, match="row 2: 3 cells for 2 columns")


def test_xlsx_rows_dates_formulas_and_meta(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["标题", "正文", "日期", "阅读量", "备注"])
    ws.append(["一", "第一条", datetime(2022, 3, 1), 120, "甲"])
    ws.append([None, None, None, None, None])
    ws.append(["三", '="健康"&"码"', datetime(2022, 3, 3, 14, 5), "2.5万", None])
    f = tmp_path / "sheet.xlsx"
    wb.save(str(f))
    docs = read_file(f)
    assert [d.origin_row for d in docs] == [2, 4]
    assert docs[0] == RawDocument(
        text="第一条", title="一", date="2022-03-01", views=120, meta={"备注": "甲"}, origin_row=2
    )
    # No cached value: the formula is stored as written, never evaluated.
    assert docs[1].text == '="健康"&"码"'
    assert docs[1].date == "2022-03-03 14:05:00" and docs[1].views == 25000


def test_xlsx_bad_date_and_named_sheet(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["text", "date"])
    wb.active.append(["好", "2022-01-01"])
    wb.active.append(["坏", "某天"])
    other = wb.create_sheet("第二页")
    other.append(["content"])
    other.append(["另一页"])
    f = tmp_path / "dates.xlsx"
    wb.save(str(f))
    _refused(f, match="row 3: cannot read date '某天'")
    [doc] = read_file(f, sheet="第二页")
    assert doc.text == "另一页"
    _refused(f, match="no sheet 'x'", sheet="x")


def test_jsonl_rows_and_bad_line(tmp_path: Path) -> None:
    f = tmp_path / "c.jsonl"
    rows = [
        {"content": "一", "time": "2022-03-01", "likes": 5, "tags": ["a", "b"]},
        {"content": "二", "user": "王"},
    ]
    f.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n\n", encoding="utf-8"
    )
    docs = read_file(f)
    assert [d.origin_row for d in docs] == [1, 2]
    assert docs[0].views == 5 and docs[0].date == "2022-03-01"
    assert docs[0].meta == {"tags": '["a", "b"]'} and docs[1].author == "王"
    g = tmp_path / "bad.jsonl"
    g.write_text('{"text": "ok"}\n{"text": \n', encoding="utf-8")
    _refused(g, match="line 2: not valid JSON")
    h = tmp_path / "list.jsonl"
    h.write_text('["text"]\n', encoding="utf-8")
    _refused(h, match="line 1: each line must be one JSON object")
    e = tmp_path / "empty_text.jsonl"
    e.write_text('{"text": "ok"}\n\n{"text": "  ", "user": "王"}\n', encoding="utf-8")
    _refused(e, match="line 3: empty text")


# -- damaged and hostile zip files ---------------------------------------------------


def _docx(path: Path) -> Path:
    import docx

    d = docx.Document()
    d.add_paragraph("内容" * 200)
    d.save(str(path))
    return path


def _xlsx(path: Path) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    for i in range(200):
        wb.active.append([f"第{i}条评论"])
    wb.save(str(path))
    return path


@pytest.mark.parametrize(("suffix", "make"), [(".docx", _docx), (".xlsx", _xlsx)])
def test_truncated_office_files(tmp_path: Path, suffix: str, make: object) -> None:
    good = make(tmp_path / f"good{suffix}")  # type: ignore[operator]
    data = good.read_bytes()
    f = tmp_path / f"cut{suffix}"
    f.write_bytes(data[: len(data) // 2])
    _refused(f, match=f"not a valid {suffix} (truncated or damaged)")
    g = tmp_path / f"plain{suffix}"
    g.write_text("not a zip at all", encoding="utf-8")
    _refused(g, match=f"not a valid {suffix}")


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in members.items():
            zf.writestr(name, body)
    return path


XXE = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'


def test_xxe_docx_is_refused(tmp_path: Path) -> None:
    f = _zip(tmp_path / "evil.docx", {"[Content_Types].xml": b"<Types/>", "word/document.xml": XXE})
    _refused(f, match="DOCTYPE or entities")


def test_entities_late_in_a_part_and_in_utf16_are_found(tmp_path: Path) -> None:
    late = b"<?xml version='1.0'?><!--" + b"x" * (3 * 1024 * 1024) + b"-->" + XXE[21:]
    f = _zip(tmp_path / "late.xlsx", {"xl/workbook.xml": late})
    with pytest.raises(
        GroundcodeError, match="late.xlsx: XML part 'xl/workbook.xml' declares a DOCTYPE"
    ):
        check_zip(f, ".xlsx", max_ratio=1_000_000)  # the padding compresses well; look past that
    utf16 = XXE.decode().encode("utf-16")
    g = _zip(tmp_path / "wide.docx", {"word/document.xml": utf16})
    _refused(g, match="DOCTYPE")


def test_zip_bomb_and_zip_slip_are_refused(tmp_path: Path) -> None:
    bomb = _zip(tmp_path / "bomb.docx", {"word/document.xml": b"\0" * (20 * 1024 * 1024)})
    _refused(bomb, match="zip bomb")
    with pytest.raises(GroundcodeError, match="expands to more than 1 MB"):
        check_zip(bomb, ".docx", max_total=1024 * 1024, max_ratio=10_000)
    slip = _zip(tmp_path / "slip.xlsx", {"../../evil.txt": b"x"})
    _refused(slip, match="unsafe member name")
    absolute = _zip(tmp_path / "abs.docx", {"/etc/evil": b"x"})
    _refused(absolute, match="unsafe member name")


def test_check_zip_accepts_a_real_docx(tmp_path: Path) -> None:
    f = _docx(tmp_path / "ok.docx")
    check_zip(f, ".docx")  # no exception: real office files pass
    assert read_file(f)[0].text == "内容" * 200


# -- anything at all: a clean read or one clear line ----------------------------------


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.one_of(
        st.binary(max_size=3000),
        st.text(max_size=400).map(lambda t: t.encode("utf-8")),
        st.text(max_size=400).map(lambda t: t.encode("gb18030", errors="replace")),
    ),
    suffix=st.sampled_from([".txt", ".md", ".html", ".csv", ".jsonl", ".docx", ".xlsx", ".pdf"]),
)
def test_random_input_reads_or_fails_with_one_line(
    tmp_path: Path, data: bytes, suffix: str
) -> None:
    f = tmp_path / f"fuzz{suffix}"
    f.write_bytes(data)
    try:
        docs = read_file(f)
    except GroundcodeError as exc:
        assert "\n" not in str(exc) and "fuzz" in str(exc)
    else:
        assert all(isinstance(d, RawDocument) and d.text.strip() for d in docs)


def test_byte_soup_that_decodes_as_rare_characters_is_refused(tmp_path: Path) -> None:
    # Every pair is a valid GBK code, but in the rare extension area: not Chinese text.
    soup = bytes(b for i in range(80) for b in (0x81 + (i * 7) % 0x20, 0x40 + (i * 5) % 0x3E))
    f = tmp_path / "soup.txt"
    f.write_bytes(soup)
    _refused(f, match="not text in a supported encoding")
