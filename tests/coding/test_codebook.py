"""The codebook service on a real project database (SQLite, and PostgreSQL in CI)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from sqlmodel import Session, func, select

from groundcode.coding.codebook import HOLDING_CONCEPT
from groundcode.coding.codebook_yaml import parse_codebook
from groundcode.domain.errors import (
    AlreadyExists,
    BlindHidden,
    Forbidden,
    GroundcodeError,
    NotFound,
    OutOfRange,
)
from groundcode.project import Project
from groundcode.store.settings import set_setting
from groundcode.store.tables import AuditLog, Coder, Coding, Concept, Document, Memo

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "data" / "codebooks"
HEALTH_CODE = ROOT / "codebooks" / "health-code.yaml"

SMALL = """\
# A small codebook for the service tests.
name: 小样本
core_category:
  name: 核心
  definition: 核心定义
storyline: |
  第一句。
  第二句。
relation_classes:
  - name: 情境背景
    definition: 背景
    main_categories:
      - number: "1"
        name: 突发事件
        categories:
          - number: "1"
            name: 危害性
            definition: 危害
            concepts:
              - 危及生命
              - {name: 基础疾病, definition: 合并基础疾病}
          - number: "2"
            name: 传染性
            concepts: [人传人]
  - name: 应对
    main_categories:
      - number: "2"
        name: 政策规范
        categories:
          - number: "3"
            name: 制度框架
            concepts: [出台文件, 监管]
uncategorised:
  - 未归类概念
model:
  edges:
    - {from: 情境背景, to: 核心, label: 影响}
    - {from: 突发事件, to: 政策规范, label: 推动}
    - {from: 制度框架, to: 核心}
"""

TEXT = "疫情危及生命安全，人传人现象明显，各地出台文件加强监管。" * 3


# -- helpers: the corpus and coding services are not under test, so rows go in directly


def write(tmp_path: Path, text: str, name: str = "codebook.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


T = TypeVar("T")


def run(project: Project, fn: Callable[[Session], T]) -> T:
    return project.db.run(fn)


def add_coder(project: Project, name: str, role: str = "coder") -> int:
    def work(s: Session) -> int:
        coder = Coder(name=name, role=role)
        s.add(coder)
        s.flush()
        assert coder.id is not None
        return coder.id

    return run(project, work)


def add_document(project: Project, seq: int = 1) -> int:
    def work(s: Session) -> int:
        doc = Document(
            source_type_id=1, seq=seq, number=f"1-{seq}", text=TEXT, content_hash=f"h{seq}"
        )
        s.add(doc)
        s.flush()
        assert doc.id is not None
        return doc.id

    return run(project, work)


def add_coding(
    project: Project, coder_id: int, concept: str, doc_id: int, start: int, end: int
) -> int:
    def work(s: Session) -> int:
        concept_row = s.exec(select(Concept).where(Concept.name == concept)).first()
        if concept_row is None:
            concept_row = Concept(name=concept)
            s.add(concept_row)
            s.flush()
        coding = Coding(
            coder_id=coder_id,
            concept_id=concept_row.id,  # type: ignore[arg-type]
            document_id=doc_id,
            start=start,
            end=end,
            snippet=TEXT[start:end],
        )
        s.add(coding)
        s.flush()
        assert coding.id is not None
        return coding.id

    return run(project, work)


def codings(project: Project) -> dict[int, tuple[int, int, int, int, str]]:
    """Every coding: id -> (coder, document, start, end, concept name)."""
    with project.db.read() as s:
        rows = s.exec(select(Coding, Concept.name).join(Concept)).all()
        return {c.id: (c.coder_id, c.document_id, c.start, c.end, n) for c, n in rows}  # type: ignore[misc]


@dataclass(frozen=True)
class Audited:
    action: str
    actor: str | None
    before: str | None
    after: str | None


def audit(project: Project, action: str | None = None) -> list[Audited]:
    with project.db.read() as s:
        q = select(AuditLog).order_by(AuditLog.id)  # type: ignore[arg-type]
        if action is not None:
            q = q.where(AuditLog.action == action)
        return [Audited(r.action, r.actor, r.before, r.after) for r in s.exec(q).all()]


def audit_count(project: Project) -> int:
    with project.db.read() as s:
        return int(s.exec(select(func.count()).select_from(AuditLog)).one())


def blind_off(project: Project) -> None:
    run(project, lambda s: set_setting(s, "blind_mode", "off"))


@pytest.fixture
def small(tmp_path: Path) -> Path:
    return write(tmp_path, SMALL, "small.yaml")


@pytest.fixture
def coded(project: Project, small: Path) -> dict[str, int]:
    """The small codebook with two coders' codings on one document; blind mode off."""
    project.codebook.import_yaml(small)
    blind_off(project)
    a, b = add_coder(project, "alice"), add_coder(project, "bob")
    doc = add_document(project)
    ids = {
        "a_life": add_coding(project, a, "危及生命", doc, 2, 8),
        "a_spread": add_coding(project, a, "人传人", doc, 9, 14),
        "b_life": add_coding(project, b, "危及生命", doc, 2, 8),
        "b_policy": add_coding(project, b, "出台文件", doc, 19, 23),
        "b_rule": add_coding(project, b, "监管", doc, 25, 27),
    }
    return {"alice": a, "bob": b, "doc": doc, **ids}


# -- import, tree, export ----------------------------------------------------------


def test_import_into_empty_project_creates_everything_in_order(
    project: Project, small: Path
) -> None:
    summary = project.codebook.import_yaml(small)
    assert summary.relation_classes.created == 2
    assert summary.main_categories.created == 2
    assert summary.categories.created == 3
    assert summary.concepts.created == 6
    assert summary.edges.created == 3
    assert {"core_category", "core_definition", "storyline"} <= set(summary.settings_changed)

    tree = project.codebook.tree()
    assert [rc.name for rc in tree.relation_classes] == ["情境背景", "应对"]
    assert [c.name for c in tree.categories()] == ["危害性", "传染性", "制度框架"]
    assert [c.number for c in tree.categories()] == ["1", "2", "3"]
    assert [k.name for k in tree.category("危害性").concepts] == ["危及生命", "基础疾病"]
    assert tree.concept("基础疾病").definition == "合并基础疾病"
    assert [k.name for k in tree.uncategorised] == ["未归类概念"]
    model = project.codebook.model()
    assert (model.core, model.core_definition) == ("核心", "核心定义")
    assert model.storyline == "第一句。\n第二句。"
    assert [(e.from_name, e.to_name, e.label) for e in model.edges] == [
        ("情境背景", "核心", "影响"),
        ("突发事件", "政策规范", "推动"),
        ("制度框架", "核心", None),
    ]
    assert model.problems == ()
    assert len(audit(project, "category.create")) == 3
    assert len(audit(project, "codebook.import")) == 1


def test_tree_counts_codings_per_level_and_per_coder(
    project: Project, coded: dict[str, int]
) -> None:
    tree = project.codebook.tree()
    assert tree.concept("危及生命").n_codings == 2
    assert tree.category("危害性").n_codings == 2
    assert tree.main_category("突发事件").n_codings == 3
    assert tree.relation_class("应对").n_codings == 2
    assert tree.n_codings == 5

    alice = project.codebook.tree(coder_ids=[coded["alice"]])
    assert alice.concept("危及生命").n_codings == 1
    assert alice.relation_class("情境背景").n_codings == 2
    assert alice.relation_class("应对").n_codings == 0
    assert alice.n_codings == 2


def test_blind_mode_counts_only_the_acting_coders_codings(
    make_project: Callable[..., Project], small: Path
) -> None:
    project = make_project()
    project.codebook.import_yaml(small)
    a, b = add_coder(project, "alice"), add_coder(project, "bob")
    doc = add_document(project)
    add_coding(project, a, "危及生命", doc, 2, 8)
    add_coding(project, b, "危及生命", doc, 2, 8)
    add_coding(project, b, "监管", doc, 25, 27)

    with pytest.raises(Forbidden):
        project.codebook.tree()
    # the model is structure: shown to anyone, without counts they may not see
    assert project.codebook.model().relation_classes[0].n_codings == 0
    alice = make_project(user="alice").codebook
    assert alice.model().relation_classes[0].n_codings == 1
    assert alice.tree().n_codings == 1
    with pytest.raises(BlindHidden) as hidden:
        alice.tree(coder_ids=[b])
    assert hidden.value.actor == "alice"
    lead_id = add_coder(project, "lin", role="lead")
    assert lead_id > 0
    assert make_project(user="lin").codebook.tree().n_codings == 3


def test_export_is_lossless(project: Project, small: Path, tmp_path: Path) -> None:
    project.codebook.import_yaml(small)
    out = project.codebook.export_yaml(tmp_path / "out.yaml")
    original = parse_codebook(SMALL, "small.yaml")
    exported = parse_codebook(out.read_text(encoding="utf-8"), str(out))
    assert exported == original
    assert project.codebook.to_spec() == original
    assert out.read_text(encoding="utf-8").startswith("# groundcode codebook: 小样本\n")

    with pytest.raises(AlreadyExists):
        project.codebook.export_yaml(out)
    project.codebook.rename("concept", "监管", "加强监管")
    project.codebook.export_yaml(out, force=True)
    assert "加强监管" in out.read_text(encoding="utf-8")


def test_reimport_is_unchanged(project: Project, small: Path) -> None:
    project.codebook.import_yaml(small)
    before = audit_count(project)
    summary = project.codebook.import_yaml(small)
    assert summary.concepts.created == summary.concepts.updated == 0
    assert summary.concepts.unchanged == 6
    assert summary.edges.unchanged == 3
    assert summary.settings_changed == ()
    # only the import's own summary row was written
    assert audit_count(project) == before + 1


def test_import_merges_into_a_coded_project(project: Project, small: Path) -> None:
    blind_off(project)
    a = add_coder(project, "alice")
    doc = add_document(project)
    project.codebook.create_category("旧范畴")
    project.codebook.create_concept("危及生命", category="旧范畴")
    add_coding(project, a, "危及生命", doc, 2, 8)
    add_coding(project, a, "自由概念", doc, 9, 14)  # open coding, not in the file
    before = codings(project)

    summary = project.codebook.import_yaml(small)

    assert codings(project) == before
    tree = project.codebook.tree()
    assert tree.concept("危及生命").category == "危害性"  # moved to the file's category
    assert tree.concept("危及生命").n_codings == 1
    assert {k.name for k in tree.uncategorised} == {"自由概念", "未归类概念"}
    assert tree.category("旧范畴").concepts == ()  # kept, now empty
    assert summary.concepts.updated == 1 and summary.concepts.created == 5
    moved = [r for r in audit(project, "concept.update") if "危及生命" in (r.after or "")]
    assert json.loads(moved[0].before or "{}")["category"] == "旧范畴"
    assert json.loads(moved[0].after or "{}")["category"] == "危害性"


def test_import_keeps_project_values_the_file_leaves_out(
    project: Project, small: Path, tmp_path: Path
) -> None:
    project.codebook.import_yaml(small)
    project.codebook.define("concept", "人传人", "人与人之间传播")
    bare = write(tmp_path, "unassigned_categories:\n  - name: 传染性\n    concepts: [人传人]\n")
    summary = project.codebook.import_yaml(bare)
    assert summary.categories.unchanged == 1
    tree = project.codebook.tree()
    assert tree.concept("人传人").definition == "人与人之间传播"
    assert tree.category("传染性").main_category == "突发事件"  # not taken out of its parent


def test_import_refuses_a_name_on_another_level(project: Project, small: Path) -> None:
    project.codebook.create_main_category("危害性")
    before = project.codebook.to_spec()
    before_audit = audit_count(project)
    with pytest.raises(GroundcodeError) as info:
        project.codebook.import_yaml(small)
    message = str(info.value)
    assert "\n" not in message
    assert (
        "small.yaml" in message
        and "'危害性' is at the level initial category in the file" in message
    )
    assert "main category in the project" in message
    assert project.codebook.to_spec() == before
    assert audit_count(project) == before_audit


BAD_FIXTURES = {
    "malformed.yaml": "malformed YAML",
    "concept-twice.yaml": "listed twice",
    "unknown-level.yaml": "unknown key 'subcategories'",
    "bad-edge.yaml": "信息共享难",
}


@pytest.mark.parametrize("name", sorted(BAD_FIXTURES))
def test_bad_files_change_nothing(project: Project, small: Path, tmp_path: Path, name: str) -> None:
    source = FIXTURES / name
    if not source.exists():
        pytest.skip(f"{source} not written yet")
    path = tmp_path / name
    shutil.copy(source, path)
    project.codebook.import_yaml(small)
    before = project.codebook.to_spec()
    before_audit = audit_count(project)
    with pytest.raises(GroundcodeError) as info:
        project.codebook.import_yaml(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}:")
    assert message.split(":")[1].strip().isdigit()  # the line is named
    assert BAD_FIXTURES[name] in message
    assert project.codebook.to_spec() == before
    assert audit_count(project) == before_audit


def test_missing_and_non_utf8_files(project: Project, tmp_path: Path) -> None:
    with pytest.raises(GroundcodeError, match="cannot read"):
        project.codebook.import_yaml(tmp_path / "nope.yaml")
    gbk = tmp_path / "gbk.yaml"
    gbk.write_bytes("name: 健康码\n".encode("gbk"))
    with pytest.raises(GroundcodeError, match=r"gbk.yaml:1: not UTF-8"):
        project.codebook.import_yaml(gbk)


@pytest.mark.skipif(not HEALTH_CODE.exists(), reason="codebooks/health-code.yaml not written yet")
def test_health_code_imports_and_round_trips(project: Project, tmp_path: Path) -> None:
    project.codebook.import_yaml(HEALTH_CODE)
    tree = project.codebook.tree()
    assert len(list(tree.categories())) == 40
    assert len(list(tree.main_categories())) == 13
    assert len(tree.relation_classes) == 6
    out = project.codebook.export_yaml(tmp_path / "health.yaml")
    original = parse_codebook(HEALTH_CODE.read_text(encoding="utf-8"), str(HEALTH_CODE))
    assert parse_codebook(out.read_text(encoding="utf-8"), str(out)) == original


# -- operations ------------------------------------------------------------------


def test_rename_keeps_codings_and_edges_follow(project: Project, coded: dict[str, int]) -> None:
    before = codings(project)
    project.codebook.rename("concept", "危及生命", "危及生命安全")
    project.codebook.rename("main", "突发事件", "突发公共卫生事件")
    after = codings(project)
    assert {k: v[:4] for k, v in after.items()} == {k: v[:4] for k, v in before.items()}
    assert after[coded["a_life"]][4] == "危及生命安全"
    edge = project.codebook.edges()[1]
    assert (edge.from_kind, edge.from_name) == ("main_category", "突发公共卫生事件")
    assert project.codebook.model().problems == ()
    row = audit(project, "concept.rename")[0]
    assert json.loads(row.before or "{}") == {"name": "危及生命"}
    with pytest.raises(GroundcodeError, match="already exists"):
        project.codebook.rename("category", "危害性", "传染性")
    with pytest.raises(NotFound):
        project.codebook.rename("category", "不存在", "x")


def test_define_and_set_core(project: Project, small: Path) -> None:
    project.codebook.import_yaml(small)
    project.codebook.define("category", "传染性", "  疫情的传染特征 ")
    assert project.codebook.tree().category("传染性").definition == "疫情的传染特征"
    project.codebook.define("category", "传染性", None)
    assert project.codebook.tree().category("传染性").definition is None
    assert len(audit(project, "category.define")) == 2

    project.codebook.set_core("新核心", "新定义")
    model = project.codebook.model()
    assert (model.core, model.core_definition) == ("新核心", "新定义")
    assert {e.to_name for e in model.edges if e.to_kind == "core"} == {"新核心"}
    assert model.problems == ()
    project.codebook.set_storyline("一句话。")
    assert project.codebook.model().storyline == "一句话。"


def test_merge_concepts_moves_codings_and_drops_exact_duplicates(
    project: Project, coded: dict[str, int]
) -> None:
    a, doc = coded["alice"], coded["doc"]
    # alice coded the same span with both concepts: one of them is a duplicate after merging
    dup = add_coding(project, a, "基础疾病", doc, 2, 8)
    other = add_coding(project, a, "基础疾病", doc, 30, 34)
    run(
        project,
        lambda s: s.add(
            Memo(target_kind="concept", target_id=_cid(s, "基础疾病"), author="alice", text="m")
        ),
    )

    result = project.codebook.merge("concept", ["基础疾病"], into="危及生命")

    assert (result.moved, result.dropped_duplicates) == (1, 1)
    after = codings(project)
    assert dup not in after
    assert after[other][4] == "危及生命"
    assert len(after) == 6
    tree = project.codebook.tree()
    assert "基础疾病" not in {k.name for k in tree.concepts()}
    assert tree.concept("危及生命").n_codings == 3
    row = audit(project, "concept.merge")[0]
    assert json.loads(row.before or "{}")["name"] == "基础疾病"
    assert json.loads(row.after or "{}")["dropped_duplicates"][0]["id"] == dup
    with project.db.read() as s:
        memo = s.exec(select(Memo)).one()
        assert memo.target_id == _cid(s, "危及生命")


def _cid(s: Session, name: str) -> int:
    concept = s.exec(select(Concept).where(Concept.name == name)).one()
    assert concept.id is not None
    return concept.id


def test_map_concepts_into_a_new_name(project: Project, coded: dict[str, int]) -> None:
    before = codings(project)
    result = project.codebook.map_concepts(["出台文件", "监管"], "政策出台与监管")
    assert result.into == "政策出台与监管"
    after = codings(project)
    assert set(after) == set(before)
    assert after[coded["b_policy"]][4] == after[coded["b_rule"]][4] == "政策出台与监管"
    assert project.codebook.tree().concept("政策出台与监管").category == "制度框架"


def test_merge_categories_moves_concepts_and_edges(project: Project, coded: dict[str, int]) -> None:
    project.codebook.add_edge("传染性", "制度框架", "引发")
    result = project.codebook.merge("category", ["传染性"], into="危害性")
    assert result.moved == 1
    tree = project.codebook.tree()
    assert [k.name for k in tree.category("危害性").concepts] == ["危及生命", "基础疾病", "人传人"]
    assert tree.category("危害性").n_codings == 3
    assert any(e.from_name == "危害性" and e.label == "引发" for e in project.codebook.edges())
    assert project.codebook.model().problems == ()
    assert len(codings(project)) == 5


def test_split_concept(project: Project, coded: dict[str, int]) -> None:
    view = project.codebook.split_concept("危及生命", "生命威胁", [coded["b_life"]])
    assert (view.name, view.category, view.n_codings) == ("生命威胁", "危害性", 1)
    after = codings(project)
    assert after[coded["b_life"]][4] == "生命威胁"
    assert after[coded["a_life"]][4] == "危及生命"
    assert len(after) == 5
    assert len(audit(project, "concept.split")) == 1
    with pytest.raises(GroundcodeError, match="is not coded with"):
        project.codebook.split_concept("危及生命", "另一个", [coded["b_policy"]])
    with pytest.raises(NotFound):
        project.codebook.split_concept("危及生命", "另一个", [99999])


def test_move_at_each_level(project: Project, coded: dict[str, int]) -> None:
    cb = project.codebook
    cb.move("concept", "未归类概念", "传染性")
    cb.move("category", "制度框架", "突发事件")
    cb.move("main", "政策规范", "情境背景")
    cb.move("concept", "人传人", None)
    tree = cb.tree()
    assert tree.concept("未归类概念").category == "传染性"
    assert [c.name for c in tree.main_category("突发事件").categories] == [
        "危害性",
        "传染性",
        "制度框架",
    ]
    assert tree.main_category("政策规范").relation_class == "情境背景"
    assert [k.name for k in tree.uncategorised] == ["人传人"]
    assert tree.concept("人传人").n_codings == 1
    assert len(codings(project)) == 5
    assert len(audit(project, "concept.move")) == 2
    with pytest.raises(GroundcodeError):
        cb.move("relation_class", "应对", "情境背景")


def test_renumber_and_reorder(project: Project, small: Path) -> None:
    cb = project.codebook
    cb.import_yaml(small)
    cb.reorder("category", "传染性", 1)
    assert [c.name for c in cb.tree().main_category("突发事件").categories] == ["传染性", "危害性"]
    numbers = cb.renumber("category")
    assert numbers == {"传染性": "1", "危害性": "2", "制度框架": "3"}
    assert cb.tree().category("传染性").number == "1"
    assert len(audit(project, "category.renumber")) == 2
    cb.reorder("relation_class", "应对", 1)
    assert [rc.name for rc in cb.tree().relation_classes] == ["应对", "情境背景"]
    assert cb.renumber("main") == {"政策规范": "1", "突发事件": "2"}
    with pytest.raises(OutOfRange, match="1..2"):
        cb.reorder("category", "传染性", 3)
    assert cb.to_spec().relation_classes[0].name == "应对"


def test_delete_concept_refused_when_coded_then_forced(
    project: Project, coded: dict[str, int]
) -> None:
    cb = project.codebook
    before = codings(project)
    with pytest.raises(GroundcodeError, match="2 coding"):
        cb.delete("concept", "危及生命")
    assert codings(project) == before
    cb.delete("concept", "基础疾病")  # nothing coded: allowed
    result = cb.delete("concept", "危及生命", force=True)
    assert result.moved_codings == 2
    after = codings(project)
    assert {k: v[:4] for k, v in after.items()} == {k: v[:4] for k, v in before.items()}
    assert after[coded["a_life"]][4] == HOLDING_CONCEPT
    tree = cb.tree()
    assert tree.concept(HOLDING_CONCEPT).category is None
    assert "危及生命" not in {k.name for k in tree.concepts()}
    rows = audit(project, "concept.delete")
    assert [json.loads(r.before or "{}")["name"] for r in rows] == ["基础疾病", "危及生命"]


def test_delete_category_leaves_dangling_edges_named_in_problems(
    project: Project, coded: dict[str, int], tmp_path: Path
) -> None:
    cb = project.codebook
    with pytest.raises(GroundcodeError, match="its concepts have 2 coding"):
        cb.delete("category", "制度框架")
    result = cb.delete("category", "制度框架", force=True)
    assert result.released == 2
    tree = cb.tree()
    assert {"出台文件", "监管"} <= {k.name for k in tree.uncategorised}
    assert len(codings(project)) == 5
    problems = cb.model().problems
    assert len(problems) == 1 and "制度框架" in problems[0]
    assert [e.dangling for e in cb.edges()] == [False, False, True]
    with pytest.raises(GroundcodeError, match="missing node"):
        cb.export_yaml(tmp_path / "out.yaml")
    cb.remove_edge(cb.edges()[2].id)
    assert cb.model().problems == ()
    cb.export_yaml(tmp_path / "out.yaml")


def test_edges_need_known_unambiguous_nodes(project: Project, small: Path) -> None:
    cb = project.codebook
    cb.import_yaml(small)
    with pytest.raises(NotFound):
        cb.add_edge("不存在", "核心")
    cb.create_main_category("传染性")
    with pytest.raises(GroundcodeError, match="ambiguous"):
        cb.add_edge("传染性", "核心")
    edge = cb.add_edge("main_category:传染性", "核心", "影响")
    assert (edge.from_kind, edge.to_kind) == ("main_category", "core")
    with pytest.raises(NotFound):
        cb.remove_edge(12345)


def test_concepts_frame(project: Project, coded: dict[str, int]) -> None:
    frame = project.codebook.concepts_frame()
    assert list(frame.columns) == [
        "concept",
        "category",
        "category_number",
        "main_category",
        "relation_class",
        "definition",
        "n_codings",
    ]
    assert list(frame["concept"]) == [
        "危及生命",
        "基础疾病",
        "人传人",
        "出台文件",
        "监管",
        "未归类概念",
    ]
    first = frame.iloc[0].to_dict()
    assert first == {
        "concept": "危及生命",
        "category": "危害性",
        "category_number": "1",
        "main_category": "突发事件",
        "relation_class": "情境背景",
        "definition": None,
        "n_codings": 2,
    }
    assert frame.iloc[-1]["category"] is None


def test_structure_needs_a_lead_once_there_is_one(
    make_project: Callable[..., Project], small: Path
) -> None:
    project = make_project()
    add_coder(project, "lin", role="lead")
    add_coder(project, "alice")
    alice = make_project(user="alice").codebook
    view = alice.create_concept("开放编码概念")  # open coding is open to every coder
    assert view.created_by == "alice"
    with pytest.raises(Forbidden):
        alice.create_category("范畴")
    with pytest.raises(Forbidden):
        alice.import_yaml(small)
    with pytest.raises(Forbidden):
        alice.create_concept("另一个", category="范畴")
    lead = make_project(user="lin").codebook
    lead.import_yaml(small)
    lead.move("concept", "开放编码概念", "危害性")
    assert lead.to_spec().categories()[0].concepts[-1].name == "开放编码概念"
