"""Every coefficient against its reference library, and published worked examples.

The reference libraries are the definitions (SPEC §4): irrCAC (Gwet's AC1,
Fleiss', Conger's kappa, Brennan-Prediger and their standard errors),
scikit-learn (Cohen's kappa, weighted kappa), statsmodels (Fleiss' kappa on
complete data) and krippendorff (alpha). groundcode computes them on
compressed rating patterns; hypothesis shows the values are the same to 1e-9
on random data with 2-5 coders, missing judgements, single- and multi-label.
"""

from __future__ import annotations

import warnings
from itertools import combinations
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from irrCAC.raw import CAC
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

from groundcode.analysis.agreement_core import NONE_LABEL, compute_agreement
from groundcode.analysis.agreement_csv import agreement_from_csv, read_agreement_csv

DATA = Path(__file__).resolve().parents[1] / "data" / "agreement"
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TOL = 1e-9


def frame(rows: list[tuple[object, str, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["unit", "coder", "code"])


def sk(a: list[object], b: list[object], weights: str | None = None) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(cohen_kappa_score(a, b, weights=weights))


def irr(wide: pd.DataFrame) -> CAC:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CAC(wide, digits=15)


def close(mine: float | None, ref: float) -> bool:
    if mine is None:
        return not np.isfinite(ref)
    return bool(abs(mine - ref) < TOL)


@st.composite
def judgements(draw: st.DrawFn) -> pd.DataFrame:
    """2-5 coders, 1-12 units, some (unit, coder) pairs not judged; codes from a few."""
    n_coders = draw(st.integers(2, 5))
    n_units = draw(st.integers(1, 12))
    multi = draw(st.booleans())
    rows: list[tuple[object, str, str | None]] = []
    for u in range(n_units):
        for c in range(n_coders):
            if draw(st.integers(0, 4)) == 0:
                continue  # not judged
            if multi:
                got = draw(st.sets(st.sampled_from("abc"), max_size=3))
            else:
                got = {draw(st.sampled_from("abc"))} if draw(st.integers(0, 3)) else set()
            if got:
                rows += [(u, f"c{c}", g) for g in sorted(got)]
            else:
                rows.append((u, f"c{c}", None))
    return frame(rows)


def sets_of(rows: pd.DataFrame) -> dict[str, dict[object, frozenset[str]]]:
    out: dict[str, dict[object, set[str]]] = {}
    for unit, coder, code in rows.itertuples(index=False):
        s = out.setdefault(coder, {}).setdefault(unit, set())
        if isinstance(code, str):
            s.add(code)
    return {c: {u: frozenset(v) for u, v in d.items()} for c, d in out.items()}


@FAST
@given(judgements())
def test_every_coefficient_equals_its_reference(rows: pd.DataFrame) -> None:
    coders = sorted(rows["coder"].unique())
    if len(coders) < 2:
        return
    res = compute_agreement(rows, coders=coders)
    sets = sets_of(rows)
    units = sorted({u for c in coders for u in sets[c]})
    units = [u for u in units if sum(u in sets[c] for c in coders) >= 2]
    assert res.n_units == len(units)
    if not units:
        assert res.kappa is None and res.ac1.value is None and res.alpha.value is None
        return
    codes = sorted({x for c in coders for s in sets[c].values() for x in s})
    # unit-level percent agreement: Fleiss' P-bar over the sets of codes
    pbar = []
    for u in units:
        got = [sets[c][u] for c in coders if u in sets[c]]
        r = len(got)
        same = sum(1 for i, j in combinations(range(r), 2) if got[i] == got[j])
        pbar.append(2 * same / (r * (r - 1)))
    assert res.percent_agreement == pytest.approx(np.mean(pbar), abs=TOL)
    single = all(len(sets[c][u]) <= 1 for c in coders for u in units if u in sets[c])
    assert res.single_label == single
    if single:
        cats = sorted(
            {next(iter(sets[c][u]), NONE_LABEL) for c in coders for u in units if u in sets[c]}
        )
        wide = pd.DataFrame(
            [
                [
                    float(cats.index(next(iter(sets[c][u]), NONE_LABEL)))
                    if u in sets[c]
                    else np.nan
                    for c in coders
                ]
                for u in units
            ]
        )
    else:
        # the binary (unit, code) decisions as subjects
        wide = pd.DataFrame(
            [
                [float(x in sets[c][u]) if u in sets[c] else np.nan for c in coders]
                for u in units
                for x in codes
            ]
        )
    if len(wide) and wide.stack().nunique() >= 1 and codes or single:
        ref = irr(wide)
        for name, mine in (
            ("gwet", res.ac1),
            ("fleiss", res.fleiss),
            ("conger", res.conger),
            ("bp", res.bp),
        ):
            try:
                est = getattr(ref, name)()["est"]
            except ZeroDivisionError:
                # irrCAC divides by n - 1 (one subject) or 1 - pe (no variation)
                assert len(wide) < 2 or mine.value is None
                continue
            value = est["coefficient_value"]
            if mine.value is None:
                continue  # irrCAC returns a number (or inf) where the coefficient is undefined
            assert close(mine.value, value), (name, mine, est)
            if np.isfinite(est["se"]) and est["se"] > 1e-12 and mine.se is not None:
                assert abs(mine.se - est["se"]) < TOL, (name, mine.se, est["se"])
        alpha_ref = (
            krippendorff.alpha(reliability_data=wide.to_numpy().T, level_of_measurement="nominal")
            if wide.stack().nunique() >= 2
            else np.nan
        )
        assert close(res.alpha.value, alpha_ref)
    # Cohen's kappa of every pair: multi-class or pooled, as scikit-learn
    for pair in res.pairs:
        x, y = pair.coders
        common = [u for u in units if u in sets[x] and u in sets[y]]
        if single:
            la = [next(iter(sets[x][u]), NONE_LABEL) for u in common]
            lb = [next(iter(sets[y][u]), NONE_LABEL) for u in common]
        else:
            la = [int(c in sets[x][u]) for u in common for c in codes]
            lb = [int(c in sets[y][u]) for u in common for c in codes]
        ref = sk(la, lb) if la else float("nan")
        assert close(pair.kappa.value, ref) or (pair.kappa.value is None and len(set(la + lb)) < 2)
    # per-code Krippendorff alpha over that code's binary decisions
    for row in res.per_code:
        data = np.array(
            [
                [float(row.code in sets[c][u]) if u in sets[c] else np.nan for u in units]
                for c in coders
            ]
        )
        vals = set(data[~np.isnan(data)].tolist())
        ref_a = (
            krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
            if len(vals) >= 2
            else np.nan
        )
        assert close(row.alpha, ref_a)


@FAST
@given(judgements(), st.integers(0, 5))
def test_bootstrap_is_seeded_and_never_nan(rows: pd.DataFrame, seed: int) -> None:
    coders = sorted(rows["coder"].unique())
    if len(coders) < 2:
        return
    one = compute_agreement(rows, coders=coders, bootstrap=50, seed=seed)
    two = compute_agreement(rows, coders=coders, bootstrap=50, seed=seed)
    assert one.ci == two.ci
    for lo, hi in one.ci.values():
        assert np.isfinite(lo) and np.isfinite(hi) and lo <= hi


# -- published worked examples ------------------------------------------------


def _table_rows(table: list[list[int]], cats: list[str]) -> pd.DataFrame:
    rows: list[tuple[object, str, str | None]] = []
    u = 0
    for i, row in enumerate(table):
        for j, n in enumerate(row):
            for _ in range(n):
                rows += [(u, "A", cats[i]), (u, "B", cats[j])]
                u += 1
    return frame(rows)


COHEN_1960 = [[88, 14, 18], [10, 40, 10], [2, 6, 12]]
"""Cohen (1960), Educational and Psychological Measurement 20(1), p. 42, Table 1:
200 cases, two judges, three categories (as proportions .44 .07 .09 / .05 .20
.05 / .01 .03 .06); p_o = .70, p_c = .41, kappa = .492."""


def test_cohen_1960() -> None:
    res = compute_agreement(_table_rows(COHEN_1960, ["PD", "N", "P"]))
    assert res.kappa_kind == "multiclass"
    assert res.percent_agreement == pytest.approx(0.70)
    assert res.pairs[0].kappa.pe == pytest.approx(0.41)
    assert round(res.kappa or 0, 3) == 0.492


def test_cohen_1968_weighted_kappa(tmp_path: Path) -> None:
    """Cohen (1968), Psychological Bulletin 70(4), 213-220: the 1960 table with
    disagreement weights 1 (PD-N), 3 (PD-P) and 6 (N-P) gives kappa_w = .348."""
    rows = _table_rows(COHEN_1960, ["PD", "N", "P"])
    f = tmp_path / "cohen.csv"
    rows.to_csv(f, index=False)
    w = tmp_path / "weights.csv"
    w.write_text(",PD,N,P\nPD,0,1,3\nN,1,0,6\nP,3,6,0\n", encoding="utf-8")
    res = agreement_from_csv(f, weights=w, bootstrap=0)
    assert res.weighted is not None and round(res.weighted["value"], 3) == 0.348
    # agreement weights (1 on the diagonal, irrCAC's convention) give the same value
    w.write_text(",PD,N,P\nPD,1,0.8333333333333334,0.5\nN,0.8333333333333334,1,0\nP,0.5,0,1\n")
    assert agreement_from_csv(f, weights=w, bootstrap=0).weighted["value"] == pytest.approx(  # type: ignore[index]
        0.3478260869565216
    )
    # linear and quadratic weights are scikit-learn's
    la = rows[rows["coder"] == "A"]["code"].tolist()
    lb = rows[rows["coder"] == "B"]["code"].tolist()
    for kind in ("linear", "quadratic"):
        got = agreement_from_csv(f, weights=kind, bootstrap=0).weighted
        assert got is not None and got["value"] == pytest.approx(sk(la, lb, kind), abs=TOL)


def test_weight_matrix_of_the_wrong_size_is_one_line_exit_2(tmp_path: Path) -> None:
    from groundcode.cli import main

    rows = _table_rows(COHEN_1960, ["PD", "N", "P"])
    f = tmp_path / "cohen.csv"
    rows.to_csv(f, index=False)
    w = tmp_path / "weights.csv"
    w.write_text("0,1\n1,0\n", encoding="utf-8")
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["agree", "--csv", str(f), "--weights", str(w)])
    assert code == 2
    line = err.getvalue()
    assert line.count("\n") == 1 and "weights.csv" in line and "2x2" in line and "3" in line


def test_fleiss_1971() -> None:
    """Fleiss (1971), Psychological Bulletin 76(5), 378-382, Table 1: 30 patients,
    6 psychiatrists, 5 diagnoses; P-bar = .556, kappa = .430 (R irr's
    ``diagnoses``)."""
    res = agreement_from_csv(DATA / "fleiss_1971_diagnoses.csv", bootstrap=0)
    assert res.n_units == 30 and len(res.coders) == 6
    assert round(res.percent_agreement or 0, 3) == 0.556
    assert round(res.fleiss_kappa or 0, 3) == 0.430
    rows = read_agreement_csv(DATA / "fleiss_1971_diagnoses.csv")
    table = rows.groupby(["unit", "code"]).size().unstack(fill_value=0).to_numpy()
    assert res.fleiss_kappa == pytest.approx(sm_fleiss(table), abs=1e-12)
    assert res.fleiss.se is not None and res.fleiss.se > 0


def test_krippendorff_canonical_reliability_data() -> None:
    """Krippendorff (2011), "Computing Krippendorff's alpha-reliability", the 4
    observers x 12 units example with missing values: nominal alpha = .743."""
    res = agreement_from_csv(DATA / "krippendorff_2011_missing.csv", bootstrap=0)
    assert round(res.alpha.value or 0, 3) == 0.743


def test_gwet_ac1_textbook_example() -> None:
    """Gwet (2014), Handbook of Inter-Rater Reliability, 4th ed., the 100 pregnant
    women classified by two abstractors (Ectopic / AIU / NIU): AC1 = 0.8493
    (irrCAC's ``table_cont3x3abstractors``). The SE is the raw-ratings one of
    irrCAC (0.0434); the handbook's contingency-table variance gives 0.0432."""
    table = [[13, 0, 0], [0, 20, 7], [0, 4, 56]]
    res = compute_agreement(_table_rows(table, ["Ectopic", "AIU", "NIU"]))
    assert round(res.ac1.value or 0, 4) == 0.8493
    assert round(res.ac1.se or 0, 4) == 0.0434
    assert res.pairs[0].kappa.value == pytest.approx(0.7964, abs=5e-5)


def test_decision_agreement_is_what_the_old_headline_printed() -> None:
    """Issue 14: on Cohen's table the (unit x code) share was printed as the
    percent agreement (0.80); it is now decision_agreement, beside p_o = .70."""
    res = compute_agreement(_table_rows(COHEN_1960, ["PD", "N", "P"]))
    # 60 disagreeing units x 2 disagreeing decisions of 3, over 200 units x 3 codes
    assert res.decision_agreement == pytest.approx(1 - 120 / 600)
    assert res.percent_agreement == pytest.approx(0.70)
