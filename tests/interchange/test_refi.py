"""REFI-QDA export and import over real files, validated against the REFI schemas."""

from __future__ import annotations

import re
import zipfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import xmlschema
from defusedxml.ElementTree import fromstring
from hypothesis import given, settings
from hypothesis import strategies as st

from groundcode.domain.notice import say
from groundcode.interchange.errors import ArchiveRefused
from groundcode.interchange.model import (
    QdaCode,
    QdaCoding,
    QdaNote,
    QdaProject,
    QdaSource,
    QdaUser,
    iter_codes,
    normalise_text,
)
from groundcode.interchange.refi_read import read_qdc, read_qdpx
from groundcode.interchange.refi_write import (
    build_codebook_xml,
    build_project_xml,
    check_bmp,
    guid_for,
    write_qdc,
    write_qdpx,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "refi"
NS = {"q": "urn:QDA-XML:project:1.0"}
GUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
WHEN = datetime(2024, 5, 1, 10, 30, tzinfo=UTC)

TEXT_1 = (
    "我们村里的年轻人大多外出打工了。\n留下来的主要是老人和孩子。土地流转以后，收入反而提高了。"
)
TEXT_2 = "𠮷野家的老板说：生意越来越难做。\n但是政府的补贴帮了大忙，这一段比较长需要截断显示名称才行啊，否则名字会太长了。"


@pytest.fixture(scope="module")
def project_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(DATA / "Project-mrt2019.xsd"))


@pytest.fixture(scope="module")
def codebook_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(DATA / "Codebook-mrt2019.xsd"))


def span(text: str, fragment: str) -> tuple[int, int]:
    start = text.index(fragment)
    return start, start + len(fragment)


def make_codes() -> list[QdaCode]:
    migration = QdaCode(
        "subcategory:1",
        "人口流动",
        True,
        "人口在城乡之间的迁移",
        "#3366cc",
        [
            QdaCode("concept:1", "外出务工", True, None, None, []),
            QdaCode("concept:2", "留守", True, "留在村里的人", "#c33", []),
        ],
    )
    economy = QdaCode(
        "subcategory:2",
        "经济状况",
        True,
        None,
        None,
        [
            QdaCode("concept:3", "收入提高", True, None, None, []),
            QdaCode("concept:4", "政策支持", True, None, None, []),
        ],
    )
    folder = QdaCode("category:1", "社会变迁", False, "主范畴", None, [migration, economy])
    return [folder]


def make_project() -> QdaProject:
    users = [QdaUser("coder:1", "张三"), QdaUser("coder:2", "李四")]
    sources = [
        QdaSource("doc:1", "访谈01", TEXT_1, "村民访谈"),
        QdaSource("doc:2", "访谈02", TEXT_2, None),
    ]
    s1, e1 = span(TEXT_1, "年轻人大多外出打工")
    s3, e3 = span(TEXT_1, "老人和孩子")
    s4, e4 = span(TEXT_1, "收入反而提高了")
    s5, e5 = span(
        TEXT_2, "政府的补贴帮了大忙，这一段比较长需要截断显示名称才行啊，否则名字会太长了"
    )
    codings = [
        QdaCoding("coding:1", "doc:1", s1, e1, "concept:1", "coder:1", WHEN, None),
        QdaCoding("coding:2", "doc:1", s1, e1, "concept:1", "coder:2", WHEN, None),
        QdaCoding("coding:3", "doc:1", s3, e3, "concept:2", "coder:1", WHEN, "留守群体"),
        QdaCoding("coding:4", "doc:1", s4, e4, "concept:3", "coder:2", None, None),
        QdaCoding("coding:5", "doc:2", s5, e5, "concept:4", "coder:1", WHEN, None),
    ]
    notes = [
        QdaNote("memo:1", "项目备忘", "研究问题：乡村变迁", "coder:1", WHEN, ("project", "")),
        QdaNote(
            "memo:2", "访谈印象", "受访者很健谈。\n第二行", "coder:2", WHEN, ("source", "doc:1")
        ),
        QdaNote("memo:3", "留守定义", "包括老人和儿童", "coder:1", None, ("code", "concept:2")),
        QdaNote("memo:4", "编码说明", "此处存在分歧", "coder:2", WHEN, ("coding", "coding:3")),
        QdaNote("memo:5", "零散想法", "未挂接的备忘", "coder:1", WHEN, None),
    ]
    return QdaProject(
        "乡村研究", "groundcode 0.1.0", users, make_codes(), sources, codings, notes, "扎根理论项目"
    )


def as_exported(project: QdaProject) -> QdaProject:
    """The project as the reader must return it: every key replaced by its GUID."""

    def code(c: QdaCode) -> QdaCode:
        return replace(c, key=guid_for("code", c.key), children=[code(x) for x in c.children])

    kinds = {"source": "source", "code": "code", "coding": "coding"}
    notes = []
    for note in project.notes:
        target = note.target
        if target is not None and target[0] != "project":
            target = (target[0], guid_for(kinds[target[0]], target[1]))
        notes.append(
            replace(
                note,
                key=guid_for("note", note.key),
                user_key=guid_for("user", note.user_key),
                target=target,
            )
        )
    return replace(
        project,
        users=[replace(u, key=guid_for("user", u.key)) for u in project.users],
        codes=[code(c) for c in project.codes],
        sources=[replace(s, key=guid_for("source", s.key)) for s in project.sources],
        codings=[
            replace(
                c,
                key=guid_for("coding", c.key),
                source_key=guid_for("source", c.source_key),
                code_key=guid_for("code", c.code_key),
                user_key=guid_for("user", c.user_key),
            )
            for c in project.codings
        ],
        notes=notes,
    )


@pytest.fixture()
def exported(tmp_path: Path) -> tuple[Path, list[str]]:
    path = tmp_path / "乡村研究.qdpx"
    warnings = write_qdpx(make_project(), path)
    return path, warnings


def test_archive_layout_and_encoding(exported: tuple[Path, list[str]]) -> None:
    path, _ = exported
    project = make_project()
    expected = {"project.qde"} | {
        f"sources/{guid_for('source', s.key)}.txt" for s in project.sources
    }
    with zipfile.ZipFile(path) as archive:
        assert set(archive.namelist()) == expected
        assert len(archive.namelist()) == len(expected)
        qde = archive.read("project.qde")
        for source in project.sources:
            data = archive.read(f"sources/{guid_for('source', source.key)}.txt")
            assert not data.startswith(b"\xef\xbb\xbf")
            assert b"\r" not in data
            assert data.decode("utf-8") == source.text
    assert qde.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root = fromstring(qde)
    assert root.tag == "{urn:QDA-XML:project:1.0}Project"
    assert root.get("origin") == "groundcode 0.1.0"
    source_el = root.find("q:Sources/q:TextSource", NS)
    guid = guid_for("source", "doc:1")
    assert source_el is not None and source_el.get("plainTextPath") == f"internal://{guid}.txt"
    assert source_el.get("richTextPath") is None


def test_project_validates_against_schema(
    exported: tuple[Path, list[str]], project_schema: xmlschema.XMLSchema
) -> None:
    path, _ = exported
    with zipfile.ZipFile(path) as archive:
        qde = archive.read("project.qde")
    project_schema.validate(qde.decode("utf-8"))
    assert project_schema.is_valid(build_project_xml(make_project()).decode("utf-8"))


def test_guids_lower_case_unique_and_stable(tmp_path: Path) -> None:
    first = build_project_xml(make_project())
    second_path = tmp_path / "again.qdpx"
    write_qdpx(make_project(), second_path)
    with zipfile.ZipFile(second_path) as archive:
        second = archive.read("project.qde")
    assert first == second
    root = fromstring(first)
    guids = [el.get("guid") for el in root.iter() if el.get("guid") is not None]
    # users 2 + codes 7 + sources 2 + selections 5 + codings 5 + notes 5
    assert len(guids) == 26
    assert len(set(guids)) == len(guids)
    assert all(GUID_RE.fullmatch(g) for g in guids)
    referenced = {
        el.get("targetGUID") for el in root.iter() if el.get("targetGUID") is not None
    } | {el.get("creatingUser") for el in root.iter() if el.get("creatingUser")}
    assert referenced <= set(guids)


def test_selections_use_code_points_and_carry_text(exported: tuple[Path, list[str]]) -> None:
    path, _ = exported
    with zipfile.ZipFile(path) as archive:
        root = fromstring(archive.read("project.qde"))
        texts = {
            el.get("guid"): archive.read(
                "sources/" + el.get("plainTextPath").removeprefix("internal://")
            ).decode("utf-8")
            for el in root.iterfind("q:Sources/q:TextSource", NS)
        }
    selections = 0
    for source_el in root.iterfind("q:Sources/q:TextSource", NS):
        text = texts[source_el.get("guid")]
        for sel in source_el.iterfind("q:PlainTextSelection", NS):
            selections += 1
            start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
            selected = text[start:end]
            name = sel.get("name")
            assert name == selected or (len(selected) > 30 and name == selected[:30] + "…"), name
            codings = sel.findall("q:Coding", NS)
            assert len(codings) == 1
            assert codings[0].get("creatingUser") == sel.get("creatingUser")
    assert selections == 5
    # The coding after 𠮷 is one code point earlier than a UTF-16 count would put it.
    sel5 = root.find(f".//q:PlainTextSelection[@guid='{guid_for('selection', 'coding:5')}']", NS)
    assert sel5 is not None
    assert int(sel5.get("startPosition")) == TEXT_2.index("政府")
    assert sel5.get("name").endswith("…")
    # Two coders on the same passage: two selections with the same range.
    same = [
        (s.get("startPosition"), s.get("endPosition"), s.get("creatingUser"))
        for s in root.iter("{urn:QDA-XML:project:1.0}PlainTextSelection")
    ][:2]
    assert same[0][:2] == same[1][:2] and same[0][2] != same[1][2]


def test_folders_are_not_codable_and_never_referenced() -> None:
    root = fromstring(build_project_xml(make_project()))
    folder = root.find("q:CodeBook/q:Codes/q:Code", NS)
    assert folder is not None and folder.get("isCodable") == "false"
    refs = {el.get("targetGUID") for el in root.iter("{urn:QDA-XML:project:1.0}CodeRef")}
    assert guid_for("code", "category:1") not in refs
    # Three levels of nesting.
    leaf = root.find("q:CodeBook/q:Codes/q:Code/q:Code/q:Code", NS)
    assert leaf is not None and leaf.get("name") == "外出务工"


def test_notes_attached_where_the_schema_allows() -> None:
    root = fromstring(build_project_xml(make_project()))
    project_ref = root.find("q:NoteRef", NS)
    assert project_ref is not None
    assert project_ref.get("targetGUID") == guid_for("note", "memo:1")
    source_ref = root.find("q:Sources/q:TextSource/q:NoteRef", NS)
    assert source_ref is not None and source_ref.get("targetGUID") == guid_for("note", "memo:2")
    code_el = root.find(f".//q:Code[@guid='{guid_for('code', 'concept:2')}']", NS)
    assert code_el is not None
    assert code_el.find("q:NoteRef", NS).get("targetGUID") == guid_for("note", "memo:3")
    sel = root.find(f".//q:PlainTextSelection[@guid='{guid_for('selection', 'coding:3')}']", NS)
    assert sel is not None
    assert sel.find("q:NoteRef", NS).get("targetGUID") == guid_for("note", "memo:4")
    assert sel.find("q:Description", NS).text == "留守群体"
    notes = root.findall("q:Notes/q:Note", NS)
    assert [n.find("q:PlainTextContent", NS).text for n in notes][1] == "受访者很健谈。\n第二行"


def test_bmp_warning_names_only_the_astral_source(exported: tuple[Path, list[str]]) -> None:
    _, warnings = exported
    bmp = check_bmp(make_project())
    assert len(bmp) == 1 and "访谈02" in bmp[0] and "code point 0" in bmp[0]
    assert bmp[0] in warnings
    assert not any("访谈01" in w for w in warnings)


def test_round_trip(exported: tuple[Path, list[str]]) -> None:
    path, _ = exported
    project, warnings = read_qdpx(path)
    expected = as_exported(make_project())
    assert warnings == []
    assert project.name == expected.name and project.origin == expected.origin
    assert project.description == expected.description
    assert project.users == expected.users
    assert project.codes == expected.codes
    assert project.sources == expected.sources
    assert sorted(project.codings, key=lambda c: c.key) == sorted(
        expected.codings, key=lambda c: c.key
    )
    assert project.notes == expected.notes
    for coding in project.codings:
        text = next(s.text for s in project.sources if s.key == coding.source_key)
        original = next(
            c for c in make_project().codings if guid_for("coding", c.key) == coding.key
        )
        assert text[coding.start : coding.end] == TEXT_1[original.start : original.end] or (
            text[coding.start : coding.end] == TEXT_2[original.start : original.end]
        )


def test_codebook_validates_and_round_trips(
    tmp_path: Path, codebook_schema: xmlschema.XMLSchema
) -> None:
    path = tmp_path / "codes.qdc"
    write_qdc(make_codes(), path, origin="groundcode 0.1.0")
    data = path.read_bytes()
    assert data.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    codebook_schema.validate(data.decode("utf-8"))
    root = fromstring(data)
    assert root.tag == "{urn:QDA-XML:codebook:1.0}CodeBook"
    assert root.get("origin") == "groundcode 0.1.0"
    assert read_qdc(path) == as_exported(replace(make_project(), codes=make_codes())).codes
    with pytest.raises(ArchiveRefused, match="no codes"):
        build_codebook_xml([], origin="x")


def test_failed_write_leaves_old_file_and_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "out.qdpx"
    write_qdpx(make_project(), path)
    before = path.read_bytes()
    bad = make_project()
    bad = replace(
        bad, codings=[*bad.codings, replace(bad.codings[0], key="x", code_key="category:1")]
    )
    with pytest.raises(ArchiveRefused) as info:
        write_qdpx(bad, path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    assert "not codable" in str(info.value)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.qdpx"]
    fresh = tmp_path / "fresh.qdpx"
    outside = replace(bad.codings[0], key="y", end=len(TEXT_1) + 1)
    with pytest.raises(ArchiveRefused, match="outside"):
        write_qdpx(replace(make_project(), codings=[outside]), fresh)
    assert not fresh.exists()


def test_crlf_in_a_source_is_normalised_and_positions_remapped(tmp_path: Path) -> None:
    text = "第一行\r\n第二行：关键句子\r\n第三行"
    start, end = span(text, "关键句子")
    project = replace(
        make_project(),
        sources=[QdaSource("doc:9", "crlf", "\ufeff" + text, None)],
        codings=[QdaCoding("c", "doc:9", start + 1, end + 1, "concept:1", "coder:1", None, None)],
        notes=[],
    )
    path = tmp_path / "crlf.qdpx"
    warnings = write_qdpx(project, path)
    assert any("normalised" in w for w in warnings)
    # The same warning in the Chinese interface: worded from the catalog, not English.
    assert any("换行符统一为 LF" in say(w, "zh") for w in warnings)
    back, _ = read_qdpx(path)
    (coding,) = back.codings
    assert back.sources[0].text == "第一行\n第二行：关键句子\n第三行"
    assert back.sources[0].text[coding.start : coding.end] == "关键句子"


def test_normalise_text_maps_offsets() -> None:
    text, mapper = normalise_text("a\r\nb\rc\r\nd")
    assert text == "a\nb\nc\nd"
    assert [mapper(p) for p in (0, 1, 3, 5, 6, 8, 9)] == [0, 1, 2, 4, 5, 6, 7]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "字", "𠮷", "\r", "\n", "\r\n", "\ufeff"]), max_size=40).map(
        "".join
    )
)
def test_normalise_text_keeps_every_kept_character_at_its_mapped_offset(text: str) -> None:
    normal, mapper = normalise_text(text)
    assert "\r" not in normal
    for i, ch in enumerate(text):
        if i == 0 and ch == "\ufeff":
            continue
        expected = "\n" if ch == "\r" else ch
        if not (ch == "\r" and text[i + 1 : i + 2] == "\n"):
            assert normal[mapper(i)] == expected
    assert mapper(len(text)) == len(normal)


# ---- hostile and foreign inputs ---------------------------------------------------------


def snapshot(directory: Path) -> set[str]:
    return {str(p.relative_to(directory)) for p in directory.rglob("*")}


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def assert_refused(path: Path, pattern: str, **kwargs: int) -> None:
    before = snapshot(path.parent)
    with pytest.raises(ArchiveRefused) as info:
        read_qdpx(path, **kwargs)
    message = str(info.value)
    assert message.startswith(str(path)) and "\n" not in message
    assert re.search(pattern, message), message
    assert snapshot(path.parent) == before


MINIMAL_QDE = (
    b'<?xml version="1.0" encoding="utf-8"?>'
    b'<Project xmlns="urn:QDA-XML:project:1.0" name="p" origin="t"/>'
)


@pytest.mark.parametrize(
    "name", ["../evil.txt", "/abs/evil.txt", "C:/evil.txt", "sources\\evil.txt"]
)
def test_zip_slip_refused(tmp_path: Path, name: str) -> None:
    path = make_zip(tmp_path / "slip.qdpx", {"project.qde": MINIMAL_QDE, name: b"x"})
    assert_refused(path, "unsafe member name")
    assert not (tmp_path.parent / "evil.txt").exists()
    assert not (Path.cwd() / "evil.txt").exists()


def test_zip_bomb_refused_by_total_size(tmp_path: Path) -> None:
    path = make_zip(
        tmp_path / "bomb.qdpx",
        {"project.qde": MINIMAL_QDE, "sources/a.txt": b"\0" * (4 * 1024 * 1024)},
    )
    assert path.stat().st_size < 64 * 1024
    assert_refused(path, "zip bomb", max_total_bytes=1024 * 1024)


def test_zip_bomb_refused_by_ratio(tmp_path: Path) -> None:
    path = make_zip(
        tmp_path / "ratio.qdpx",
        {"project.qde": MINIMAL_QDE, "sources/a.txt": b"a" * (8 * 1024 * 1024)},
    )
    assert_refused(path, "compresses more than")


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE Project [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<Project xmlns="urn:QDA-XML:project:1.0" name="&lol4;" origin="x"/>
"""


def test_billion_laughs_refused(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "laughs.qdpx", {"project.qde": BILLION_LAUGHS})
    assert_refused(path, "unsafe XML")
    qdc = tmp_path / "laughs.qdc"
    qdc.write_bytes(BILLION_LAUGHS.replace(b"Project", b"CodeBook"))
    with pytest.raises(ArchiveRefused, match=r"laughs\.qdc: refused unsafe XML"):
        read_qdc(qdc)


def test_not_a_zip_refused(tmp_path: Path) -> None:
    path = tmp_path / "plain.qdpx"
    path.write_text("这不是压缩包", encoding="utf-8")
    assert_refused(path, "not a zip archive")


def test_malformed_project_refused(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "broken.qdpx", {"project.qde": b"<Project name='x'><Users>"})
    assert_refused(path, r"project\.qde: malformed XML")


def test_missing_project_qde_refused(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "empty.qdpx", {"sources/a.txt": b"x"})
    assert_refused(path, "no project.qde")


FOREIGN_QDE = """<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="外来项目" origin="OtherQDA 1.0">
  <Users><User guid="{AAAAAAAA-0000-0000-0000-000000000001}" name="王五"/></Users>
  <CodeBook><Codes>
    <Code guid="c0000000-0000-0000-0000-000000000001" name="主题" isCodable="true"/>
  </Codes></CodeBook>
  <Sources>
    <TextSource guid="50000000-0000-0000-0000-000000000001" name="bom-crlf"
                plainTextPath="internal://50000000-0000-0000-0000-000000000001.txt">
      <PlainTextSelection guid="5e000000-0000-0000-0000-000000000001" name="关键"
                          startPosition="{start}" endPosition="{end}"
                          creatingUser="aaaaaaaa-0000-0000-0000-000000000001">
        <Coding guid="c1000000-0000-0000-0000-000000000001"
                creatingUser="aaaaaaaa-0000-0000-0000-000000000001">
          <CodeRef targetGUID="c0000000-0000-0000-0000-000000000001"/>
        </Coding>
      </PlainTextSelection>
      <PlainTextSelection guid="5e000000-0000-0000-0000-000000000002" startPosition="5"
                          endPosition="9999">
        <Coding guid="c1000000-0000-0000-0000-000000000002">
          <CodeRef targetGUID="c0000000-0000-0000-0000-000000000001"/>
        </Coding>
      </PlainTextSelection>
      <PlainTextSelection guid="5e000000-0000-0000-0000-000000000003" startPosition="0"
                          endPosition="2">
        <Coding guid="c1000000-0000-0000-0000-000000000003">
          <CodeRef targetGUID="dddddddd-0000-0000-0000-000000000009"/>
        </Coding>
      </PlainTextSelection>
    </TextSource>
    <PDFSource guid="50000000-0000-0000-0000-000000000002" name="报告.pdf"
               path="internal://50000000-0000-0000-0000-000000000002.pdf"/>
    <TextSource guid="50000000-0000-0000-0000-000000000003" name="rich-only"
                richTextPath="internal://50000000-0000-0000-0000-000000000003.docx"/>
  </Sources>
</Project>
"""


def test_foreign_project_skips_with_warnings(
    tmp_path: Path, project_schema: xmlschema.XMLSchema
) -> None:
    raw = "前言\r\n这里有关键内容\r\n结尾"
    start, end = span(raw, "关键")
    qde = FOREIGN_QDE.replace("{start}", str(start)).replace("{end}", str(end))
    assert project_schema.is_valid(qde)
    path = make_zip(
        tmp_path / "foreign.qdpx",
        {
            "project.qde": qde.encode("utf-8"),
            "sources/50000000-0000-0000-0000-000000000001.txt": b"\xef\xbb\xbf"
            + raw.encode("utf-8"),
        },
    )
    before = snapshot(tmp_path)
    project, warnings = read_qdpx(path)
    assert snapshot(tmp_path) == before
    assert [s.name for s in project.sources] == ["bom-crlf"]
    text = project.sources[0].text
    assert "\r" not in text and not text.startswith("\ufeff")
    (coding,) = project.codings
    assert text[coding.start : coding.end] == "关键"
    assert coding.user_key == "aaaaaaaa-0000-0000-0000-000000000001"
    assert project.users == [QdaUser("aaaaaaaa-0000-0000-0000-000000000001", "王五")]
    joined = "\n".join(warnings)
    assert "PDF source '报告.pdf'" in joined
    assert "'rich-only'" in joined and "rich text only" in joined
    assert "outside the text" in joined
    assert "dddddddd-0000-0000-0000-000000000009" in joined
    assert "line ends normalised" in joined
    assert [c.name for c in iter_codes(project.codes)] == ["主题"]


def test_read_qdc_refuses_non_xml_and_zip(tmp_path: Path) -> None:
    zipped = make_zip(tmp_path / "zipped.qdc", {"a": b"b"})
    with pytest.raises(ArchiveRefused, match="zip archive"):
        read_qdc(zipped)
    broken = tmp_path / "broken.qdc"
    broken.write_bytes(b"<CodeBook")
    with pytest.raises(ArchiveRefused, match=r"broken\.qdc: malformed XML"):
        read_qdc(broken)
