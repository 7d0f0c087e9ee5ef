"""The agreement statistics against the reference libraries and published examples."""

from __future__ import annotations

import json
import warnings

import krippendorff
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import sparse
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import cohens_kappa
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

from groundcode.analysis import stats

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability, the
# example "nominal data, any number of observers, missing data": 4 observers,
# 12 units; alpha = 0.743 (nominal), 0.849 (interval), 0.797 (ratio). Ordinal
# is compared with the krippendorff package in the property test below.
NAN = np.nan
KRIPP_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
    [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
]

# Fleiss (1971) as worked in Wikipedia "Fleiss' kappa": 10 subjects, 14 raters,
# 5 categories; kappa = 0.210.
FLEISS_1971 = np.array(
    [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
)


def sk_kappa(a: np.ndarray, b: np.ndarray) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(cohen_kappa_score(a, b))


# -- published worked examples ----------------------------------------------


def test_cohen_wikipedia_example() -> None:
    """Wikipedia "Cohen's kappa": 50 proposals, 20 yes-yes, 15 no-no, 5 and 10
    discordant; po = 0.7, pe = 0.5, kappa = 0.4."""
    r = stats.binary_kappas_from_counts([20], [5], [10], [15], ["grant"])[0]
    assert r.po == pytest.approx(0.7)
    assert r.pe == pytest.approx(0.5)
    assert r.kappa == pytest.approx(0.4)
    assert r.kappa_bp == pytest.approx(0.4)  # 2 * 0.7 - 1
    assert stats.landis_koch(r.kappa) == "fair"
    a = np.array([1] * 25 + [0] * 25)
    b = np.array([1] * 20 + [0] * 5 + [1] * 10 + [0] * 15)
    assert stats.multiclass_kappa(a, b).value == pytest.approx(0.4)
    assert sk_kappa(a, b) == pytest.approx(0.4)


def test_fleiss_1971_example() -> None:
    r = stats.fleiss_kappa(FLEISS_1971)
    assert r.value == pytest.approx(0.210, abs=5e-4)
    assert r.value == pytest.approx(sm_fleiss(FLEISS_1971), abs=1e-12)
    assert r.po == pytest.approx(0.378, abs=5e-4)  # P-bar in the worked example
    assert r.pe == pytest.approx(0.213, abs=5e-4)  # P-bar_e in the worked example


@pytest.mark.parametrize(
    ("level", "published"),
    [("nominal", 0.743), ("interval", 0.849), ("ratio", 0.797)],
)
def test_krippendorff_2011_example(level: str, published: float) -> None:
    r = stats.krippendorff_alpha(KRIPP_2011, level=level, bootstrap=0)
    assert r.value == pytest.approx(published, abs=5e-4)
    lib = krippendorff.alpha(reliability_data=KRIPP_2011, level_of_measurement=level)
    assert r.value == pytest.approx(lib, abs=1e-12)
    own = stats.krippendorff_alpha(KRIPP_2011, level=level, bootstrap=0, method="coincidence")
    assert own.value == pytest.approx(lib, abs=1e-12)
    assert r.n_units == 11  # unit 12 has one value only: not pairable
    assert r.n_values == 40


# -- SE and CI --------------------------------------------------------------


def test_se_matches_statsmodels_fleiss_cohen_everitt() -> None:
    table = np.array([[20, 5], [10, 15]])
    ref = cohens_kappa(table)
    r = stats.binary_kappas_from_counts([20], [5], [10], [15])[0]
    assert r.se == pytest.approx(ref.std_kappa, rel=1e-12)
    assert r.ci == pytest.approx((ref.kappa_low, ref.kappa_upp), rel=1e-12)
    cm = np.array([[12, 3, 1], [2, 9, 4], [0, 5, 14]])
    mref = cohens_kappa(cm)
    mc = stats.kappa_from_confusion(cm)
    assert mc.value == pytest.approx(mref.kappa, abs=1e-12)
    assert mc.se == pytest.approx(mref.std_kappa, rel=1e-12)


def test_ci_is_clipped_and_never_nan() -> None:
    perfect = stats.binary_kappas_from_counts([7], [0], [0], [3])[0]
    assert perfect.kappa == 1.0
    assert perfect.se == 0.0
    assert perfect.ci == (1.0, 1.0)
    wide = stats.binary_kappas_from_counts([2], [0], [1], [1])[0]
    assert wide.ci is not None and wide.ci[1] == 1.0
    assert all(np.isfinite(x) for x in wide.ci)


# -- hand-derived edge cases ------------------------------------------------


def test_agreement_at_chance_is_zero() -> None:
    # Each coder says yes to half the units, independently: po = pe = 0.5.
    r = stats.binary_kappas_from_counts([25], [25], [25], [25])[0]
    assert r.kappa == 0.0
    assert r.po == 0.5 and r.pe == 0.5
    assert r.kappa_bp == 0.0


def test_no_variation_is_none_with_reason() -> None:
    applied_all, applied_none = stats.binary_kappas_from_counts(
        [10, 0], [0, 0], [0, 0], [0, 10], ["a", "b"]
    )
    for r in (applied_all, applied_none):
        assert r.kappa is None and r.se is None and r.ci is None
        assert r.reason is not None
        assert r.reason.startswith("no variation: both coders gave the same value to every unit")
        assert r.po == 1.0
    assert "both applied it to all 10" in (applied_all.reason or "")
    assert "neither applied it" in (applied_none.reason or "")


def test_one_coder_constant_other_varies_is_zero() -> None:
    # A applies the code to everything, B to 6 of 10: pe = po = 0.6, kappa 0.
    r = stats.binary_kappas_from_counts([6], [4], [0], [0])[0]
    assert r.kappa == 0.0
    assert r.reason is None
    a, b = np.ones(10, int), np.array([1] * 6 + [0] * 4)
    assert sk_kappa(a, b) == 0.0


def test_no_units() -> None:
    r = stats.binary_kappas_from_counts([0], [0], [0], [0])[0]
    assert r.kappa is None and r.po is None and r.kappa_bp is None
    assert r.reason == stats.NO_UNITS
    assert stats.multiclass_kappa([], []).value is None


def test_multiclass_single_category_undefined() -> None:
    r = stats.multiclass_kappa(["x", "x"], ["x", "x"])
    assert r.value is None and r.reason == stats.NO_VARIATION
    assert r.po == 1.0


def test_fleiss_incomplete_and_constant() -> None:
    assert stats.fleiss_kappa([[2, 0], [1, 2]]).value is None
    assert "different numbers" in (stats.fleiss_kappa([[2, 0], [1, 2]]).reason or "")
    const = stats.fleiss_kappa([[3, 0], [3, 0]])
    assert const.value is None and "same category" in (const.reason or "")


def test_alpha_undefined_cases() -> None:
    one_value = stats.krippendorff_alpha([[1, 1, 1], [1, 1, 1]], bootstrap=10)
    assert one_value.value is None and "only one value" in (one_value.reason or "")
    assert one_value.ci is None and one_value.ci_reason == "alpha is undefined"
    unpaired = stats.krippendorff_alpha([[1, NAN, 2], [NAN, 3, NAN]], bootstrap=0)
    assert unpaired.value is None and unpaired.n_units == 0
    assert "two or more coders" in (unpaired.reason or "")


def test_alpha_bootstrap_is_seeded_and_brackets() -> None:
    a = stats.krippendorff_alpha(KRIPP_2011, bootstrap=300, seed=7)
    b = stats.krippendorff_alpha(KRIPP_2011, bootstrap=300, seed=7)
    c = stats.krippendorff_alpha(KRIPP_2011, bootstrap=300, seed=8)
    assert a.ci == b.ci
    assert a.ci != c.ci
    assert a.ci is not None and a.value is not None
    assert a.ci[0] < a.value <= a.ci[1] <= 1.0


def test_landis_koch_bands() -> None:
    cases = {
        -0.1: "poor",
        0.0: "slight",
        0.2: "slight",
        0.21: "fair",
        0.4: "fair",
        0.5: "moderate",
        0.7: "substantial",
        0.81: "almost perfect",
        1.0: "almost perfect",
    }
    assert {k: stats.landis_koch(k) for k in cases} == cases
    assert stats.landis_koch(None) == "undefined"


def test_explain_binary_shows_the_arithmetic() -> None:
    text = stats.explain_binary(20, 5, 10, 15, code="grant", coder_a="lin", coder_b="zhou")
    assert "code: grant" in text
    assert "po = (both + neither) / n = (20 + 15) / 50 = 0.7000" in text
    assert "pe = (25/50)*(30/50) + (25/50)*(20/50) = 0.5000" in text
    assert "= 0.4000  (fair)" in text
    r = stats.binary_kappas_from_counts([0], [0], [0], [9], ["x"])[0]
    assert "undefined: no variation" in stats.explain_binary(r)


def test_sparse_and_dense_inputs_agree() -> None:
    rng = np.random.default_rng(3)
    a = rng.random((200, 7)) < 0.3
    b = rng.random((200, 7)) < 0.3
    dense = stats.binary_kappas(a, b)
    sp = stats.binary_kappas(sparse.csr_matrix(a), sparse.csr_matrix(b))
    assert dense == sp
    pooled = stats.pooled_kappa(a, b)
    assert pooled.kappa == pytest.approx(sk_kappa(a.ravel(), b.ravel()), abs=1e-12)
    json.dumps([r.__dict__ for r in dense], allow_nan=False)


# -- property tests against the libraries -----------------------------------


@st.composite
def two_matrices(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 30))
    k = draw(st.integers(1, 6))
    cells = st.lists(st.booleans(), min_size=n * k, max_size=n * k)
    a = np.array(draw(cells)).reshape(n, k)
    b = np.array(draw(cells)).reshape(n, k)
    return a, b


@FAST
@given(two_matrices())
def test_per_code_kappa_equals_sklearn(ab: tuple[np.ndarray, np.ndarray]) -> None:
    a, b = ab
    for j, r in enumerate(stats.binary_kappas(a, b)):
        ref = sk_kappa(a[:, j], b[:, j])
        if r.kappa is None:
            assert np.isnan(ref)
            assert r.reason
        else:
            assert r.kappa == pytest.approx(ref, abs=1e-9)
        assert r.both + r.a_only + r.b_only + r.neither == a.shape[0]
    pooled = stats.pooled_kappa(a, b)
    ref = sk_kappa(a.ravel(), b.ravel())
    assert (pooled.kappa is None and np.isnan(ref)) or pooled.kappa == pytest.approx(ref, abs=1e-9)


@FAST
@given(
    st.integers(1, 40).flatmap(
        lambda n: st.tuples(
            st.lists(st.sampled_from("abcd"), min_size=n, max_size=n),
            st.lists(st.sampled_from("abce"), min_size=n, max_size=n),
        )
    )
)
def test_multiclass_equals_sklearn(labels: tuple[list[str], list[str]]) -> None:
    la, lb = labels
    r = stats.multiclass_kappa(la, lb)
    ref = sk_kappa(np.array(la), np.array(lb))
    if r.value is None:
        assert np.isnan(ref)
    else:
        assert r.value == pytest.approx(ref, abs=1e-9)
        cm, _ = stats.confusion_matrix(la, lb)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sm = cohens_kappa(cm)
        if np.isfinite(sm.std_kappa):
            assert r.se == pytest.approx(sm.std_kappa, rel=1e-9, abs=1e-12)
        else:  # a variance of 0 that rounding made negative (a constant coder)
            assert r.se == pytest.approx(0.0, abs=1e-7)


@FAST
@given(
    st.integers(2, 6).flatmap(
        lambda raters: st.lists(
            st.lists(st.integers(0, 3), min_size=raters, max_size=raters),
            min_size=1,
            max_size=15,
        )
    )
)
def test_fleiss_equals_statsmodels(ratings: list[list[int]]) -> None:
    r = np.array(ratings)
    table = np.stack([(r == c).sum(axis=1) for c in range(4)], axis=1)
    ours = stats.fleiss_kappa(table)
    with np.errstate(all="ignore"):
        ref = sm_fleiss(table)
    if ours.value is None:
        assert not np.isfinite(ref) or np.count_nonzero(table.sum(axis=0)) <= 1
    else:
        assert ours.value == pytest.approx(ref, abs=1e-9)
    # Weighted rows are the same as repeated rows.
    weights = np.arange(1, len(table) + 1)
    repeated = np.repeat(table, weights, axis=0)
    w = stats.fleiss_kappa(table, weights=weights)
    with np.errstate(all="ignore"):
        ref_w = sm_fleiss(repeated)
    if w.value is not None:
        assert w.value == pytest.approx(ref_w, abs=1e-9)
    s = stats.fleiss_kappa(sparse.csr_matrix(table))
    assert s.value == ours.value or s.value == pytest.approx(ours.value, abs=1e-12)


@FAST
@given(
    st.integers(2, 4).flatmap(
        lambda coders: st.lists(
            st.lists(st.one_of(st.none(), st.integers(1, 5)), min_size=coders, max_size=coders),
            min_size=2,
            max_size=20,
        )
    ),
    st.sampled_from(stats.ALPHA_LEVELS),
)
def test_alpha_equals_krippendorff_package(units: list[list[int | None]], level: str) -> None:
    data = np.array(
        [[NAN if v is None else v for v in unit] for unit in units], dtype=float
    ).T  # coders x units
    values = data[~np.isnan(data)]
    pairable = (~np.isnan(data)).sum(axis=0) >= 2
    ours_pkg = stats.krippendorff_alpha(data, level=level, bootstrap=0, method="package")
    ours_own = stats.krippendorff_alpha(data, level=level, bootstrap=0, method="coincidence")
    paired_values = data[:, pairable]
    if len(np.unique(paired_values[~np.isnan(paired_values)])) < 2:
        assert ours_own.value is None and ours_own.reason
        return
    assert len(np.unique(values)) >= 2
    ref = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
    assert ours_pkg.value == pytest.approx(ref, abs=1e-9)
    assert ours_own.value == pytest.approx(ref, abs=1e-9)


@FAST
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2)), min_size=1, max_size=25))
def test_alpha_patterns_with_unit_groups_equal_expanded(units: list[tuple[int, int]]) -> None:
    """The compressed multi-label path: alpha over binary decisions grouped by unit."""
    # Each unit has 2 codes judged by 2 coders; tuple = how many coders applied each code.
    rows = np.array([[2 - c, c] for c in range(3)], dtype=float)
    unit_pat = np.zeros((len(units), 3))
    expanded = []
    for i, (c1, c2) in enumerate(units):
        unit_pat[i, c1] += 1
        unit_pat[i, c2] += 1
        expanded += [[2 - c1, c1], [2 - c2, c2]]
    r = stats.alpha_from_patterns(
        rows, values=[0, 1], unit_patterns=unit_pat, unit_freq=np.ones(len(units))
    )
    exp = np.array(expanded)
    if (exp[:, 0].sum() == 0) or (exp[:, 1].sum() == 0):
        assert r.value is None
    else:
        ref = krippendorff.alpha(value_counts=exp, level_of_measurement="nominal")
        assert r.value == pytest.approx(ref, abs=1e-9)
