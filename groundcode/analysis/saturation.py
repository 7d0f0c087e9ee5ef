"""Theoretical saturation: the holdout test of SPEC §5 and the saturation curve.

Pure functions over plain rows, so the rules can be tested by hand:

* Holdout test. Holdout coding "begins" with the first coding on a holdout
  document. A concept whose first coding is on a holdout document is *new*;
  the model is saturated iff no initial category, main category or relation
  class was created after that moment and every new concept has been placed
  in an initial category.
* Curve. Cumulative distinct concepts over documents (coding order: by each
  document's first coding; or document order), and the Guest, Namey & Chen
  (2020) stopping rule: the base is the set of distinct concepts in the first
  ``base`` documents (fixed); runs of ``run`` documents roll forward one
  document at a time; new information of a run = concepts first seen in that
  run / concepts in the base. Saturation is reached at the last document of
  the first run whose new information is at or below ``threshold``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class CodingRow:
    document: str
    split: str | None
    concept: str
    category: str | None
    at: datetime
    order: int = 0  # tie-breaker (coding id)


@dataclass(frozen=True)
class NodeRow:
    level: str  # category | main_category | relation_class
    name: str
    created_at: datetime


@dataclass(frozen=True)
class GuestResult:
    base: int
    run: int
    threshold: float
    reached_at: int | None
    base_concepts: int
    runs: tuple[tuple[int, int, float | None], ...]  # (last document index, new in run, ratio)
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"base": self.base, "run": self.run, "threshold": self.threshold, "reached_at": self.reached_at}


@dataclass(frozen=True)
class CurvePoint:
    index: int  # 1-based document position
    document: str
    new_concepts: int
    cumulative_concepts: int
    cumulative_categories: int


@dataclass(frozen=True)
class SaturationReport:
    saturated: bool | None
    reasons: tuple[str, ...]
    new_concepts: tuple[tuple[str, str | None], ...]
    new_categories: tuple[str, ...]
    holdout_documents: int
    holdout_coded: int
    guest: GuestResult
    curve: tuple[CurvePoint, ...] = field(default_factory=tuple)
    basis: str = "consensus"
    holdout_started_at: datetime | None = None
    coverage: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "saturated": self.saturated,
            "reasons": list(self.reasons),
            "new_concepts": [{"concept": c, "category": cat} for c, cat in self.new_concepts],
            "new_categories": list(self.new_categories),
            "holdout": {"documents": self.holdout_documents, "coded": self.holdout_coded},
            "guest": self.guest.to_json(),
            "basis": self.basis,
            "holdout_started_at": self.holdout_started_at.isoformat(timespec="seconds")
            if self.holdout_started_at else None,
            "coverage": self.coverage,
            "curve": [p.__dict__ for p in self.curve],
        }


def guest_rule(new_per_doc: Sequence[set[str]], *, base: int = 4, run: int = 2, threshold: float = 0.05) -> GuestResult:
    """Apply the Guest, Namey & Chen (2020) stopping rule to concepts per document in order."""
    if base < 1 or run < 1:
        raise ValueError("base and run must be at least 1")
    if not 0 <= threshold < 1:
        raise ValueError("threshold must be in [0, 1)")
    n = len(new_per_doc)
    if n < base + run:
        return GuestResult(base, run, threshold, None, 0, (),
                           f"{n} documents: the rule needs at least base + run = {base + run}")
    seen: set[str] = set()
    first_at: dict[str, int] = {}
    for i, concepts in enumerate(new_per_doc):
        for c in concepts:
            if c not in seen:
                seen.add(c)
                first_at[c] = i
    base_set = {c for c, i in first_at.items() if i < base}
    if not base_set:
        return GuestResult(base, run, threshold, None, 0, (), "no concepts in the base documents")
    runs: list[tuple[int, int, float | None]] = []
    reached: int | None = None
    for start in range(base, n - run + 1):
        new = sum(1 for i in first_at.values() if start <= i < start + run)
        ratio = new / len(base_set)
        runs.append((start + run, new, ratio))
        if reached is None and ratio <= threshold:
            reached = start + run
    return GuestResult(base, run, threshold, reached, len(base_set), tuple(runs))


def curve(rows: Sequence[CodingRow], *, order: str = "coding") -> tuple[list[CurvePoint], list[set[str]]]:
    """Cumulative distinct concepts (and categories) over documents, and each document's concepts."""
    if order not in ("coding", "document"):
        raise ValueError("order must be 'coding' or 'document'")
    per_doc: dict[str, list[CodingRow]] = {}
    for r in rows:
        per_doc.setdefault(r.document, []).append(r)
    if order == "coding":
        docs = sorted(per_doc, key=lambda d: min((r.at, r.order) for r in per_doc[d]))
    else:
        def _key(number: str) -> tuple[int, int]:
            t, _, n = number.partition("-")
            return (int(t), int(n)) if t.isdigit() and n.isdigit() else (10**9, 0)

        docs = sorted(per_doc, key=_key)
    seen: set[str] = set()
    seen_cat: set[str] = set()
    points: list[CurvePoint] = []
    concepts_per_doc: list[set[str]] = []
    for i, d in enumerate(docs, start=1):
        concepts = {r.concept for r in per_doc[d]}
        concepts_per_doc.append(concepts)
        new = concepts - seen
        seen |= concepts
        seen_cat |= {r.category for r in per_doc[d] if r.category}
        points.append(CurvePoint(i, d, len(new), len(seen), len(seen_cat)))
    return points, concepts_per_doc


def holdout_test(
    rows: Sequence[CodingRow],
    nodes: Sequence[NodeRow],
    *,
    holdout_documents: int,
    placement: dict[str, str | None],
    base: int = 4,
    run: int = 2,
    threshold: float = 0.05,
    order: str = "coding",
    basis: str = "consensus",
    coverage: dict[str, dict[str, int]] | None = None,
) -> SaturationReport:
    """The verdict of SPEC §5 with its reasons, plus the curve and the Guest rule.

    ``placement`` maps each concept to its current initial category (None when
    not placed yet); new concepts are judged by where they are now.
    """
    points, per_doc = curve(rows, order=order)
    guest = guest_rule(per_doc, base=base, run=run, threshold=threshold)
    holdout_rows = [r for r in rows if r.split == "holdout"]
    coded_docs = {r.document for r in holdout_rows}
    reasons: list[str] = []
    if holdout_documents == 0:
        return SaturationReport(None, ("the holdout is empty: run `groundcode split` first",), (), (), 0, 0,
                                guest, tuple(points), basis, None, coverage or {})
    if not holdout_rows:
        return SaturationReport(
            None, (f"none of the {holdout_documents} holdout documents is coded yet ({basis})",),
            (), (), holdout_documents, 0, guest, tuple(points), basis, None, coverage or {},
        )
    started = min((r.at, r.order) for r in holdout_rows)[0]
    first: dict[str, CodingRow] = {}
    for r in sorted(rows, key=lambda r: (r.at, r.order)):
        first.setdefault(r.concept, r)
    new_concepts = sorted(
        ((c, placement.get(c)) for c, r in first.items() if r.split == "holdout"), key=lambda x: x[0]
    )
    new_nodes = [n for n in nodes if n.created_at > started]
    for n in new_nodes:
        reasons.append(f"{n.level.replace('_', ' ')} '{n.name}' was created after holdout coding began")
    unplaced = [c for c, cat in new_concepts if cat is None]
    for c in unplaced:
        reasons.append(f"new concept '{c}' is not placed in any initial category yet")
    saturated = not new_nodes and not unplaced
    if saturated:
        if new_concepts:
            reasons.append(
                f"{len(new_concepts)} new concept(s) in the holdout all fit existing initial categories; "
                "no new category was needed"
            )
        else:
            reasons.append("the holdout brought no new concept and no new category")
    return SaturationReport(
        saturated, tuple(reasons), tuple(new_concepts), tuple(n.name for n in new_nodes),
        holdout_documents, len(coded_docs), guest, tuple(points), basis, started, coverage or {},
    )
