"""Chance-corrected agreement coefficients on compressed rating patterns.

Why this module: Gwet's AC1, Fleiss' kappa, Conger's kappa, Brennan-Prediger
and nominal Krippendorff's alpha all depend on the ratings only through how
often each *pattern* of ratings occurs (a pattern is one row "what each coder
said about one subject"). A project with 100,000 passages x 300 concepts has
30 million (passage, concept) decisions but only a handful of distinct
patterns, so every coefficient, its standard error and every bootstrap draw is
a few matrix products over patterns instead of a pass over subjects.

The definitions are irrCAC's (Gwet 2014, *Handbook of Inter-Rater
Reliability*, 4th ed.; the Python package ``irrCAC.raw.CAC``), unweighted,
with missing ratings allowed: ``pa`` over subjects rated by two or more
coders, the classification probabilities over all subjects given. The tests
check every value and standard error against irrCAC to 1e-9 on random data.

Callers pass only subjects rated by two or more coders (the units the
agreement report counts), so ``n`` here is the report's ``n_units``.

Vectorised over bootstrap draws: every function takes a weights matrix ``W``
(draws x patterns) and returns one value per draw; the point estimate is the
one-row case with the observed pattern frequencies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Coefficient:
    """One coefficient with its percent agreement, chance agreement and SE.

    ``value`` is None exactly when ``reason`` (a catalog id under
    ``agreement.reason.``) says why; ``se`` is None whenever the value is,
    or when there are fewer than two subjects.
    """

    value: float | None
    reason: str | None
    pa: float | None
    pe: float | None
    se: float | None


class Patterns:
    """Distinct rating rows, their counts per category and per coder.

    ``ratings`` (P x r): category index 0..q-1 of coder g on pattern p, or
    -1 where coder g did not rate it. Every pattern must hold at least two
    ratings. ``unit_patterns`` (G x P, optional): how many subjects of each
    pattern one *unit* holds (a passage holds one (passage, code) decision per
    code), with ``unit_freq`` (G) units of each kind; the bootstrap resamples
    units. Without them every pattern is its own unit kind.
    """

    def __init__(
        self,
        ratings: Any,
        q: int,
        *,
        freq: Any | None = None,
        unit_patterns: Any | None = None,
        unit_freq: Any | None = None,
    ) -> None:
        R = np.asarray(ratings, dtype=np.int64)
        if R.ndim != 2:
            raise ValueError("ratings must be patterns x coders")
        self.R = R
        self.q = int(q)
        self.P, self.r = R.shape
        rated = R >= 0
        self.r_i = rated.sum(axis=1).astype(np.float64)
        if self.P and (self.r_i < 2).any():
            raise ValueError("every pattern needs two or more ratings")
        rows = np.repeat(np.arange(self.P), self.r)[rated.ravel()]
        cols = R.ravel()[rated.ravel()]
        self.A = sparse.csr_matrix(
            (np.ones(rows.size), (rows, cols)), shape=(self.P, max(self.q, 1))
        )
        self.A.sum_duplicates()
        a2 = np.asarray(self.A.multiply(self.A).sum(axis=1)).ravel()
        a1 = np.asarray(self.A.sum(axis=1)).ravel()
        with np.errstate(divide="ignore", invalid="ignore"):
            self.pa_i = (a2 - a1) / (self.r_i * (self.r_i - 1.0))
            self.odiag_i = (a2 - a1) / (self.r_i - 1.0)
        self.inv_r = 1.0 / np.where(self.r_i > 0, self.r_i, 1.0)
        self.onehot = [
            sparse.csr_matrix(
                (
                    np.ones(int(rated[:, g].sum())),
                    (np.flatnonzero(rated[:, g]), R[rated[:, g], g]),
                ),
                shape=(self.P, max(self.q, 1)),
            )
            for g in range(self.r)
        ]
        if unit_patterns is None:
            self.U = sparse.identity(self.P, format="csr", dtype=np.float64)
            f = np.ones(self.P) if freq is None else np.asarray(freq, dtype=np.float64)
            self.unit_freq = f
        else:
            self.U = sparse.csr_matrix(unit_patterns, dtype=np.float64)
            self.unit_freq = (
                np.ones(self.U.shape[0])
                if unit_freq is None
                else np.asarray(unit_freq, dtype=np.float64)
            )
        self.w = np.asarray(self.U.T @ self.unit_freq, dtype=np.float64).ravel()

    # -- weights --------------------------------------------------------------
    def _W(self, W: Any | None) -> Array:
        if W is None:
            return self.w[None, :]
        return np.atleast_2d(np.asarray(W, dtype=np.float64))

    def draws(self, n_draws: int, seed: int, chunk: int = 200) -> list[Array]:
        """Bootstrap pattern weights, ``chunk`` draws at a time: units resampled
        with replacement (multinomial over the unit kinds, seeded)."""
        rng = np.random.default_rng(seed)
        n_units = int(round(float(self.unit_freq.sum())))
        prob = self.unit_freq / self.unit_freq.sum()
        out: list[Array] = []
        left = n_draws
        while left > 0:
            k = min(chunk, left)
            g = rng.multinomial(n_units, prob, size=k).astype(np.float64)
            out.append(np.asarray((self.U.T @ g.T).T, dtype=np.float64))
            left -= k
        return out

    # -- shared pieces ------------------------------------------------------
    def _n(self, W: Array) -> Array:
        return np.asarray(W.sum(axis=1), dtype=np.float64)

    def _pa(self, W: Array) -> Array:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray((W @ self.pa_i) / self._n(W), dtype=np.float64)

    def _pi(self, W: Array) -> Array:
        """Gwet's classification probabilities pi_k (draws x q)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            pi = np.asarray((self.A.T @ (W * self.inv_r).T).T) / self._n(W)[:, None]
            return np.asarray(pi, dtype=np.float64)

    def _conger_parts(self, W: Array) -> tuple[Array, Array, Array]:
        """Per-coder classification shares p_gk (draws x r x q), n_g, and p-bar."""
        classif = np.stack([np.asarray((oh.T @ W.T).T) for oh in self.onehot], axis=1)
        ng = classif.sum(axis=2)
        with np.errstate(divide="ignore", invalid="ignore"):
            pgk = classif / ng[:, :, None]
        return pgk, ng, pgk.mean(axis=1)

    # -- coefficients over draws --------------------------------------------
    def values(self, W: Any | None = None) -> dict[str, Array]:
        """pa and every coefficient for each row of W (NaN where undefined)."""
        Wm = self._W(W)
        pa = self._pa(Wm)
        pi = self._pi(Wm)
        q = self.q
        out: dict[str, Array] = {"pa": pa}
        with np.errstate(divide="ignore", invalid="ignore"):
            pe_f = (pi**2).sum(axis=1)
            out["fleiss"] = np.where(pe_f < 1.0, (pa - pe_f) / (1.0 - pe_f), np.nan)
            if q >= 2:
                pe_g = (pi * (1.0 - pi)).sum(axis=1) / (q - 1.0)
                out["ac1"] = (pa - pe_g) / (1.0 - pe_g)
                out["bp"] = (pa - 1.0 / q) / (1.0 - 1.0 / q)
            else:
                out["ac1"] = np.full_like(pa, np.nan)
                out["bp"] = np.full_like(pa, np.nan)
            pgk, _ng, pbar = self._conger_parts(Wm)
            if self.r >= 2:
                s2 = ((pgk**2).sum(axis=1) - self.r * pbar**2) / (self.r - 1.0)
                pe_c = (pbar**2 - s2 / self.r).sum(axis=1)
                out["conger"] = np.where(pe_c < 1.0, (pa - pe_c) / (1.0 - pe_c), np.nan)
            else:
                out["conger"] = np.full_like(pa, np.nan)
            # nominal Krippendorff's alpha through the coincidence matrix
            n_v = Wm @ self.r_i
            o_diag = Wm @ self.odiag_i
            marg = np.asarray((self.A.T @ Wm.T).T)
            de = n_v**2 - (marg**2).sum(axis=1)
            out["alpha"] = np.where(de > 0, 1.0 - (n_v - 1.0) * (n_v - o_diag) / de, np.nan)
        return out

    # -- point estimates with standard errors -------------------------------
    def _se(self, x_i: Array, coef: float) -> float | None:
        w = self.w
        n = float(w.sum())
        if n < 2:
            return None
        var = float(w @ (x_i - coef) ** 2) / (n * (n - 1.0))
        return float(np.sqrt(max(var, 0.0)))

    def _undefined(self, pa: float | None, reason: str) -> Coefficient:
        return Coefficient(None, reason, pa, None, None)

    def fleiss(self) -> Coefficient:
        """Fleiss' kappa (Fleiss 1971; missing ratings as Gwet 2014) and its SE."""
        n = float(self.w.sum())
        if n == 0:
            return Coefficient(None, "no_units", None, None, None)
        pa = float(self._pa(self.w[None, :])[0])
        pi = self._pi(self.w[None, :])[0]
        pe = float((pi**2).sum())
        if pe >= 1.0 - 1e-15:
            return Coefficient(None, "no_variation", pa, pe, None)
        k = (pa - pe) / (1.0 - pe)
        k_i = (self.pa_i - pe) / (1.0 - pe)
        pe_i = np.asarray(self.A @ pi).ravel() * self.inv_r
        x_i = k_i - 2.0 * (1.0 - k) * (pe_i - pe) / (1.0 - pe)
        return Coefficient(float(k), None, pa, pe, self._se(x_i, k))

    def ac1(self) -> Coefficient:
        """Gwet's AC1 (Gwet 2008) and its SE."""
        n = float(self.w.sum())
        if n == 0:
            return Coefficient(None, "no_units", None, None, None)
        pa = float(self._pa(self.w[None, :])[0])
        if self.q < 2:
            return Coefficient(None, "one_category", pa, None, None)
        pi = self._pi(self.w[None, :])[0]
        pe = float((pi * (1.0 - pi)).sum()) / (self.q - 1.0)
        a = (pa - pe) / (1.0 - pe)
        a_i = (self.pa_i - pe) / (1.0 - pe)
        pe_i = np.asarray(self.A @ (1.0 - pi)).ravel() * self.inv_r / (self.q - 1.0)
        x_i = a_i - 2.0 * (1.0 - a) * (pe_i - pe) / (1.0 - pe)
        return Coefficient(float(a), None, pa, pe, self._se(x_i, a))

    def bp(self) -> Coefficient:
        """Brennan & Prediger (1981): chance agreement 1/q; PABAK when q = 2."""
        n = float(self.w.sum())
        if n == 0:
            return Coefficient(None, "no_units", None, None, None)
        pa = float(self._pa(self.w[None, :])[0])
        if self.q < 2:
            return Coefficient(None, "one_category", pa, None, None)
        pe = 1.0 / self.q
        b = (pa - pe) / (1.0 - pe)
        return Coefficient(float(b), None, pa, pe, self._se((self.pa_i - pe) / (1.0 - pe), b))

    def conger(self) -> Coefficient:
        """Conger's (1980) kappa: Fleiss' pa, chance from each coder's own shares."""
        n = float(self.w.sum())
        if n == 0:
            return Coefficient(None, "no_units", None, None, None)
        W = self.w[None, :]
        pa = float(self._pa(W)[0])
        pgk3, ng2, pbar2 = self._conger_parts(W)
        pgk, ng, pbar = pgk3[0], ng2[0], pbar2[0]
        r = self.r
        if (ng == 0).any():
            return Coefficient(None, "coder_rated_none", pa, None, None)
        pgk = np.nan_to_num(pgk)
        s2 = ((pgk**2).sum(axis=0) - r * pbar**2) / (r - 1.0)
        pe = float((pbar**2 - s2 / r).sum())
        if pe >= 1.0 - 1e-15:
            return Coefficient(None, "no_variation", pa, pe, None)
        k = (pa - pe) / (1.0 - pe)
        c = r * pbar[None, :] - pgk  # r x q
        s_g = (pgk * c).sum(axis=1)  # r
        lam = np.zeros((self.P, r))
        for g in range(r):
            rated = self.R[:, g] >= 0
            term1 = np.where(rated, c[g, np.where(rated, self.R[:, g], 0)], 0.0)
            eps = rated.astype(np.float64)
            with np.errstate(divide="ignore", invalid="ignore"):
                lam[:, g] = (n / ng[g]) * (term1 - (eps - ng[g] / n) * s_g[g]) if ng[g] else 0.0
        pe_i = lam.sum(axis=1) / (r * (r - 1.0))
        k_i = (self.pa_i - pe) / (1.0 - pe)
        x_i = k_i - 2.0 * (1.0 - k) * (pe_i - pe) / (1.0 - pe)
        return Coefficient(float(k), None, pa, pe, self._se(x_i, k))

    def alpha(self) -> Coefficient:
        """Nominal Krippendorff's alpha (no SE here; the bootstrap gives its CI)."""
        v = self.values()
        a = float(v["alpha"][0])
        if not np.isfinite(a):
            return Coefficient(
                None, "no_variation" if self.w.sum() else "no_units", None, None, None
            )
        return Coefficient(a, None, float(v["pa"][0]), None, None)


def percentile_ci(draws: Array) -> tuple[tuple[float, float] | None, int]:
    """2.5/97.5 percentiles of the defined draws, and how many were undefined.

    None when more than half the draws are undefined (the interval would
    describe a different population of samples than the estimate).
    """
    finite = draws[np.isfinite(draws)]
    bad = int(draws.size - finite.size)
    if finite.size == 0 or bad > draws.size / 2:
        return None, bad
    lo, hi = np.percentile(finite, [2.5, 97.5])
    return (float(lo), float(hi)), bad


def compress(ratings: Any) -> tuple[NDArray[np.int64], Array, NDArray[np.int64]]:
    """Distinct rows of an integer ratings matrix, their counts, and each row's pattern."""
    R = np.asarray(ratings, dtype=np.int64)
    if R.shape[0] == 0:
        return R, np.zeros(0), np.zeros(0, dtype=np.int64)
    uniq, inverse, counts = np.unique(R, axis=0, return_inverse=True, return_counts=True)
    return uniq, counts.astype(np.float64), inverse.ravel().astype(np.int64)
