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
from typing import TYPE_CHECKING, Any, cast

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


def _spans(gd: pd.DataFrame, coder: int) -> list[tuple[Any, ...]]:
    """(start, end) of ``coder``'s codings in ``gd``."""
    return list(
        gd.loc[gd["coder_id"] == coder, ["start", "end"]].itertuples(index=False, name=None)
    )


def _doc_counts(gd: pd.DataFrame, coder_a: int, coder_b: int) -> tuple[int, int, int]:
    sa = _union_length([(int(a), int(b)) for a, b in _spans(gd, coder_a)])
    sb = _union_length([(int(a), int(b)) for a, b in _spans(gd, coder_b)])
    return _overlap(sa, sb), sum(b - a for a, b in sa), sum(b - a for a, b in sb)


PER_DOCUMENT_LIMIT = 50_000
"""Above this many code x document rows only the rows someone coded are listed."""


def char_agreement_json(
    codings: pd.DataFrame,
    coders: dict[int, str],
    column: str,
    doc_lengths: dict[int, int],
    level: str,
    *,
    judged: pd.DataFrame,
    rule: str,
    doc_numbers: dict[int, str] | None = None,
    notes: list[Any] | None = None,
    diagnostics: list[Any] | None = None,
) -> dict[str, Any]:
    """The character unit for two coders: per code, the character-pooled kappa
    (characters of every document both judged, pooled) and NVivo's rows per
    code x document (kappa 1 where neither coded the code there, flagged)."""
    from groundcode.analysis.agreement_core import Note, reason_text

    ids = list(coders)
    if len(ids) != 2:
        raise ValueError("character-level agreement compares exactly two coders")
    a_id, b_id = ids
    per_doc = judged.groupby("document_id")["coder_id"].agg(set)
    docs: list[int] = sorted(
        int(cast("int", d)) for d, who in per_doc.items() if {a_id, b_id} <= who
    )
    numbers = doc_numbers or {}
    note_items: list[Any] = [Note("judged." + rule, {"n_units": 0, "n_documents": len(docs)})]
    note_items += list(notes or [])
    note_items.append(Note("char_unit"))
    total_chars = sum(doc_lengths.get(d, 0) for d in docs)
    frame = codings[codings["document_id"].isin(docs)].dropna(subset=[column])
    per_code: list[dict[str, Any]] = []
    per_document: list[dict[str, Any]] = []
    tb = ta = tbb = tn = 0
    codes = sorted({str(c) for c in frame[column]})
    by_code = {str(k): g for k, g in frame.groupby(column, sort=True)}
    full = len(codes) * len(docs) <= PER_DOCUMENT_LIMIT
    for code in codes:
        g = by_code[code]
        both = a_len = b_len = 0
        seen: dict[int, tuple[int, int, int]] = {}
        for doc, gd in g.groupby("document_id"):
            ov, la, lb = _doc_counts(gd, a_id, b_id)
            seen[int(cast("int", doc))] = (ov, la, lb)
            both, a_len, b_len = both + ov, a_len + la, b_len + lb
        c = CharCounts(code, both, a_len - both, b_len - both, total_chars - a_len - b_len + both)
        k, why = kappa_from_counts(c.both, c.a_only, c.b_only, c.neither)
        per_code.append(
            {
                "code": c.code,
                "kappa": k,
                "kappa_char_pooled": k,
                "agreement": (c.both + c.neither) / c.n if c.n else None,
                "both": c.both,
                "a_only": c.a_only,
                "b_only": c.b_only,
                "neither": c.neither,
                "reason": why,
            }
        )
        tb, ta, tbb, tn = tb + c.both, ta + c.a_only, tbb + c.b_only, tn + c.neither
        listed: list[int] = docs if full else sorted(seen)
        for doc in listed:
            ov, la, lb = seen.get(doc, (0, 0, 0))
            n = doc_lengths.get(doc, 0)
            counts = (ov, la - ov, lb - ov, n - la - lb + ov)
            nvivo = la == 0 and lb == 0
            kd, _why = kappa_from_counts(*counts)
            if kd is None:
                kd = 1.0 if counts[1] == counts[2] == 0 else 0.0
            per_document.append(
                {
                    "code": code,
                    "document": numbers.get(doc, str(doc)),
                    "kappa": kd,
                    "agreement": (counts[0] + counts[3]) / n if n else None,
                    "both": counts[0],
                    "a_only": counts[1],
                    "b_only": counts[2],
                    "neither": counts[3],
                    "nvivo_convention": nvivo,
                }
            )
    if per_document:
        note_items.append(Note("char_nvivo_one"))
    pooled, why = kappa_from_counts(tb, ta, tbb, tn)
    total = tb + ta + tbb + tn
    if not docs:
        note_items.append(Note("char_no_documents"))
    note_items[0] = Note("judged." + rule, {"n_units": total_chars, "n_documents": len(docs)})
    percent = (tb + tn) / total if total else None
    names = [coders[i] for i in ids]

    def methods(lang: str) -> str:
        from groundcode.domain.wording import text

        sep = "、" if lang == "zh" else ", "
        return text(
            "agreement.methods.char",
            lang,
            coders=sep.join(names),
            n_units=total_chars,
            n_documents=len(docs),
            level=text("agreement.word.level." + level, lang),
            kappa=text("agreement.word.undefined", lang) if pooled is None else f"{pooled:.3f}",
            percent="—" if percent is None else f"{100 * percent:.1f}%",
        )

    return {
        "coders": names,
        "level": level,
        "unit": "char",
        "judged": rule,
        "n_units": int(total_chars),
        "n_documents": len(docs),
        "percent_agreement": percent,
        "decision_agreement": percent,
        "kappa": pooled,
        "kappa_kind": "char_pooled",
        "kappa_pooled": pooled,
        "ac1": None,
        "scott_pi": None,
        "kappa_bp": None,
        "alpha": None,
        "fleiss_kappa": None,
        "ci": {},
        "per_code": per_code,
        "diagnostics": [d.to_json() for d in diagnostics or []],
        "methods": {"zh": methods("zh"), "en": methods("en")},
        "notes": [n.text("en") for n in note_items],
        "notes_zh": [n.text("zh") for n in note_items],
        "per_document": per_document,
        "reasons": {"kappa": why or reason_text("no_documents")} if pooled is None else {},
    }


@dataclass(frozen=True)
class CharAgreement:
    """The character-unit result; it has the same ``to_json`` shape as passage agreement."""

    data: dict[str, Any]
    disagreements: tuple[Any, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return dict(self.data)
