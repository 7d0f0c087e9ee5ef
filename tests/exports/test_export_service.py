"""Exports of the demo project: every file, the paper's tables, REFI-QDA round trip, injection, privacy."""

from __future__ import annotations

import csv
import shutil
import zipfile
from pathlib import Path

import pytest
import xmlschema
from openpyxl import load_workbook

from groundcode.demo import build_demo
from groundcode.domain.errors import AlreadyExists
from groundcode.project import Project

DATA = Path(__file__).resolve().parents[1] / "data" / "refi"


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    build_demo(path)
    return path


@pytest.fixture
def demo(demo_file: Path, tmp_path: Path) -> Project:
    copy = tmp_path / "demo.db"
    shutil.copy(demo_file, copy)
    return Project.open(copy, user="chen")


def test_export_all_writes_every_file(demo: Project, tmp_path: Path) -> None:
    folder, paths = demo.exports.all(tmp_path / "exports")
    names = {p.relative_to(folder).as_posix() for p in paths}
    for expected in (
        "tables/tables.xlsx",
        "tables/table1.csv",
        "tables/table2.csv",
        "tables/tables.md",
        "tables/tables.tex",
        "tables/tables.docx",
        "codebook.yaml",
        "codebook.xlsx",
        "codebook.qdc",
        "segments.xlsx",
        "matrix.csv",
        "memos.xlsx",
        "agreement.xlsx",
        "saturation/saturation.md",
        "saturation/saturation-curve.png",
        "saturation/saturation-curve.svg",
        "model/model.svg",
        "model/model.mmd",
        "model/model.docx",
        "project.qdpx",
    ):
        assert expected in names, expected
        assert (folder / expected).stat().st_size > 0


def test_table1_and_table2_follow_the_paper(demo: Project, tmp_path: Path) -> None:
    (xlsx,) = demo.exports.tables(fmt="xlsx", out_dir=tmp_path)
    wb = load_workbook(xlsx)
    t1, t2 = wb.worksheets[0], wb.worksheets[1]
    rows = [
        r for r in t1.iter_rows(values_only=True) if r and r[0] is not None and str(r[0]).isdigit()
    ]
    assert [int(r[0]) for r in rows] == list(range(1, 41))
    first = rows[0]
    assert first[1] == "危害性"
    assert str(first[2]).startswith("新冠肺炎疫情对公众的危害：危及生命安全（")
    tree = demo.codebook.tree()
    assert [r[1] for r in rows] == [c.name for c in tree.categories()]
    mains = [
        r for r in t2.iter_rows(values_only=True) if r and r[1] is not None and str(r[1]).isdigit()
    ]
    assert len(mains) == 13
    merged = [str(m) for m in t2.merged_cells.ranges]
    relation_cells = [m for m in merged if m.startswith("A") and ":A" in m]
    assert len(relation_cells) == 6  # every relation class spans 2 or 3 main categories


def test_csv_tables_have_a_bom_and_english_headers(demo: Project, tmp_path: Path) -> None:
    paths = demo.exports.tables(fmt="csv", lang="en", out_dir=tmp_path)
    t1 = next(p for p in paths if p.name == "table1.csv")
    assert t1.read_bytes().startswith(b"\xef\xbb\xbf")
    with t1.open(encoding="utf-8-sig") as fh:
        header = next(csv.reader(fh))
    assert header[0] == "No."


def test_overwrite_needs_force(demo: Project, tmp_path: Path) -> None:
    demo.exports.tables(fmt="md", out_dir=tmp_path)
    before = (tmp_path / "tables.md").read_text(encoding="utf-8")
    with pytest.raises(AlreadyExists):
        demo.exports.tables(fmt="md", out_dir=tmp_path)
    assert (tmp_path / "tables.md").read_text(encoding="utf-8") == before
    demo.exports.tables(fmt="md", out_dir=tmp_path, force=True)


def test_formula_injection_from_comments_is_neutralised(demo: Project, tmp_path: Path) -> None:
    lin = demo.as_user("lin")
    doc = lin.corpus.document("4-272")
    assert doc.text.startswith("=HYPERLINK")
    lin.coding.apply("4-272", "=SUM(A1:A9)", passage=1)
    out = demo.exports.segments(tmp_path / "seg.xlsx")
    ws = load_workbook(out).active
    values = [c for row in ws.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert "'=SUM(A1:A9)" in values and not any(v.startswith("=") for v in values)
    assert any(v.startswith("'=HYPERLINK") for v in values)
    m = demo.exports.matrix(tmp_path / "m.csv", coder="lin")
    text = m.read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text and "\n=" not in text and ",=" not in text


def test_personal_documents_stay_out_unless_asked(demo: Project, tmp_path: Path) -> None:
    demo.corpus.mark_personal(["4-23"])
    seg = demo.exports.segments(tmp_path / "a.csv")
    assert ",4-23," not in seg.read_text(encoding="utf-8-sig")
    seg2 = demo.exports.segments(tmp_path / "b.csv", include_personal=True)
    assert "4-23" in seg2.read_text(encoding="utf-8-sig")
    path, _ = demo.exports.qdpx(tmp_path / "p.qdpx")
    with zipfile.ZipFile(path) as zf:
        qde = zf.read("project.qde").decode("utf-8")
    assert 'name="4-23 ' not in qde and "<TextValue>4-23</TextValue>" not in qde


def test_agreement_and_memo_exports_leave_personal_documents_out_unless_asked(
    demo: Project, tmp_path: Path
) -> None:
    disagreements = demo.analysis.disagreements()
    number = disagreements[0].document
    quoted = disagreements[0].text
    coding_id = int(demo.codings.codings(document=number)["id"].iloc[0])
    demo.coding.add_memo("document", number, "受访者的私人经历备忘")
    demo.coding.add_memo("coding", coding_id, "这段编码的私人备忘")
    demo.corpus.mark_personal([number])

    def sheet(path: Path, name: str) -> list[tuple[object, ...]]:
        return list(load_workbook(path)[name].iter_rows(values_only=True))

    agree = demo.exports.agreement(tmp_path / "a.xlsx", bootstrap=0)
    rows = sheet(agree, "disagreements")
    assert rows and all(r[0] != number and r[2] != quoted for r in rows[1:])
    left = [r for r in sheet(agree, "summary") if r[0] and "personal" in str(r[0])]
    assert left and left[0][1] == 1
    asked = demo.exports.agreement(tmp_path / "b.xlsx", bootstrap=0, include_personal=True)
    assert any(r[0] == number for r in sheet(asked, "disagreements"))

    memos = [str(r[4]) for r in sheet(demo.exports.memos(tmp_path / "m.xlsx"), "memos")]
    assert memos and not any("私人" in m for m in memos)
    every = sheet(demo.exports.memos(tmp_path / "n.xlsx", include_personal=True), "memos")
    assert sum("私人" in str(r[4]) for r in every) == 2


def test_qdpx_validates_and_round_trips(demo: Project, tmp_path: Path) -> None:
    path, warnings = demo.exports.qdpx(tmp_path / "demo.qdpx")
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        assert "project.qde" in names and all(
            n == "project.qde" or n.startswith("sources/") for n in names
        )
        xmlschema.XMLSchema(str(DATA / "Project-mrt2019.xsd")).validate(
            zf.read("project.qde").decode("utf-8")
        )
    qdc = demo.exports.codebook(tmp_path / "cb.qdc")
    xmlschema.XMLSchema(str(DATA / "Codebook-mrt2019.xsd")).validate(str(qdc))
    target = tmp_path / "back.db"
    with Project.create(target) as fresh:
        result = fresh.interchange.import_qdpx(path)
        assert result.documents > 0 and "documents" in result.summary()
    with Project.open(target) as back:
        lead = next(c.name for c in back.coding.coders() if c.role == "lead")
        got = back.as_user(lead).coding.codings()
        want = demo.coding.codings()
        key = ["coder", "concept", "text"]
        assert sorted(map(tuple, got[key].values.tolist())) == sorted(
            map(tuple, want[key].values.tolist())
        )
        assert sum(1 for _ in back.as_user(lead).codebook.tree().concepts()) >= 100


def test_retrieval_export_leaves_personal_documents_out_unless_asked(
    demo: Project, tmp_path: Path
) -> None:
    frame = demo.codebook.concepts_frame()
    category = str(frame["category"].dropna().iloc[0])
    segments = demo.queries.retrieve(category, level="category")
    number = str(segments["document"].iloc[0])
    demo.corpus.mark_personal([number])
    out = demo.exports.retrieval(tmp_path / "r.csv", category, level="category")
    with out.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and number not in {r["document"] for r in rows}
    assert len(rows) == int((segments["document"] != number).sum())
    every = demo.exports.retrieval(
        tmp_path / "all.csv", category, level="category", include_personal=True
    )
    with every.open(encoding="utf-8-sig") as fh:
        assert len(list(csv.DictReader(fh))) == len(segments)
