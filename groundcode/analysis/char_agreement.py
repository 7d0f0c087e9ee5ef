"""Character-level agreement (NVivo's unit): every character of documents both coders coded.

Counting characters one by one would need documents x codes x characters
booleans; instead each document is cut into elementary intervals at every
span boundary, inside which nobody's coding changes, and each interval counts
with its length as weight. The 2x2 counts are therefore exact character
counts, and kappa from them equals scikit-learn's ``cohen_kappa_score`` on
the per-character labels (the tests check this with sample weights).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class CharCounts:
    code: str
    both: int
    a_only: int
    b_only: int
    neither: int

    @property
    def n(self) -> int:
        return self.both + self.a_only + self.b_only + self.neither


def kappa_from_counts(
    both: float, a_only: float, b_only: float, neither: float
) -> tuple[float | None, str | None]:
    """Cohen's kappa of a 2x2 table; None with a reason when undefined."""
    n = both + a_only + b_only + neither
    if n == 0:
        return None, "no units"
    po = (both + neither) / n
    pa = (both + a_only) / n
    pb = (both + b_only) / n
    pe = pa * pb + (1 - pa) * (1 - pb)
    if pe >= 1:
        return None, "both coders gave the same value to every unit"
    return (po - pe) / (1 - pe), None


def _union_length(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _overlap(x: list[tuple[int, int]], y: list[tuple[int, int]]) -> int:
    i = j = total = 0
    while i < len(x) and j < len(y):
        lo = max(x[i][0], y[j][0])
        hi = min(x[i][1], y[j][1])
        if lo < hi:
            total += hi - lo
        if x[i][1] < y[j][1]:
            i += 1
        else:
            j += 1
    return total


def char_counts(
    codings: pd.DataFrame, coder_a: int, coder_b: int, column: str, doc_lengths: dict[int, int]
) -> list[CharCounts]:
    """Per-code character counts over the documents both coders coded."""
    a_docs = set(codings.loc[codings["coder_id"] == coder_a, "document_id"])
    b_docs = set(codings.loc[codings["coder_id"] == coder_b, "document_id"])
    docs = sorted(a_docs & b_docs)
    total_chars = sum(doc_lengths[d] for d in docs)
    frame = codings[codings["document_id"].isin(docs)].dropna(subset=[column])
    out: list[CharCounts] = []
    for code, g in frame.groupby(column, sort=True):
        both = a_len = b_len = 0
        for _doc, gd in g.groupby("document_id"):
            sa = _union_length(
                [(int(r.start), int(r.end)) for r in gd[gd["coder_id"] == coder_a].itertuples()]  # type: ignore[arg-type]
            )
            sb = _union_length(
                [(int(r.start), int(r.end)) for r in gd[gd["coder_id"] == coder_b].itertuples()]  # type: ignore[arg-type]
            )
            ov = _overlap(sa, sb)
            both += ov
            a_len += sum(b - a for a, b in sa)
            b_len += sum(b - a for a, b in sb)
        out.append(
            CharCounts(
                str(code), both, a_len - both, b_len - both, total_chars - a_len - b_len + both
            )
        )
    return out


def char_agreement_json(
    codings: pd.DataFrame,
    coders: dict[int, str],
    column: str,
    doc_lengths: dict[int, int],
    level: str,
) -> dict[str, Any]:
    """SPEC §4's JSON shape for the character unit (two coders)."""
    ids = list(coders)
    if len(ids) != 2:
        raise ValueError("character-level agreement compares exactly two coders")
    counts = char_counts(codings, ids[0], ids[1], column, doc_lengths)
    per_code = []
    notes: list[str] = [
        "unit: characters of the documents both coders coded (NVivo's convention; "
        "characters neither coder coded count as agreement)"
    ]
    tb = ta = tbb = tn = 0
    for c in counts:
        k, why = kappa_from_counts(c.both, c.a_only, c.b_only, c.neither)
        if why:
            notes.append(f"{c.code}: kappa undefined ({why})")
        per_code.append(
            {
                "code": c.code,
                "kappa": k,
                "agreement": (c.both + c.neither) / c.n if c.n else 0.0,
                "both": c.both,
                "a_only": c.a_only,
                "b_only": c.b_only,
                "neither": c.neither,
            }
        )
        tb, ta, tbb, tn = tb + c.both, ta + c.a_only, tbb + c.b_only, tn + c.neither
    pooled, why = kappa_from_counts(tb, ta, tbb, tn)
    if why:
        notes.append(f"pooled kappa undefined ({why})")
    n_units = sum(
        doc_lengths[d]
        for d in set(codings.loc[codings["coder_id"] == ids[0], "document_id"])
        & set(codings.loc[codings["coder_id"] == ids[1], "document_id"])
    )
    total = tb + ta + tbb + tn
    return {
        "coders": [coders[i] for i in ids],
        "level": level,
        "unit": "char",
        "n_units": int(n_units),
        "percent_agreement": (tb + tn) / total if total else 0.0,
        "kappa": pooled,
        "kappa_pooled": pooled,
        "alpha": None,
        "fleiss_kappa": None,
        "per_code": per_code,
        "notes": notes,
    }


@dataclass(frozen=True)
class CharAgreement:
    """The character-unit result; it has the same ``to_json`` shape as passage agreement."""

    data: dict[str, Any]
    disagreements: tuple[Any, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return dict(self.data)
