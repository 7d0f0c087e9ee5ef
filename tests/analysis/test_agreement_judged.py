"""Judged units through the project: done marks, the coded fallback, levels, the char unit.

The acceptance case of issue 14: six one-passage comments; coder A applies
``x`` to 4-1..4-4 and ``y`` to 4-5, 4-6; coder B applies ``x`` to 4-1, 4-2 and
``y`` to 4-5, 4-6 and finds nothing in 4-3, 4-4. Over the six comments both
coders read, kappa for ``x`` is 0.40, the multi-class kappa 0.50 and the
percent agreement 4/6; without done marks (the ``coded`` rule) B's two empty
comments vanish and the figures are those of four units.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sklearn.metrics import cohen_kappa_score

from groundcode.project import Project
from groundcode.store.tables import Coder, DoneMark
from tests.conftest import MakeProject

A = {1: "x", 2: "x", 3: "x", 4: "x", 5: "y", 6: "y"}
B = {1: "x", 2: "x", 5: "y", 6: "y"}


def mark_done(p: Project, coder: str, numbers: list[str]) -> None:
    """Done marks written straight into the table (the done service is another room's)."""
    from sqlmodel import select

    from groundcode.store.tables import Document

    def _do(s: object) -> None:
        cid = s.execute(select(Coder.id).where(Coder.name == coder)).scalar_one()  # type: ignore[attr-defined]
        for number in numbers:
            did = s.execute(select(Document.id).where(Document.number == number)).scalar_one()  # type: ignore[attr-defined]
            s.add(DoneMark(coder_id=cid, document_id=did, marked_at=datetime.now(UTC)))  # type: ignore[attr-defined]

    p.ctx.db.run(_do)


@pytest.fixture
def comments(make_project: MakeProject, tmp_path: Path) -> Project:
    p = make_project()
    p.coding.add_coder("chen", role="lead")
    lead = p.as_user("chen")
    lead.coding.add_coder("a")
    lead.coding.add_coder("b")
    lead.codebook.create_relation_class("R")
    lead.codebook.create_main_category("M", relation_class="R")
    lead.codebook.create_category("X", number="1", main="M")
    lead.codebook.create_concept("x", category="X")
    lead.codebook.create_concept("y")  # outside any category
    f = tmp_path / "comments.csv"
    f.write_text(
        "text\n" + "".join(f"第{i}条评论：健康码与数据共享。\n" for i in range(1, 7)),
        encoding="utf-8",
    )
    lead.corpus.import_files([f], type=4, text_column="text")
    for coder, plan in (("a", A), ("b", B)):
        q = p.as_user(coder)
        for i, code in plan.items():
            q.coding.apply(f"4-{i}", code, passage=1)
    return p


def test_done_marks_count_comments_read_and_left_uncoded(comments: Project) -> None:
    numbers = [f"4-{i}" for i in range(1, 7)]
    mark_done(comments, "a", numbers)
    mark_done(comments, "b", numbers)
    res = comments.as_user("chen").analysis.agreement(seed=1)
    data = res.to_json()
    assert data["judged"] == "done"
    assert data["n_units"] == 6 and data["n_documents"] == 6
    x = next(r for r in data["per_code"] if r["code"] == "x")
    assert x["kappa"] == pytest.approx(0.40)
    assert (x["both"], x["a_only"], x["b_only"], x["neither"]) == (2, 2, 0, 2)
    assert data["kappa_kind"] == "multiclass" and data["kappa"] == pytest.approx(0.50)
    la = [A[i] for i in range(1, 7)]
    lb = [B.get(i, "(none)") for i in range(1, 7)]
    assert data["kappa"] == pytest.approx(cohen_kappa_score(la, lb), abs=1e-12)
    assert data["percent_agreement"] == pytest.approx(4 / 6)
    assert data["decision_agreement"] == pytest.approx(10 / 12)
    assert "6 units in 6 documents" in " ".join(data["notes"])
    assert "marked its document done" in data["methods"]["en"]
    assert "已标记完成" in data["methods"]["zh"]
    assert data["ci_method"] == "bootstrap" and set(data["ci"]) == {"kappa", "ac1", "alpha"}
    json.dumps(data, allow_nan=False)
    # --unit char over the characters of the six documents both judged
    char = comments.as_user("chen").analysis.agreement(unit="char").to_json()
    assert char["n_documents"] == 6 and char["kappa_kind"] == "char_pooled"
    rows = [r for r in char["per_document"] if r["code"] == "x"]
    assert len(rows) == 6
    assert [r["nvivo_convention"] for r in rows] == [False] * 4 + [True] * 2
    assert all(r["kappa"] == 1.0 for r in rows[4:])
    assert char["per_code"][0]["kappa_char_pooled"] is not None
    assert "character-pooled kappa" in char["methods"]["en"]


def test_without_done_marks_the_coded_rule_says_so(comments: Project) -> None:
    res = comments.as_user("chen").analysis.agreement(bootstrap=0).to_json()
    assert res["judged"] == "coded" and res["n_units"] == 4
    assert any("no done marks" in n and "'coded'" in n for n in res["notes"])
    x = next(r for r in res["per_code"] if r["code"] == "x")
    assert x["kappa"] == 1.0
    explicit = comments.as_user("chen").analysis.agreement(judged="coded", bootstrap=0).to_json()
    assert explicit["n_units"] == 4 and not any("no done marks" in n for n in explicit["notes"])
    assert any("--judged coded rule" in n for n in explicit["notes"])


def test_codings_on_documents_not_marked_done_are_left_out(comments: Project) -> None:
    numbers = [f"4-{i}" for i in range(1, 7)]
    mark_done(comments, "a", numbers)
    mark_done(comments, "b", numbers[:5])
    data = comments.as_user("chen").analysis.agreement(bootstrap=0).to_json()
    assert data["n_units"] == 5
    left = [d for d in data["diagnostics"] if d["kind"] == "left_out"]
    assert len(left) == 1 and "b" in left[0]["message_en"] and left[0]["message_zh"]


def test_uncategorised_concepts_are_kept_at_the_category_level(comments: Project) -> None:
    numbers = [f"4-{i}" for i in range(1, 7)]
    mark_done(comments, "a", numbers)
    mark_done(comments, "b", numbers)
    data = comments.as_user("chen").analysis.agreement(level="category", bootstrap=0).to_json()
    codes = {r["code"]: r for r in data["per_code"]}
    assert set(codes) == {"X", "(uncategorised)"}
    assert (codes["(uncategorised)"]["both"], codes["(uncategorised)"]["neither"]) == (2, 4)
    assert any(d["kind"] == "uncategorised" for d in data["diagnostics"])
    assert any("(uncategorised)" in n for n in data["notes"])


def test_the_agreement_export_carries_the_methods_sentence_and_diagnostics(
    comments: Project, tmp_path: Path
) -> None:
    import openpyxl

    numbers = [f"4-{i}" for i in range(1, 7)]
    mark_done(comments, "a", numbers)
    mark_done(comments, "b", numbers)
    lead = comments.as_user("chen")
    out = lead.exports.agreement(tmp_path / "agreement.xlsx", bootstrap=200)
    book = openpyxl.load_workbook(out, read_only=True)
    assert book.sheetnames == ["summary", "per_code", "diagnostics", "disagreements"]
    summary = [tuple(r) for r in book["summary"].iter_rows(values_only=True)]
    methods = lead.analysis.agreement(bootstrap=200).to_json()["methods"]
    assert summary[1] == ("methods (zh)", methods["zh"])
    assert summary[2] == ("methods (en)", methods["en"])
    stats = dict(summary[1:])
    assert stats["kappa_kind"] == "multiclass" and stats["judged"] == "done"
    per_code = list(book["per_code"].iter_rows(values_only=True))
    assert per_code[0][:7] == (
        "code",
        "kappa",
        "agreement",
        "p_pos",
        "p_neg",
        "prevalence_index",
        "bias_index",
    )
    diags = list(book["diagnostics"].iter_rows(values_only=True))
    assert diags[0] == ("kind", "code", "message_zh", "message_en") and len(diags) > 1


def test_overlapping_but_different_spans_are_a_boundary_diagnostic(comments: Project) -> None:
    numbers = [f"4-{i}" for i in range(1, 7)]
    mark_done(comments, "a", numbers)
    mark_done(comments, "b", numbers)
    comments.as_user("a").coding.apply("4-1", "z", start=0, end=6)
    comments.as_user("b").coding.apply("4-1", "z", start=2, end=9)
    comments.as_user("a").coding.apply("4-2", "z", start=0, end=6)
    comments.as_user("b").coding.apply("4-2", "z", start=0, end=6)  # identical: no finding
    data = comments.as_user("chen").analysis.agreement(bootstrap=0).to_json()
    found = [d for d in data["diagnostics"] if d["kind"] == "boundary"]
    assert [d["code"] for d in found] == ["z"]
    assert "1 spans overlap" in found[0]["message_en"] and found[0]["message_zh"]
    z = next(r for r in data["per_code"] if r["code"] == "z")
    assert z["both"] == 2  # at the passage unit both spans agree
