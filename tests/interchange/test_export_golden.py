"""The streaming ``.qdpx`` export writes exactly what the whole-project export wrote.

``export_reference`` is the export as it was before it streamed (the project
built in memory, then written). On the demo project plus what the demo lacks
(memos on the project, a document, a concept, a category and a coding, a
personal document, a long text, characters outside the BMP, several coders),
the new export must give the same ``project.qde`` and the same source files
byte for byte, and the same warnings, with the chunks small enough that every
source set spans many of them.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from groundcode.demo import CODERS, LEAD, build_demo
from groundcode.interchange import qdpx_export
from groundcode.project import Project
from tests.conftest import MakeProject
from tests.interchange import export_reference

CODEBOOK = Path(__file__).resolve().parents[2] / "codebooks" / "health-code.yaml"


@pytest.fixture(scope="module")
def varied_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("varied")
    path = folder / "varied.db"
    build_demo(path)
    with Project.open(path, user=LEAD) as p:
        texts = folder / "texts"
        texts.mkdir()
        (texts / "astral.txt").write_text(
            "𠮷野家的老板说：生意越来越难做。𩸽鱼也贵了，健康码天天要查。", encoding="utf-8"
        )
        (texts / "long.txt").write_text(
            "".join(f"第{i}段：健康码数据共享，行程码互认，社区登记。\n" for i in range(900)),
            encoding="utf-8",
        )
        before = set(p.corpus.documents()["number"])
        p.corpus.import_files([texts / "astral.txt"], type=1)
        (astral,) = set(p.corpus.documents()["number"]) - before
        p.corpus.import_files([texts / "long.txt"], type=1)
        numbers = p.corpus.documents()["number"].tolist()
        concept = str(p.codebook.concepts_frame()["concept"].iloc[0])
        coding = p.coding.apply(astral, concept, start=20, end=30, memo="鱼价的备注")
        p.coding.apply(astral, concept, start=2, end=9)
        p.coding.memos()
        p.coding.add_memo("project", None, "项目备忘\n第二行")
        p.coding.add_memo("document", numbers[0], "这篇文档的备忘")
        p.coding.add_memo("concept", concept, "概念备忘")
        category = str(p.codebook.tree().relation_classes[0].main_categories[0].categories[0].name)
        p.coding.add_memo("category", category, "类属备忘")
        p.coding.add_memo("coding", coding.id, "编码备忘：" + "长" * 60)
        p.as_user(CODERS[0]).coding.add_memo("document", numbers[1], "林的备忘")
        p.corpus.mark_personal([numbers[2], numbers[3]])
    return path


@pytest.fixture
def varied(varied_file: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "varied.db"
    shutil.copy(varied_file, copy)
    return copy


def _entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


@pytest.mark.parametrize(
    ("user", "include_personal"), [(LEAD, False), (LEAD, True), (CODERS[1], False)]
)
def test_streaming_export_writes_what_the_whole_project_export_wrote(
    varied: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    user: str,
    include_personal: bool,
) -> None:
    # Chunks of a few documents, so the sources, their codings and their notes
    # cross many chunk boundaries.
    monkeypatch.setattr(qdpx_export, "EXPORT_CHUNK", 7)
    with Project.open(varied, user=user) as p:
        reference = export_reference.build_project(p.interchange, include_personal=include_personal)
        old_warnings = export_reference.write_qdpx(reference, tmp_path / "old.qdpx")
        new_path, new_warnings = p.interchange.export_qdpx(
            tmp_path / "new.qdpx", include_personal=include_personal
        )
    old, new = _entries(tmp_path / "old.qdpx"), _entries(new_path)
    assert len(old) > 20
    assert sorted(new) == sorted(old)
    assert new["project.qde"] == old["project.qde"]
    for name in old:
        assert new[name] == old[name], name
    assert new_warnings == old_warnings
    # The layout is kept too (project.qde first, then the texts): the same archive.
    assert new_path.read_bytes() == (tmp_path / "old.qdpx").read_bytes()
    assert any("𠮷" in text.decode("utf-8") for text in old.values())
    if user == LEAD:
        assert b"NoteRef" in old["project.qde"]
        assert "鱼价的备注".encode() in old["project.qde"]


def test_streaming_export_matches_on_either_backend(
    make_project: MakeProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A small project built on the test's backend (PostgreSQL too): the same archive."""
    monkeypatch.setattr(qdpx_export, "EXPORT_CHUNK", 2)
    p = make_project(user=None, name="两个后端")
    p.people.add_coder(LEAD, role="lead")
    lead = p.as_user(LEAD)
    for coder in CODERS:
        lead.people.add_coder(coder)
    lead.codebook.import_yaml(CODEBOOK)
    folder = tmp_path / "texts"
    folder.mkdir()
    for i, text in enumerate(
        [
            "健康码数据共享。行程码互认。",
            "𠮷野家的老板说：生意越来越难做。健康码天天要查。",
            "政府的补贴帮了大忙。\n土地流转以后，收入反而提高了。",
            "第四篇：没有编码的文本。",
            "第五篇：个人的文档。" * 200,
        ]
    ):
        (folder / f"{i}.txt").write_text(text, encoding="utf-8")
    lead.corpus.import_files(sorted(folder.iterdir()), type=1)
    numbers = lead.corpus.documents()["number"].tolist()
    concepts = lead.codebook.concepts_frame()["concept"].tolist()
    lead.progress.assign(list(CODERS), documents=numbers[:3])
    for n, coder in enumerate(CODERS):
        me = p.as_user(coder)
        me.coding.apply(numbers[0], concepts[n], start=0, end=5)
        me.coding.apply(numbers[1], concepts[2], start=3, end=12, memo=f"{coder}的备注")
        me.coding.apply(numbers[4], concepts[3], start=0, end=4)
        me.progress.done(numbers[: 2 + n])
    lead.coding.add_memo("project", None, "项目备忘")
    lead.coding.add_memo("document", numbers[2], "文档备忘")
    lead.coding.add_memo("concept", concepts[0], "概念备忘")
    lead.corpus.mark_personal([numbers[4]])
    for include_personal in (False, True):
        reference = export_reference.build_project(
            lead.interchange, include_personal=include_personal
        )
        old_warnings = export_reference.write_qdpx(reference, tmp_path / "old.qdpx")
        new_path, new_warnings = lead.interchange.export_qdpx(
            tmp_path / "new.qdpx", include_personal=include_personal, force=True
        )
        assert new_path.read_bytes() == (tmp_path / "old.qdpx").read_bytes()
        assert new_warnings == old_warnings and new_warnings
        (tmp_path / "old.qdpx").unlink()


def test_an_empty_project_exports_the_same(make_project: MakeProject, tmp_path: Path) -> None:
    p = make_project(user=None, name="空项目")
    p.people.add_coder(LEAD, role="lead")
    lead = p.as_user(LEAD)
    reference = export_reference.build_project(lead.interchange)
    old_warnings = export_reference.write_qdpx(reference, tmp_path / "old.qdpx")
    new_path, new_warnings = lead.interchange.export_qdpx(tmp_path / "new.qdpx")
    assert new_path.read_bytes() == (tmp_path / "old.qdpx").read_bytes()
    assert new_warnings == old_warnings
