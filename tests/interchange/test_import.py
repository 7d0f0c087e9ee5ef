"""Importing REFI-QDA projects: one transaction, tolerant of real tools, with a loss report.

The archives are built here the way the tools in question write them: the
qualitative-coding package's demo export (``plainTextPath`` without a scheme),
NVivo 15 (an empty plain-text file beside the ``.docx`` it really keeps the
text in), and an archive with a source file really missing.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from groundcode.domain.errors import GroundcodeError
from groundcode.project import Project
from tests.cli.conftest import RunCli
from tests.conftest import MakeProject

NS = "urn:QDA-XML:project:1.0"
USER = "aaaaaaaa-0000-4000-8000-000000000001"
CODE = "cccccccc-0000-4000-8000-000000000001"
TEXT_A = "我们村里的年轻人大多外出打工了。\n留下来的主要是老人和孩子。"
TEXT_B = "政府的补贴帮了大忙。"


def source_guid(i: int) -> str:
    return f"50000000-0000-4000-8000-{i:012d}"


def text_source(i: int, attrs: str, coded: tuple[int, int] | None = None) -> str:
    selection = ""
    if coded is not None:
        selection = (
            f'<PlainTextSelection guid="5e000000-0000-4000-8000-{i:012d}" '
            f'startPosition="{coded[0]}" endPosition="{coded[1]}" creatingUser="{USER}">'
            f'<Coding guid="c1000000-0000-4000-8000-{i:012d}" creatingUser="{USER}">'
            f'<CodeRef targetGUID="{CODE}"/></Coding></PlainTextSelection>'
        )
    return f'<TextSource guid="{source_guid(i)}" name="source {i}" {attrs}>{selection}</TextSource>'


def qde(sources: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<Project xmlns="{NS}" name="外来项目" origin="other tool">'
        f'<Users><User guid="{USER}" name="王五"/></Users>'
        f'<CodeBook><Codes><Code guid="{CODE}" name="外出务工" isCodable="true"/></Codes></CodeBook>'
        f"<Sources>{sources}</Sources></Project>"
    ).encode()


def make_qdpx(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def docx_bytes(*paragraphs: str) -> bytes:
    import docx

    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def texts(p: Project) -> list[str]:
    return [p.corpus.document(n).text for n in p.corpus.documents()["number"]]


def test_plain_text_paths_without_a_scheme_are_found_in_sources(
    project: Project, tmp_path: Path
) -> None:
    start = TEXT_A.index("外出打工")
    path = make_qdpx(
        tmp_path / "qc-demo.qdpx",
        {
            "project.qde": qde(
                text_source(1, f'plainTextPath="{source_guid(1)}.txt"', (start, start + 4))
                + text_source(2, f'plainTextPath="sources/{source_guid(2)}.txt"')
            ),
            f"sources/{source_guid(1)}.txt": TEXT_A.encode(),
            f"sources/{source_guid(2)}.txt": TEXT_B.encode(),
        },
    )
    result = project.interchange.import_qdpx(path)
    assert (result.documents, result.codings, result.losses) == (2, 1, ())
    assert texts(project) == [TEXT_A, TEXT_B]
    lead = project.as_user("王五")
    (coding,) = lead.coding.codings().itertuples()
    assert (coding.concept, coding.text) == ("外出务工", "外出打工")


def test_empty_plain_text_beside_a_docx_reads_the_rich_text(
    project: Project, tmp_path: Path
) -> None:
    path = make_qdpx(
        tmp_path / "nvivo15.qdpx",
        {
            "project.qde": qde(
                text_source(
                    1,
                    f'plainTextPath="internal://{source_guid(1)}.txt" '
                    f'richTextPath="internal://{source_guid(1)}.docx"',
                )
            ),
            f"sources/{source_guid(1)}.txt": b"",
            f"sources/{source_guid(1)}.docx": docx_bytes("第一段：健康码。", "第二段：行程卡。"),
        },
    )
    result = project.interchange.import_qdpx(path)
    assert result.documents == 1 and result.losses == ()
    assert texts(project) == ["第一段：健康码。\n第二段：行程卡。"]
    assert any("rich text" in w for w in result.warnings)
    assert all("/tmp" not in w and "groundcode-qdpx" not in w for w in result.warnings)


def test_missing_files_are_listed_and_the_rest_imported(project: Project, tmp_path: Path) -> None:
    path = make_qdpx(
        tmp_path / "partial.qdpx",
        {
            "project.qde": qde(
                text_source(1, f'plainTextPath="internal://{source_guid(1)}.txt"')
                + text_source(2, f'plainTextPath="internal://{source_guid(2)}.txt"', (0, 3))
                + text_source(3, 'plainTextPath="absolute:///home/x/interview.txt"')
            ),
            f"sources/{source_guid(1)}.txt": TEXT_A.encode(),
        },
    )
    result = project.interchange.import_qdpx(path)
    assert result.documents == 1
    assert texts(project) == [TEXT_A]
    kinds = sorted((loss.kind, loss.name) for loss in result.losses)
    assert kinds == [("missing", "source 'source 2'"), ("outside", "source 'source 3'")]


def test_a_refused_import_changes_nothing(make_project: MakeProject, tmp_path: Path) -> None:
    lead = make_project(user="chen")
    lead.coding.add_coder("chen", role="lead")
    lead.coding.add_coder("lin")
    path = make_qdpx(
        tmp_path / "ok.qdpx",
        {
            "project.qde": qde(text_source(1, f'plainTextPath="internal://{source_guid(1)}.txt"')),
            f"sources/{source_guid(1)}.txt": TEXT_A.encode(),
        },
    )
    with pytest.raises(GroundcodeError):
        make_project(user="lin").interchange.import_qdpx(path)
    assert lead.corpus.count() == 0
    assert [c.name for c in lead.coding.coders()] == ["chen", "lin"]


def test_cli_refused_import_leaves_no_project_file(run_cli: RunCli, tmp_path: Path) -> None:
    broken = make_qdpx(tmp_path / "broken.qdpx", {"project.qde": b"<Project name='x'><Users>"})
    db = tmp_path / "new.db"
    result = run_cli("--db", str(db), "import-qdpx", str(broken))
    assert result.code == 2 and "malformed XML" in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert not list(tmp_path.glob("new.db*"))


def test_cli_import_creates_the_project(run_cli: RunCli, tmp_path: Path) -> None:
    path = make_qdpx(
        tmp_path / "ok.qdpx",
        {
            "project.qde": qde(text_source(1, f'plainTextPath="internal://{source_guid(1)}.txt"')),
            f"sources/{source_guid(1)}.txt": TEXT_A.encode(),
        },
    )
    db = tmp_path / "new.db"
    result = run_cli("--db", str(db), "import-qdpx", str(path))
    assert result.code == 0, result.err
    assert "imported 1 documents" in result.out
    again = run_cli("--db", str(db), "--as", "王五", "import-qdpx", str(path))
    assert again.code == 0 and "1 already present" in again.out
    with Project.open(db) as p:
        assert p.corpus.count() == 1


def test_a_codebook_nested_10000_deep_is_one_line(run_cli: RunCli, tmp_path: Path) -> None:
    n = 10_000
    body = (
        "".join(
            f'<Code guid="00000000-0000-4000-8000-{i:012d}" name="c{i}" isCodable="true">'
            for i in range(n)
        )
        + "</Code>" * n
    )
    deep = tmp_path / "deep.qdc"
    deep.write_text(
        '<?xml version="1.0" encoding="utf-8"?><CodeBook xmlns="urn:QDA-XML:codebook:1.0">'
        f"<Codes>{body}</Codes></CodeBook>",
        encoding="utf-8",
    )
    db = tmp_path / "p.db"
    assert run_cli("--db", str(db), "init").code == 0
    result = run_cli("--db", str(db), "codebook", "import", str(deep))
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1 and "nested" in result.err


def test_losses_are_worded_in_both_languages(project: Project, tmp_path: Path) -> None:
    path = make_qdpx(
        tmp_path / "partial.qdpx",
        {"project.qde": qde(text_source(1, f'plainTextPath="internal://{source_guid(1)}.txt"'))},
    )
    result = project.interchange.import_qdpx(path)
    (loss,) = result.losses
    assert "missing" in loss.word("en") and "缺少" in loss.word("zh")
    assert result.to_json()["losses"][0]["kind"] == "missing"


def test_blind_export_leaves_out_other_coders_concepts(
    make_project: MakeProject, tmp_path: Path
) -> None:
    lead = make_project(user="chen")
    lead.coding.add_coder("chen", role="lead")
    lead.coding.add_coder("lin")
    lead.coding.add_coder("zhou")
    source = tmp_path / "a.txt"
    source.write_text(TEXT_A, encoding="utf-8")
    lead.corpus.import_files([source], type=1)
    make_project(user="lin").coding.apply("1-1", "只有林知道", passage=1)
    zhou = make_project(user="zhou")
    zhou.coding.apply("1-1", "周的概念", passage=2)
    path, _ = zhou.interchange.export_qdpx(tmp_path / "zhou.qdpx")
    with zipfile.ZipFile(path) as zf:
        qde = zf.read("project.qde").decode("utf-8")
    assert "周的概念" in qde and "只有林知道" not in qde
    full, _ = lead.interchange.export_qdpx(tmp_path / "lead.qdpx")
    with zipfile.ZipFile(full) as zf:
        assert "只有林知道" in zf.read("project.qde").decode("utf-8")


def test_a_file_broken_after_its_sources_changes_nothing(project: Project, tmp_path: Path) -> None:
    """Sources are written as they stream; XML broken after them still rolls all back."""
    good = qde(
        "".join(text_source(i, f'plainTextPath="internal://{source_guid(i)}.txt"') for i in (1, 2))
    )
    path = make_qdpx(
        tmp_path / "cut.qdpx",
        {
            "project.qde": good.replace(b"</Sources></Project>", b"</Sources><Notes><Note>"),
            f"sources/{source_guid(1)}.txt": TEXT_A.encode(),
            f"sources/{source_guid(2)}.txt": TEXT_B.encode(),
        },
    )
    with pytest.raises(GroundcodeError, match="malformed XML"):
        project.interchange.import_qdpx(path)
    assert project.corpus.count() == 0
    assert all(c.name != "王五" for c in project.coding.coders())
    ok = make_qdpx(
        tmp_path / "ok.qdpx",
        {
            "project.qde": good,
            f"sources/{source_guid(1)}.txt": TEXT_A.encode(),
            f"sources/{source_guid(2)}.txt": TEXT_B.encode(),
        },
    )
    assert project.interchange.import_qdpx(ok).documents == 2  # nothing left half-made
