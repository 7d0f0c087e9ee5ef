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
        return {
            "base": self.base,
            "run": self.run,
            "threshold": self.threshold,
            "reached_at": self.reached_at,
        }


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
            if self.holdout_started_at
            else None,
            "coverage": self.coverage,
            "curve": [p.__dict__ for p in self.curve],
        }


def _first_seen_counts(new_per_doc: Sequence[set[str]]) -> list[int]:
    seen: set[str] = set()
    counts = []
    for concepts in new_per_doc:
        fresh = concepts - seen
        counts.append(len(fresh))
        seen |= fresh
    return counts


def guest_rule(
    new_per_doc: Sequence[set[str]] | None = None,
    *,
    base: int = 4,
    run: int = 2,
    threshold: float = 0.05,
    first_counts: Sequence[int] | None = None,
) -> GuestResult:
    """Apply the Guest, Namey & Chen (2020) stopping rule to concepts per document in order.

    ``first_counts[i]`` (how many concepts document i brought first) may be
    passed instead of the concept sets; runs are then prefix-sum differences.
    """
    if base < 1 or run < 1:
        raise ValueError("base and run must be at least 1")
    if not 0 <= threshold < 1:
        raise ValueError("threshold must be in [0, 1)")
    counts = (
        list(first_counts) if first_counts is not None else _first_seen_counts(new_per_doc or [])
    )
    n = len(counts)
    if n < base + run:
        return GuestResult(
            base,
            run,
            threshold,
            None,
            0,
            (),
            f"{n} documents: the rule needs at least base + run = {base + run}",
        )
    prefix = [0]
    for c in counts:
        prefix.append(prefix[-1] + c)
    base_size = prefix[base]
    if not base_size:
        return GuestResult(base, run, threshold, None, 0, (), "no concepts in the base documents")
    runs: list[tuple[int, int, float | None]] = []
    reached: int | None = None
    for start in range(base, n - run + 1):
        new = prefix[start + run] - prefix[start]
        ratio = new / base_size
        runs.append((start + run, new, ratio))
        if reached is None and ratio <= threshold:
            reached = start + run
    return GuestResult(base, run, threshold, reached, base_size, tuple(runs))


def _rows_frame(rows: Any) -> Any:
    import pandas as pd

    if isinstance(rows, pd.DataFrame):
        return rows
    return pd.DataFrame(
        [(r.document, r.split, r.concept, r.category, r.at, r.order) for r in rows],
        columns=["document", "split", "concept", "category", "at", "order"],
    )


def _doc_key(number: str) -> tuple[int, int]:
    t, _, n = str(number).partition("-")
    return (int(t), int(n)) if t.isdigit() and n.isdigit() else (10**9, 0)


def curve_points(frame: Any, *, order: str = "coding") -> tuple[list[CurvePoint], list[int]]:
    """Cumulative distinct concepts and categories over documents (vectorised), and first-seen counts."""
    if order not in ("coding", "document"):
        raise ValueError("order must be 'coding' or 'document'")
    if len(frame) == 0:
        return [], []
    ordered = frame.sort_values(["at", "order"], kind="stable")
    if order == "coding":
        docs = ordered.drop_duplicates("document")["document"].tolist()
    else:
        docs = sorted(frame["document"].unique().tolist(), key=_doc_key)
    pos = {d: i for i, d in enumerate(docs)}
    f = frame.assign(pos=frame["document"].map(pos))
    concept_first = f.groupby("concept")["pos"].min()
    cat_first = f.dropna(subset=["category"]).groupby("category")["pos"].min()
    n = len(docs)
    new_c = [0] * n
    for p in concept_first.tolist():
        new_c[int(p)] += 1
    new_k = [0] * n
    for p in cat_first.tolist():
        new_k[int(p)] += 1
    points = []
    cc = ck = 0
    for i, d in enumerate(docs):
        cc += new_c[i]
        ck += new_k[i]
        points.append(CurvePoint(i + 1, d, new_c[i], cc, ck))
    return points, new_c


def curve(
    rows: Sequence[CodingRow], *, order: str = "coding"
) -> tuple[list[CurvePoint], list[set[str]]]:
    """Cumulative distinct concepts (and categories) over documents, and each document's concepts."""
    frame = _rows_frame(rows)
    points, _ = curve_points(frame, order=order)
    by_doc: dict[str, set[str]] = {}
    for d, c in zip(frame["document"], frame["concept"], strict=True):
        by_doc.setdefault(d, set()).add(c)
    return points, [by_doc[p.document] for p in points]


def holdout_test(
    rows: Any,
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

    ``rows`` are CodingRow objects or a DataFrame with columns document, split,
    concept, category, at, order. ``placement`` maps each concept to its current
    initial category (None when not placed yet); new concepts are judged by
    where they are now.
    """
    frame = _rows_frame(rows)
    points, first_counts = curve_points(frame, order=order)
    guest = guest_rule(base=base, run=run, threshold=threshold, first_counts=first_counts)
    holdout_rows = frame[frame["split"] == "holdout"]
    coded_docs = set(holdout_rows["document"].tolist())
    reasons: list[str] = []
    if holdout_documents == 0:
        return SaturationReport(
            None,
            ("the holdout is empty: run `groundcode split` first",),
            (),
            (),
            0,
            0,
            guest,
            tuple(points),
            basis,
            None,
            coverage or {},
        )
    if holdout_rows.empty:
        return SaturationReport(
            None,
            (f"none of the {holdout_documents} holdout documents is coded yet ({basis})",),
            (),
            (),
            holdout_documents,
            0,
            guest,
            tuple(points),
            basis,
            None,
            coverage or {},
        )
    started = holdout_rows.sort_values(["at", "order"], kind="stable")["at"].iloc[0]
    started = started.to_pydatetime() if hasattr(started, "to_pydatetime") else started
    firsts = frame.sort_values(["at", "order"], kind="stable").drop_duplicates("concept")
    new_names = sorted(firsts.loc[firsts["split"] == "holdout", "concept"].tolist())
    new_concepts = [(c, placement.get(c)) for c in new_names]
    new_nodes = [n for n in nodes if n.created_at > started]
    for n in new_nodes:
        reasons.append(
            f"{n.level.replace('_', ' ')} '{n.name}' was created after holdout coding began"
        )
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
        saturated,
        tuple(reasons),
        tuple(new_concepts),
        tuple(n.name for n in new_nodes),
        holdout_documents,
        len(coded_docs),
        guest,
        tuple(points),
        basis,
        started,
        coverage or {},
    )
