"""Inter-coder agreement from a long table of codings (SPEC §4).

Both modes of ``groundcode agree`` end here: the project side turns its
codings into a ``unit, coder, code`` table, ``agree --csv`` reads one from a
file. Keeping a single function means the two modes can never disagree about
what a number means.

Semantics (SPEC §3/§4):

* A row ``(unit, coder, code)`` says the coder applied ``code`` to ``unit``;
  a row whose code is None/NaN/"" says the coder judged the unit and applied
  nothing. A (unit, coder) pair with no row at all was not judged.
* For a pair of coders only units judged by both count. For each code, a
  unit is 1 for a coder if the coder applied the code to it, else 0.
* ``percent_agreement`` is the proportion (0-1, as in ``--unit char``) of
  agreeing (unit, code) decisions, every code counted; ``kappa`` is the
  multi-class Cohen's kappa when every coder gave at most one code per unit
  (single-label coding; "(none)" is a category of its own), else the pooled
  kappa over all (unit, code) decisions.
* Three or more coders: every pair is computed as above. The headline
  ``kappa``, ``kappa_pooled`` and each per-code kappa are the mean over the
  pairs where they are defined (Light's kappa, Light 1971); per-code counts
  are summed over pairs, so ``agreement`` is the pairwise percent agreement.
  ``n_units`` is the number of units judged by at least two coders.
* Fleiss' kappa needs complete data: every unit judged by two or more coders
  must be judged by all of them.
* Krippendorff's alpha uses every unit judged by two or more coders. For
  single-label coding the value is the unit's label ("(none)" included for
  nominal alpha; for ordinal/interval/ratio codes must be numbers and
  "(none)" is missing); for multi-label coding, nominal alpha over the binary
  unit x code decisions (a non-nominal level is refused with a note).
* ``ignore_uncoded=True`` drops units no selected coder applied any selected
  code to; by default they stay in and count as agreement, as NVivo does.

Everything is built with numpy integer encodings of units, coders and codes;
there is no Python loop over units or codes on the computing path.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property
from itertools import combinations
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from groundcode.analysis import stats
from groundcode.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

NONE_LABEL = "(none)"
"""The category of a unit a coder judged and applied nothing to."""


@dataclass(frozen=True)
class CodeAgreement:
    """One row of the per-code table (SPEC §4 ``per_code``)."""

    code: str
    kappa: float | None
    reason: str | None
    agreement: float | None  # proportion of agreeing units, 0-1
    both: int
    a_only: int
    b_only: int
    neither: int

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "kappa": self.kappa,
            "agreement": self.agreement,
            "both": self.both,
            "a_only": self.a_only,
            "b_only": self.b_only,
            "neither": self.neither,
        }


@dataclass(frozen=True)
class PairAgreement:
    """Everything computed for one pair of coders."""

    coders: tuple[str, str]
    n_units: int
    kappa: stats.Kappa  # multi-class when single-label, else pooled
    kappa_kind: str  # "multiclass" or "pooled"
    pooled: stats.BinaryKappa
    multiclass: stats.Kappa | None
    per_code: tuple[stats.BinaryKappa, ...]
    bootstrap_ci: tuple[float, float] | None = None
    bootstrap_reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "coders": list(self.coders),
            "n_units": self.n_units,
            "kappa": self.kappa.value,
            "kappa_kind": self.kappa_kind,
            "reason": self.kappa.reason,
            "se": self.kappa.se,
            "ci": list(self.kappa.ci) if self.kappa.ci else None,
            "bootstrap_ci": list(self.bootstrap_ci) if self.bootstrap_ci else None,
            "kappa_bp": self.kappa.kappa_bp,
            "kappa_pooled": self.pooled.kappa,
            "kappa_pooled_ci": list(self.pooled.ci) if self.pooled.ci else None,
            "kappa_multiclass": self.multiclass.value if self.multiclass else None,
            "percent_agreement": self.pooled.po,
            "per_code": [
                {
                    "code": r.code,
                    "kappa": r.kappa,
                    "reason": r.reason,
                    "agreement": r.po,
                    "both": r.both,
                    "a_only": r.a_only,
                    "b_only": r.b_only,
                    "neither": r.neither,
                    "po": r.po,
                    "pe": r.pe,
                    "se": r.se,
                    "ci": list(r.ci) if r.ci else None,
                    "kappa_bp": r.kappa_bp,
                }
                for r in self.per_code
            ],
        }


@dataclass(frozen=True)
class _DisagreementData:
    """What is needed to list disagreements, kept until someone asks."""

    units: NDArray[np.int64]  # disagreeing unit indices, sorted
    judged: NDArray[np.bool_]  # (n_units_all, n_coders)
    app_unit: NDArray[np.int64]
    app_coder: NDArray[np.int64]
    app_code: NDArray[np.int64]
    unit_labels: list[Any]
    code_labels: list[str]
    coders: tuple[str, ...]


Disagreement = tuple[Any, dict[str, list[str]]]


@dataclass(frozen=True)
class AgreementResult:
    """The agreement report; ``to_json()`` is SPEC §4's ``--json`` shape."""

    coders: tuple[str, ...]
    level: str
    unit: str
    n_units: int
    percent_agreement: float | None
    kappa: float | None
    kappa_kind: str
    kappa_pooled: float | None
    alpha: stats.Alpha
    fleiss: stats.Kappa
    per_code: tuple[CodeAgreement, ...]
    pairs: tuple[PairAgreement, ...]
    notes: tuple[str, ...]
    ignore_uncoded: bool
    single_label: bool
    _disagreement_data: _DisagreementData | None = field(default=None, repr=False, compare=False)

    @property
    def fleiss_kappa(self) -> float | None:
        return self.fleiss.value

    @cached_property
    def disagreements(self) -> tuple[Disagreement, ...]:
        """Units where the coders' code sets differ: (unit, {coder: sorted codes}).

        Only coders who judged the unit appear; built on first access
        because a large project can have a hundred thousand of them.
        """
        d = self._disagreement_data
        if d is None or d.units.size == 0:
            return ()
        in_set = np.zeros(d.judged.shape[0], dtype=bool)
        in_set[d.units] = True
        sel = in_set[d.app_unit]
        code_rank = np.argsort(np.argsort(np.asarray(d.code_labels, dtype=object)))
        u, c, k = d.app_unit[sel], d.app_coder[sel], d.app_code[sel]
        order = np.lexsort((code_rank[k], c, u))
        u, c, k = u[order], c[order], k[order]
        out: dict[int, dict[str, list[str]]] = {}
        judged_sub = d.judged[d.units]
        for unit_idx, row in zip(d.units.tolist(), judged_sub, strict=True):
            out[unit_idx] = {d.coders[j]: [] for j in np.flatnonzero(row).tolist()}
        for ui, ci, ki in zip(u.tolist(), c.tolist(), k.tolist(), strict=True):
            out[ui][d.coders[ci]].append(d.code_labels[ki])
        return tuple((d.unit_labels[ui], codes) for ui, codes in out.items())

    def explain(self, code: str) -> str:
        """``agree --explain CODE``: the 2x2 table and arithmetic for each pair."""
        parts: list[str] = []
        for pair in self.pairs:
            match = [r for r in pair.per_code if r.code == code]
            if not match:
                raise UsageError(f"code {code!r} is not in this agreement report")
            parts.append(
                stats.explain_binary(match[0], coder_a=pair.coders[0], coder_b=pair.coders[1])
            )
        if not parts:
            raise UsageError("no coder pairs to explain")
        return "\n\n".join(parts)

    def to_json(self, *, disagreements: bool = True) -> dict[str, Any]:
        """SPEC §4's keys first, in order; extra detail after them."""
        out: dict[str, Any] = {
            "coders": list(self.coders),
            "level": self.level,
            "unit": self.unit,
            "n_units": self.n_units,
            "percent_agreement": self.percent_agreement,
            "kappa": self.kappa,
            "kappa_pooled": self.kappa_pooled,
            "alpha": self.alpha.value,
            "fleiss_kappa": self.fleiss.value,
            "per_code": [c.to_json() for c in self.per_code],
            "notes": list(self.notes),
        }
        head = self.pairs[0] if len(self.pairs) == 1 else None
        out["kappa_kind"] = self.kappa_kind
        out["ci"] = list(head.kappa.ci) if head and head.kappa.ci else None
        out["kappa_bp"] = head.kappa.kappa_bp if head else None
        out["landis_koch"] = stats.landis_koch(self.kappa)
        out["alpha_level"] = self.alpha.level
        out["alpha_ci"] = list(self.alpha.ci) if self.alpha.ci else None
        out["convention"] = (
            "ignore_uncoded" if self.ignore_uncoded else "uncoded_counts_as_agreement"
        )
        out["single_label"] = self.single_label
        out["pairs"] = [p.to_json() for p in self.pairs]
        if disagreements:
            out["disagreements"] = [
                {"unit": _json_scalar(u), "codes": codes} for u, codes in self.disagreements
            ]
        return out


def _json_scalar(x: Any) -> Any:
    return x.item() if isinstance(x, np.generic) else x


def _mean_defined(values: list[float | None]) -> float | None:
    got = [v for v in values if v is not None]
    return float(np.mean(got)) if got else None


def _summarise(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _clean_labels(values: Any) -> tuple[NDArray[np.int64], list[str]]:
    """Stripped string labels as (index per row, labels); blank/None/NaN -> -1.

    Works on the distinct values only, so 700,000 rows cost one hash pass.
    """
    import pandas as pd

    idx, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    text = [str(u).strip() for u in uniques]
    labels = sorted({t for t in text if t})
    pos = {t: i for i, t in enumerate(labels)}
    remap = np.array([pos.get(t, -1) for t in text] + [-1], dtype=np.int64)
    return remap[idx], labels  # idx -1 picks the trailing -1


def compute_agreement(
    rows: pd.DataFrame,
    *,
    coders: list[str] | None = None,
    codes: list[str] | None = None,
    ignore_uncoded: bool = False,
    alpha_level: str = "nominal",
    seed: int = 0,
    level: str = "concept",
    unit_kind: str = "passage",
    bootstrap: int = 0,
) -> AgreementResult:
    """Agreement of two or more coders over a long ``unit, coder, code`` table.

    ``coders`` picks and orders the coders (default: all, in order of first
    appearance); ``codes`` restricts the codes (rows with other codes still
    mark the unit as judged). ``bootstrap`` > 0 adds percentile CIs from that
    many unit resamples (seeded by ``seed``) for each pair's kappa and for
    alpha; the default skips them because large projects need the time.
    See the module docstring for the exact semantics.
    """
    import pandas as pd

    if alpha_level not in stats.ALPHA_LEVELS:
        raise UsageError(
            f"unknown alpha level {alpha_level!r} (use one of {', '.join(stats.ALPHA_LEVELS)})"
        )
    missing = [c for c in ("unit", "coder", "code") if c not in rows.columns]
    if missing:
        raise UsageError(f"agreement data: missing column(s) {', '.join(missing)}")
    notes: list[str] = []

    # -- coders --------------------------------------------------------------
    coder_raw, coder_uniques = pd.factorize(rows["coder"].astype(object), use_na_sentinel=True)
    if (coder_raw < 0).any():
        row = int(np.flatnonzero(coder_raw < 0)[0]) + 1
        raise UsageError(f"agreement data: row {row}: the coder is empty")
    coder_names = [str(c).strip() for c in coder_uniques]
    present = list(dict.fromkeys(coder_names))
    if coders is None:
        chosen = present
    else:
        chosen = [str(c).strip() for c in coders]
        unknown = [c for c in chosen if c not in set(present)]
        if unknown:
            raise UsageError(
                f"coder(s) {', '.join(unknown)} have no codings here "
                f"(coders present: {', '.join(present) or 'none'})"
            )
        if len(set(chosen)) != len(chosen):
            raise UsageError(f"coder listed twice: {', '.join(chosen)}")
    if len(chosen) < 2:
        raise UsageError(
            f"agreement needs at least two coders; found {len(chosen)}"
            + (f" ({', '.join(chosen)})" if chosen else "")
        )
    n_coders = len(chosen)
    to_chosen = {c: i for i, c in enumerate(chosen)}
    coder_idx = np.array([to_chosen.get(c, -1) for c in coder_names], dtype=np.int64)[coder_raw]
    keep_rows = coder_idx >= 0
    units_raw = rows["unit"].to_numpy()[keep_rows]
    coder_idx = coder_idx[keep_rows]
    code_raw = rows["code"].to_numpy()[keep_rows]

    # -- codes ---------------------------------------------------------------
    code_idx, found = _clean_labels(code_raw)
    if codes is None:
        universe = found
    else:
        universe = list(dict.fromkeys(str(c).strip() for c in codes))
        to_universe = {c: i for i, c in enumerate(universe)}
        remap = np.array([to_universe.get(c, -1) for c in found] + [-1], dtype=np.int64)
        code_idx = remap[code_idx]
    n_codes = len(universe)

    # -- units ---------------------------------------------------------------
    try:
        unit_idx, unit_labels_ix = pd.factorize(pd.Series(units_raw), sort=True)
    except TypeError:  # labels of mixed types that do not sort
        unit_idx, unit_labels_ix = pd.factorize(pd.Series(units_raw), sort=False)
    unit_idx = unit_idx.astype(np.int64)
    if (unit_idx < 0).any():
        row = int(np.flatnonzero(keep_rows)[np.flatnonzero(unit_idx < 0)[0]]) + 1
        raise UsageError(f"agreement data: row {row}: the unit is empty")
    unit_labels = unit_labels_ix.tolist()
    n_all = len(unit_labels)

    judged = np.zeros((n_all, n_coders), dtype=bool)
    judged[unit_idx, coder_idx] = True
    app = code_idx >= 0
    app_keys = np.unique(
        (unit_idx[app] * n_coders + coder_idx[app]) * max(n_codes, 1) + code_idx[app]
    )
    app_code = app_keys % max(n_codes, 1)
    app_uc = app_keys // max(n_codes, 1)
    app_unit, app_coder = app_uc // n_coders, app_uc % n_coders

    if ignore_uncoded:
        coded_unit = np.zeros(n_all, dtype=bool)
        coded_unit[app_unit] = True
        dropped = int((judged.any(axis=1) & ~coded_unit).sum())
        judged &= coded_unit[:, None]
        notes.append(
            f"units no coder applied any code to are left out ({dropped} units); "
            "percent agreement and kappa count only units someone coded"
        )
    else:
        notes.append(
            "units coded by neither coder count as agreement (as NVivo does); "
            "use ignore_uncoded to leave them out"
        )

    n_judges = judged.sum(axis=1)
    pairable = n_judges >= 2
    n_single = int((n_judges == 1).sum())
    if n_single:
        notes.append(f"{n_single} unit(s) judged by only one coder are left out")

    # (unit, code) decisions somebody applied, with how many coders applied them
    width = max(n_codes, 1)
    okp = pairable[app_unit]
    dec_keys, dec_n1 = np.unique(app_unit[okp] * width + app_code[okp], return_counts=True)
    dec_unit = dec_keys // width

    # single-label: no (unit, coder) carries two codes (among pairable units)
    per_uc = np.bincount(app_uc, minlength=n_all * n_coders).reshape(n_all, n_coders)
    single_label = bool((per_uc[pairable] <= 1).all())

    # -- pairs ---------------------------------------------------------------
    label_of = np.full((n_all, n_coders), n_codes, dtype=np.int64)  # n_codes = (none)
    if single_label:
        ok = pairable[app_unit]
        label_of[app_unit[ok], app_coder[ok]] = app_code[ok]
    pairs: list[PairAgreement] = []
    for i, j in combinations(range(n_coders), 2):
        pairs.append(
            _pair(
                i,
                j,
                chosen,
                judged,
                app_unit,
                app_coder,
                app_code,
                n_codes,
                universe,
                single_label,
                label_of,
                bootstrap,
                seed,
            )
        )

    # -- headline numbers ----------------------------------------------------
    kappa_kind = "multiclass" if single_label else "pooled"
    if n_coders == 2:
        p = pairs[0]
        n_units = p.n_units
        kappa, kappa_pooled = p.kappa.value, p.pooled.kappa
        percent = p.pooled.po
        per_code = tuple(
            CodeAgreement(
                r.code,
                r.kappa,
                r.reason,
                r.po,
                r.both,
                r.a_only,
                r.b_only,
                r.neither,
            )
            for r in p.per_code
        )
        kind_note = (
            "kappa is the multi-class Cohen's kappa (every coder gave at most one code per "
            f"unit; '{NONE_LABEL}' counts as a category)"
            if single_label
            else "kappa is the pooled Cohen's kappa over all (unit, code) decisions "
            "(some coder gave several codes to a unit)"
        )
        if kappa is None:
            notes.append(f"kappa is undefined: {p.kappa.reason}")
        elif n_units:
            ci = (
                f"; 95% CI {p.kappa.ci[0]:.3f} to {p.kappa.ci[1]:.3f} "
                "(asymptotic SE of Fleiss, Cohen & Everitt 1969)"
                if p.kappa.ci
                else ""
            )
            notes.append(kind_note + ci)
        if kappa_pooled is None and kappa is not None:
            notes.append(f"kappa_pooled is undefined: {p.pooled.reason}")
    else:
        n_units = int(pairable.sum())
        kappa = _mean_defined([p.kappa.value for p in pairs])
        kappa_pooled = _mean_defined([p.pooled.kappa for p in pairs])
        kappa_kind = f"mean of pairwise {kappa_kind} kappas (Light)"
        notes.append(
            f"{n_coders} coders: kappa, kappa_pooled and per-code kappa are means over the "
            f"{len(pairs)} coder pairs where defined (Light's kappa); per-code counts are "
            "summed over pairs"
        )
        sums = np.zeros((n_codes, 4), dtype=np.int64)
        for p in pairs:
            sums += np.array(
                [[r.both, r.a_only, r.b_only, r.neither] for r in p.per_code], dtype=np.int64
            ).reshape(n_codes, 4)
        total = sums.sum()
        percent = float(sums[:, 0].sum() + sums[:, 3].sum()) / total if total else None
        per_code_list = []
        for c in range(n_codes):
            ks = [p.per_code[c].kappa for p in pairs]
            kc = _mean_defined(ks)
            n_c = int(sums[c].sum())
            per_code_list.append(
                CodeAgreement(
                    universe[c],
                    kc,
                    None if kc is not None else (pairs[0].per_code[c].reason or "undefined"),
                    float(sums[c, 0] + sums[c, 3]) / n_c if n_c else None,
                    int(sums[c, 0]),
                    int(sums[c, 1]),
                    int(sums[c, 2]),
                    int(sums[c, 3]),
                )
            )
        per_code = tuple(per_code_list)
        if kappa is None:
            notes.append(
                "kappa is undefined for every coder pair: "
                + "; ".join(f"{'/'.join(p.coders)}: {p.kappa.reason}" for p in pairs)
            )
        if kappa_pooled is None and kappa is not None:
            notes.append("kappa_pooled is undefined for every coder pair")
    if n_units == 0:
        notes.append(
            "no units were judged by two or more coders, so nothing can be compared"
            if n_coders > 2
            else f"no units were judged by both {chosen[0]} and {chosen[1]}"
        )
    if percent is None and n_units:
        notes.append("percent agreement is undefined: there are no codes to agree on")
    if n_codes == 0:
        notes.append("no codes were applied by any coder")
    notes.append(
        "percent_agreement and per-code agreement are proportions (0-1) of agreeing (unit, code) decisions"
    )
    undefined: dict[str, list[str]] = {}
    for c in per_code:  # type: ignore[assignment]
        if c.kappa is None and c.reason:  # type: ignore[attr-defined]
            undefined.setdefault(c.reason, []).append(c.code)  # type: ignore[attr-defined]
    for reason, names in undefined.items():
        if n_units:
            notes.append(
                f"per-code kappa undefined for {len(names)} codes ({_summarise(names)}): {reason}"
            )

    # -- Fleiss and Krippendorff ----------------------------------------------
    fleiss = _fleiss(pairable, n_judges, n_coders, dec_n1, n_codes, label_of, single_label)
    if fleiss.value is None:
        notes.append(f"fleiss_kappa is undefined: {fleiss.reason}")
    alpha = _alpha(
        judged,
        pairable,
        n_judges,
        dec_unit,
        dec_n1,
        n_codes,
        universe,
        label_of,
        single_label,
        alpha_level,
        bootstrap,
        seed,
        n_coders,
    )
    if alpha.value is None:
        notes.append(f"alpha is undefined: {alpha.reason}")
    else:
        what = (
            f"{alpha_level}, one label per unit"
            if single_label
            else "nominal, over the binary unit x code decisions"
        )
        ci = f"; bootstrap 95% CI {alpha.ci[0]:.3f} to {alpha.ci[1]:.3f}" if alpha.ci else ""
        notes.append(f"alpha is Krippendorff's alpha ({what}){ci}")

    # -- disagreements (listed lazily) ---------------------------------------
    partial = dec_n1 < n_judges[dec_unit]
    dis_units = np.unique(dec_unit[partial])
    data = _DisagreementData(
        dis_units, judged, app_unit, app_coder, app_code, unit_labels, universe, tuple(chosen)
    )

    return AgreementResult(
        coders=tuple(chosen),
        level=level,
        unit=unit_kind,
        n_units=int(n_units),
        percent_agreement=percent,
        kappa=kappa,
        kappa_kind=kappa_kind,
        kappa_pooled=kappa_pooled,
        alpha=alpha,
        fleiss=fleiss,
        per_code=per_code,
        pairs=tuple(pairs),
        notes=tuple(notes),
        ignore_uncoded=ignore_uncoded,
        single_label=single_label,
        _disagreement_data=data,
    )


def _pair(
    i: int,
    j: int,
    chosen: list[str],
    judged: NDArray[np.bool_],
    app_unit: NDArray[np.int64],
    app_coder: NDArray[np.int64],
    app_code: NDArray[np.int64],
    n_codes: int,
    universe: list[str],
    single_label: bool,
    label_of: NDArray[np.int64],
    bootstrap: int,
    seed: int,
) -> PairAgreement:
    """One pair's per-code tables, pooled and multi-class kappa."""
    common = judged[:, i] & judged[:, j]
    n = int(common.sum())
    width = max(n_codes, 1)
    in_a = (app_coder == i) & common[app_unit]
    in_b = (app_coder == j) & common[app_unit]
    keys_a = app_unit[in_a] * width + app_code[in_a]
    keys_b = app_unit[in_b] * width + app_code[in_b]
    shared = np.intersect1d(keys_a, keys_b, assume_unique=True)
    both = np.bincount(shared % width, minlength=n_codes)[:n_codes]
    a1 = np.bincount(app_code[in_a], minlength=n_codes)[:n_codes]
    b1 = np.bincount(app_code[in_b], minlength=n_codes)[:n_codes]
    a_only, b_only = a1 - both, b1 - both
    neither = n - both - a_only - b_only
    per_code = stats.binary_kappas_from_counts(both, a_only, b_only, neither, universe)
    pooled = stats.pooled_kappa_from_counts(both, a_only, b_only, neither)
    if n and n_codes == 0:
        pooled = dataclasses.replace(
            pooled, reason="no codes were applied, so there is nothing to pool"
        )
    multiclass: stats.Kappa | None = None
    boot: tuple[tuple[float, float] | None, str | None] = (None, None)
    if single_label:
        la, lb = label_of[common, i], label_of[common, j]
        k = n_codes + 1
        cells = la * k + lb
        cm_full = np.bincount(cells, minlength=k * k).reshape(k, k)
        used = np.flatnonzero(cm_full.sum(axis=0) + cm_full.sum(axis=1))
        cm = cm_full[np.ix_(used, used)]
        multiclass = stats.kappa_from_confusion(cm) if n else stats.Kappa(None, stats.NO_UNITS)
        top = multiclass
        if bootstrap > 0 and n:
            remap = np.full(k, -1, dtype=np.int64)
            remap[used] = np.arange(used.size)
            flat = remap[la] * used.size + remap[lb]
            cell_ids, freq = np.unique(flat, return_counts=True)
            boot = stats.bootstrap_confusion_kappa(
                cell_ids, freq, used.size, draws=bootstrap, seed=seed
            )
    else:
        top = stats.Kappa(
            pooled.kappa,
            pooled.reason,
            pooled.n,
            pooled.po,
            pooled.pe,
            pooled.se,
            pooled.ci,
            pooled.kappa_bp,
        )
        if bootstrap > 0 and n:
            unit_ids = np.flatnonzero(common)
            pos = np.full(judged.shape[0], -1, dtype=np.int64)
            pos[unit_ids] = np.arange(n)
            ua = np.bincount(pos[keys_a // width], minlength=n)
            ub = np.bincount(pos[keys_b // width], minlength=n)
            ubo = np.bincount(pos[shared // width], minlength=n)
            tables = np.stack([ubo, ua - ubo, ub - ubo, n_codes - ua - ub + ubo], axis=1)
            uniq, freq = np.unique(tables, axis=0, return_counts=True)
            boot = stats.bootstrap_binary_kappa(uniq, freq, draws=bootstrap, seed=seed)
    if top.value is None:
        boot = (None, top.reason)
    return PairAgreement(
        coders=(chosen[i], chosen[j]),
        n_units=n,
        kappa=top,
        kappa_kind="multiclass" if single_label else "pooled",
        pooled=pooled,
        multiclass=multiclass,
        per_code=tuple(per_code),
        bootstrap_ci=boot[0],
        bootstrap_reason=boot[1] if bootstrap > 0 else None,
    )


def _fleiss(
    pairable: NDArray[np.bool_],
    n_judges: NDArray[np.int64],
    n_coders: int,
    dec_n1: NDArray[np.int64],
    n_codes: int,
    label_of: NDArray[np.int64],
    single_label: bool,
) -> stats.Kappa:
    """Fleiss' kappa over complete units: labels, or binary unit x code decisions."""
    from scipy import sparse

    n_pairable = int(pairable.sum())
    if n_pairable == 0:
        return stats.Kappa(None, "no units were judged by two or more coders")
    incomplete = int((pairable & (n_judges < n_coders)).sum())
    if incomplete:
        return stats.Kappa(
            None,
            f"{incomplete} of {n_pairable} units were not judged by every coder "
            "(Fleiss' kappa needs complete data)",
        )
    units = np.flatnonzero(pairable)
    if single_label:
        k = n_codes + 1
        labels = label_of[units]  # (units, coders)
        rows = np.repeat(np.arange(units.size), n_coders)
        counts = sparse.csr_matrix(
            (np.ones(labels.size), (rows, labels.ravel())), shape=(units.size, k)
        )
        return stats.fleiss_kappa(counts)
    if n_codes == 0:
        return stats.Kappa(None, "no codes were applied")
    # decisions by how many coders applied the code (0..n_coders)
    yes = np.bincount(dec_n1, minlength=n_coders + 1)[: n_coders + 1].astype(np.float64)
    yes[0] = units.size * n_codes - yes[1:].sum()
    table = np.array([[n_coders - c, c] for c in range(n_coders + 1)], dtype=np.float64)
    return stats.fleiss_kappa(table, weights=yes)


def _alpha(
    judged: NDArray[np.bool_],
    pairable: NDArray[np.bool_],
    n_judges: NDArray[np.int64],
    dec_unit: NDArray[np.int64],
    dec_n1: NDArray[np.int64],
    n_codes: int,
    universe: list[str],
    label_of: NDArray[np.int64],
    single_label: bool,
    alpha_level: str,
    bootstrap: int,
    seed: int,
    n_coders: int,
) -> stats.Alpha:
    """Krippendorff's alpha: labels (single-label) or binary decisions (multi-label)."""
    import pandas as pd
    from scipy import sparse

    units = np.flatnonzero(pairable)
    if units.size == 0:
        return stats.Alpha(None, "no unit was judged by two or more coders", alpha_level, 0, 0)
    if single_label:
        labels = label_of[units]
        mask = judged[units]
        rows = np.repeat(np.arange(units.size), n_coders).reshape(units.size, n_coders)
        if alpha_level == "nominal":
            values = np.arange(n_codes + 1, dtype=np.float64)
            r, v = rows[mask], labels[mask]
        else:
            nums = pd.to_numeric(pd.Series(universe, dtype=object), errors="coerce").to_numpy(
                dtype=np.float64
            )
            bad = [universe[c] for c in np.flatnonzero(np.isnan(nums))]
            if bad:
                raise UsageError(
                    f"{alpha_level} alpha needs numeric codes; not a number: {_summarise(bad)}"
                )
            keep = mask & (labels < n_codes)  # "(none)" is a missing value here
            r, v = rows[keep], labels[keep]
            values_sorted, v = np.unique(nums[v], return_inverse=True)
            values = values_sorted
            if values.size == 0:
                return stats.Alpha(None, "no numeric values to compare", alpha_level, 0, 0)
        per_unit = sparse.csr_matrix((np.ones(r.size), (r, v)), shape=(units.size, values.size))
        return stats.alpha_from_unit_counts(
            per_unit, values=values, level=alpha_level, bootstrap=bootstrap, seed=seed
        )
    if alpha_level != "nominal":
        return stats.Alpha(
            None,
            f"{alpha_level} alpha needs one value per unit and coder, but some coder gave "
            "several codes to a unit",
            alpha_level,
            int(units.size),
            0,
        )
    if n_codes == 0:
        return stats.Alpha(None, "no codes were applied", alpha_level, int(units.size), 0)
    # Patterns (m, c): a decision judged by m coders, c of whom applied the code.
    pattern_id = {}
    pat_rows = []  # type: ignore[var-annotated]
    for m in range(2, n_coders + 1):
        for c in range(m + 1):
            pattern_id[(m, c)] = len(pat_rows)
            pat_rows.append([m - c, c])
    base = np.zeros(n_coders + 1, dtype=np.int64)  # first pattern index for each m
    for m in range(2, n_coders + 1):
        base[m] = pattern_id[(m, 0)]
    pos = np.full(judged.shape[0], -1, dtype=np.int64)
    pos[units] = np.arange(units.size)
    u = dec_unit
    pid = base[n_judges[u]] + dec_n1
    unit_pat = sparse.csr_matrix(
        (np.ones(u.size), (pos[u], pid)), shape=(units.size, len(pat_rows))
    )
    applied_per_unit = np.bincount(pos[u], minlength=units.size)
    zero_pid = base[n_judges[units]]
    unit_pat = sparse.csr_matrix(unit_pat) + sparse.csr_matrix(
        (n_codes - applied_per_unit, (np.arange(units.size), zero_pid)),
        shape=(units.size, len(pat_rows)),
    )
    groups, freq = stats.compress_rows(unit_pat)
    return stats.alpha_from_patterns(
        np.array(pat_rows, dtype=np.float64),
        values=[0.0, 1.0],
        level="nominal",
        unit_patterns=groups,
        unit_freq=freq,
        bootstrap=bootstrap,
        seed=seed,
    )
