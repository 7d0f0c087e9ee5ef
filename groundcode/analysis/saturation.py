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

from collections.abc import Iterable, Mapping, Sequence
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


NAT = -(2**63)  # numpy/pandas' integer form of a missing time (NaT)


@dataclass(frozen=True)
class CodingTable:
    """A basis's codings as integer codes into small tables, the form ``judge`` computes on.

    At the reference size (200,000 codings, 100,000 documents) a Python object or a
    text cell per coding costs more than the whole test, so the loader hands over
    arrays: each coding's document, concept and category as codes, its time and its
    id. ``judge`` turns ``CodingRow`` lists and frames into this form first, so hand
    and project inputs take the same path. Documents that are judged without a coding
    are in ``documents`` too (``done`` set, no coding).
    """

    documents: Any  # object array: the number of each document code
    holdout: Any  # bool per document code: in the holdout split
    done: Any  # int64 per document code: when it was judged (done mark), UTC ns; NAT if not
    concepts: Sequence[str]  # name of each concept code
    categories: Sequence[str]  # name of each category code
    doc: Any  # int64 per coding: document code
    concept: Any  # int64 per coding: concept code
    category: Any  # int64 per coding: category code, -1 when the concept has none
    at: Any  # int64 per coding: coding time, UTC ns; NAT where it was not needed (judged)
    order: Any  # int64 per coding: the tie-breaker (coding id)


@dataclass(frozen=True)
class SaturationInput:
    """Everything the verdict and the curve need, read from a project (or made by hand)."""

    basis: str
    start: datetime | None
    # CodingRow objects, a frame (document, split, concept, category, at, order) or a
    # CodingTable (which carries the done times itself: judged_at is then not read)
    codings: Any
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
    news = prefix[starts + run] - prefix[starts]
    ratios = news / base_size  # the same IEEE division as ``new / base_size`` per run
    # One Run per document (100,000 at the reference size): built by map over plain lists,
    # and the first run at or below the threshold found in numpy, not in a Python loop.
    runs = tuple(
        map(Run, (starts + 1).tolist(), (starts + run).tolist(), news.tolist(), ratios.tolist())
    )
    confirmed: int | None = None
    point: int | None = None
    later: tuple[int, ...] = ()
    hit = np.nonzero(ratios <= threshold)[0]
    if len(hit):
        first = int(hit[0])
        confirmed, point = int(starts[first]) + run, int(starts[first])
        after = np.nonzero(ratios[first + 1 :] > threshold)[0] + first + 1
        later = tuple((starts[after] + run).tolist())
    return GuestResult(base, run, threshold, point, confirmed, base_size, runs, later)


def _saturation_points(
    first_pos_sorted_pairs: Any,
    n_docs: int,
    base: int,
    run: int,
    threshold: float,
    orders: Iterable[Any],
    k: int,
) -> list[int | None]:
    """The saturation point under each order (vectorised over documents, looped over orders).

    ``orders`` is consumed one order at a time, so only one permutation of the
    documents is held at once (1,000 of 100,000 documents held together are 800 MB).
    """
    import numpy as np

    doc_idx, group_starts = first_pos_sorted_pairs
    out: list[int | None] = []
    if n_docs < base + run or len(doc_idx) == 0:
        return [None] * k
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

    names: dict[str, int] = {}
    concept_col: list[int] = []
    doc_col: list[int] = []
    for d, concepts in enumerate(doc_concepts):
        for c in concepts:
            concept_col.append(names.setdefault(c, len(names)))
            doc_col.append(d)
    return _band(
        np.asarray(concept_col, dtype=np.int64),
        np.asarray(doc_col, dtype=np.int64),
        len(doc_concepts),
        k=k,
        seed=seed,
        base=base,
        run=run,
        threshold=threshold,
    )


def _band(
    concept_col: Any,
    doc_col: Any,
    n: int,
    *,
    k: int,
    seed: int,
    base: int,
    run: int,
    threshold: float,
) -> Permutations:
    """``permutation_band`` over (concept, document position) pairs, each pair once.

    The orders are drawn one after the other from one generator, the same stream
    (and so the same points) as drawing them all first.
    """
    import numpy as np

    _check(base, run, threshold)
    if len(concept_col):
        sort = np.lexsort((doc_col, concept_col))
        concept_col, doc_col = concept_col[sort], doc_col[sort]
        starts = np.nonzero(np.r_[True, concept_col[1:] != concept_col[:-1]])[0]
    else:
        doc_col, starts = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    rng = np.random.default_rng(seed)
    orders = (rng.permutation(n) for _ in range(k))
    points = _saturation_points((doc_col, starts), n, base, run, threshold, orders, k)
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


def table_of(rows: Any, judged_at: Any = None) -> CodingTable:
    """``CodingRow`` objects or a frame, with done times per document, as a ``CodingTable``.

    Documents are the union of the coded and the judged ones; a document is in the
    holdout when any of its coding rows says so (hand-made rows carry the split).
    """
    import numpy as np
    import pandas as pd

    if isinstance(rows, CodingTable):
        return rows
    frame = _rows_frame(rows)
    done = judged_at if isinstance(judged_at, pd.Series) else pd.Series(dict(judged_at or {}))
    names = pd.concat(
        [
            pd.Series(frame["document"].astype(str).to_numpy(), dtype=object),
            pd.Series(done.index.astype(str), dtype=object),
        ],
        ignore_index=True,
    )
    codes, documents = pd.factorize(names)
    doc, judged = codes[: len(frame)].astype(np.int64), codes[len(frame) :]
    done_ns = np.full(len(documents), NAT, dtype=np.int64)
    if len(done):
        values = pd.to_datetime(done, utc=True).dt.tz_localize(None)
        done_ns[judged] = values.to_numpy().astype("datetime64[ns]").astype(np.int64)
    holdout = np.zeros(len(documents), dtype=bool)
    holdout[doc[(frame["split"] == "holdout").to_numpy(dtype=bool)]] = True
    concept, concepts = pd.factorize(frame["concept"])
    category, categories = pd.factorize(frame["category"])  # None/NaN -> -1
    at = pd.to_datetime(frame["at"], utc=True)
    at_ns = at.dt.tz_localize(None).to_numpy().astype("datetime64[ns]").astype(np.int64)
    return CodingTable(
        documents=np.asarray(documents, dtype=object),
        holdout=holdout,
        done=done_ns,
        concepts=list(concepts),
        categories=list(categories),
        doc=doc,
        concept=concept.astype(np.int64),
        category=category.astype(np.int64),
        at=at_ns,
        order=frame["order"].to_numpy(dtype=np.int64),
    )


def judged_sequence(t: CodingTable) -> tuple[Any, Any]:
    """Document codes in the order they were judged, and the time that places each (UTC ns).

    The time is the done mark's, else the document's first coding's (the earliest
    time, then the lowest id). Documents judged with no coding are in the order
    too (they bring nothing new, which is what the curve should show). Ties go to
    the first coding's id, then the document number, never to the source type as
    a block; a document with no time at all comes last. Sorted in numpy.
    """
    import numpy as np

    n_docs = len(t.documents)
    big = np.iinfo(np.int64).max
    first_at = np.full(n_docs, NAT, dtype=np.int64)
    first_order = np.full(n_docs, 2**62, dtype=np.int64)
    coded = np.zeros(n_docs, dtype=bool)
    if len(t.doc):
        at_key = np.where(t.at == NAT, big, t.at)
        idx = np.lexsort((t.order, at_key, t.doc))
        lead = idx[np.r_[True, t.doc[idx][1:] != t.doc[idx][:-1]]]
        first_at[t.doc[lead]] = t.at[lead]
        first_order[t.doc[lead]] = t.order[lead]
        coded[t.doc[lead]] = True
    when = np.where(t.done != NAT, t.done, first_at)
    cand = np.nonzero(coded | (t.done != NAT))[0]
    if not len(cand):
        return cand, when[cand]
    # The document number breaks the remaining ties: ranked as Python compares strings.
    text = np.asarray([str(d) for d in t.documents[cand].tolist()], dtype=str)
    rank = np.empty(len(cand), dtype=np.int64)
    rank[np.argsort(text, kind="stable")] = np.arange(len(cand))
    when_key = np.where(when[cand] == NAT, big, when[cand])
    seq = cand[np.lexsort((rank, first_order[cand], when_key))]
    return seq, when[seq]


def _first_positions(codes: Any, pos: Any, size: int) -> Any:
    """For each code, the lowest position of a coding with it (``size`` where none)."""
    import numpy as np

    first = np.full(size, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, codes, pos)
    return first


def curve_arrays(t: CodingTable, seq: Any) -> tuple[Any, Any, Any, Any]:
    """Per position of ``seq``: concepts and categories first seen there; and per concept
    code its first position (int64 max where it has no coding), and each coding's position."""
    import numpy as np

    n = len(seq)
    pos = np.full(len(t.documents), -1, dtype=np.int64)
    pos[seq] = np.arange(n)
    cpos = pos[t.doc]
    concept_first = _first_positions(t.concept, cpos, len(t.concepts))
    seen = concept_first[concept_first < n]
    placed = t.category >= 0
    cat_first = _first_positions(t.category[placed], cpos[placed], len(t.categories))
    new_c = np.bincount(seen, minlength=n)
    new_k = np.bincount(cat_first[cat_first < n], minlength=n)
    return new_c, new_k, concept_first, cpos


def _points(docs: list[str], new_c: Any, new_k: Any) -> list[CurvePoint]:
    import numpy as np

    n = len(docs)
    return list(
        map(
            CurvePoint,
            range(1, n + 1),
            docs,
            new_c.tolist(),
            np.cumsum(new_c).tolist(),
            np.cumsum(new_k).tolist(),
        )
    )


def _pairs(t: CodingTable, cpos: Any, n: int) -> tuple[Any, Any]:
    """Each (concept code, document position) pair once."""
    import numpy as np

    key = np.unique(t.concept * max(n, 1) + cpos)
    return key // max(n, 1), key % max(n, 1)


def curve(
    rows: Sequence[CodingRow], judged_at: Mapping[str, datetime] | None = None
) -> tuple[list[CurvePoint], list[set[str]]]:
    """Cumulative distinct concepts (and categories) over documents, and each document's concepts."""
    t = table_of(rows, judged_at)
    seq, _ = judged_sequence(t)
    new_c, new_k, _, cpos = curve_arrays(t, seq)
    points = _points([str(d) for d in t.documents[seq].tolist()], new_c, new_k)
    per_doc: list[set[str]] = [set() for _ in range(len(seq))]
    concepts, positions = _pairs(t, cpos, len(seq))
    for c, p in zip(concepts.tolist(), positions.tolist(), strict=True):
        per_doc[p].add(t.concepts[c])
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
    import numpy as np
    import pandas as pd

    t = table_of(inp.codings, inp.judged_at)
    seq, when = judged_sequence(t)
    docs = [str(d) for d in t.documents[seq].tolist()]
    n = len(docs)
    new_c, new_k, concept_first, cpos = curve_arrays(t, seq)
    points = _points(docs, new_c, new_k)
    first_counts = new_c.tolist()
    guest = guest_rule(base=base, run=run, threshold=threshold, first_counts=first_counts)
    if permutations > 0:
        concept_col, doc_col = _pairs(t, cpos, n)
        band = _band(
            concept_col,
            doc_col,
            n,
            k=permutations,
            seed=seed,
            base=base,
            run=run,
            threshold=threshold,
        )
        guest = GuestResult(**{**guest.__dict__, "permutations": band})
    in_scope = set(inp.holdout_documents)
    # Hash lookups in pandas: 100,000 coded documents against the holdout's numbers.
    coded = int(pd.Series(t.documents[np.unique(t.doc)], dtype=object).isin(in_scope).sum())
    done = len(in_scope & set(inp.holdout_done))
    start = inp.start

    new_items: list[NewConcept] = []
    if start is not None and len(t.doc):
        # A concept's first coding in the basis: the first document (in judged order) that
        # has it. It is new when that document is a holdout document placed after the start.
        begun = pd.Timestamp(start).tz_convert("UTC").value  # ns, like the order's times
        seen = np.nonzero(concept_first < n)[0]
        at = concept_first[seen]
        new = seen[t.holdout[seq[at]] & (when[at] > begun)]
        fresh = sorted((t.concepts[c], docs[concept_first[c]]) for c in new.tolist())
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
        for item in new_items:
            if item.category is None:
                problems.append(Reason("unplaced", {"concept": item.concept}))
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
