"""compute_agreement: SPEC §4 semantics, checked against plain reference computations."""

from __future__ import annotations

import json
import warnings
from itertools import combinations

import krippendorff
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

from groundcode.analysis.agreement_core import NONE_LABEL, TooFewCoders, compute_agreement
from groundcode.domain.errors import BadOption, InvalidInput, NotFound

FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SPEC_KEYS = [
    "coders",
    "level",
    "unit",
    "judged",
    "n_units",
    "n_documents",
    "percent_agreement",
    "decision_agreement",
    "kappa",
    "kappa_kind",
    "kappa_pooled",
    "ac1",
    "scott_pi",
    "kappa_bp",
    "alpha",
    "fleiss_kappa",
    "ci",
    "per_code",
    "diagnostics",
    "methods",
    "notes",
]
PER_CODE_KEYS = [
    "code",
    "kappa",
    "agreement",
    "p_pos",
    "p_neg",
    "prevalence_index",
    "bias_index",
    "both",
    "a_only",
    "b_only",
    "neither",
]


def frame(rows: list[tuple[object, str, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["unit", "coder", "code"])


def sk(a: list[object] | np.ndarray, b: list[object] | np.ndarray) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(cohen_kappa_score(a, b))


def reference_sets(rows: pd.DataFrame) -> dict[str, dict[object, set[str]]]:
    """coder -> unit -> set of codes, the obvious way."""
    out: dict[str, dict[object, set[str]]] = {}
    for unit, coder, code in rows.itertuples(index=False):
        codes = out.setdefault(coder, {}).setdefault(unit, set())
        if isinstance(code, str) and code.strip():
            codes.add(code.strip())
    return out


# -- random data against reference computations ----------------------------

coded_rows = st.lists(
    st.tuples(
        st.integers(0, 12),
        st.sampled_from(["lin", "zhou"]),
        st.one_of(st.none(), st.sampled_from(["a", "b", "c", "d"])),
    ),
    min_size=1,
    max_size=60,
)


@FAST
@given(coded_rows)
def test_two_coders_match_sklearn_and_krippendorff(
    rows_list: list[tuple[int, str, str | None]],
) -> None:
    rows = frame(rows_list)
    if rows["coder"].nunique() < 2:
        with pytest.raises(TooFewCoders):
            compute_agreement(rows)
        return
    res = compute_agreement(rows, coders=["lin", "zhou"])
    sets = reference_sets(rows)
    units = sorted(set(sets["lin"]) & set(sets["zhou"]))
    codes = sorted({c for s in sets.values() for u in s.values() for c in u})
    assert res.n_units == len(units)
    assert [c.code for c in res.per_code] == codes
    if not units:
        assert res.kappa is None and res.percent_agreement is None and res.alpha.value is None
        return
    a = np.array([[c in sets["lin"][u] for c in codes] for u in units], dtype=int)
    b = np.array([[c in sets["zhou"][u] for c in codes] for u in units], dtype=int)
    for j, pc in enumerate(res.per_code):
        assert pc.both == int((a[:, j] & b[:, j]).sum())
        assert pc.neither == int(((1 - a[:, j]) & (1 - b[:, j])).sum())
        ref = sk(a[:, j], b[:, j])
        assert (pc.kappa is None and np.isnan(ref)) or pc.kappa == pytest.approx(ref, abs=1e-9)
        assert pc.agreement == pytest.approx((a[:, j] == b[:, j]).mean())
    if codes:
        ref_pooled = sk(a.ravel(), b.ravel())
        assert (res.kappa_pooled is None and np.isnan(ref_pooled)) or res.kappa_pooled == (
            pytest.approx(ref_pooled, abs=1e-9)
        )
        assert res.decision_agreement == pytest.approx((a == b).mean())
    same_set = [sets["lin"][u] == sets["zhou"][u] for u in units]
    assert res.percent_agreement == pytest.approx(np.mean(same_set))
    single = all(len(sets[c][u]) <= 1 for c in sets for u in units)
    assert res.single_label == single
    if single:
        la = [next(iter(sets["lin"][u]), NONE_LABEL) for u in units]
        lb = [next(iter(sets["zhou"][u]), NONE_LABEL) for u in units]
        ref = sk(la, lb)
        assert (res.kappa is None and np.isnan(ref)) or res.kappa == pytest.approx(ref, abs=1e-9)
        # nominal alpha over the labels, every unit judged by both
        values = sorted(set(la) | set(lb))
        data = np.array([[values.index(x) for x in la], [values.index(x) for x in lb]], float)
        if len(values) >= 2:
            assert res.alpha.value == pytest.approx(
                krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"),
                abs=1e-9,
            )
        table = np.stack([(data == v).sum(axis=0) for v in range(len(values))], axis=1)
        if res.fleiss.value is not None:
            assert res.fleiss.value == pytest.approx(sm_fleiss(table), abs=1e-9)
    else:
        assert res.kappa == res.kappa_pooled
        # nominal alpha over the binary unit x code decisions
        counts = np.stack([(1 - a).ravel() + (1 - b).ravel(), a.ravel() + b.ravel()], axis=1)
        if res.alpha.value is not None:
            ref_alpha = krippendorff.alpha(value_counts=counts, level_of_measurement="nominal")
            assert res.alpha.value == pytest.approx(ref_alpha, abs=1e-9)
            assert res.fleiss.value == pytest.approx(sm_fleiss(counts), abs=1e-9)
    disagreeing = [u for u in units if sets["lin"][u] != sets["zhou"][u]]
    assert [u for u, _ in res.disagreements] == disagreeing
    for u, by_coder in res.disagreements:
        assert by_coder == {c: sorted(sets[c][u]) for c in ("lin", "zhou")}
    json.dumps(res.to_json(), allow_nan=False)


three_coder_rows = st.lists(
    st.tuples(
        st.integers(0, 8),
        st.sampled_from(["a", "b", "c"]),
        st.one_of(st.none(), st.sampled_from(["x", "y", "z"])),
    ),
    min_size=3,
    max_size=50,
)


@FAST
@given(three_coder_rows)
def test_three_coders_pairs_light_and_alpha(rows_list: list[tuple[int, str, str | None]]) -> None:
    rows = frame(rows_list)
    if rows["coder"].nunique() < 3:
        return
    res = compute_agreement(rows, coders=["a", "b", "c"])
    sets = reference_sets(rows)
    assert [p.coders for p in res.pairs] == [("a", "b"), ("a", "c"), ("b", "c")]
    judged_by = {u: [c for c in "abc" if u in sets[c]] for u in set(rows["unit"])}
    pairable = sorted(u for u, cs in judged_by.items() if len(cs) >= 2)
    assert res.n_units == len(pairable)
    codes = sorted({c for s in sets.values() for u in s.values() for c in u})
    for pair in res.pairs:
        x, y = pair.coders
        units = sorted(set(sets[x]) & set(sets[y]))
        assert pair.n_units == len(units)
        for pc in pair.per_code:
            ra = [pc.code in sets[x][u] for u in units]
            rb = [pc.code in sets[y][u] for u in units]
            ref = sk(ra, rb) if units else float("nan")
            assert (pc.kappa is None and np.isnan(ref)) or pc.kappa == pytest.approx(ref, abs=1e-9)
    defined = [p.kappa.value for p in res.pairs if p.kappa.value is not None]
    assert res.kappa == (pytest.approx(np.mean(defined)) if defined else None)
    complete = all(len(judged_by[u]) == 3 for u in pairable)
    if not complete:
        assert any("Gwet's formulas for missing ratings" in n for n in res.notes_text)
    if res.single_label and pairable:
        vals = sorted({next(iter(sets[c][u]), NONE_LABEL) for u in pairable for c in judged_by[u]})
        data = np.full((3, len(pairable)), np.nan)
        for j, u in enumerate(pairable):
            for i, c in enumerate("abc"):
                if u in sets[c]:
                    data[i, j] = vals.index(next(iter(sets[c][u]), NONE_LABEL))
        if len(vals) >= 2:
            ref = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
            assert res.alpha.value == pytest.approx(ref, abs=1e-9)
    elif pairable and codes:
        counts = []
        for u in pairable:
            for code in codes:
                yes = sum(code in sets[c][u] for c in judged_by[u])
                counts.append([len(judged_by[u]) - yes, yes])
        cnt = np.array(counts)
        if res.alpha.value is not None:
            ref = krippendorff.alpha(value_counts=cnt, level_of_measurement="nominal")
            assert res.alpha.value == pytest.approx(ref, abs=1e-9)
    json.dumps(res.to_json(), allow_nan=False)


# -- hand-derived cases -----------------------------------------------------


def test_perfect_agreement() -> None:
    rows = frame([(u, c, code) for u, code in enumerate("xyxzy") for c in ("a", "b")])
    res = compute_agreement(rows)
    assert res.kappa == 1.0 and res.kappa_pooled == 1.0
    assert res.percent_agreement == 1.0
    assert res.alpha.value == pytest.approx(1.0)
    assert res.fleiss_kappa == pytest.approx(1.0)
    assert all(c.kappa == 1.0 for c in res.per_code)
    assert res.disagreements == ()


def test_chance_agreement_on_a_constructed_table() -> None:
    # Code x: both 1, a_only 1, b_only 1, neither 1 -> po = pe = 0.5, kappa 0.
    rows = frame(
        [
            (1, "a", "x"),
            (1, "b", "x"),
            (2, "a", "x"),
            (2, "b", None),
            (3, "a", None),
            (3, "b", "x"),
            (4, "a", None),
            (4, "b", None),
        ]
    )
    res = compute_agreement(rows)
    (x,) = res.per_code
    assert (x.both, x.a_only, x.b_only, x.neither) == (1, 1, 1, 1)
    assert x.kappa == 0.0 and x.agreement == 0.5
    assert res.pairs[0].per_code[0].kappa_bp == 0.0


def test_coder_who_uses_one_code_for_everything() -> None:
    # lin applies "x" to every unit; zhou applies x to two and y to two.
    rows = frame(
        [(u, "lin", "x") for u in range(4)]
        + [(0, "zhou", "x"), (1, "zhou", "x"), (2, "zhou", "y"), (3, "zhou", "y")]
    )
    res = compute_agreement(rows)
    by_code = {c.code: c for c in res.per_code}
    # Code x: lin always 1, zhou varies -> pe = po = 0.5, kappa exactly 0.
    assert by_code["x"].kappa == 0.0 and by_code["x"].reason is None
    # Code y: lin never applies it, zhou does twice -> defined, kappa 0.
    assert by_code["y"].kappa == 0.0
    # Single-label: the multi-class kappa is 0 as well (lin's labels never vary).
    assert res.single_label and res.kappa == 0.0
    assert sk(["x"] * 4, ["x", "x", "y", "y"]) == 0.0
    # If both coders use "x" for everything, nothing varies: None with the reason.
    same = compute_agreement(frame([(u, c, "x") for u in range(3) for c in ("lin", "zhou")]))
    assert same.kappa is None and same.per_code[0].kappa is None
    assert same.per_code[0].reason == (
        "no variation: both coders gave the same value to every unit (both applied it to all 3)"
    )
    assert any(n.startswith("kappa is undefined: no variation") for n in same.notes_text)
    assert any("per-code kappa undefined for 1 codes (x)" in n for n in same.notes_text)
    assert same.alpha.value is None and any("alpha is undefined" in n for n in same.notes_text)


def test_no_overlap_in_judged_units() -> None:
    rows = frame([(1, "a", "x"), (2, "a", "y"), (3, "b", "x"), (4, "b", None)])
    res = compute_agreement(rows)
    out = res.to_json()
    assert out["n_units"] == 0
    for key in ("percent_agreement", "kappa", "kappa_pooled", "alpha", "fleiss_kappa"):
        assert out[key] is None, key
    assert all(c["kappa"] is None and c["agreement"] is None for c in out["per_code"])
    assert "no units were judged by both a and b" in out["notes"]
    assert any(n.startswith("alpha is undefined") for n in out["notes"])
    assert out["ac1"] is None and out["kappa_bp"] is None and out["scott_pi"] is None
    assert res.disagreements == ()
    json.dumps(out, allow_nan=False)


def test_single_unit() -> None:
    agree = compute_agreement(frame([(1, "a", "x"), (1, "b", "x")]))
    assert agree.n_units == 1
    assert agree.kappa is None and agree.percent_agreement == 1.0
    differ = compute_agreement(frame([(1, "a", "x"), (1, "b", "y")]))
    # One unit, labels x vs y: po = 0, pe = 0 -> kappa 0 (as scikit-learn).
    assert differ.kappa == 0.0 == sk(["x"], ["y"])
    assert differ.disagreements == ((1, {"a": ["x"], "b": ["y"]}),)


def test_ignore_uncoded_changes_the_convention() -> None:
    rows = frame(
        [(1, "a", "x"), (1, "b", "x"), (2, "a", "x"), (2, "b", "y")]
        + [(u, c, None) for u in range(3, 9) for c in ("a", "b")]
    )
    nvivo = compute_agreement(rows)
    strict = compute_agreement(rows, ignore_uncoded=True)
    assert nvivo.n_units == 8 and strict.n_units == 2
    assert nvivo.decision_agreement == pytest.approx(14 / 16)
    assert strict.decision_agreement == pytest.approx(2 / 4)
    assert nvivo.percent_agreement == pytest.approx(7 / 8)
    assert strict.percent_agreement == pytest.approx(1 / 2)
    assert any("count as agreement" in n for n in nvivo.notes_text)
    assert any("left out (6 units)" in n for n in strict.notes_text)
    assert nvivo.to_json()["convention"] == "uncoded_counts_as_agreement"
    assert strict.to_json()["convention"] == "ignore_uncoded"


def test_codes_and_coders_selection() -> None:
    rows = frame(
        [(1, "a", "x"), (1, "b", "x"), (1, "c", "y"), (2, "a", "y"), (2, "b", "q"), (2, "c", "y")]
    )
    res = compute_agreement(rows, coders=["b", "a"], codes=["x", "y", "unused"])
    assert res.coders == ("b", "a")
    assert [c.code for c in res.per_code] == ["x", "y", "unused"]
    # Unit 2 stays judged by b (code q is outside the list): b applied nothing there.
    y = res.per_code[1]
    assert (y.both, y.a_only, y.b_only, y.neither) == (0, 0, 1, 1)  # a is coder B here
    assert res.per_code[2].reason and "neither applied it" in res.per_code[2].reason
    with pytest.raises(NotFound) as missing:
        compute_agreement(rows, coders=["a", "nobody"])
    assert (missing.value.kind, missing.value.name) == ("coder", "nobody")
    with pytest.raises(TooFewCoders):
        compute_agreement(rows, coders=["a"])


def test_bad_input_is_a_usage_error() -> None:
    with pytest.raises(InvalidInput) as cols:
        compute_agreement(pd.DataFrame({"unit": [1], "coder": ["a"]}))
    assert (cols.value.reason, cols.value.detail) == ("agreement_missing_columns", "code")
    with pytest.raises(BadOption) as level:
        compute_agreement(frame([(1, "a", "x"), (1, "b", "x")]), alpha_level="fuzzy")
    assert level.value.option == "alpha_level"
    with pytest.raises(InvalidInput) as num:
        compute_agreement(frame([(1, "a", "x"), (1, "b", "1")]), alpha_level="interval")
    assert (num.value.reason, num.value.detail) == ("agreement_not_number", "x")


def test_fleiss_on_complete_three_coders() -> None:
    labels = {"a": "xxyyz", "b": "xyyyz", "c": "xxyzz"}
    rows = frame([(u, c, lab) for c, s in labels.items() for u, lab in enumerate(s)])
    res = compute_agreement(rows)
    table = np.array([[s.count(v) for v in "xyz"] for s in zip(*labels.values(), strict=True)])
    assert res.fleiss_kappa == pytest.approx(sm_fleiss(table), abs=1e-12)
    pair_kappas = [sk(list(labels[x]), list(labels[y])) for x, y in combinations("abc", 2)]
    assert res.kappa == pytest.approx(np.mean(pair_kappas))
    assert res.kappa_kind == "light_multiclass"


def test_interval_alpha_from_numeric_codes() -> None:
    data = [[1, 2, 3, 3, 2], [1, 2, 4, 3, 1], [2, 2, 3, 3, np.nan]]
    rows = frame(
        [(u, f"r{i}", str(v)) for i, row in enumerate(data) for u, v in enumerate(row) if v == v]
    )
    res = compute_agreement(rows, alpha_level="interval")
    ref = krippendorff.alpha(reliability_data=data, level_of_measurement="interval")
    assert res.alpha.value == pytest.approx(ref, abs=1e-12)
    assert res.alpha.level == "interval"


def test_bootstrap_is_opt_in_and_seeded() -> None:
    rng = np.random.default_rng(0)
    truth = rng.choice(list("xyz"), 60)
    rows = frame(
        [(u, "a", t) for u, t in enumerate(truth)]
        + [(u, "b", t if rng.random() < 0.8 else "x") for u, t in enumerate(truth)]
    )
    plain = compute_agreement(rows)
    assert plain.alpha.ci is None and plain.pairs[0].bootstrap_ci is None
    assert plain.ci_method == "analytic" and "alpha" not in plain.ci
    one = compute_agreement(rows, bootstrap=200, seed=3)
    two = compute_agreement(rows, bootstrap=200, seed=3)
    assert one.alpha.ci == two.alpha.ci and one.alpha.ci is not None
    ci = one.pairs[0].bootstrap_ci
    assert ci is not None and one.kappa is not None and ci[0] <= one.kappa <= ci[1]


def test_to_json_shape() -> None:
    rows = frame([(1, "a", "x"), (1, "a", "y"), (1, "b", "x"), (2, "a", None), (2, "b", "y")])
    out = compute_agreement(rows, level="category", unit_kind="passage").to_json()
    assert list(out)[: len(SPEC_KEYS)] == SPEC_KEYS
    assert out["level"] == "category" and out["unit"] == "passage"
    assert out["coders"] == ["a", "b"]
    assert isinstance(out["n_units"], int)
    for row in out["per_code"]:
        assert list(row)[: len(PER_CODE_KEYS)] == PER_CODE_KEYS
        assert all(isinstance(row[k], int) for k in ("both", "a_only", "b_only", "neither"))
    assert all(isinstance(n, str) for n in out["notes"])
    assert out["disagreements"] == [
        {"unit": 1, "codes": {"a": ["x", "y"], "b": ["x"]}},
        {"unit": 2, "codes": {"a": [], "b": ["y"]}},
    ]
    text = json.dumps(out, allow_nan=False)
    assert json.loads(text)["pairs"][0]["coders"] == ["a", "b"]


def test_explain_names_the_code() -> None:
    res = compute_agreement(frame([(1, "a", "x"), (1, "b", "x"), (2, "a", "x"), (2, "b", None)]))
    text = res.explain("x")
    assert "code: x" in text and "a yes" in text and "b yes" in text
    with pytest.raises(NotFound) as info:
        res.explain("nope")
    assert info.value.name == "nope"
