"""The saturation rules of SPEC §5 on hand-made data (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from groundcode.analysis.saturation import CodingRow, NodeRow, curve, guest_rule, holdout_test

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_guest_rule_hand_computed() -> None:
    # Documents 1-4 (base) bring a,b,c,d,e (5 concepts). Run of 2 documents, threshold 20%.
    per_doc = [{"a", "b"}, {"c"}, {"d"}, {"e", "a"}, {"f"}, {"g"}, {"a"}, {"b"}, {"h"}]
    g = guest_rule(per_doc, base=4, run=2, threshold=0.2)
    # Runs: docs 5-6 -> f,g new = 2/5 = 0.4; docs 6-7 -> g = 0.2 <= 0.2: reached at document 7.
    assert g.base_concepts == 5
    assert g.runs[0] == (6, 2, 0.4)
    assert g.runs[1] == (7, 1, 0.2)
    assert g.reached_at == 7
    # With a 5% threshold the run 7-8 (no new concept) is the first: reached at 8.
    assert guest_rule(per_doc, base=4, run=2, threshold=0.05).reached_at == 8


def test_guest_rule_not_reached_and_too_short() -> None:
    per_doc = [{"a"}, {"b"}, {"c"}, {"d"}, {"e"}, {"f"}]
    assert guest_rule(per_doc, base=4, run=2, threshold=0.05).reached_at is None
    short = guest_rule(per_doc[:5], base=4, run=2)
    assert short.reached_at is None and "needs at least" in (short.note or "")


def test_curve_orders() -> None:
    rows = [
        CodingRow("1-2", "build", "a", "X", at(5)),
        CodingRow("1-1", "build", "b", "Y", at(9)),
        CodingRow("1-1", "build", "a", "X", at(10)),
        CodingRow("2-1", "holdout", "c", None, at(20)),
    ]
    pts, per_doc = curve(rows, order="coding")
    assert [p.document for p in pts] == ["1-2", "1-1", "2-1"]
    assert [p.cumulative_concepts for p in pts] == [1, 2, 3]
    assert [p.cumulative_categories for p in pts] == [1, 2, 2]
    pts, _ = curve(rows, order="document")
    assert [p.document for p in pts] == ["1-1", "1-2", "2-1"]


def _build_rows() -> list[CodingRow]:
    return [
        CodingRow(f"1-{i}", "build", c, "X", at(i))
        for i, c in enumerate(["a", "b", "a", "b", "a"], 1)
    ]


NODES = [
    NodeRow("category", "X", at(0)),
    NodeRow("main_category", "M", at(0)),
    NodeRow("relation_class", "R", at(0)),
]


def test_saturated_when_holdout_brings_nothing_new() -> None:
    rows = _build_rows() + [CodingRow("1-9", "holdout", "a", "X", at(100))]
    r = holdout_test(rows, NODES, holdout_documents=2, placement={"a": "X", "b": "X"})
    assert r.saturated is True and r.new_concepts == () and r.holdout_coded == 1
    assert r.holdout_started_at == at(100)


def test_new_concept_placed_in_existing_category_is_still_saturated() -> None:
    rows = _build_rows() + [CodingRow("1-9", "holdout", "z", "X", at(100))]
    r = holdout_test(rows, NODES, holdout_documents=1, placement={"a": "X", "b": "X", "z": "X"})
    assert r.saturated is True
    assert r.new_concepts == (("z", "X"),)


def test_new_category_after_holdout_began_fails() -> None:
    rows = _build_rows() + [CodingRow("1-9", "holdout", "z", "Y", at(100))]
    nodes = [*NODES, NodeRow("category", "Y", at(150))]
    r = holdout_test(rows, nodes, holdout_documents=1, placement={"a": "X", "b": "X", "z": "Y"})
    assert r.saturated is False
    assert r.new_categories == ("Y",)
    assert any("'Y' was created after holdout coding began" in x for x in r.reasons)


def test_unplaced_new_concept_fails_until_placed() -> None:
    rows = _build_rows() + [CodingRow("1-9", "holdout", "z", None, at(100))]
    r = holdout_test(rows, NODES, holdout_documents=1, placement={"a": "X", "b": "X", "z": None})
    assert r.saturated is False and any("'z' is not placed" in x for x in r.reasons)
    placed = holdout_test(
        rows, NODES, holdout_documents=1, placement={"a": "X", "b": "X", "z": "X"}
    )
    assert placed.saturated is True


def test_a_concept_first_seen_in_build_is_not_new() -> None:
    rows = _build_rows() + [CodingRow("1-9", "holdout", "b", "X", at(100))]
    assert (
        holdout_test(rows, NODES, holdout_documents=1, placement={"a": "X", "b": "X"}).new_concepts
        == ()
    )


@pytest.mark.parametrize(
    ("docs", "needle"), [(0, "holdout is empty"), (3, "none of the 3 holdout documents")]
)
def test_empty_holdout_gives_no_verdict(docs: int, needle: str) -> None:
    r = holdout_test(_build_rows(), NODES, holdout_documents=docs, placement={"a": "X", "b": "X"})
    assert r.saturated is None and needle in r.reasons[0]
    assert r.to_json()["saturated"] is None
