"""Theoretical saturation: the holdout test of SPEC §5 and the saturation curve.

Pure functions over plain values (``SaturationInput``), so every rule can be
tested by hand; ``saturation_data`` reads them from a project.

* **Holdout test.** The lead records the holdout start (``saturation begin``).
  The audit log is the evidence: an initial category, main category or relation
  class *created* after the start counts, even if it was later deleted, renamed
  or merged away. A concept whose first coding in the basis is on a holdout
  document after the start is *new*; it must be placed in an initial category.
  Verdict ``True`` iff nothing was created after the start and every new
  concept is placed; ``False`` naming each new node and unplaced concept;
  ``None`` (no verdict yet) while the holdout is not started, not every holdout
  document is judged (done) in the basis, or, for the consensus basis, holdout
  disagreements are still open. Codings made on holdout documents before the
  start are reported.
* **Curve.** Cumulative distinct concepts over documents in the order they
  were judged (done marks; the first coding time where a document has none),
  never grouped by source type. Guest, Namey & Chen (2020): the base is the set
  of concepts in the first ``base`` documents; runs of ``run`` documents roll
  forward one document at a time; a run's new information is the concepts
  first seen in it over the base's size. The first run at or below the
  threshold confirms saturation: the *saturation point* is the number of
  documents before that run (base plus the runs before it), the *confirmation
  point* its last document. Later runs above the threshold are reported, and
  ``permutations`` repeats the rule over seeded random orders.

Reasons are typed (``Reason(key, fields)``) and worded in zh or en from the
``saturation`` catalog.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from groundcode.domain.wording import text

LEVEL_WORDS = {
    "category": "noun.category_level",
    "main_category": "noun.main_category_level",
    "relation_class": "noun.relation_class_level",
}


@dataclass(frozen=True)
class Reason:
    """One reason of a verdict: a catalog key (``saturation.reason.<key>``) and its fields."""

    key: str
    fields: Mapping[str, Any] = field(default_factory=dict)

    def text(self, lang: str = "en") -> str:
        values = dict(self.fields)
        if "level" in values:
            values["level"] = text(LEVEL_WORDS.get(str(values["level"]), "x"), lang)
        if "fate" in values:
            values["fate"] = text(
                f"saturation.fate.{values['fate']}", lang, into=values.get("into", "")
            )
        return text(f"saturation.reason.{self.key}", lang, **values)

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "fields": dict(self.fields),
            "zh": self.text("zh"),
            "en": self.text("en"),
        }


@dataclass(frozen=True)
class CodingRow:
    document: str
    split: str | None
    concept: str
    category: str | None
    at: datetime
    order: int = 0  # tie-breaker (coding id)


@dataclass(frozen=True)
class CreatedNode:
    """A category-level item whose creation the audit log records, and what became of it."""

    level: str  # category | main_category | relation_class
    name: str  # its name when created
    created_at: datetime
    now: str | None = None  # its current name; None when it no longer exists
    fate: str | None = None  # deleted | merged; None while it stands (renames keep it standing)
    into: str | None = None  # what it was merged into

    def to_json(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "name": self.name,
            "created_at": self.created_at.isoformat(timespec="seconds"),
            "now": self.now,
            "fate": self.fate,
            "into": self.into,
        }


@dataclass(frozen=True)
class Placement:
    at: datetime
    action: str
    category: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(timespec="seconds"),
            "action": self.action,
            "category": self.category,
        }


# Run and CurvePoint are made once per document (100,000 at the reference size); a frozen
# dataclass's __init__ costs several times a plain one's, so these two are plain.
@dataclass
class Run:
    start: int  # 1-based position of the run's first document
    end: int  # 1-based position of its last document
    new: int
    ratio: float

    def to_json(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "new": self.new, "ratio": self.ratio}


@dataclass(frozen=True)
class Permutations:
    k: int
    seed: int
    reached: int  # orders in which the rule was confirmed
    median: float | None
    p5: float | None
    p95: float | None
    points: tuple[int | None, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "seed": self.seed,
            "reached": self.reached,
            "median": self.median,
            "p5": self.p5,
            "p95": self.p95,
        }


@dataclass(frozen=True)
class GuestResult:
    base: int
    run: int
    threshold: float
    saturation_point: int | None
    confirmed_at: int | None
    base_concepts: int
    runs: tuple[Run, ...]
    later_exceedances: tuple[int, ...] = ()
    note: str | None = None
    permutations: Permutations | None = None

    @property
    def reached_at(self) -> int | None:
        """The old name of ``confirmed_at``, kept for scripts written against it."""
        return self.confirmed_at

    def to_json(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "run": self.run,
            "threshold": self.threshold,
            "reached_at": self.confirmed_at,
            "saturation_point": self.saturation_point,
            "confirmed_at": self.confirmed_at,
            "base_concepts": self.base_concepts,
            "runs": [r.to_json() for r in self.runs],
            "later_exceedances": list(self.later_exceedances),
            "note": self.note,
            "permutations": None if self.permutations is None else self.permutations.to_json(),
        }


@dataclass
class CurvePoint:
    index: int  # 1-based document position
    document: str
    new_concepts: int
    cumulative_concepts: int
    cumulative_categories: int


@dataclass(frozen=True)
class NewConcept:
    concept: str
    category: str | None  # where it is now
    document: str  # the holdout document of its first coding
    history: tuple[Placement, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "concept": self.concept,
            "category": self.category,
            "document": self.document,
            "history": [h.to_json() for h in self.history],
        }


@dataclass(frozen=True)
class SaturationInput:
    """Everything the verdict and the curve need, read from a project (or made by hand)."""

    basis: str
    start: datetime | None
    codings: Any  # CodingRow objects or a frame: document, split, concept, category, at, order
    holdout_documents: Sequence[str]  # included holdout documents in scope
    holdout_done: frozenset[str] = frozenset()  # of those, judged (done) in the basis
    judged_at: Any = field(default_factory=dict)  # done time per document (mapping or Series)
    created: Sequence[CreatedNode] = ()  # creations after the start, from the audit log
    placement: Mapping[str, str | None] = field(default_factory=dict)
    history: Mapping[str, Sequence[Placement]] = field(default_factory=dict)
    early: Mapping[str, Mapping[str, int]] = field(
        default_factory=dict
    )  # coder -> codings, documents
    open_disagreements: int | None = None  # consensus basis only
    coverage: Mapping[str, Mapping[str, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class SaturationReport:
    saturated: bool | None
    reason_items: tuple[Reason, ...]
    new_concept_items: tuple[NewConcept, ...]
    created: tuple[CreatedNode, ...]
    holdout_documents: int
    holdout_coded: int
    guest: GuestResult
    curve: tuple[CurvePoint, ...] = field(default_factory=tuple)
    basis: str = "consensus"
    holdout_start: datetime | None = None
    coverage: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    holdout_done: int = 0
    early: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    open_disagreements: int | None = None
    order: str = "judged"

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(r.text("en") for r in self.reason_items)

    def reasons_in(self, lang: str) -> tuple[str, ...]:
        return tuple(r.text(lang) for r in self.reason_items)

    @property
    def new_concepts(self) -> tuple[tuple[str, str | None], ...]:
        return tuple((n.concept, n.category) for n in self.new_concept_items)

    @property
    def new_categories(self) -> tuple[str, ...]:
        return tuple(n.name for n in self.created)

    @property
    def holdout_started_at(self) -> datetime | None:
        return self.holdout_start

    def to_json(self) -> dict[str, Any]:
        return {
            "saturated": self.saturated,
            "reasons": list(self.reasons),
            "new_concepts": [n.to_json() for n in self.new_concept_items],
            "new_categories": list(self.new_categories),
            "holdout": {
                "documents": self.holdout_documents,
                "coded": self.holdout_coded,
                "done": self.holdout_done,
            },
            "guest": self.guest.to_json(),
            "reasons_zh": list(self.reasons_in("zh")),
            "reason_keys": [{"key": r.key, "fields": dict(r.fields)} for r in self.reason_items],
            "created_after_start": [n.to_json() for n in self.created],
            "basis": self.basis,
            "holdout_start": self.holdout_start.isoformat(timespec="seconds")
            if self.holdout_start
            else None,
            "codings_before_start": {k: dict(v) for k, v in self.early.items()},
            "open_disagreements": self.open_disagreements,
            "order": self.order,
            "coverage": {k: dict(v) for k, v in self.coverage.items()},
            "curve": [p.__dict__ for p in self.curve],
        }


# -- the Guest, Namey & Chen rule ----------------------------------------------
def _first_seen_counts(new_per_doc: Sequence[set[str]]) -> list[int]:
    seen: set[str] = set()
    counts = []
    for concepts in new_per_doc:
        fresh = concepts - seen
        counts.append(len(fresh))
        seen |= fresh
    return counts


def _check(base: int, run: int, threshold: float) -> None:
    if base < 1 or run < 1:
        raise ValueError("base and run must be at least 1")
    if not 0 <= threshold < 1:
        raise ValueError("threshold must be in [0, 1)")


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
    _check(base, run, threshold)
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
            None,
            0,
            (),
            (),
            f"{n} documents: the rule needs at least base + run = {base + run}",
        )
    import numpy as np

    prefix = np.concatenate(([0], np.cumsum(np.asarray(counts, dtype=np.int64))))
    base_size = int(prefix[base])
    if not base_size:
        return GuestResult(
            base, run, threshold, None, None, 0, (), (), "no concepts in the base documents"
        )
    starts = np.arange(base, n - run + 1)
    news = (prefix[starts + run] - prefix[starts]).tolist()
    runs = [
        Run(int(st) + 1, int(st) + run, int(new), new / base_size)
        for st, new in zip(starts.tolist(), news, strict=True)
    ]
    confirmed: int | None = None
    point: int | None = None
    later: list[int] = []
    for r in runs:
        if confirmed is None:
            if r.ratio <= threshold:
                confirmed, point = r.end, r.start - 1
        elif r.ratio > threshold:
            later.append(r.end)
    return GuestResult(base, run, threshold, point, confirmed, base_size, tuple(runs), tuple(later))


def _saturation_points(
    first_pos_sorted_pairs: Any, n_docs: int, base: int, run: int, threshold: float, orders: Any
) -> list[int | None]:
    """The saturation point under each order (vectorised over documents, looped over orders)."""
    import numpy as np

    doc_idx, group_starts = first_pos_sorted_pairs
    out: list[int | None] = []
    if n_docs < base + run or len(doc_idx) == 0:
        return [None] * len(orders)
    last_start = n_docs - run
    for pos in orders:
        first = np.minimum.reduceat(pos[doc_idx], group_starts)
        # Only positions up to the last first-seen concept can bring anything new; past
        # them every run is empty, so the arrays stop there (a few hundred concepts, not
        # 100,000 documents).
        counts = np.bincount(first, minlength=base + run + 1)
        counts = np.concatenate((counts, np.zeros(run, dtype=counts.dtype)))
        prefix = np.concatenate(([0], np.cumsum(counts)))
        base_size = prefix[base]
        if base_size == 0:
            out.append(None)
            continue
        starts = np.arange(base, min(last_start, len(counts) - run) + 1)
        new = prefix[starts + run] - prefix[starts]
        hit = np.nonzero(new <= threshold * base_size + 1e-12)[0]
        out.append(int(starts[hit[0]]) if len(hit) else None)
    return out


def permutation_band(
    doc_concepts: Sequence[set[str]],
    *,
    k: int,
    seed: int,
    base: int = 4,
    run: int = 2,
    threshold: float = 0.05,
) -> Permutations:
    """The Guest rule over ``k`` seeded random orders of the same documents."""
    import numpy as np

    _check(base, run, threshold)
    names: dict[str, int] = {}
    pairs: list[tuple[int, int]] = []
    for d, concepts in enumerate(doc_concepts):
        for c in concepts:
            pairs.append((names.setdefault(c, len(names)), d))
    n = len(doc_concepts)
    if pairs:
        arr = np.array(sorted(pairs), dtype=np.int64)
        concept_col, doc_col = arr[:, 0], arr[:, 1]
        starts = np.nonzero(np.r_[True, concept_col[1:] != concept_col[:-1]])[0]
    else:
        doc_col, starts = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    rng = np.random.default_rng(seed)
    orders = [rng.permutation(n) for _ in range(k)]
    points = _saturation_points((doc_col, starts), n, base, run, threshold, orders)
    got = np.array([p for p in points if p is not None], dtype=float)
    if len(got) == 0:
        return Permutations(k, seed, 0, None, None, None, tuple(points))
    return Permutations(
        k,
        seed,
        len(got),
        float(np.median(got)),
        float(np.percentile(got, 5)),
        float(np.percentile(got, 95)),
        tuple(points),
    )


# -- the curve ----------------------------------------------------------------
def _rows_frame(rows: Any) -> Any:
    import pandas as pd

    if isinstance(rows, pd.DataFrame):
        return rows
    return pd.DataFrame(
        [(r.document, r.split, r.concept, r.category, r.at, r.order) for r in rows],
        columns=["document", "split", "concept", "category", "at", "order"],
    )


def judged_order(frame: Any, judged_at: Any) -> list[tuple[str, int]]:
    """Documents in the order they were judged, with the time that places each (UTC ns).

    The time is the done mark's (``judged_at``: a mapping or a Series from
    document to time), else the document's first coding's. Documents judged
    with no coding are in the order too (they bring nothing new, which is what
    the curve should show). Ties go to the first coding's id, then the document
    number, never to the source type as a block. Vectorised: 100,000 documents
    take milliseconds.
    """
    import pandas as pd

    if len(frame):
        firsts = frame.sort_values(["at", "order"], kind="stable").drop_duplicates("document")
        base = pd.DataFrame(
            {
                "document": firsts["document"].astype(str).to_numpy(),
                # naive UTC datetime64: tz-aware .to_numpy() would box every value
                "first": pd.to_datetime(firsts["at"], utc=True).dt.tz_localize(None).to_numpy(),
                "order": firsts["order"].astype("int64").to_numpy(),
            }
        )
    else:
        base = pd.DataFrame(
            {
                "document": pd.Series([], dtype=object),
                "first": pd.Series([], dtype="datetime64[ns]"),
                "order": pd.Series([], dtype="int64"),
            }
        )
    done = judged_at if isinstance(judged_at, pd.Series) else pd.Series(dict(judged_at))
    if len(done):
        values = pd.to_datetime(done, utc=True)
        marks = pd.DataFrame(
            {
                "document": done.index.astype(str),
                "done": values.dt.tz_localize(None).to_numpy(),
            }
        )
        base = base.merge(marks, on="document", how="outer")
    else:
        base = base.assign(done=pd.Series([], dtype="datetime64[ns]"))
    if base.empty:
        return []
    base["first"] = pd.to_datetime(base["first"])
    base["when"] = pd.to_datetime(base["done"]).fillna(base["first"])
    base["order"] = base["order"].fillna(2**62)
    base = base.sort_values(["when", "order", "document"], kind="stable")
    # Times as integer nanoseconds (UTC): no Timestamp object per document.
    nanos = base["when"].to_numpy().astype("datetime64[ns]").astype("int64")
    return list(zip(base["document"].tolist(), nanos.tolist(), strict=True))


def curve_points(
    frame: Any, docs: Sequence[str], *, with_sets: bool = False
) -> tuple[list[CurvePoint], list[int], list[set[str]], dict[str, int]]:
    """Cumulative distinct concepts and categories over ``docs`` in order, first-seen counts,
    each document's concept set (only ``with_sets``, for the permutations) and each
    concept's first position."""
    import numpy as np

    n = len(docs)
    if n == 0:
        return [], [], [], {}
    pos = {d: i for i, d in enumerate(docs)}
    f = frame.assign(pos=frame["document"].map(pos))
    concept_first = f.groupby("concept")["pos"].min()
    cat_first = f.dropna(subset=["category"]).groupby("category")["pos"].min()
    new_c = np.bincount(concept_first.to_numpy(dtype=np.int64), minlength=n)
    new_k = np.bincount(cat_first.to_numpy(dtype=np.int64), minlength=n)
    cum_c, cum_k = np.cumsum(new_c).tolist(), np.cumsum(new_k).tolist()
    new_list = new_c.tolist()
    points = [CurvePoint(i + 1, d, new_list[i], cum_c[i], cum_k[i]) for i, d in enumerate(docs)]
    per_doc: list[set[str]] = []
    if with_sets:
        per_doc = [set() for _ in range(n)]
        pairs = f[["pos", "concept"]].drop_duplicates()
        for p, c in zip(pairs["pos"].tolist(), pairs["concept"].tolist(), strict=True):
            per_doc[int(p)].add(c)
    firsts = dict(
        zip(concept_first.index.tolist(), concept_first.astype(int).tolist(), strict=True)
    )
    return points, new_list, per_doc, firsts


def curve(
    rows: Sequence[CodingRow], judged_at: Mapping[str, datetime] | None = None
) -> tuple[list[CurvePoint], list[set[str]]]:
    """Cumulative distinct concepts (and categories) over documents, and each document's concepts."""
    frame = _rows_frame(rows)
    docs = [d for d, _ in judged_order(frame, judged_at or {})]
    points, _, per_doc, _ = curve_points(frame, docs, with_sets=True)
    return points, per_doc


# -- the verdict ----------------------------------------------------------------
def judge(
    inp: SaturationInput,
    *,
    base: int = 4,
    run: int = 2,
    threshold: float = 0.05,
    permutations: int = 0,
    seed: int = 0,
) -> SaturationReport:
    """The verdict of SPEC §5 with its reasons, plus the curve and the Guest rule."""
    frame = _rows_frame(inp.codings)
    ordered = judged_order(frame, inp.judged_at)
    docs = [d for d, _ in ordered]
    points, first_counts, per_doc, concept_first = curve_points(
        frame, docs, with_sets=permutations > 0
    )
    guest = guest_rule(base=base, run=run, threshold=threshold, first_counts=first_counts)
    if permutations > 0:
        band = permutation_band(
            per_doc, k=permutations, seed=seed, base=base, run=run, threshold=threshold
        )
        guest = GuestResult(**{**guest.__dict__, "permutations": band})
    in_scope = set(inp.holdout_documents)
    holdout_rows = frame[frame["document"].isin(in_scope)] if len(frame) else frame
    coded = len(set(holdout_rows["document"].tolist())) if len(frame) else 0
    done = len(in_scope & set(inp.holdout_done))
    start = inp.start

    new_items: list[NewConcept] = []
    if start is not None and len(frame):
        import pandas as pd

        # A concept's first coding in the basis: the first document (in judged order) that
        # has it. It is new when that document is a holdout document placed after the start.
        holdout_docs = set(frame.loc[frame["split"] == "holdout", "document"].tolist())
        first_doc = {c: docs[p] for c, p in concept_first.items()}
        when = dict(ordered)
        begun = pd.Timestamp(start).tz_convert("UTC").value  # ns, like the order's times
        fresh = sorted(
            (c, d) for c, d in first_doc.items() if d in holdout_docs and when[d] > begun
        )
        for concept, document in fresh:
            new_items.append(
                NewConcept(
                    concept,
                    inp.placement.get(concept),
                    document,
                    tuple(inp.history.get(concept, ())),
                )
            )
    created = tuple(inp.created) if start is not None else ()

    reasons: list[Reason] = []
    verdict: bool | None
    waiting: list[Reason] = []
    if not inp.holdout_documents:
        waiting.append(Reason("holdout_empty"))
    if start is None:
        waiting.append(Reason("not_started"))
    elif inp.holdout_documents and done < len(in_scope):
        waiting.append(
            Reason(
                "holdout_not_done",
                {"done": done, "documents": len(in_scope), "basis": inp.basis},
            )
        )
    if start is not None and inp.open_disagreements:
        waiting.append(Reason("open_disagreements", {"n": inp.open_disagreements}))
    for coder, info in sorted(inp.early.items()):
        reasons.append(
            Reason(
                "coded_before_start",
                {
                    "coder": coder,
                    "codings": info.get("codings", 0),
                    "documents": info.get("documents", 0),
                },
            )
        )
    if waiting:
        verdict = None
        reasons = waiting + reasons
    else:
        problems: list[Reason] = []
        for node in created:
            if node.fate:
                problems.append(
                    Reason(
                        "created_after_start_gone",
                        {
                            "level": node.level,
                            "name": node.name,
                            "fate": node.fate,
                            "into": node.into or "",
                        },
                    )
                )
            else:
                problems.append(
                    Reason("created_after_start", {"level": node.level, "name": node.name})
                )
        for n in new_items:
            if n.category is None:
                problems.append(Reason("unplaced", {"concept": n.concept}))
        verdict = not problems
        if problems:
            reasons = problems + reasons
        elif new_items:
            reasons = [Reason("placed_all", {"n": len(new_items)}), *reasons]
        else:
            reasons = [Reason("nothing_new"), *reasons]
    return SaturationReport(
        verdict,
        tuple(reasons),
        tuple(new_items),
        created,
        len(in_scope),
        coded,
        guest,
        tuple(points),
        inp.basis,
        start,
        inp.coverage,
        done,
        inp.early,
        inp.open_disagreements,
    )
