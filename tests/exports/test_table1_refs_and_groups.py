"""Table 1 (SPEC §6): refs from the build set, per-definition concept groups, docx layout."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from groundcode.coding.codebook_yaml import dump_codebook, parse_codebook
from groundcode.exports.tables import NB_HYPHEN, Table1Row, concepts_text, nonbreaking_numbers
from groundcode.project import Project
from tests.conftest import MakeProject

ROOT = Path(__file__).resolve().parents[2]


def test_row_10_keeps_each_definition_with_its_concepts() -> None:
    row = Table1Row(
        "10",
        "采集方法",
        "健康码数据集中式采集；健康码数据分布式采集",
        [
            ("通过数据库与个体填报获取信息数据", ["4-3"]),
            ("通过手机应用，以蓝牙或超声波方式获取信息数据", ["4-6"]),
        ],
        ["健康码数据集中式采集", "健康码数据分布式采集"],
    )
    # The paper's row 10, with the printed paper's full-width punctuation.
    assert concepts_text(row) == (
        "健康码数据集中式采集：通过数据库与个体填报获取信息数据（4-3）；"
        "健康码数据分布式采集：通过手机应用，以蓝牙或超声波方式获取信息数据（4-6）"
    )
    plain = Table1Row("1", "危害性", "新冠肺炎疫情对公众的危害", [("危及生命安全", ["2-5"])])
    assert concepts_text(plain, lang="en") == "新冠肺炎疫情对公众的危害: 危及生命安全 (2-5)"


def test_shipped_codebook_groups_row_10_and_round_trips() -> None:
    text = (ROOT / "codebooks" / "health-code.yaml").read_text(encoding="utf-8")
    spec = parse_codebook(text, "health-code.yaml")
    row10 = next(c for c in spec.categories() if c.number == "10")
    assert [k.group for k in row10.concepts] == ["健康码数据集中式采集", "健康码数据分布式采集"]
    again = parse_codebook(dump_codebook(spec), "again.yaml")
    assert again == spec


@pytest.fixture
def coded(make_project: MakeProject, tmp_path: Path) -> Project:
    p = make_project()
    p.coding.add_coder("chen", role="lead")
    lead = p.as_user("chen")
    lead.codebook.import_yaml(ROOT / "codebooks" / "health-code.yaml")
    rows = "\n".join(f"评论{i}：健康码数据的采集方式第{i}条" for i in range(1, 11))
    (tmp_path / "c.csv").write_text("text\n" + rows + "\n", encoding="utf-8")
    lead.corpus.import_files([tmp_path / "c.csv"], type=4)
    lead.corpus.split(holdout=0.3, seed=1)
    return lead


def test_refs_come_from_the_build_set_by_default(coded: Project, tmp_path: Path) -> None:
    build = sorted(coded.corpus.documents(split="build")["number"], key=lambda n: int(n[2:]))
    hold = sorted(coded.corpus.documents(split="holdout")["number"], key=lambda n: int(n[2:]))
    concept = "通过数据库与个体填报获取信息数据"
    # Coded first (by number) on a holdout document, then on a build document.
    first, later = (
        (hold[0], build[-1]) if int(hold[0][2:]) < int(build[-1][2:]) else (hold[0], build[0])
    )
    coded.coding.apply(first, concept, passage=1)
    coded.coding.apply(later, concept, passage=1)
    t1, _ = coded.exports.table_rows(coder="chen")
    row = next(r for r in t1 if r.number == "10")
    assert dict(row.concepts)[concept] == [later]
    t1_all, _ = coded.exports.table_rows(coder="chen", refs_from="all")
    row_all = next(r for r in t1_all if r.number == "10")
    assert set(dict(row_all.concepts)[concept]) == {first, later}
    assert row.groups == ["健康码数据集中式采集", "健康码数据分布式采集"]


def test_docx_numbers_do_not_break_and_rows_do_not_split(coded: Project, tmp_path: Path) -> None:
    build = coded.corpus.documents(split="build")["number"].tolist()
    coded.coding.apply(build[0], "通过数据库与个体填报获取信息数据", passage=1)
    [path] = coded.exports.tables(fmt="docx", out_dir=tmp_path / "out", coder="chen")
    xml = zipfile.ZipFile(path).read("word/document.xml").decode("utf-8")
    assert f"{build[0].split('-')[0]}{NB_HYPHEN}{build[0].split('-')[1]}" in xml
    assert f"（{build[0]}）" not in xml
    rows = xml.count("<w:tr>") + xml.count("<w:tr ")
    assert rows > 40 and xml.count("<w:cantSplit/>") == rows


def test_nonbreaking_numbers_touch_only_document_numbers() -> None:
    assert nonbreaking_numbers("a（2-5、10-12）b") == f"a（2{NB_HYPHEN}5、10{NB_HYPHEN}12）b"
    assert nonbreaking_numbers("2020-04-01") == "2020-04-01"
