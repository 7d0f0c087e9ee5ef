"""Agreement statistics as pure, vectorised functions (no database, no UI).

Why a module of its own: the same numbers appear in ``agree``, in the TUI's
agreement screen and in exported tables, and SPEC §4 promises that they match
scikit-learn, statsmodels and the ``krippendorff`` package on the same data.
Keeping the arithmetic here, free of any storage, lets the tests compare it
with those libraries directly.

Conventions used throughout:

* Undefined values are ``None`` together with a one-line reason, never NaN
  (also never NaN inside a confidence interval), so JSON output stays valid.
* Proportions (``po``, ``pe``) are fractions in [0, 1]; "percent agreement"
  is ``100 * po``.
* The standard error of Cohen's kappa is the asymptotic (non-null) one of
  Fleiss, Cohen & Everitt (1969), the formula statsmodels reports as
  ``std_kappa``; the 95% CI is ``kappa ± 1.96 * SE`` clipped to [-1, 1].
  The formula degenerates to SE 0 when a coder gave every unit the same value
  (rounding can make the variance a hair below 0; it is clamped to 0).
* Brennan-Prediger kappa is ``(po - 1/q) / (1 - 1/q)``: q = 2 for the binary
  per-code decisions, and the number of categories either coder used for the
  multi-class statistic (unless the caller says how many there are).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

Z95 = 1.959963984540054
"""The standard-normal quantile for a two-sided 95% interval."""

ALPHA_LEVELS = ("nominal", "ordinal", "interval", "ratio")

NO_UNITS = "no units were judged by both coders"
NO_VARIATION = "no variation: both coders gave the same value to every unit"


# -- result types -----------------------------------------------------------


@dataclass(frozen=True)
class Kappa:
    """One kappa-type coefficient with what is needed to report and explain it.

    ``value`` is None exactly when ``reason`` says why; ``se``/``ci`` are None
    whenever the value is (and for statistics without an SE formula here).
    """

    value: float | None
    reason: str | None = None
    n: int = 0
    po: float | None = None
    pe: float | None = None
    se: float | None = None
    ci: tuple[float, float] | None = None
    kappa_bp: float | None = None

    @property
    def percent_agreement(self) -> float | None:
        return None if self.po is None else 100.0 * self.po


@dataclass(frozen=True)
class BinaryKappa:
    """Cohen's kappa for one code: did coder A / coder B apply it to each unit.

    ``both``/``a_only``/``b_only``/``neither`` are the 2x2 table; everything
    else follows from it (see :func:`explain_binary`).
    """

    code: str
    both: int
    a_only: int
    b_only: int
    neither: int
    kappa: float | None
    reason: str | None
    po: float | None
    pe: float | None
    se: float | None
    ci: tuple[float, float] | None
    kappa_bp: float | None

    @property
    def n(self) -> int:
        return self.both + self.a_only + self.b_only + self.neither

    @property
    def percent_agreement(self) -> float | None:
        return None if self.po is None else 100.0 * self.po


@dataclass(frozen=True)
class Alpha:
    """Krippendorff's alpha with an optional bootstrap interval.

    ``n_units`` counts pairable units (two or more values); ``n_values`` the
    values in them. ``ci`` is a percentile interval over ``bootstrap`` draws
    that resample units; ``ci_reason`` says why it is missing, if it is.
    """

    value: float | None
    reason: str | None
    level: str
    n_units: int
    n_values: int
    ci: tuple[float, float] | None = None
    ci_reason: str | None = None
    bootstrap: int = 0


# -- helpers ----------------------------------------------------------------


def _opt(x: float) -> float | None:
    """A Python float, or None for NaN/inf (values we never let out)."""
    return float(x) if np.isfinite(x) else None


def _ci(value: float, se: float) -> tuple[float, float]:
    lo = max(-1.0, value - Z95 * se)
    hi = min(1.0, value + Z95 * se)
    return (float(lo), float(hi))


def _column_sums(m: Any) -> NDArray[np.int64]:
    """Column sums of a dense or scipy.sparse 0/1 matrix as int64."""
    return np.asarray(m.sum(axis=0), dtype=np.int64).ravel()


# -- binary (per-code) Cohen's kappa ---------------------------------------


def binary_counts(
    a: Any, b: Any
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """The 2x2 tables of every code at once: (both, a_only, b_only, neither).

    ``a`` and ``b`` are boolean (n_units, n_codes) matrices, dense or
    scipy.sparse, of the same units in the same order.
    """
    if a.shape != b.shape:
        raise ValueError(f"coder matrices differ in shape: {a.shape} vs {b.shape}")
    n = a.shape[0]
    if hasattr(a, "multiply"):
        both = _column_sums(a.multiply(b).astype(bool))
    elif hasattr(b, "multiply"):
        both = _column_sums(b.multiply(a).astype(bool))
    else:
        both = _column_sums(np.logical_and(np.asarray(a, bool), np.asarray(b, bool)))
    a1 = (
        _column_sums(a.astype(bool))
        if hasattr(a, "multiply")
        else _column_sums(np.asarray(a, bool))
    )
    b1 = (
        _column_sums(b.astype(bool))
        if hasattr(b, "multiply")
        else _column_sums(np.asarray(b, bool))
    )
    a_only = a1 - both
    b_only = b1 - both
    neither = n - both - a_only - b_only
    return both, a_only, b_only, neither


def _binary_arrays(
    both: ArrayLike, a_only: ArrayLike, b_only: ArrayLike, neither: ArrayLike
) -> dict[str, NDArray[np.float64]]:
    """Kappa, po, pe, SE and Brennan-Prediger for many 2x2 tables at once.

    Undefined entries are NaN here; callers turn them into None + reason.
    Kappa uses the closed form 2(ad - bc) / ((a+b)(b+d) + (a+c)(c+d)), which
    is algebraically (po - pe) / (1 - pe) but exact in the integer counts.
    """
    n11 = np.asarray(both, dtype=np.float64)
    n10 = np.asarray(a_only, dtype=np.float64)
    n01 = np.asarray(b_only, dtype=np.float64)
    n00 = np.asarray(neither, dtype=np.float64)
    n = n11 + n10 + n01 + n00
    with np.errstate(divide="ignore", invalid="ignore"):
        p11, p10, p01, p00 = n11 / n, n10 / n, n01 / n, n00 / n
        po = p11 + p00
        ra1, rb1 = p11 + p10, p11 + p01  # each coder's rate of applying the code
        ra0, rb0 = 1.0 - ra1, 1.0 - rb1
        pe = ra1 * rb1 + ra0 * rb0
        denom = (n11 + n10) * (n10 + n00) + (n11 + n01) * (n01 + n00)
        kappa = np.where(denom > 0, 2.0 * (n11 * n00 - n10 * n01) / denom, np.nan)
        # Fleiss, Cohen & Everitt (1969) asymptotic variance, 2x2 case.
        q = 1.0 - kappa
        term_a = p11 * (1.0 - (ra1 + rb1) * q) ** 2 + p00 * (1.0 - (ra0 + rb0) * q) ** 2
        term_b = q**2 * (p10 * (rb1 + ra0) ** 2 + p01 * (rb0 + ra1) ** 2)
        term_c = (kappa - pe * q) ** 2
        var = (term_a + term_b - term_c) / (n * (1.0 - pe) ** 2)
        se = np.sqrt(np.maximum(var, 0.0))
        se = np.where(np.isfinite(kappa), se, np.nan)
        bp = np.where(n > 0, 2.0 * po - 1.0, np.nan)
    return {"kappa": kappa, "po": po, "pe": pe, "se": se, "bp": bp, "n": n}


def _binary_reason(both: int, a_only: int, b_only: int, neither: int) -> str | None:
    n = both + a_only + b_only + neither
    if n == 0:
        return NO_UNITS
    if both == n:
        return f"{NO_VARIATION} (both applied it to all {n})"
    if neither == n:
        return f"{NO_VARIATION} (neither applied it to any of {n})"
    return None


def binary_kappas_from_counts(
    both: ArrayLike,
    a_only: ArrayLike,
    b_only: ArrayLike,
    neither: ArrayLike,
    labels: Sequence[str] | None = None,
) -> list[BinaryKappa]:
    """Per-code results from the 2x2 counts (the vectorised core of it all)."""
    b11 = np.asarray(both, dtype=np.int64).ravel()
    b10 = np.asarray(a_only, dtype=np.int64).ravel()
    b01 = np.asarray(b_only, dtype=np.int64).ravel()
    b00 = np.asarray(neither, dtype=np.int64).ravel()
    names = list(labels) if labels is not None else [str(i) for i in range(len(b11))]
    if len(names) != len(b11):
        raise ValueError(f"{len(names)} labels for {len(b11)} codes")
    arr = _binary_arrays(b11, b10, b01, b00)
    out: list[BinaryKappa] = []
    for i, name in enumerate(names):
        c11, c10, c01, c00 = int(b11[i]), int(b10[i]), int(b01[i]), int(b00[i])
        reason = _binary_reason(c11, c10, c01, c00)
        k = None if reason else _opt(arr["kappa"][i])
        se = None if k is None else _opt(arr["se"][i])
        out.append(
            BinaryKappa(
                code=name,
                both=c11,
                a_only=c10,
                b_only=c01,
                neither=c00,
                kappa=k,
                reason=reason,
                po=_opt(arr["po"][i]),
                pe=_opt(arr["pe"][i]),
                se=se,
                ci=_ci(k, se) if k is not None and se is not None else None,
                kappa_bp=_opt(arr["bp"][i]),
            )
        )
    return out


def binary_kappas(a: Any, b: Any, labels: Sequence[str] | None = None) -> list[BinaryKappa]:
    """Per-code binary Cohen's kappa of two coders over all codes at once.

    ``a``/``b``: boolean (n_units, n_codes) matrices (dense or scipy.sparse);
    column j says whether the coder applied code j to each unit. Each kappa
    equals ``sklearn.metrics.cohen_kappa_score(a[:, j], b[:, j])`` where that
    is defined; where it is not (no variation) it is None with the reason.
    """
    return binary_kappas_from_counts(*binary_counts(a, b), labels=labels)


def pooled_kappa_from_counts(
    both: ArrayLike, a_only: ArrayLike, b_only: ArrayLike, neither: ArrayLike
) -> BinaryKappa:
    """Kappa over all (unit, code) decisions: the per-code tables summed."""
    s11, s10, s01, s00 = (
        int(np.asarray(x, dtype=np.int64).sum()) for x in (both, a_only, b_only, neither)
    )
    return binary_kappas_from_counts([s11], [s10], [s01], [s00], labels=["(pooled)"])[0]


def pooled_kappa(a: Any, b: Any) -> BinaryKappa:
    """Cohen's kappa over the flattened matrices (every unit x code decision)."""
    return pooled_kappa_from_counts(*binary_counts(a, b))


# -- multi-class Cohen's kappa ---------------------------------------------


def kappa_from_confusion(cm: ArrayLike, *, n_categories: int | None = None) -> Kappa:
    """Cohen's kappa from a square confusion matrix (rows coder A, columns B).

    SE: Fleiss, Cohen & Everitt (1969), as statsmodels' ``std_kappa``.
    Brennan-Prediger uses q = ``n_categories`` or the matrix size.
    """
    t = np.asarray(cm, dtype=np.float64)
    if t.ndim != 2 or t.shape[0] != t.shape[1]:
        raise ValueError("the confusion matrix must be square")
    n = float(t.sum())
    if n == 0:
        return Kappa(None, NO_UNITS)
    q = n_categories if n_categories is not None else t.shape[0]
    p = t / n
    rows, cols = p.sum(axis=1), p.sum(axis=0)
    po = float(np.trace(p))
    pe = float(rows @ cols)
    bp = (po - 1.0 / q) / (1.0 - 1.0 / q) if q >= 2 else None
    nonzero = np.flatnonzero(t)
    if nonzero.size == 1 and nonzero[0] % (t.shape[0] + 1) == 0:
        return Kappa(None, NO_VARIATION, n=int(n), po=po, pe=pe, kappa_bp=bp)
    kappa = (po - pe) / (1.0 - pe)
    term_a = float((np.diag(p) * (1.0 - (rows + cols) * (1.0 - kappa)) ** 2).sum())
    off = p * (cols[:, None] + rows[None, :]) ** 2
    np.fill_diagonal(off, 0.0)
    term_b = (1.0 - kappa) ** 2 * float(off.sum())
    term_c = (kappa - pe * (1.0 - kappa)) ** 2
    var = (term_a + term_b - term_c) / (n * (1.0 - pe) ** 2)
    se = float(np.sqrt(max(var, 0.0)))
    return Kappa(float(kappa), None, int(n), po, pe, se, _ci(kappa, se), bp)


def confusion_matrix(
    labels_a: ArrayLike, labels_b: ArrayLike
) -> tuple[NDArray[np.int64], list[Any]]:
    """Confusion matrix over the union of both coders' labels (sorted)."""
    import pandas as pd

    la = np.asarray(labels_a, dtype=object).ravel()
    lb = np.asarray(labels_b, dtype=object).ravel()
    if la.shape != lb.shape:
        raise ValueError(f"label vectors differ in length: {la.size} vs {lb.size}")
    codes, uniques = pd.factorize(np.concatenate([la, lb]), sort=True)
    k = len(uniques)
    ia, ib = codes[: la.size], codes[la.size :]
    cm = np.bincount(ia * k + ib, minlength=k * k).reshape(k, k) if k else np.zeros((0, 0))
    return cm.astype(np.int64), list(uniques)


def multiclass_kappa(
    labels_a: ArrayLike, labels_b: ArrayLike, *, n_categories: int | None = None
) -> Kappa:
    """Cohen's kappa for one label per unit per coder (single-label coding).

    Equals ``sklearn.metrics.cohen_kappa_score(labels_a, labels_b)``.
    """
    cm, _ = confusion_matrix(labels_a, labels_b)
    if cm.size == 0:
        return Kappa(None, NO_UNITS)
    return kappa_from_confusion(cm, n_categories=n_categories)


# -- Fleiss' kappa ----------------------------------------------------------


def fleiss_kappa(counts: Any, weights: ArrayLike | None = None) -> Kappa:
    """Fleiss' kappa from a units x categories count matrix (dense or sparse).

    Every row must hold the same number of ratings (complete data), as in
    Fleiss (1971); equals ``statsmodels.stats.inter_rater.fleiss_kappa``.
    ``weights`` repeats rows (row r stands for ``weights[r]`` identical
    units), which lets callers pass millions of binary decisions compactly.
    """
    from scipy import sparse

    t: Any = (
        sparse.csr_matrix(counts, dtype=np.float64)
        if sparse.issparse(counts)
        else np.asarray(counts, dtype=np.float64)
    )
    if t.ndim != 2:
        raise ValueError("counts must be a units x categories matrix")
    w = np.ones(t.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    keep = np.flatnonzero(w > 0)
    t, w = t[keep], w[keep]
    n_units = int(round(float(w.sum())))
    if t.shape[0] == 0:
        return Kappa(None, "no units to rate")
    m = np.asarray(t.sum(axis=1), dtype=np.float64).ravel()
    if not np.all(m == m[0]):
        return Kappa(None, "units have different numbers of ratings (incomplete data)", n_units)
    raters = float(m[0])
    if raters < 2:
        return Kappa(None, "each unit needs at least two ratings", n_units)
    total = float(w.sum())
    squares = t.multiply(t) if sparse.issparse(t) else t**2
    p_j = np.asarray(t.T @ w, dtype=np.float64).ravel() / (total * raters)
    p_i = (np.asarray(squares.sum(axis=1)).ravel() - raters) / (raters * (raters - 1.0))
    p_bar = float(w @ p_i) / total
    pe = float((p_j**2).sum())
    if np.count_nonzero(p_j) <= 1:
        return Kappa(None, "no variation: every rating is in the same category", n_units)
    kappa = (p_bar - pe) / (1.0 - pe)
    q = t.shape[1]
    bp = (p_bar - 1.0 / q) / (1.0 - 1.0 / q) if q >= 2 else None
    return Kappa(float(kappa), None, n_units, p_bar, pe, kappa_bp=bp)


# -- bootstrap for kappa ----------------------------------------------------


def _percentile_ci(draws: list[float], total: int) -> tuple[tuple[float, float] | None, str | None]:
    if len(draws) < total / 2:
        return None, f"the statistic was undefined in {total - len(draws)} of {total} resamples"
    lo, hi = np.percentile(draws, [2.5, 97.5])
    return (float(lo), float(hi)), None


def bootstrap_binary_kappa(
    unit_tables: ArrayLike, freq: ArrayLike, *, draws: int = 1000, seed: int = 0
) -> tuple[tuple[float, float] | None, str | None]:
    """Percentile 95% CI of a (pooled) binary kappa, resampling units.

    ``unit_tables`` (G x 4): the (both, a_only, b_only, neither) decisions
    one kind of unit contributes; ``freq`` (G): how many units are of that
    kind. Returns (ci, reason-when-None).
    """
    tables = np.asarray(unit_tables, dtype=np.float64)
    f = np.asarray(freq, dtype=np.float64)
    n = int(round(f.sum()))
    if n == 0:
        return None, NO_UNITS
    rng = np.random.default_rng(seed)
    g = rng.multinomial(n, f / f.sum(), size=draws).astype(np.float64)
    summed = g @ tables
    arr = _binary_arrays(summed[:, 0], summed[:, 1], summed[:, 2], summed[:, 3])
    k = arr["kappa"]
    return _percentile_ci([float(x) for x in k[np.isfinite(k)]], draws)


def bootstrap_confusion_kappa(
    cells: ArrayLike, freq: ArrayLike, n_categories: int, *, draws: int = 1000, seed: int = 0
) -> tuple[tuple[float, float] | None, str | None]:
    """Percentile 95% CI of multi-class kappa, resampling units.

    ``cells`` (G): flat confusion-matrix cell (row * k + column) of each kind
    of unit; ``freq`` (G): how many units fall in it.
    """
    c = np.asarray(cells, dtype=np.int64)
    f = np.asarray(freq, dtype=np.float64)
    n = int(round(f.sum()))
    if n == 0:
        return None, NO_UNITS
    k = n_categories
    rng = np.random.default_rng(seed)
    out: list[float] = []
    for _ in range(draws):
        g = rng.multinomial(n, f / f.sum())
        cm = np.bincount(c, weights=g, minlength=k * k).reshape(k, k)
        res = kappa_from_confusion(cm)
        if res.value is not None:
            out.append(res.value)
    return _percentile_ci(out, draws)


# -- Krippendorff's alpha ---------------------------------------------------


def _delta(
    values: NDArray[np.float64], level: str, marg: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Krippendorff's difference function over the value domain (V x V)."""
    v = values
    if level == "nominal":
        return 1.0 - np.eye(len(v))
    if level == "interval":
        return np.asarray((v[:, None] - v[None, :]) ** 2, dtype=np.float64)
    if level == "ratio":
        s = v[:, None] + v[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            d = ((v[:, None] - v[None, :]) / s) ** 2
        return np.where(s == 0, 0.0, d)
    if level == "ordinal":
        cum = np.concatenate([[0.0], np.cumsum(marg)])
        i = np.arange(len(v))
        lo, hi = np.minimum(i[:, None], i[None, :]), np.maximum(i[:, None], i[None, :])
        between = cum[hi + 1] - cum[lo]
        return np.asarray((between - (marg[:, None] + marg[None, :]) / 2.0) ** 2, dtype=np.float64)
    raise ValueError(
        f"unknown level of measurement {level!r} (use one of {', '.join(ALPHA_LEVELS)})"
    )


def _alpha_from_coincidence(
    o: NDArray[np.float64], values: NDArray[np.float64], level: str
) -> tuple[float | None, str | None]:
    marg = o.sum(axis=1)
    n = float(marg.sum())
    if n <= 1:
        return None, "no unit was judged by two or more coders"
    delta = _delta(values, level, marg)
    d_o = float((o * delta).sum())
    d_e = float(marg @ delta @ marg) / (n - 1.0)
    if d_e <= 0:
        return None, "no variation: only one value occurs in the pairable data"
    return 1.0 - d_o / d_e, None


class _Patterns:
    """Value-count rows ("patterns") with the coincidences each contributes.

    A unit's contribution to the coincidence matrix depends only on how many
    times each value occurs in it, so identical units are stored once with a
    count. The per-pattern pair list lets a weighted sum over patterns (the
    data itself, or a bootstrap draw) become one ``np.bincount``.
    """

    def __init__(self, value_counts: Any, n_values: int) -> None:
        from scipy import sparse

        vc = sparse.csr_matrix(value_counts, dtype=np.float64)
        vc.sum_duplicates()
        vc.eliminate_zeros()
        self.n_patterns = vc.shape[0]
        self.n_values = n_values
        self.m = np.asarray(vc.sum(axis=1)).ravel()
        indptr, idx, cnt = vc.indptr, vc.indices, vc.data
        s = np.diff(indptr)
        row_of = np.repeat(np.arange(vc.shape[0]), s)
        reps = s[row_of]
        left = np.repeat(np.arange(idx.size), reps)
        start = np.repeat(np.cumsum(reps) - reps, reps)
        right = indptr[row_of[left]] + (np.arange(left.size) - start)
        rows = row_of[left]
        ci, ck = cnt[left], cnt[right]
        with np.errstate(divide="ignore", invalid="ignore"):
            coef = np.where(left == right, ci * (ci - 1.0), ci * ck) / (self.m[rows] - 1.0)
        ok = self.m[rows] >= 2
        self.pair_row = rows[ok]
        self.pair_idx = (idx[left] * n_values + idx[right])[ok]
        self.pair_coef = coef[ok]

    def coincidence(self, weights: NDArray[np.float64]) -> NDArray[np.float64]:
        flat = np.bincount(
            self.pair_idx,
            weights=weights[self.pair_row] * self.pair_coef,
            minlength=self.n_values * self.n_values,
        )
        # ``bincount`` with weights counts in float64 already; asarray only says so.
        return np.asarray(flat, dtype=np.float64).reshape(self.n_values, self.n_values)


def alpha_from_patterns(
    value_counts: Any,
    *,
    values: ArrayLike,
    level: str = "nominal",
    unit_patterns: Any | None = None,
    unit_freq: ArrayLike | None = None,
    bootstrap: int = 0,
    seed: int = 0,
) -> Alpha:
    """Krippendorff's alpha from value counts, compressed and weighted.

    ``value_counts`` (P x V, dense or sparse): row p says how often each
    value occurs in one kind of unit. ``unit_patterns`` (G x P) says how many
    rows of each kind one group of identical units holds (identity when
    omitted: every group is one pattern) and ``unit_freq`` (G) how many units
    each group stands for. Alpha follows Krippendorff (2011) through the
    coincidence matrix; it equals ``krippendorff.alpha`` on the expanded
    data. The bootstrap resamples *units* (multinomial over the groups,
    seeded), recomputes alpha per draw and reports the 2.5/97.5 percentiles
    of the draws where alpha is defined.
    """
    from scipy import sparse

    if level not in ALPHA_LEVELS:
        raise ValueError(f"unknown level of measurement {level!r}")
    vals = np.asarray(values, dtype=np.float64)
    pats = _Patterns(value_counts, len(vals))
    if unit_patterns is None:
        up = sparse.identity(pats.n_patterns, format="csr", dtype=np.float64)
    else:
        up = sparse.csr_matrix(unit_patterns, dtype=np.float64)
    freq = np.ones(up.shape[0]) if unit_freq is None else np.asarray(unit_freq, dtype=np.float64)
    # Only groups with at least one pairable pattern are units alpha can use.
    pairable_pattern = (pats.m >= 2).astype(np.float64)
    group_pairable = np.asarray(up @ pairable_pattern).ravel() > 0
    freq = np.where(group_pairable, freq, 0.0)
    n_units = int(round(float(freq.sum())))
    weights = np.asarray(up.T @ freq).ravel()
    n_values = int(round(float(weights @ np.where(pats.m >= 2, pats.m, 0.0))))
    value, reason = _alpha_from_coincidence(pats.coincidence(weights), vals, level)
    ci: tuple[float, float] | None = None
    ci_reason: str | None = None
    if bootstrap > 0:
        if value is None:
            ci_reason = "alpha is undefined"
        else:
            rng = np.random.default_rng(seed)
            prob = freq / freq.sum()
            draws: list[float] = []
            for _ in range(bootstrap):
                g = rng.multinomial(n_units, prob).astype(np.float64)
                a, _r = _alpha_from_coincidence(
                    pats.coincidence(np.asarray(up.T @ g).ravel()), vals, level
                )
                if a is not None:
                    draws.append(a)
            if len(draws) < bootstrap / 2:
                ci_reason = (
                    f"alpha was undefined in {bootstrap - len(draws)} of {bootstrap} resamples"
                )
            else:
                lo, hi = np.percentile(draws, [2.5, 97.5])
                ci = (float(lo), float(hi))
    return Alpha(value, reason, level, n_units, n_values, ci, ci_reason, bootstrap)


def alpha_from_unit_counts(
    per_unit: Any,
    *,
    values: ArrayLike,
    level: str = "nominal",
    bootstrap: int = 0,
    seed: int = 0,
    method: str = "auto",
) -> Alpha:
    """Krippendorff's alpha from a units x values count matrix (sparse or dense).

    Identical units are merged before :func:`alpha_from_patterns` runs. With
    ``method="auto"`` the point value comes from the ``krippendorff``
    package when its dense units x values table stays under 2 million cells,
    else from the coincidence computation (the tests check both agree);
    ``"package"`` and ``"coincidence"`` force one of them.
    """
    from scipy import sparse

    if method not in ("auto", "package", "coincidence"):
        raise ValueError(f"unknown method {method!r}")
    vals = np.asarray(values, dtype=np.float64)
    counts = sparse.csr_matrix(per_unit, dtype=np.float64)
    unique_rows, freq = compress_rows(counts)
    result = alpha_from_patterns(
        unique_rows, values=vals, level=level, unit_freq=freq, bootstrap=bootstrap, seed=seed
    )
    small = counts.shape[0] * counts.shape[1] <= 2_000_000
    if result.value is not None and (method == "package" or (method == "auto" and small)):
        import krippendorff

        pkg = float(
            krippendorff.alpha(
                value_counts=counts.toarray(),
                value_domain=vals,
                level_of_measurement=cast(
                    'Literal["nominal", "ordinal", "interval", "ratio"]', level
                ),
            )
        )
        if np.isfinite(pkg):
            result = Alpha(
                pkg,
                None,
                level,
                result.n_units,
                result.n_values,
                result.ci,
                result.ci_reason,
                result.bootstrap,
            )
    return result


def krippendorff_alpha(
    reliability_data: ArrayLike,
    *,
    level: str = "nominal",
    bootstrap: int = 1000,
    seed: int = 0,
    method: str = "auto",
) -> Alpha:
    """Krippendorff's alpha for a coders x units matrix (NaN/None = missing).

    Same layout as ``krippendorff.alpha(reliability_data=...)``. Nominal data
    may hold any labels; the other levels need numbers. The bootstrap CI
    resamples units (``bootstrap`` draws, seeded by ``seed``; 0 skips it);
    see :func:`alpha_from_unit_counts` for where the point value comes from.
    """
    import pandas as pd
    from scipy import sparse

    if level not in ALPHA_LEVELS:
        raise ValueError(f"unknown level of measurement {level!r}")
    raw = np.asarray(reliability_data, dtype=object)
    if raw.ndim != 2:
        raise ValueError("reliability data must be a coders x units matrix")
    n_coders, n_units = raw.shape
    flat = pd.Series(raw.ravel(order="F"))  # unit-major: cell i is unit i // n_coders
    missing = flat.isna().to_numpy()
    present = flat[~missing]
    vals: NDArray[np.float64]
    if level == "nominal":
        codes, uniques = pd.factorize(present, sort=True)
        vals = np.arange(len(uniques), dtype=np.float64)
    else:
        nums = pd.to_numeric(present, errors="raise").to_numpy(dtype=np.float64)
        vals, codes = np.unique(nums, return_inverse=True)
    if len(vals) == 0:
        return Alpha(None, "no values at all", level, 0, 0)
    unit_of = np.flatnonzero(~missing) // n_coders
    per_unit = sparse.csr_matrix(
        (np.ones(codes.size), (unit_of, codes)), shape=(n_units, len(vals))
    )
    return alpha_from_unit_counts(
        per_unit, values=vals, level=level, bootstrap=bootstrap, seed=seed, method=method
    )


def group_rows(mat: ArrayLike) -> tuple[NDArray[np.int64], int]:
    """Group identical rows of an integer matrix: (group id per row, n groups).

    Hash-based (one ``pandas.factorize`` per column), so it stays linear
    where ``np.unique(axis=0)`` would sort whole rows.
    """
    import pandas as pd

    m = np.asarray(mat, dtype=np.int64)
    gid = np.zeros(m.shape[0], dtype=np.int64)
    n_groups = 1 if m.shape[0] else 0
    for col in m.T:
        col_ids, col_uniques = pd.factorize(col)
        gid, uniques = pd.factorize(gid * len(col_uniques) + col_ids)
        n_groups = len(uniques)
    return gid.astype(np.int64), n_groups


def compress_rows(m: Any) -> tuple[Any, NDArray[np.float64]]:
    """Unique rows of a sparse count matrix and how often each occurs."""
    from scipy import sparse

    csr = sparse.csr_matrix(m)
    csr.sum_duplicates()
    csr.eliminate_zeros()
    if csr.shape[0] == 0:
        return csr, np.zeros(0)
    s = np.diff(csr.indptr)
    width = int(s.max()) if s.size else 0
    # Encode each row as its (column, count) pairs padded to a fixed width.
    keys = np.full((csr.shape[0], 2 * max(width, 1)), -1, dtype=np.int64)
    row_of = np.repeat(np.arange(csr.shape[0]), s)
    pos = np.arange(csr.indices.size) - np.repeat(csr.indptr[:-1], s)
    keys[row_of, 2 * pos] = csr.indices
    keys[row_of, 2 * pos + 1] = np.rint(csr.data).astype(np.int64)
    gid, n_groups = group_rows(keys)
    rep = np.empty(n_groups, dtype=np.int64)
    rep[gid] = np.arange(gid.size)  # any member stands for its (identical) group
    counts = np.bincount(gid, minlength=n_groups).astype(np.float64)
    return csr[rep], counts


# -- labels and explanations ------------------------------------------------


def landis_koch(k: float | None) -> str:
    """Landis & Koch (1977) benchmark label for a kappa-type value."""
    if k is None or not np.isfinite(k):
        return "undefined"
    if k < 0:
        return "poor"
    if k <= 0.20:
        return "slight"
    if k <= 0.40:
        return "fair"
    if k <= 0.60:
        return "moderate"
    if k <= 0.80:
        return "substantial"
    return "almost perfect"


def explain_binary(
    result: BinaryKappa | int,
    a_only: int | None = None,
    b_only: int | None = None,
    neither: int | None = None,
    *,
    code: str = "",
    coder_a: str = "A",
    coder_b: str = "B",
) -> str:
    """The 2x2 table and the kappa arithmetic with the numbers filled in.

    For ``agree --explain CODE``: a researcher checking a surprising kappa
    should see where every number comes from. Pass a :class:`BinaryKappa`,
    or the four counts ``both, a_only, b_only, neither`` (and ``code=``).
    """
    if not isinstance(result, BinaryKappa):
        if a_only is None or b_only is None or neither is None:
            raise TypeError("explain_binary needs a BinaryKappa or all four counts")
        result = binary_kappas_from_counts([result], [a_only], [b_only], [neither], [code])[0]
    r = result
    n = r.n
    wa = max(len(coder_a), len(coder_b), 7)
    lines = [
        f"code: {r.code}   units judged by both: {n}",
        "",
        f"{'':<{wa}}  {coder_b + ' yes':>10}  {coder_b + ' no':>10}  {'total':>7}",
        f"{coder_a + ' yes':<{wa}}  {r.both:>10}  {r.a_only:>10}  {r.both + r.a_only:>7}",
        f"{coder_a + ' no':<{wa}}  {r.b_only:>10}  {r.neither:>10}  {r.b_only + r.neither:>7}",
        f"{'total':<{wa}}  {r.both + r.b_only:>10}  {r.a_only + r.neither:>10}  {n:>7}",
        "",
    ]
    if n == 0:
        lines.append(f"kappa undefined: {r.reason}")
        return "\n".join(lines)
    a1, b1 = r.both + r.a_only, r.both + r.b_only
    po = r.po if r.po is not None else 0.0
    pe = r.pe if r.pe is not None else 0.0
    lines.append(f"po = (both + neither) / n = ({r.both} + {r.neither}) / {n} = {po:.4f}")
    lines.append(f"pe = ({a1}/{n})*({b1}/{n}) + ({n - a1}/{n})*({n - b1}/{n}) = {pe:.4f}")
    if r.kappa is None:
        lines.append(f"kappa = (po - pe) / (1 - pe) is undefined: {r.reason}")
    else:
        lines.append(
            f"kappa = (po - pe) / (1 - pe) = ({po:.4f} - {pe:.4f}) / (1 - {pe:.4f}) = {r.kappa:.4f}"
            f"  ({landis_koch(r.kappa)})"
        )
        if r.se is not None and r.ci is not None:
            lines.append(
                f"SE (Fleiss, Cohen & Everitt 1969) = {r.se:.4f}; "
                f"95% CI = [{r.ci[0]:.4f}, {r.ci[1]:.4f}]"
            )
    if r.kappa_bp is not None:
        lines.append(f"Brennan-Prediger kappa = (po - 1/2) / (1 - 1/2) = {r.kappa_bp:.4f}")
    lines.append(f"percent agreement = {100.0 * po:.2f}%")
    return "\n".join(lines)
