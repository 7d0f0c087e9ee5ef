"""The project's judgements for ``agree``, read as integer arrays and encoded once.

Why its own module: at the reference size (2 coders x 200,000 codings,
100,000 comments) the statistics take a fraction of a second, but building
Python row objects for 400,000 codings, 200,000 done marks and 190,000
passages takes seconds. Each table is therefore read as *one string* the
database aggregates itself (``group_concat`` on SQLite, ``string_agg`` on
PostgreSQL) and parsed by numpy in C; everything after that is array
arithmetic, ending in the :class:`~groundcode.analysis.agreement_core.Encoded`
value the statistics take.

Only trusted SQL is built here: integers and fixed keywords, never user text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from groundcode.domain.levels import CODE_LEVELS

if TYPE_CHECKING:
    import pandas as pd
    from sqlmodel import Session

    from groundcode.analysis.agreement_core import Diagnostic, Encoded, Note

Ints = NDArray[np.int64]

LEVEL_COLUMNS = {"concept": 1, "category": 2, "main": 3}


def int_columns(s: Session, exprs: Sequence[str], tail: str) -> list[Ints]:
    """``SELECT expr, ... FROM tail`` as one int64 array per expression.

    Each column comes back as one comma-separated string aggregated by the
    database and parsed by numpy, so no Python object is made per row. The
    aggregates of one query see the rows in the same order.
    """
    conn = s.connection()
    fn = "group_concat" if conn.dialect.name == "sqlite" else "string_agg"
    aggs = ", ".join(f"{fn}(CAST(({e}) AS TEXT), ',')" for e in exprs)
    row = conn.exec_driver_sql(f"SELECT {aggs} FROM {tail}").first()
    out: list[Ints] = []
    for value in row or [None] * len(exprs):
        if value is None or value == "":
            out.append(np.zeros(0, dtype=np.int64))
        else:
            out.append(np.fromstring(str(value), dtype=np.int64, sep=","))
    return out


BIG = "CAST({} AS BIGINT)"
CONCEPT_BITS = 1 << 24
"""Packing: (passage + 1) * 2^24 + concept; start * 2^31 + end; passage * 2^24 + document."""
SPAN_BITS = 1 << 31


def _ids(ids: Sequence[int]) -> str:
    return "(" + ",".join(str(int(i)) for i in ids) + ")" if ids else "(NULL)"


@dataclass(frozen=True)
class ProjectJudgements:
    """What ``agree`` needs from the project, as arrays (one row per coding etc.)."""

    coding: Ints  # coder, document, passage (-1: a span), start, end, concept
    judged: Ints  # coder, document (under the rule in force)
    passages: Ints  # id, document, start, end (included documents)
    labels: pd.DataFrame  # concept_id, concept, category, main_category


def read(
    s: Session,
    coder_ids: Sequence[int],
    split: str,
    *,
    assisted: bool,
    rule: str,
) -> ProjectJudgements:
    """Codings, judged (coder, document) pairs and passages of included documents.

    Codings are read in one scan, packed into three integers a row; the document of a passage coding comes from its passage, spans
    outside any passage (rare) are read with their document.
    """
    from groundcode.store.raw import fetch_frame

    doc_where = "status = 'included'"
    if split in ("build", "holdout"):
        doc_where += f" AND split = '{split}'"
    (included,) = int_columns(s, ["id"], f"document WHERE {doc_where}")
    (packed_p,) = int_columns(s, [f"id * {BIG.format(CONCEPT_BITS)} + document_id"], "passage")
    p_id, p_doc = packed_p // CONCEPT_BITS, packed_p % CONCEPT_BITS
    keep_p = np.isin(p_doc, included)
    p_id, p_doc = p_id[keep_p], p_doc[keep_p]
    order = np.argsort(p_id, kind="stable")
    p_id, p_doc = p_id[order], p_doc[order]
    extra = "" if assisted else " AND NOT assisted"
    parts: list[Ints] = []
    # One pass over the table (``+coder_id`` keeps SQLite from walking the coder
    # index and fetching every row by rowid, which costs several times the scan).
    x, y, who = int_columns(
        s,
        [
            f"(passage_id + 1) * {BIG.format(CONCEPT_BITS)} + concept_id",
            f'start * {BIG.format(SPAN_BITS)} + "end"',
            "coder_id",
        ],
        f"coding WHERE +coder_id IN {_ids(coder_ids)} AND passage_id IS NOT NULL{extra}",
    )
    pas = x // CONCEPT_BITS - 1
    last = max(p_id.size - 1, 0)
    at = np.minimum(np.searchsorted(p_id, pas), last)
    found = p_id[at] == pas if p_id.size else np.zeros(pas.size, dtype=bool)
    doc = p_doc[at] if p_id.size else np.full(pas.size, -1)
    rows = np.stack([who, doc, pas, y // SPAN_BITS, y % SPAN_BITS, x % CONCEPT_BITS], axis=1)
    parts.append(rows[found])
    d, st, en, k, who = int_columns(
        s,
        ["document_id", "start", '"end"', "concept_id", "coder_id"],
        f"coding WHERE coder_id IN {_ids(coder_ids)} AND passage_id IS NULL{extra}",
    )
    loose = np.stack([who, d, np.full(d.size, -1), st, en, k], axis=1)
    parts.append(loose[np.isin(d, included)])
    coding = np.concatenate(parts) if parts else np.zeros((0, 6), np.int64)
    if rule == "done":
        (packed_m,) = int_columns(
            s,
            [f"coder_id * {BIG.format(1 << 40)} + document_id"],
            f"done_mark WHERE coder_id IN {_ids(coder_ids)}",
        )
        judged = np.stack([packed_m // (1 << 40), packed_m % (1 << 40)], axis=1)
        judged = judged[np.isin(judged[:, 1], included)]
    else:
        keys = np.unique(_pair_key(coding[:, 0], coding[:, 1]))
        judged = np.stack([keys // (1 << 40), keys % (1 << 40)], axis=1)
    docs = np.unique(judged[:, 1]) if judged.size else np.zeros(0, np.int64)
    in_judged = np.isin(p_doc, docs)
    p_id, p_doc = p_id[in_judged], p_doc[in_judged]
    starts = np.zeros(p_id.size, np.int64)
    ends = np.zeros(p_id.size, np.int64)
    loose_docs = np.unique(coding[coding[:, 2] < 0, 1])
    if loose_docs.size:
        pid2, ps, pe = int_columns(
            s, ["id", "start", '"end"'], f"passage WHERE document_id IN {_ids(loose_docs.tolist())}"
        )
        at = np.searchsorted(p_id, pid2)
        ok = (at < p_id.size) & (p_id[np.minimum(at, max(p_id.size - 1, 0))] == pid2)
        starts[at[ok]], ends[at[ok]] = ps[ok], pe[ok]
    passages = np.stack([p_id, p_doc, starts, ends], axis=1)
    labels = fetch_frame(
        s,
        "SELECT k.id, k.name, cat.name, m.name FROM concept k LEFT JOIN category cat ON "
        "cat.id = k.category_id LEFT JOIN main_category m ON m.id = cat.main_category_id",
        ["concept_id", "concept", "category", "main_category"],
    )
    return ProjectJudgements(coding, judged, passages, labels)


def has_done_marks(s: Session, coder_ids: Sequence[int]) -> bool:
    conn = s.connection()
    got = conn.exec_driver_sql(
        f"SELECT 1 FROM done_mark WHERE coder_id IN {_ids(coder_ids)} LIMIT 1"
    ).first()
    return got is not None


def _pair_key(coder: Ints, doc: Ints) -> Ints:
    return coder.astype(np.int64) * (1 << 40) + doc.astype(np.int64)


def encode(
    data: ProjectJudgements,
    coder_ids: Sequence[int],
    coder_names: Sequence[str],
    level: str,
    rule: str,
) -> tuple[Encoded, int, list[Note], list[Diagnostic], pd.DataFrame]:
    """The encoded judgements, the number of documents, notes, diagnostics, and the
    codings kept (as a frame for the character unit and the boundary check)."""
    import pandas as pd

    from groundcode.analysis.agreement_core import UNCATEGORISED, Diagnostic, Encoded, Note

    notes: list[Note] = []
    diagnostics: list[Diagnostic] = []
    coding, judged, passages = data.coding, data.judged, data.passages
    names = dict(zip(coder_ids, coder_names, strict=True))

    # codes at the level; concepts outside any category are "(uncategorised)" above concept
    lab = data.labels
    col = CODE_LEVELS[level]
    text_of = lab[col]
    if col != "concept":
        missing = text_of.isna() & lab["concept"].notna()
        n_lost = int(np.isin(coding[:, 5], lab.loc[missing, "concept_id"].to_numpy()).sum())
        if n_lost:
            notes.append(Note("uncategorised", {"n": n_lost}))
            diagnostics.append(Diagnostic("uncategorised", None, {"n": n_lost}))
        text_of = text_of.where(~missing, UNCATEGORISED)
    words = text_of.astype(object).where(text_of.notna(), None)
    max_concept = int(max(lab["concept_id"].max() if len(lab) else 0, coding[:, 5].max(initial=0)))
    label_of_concept = np.full(max_concept + 1, -1, dtype=np.int64)
    present = np.unique(coding[:, 5]) if coding.size else np.zeros(0, np.int64)
    word_by_id = dict(zip(lab["concept_id"].tolist(), words.tolist(), strict=True))
    universe = sorted({str(word_by_id[c]).strip() for c in present.tolist() if word_by_id.get(c)})
    pos = {w: i for i, w in enumerate(universe)}
    for cid in present.tolist():
        w = word_by_id.get(cid)
        if w:
            label_of_concept[cid] = pos[str(w).strip()]

    # codings on documents the coder has not judged are left out (done rule)
    jkeys = (
        np.unique(_pair_key(judged[:, 0], judged[:, 1])) if judged.size else np.zeros(0, np.int64)
    )
    ckeys = _pair_key(coding[:, 0], coding[:, 1])
    ok = np.isin(ckeys, jkeys)
    if rule == "done" and (~ok).any():
        ids, counts = np.unique(coding[~ok, 0], return_counts=True)
        for cid, n in zip(ids.tolist(), counts.tolist(), strict=True):
            diagnostics.append(Diagnostic("left_out", None, {"n": int(n), "coder": names[cid]}))
    coding = coding[ok]

    # units: passages of judged documents, in passage-id order
    order = np.argsort(passages[:, 0], kind="stable")
    passages = passages[order]
    pid = passages[:, 0]
    # spans that cross passage boundaries count for every passage they touch
    loose = coding[:, 2] < 0
    unit_rows = [coding[~loose]]
    if loose.any():
        lf = pd.DataFrame(coding[loose], columns=["c", "d", "p", "s", "e", "k"]).drop(columns="p")
        pf = pd.DataFrame(passages, columns=["p", "d", "ps", "pe"])
        m = lf.merge(pf, on="d")
        m = m[(m["s"] < m["pe"]) & (m["e"] > m["ps"])]
        unit_rows.append(m[["c", "d", "p", "s", "e", "k"]].to_numpy(dtype=np.int64))
    applied = np.concatenate(unit_rows) if unit_rows else np.zeros((0, 6), np.int64)
    at = np.searchsorted(pid, applied[:, 2])
    inside = (at < pid.size) & (pid[np.minimum(at, max(pid.size - 1, 0))] == applied[:, 2])
    applied = applied[inside] if pid.size else applied[:0]
    coder_pos = np.full(int(max(coder_ids)) + 1, -1, dtype=np.int64)
    coder_pos[list(coder_ids)] = np.arange(len(coder_ids))
    a_unit = np.searchsorted(pid, applied[:, 2])
    a_coder = coder_pos[applied[:, 0]]
    a_code = label_of_concept[applied[:, 5]]
    keep = a_code >= 0
    # every passage of every judged (coder, document) pair is a judged unit
    doc_order = np.argsort(passages[:, 1], kind="stable")
    docs_sorted = passages[doc_order, 1]
    lo = np.searchsorted(docs_sorted, judged[:, 1], side="left")
    hi = np.searchsorted(docs_sorted, judged[:, 1], side="right")
    counts = hi - lo
    rep = np.repeat(np.arange(judged.shape[0]), counts)
    offs = np.arange(rep.size) - np.repeat(np.cumsum(counts) - counts, counts)
    e_unit = doc_order[lo[rep] + offs]
    e_coder = coder_pos[judged[rep, 0]]
    enc = Encoded(
        unit_idx=np.concatenate([a_unit[keep], e_unit]).astype(np.int64),
        coder_idx=np.concatenate([a_coder[keep], e_coder]).astype(np.int64),
        code_idx=np.concatenate([a_code[keep], np.full(e_unit.size, -1, np.int64)]),
        unit_labels=pid.tolist(),
        universe=universe,
        coders=list(coder_names),
    )
    with_passages = np.isin(judged[:, 1], passages[:, 1])
    jd = judged[with_passages]
    if jd.size:
        pairs = np.unique(_pair_key(jd[:, 0], jd[:, 1]))
        _d, per_doc = np.unique(pairs % (1 << 40), return_counts=True)
        n_documents = int((per_doc >= 2).sum())
    else:
        n_documents = 0
    frame = pd.DataFrame(
        {
            "coder_id": coding[:, 0],
            "document_id": coding[:, 1],
            "start": coding[:, 3],
            "end": coding[:, 4],
            "code": label_of_concept[coding[:, 5]],
        }
    )
    return enc, n_documents, notes, diagnostics, frame


def boundary_diagnostics(
    frame: pd.DataFrame, coder_ids: Sequence[int], universe: list[str]
) -> list[Any]:
    """Codes two coders applied to overlapping but different spans (SPEC §4)."""
    from groundcode.analysis.agreement_core import Diagnostic

    if len(coder_ids) != 2 or frame.empty:
        return []
    width = max(len(universe), 1)
    key = frame["document_id"].to_numpy() * width + frame["code"].to_numpy()
    f = frame.assign(key=key)[frame["code"].to_numpy() >= 0]
    # Identical spans are the common case and agree: leave them out before pairing.
    # A 64-bit hash of (document, code, start, end) stands for the span: a
    # collision could only hide one pair from this diagnostic, never change a figure.
    with np.errstate(over="ignore"):
        h = (
            f["key"].to_numpy().astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
            + f["start"].to_numpy().astype(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F)
            + f["end"].to_numpy().astype(np.uint64)
        )
    is_a = (f["coder_id"] == coder_ids[0]).to_numpy()
    f = f[~np.isin(h, np.intersect1d(h[is_a], h[~is_a]))]
    fa = f.loc[f["coder_id"] == coder_ids[0], ["key", "start", "end"]]
    fb = f.loc[f["coder_id"] == coder_ids[1], ["key", "start", "end"]]
    m = fa.merge(fb, on="key", suffixes=("_a", "_b"))
    hit = (
        (m["start_a"].to_numpy() < m["end_b"].to_numpy())
        & (m["start_b"].to_numpy() < m["end_a"].to_numpy())
        & (
            (m["start_a"].to_numpy() != m["start_b"].to_numpy())
            | (m["end_a"].to_numpy() != m["end_b"].to_numpy())
        )
    )
    if not hit.any():
        return []
    codes, counts = np.unique(m["key"].to_numpy()[hit] % width, return_counts=True)
    top = np.argsort(-counts, kind="stable")[:10]
    return [
        Diagnostic(
            "boundary",
            universe[int(codes[i])],
            {"code": universe[int(codes[i])], "n": int(counts[i])},
        )
        for i in top
    ]
