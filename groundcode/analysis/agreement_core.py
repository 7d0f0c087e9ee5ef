"""Inter-coder agreement from a long table of judgements (SPEC §4).

Both modes of ``groundcode agree`` end here: the project side turns its
codings and done marks into a ``unit, coder, code`` table, ``agree --csv``
reads one from a file. Keeping a single function means the two modes can
never disagree about what a number means.

Semantics (SPEC §3/§4):

* A row ``(unit, coder, code)`` says the coder applied ``code`` to ``unit``;
  a row whose code is None/NaN/"" says the coder judged the unit and applied
  nothing. A (unit, coder) pair with no row at all was not judged. Which
  units count as judged (done marks or "coded anything") is the caller's
  rule, named in ``judged`` and in the notes and methods sentence.
* The units compared are those judged by two or more of the chosen coders
  (for a pair: by both); ``n_units`` counts them. For each code, a unit is 1
  for a coder who applied the code to it, else 0.
* ``percent_agreement`` is unit-level: the share of units where the coders
  gave exactly the same set of codes (single-label data: accuracy; 3+ coders:
  Fleiss' P-bar over the sets). ``decision_agreement`` is the share of
  agreeing (unit, code) decisions (pairwise for 3+ coders).
* ``kappa`` is the multi-class Cohen's kappa when every coder gave at most
  one code per unit (single-label coding; "(none)" is a category of its own),
  else the pooled kappa over all (unit, code) decisions; ``kappa_kind`` says
  which. With 3+ coders it is Light's kappa (the mean of the pairwise ones).
* Gwet's AC1, Fleiss' kappa (Scott's pi for two coders), Conger's kappa,
  Brennan-Prediger and nominal Krippendorff's alpha are computed on the same
  categories as ``kappa``: the labels (single-label) or the binary (unit,
  code) decisions (multi-label; Brennan-Prediger is then PABAK). They follow
  irrCAC / krippendorff (see ``cac.py``), over the compared units.
* Confidence intervals: a seeded percentile bootstrap over units (``bootstrap``
  draws) for kappa, AC1 and alpha; analytic SEs beside them (Fleiss, Cohen &
  Everitt for two-coder kappa, Gwet for AC1, Fleiss' and Conger's kappa).
* ``ignore_uncoded=True`` drops units no selected coder applied any selected
  code to; by default they stay in and count as agreement.

Everything is built with numpy integer encodings of units, coders and codes;
there is no Python loop over units or codes on the computing path.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import combinations
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from groundcode.analysis import stats
from groundcode.analysis.cac import Coefficient, Patterns, percentile_ci
from groundcode.domain.errors import BadOption, GroundcodeError, InvalidInput, NotFound
from groundcode.domain.wording import text

if TYPE_CHECKING:
    import pandas as pd

NONE_LABEL = "(none)"
"""The category of a unit a coder judged and applied nothing to."""

UNCATEGORISED = "(uncategorised)"
"""The group of concepts outside any category at the category and main levels."""

SPARSE_UNITS = 5
"""A code applied to fewer units than this (by anyone) is flagged as sparse."""


# -- errors ------------------------------------------------------------------


@dataclass(eq=False)
class TooFewCoders(GroundcodeError):
    """Agreement needs two coders; ``found`` says how many (and who) there were."""

    found: str
    file: str = ""


# -- words: notes and diagnostics ------------------------------------------


@dataclass(frozen=True)
class Note:
    """One note of the report: a catalog id under ``agreement.note.`` and its fields."""

    key: str
    fields: Mapping[str, Any] = field(default_factory=dict)

    def text(self, lang: str = "en") -> str:
        fields = dict(self.fields)
        reason = fields.get("reason")
        if lang != "en" and isinstance(reason, str):
            fields["reason"] = stat_reason(reason, lang)
        return text("agreement.note." + self.key, lang, **fields)


# The statistics (``stats``, ``char_agreement``) say why a coefficient is undefined
# in English, and the ``--json`` reports carry those words as they are; a note in
# another language words them from the catalog (``agreement.stat.<id>``).
_STAT_REASONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), key)
    for pattern, key in (
        (r"no units were judged by both coders", "no_units_both"),
        (
            r"no variation: both coders gave the same value to every unit \(both applied it to all (?P<n>\d+)\)",
            "all_applied",
        ),
        (
            r"no variation: both coders gave the same value to every unit \(neither applied it to any of (?P<n>\d+)\)",
            "none_applied",
        ),
        (r"no variation: both coders gave the same value to every unit", "same_value"),
        (r"both coders gave the same value to every unit", "same_value"),
        (r"no units to rate", "no_units_to_rate"),
        (r"no units", "no_units_to_rate"),
        (r"units have different numbers of ratings \(incomplete data\)", "incomplete"),
        (r"each unit needs at least two ratings", "two_ratings"),
        (r"no variation: every rating is in the same category", "same_category"),
        (r"no unit was judged by two or more coders", "no_pairable"),
        (r"no variation: only one value occurs in the pairable data", "one_value"),
        (r"no codes were applied, so there is nothing to pool", "nothing_to_pool"),
        (r"undefined", "undefined"),
    )
)


def stat_reason(reason: str, lang: str) -> str:
    """A statistic's English reason for being undefined, in ``lang`` (as it is if unknown)."""
    if lang == "en":
        return reason
    for pattern, key in _STAT_REASONS:
        m = pattern.fullmatch(reason)
        if m:
            return text("agreement.stat." + key, lang, **m.groupdict())
    return reason


@dataclass(frozen=True)
class Diagnostic:
    """A finding worth a look (SPEC §4), with what to do; worded from ``agreement.diag.``."""

    kind: str
    code: str | None
    fields: Mapping[str, Any] = field(default_factory=dict)

    def message(self, lang: str) -> str:
        return text("agreement.diag." + self.kind, lang, **self.fields)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "code": self.code,
            "message_zh": self.message("zh"),
            "message_en": self.message("en"),
        }


def reason_text(key: str | None, lang: str = "en") -> str | None:
    return None if key is None else text("agreement.reason." + key, lang)


# -- results ------------------------------------------------------------------


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
    alpha: float | None = None

    @property
    def n(self) -> int:
        return self.both + self.a_only + self.b_only + self.neither

    @property
    def p_pos(self) -> float | None:
        """Positive specific agreement 2a / (2a + b + c)."""
        d = 2 * self.both + self.a_only + self.b_only
        return 2 * self.both / d if d else None

    @property
    def p_neg(self) -> float | None:
        """Negative specific agreement 2d / (2d + b + c)."""
        d = 2 * self.neither + self.a_only + self.b_only
        return 2 * self.neither / d if d else None

    @property
    def prevalence_index(self) -> float:
        """Byrt, Bishop & Carlin (1993): (a - d) / n."""
        return (self.both - self.neither) / self.n if self.n else 0.0

    @property
    def bias_index(self) -> float:
        """Byrt, Bishop & Carlin (1993): (b - c) / n."""
        return (self.a_only - self.b_only) / self.n if self.n else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "kappa": self.kappa,
            "agreement": self.agreement,
            "p_pos": self.p_pos,
            "p_neg": self.p_neg,
            "prevalence_index": self.prevalence_index,
            "bias_index": self.bias_index,
            "both": self.both,
            "a_only": self.a_only,
            "b_only": self.b_only,
            "neither": self.neither,
            "alpha": self.alpha,
            "reason": self.reason,
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
            "kappa_pooled": self.pooled.kappa,
            "kappa_pooled_ci": list(self.pooled.ci) if self.pooled.ci else None,
            "kappa_multiclass": self.multiclass.value if self.multiclass else None,
            "decision_agreement": self.pooled.po,
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
                    "se": r.se,
                    "ci": list(r.ci) if r.ci else None,
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

KAPPA_KINDS = ("multiclass", "pooled", "light_multiclass", "light_pooled")


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
    fleiss: Coefficient
    per_code: tuple[CodeAgreement, ...]
    pairs: tuple[PairAgreement, ...]
    notes: tuple[Note, ...]
    ignore_uncoded: bool
    single_label: bool
    judged: str = "given"
    n_documents: int | None = None
    decision_agreement: float | None = None
    ac1: Coefficient = Coefficient(None, "no_units", None, None, None)
    bp: Coefficient = Coefficient(None, "no_units", None, None, None)
    bp_q: int = 0
    conger: Coefficient = Coefficient(None, "no_units", None, None, None)
    kappa_se: float | None = None
    kappa_reason: str | None = None
    ci: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    ci_method: str = "none"
    bootstrap: int = 0
    seed: int = 0
    diagnostics: tuple[Diagnostic, ...] = ()
    weighted: Mapping[str, Any] | None = None
    _disagreement_data: _DisagreementData | None = field(default=None, repr=False, compare=False)

    @property
    def fleiss_kappa(self) -> float | None:
        return self.fleiss.value

    @property
    def scott_pi(self) -> float | None:
        """Scott's pi: Fleiss' kappa of two coders (undefined, here, for more)."""
        return self.fleiss.value if len(self.coders) == 2 else None

    @property
    def kappa_bp_label(self) -> str:
        return "PABAK" if self.bp_q == 2 else "Brennan-Prediger"

    @property
    def notes_text(self) -> tuple[str, ...]:
        return tuple(n.text("en") for n in self.notes)

    def methods(self, lang: str = "en") -> str:
        return methods_sentence(self, lang)

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
                raise NotFound("agreement_code", code)
            parts.append(
                stats.explain_binary(match[0], coder_a=pair.coders[0], coder_b=pair.coders[1])
            )
        if not parts:
            raise TooFewCoders("0")
        return "\n\n".join(parts)

    def to_json(self, *, disagreements: bool = True) -> dict[str, Any]:
        """SPEC §4's keys first, in order; extra detail after them."""
        out: dict[str, Any] = {
            "coders": list(self.coders),
            "level": self.level,
            "unit": self.unit,
            "judged": self.judged,
            "n_units": self.n_units,
            "n_documents": self.n_documents,
            "percent_agreement": self.percent_agreement,
            "decision_agreement": self.decision_agreement,
            "kappa": self.kappa,
            "kappa_kind": self.kappa_kind,
            "kappa_pooled": self.kappa_pooled,
            "ac1": self.ac1.value,
            "scott_pi": self.scott_pi,
            "kappa_bp": self.bp.value,
            "alpha": self.alpha.value,
            "fleiss_kappa": self.fleiss.value,
            "ci": {k: list(v) for k, v in self.ci.items()},
            "per_code": [c.to_json() for c in self.per_code],
            "diagnostics": [d.to_json() for d in self.diagnostics],
            "methods": {"zh": self.methods("zh"), "en": self.methods("en")},
            "notes": list(self.notes_text),
        }
        out["notes_zh"] = [n.text("zh") for n in self.notes]
        out["kappa_bp_q"] = self.bp_q
        out["kappa_bp_label"] = self.kappa_bp_label
        out["conger_kappa"] = self.conger.value
        out["se"] = {
            "kappa": self.kappa_se,
            "ac1": self.ac1.se,
            "fleiss_kappa": self.fleiss.se,
            "conger_kappa": self.conger.se,
            "kappa_bp": self.bp.se,
        }
        out["ci_method"] = self.ci_method
        out["bootstrap"] = self.bootstrap
        out["seed"] = self.seed
        out["reasons"] = {
            k: reason_text(v)
            for k, v in (
                ("kappa", self.kappa_reason),
                ("ac1", self.ac1.reason),
                ("kappa_bp", self.bp.reason),
                ("fleiss_kappa", self.fleiss.reason),
                ("conger_kappa", self.conger.reason),
            )
            if v is not None
        }
        if self.alpha.value is None and self.alpha.reason:
            out["reasons"]["alpha"] = self.alpha.reason
        if self.weighted is not None:
            out["weighted_kappa"] = dict(self.weighted)
        out["landis_koch"] = stats.landis_koch(self.kappa)
        out["alpha_level"] = self.alpha.level
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


def _mean_defined(values: Sequence[float | None]) -> float | None:
    got = [v for v in values if v is not None]
    return float(np.mean(got)) if got else None


def _summarise(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" … (+{len(names) - limit})" if len(names) > limit else "")


def _clean_labels(values: Any) -> tuple[NDArray[np.int64], list[str]]:
    """Stripped string labels as (index per row, labels); blank/None/NaN -> -1.

    Works on the distinct values only, so 700,000 rows cost one hash pass.
    """
    import pandas as pd

    idx, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    words = [str(u).strip() for u in uniques]
    labels = sorted({t for t in words if t})
    pos = {t: i for i, t in enumerate(labels)}
    remap = np.array([pos.get(t, -1) for t in words] + [-1], dtype=np.int64)
    return remap[idx], labels  # idx -1 picks the trailing -1


# -- the methods sentence ---------------------------------------------------


def _num(x: float | None, lang: str) -> str:
    return text("agreement.word.undefined", lang) if x is None else f"{x:.3f}"


def methods_sentence(r: AgreementResult, lang: str = "en") -> str:
    """One sentence a paper can quote: statistic and kind, unit, level, coders,
    units and documents, judged rule, how uncoded units count, the CI method."""

    def w(key: str, **f: object) -> str:
        return text("agreement.word." + key, lang, **f)

    sep = "、" if lang == "zh" else ", "
    coders = sep.join(r.coders)
    kind = r.kappa_kind
    stat = w("kappa." + kind)
    ci = r.ci.get("kappa")
    if ci is not None and r.ci_method == "bootstrap":
        ci_text = w(
            "ci.bootstrap", lo=f"{ci[0]:.3f}", hi=f"{ci[1]:.3f}", n=r.bootstrap, seed=r.seed
        )
    elif ci is not None:
        ci_text = w("ci.analytic", lo=f"{ci[0]:.3f}", hi=f"{ci[1]:.3f}")
    else:
        ci_text = ""
    docs = w("documents", n=r.n_documents) if r.n_documents is not None else ""
    return text(
        "agreement.methods",
        lang,
        coders=coders,
        n_coders=len(r.coders),
        n_units=r.n_units,
        unit=w("unit." + r.unit),
        documents=docs,
        judged=w("judged." + r.judged),
        uncoded=w("uncoded.ignored" if r.ignore_uncoded else "uncoded.counts"),
        level=w("level." + r.level),
        stat=stat,
        kappa=_num(r.kappa, lang),
        ci=ci_text,
        ac1=_num(r.ac1.value, lang),
        alpha=_num(r.alpha.value, lang),
        percent="—" if r.percent_agreement is None else f"{100 * r.percent_agreement:.1f}%",
    )


# -- the computation ----------------------------------------------------------
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
    judged: str = "given",
    n_documents: int | None = None,
    extra_notes: Sequence[Note] = (),
    extra_diagnostics: Sequence[Diagnostic] = (),
) -> AgreementResult:
    """Agreement of two or more coders over a long ``unit, coder, code`` table.

    ``coders`` picks and orders the coders (default: all, in order of first
    appearance); ``codes`` restricts the codes (rows with other codes still
    mark the unit as judged). ``bootstrap`` > 0 adds percentile CIs from that
    many unit resamples (seeded by ``seed``) for kappa, AC1 and alpha.
    ``judged`` names the rule that made the rows (``done``, ``coded``,
    ``given`` for a file); ``n_documents`` is how many documents the units
    come from (the caller knows). See the module docstring for the rest.
    """
    import pandas as pd

    if alpha_level not in stats.ALPHA_LEVELS:
        raise BadOption("alpha_level", alpha_level, ", ".join(stats.ALPHA_LEVELS))
    missing = [c for c in ("unit", "coder", "code") if c not in rows.columns]
    if missing:
        raise InvalidInput("", 0, "agreement_missing_columns", ", ".join(missing))

    # -- coders --------------------------------------------------------------
    coder_raw, coder_uniques = pd.factorize(rows["coder"].astype(object), use_na_sentinel=True)
    if (coder_raw < 0).any():
        row = int(np.flatnonzero(coder_raw < 0)[0]) + 1
        raise InvalidInput("", row, "agreement_empty_coder")
    coder_names = [str(c).strip() for c in coder_uniques]
    present = list(dict.fromkeys(coder_names))
    if coders is None:
        chosen = present
    else:
        chosen = [str(c).strip() for c in coders]
        unknown = [c for c in chosen if c not in set(present)]
        if unknown:
            raise NotFound("coder", ", ".join(unknown))
        if len(set(chosen)) != len(chosen):
            raise BadOption("coders", ",".join(chosen), "each coder once")
    if len(chosen) < 2:
        raise TooFewCoders(f"{len(chosen)} ({', '.join(chosen)})")
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

    # -- units ---------------------------------------------------------------
    try:
        unit_idx, unit_labels_ix = pd.factorize(pd.Series(units_raw), sort=True)
    except TypeError:  # labels of mixed types that do not sort
        unit_idx, unit_labels_ix = pd.factorize(pd.Series(units_raw), sort=False)
    unit_idx = unit_idx.astype(np.int64)
    if (unit_idx < 0).any():
        row = int(np.flatnonzero(keep_rows)[np.flatnonzero(unit_idx < 0)[0]]) + 1
        raise InvalidInput("", row, "agreement_empty_unit")
    unit_labels = unit_labels_ix.tolist()
    return compute_encoded(
        Encoded(
            unit_idx=unit_idx,
            coder_idx=coder_idx,
            code_idx=code_idx,
            unit_labels=unit_labels,
            universe=list(universe),
            coders=list(chosen),
        ),
        ignore_uncoded=ignore_uncoded,
        alpha_level=alpha_level,
        seed=seed,
        level=level,
        unit_kind=unit_kind,
        bootstrap=bootstrap,
        judged=judged,
        n_documents=n_documents,
        extra_notes=extra_notes,
        extra_diagnostics=extra_diagnostics,
    )


@dataclass(frozen=True)
class Encoded:
    """Judgements as integers: row i says coder ``coder_idx[i]`` judged unit
    ``unit_idx[i]`` and applied code ``code_idx[i]`` (-1: applied nothing).

    The project builds this straight from its integer columns, the CSV mode
    through :func:`compute_agreement`; both then share :func:`compute_encoded`.
    """

    unit_idx: NDArray[np.int64]
    coder_idx: NDArray[np.int64]
    code_idx: NDArray[np.int64]
    unit_labels: list[Any]
    universe: list[str]
    coders: list[str]


def compute_encoded(
    enc: Encoded,
    *,
    ignore_uncoded: bool = False,
    alpha_level: str = "nominal",
    seed: int = 0,
    level: str = "concept",
    unit_kind: str = "passage",
    bootstrap: int = 0,
    judged: str = "given",
    n_documents: int | None = None,
    extra_notes: Sequence[Note] = (),
    extra_diagnostics: Sequence[Diagnostic] = (),
) -> AgreementResult:
    """The report from encoded judgements (see :func:`compute_agreement`)."""
    notes: list[Note] = []
    unit_idx, coder_idx, code_idx = enc.unit_idx, enc.coder_idx, enc.code_idx
    unit_labels, universe, chosen = enc.unit_labels, enc.universe, enc.coders
    n_coders = len(chosen)
    n_codes = len(universe)
    n_all = len(unit_labels)

    judged_m = np.zeros((n_all, n_coders), dtype=bool)
    judged_m[unit_idx, coder_idx] = True
    app = code_idx >= 0
    width = max(n_codes, 1)
    app_keys = np.unique((unit_idx[app] * n_coders + coder_idx[app]) * width + code_idx[app])
    app_code = app_keys % width
    app_uc = app_keys // width
    app_unit, app_coder = app_uc // n_coders, app_uc % n_coders

    if ignore_uncoded:
        coded_unit = np.zeros(n_all, dtype=bool)
        coded_unit[app_unit] = True
        dropped = int((judged_m.any(axis=1) & ~coded_unit).sum())
        judged_m &= coded_unit[:, None]
        notes.append(Note("ignore_uncoded", {"n": dropped}))
    else:
        notes.append(Note("uncoded_counts"))

    n_judges = judged_m.sum(axis=1)
    pairable = n_judges >= 2
    n_single = int((n_judges == 1).sum())
    if n_single:
        notes.append(Note("single_coder_units", {"n": n_single}))

    # (unit, code) decisions somebody applied, with how many coders applied them
    okp = pairable[app_unit]
    dec_keys, dec_inv, dec_n1 = np.unique(
        app_unit[okp] * width + app_code[okp], return_inverse=True, return_counts=True
    )
    dec_unit = dec_keys // width
    dec_code = dec_keys % width
    dec_mask = np.bincount(
        dec_inv.ravel(), weights=(1 << app_coder[okp]).astype(np.float64), minlength=dec_keys.size
    ).astype(np.int64)

    # single-label: no (unit, coder) carries two codes (among pairable units)
    per_uc = np.bincount(app_uc, minlength=n_all * n_coders).reshape(n_all, n_coders)
    single_label = bool((per_uc[pairable] <= 1).all())

    label_of = np.full((n_all, n_coders), n_codes, dtype=np.int64)  # n_codes = (none)
    if single_label:
        ok = pairable[app_unit]
        label_of[app_unit[ok], app_coder[ok]] = app_code[ok]

    # -- pairs ---------------------------------------------------------------
    pairs = [
        _pair(
            i,
            j,
            chosen,
            judged_m,
            app_unit,
            app_coder,
            app_code,
            n_codes,
            universe,
            single_label,
            label_of,
        )
        for i, j in combinations(range(n_coders), 2)
    ]
    units = np.flatnonzero(pairable)
    n_units = int(units.size)

    # -- rating patterns (see cac.py) -----------------------------------------
    decisions = _decision_patterns(units, judged_m, dec_unit, dec_mask, n_codes, n_coders)
    labels = _label_patterns(units, judged_m, label_of) if single_label else None
    kind_patterns = labels if labels is not None else decisions

    # -- headline numbers ----------------------------------------------------
    base_kind = "multiclass" if single_label else "pooled"
    kappa_se: float | None = None
    if n_coders == 2:
        p = pairs[0]
        kappa, kappa_pooled = p.kappa.value, p.pooled.kappa
        kappa_kind = base_kind
        kappa_se = p.kappa.se
        kappa_reason = None if kappa is not None else p.kappa.reason
        percent = (
            1.0 - _count_disagreeing(units, dec_unit, dec_n1, n_judges) / n_units
            if n_units
            else None
        )
    else:
        kappa = _mean_defined([q.kappa.value for q in pairs])
        kappa_pooled = _mean_defined([q.pooled.kappa for q in pairs])
        kappa_kind = "light_" + base_kind
        kappa_reason = None if kappa is not None else "undefined for every coder pair"
        notes.append(Note("light", {"n_coders": n_coders, "n_pairs": len(pairs)}))
        percent = _set_pbar(units, judged_m, app_unit, app_coder, app_code, n_coders)
    # Per code, for any number of coders: the pairs' 2x2 counts summed and Light's mean
    # of their kappas; with two coders there is one pair, so these are its own figures.
    sums = np.zeros((n_codes, 4), dtype=np.int64)
    for q in pairs:
        sums += np.array(
            [[r.both, r.a_only, r.b_only, r.neither] for r in q.per_code], dtype=np.int64
        ).reshape(n_codes, 4)
    code_kappas = [_mean_defined([q.per_code[c].kappa for q in pairs]) for c in range(n_codes)]
    code_reasons = [
        None if code_kappas[c] is not None else (pairs[0].per_code[c].reason or "undefined")
        for c in range(n_codes)
    ]
    notes.append(Note("kind." + kappa_kind))
    if kappa is None and n_units:
        notes.append(Note("kappa_undefined", {"reason": kappa_reason or ""}))
    if kappa_pooled is None and kappa is not None:
        notes.append(Note("kappa_pooled_undefined"))
    if n_units == 0:
        if n_coders > 2:
            notes.append(Note("no_units_multi"))
        else:
            notes.append(Note("no_units_pair", {"a": chosen[0], "b": chosen[1]}))
    if n_codes == 0:
        notes.append(Note("no_codes"))
    decision_agreement = (
        float(decisions.values()["pa"][0]) if n_units and n_codes and decisions.P else None
    )
    if n_units and n_codes == 0:
        decision_agreement = None

    # -- the other coefficients ----------------------------------------------
    empty = Coefficient(None, "no_units", None, None, None)
    ac1 = kind_patterns.ac1() if n_units and kind_patterns.P else empty
    fleiss = kind_patterns.fleiss() if n_units and kind_patterns.P else empty
    bp = kind_patterns.bp() if n_units and kind_patterns.P else empty
    conger = kind_patterns.conger() if n_units and kind_patterns.P else empty
    bp_q = kind_patterns.q
    if n_units and (n_judges[units] < n_coders).any():
        notes.append(
            Note(
                "incomplete",
                {"n": int((n_judges[units] < n_coders).sum()), "of": n_units},
            )
        )
    if bp_q == 2:
        notes.append(Note("bp_pabak" if single_label else "bp_pabak_decisions", {"q": 2}))
    else:
        notes.append(Note("bp_q", {"q": bp_q}))
    if n_coders > 2:
        notes.append(Note("scott_pi_pairs"))

    if alpha_level == "nominal":
        a = kind_patterns.alpha() if n_units and kind_patterns.P else empty
        alpha = stats.Alpha(
            a.value,
            reason_text(a.reason) if a.value is None else None,
            "nominal",
            n_units,
            int(round(float(kind_patterns.w @ kind_patterns.r_i))) if kind_patterns.P else 0,
        )
    else:
        alpha = _alpha(
            judged_m,
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
        notes.append(Note("alpha_undefined", {"reason": alpha.reason or ""}))
    else:
        notes.append(
            Note("alpha_labels" if single_label else "alpha_decisions", {"level": alpha_level})
        )

    # -- confidence intervals --------------------------------------------------
    ci: dict[str, tuple[float, float]] = {}
    ci_method = "none"
    if bootstrap > 0 and n_units:
        ci_method = "bootstrap"
        kd, ad, al = _bootstrap(kind_patterns, n_coders, bootstrap, seed)
        for name, draws, value in (
            ("kappa", kd, kappa),
            ("ac1", ad, ac1.value),
            ("alpha", al, alpha.value),
        ):
            if value is None:
                continue
            if name == "alpha" and alpha_level != "nominal":
                if alpha.ci is not None:
                    ci["alpha"] = alpha.ci
                continue
            got, bad = percentile_ci(draws)
            if got is None:
                notes.append(Note("ci_undefined", {"stat": name, "bad": bad, "n": bootstrap}))
            else:
                ci[name] = got
        notes.append(Note("ci_bootstrap", {"n": bootstrap, "seed": seed}))
    elif n_units:
        ci_method = "analytic"
        for name, value, se in (
            ("kappa", kappa, kappa_se),
            ("ac1", ac1.value, ac1.se),
            ("fleiss_kappa", fleiss.value, fleiss.se),
        ):
            if value is not None and se is not None:
                ci[name] = (max(-1.0, value - stats.Z95 * se), min(1.0, value + stats.Z95 * se))
        notes.append(Note("ci_analytic"))
    if "alpha" in ci and alpha.ci is None:
        alpha = dataclasses.replace(alpha, ci=ci["alpha"], bootstrap=bootstrap)
    # the pair rows keep their own bootstrap interval for two coders
    if n_coders == 2 and "kappa" in ci and ci_method == "bootstrap":
        pairs[0] = dataclasses.replace(pairs[0], bootstrap_ci=ci["kappa"])

    # -- per code --------------------------------------------------------------
    code_alpha = _per_code_alpha(units, n_judges, dec_unit, dec_code, dec_n1, n_codes)
    per_code = tuple(
        CodeAgreement(
            universe[c],
            code_kappas[c],
            code_reasons[c],
            float(sums[c, 0] + sums[c, 3]) / int(sums[c].sum()) if sums[c].sum() else None,
            int(sums[c, 0]),
            int(sums[c, 1]),
            int(sums[c, 2]),
            int(sums[c, 3]),
            code_alpha[c],
        )
        for c in range(n_codes)
    )
    undefined: dict[str, list[str]] = {}
    for code_row in per_code:
        if code_row.kappa is None and code_row.reason:
            undefined.setdefault(code_row.reason, []).append(code_row.code)
    if n_units:
        for reason, names in undefined.items():
            notes.append(
                Note(
                    "per_code_undefined",
                    {"n": len(names), "codes": _summarise(names), "reason": reason},
                )
            )
    notes.append(Note("percent_meaning"))
    notes.extend(extra_notes)

    # -- diagnostics -------------------------------------------------------------
    diagnostics = list(_diagnostics(per_code, chosen, n_units)) + list(extra_diagnostics)

    # -- disagreements (listed lazily) ---------------------------------------
    partial = dec_n1 < n_judges[dec_unit]
    dis_units = np.unique(dec_unit[partial])
    data = _DisagreementData(
        dis_units, judged_m, app_unit, app_coder, app_code, unit_labels, universe, tuple(chosen)
    )
    notes.insert(0, Note("judged." + judged, {"n_units": n_units, "n_documents": n_documents}))

    return AgreementResult(
        coders=tuple(chosen),
        level=level,
        unit=unit_kind,
        n_units=n_units,
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
        judged=judged,
        n_documents=n_documents,
        decision_agreement=decision_agreement,
        ac1=ac1,
        bp=bp,
        bp_q=bp_q,
        conger=conger,
        kappa_se=kappa_se,
        kappa_reason=None,
        ci=ci,
        ci_method=ci_method,
        bootstrap=bootstrap if ci_method == "bootstrap" else 0,
        seed=seed,
        diagnostics=tuple(diagnostics),
        _disagreement_data=data,
    )


def _count_disagreeing(
    units: NDArray[np.int64],
    dec_unit: NDArray[np.int64],
    dec_n1: NDArray[np.int64],
    n_judges: NDArray[np.int64],
) -> int:
    """Compared units where some decision is not unanimous (two coders: sets differ)."""
    partial = dec_n1 < n_judges[dec_unit]
    return int(np.unique(dec_unit[partial]).size)


def _set_pbar(
    units: NDArray[np.int64],
    judged: NDArray[np.bool_],
    app_unit: NDArray[np.int64],
    app_coder: NDArray[np.int64],
    app_code: NDArray[np.int64],
    n_coders: int,
) -> float | None:
    """Fleiss' P-bar with each coder's *set* of codes as the category of a unit.

    A set is hashed as the sum of random 64-bit words of its codes, so equal
    sets have equal signatures (collisions have probability ~2^-64).
    """
    if units.size == 0:
        return None
    rng = np.random.default_rng(20240601)
    h = rng.integers(
        1, np.iinfo(np.int64).max, size=int(app_code.max(initial=0)) + 1, dtype=np.int64
    )
    sig = np.zeros(judged.shape, dtype=np.uint64)
    np.add.at(sig, (app_unit, app_coder), h[app_code].astype(np.uint64))
    sub = sig[units]
    mask = judged[units]
    # signatures of unjudged coders must never match: make them unique per cell
    sub = np.where(
        mask, sub, np.arange(sub.size, dtype=np.uint64).reshape(sub.shape) | np.uint64(1 << 63)
    )
    r = mask.sum(axis=1).astype(np.float64)
    agree = np.zeros(units.size)
    for i, j in combinations(range(n_coders), 2):
        agree += (sub[:, i] == sub[:, j]) & mask[:, i] & mask[:, j]
    return float(np.mean(2.0 * agree / (r * (r - 1.0))))


def _decision_patterns(
    units: NDArray[np.int64],
    judged: NDArray[np.bool_],
    dec_unit: NDArray[np.int64],
    dec_mask: NDArray[np.int64],
    n_codes: int,
    n_coders: int,
) -> Patterns:
    """The binary (unit, code) decisions as rating patterns, grouped by unit.

    A decision's pattern is (who judged the unit, who applied the code); a
    unit holds ``n_codes`` decisions, most of them "nobody applied it".
    """
    from scipy import sparse

    if units.size == 0 or n_codes == 0:
        return Patterns(np.zeros((0, n_coders), dtype=np.int64), 2)
    bits = 1 << np.arange(n_coders)
    jm_all = (judged.astype(np.int64) * bits).sum(axis=1)
    pos = np.full(judged.shape[0], -1, dtype=np.int64)
    pos[units] = np.arange(units.size)
    stride = 1 << n_coders
    ids = jm_all[dec_unit] * stride + dec_mask
    zero_ids = jm_all[units] * stride
    applied_per_unit = np.bincount(pos[dec_unit], minlength=units.size)
    all_rows = np.concatenate([pos[dec_unit], np.arange(units.size)])
    all_ids = np.concatenate([ids, zero_ids])
    all_w = np.concatenate([np.ones(ids.size), n_codes - applied_per_unit]).astype(np.float64)
    used, col = np.unique(all_ids, return_inverse=True)
    U = sparse.csr_matrix((all_w, (all_rows, col.ravel())), shape=(units.size, used.size))
    groups, freq = stats.compress_rows(U)
    jm, am = used // stride, used % stride
    ratings = np.where((jm[:, None] & bits) > 0, ((am[:, None] & bits) > 0).astype(np.int64), -1)
    return Patterns(ratings, 2, unit_patterns=groups, unit_freq=freq)


def _label_patterns(
    units: NDArray[np.int64], judged: NDArray[np.bool_], label_of: NDArray[np.int64]
) -> Patterns:
    """Single-label coding: each unit's labels (one per coder, -1 unjudged) as a pattern;
    categories are the labels that occur, in code order."""
    sub = np.where(judged[units], label_of[units], -1)
    if sub.size == 0:
        return Patterns(np.zeros((0, judged.shape[1]), dtype=np.int64), 0)
    used = np.unique(sub[sub >= 0])
    remap = np.full(int(label_of.max(initial=0)) + 2, -1, dtype=np.int64)
    remap[used] = np.arange(used.size)
    sub = np.where(sub >= 0, remap[np.maximum(sub, 0)], -1)
    gid, n_groups = stats.group_rows(sub + 1)
    rep = np.empty(n_groups, dtype=np.int64)
    rep[gid] = np.arange(gid.size)
    freq = np.bincount(gid, minlength=n_groups).astype(np.float64)
    return Patterns(sub[rep], int(used.size), freq=freq)


def _bootstrap(
    patterns: Patterns, n_coders: int, draws: int, seed: int
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Kappa, AC1 and nominal alpha over ``draws`` unit resamples.

    Two coders: kappa is Conger's on the two columns, which equals Cohen's
    (multi-class or pooled, whichever the patterns are). More coders: the mean
    of the pairwise Cohen kappas (Light) in every draw.
    """
    ks: list[NDArray[np.float64]] = []
    acs: list[NDArray[np.float64]] = []
    als: list[NDArray[np.float64]] = []
    pair_sets = []
    if n_coders > 2:
        for i, j in combinations(range(n_coders), 2):
            m = (patterns.R[:, i] >= 0) & (patterns.R[:, j] >= 0)
            if m.any():
                pair_sets.append((m, Patterns(patterns.R[m][:, [i, j]], patterns.q)))
    for W in patterns.draws(draws, seed):
        v = patterns.values(W)
        acs.append(v["ac1"])
        als.append(v["alpha"])
        if n_coders == 2:
            ks.append(v["conger"])
        else:
            per = [sub.values(W[:, m])["conger"] for m, sub in pair_sets]
            with np.errstate(all="ignore"):
                stack = np.vstack(per) if per else np.full((1, W.shape[0]), np.nan)
                finite = np.isfinite(stack)
                cnt = finite.sum(axis=0)
                mean = np.where(
                    cnt > 0, np.where(finite, stack, 0.0).sum(axis=0) / np.maximum(cnt, 1), np.nan
                )
            ks.append(mean)
    return np.concatenate(ks), np.concatenate(acs), np.concatenate(als)


def _per_code_alpha(
    units: NDArray[np.int64],
    n_judges: NDArray[np.int64],
    dec_unit: NDArray[np.int64],
    dec_code: NDArray[np.int64],
    dec_n1: NDArray[np.int64],
    n_codes: int,
) -> list[float | None]:
    """Nominal Krippendorff's alpha of each code's binary decisions, in closed form.

    With m coders judging a unit and c of them applying the code, the unit adds
    c(m - c)/(m - 1) to each off-diagonal cell of the coincidence matrix, so
    alpha = 1 - (n - 1) D / (n0 n1) with D their sum, n the pairable values and
    n0, n1 the totals of "not applied" and "applied".
    """
    if n_codes == 0:
        return []
    if units.size == 0:
        return [None] * n_codes
    n = float(n_judges[units].sum())
    m = n_judges[dec_unit].astype(np.float64)
    c = dec_n1.astype(np.float64)
    d = np.bincount(dec_code, weights=c * (m - c) / (m - 1.0), minlength=n_codes)[:n_codes]
    n1 = np.bincount(dec_code, weights=c, minlength=n_codes)[:n_codes]
    n0 = n - n1
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = np.where(n0 * n1 > 0, 1.0 - (n - 1.0) * d / (n0 * n1), np.nan)
    return [float(x) if np.isfinite(x) else None for x in alpha]


def _diagnostics(
    per_code: Sequence[CodeAgreement], coders: Sequence[str], n_units: int
) -> list[Diagnostic]:
    """SPEC §4's diagnostics that follow from the per-code tables."""
    out: list[Diagnostic] = []
    if not n_units or not per_code:
        return out
    a, b = (coders[0], coders[1]) if len(coders) >= 2 else ("A", "B")
    for row in per_code:
        if (
            row.agreement is not None
            and row.agreement >= 0.9
            and (row.kappa is None or row.kappa < 0.4)
            and abs(row.prevalence_index) >= 0.8
            and row.both + row.a_only + row.b_only > 0
        ):
            out.append(
                Diagnostic(
                    "prevalence",
                    row.code,
                    {
                        "code": row.code,
                        "agreement": f"{row.agreement:.2f}",
                        "kappa": "—" if row.kappa is None else f"{row.kappa:.2f}",
                        "pi": f"{row.prevalence_index:.2f}",
                    },
                )
            )
    sparse_codes = [r.code for r in per_code if 0 < r.both + r.a_only + r.b_only < SPARSE_UNITS]
    if sparse_codes:
        out.append(
            Diagnostic(
                "sparse",
                None,
                {"n": len(sparse_codes), "codes": _summarise(sparse_codes), "min": SPARSE_UNITS},
            )
        )
    total_a = sum(r.both + r.a_only for r in per_code)
    total_b = sum(r.both + r.b_only for r in per_code)
    if len(coders) == 2 and min(total_a, total_b) > 0:
        ratio = max(total_a, total_b) / min(total_a, total_b)
        if ratio >= 1.5:
            more, less = (a, b) if total_a > total_b else (b, a)
            out.append(
                Diagnostic(
                    "bias",
                    None,
                    {
                        "more": more,
                        "less": less,
                        "n_more": max(total_a, total_b),
                        "n_less": min(total_a, total_b),
                        "ratio": f"{ratio:.1f}",
                    },
                )
            )
    if len(coders) == 2:
        for row in per_code:
            if row.a_only + row.b_only >= 5 and abs(row.bias_index) >= 0.2:
                more = a if row.a_only > row.b_only else b
                out.append(
                    Diagnostic(
                        "code_bias",
                        row.code,
                        {"code": row.code, "coder": more, "bi": f"{row.bias_index:.2f}"},
                    )
                )
        only_a = [r.code for r in per_code if r.both == 0 and r.a_only > 0 and r.b_only == 0]
        only_b = [r.code for r in per_code if r.both == 0 and r.b_only > 0 and r.a_only == 0]
        for who, names in ((a, only_a), (b, only_b)):
            if names:
                out.append(
                    Diagnostic(
                        "one_coder",
                        None,
                        {"coder": who, "n": len(names), "codes": _summarise(names)},
                    )
                )
    return out


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
    if single_label:
        la, lb = label_of[common, i], label_of[common, j]
        k = n_codes + 1
        cells = la * k + lb
        cm_full = np.bincount(cells, minlength=k * k).reshape(k, k)
        used = np.flatnonzero(cm_full.sum(axis=0) + cm_full.sum(axis=1))
        cm = cm_full[np.ix_(used, used)]
        multiclass = stats.kappa_from_confusion(cm) if n else stats.Kappa(None, stats.NO_UNITS)
        top = multiclass
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
    return PairAgreement(
        coders=(chosen[i], chosen[j]),
        n_units=n,
        kappa=top,
        kappa_kind="multiclass" if single_label else "pooled",
        pooled=pooled,
        multiclass=multiclass,
        per_code=tuple(per_code),
    )


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
                raise InvalidInput("", 0, "agreement_not_number", _summarise(bad))
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
    pattern_id: dict[tuple[int, int], int] = {}
    pat_rows: list[list[int]] = []
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
