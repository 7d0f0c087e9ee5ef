"""The demo project through ``.qdpx`` and back: groundcode's facts survive (SPEC §3).

Agreement, saturation and Table 1 are compared as the services give them
before and after, so the test stays valid while those outputs evolve.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
import xmlschema

from groundcode.demo import LEAD, build_demo
from groundcode.interchange.refi_read import read_qdpx
from groundcode.interchange.refi_write import safe_source_name
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
    return Project.open(copy, user=LEAD)


def outputs(p: Project) -> dict[str, object]:
    """What a paper reports, as the services give it."""
    documents = p.corpus.documents()
    documents = documents.astype(object).where(documents.notna(), None)
    return {
        "agreement": p.analysis.agreement().to_json(),
        "agreement_holdout": p.analysis.agreement(split="holdout").to_json(),
        "saturation": p.analysis.saturation().to_json(),
        "table1": p.exports.table_rows()[0],
        "table2": p.exports.table_rows()[1],
        "funnel": p.corpus.funnel(),
        "documents": documents.drop(columns=["personal"], errors="ignore").to_dict("records"),
        "coders": [(c.name, c.role) for c in p.coding.coders(include_consensus=True)],
    }


def test_export_and_import_give_the_same_agreement_saturation_and_tables(
    demo: Project, tmp_path: Path
) -> None:
    path, _ = demo.interchange.export_qdpx(tmp_path / "demo.qdpx")
    with zipfile.ZipFile(path) as zf:
        xmlschema.XMLSchema(str(DATA / "Project-mrt2019.xsd")).validate(
            zf.read("project.qde").decode("utf-8")
        )
    before = outputs(demo)
    with Project.create(tmp_path / "back.db") as fresh:
        result = fresh.interchange.import_qdpx(path)
    assert result.losses == ()
    with Project.open(tmp_path / "back.db", user=LEAD) as back:
        after = outputs(back)
    for key in before:
        assert after[key] == before[key], key


def test_importing_its_own_export_adds_nothing(demo: Project, tmp_path: Path) -> None:
    path, _ = demo.interchange.export_qdpx(tmp_path / "demo.qdpx")
    n_docs, n_codings = demo.corpus.count(), len(demo.coding.codings())
    memos = len(demo.coding.memos())
    result = demo.interchange.import_qdpx(path)
    assert result.documents == 0 and result.codings == 0 and result.memos == 0
    assert len(result.present) == n_docs
    assert (demo.corpus.count(), len(demo.coding.codings()), len(demo.coding.memos())) == (
        n_docs,
        n_codings,
        memos,
    )


def test_source_names_are_safe_file_names(demo: Project, tmp_path: Path) -> None:
    assert safe_source_name("4-1 见 http://example.com/a?b", "4-1") == "4-1 见 http_example.com_a_b"
    assert safe_source_name("  ", "4-2") == "4-2"
    path, _ = demo.interchange.export_qdpx(tmp_path / "demo.qdpx")
    project = read_qdpx(path)[0]
    names = [s.name for s in project.sources]
    assert all(not any(ch in name for ch in '/\\:*?"<>|') for name in names)
    assert not any(name.endswith(" nan") or name.endswith("None") for name in names)
    untitled = [
        r.number for r in demo.corpus.documents().itertuples() if not (r.title or "").strip()
    ]
    for number in untitled:
        assert number in names


def test_a_category_created_after_the_start_and_deleted_still_counts_after_import(
    demo: Project, tmp_path: Path
) -> None:
    demo.codebook.create_category("检验后新增范畴", number=None, definition="临时")
    demo.codebook.delete("category", "检验后新增范畴")
    before = demo.analysis.saturation().to_json()
    assert before["saturated"] is False
    assert "检验后新增范畴" in before["new_categories"]
    path, _ = demo.interchange.export_qdpx(tmp_path / "demo.qdpx")
    with Project.create(tmp_path / "back.db") as fresh:
        fresh.interchange.import_qdpx(path)
    with Project.open(tmp_path / "back.db", user=LEAD) as back:
        assert back.analysis.saturation().to_json() == before


def test_assignments_and_done_marks_travel_once(demo: Project, tmp_path: Path) -> None:
    """Both (coder, document) tables come back as they were, done marks with their audit
    rows, and a second import of the same file adds none of either."""
    from sqlalchemy import text

    def pairs(p: Project) -> dict[str, set[tuple[str, str]]]:
        out: dict[str, set[tuple[str, str]]] = {}
        with p.db.read() as s:
            for table in ("assignment", "done_mark"):
                out[table] = {
                    (str(c), str(n))
                    for c, n in s.execute(
                        text(
                            f"SELECT c.name, d.number FROM {table} t "
                            "JOIN coder c ON c.id = t.coder_id JOIN document d ON d.id = t.document_id"
                        )
                    ).all()
                }
            out["audit"] = {
                (str(a), str(e))
                for a, e in s.execute(
                    text("SELECT actor, entity_id FROM audit_log WHERE action = 'done.mark'")
                ).all()
            }
        return out

    before = pairs(demo)  # the demo assigns documents, and its coders mark some done
    assert before["assignment"] and len(before["done_mark"]) >= 3
    path, _ = demo.interchange.export_qdpx(tmp_path / "demo.qdpx")
    with Project.create(tmp_path / "back.db") as fresh:
        fresh.interchange.import_qdpx(path)
    with Project.open(tmp_path / "back.db", user=LEAD) as back:
        after = pairs(back)
        assert after["assignment"] == before["assignment"]
        assert after["done_mark"] == before["done_mark"]
        assert len(after["audit"]) >= len(before["done_mark"])
        back.interchange.import_qdpx(path)
        assert pairs(back) == after


@pytest.mark.parametrize(
    "csv",
    ["title,text\n,健康码数据共享。\n  ,行程码互认。\n", "text\n健康码数据共享。\n行程码互认。\n"],
    ids=["empty-title", "no-title-column"],
)
def test_untitled_sources_are_named_by_their_number(tmp_path: Path, csv: str) -> None:
    """Untitled comments were exported as "4-1 nan" (pandas' missing value as text)."""
    f = tmp_path / "c.csv"
    f.write_text(csv, encoding="utf-8")
    with Project.create(tmp_path / "p.db") as p:
        p.corpus.import_files([f], type=4)
        path, _ = p.interchange.export_qdpx(tmp_path / "p.qdpx")
    assert sorted(s.name for s in read_qdpx(path)[0].sources) == ["4-1", "4-2"]
