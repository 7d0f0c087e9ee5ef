"""The saturation rules of SPEC §5 on hand-made data (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from groundcode.analysis.saturation import (
    CodingRow,
    CreatedNode,
    Run,
    SaturationInput,
    curve,
    guest_rule,
    judge,
    permutation_band,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_guest_rule_hand_computed() -> None:
    # Documents 1-4 (base) bring a,b,c,d,e (5 concepts). Run of 2 documents, threshold 20%.
    per_doc = [{"a", "b"}, {"c"}, {"d"}, {"e", "a"}, {"f"}, {"g"}, {"a"}, {"b"}, {"h"}]
    g = guest_rule(per_doc, base=4, run=2, threshold=0.2)
    # Runs: docs 5-6 -> f,g new = 2/5 = 0.4; docs 6-7 -> g = 0.2 <= 0.2: confirmed at document 7,
    # after the base (4) and one run that did not confirm: saturation point 5.
    assert g.base_concepts == 5
    assert g.runs[0] == Run(5, 6, 2, 0.4)
    assert g.runs[1] == Run(6, 7, 1, 0.2)
    assert (g.saturation_point, g.confirmed_at, g.reached_at) == (5, 7, 7)
    # Run 8-9 brings h (0.2): not above 20%, so no later exceedance ...
    assert g.later_exceedances == ()
    # ... but above 5%: with that threshold run 7-8 (nothing new) confirms at 8, and 8-9 exceeds.
    g5 = guest_rule(per_doc, base=4, run=2, threshold=0.05)
    assert (g5.saturation_point, g5.confirmed_at, g5.later_exceedances) == (6, 8, (9,))
    assert [r["ratio"] for r in g5.to_json()["runs"]] == [0.4, 0.2, 0.0, 0.2]


def test_guest_rule_not_reached_and_too_short() -> None:
    per_doc = [{"a"}, {"b"}, {"c"}, {"d"}, {"e"}, {"f"}]
    g = guest_rule(per_doc, base=4, run=2, threshold=0.05)
    assert g.confirmed_at is None and g.saturation_point is None
    short = guest_rule(per_doc[:5], base=4, run=2)
    assert short.reached_at is None and "needs at least" in (short.note or "")


def test_permutations_are_seeded_and_bracket_the_median() -> None:
    per_doc = [{"a", "b"}, {"c"}, {"a"}, {"b"}, {"d"}, set(), {"a"}, set(), {"c"}, set()]
    one = permutation_band(per_doc, k=200, seed=7, base=2, run=2, threshold=0.0)
    two = permutation_band(per_doc, k=200, seed=7, base=2, run=2, threshold=0.0)
    assert one == two
    assert one.median is not None and one.p5 is not None and one.p95 is not None
    assert one.p5 <= one.median <= one.p95
    # Each order's point equals the plain rule applied to that order.
    import numpy as np

    rng = np.random.default_rng(7)
    for point in one.points[:20]:
        order = rng.permutation(len(per_doc))
        ordered = [per_doc[i] for i in np.argsort(order)]
        assert guest_rule(ordered, base=2, run=2, threshold=0.0).saturation_point == point


def test_curve_follows_judged_time_then_first_coding() -> None:
    rows = [
        CodingRow("1-2", "build", "a", "X", at(5)),
        CodingRow("1-1", "build", "b", "Y", at(9)),
        CodingRow("1-1", "build", "a", "X", at(10)),
        CodingRow("2-1", "holdout", "c", None, at(20)),
    ]
    pts, _ = curve(rows)
    assert [p.document for p in pts] == ["1-2", "1-1", "2-1"]
    assert [p.cumulative_concepts for p in pts] == [1, 2, 3]
    assert [p.cumulative_categories for p in pts] == [1, 2, 2]
    # Done marks decide; a judged document with no coding is in the curve too.
    pts, _ = curve(rows, {"2-1": at(1), "1-1": at(2), "4-9": at(3)})
    assert [p.document for p in pts] == ["2-1", "1-1", "4-9", "1-2"]
    assert [p.new_concepts for p in pts] == [1, 2, 0, 0]


def _input(**kw: object) -> SaturationInput:
    rows = [CodingRow(f"1-{i}", "build", c, "X", at(i)) for i, c in enumerate("abab", 1)]
    rows += [CodingRow("1-9", "holdout", str(kw.pop("holdout_concept", "a")), "X", at(100))]
    base: dict[str, object] = {
        "basis": "lin",
        "start": at(50),
        "codings": rows,
        "holdout_documents": ["1-9"],
        "holdout_done": frozenset({"1-9"}),
        "placement": {"a": "X", "b": "X", "z": "X"},
    }
    base.update(kw)
    return SaturationInput(**base)  # type: ignore[arg-type]


def test_verdict_paths() -> None:
    assert judge(_input()).saturated is True
    assert [r.key for r in judge(_input(start=None)).reason_items] == ["not_started"]
    assert judge(_input(holdout_done=frozenset())).saturated is None
    assert judge(_input(open_disagreements=2)).saturated is None
    new = judge(_input(holdout_concept="z"))
    assert new.saturated is True and new.new_concepts == (("z", "X"),)
    unplaced = judge(_input(holdout_concept="z", placement={"a": "X", "b": "X", "z": None}))
    assert unplaced.saturated is False and "'z' is not placed" in unplaced.reasons[0]
    gone = judge(_input(created=[CreatedNode("category", "Y", at(60), None, "deleted")]))
    assert gone.saturated is False and gone.new_categories == ("Y",)
    assert "deleted since" in gone.reasons[0]


def test_a_concept_first_seen_in_build_is_not_new_nor_one_coded_before_the_start() -> None:
    assert judge(_input(holdout_concept="b")).new_concepts == ()
    early = _input(holdout_concept="z", start=at(200))
    assert judge(early).new_concepts == ()


@pytest.mark.parametrize("docs", [[], ["1-9"]])
def test_empty_or_unstarted_holdout_gives_no_verdict(docs: list[str]) -> None:
    r = judge(_input(holdout_documents=docs, start=None))
    assert r.saturated is None and r.to_json()["saturated"] is None


@pytest.mark.parametrize("seed", range(5))
def test_permutation_points_equal_the_plain_rule_on_random_sparse_data(seed: int) -> None:
    import numpy as np

    rng = np.random.default_rng(seed)
    per_doc = [
        {f"c{int(x)}" for x in rng.integers(0, 40, size=int(rng.integers(0, 3)))} for _ in range(80)
    ]
    band = permutation_band(per_doc, k=30, seed=seed, base=4, run=3, threshold=0.05)
    order_rng = np.random.default_rng(seed)
    for point in band.points:
        order = order_rng.permutation(len(per_doc))
        ordered = [per_doc[i] for i in np.argsort(order)]
        assert guest_rule(ordered, base=4, run=3, threshold=0.05).saturation_point == point
