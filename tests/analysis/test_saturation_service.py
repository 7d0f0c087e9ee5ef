"""The saturation test of SPEC §5 on real projects: each verdict path, built step by step."""

from __future__ import annotations

from pathlib import Path

import pytest

from groundcode.project import Project
from tests.conftest import MakeProject


@pytest.fixture
def study(make_project: MakeProject, tmp_path: Path) -> Project:
    """A lead and two coders, R > M > X with concepts a, b, c; 8 comments split 4/4."""
    p = make_project()
    p.coding.add_coder("chen", role="lead")
    lead = p.as_user("chen")
    lead.coding.add_coder("lin")
    lead.coding.add_coder("zhou")
    lead.codebook.create_relation_class("R")
    lead.codebook.create_main_category("M", relation_class="R")
    lead.codebook.create_category("X", number="1", main="M")
    for c in ("a", "b", "c"):
        lead.codebook.create_concept(c, category="X")
    rows = "\n".join(f"评论{i}：健康码与数据共享的第{i}条意见" for i in range(1, 9))
    (tmp_path / "c.csv").write_text("text\n" + rows + "\n", encoding="utf-8")
    lead.corpus.import_files([tmp_path / "c.csv"], type=4)
    lead.corpus.split(holdout=0.5, seed=1)
    lead.progress.assign(["lin", "zhou"], split="all")
    return lead


def _docs(p: Project, split: str) -> list[str]:
    return sorted(p.corpus.documents(split=split)["number"].tolist())


def _code_build(p: Project, coder: str) -> None:
    q = p.as_user(coder)
    build = _docs(p, "build")
    for doc, concept in zip(build, ["a", "b", "a", "c"], strict=True):
        q.coding.apply(doc, concept, passage=1)
    q.progress.done(build)


def _finish_holdout(p: Project, coder: str, plan: dict[int, str]) -> None:
    q = p.as_user(coder)
    hold = _docs(p, "holdout")
    for i, concept in plan.items():
        q.coding.apply(hold[i], concept, passage=1)
    q.progress.done(hold)


def test_no_verdict_before_the_start_and_while_holdout_is_not_done(study: Project) -> None:
    _code_build(study, "lin")
    r = study.analysis.saturation(coder="lin")
    assert r.saturated is None and [x.key for x in r.reason_items] == ["not_started"]
    assert r.to_json()["holdout"] == {"documents": 4, "coded": 0, "done": 0}
    study.progress.begin_holdout()
    lin = study.as_user("lin")
    hold = _docs(study, "holdout")
    lin.coding.apply(hold[0], "a", passage=1)
    lin.progress.done(hold[:3])
    r = study.analysis.saturation(coder="lin")
    assert r.saturated is None
    [reason] = r.reason_items
    assert reason.key == "holdout_not_done" and reason.fields["done"] == 3
    assert "3 of 4 holdout documents" in r.reasons[0]
    assert "3 篇" in r.reasons_in("zh")[0]
    lin.progress.done(hold[3:])
    assert study.analysis.saturation(coder="lin").saturated is True


def test_category_created_and_deleted_after_the_start_still_fails(study: Project) -> None:
    _code_build(study, "lin")
    study.progress.begin_holdout()
    study.codebook.create_category("临时范畴", main="M")
    study.codebook.delete("category", "临时范畴")
    study.codebook.create_main_category("新主范畴", relation_class="R")
    study.codebook.create_main_category("并入", relation_class="R")
    study.codebook.merge("main_category", ["新主范畴"], "并入")
    _finish_holdout(study, "lin", {0: "a"})
    r = study.analysis.saturation(coder="lin")
    assert r.saturated is False
    assert r.new_categories == ("临时范畴", "新主范畴", "并入")
    gone = {n.name: (n.fate, n.into) for n in r.created}
    assert gone == {
        "临时范畴": ("deleted", None),
        "新主范畴": ("merged", "并入"),
        "并入": (None, None),
    }
    assert (
        "initial category '临时范畴' was created after the holdout start (deleted since"
        in (r.reasons[0])
    )
    assert "“临时范畴”" in r.reasons_in("zh")[0]


def test_new_concept_placed_is_saturated_with_its_history(study: Project) -> None:
    _code_build(study, "lin")
    study.progress.begin_holdout()
    _finish_holdout(study, "lin", {0: "a", 1: "新概念"})
    r = study.analysis.saturation(coder="lin")
    assert r.saturated is False
    assert [x.key for x in r.reason_items] == ["unplaced"]
    assert r.new_concepts == (("新概念", None),)
    study.codebook.move("concept", "新概念", "X")
    r = study.analysis.saturation(coder="lin")
    assert r.saturated is True and [x.key for x in r.reason_items] == ["placed_all"]
    [n] = r.new_concept_items
    assert (n.concept, n.category, n.document) == ("新概念", "X", _docs(study, "holdout")[1])
    assert [h.category for h in n.history] == [None, "X"]
    assert [h.action for h in n.history] == ["concept.create", "concept.move"]


def test_codings_on_holdout_before_the_start_are_reported(study: Project) -> None:
    _code_build(study, "lin")
    hold = _docs(study, "holdout")
    study.as_user("lin").coding.apply(hold[0], "b", passage=1)
    study.progress.begin_holdout()
    _finish_holdout(study, "lin", {1: "a"})
    r = study.analysis.saturation(coder="lin")
    assert r.saturated is True
    assert r.early == {"lin": {"codings": 1, "documents": 1}}
    assert any(x.key == "coded_before_start" for x in r.reason_items)


def test_consensus_with_open_holdout_disagreements_has_no_verdict(study: Project) -> None:
    for coder in ("lin", "zhou"):
        _code_build(study, coder)
    study.progress.begin_holdout()
    _finish_holdout(study, "lin", {0: "a", 1: "b"})
    _finish_holdout(study, "zhou", {0: "a", 1: "c"})
    study.analysis.reconcile(coders=["lin", "zhou"])
    r = study.analysis.saturation()
    assert r.basis == "consensus"
    assert r.saturated is None and r.open_disagreements == 1
    assert [x.key for x in r.reason_items] == ["open_disagreements"]
    study.analysis.decide(_docs(study, "holdout")[1], 1, "a", coders=["lin", "zhou"])
    r = study.analysis.saturation()
    assert r.open_disagreements == 0 and r.saturated is True


def test_curve_follows_done_marks_not_source_types(
    make_project: MakeProject, tmp_path: Path
) -> None:
    p = make_project()
    p.coding.add_coder("lin")
    lin = p.as_user("lin")
    (tmp_path / "p.txt").write_text("政策全文。", encoding="utf-8")
    lin.corpus.import_files([tmp_path / "p.txt"], type=1)
    (tmp_path / "c.csv").write_text("text\n评论一\n评论二\n", encoding="utf-8")
    lin.corpus.import_files([tmp_path / "c.csv"], type=4)
    # Coded in one order, judged (done) in another: the done marks decide.
    lin.coding.apply("4-2", "x", passage=1)
    lin.coding.apply("1-1", "y", passage=1)
    lin.coding.apply("4-1", "z", passage=1)
    lin.progress.done(["4-1"])
    lin.progress.done(["1-1"])
    lin.progress.done(["4-2"])
    r = lin.analysis.saturation(coder="lin")
    assert [pt.document for pt in r.curve] == ["4-1", "1-1", "4-2"]


def test_guest_fields_and_seeded_permutations(study: Project) -> None:
    _code_build(study, "lin")
    study.progress.begin_holdout()
    _finish_holdout(study, "lin", {0: "a", 1: "b", 2: "a"})
    r = study.analysis.saturation(coder="lin", base=2, run=2, threshold=0.5, permutations=50)
    g = r.to_json()["guest"]
    assert g["reached_at"] == g["confirmed_at"]
    assert g["runs"][0]["start"] == 3 and g["runs"][0]["end"] == 4
    band = g["permutations"]
    assert band["k"] == 50 and band["p5"] <= band["median"] <= band["p95"]
    again = study.analysis.saturation(coder="lin", base=2, run=2, threshold=0.5, permutations=50)
    assert again.to_json()["guest"]["permutations"] == band
