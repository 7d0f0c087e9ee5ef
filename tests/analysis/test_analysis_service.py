"""Agreement, reconciliation and saturation through the service, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sklearn.metrics import cohen_kappa_score

from groundcode.domain.errors import BlindHidden, Forbidden, Refused
from groundcode.project import Project
from tests.conftest import MakeProject

TEXT = "\n".join(f"第{i}段：健康码与数据共享。" for i in range(1, 11))


@pytest.fixture
def study(make_project: MakeProject, tmp_path: Path) -> Project:
    """Two coders coding 10 passages of one build document and 10 of one holdout document."""
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
    for name in ("build.txt", "hold.txt"):
        (tmp_path / name).write_text(TEXT + f"\n（{name}）", encoding="utf-8")
        lead.corpus.import_files([tmp_path / name], type=1)
    return p


A = {
    1: ["a"],
    2: ["a"],
    3: ["b"],
    4: [],
    5: ["c"],
    6: ["a", "b"],
    7: [],
    8: ["c"],
    9: ["b"],
    10: ["a"],
}
B = {
    1: ["a"],
    2: ["b"],
    3: ["b"],
    4: [],
    5: ["c"],
    6: ["a"],
    7: ["c"],
    8: ["c"],
    9: ["b"],
    10: ["a"],
}


def _code(p: Project, coder: str, doc: str, plan: dict[int, list[str]]) -> None:
    q = p.as_user(coder)
    for passage, codes in plan.items():
        for c in codes:
            q.coding.apply(doc, c, passage=passage)


def test_project_agreement_equals_scikit_learn_and_the_csv_mode(
    study: Project, tmp_path: Path
) -> None:
    _code(study, "lin", "1-1", A)
    _code(study, "zhou", "1-1", B)
    result = study.as_user("chen").analysis.agreement(coders=["lin", "zhou"])
    data = result.to_json()
    from tests.analysis.test_agreement_core import SPEC_KEYS

    assert list(data)[: len(SPEC_KEYS)] == SPEC_KEYS
    assert data["judged"] == "coded" and any("no done marks" in n for n in data["notes"])
    assert data["n_units"] == 11  # ten coded passages and the closing line nobody coded
    for row in data["per_code"]:
        ya = [int(row["code"] in A.get(i, [])) for i in range(1, 12)]
        yb = [int(row["code"] in B.get(i, [])) for i in range(1, 12)]
        assert row["kappa"] == pytest.approx(cohen_kappa_score(ya, yb), abs=1e-9)
    pooled_a = [int(c in A.get(i, [])) for i in range(1, 12) for c in "abc"]
    pooled_b = [int(c in B.get(i, [])) for i in range(1, 12) for c in "abc"]
    assert data["kappa_pooled"] == pytest.approx(cohen_kappa_score(pooled_a, pooled_b), abs=1e-9)
    # The same judgements as a standalone unit,coder,code file give the same numbers.
    f = tmp_path / "long.csv"
    with f.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["unit", "coder", "code"])
        for coder, plan in (("lin", A), ("zhou", B)):
            for i, codes in {**plan, 11: []}.items():
                for c in codes or [""]:
                    w.writerow([i, coder, c])
    from groundcode.analysis.agreement_csv import agreement_from_csv

    other = agreement_from_csv(f).to_json()
    assert other["kappa_pooled"] == pytest.approx(data["kappa_pooled"], abs=1e-12)
    assert {r["code"]: r["kappa"] for r in other["per_code"]} == pytest.approx(
        {r["code"]: r["kappa"] for r in data["per_code"]}
    )


def test_category_level_and_char_unit(study: Project) -> None:
    _code(study, "lin", "1-1", A)
    _code(study, "zhou", "1-1", B)
    lead = study.as_user("chen")
    cat = lead.analysis.agreement(level="category").to_json()
    assert [r["code"] for r in cat["per_code"]] == ["X"]
    assert (
        cat["per_code"][0]["both"] == 8
    )  # passages 1,2,3,5,6,8,9,10 coded by both with something in X
    char = lead.analysis.agreement(unit="char").to_json()
    n_chars = len(lead.corpus.document("1-1").text)
    assert char["unit"] == "char" and char["n_units"] == n_chars
    a_row = next(r for r in char["per_code"] if r["code"] == "a")
    assert a_row["both"] + a_row["a_only"] + a_row["b_only"] + a_row["neither"] == n_chars


def test_agreement_is_a_leads_business_in_blind_mode(study: Project) -> None:
    _code(study, "lin", "1-1", A)
    _code(study, "zhou", "1-1", B)
    with pytest.raises((Forbidden, BlindHidden)):
        study.as_user("lin").analysis.agreement()
    with pytest.raises((Forbidden, BlindHidden)):
        study.analysis.agreement()
    with pytest.raises(Refused, match="at least two coders"):
        study.as_user("chen").analysis.agreement(coders=["lin"])


def test_reconcile_copies_agreement_and_decisions_are_audited(study: Project) -> None:
    _code(study, "lin", "1-1", A)
    _code(study, "zhou", "1-1", B)
    lead = study.as_user("chen")
    report = lead.analysis.reconcile(coders=["lin", "zhou"])
    agreed = sum(len(set(A[i]) & set(B[i])) for i in A)
    assert report.copied == agreed
    assert {(d.document, d.passage) for d in report.disagreements} == {
        ("1-1", 2),
        ("1-1", 6),
        ("1-1", 7),
    }
    again = lead.analysis.reconcile(coders=["lin", "zhou"])
    assert again.copied == 0 and again.already == agreed
    added = lead.analysis.decide("1-1", 2, "b", coders=["lin", "zhou"])
    assert added == 1
    cons = lead.coding.codings(coders=["consensus"])
    assert set(cons[cons["passage"] == 2]["concept"]) == {"b"}
    open_items = [
        d for d in lead.analysis.disagreements(coders=["lin", "zhou"]) if d.decided is None
    ]
    assert {(d.document, d.passage) for d in open_items} == {("1-1", 6), ("1-1", 7)}
    with pytest.raises((Forbidden, BlindHidden)):
        study.as_user("lin").analysis.reconcile()


def test_agreement_with_and_without_assisted_codings(study: Project) -> None:
    _code(study, "lin", "1-1", A)
    _code(study, "zhou", "1-1", B)
    study.as_user("zhou").coding.apply("1-1", "c", passage=4, assisted=True)
    lead = study.as_user("chen")
    with_ = lead.analysis.agreement().to_json()
    without = lead.analysis.agreement(assisted=False).to_json()
    c_with = next(r for r in with_["per_code"] if r["code"] == "c")
    c_without = next(r for r in without["per_code"] if r["code"] == "c")
    assert c_with["b_only"] == c_without["b_only"] + 1
