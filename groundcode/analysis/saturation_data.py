"""Reading the saturation test's facts from a project (SPEC §5): recorded, never inferred.

* The holdout start is the setting ``holdout_start`` (written with the audit
  event ``saturation.begin`` by ``Project.progress.begin_holdout``).
* Category-level items created after the start come from the audit log's
  ``*.create`` rows, so deleting, renaming or merging them later does not hide
  them; their fate is read from the later rows of the same entity.
* A new concept's placement history is every audit row of that concept that
  records its initial category (create, move, import update).
* Judged documents are done marks. For one coder's basis, that coder's marks.
  For the consensus, a holdout document is judged when every coder it was
  assigned to marked it done (every coder with any done mark or coding, for a
  document nobody was assigned), and its time is the last of those marks.
* Open holdout disagreements (consensus basis): holdout passages of documents
  judged by two or more coders where their code sets differ and no
  ``reconcile.decide`` row settles the passage.

Bulk reads go through ``store.raw`` (plain tuples) into numpy arrays of ids and
codes, one query per table, with no per-coding Python object or text cell, so
the test stays within SPEC §8's budget (2 s) at 200,000 codings per coder.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from groundcode.analysis.saturation import (
    NAT,
    CodingTable,
    CreatedNode,
    Placement,
    SaturationInput,
)
from groundcode.coding.progress import holdout_start
from groundcode.store.raw import fetch_frame, fetch_ints, fetch_rows, id_list
from groundcode.store.seed import CONSENSUS

NODE_LEVELS = ("category", "main_category", "relation_class")


def _times(series: Any) -> Any:
    import pandas as pd

    return pd.to_datetime(series, utc=True, format="ISO8601")


def _nanos(values: Sequence[Any]) -> Any:
    """Stored times (ISO text on SQLite, timestamps elsewhere) as int64 UTC nanoseconds."""
    import numpy as np
    import pandas as pd

    if not len(values):
        return np.zeros(0, dtype=np.int64)
    # Marks made in one call share their time: each distinct value is parsed once.
    codes, uniques = pd.factorize(pd.Series(values, dtype=object))
    parsed = _times(pd.Series(uniques, dtype=object)).dt.tz_localize(None)
    return parsed.to_numpy().astype("datetime64[ns]").astype(np.int64)[codes]


def _iso(at: datetime) -> str:
    """The audit/coding time format the backends compare as text (SQLite) or timestamps."""
    return at.isoformat()


def _ints(s: Session, sql: str, width: int, params: Sequence[Any] = ()) -> list[Any]:
    """The columns of an all-integer query as int64 arrays (no frame, no row objects)."""
    frame = fetch_ints(s, sql, [f"c{i}" for i in range(width)], params)
    return [frame[f"c{i}"].to_numpy() for i in range(width)]


@dataclass(frozen=True)
class Documents:
    """Included documents, read once per saturation input: ids, numbers, holdout flags.

    ``code`` turns document ids into positions here (-1: not included);
    ``holdout_any`` are the ids of holdout documents of any status (an
    assignment to an excluded holdout document still narrows a coder's scope).
    """

    ids: Any
    numbers: Any  # object array
    holdout: Any  # bool array
    holdout_any: Any  # int64 ids
    lookup: Any  # int64 position per id (-1), one past the largest id

    def code(self, ids: Any) -> Any:
        import numpy as np

        ids = np.asarray(ids, dtype=np.int64)
        inside = (ids >= 0) & (ids < len(self.lookup))
        return np.where(inside, self.lookup[np.where(inside, ids, 0)], -1)


def included_documents(s: Session) -> Documents:
    """Documents' ids, numbers, status and split, in two index-only reads.

    The columns come from the indexes on ``number`` and on ``(status, split)``:
    reading them from the rows would visit every page of the table, whose texts
    make it large (at 100,000 documents about three times slower).
    """
    import numpy as np

    numbered = fetch_rows(s, "SELECT id, number FROM document")
    states = fetch_rows(s, "SELECT id, status, split FROM document")
    if not numbered:
        empty = np.zeros(0, dtype=np.int64)
        return Documents(
            empty, np.zeros(0, dtype=object), np.zeros(0, dtype=bool), empty, np.zeros(1, int)
        )
    ids, numbers = zip(*numbered, strict=True)
    sid, status, split = zip(*states, strict=True)
    all_ids = np.asarray(ids, dtype=np.int64)
    state_ids = np.asarray(sid, dtype=np.int64)
    included = np.asarray(status, dtype=object) == "included"
    in_holdout = np.asarray(split, dtype=object) == "holdout"
    # Included documents in id order, each with its number and split.
    kept = np.sort(state_ids[included])
    holdout_ids = state_ids[included & in_holdout]
    by_id = np.argsort(all_ids)
    number_of = np.asarray(numbers, dtype=object)[by_id]
    place = np.searchsorted(all_ids[by_id], kept)
    lookup = np.full(int(max(all_ids.max(), state_ids.max())) + 2, -1, dtype=np.int64)
    lookup[kept] = np.arange(len(kept))
    return Documents(
        kept,
        number_of[place],
        np.isin(kept, holdout_ids),
        state_ids[in_holdout],
        lookup,
    )


def basis_table(
    s: Session,
    coder_id: int,
    docs: Documents,
    done: Any,
    *,
    consensus: bool = False,
    unmarked: Any = None,
) -> CodingTable:
    """The basis's codings on included documents, as codes (``saturation.CodingTable``).

    Only integers are fetched per coding (id, document, concept), mapped to
    positions by array lookups; names come from the small concept and category
    tables. ``done`` is the done time per document position (``_judged``);
    ``unmarked`` flags the included documents without any done mark that counts
    for the basis (their codings' times are needed), None when not known.
    """
    import numpy as np

    order, doc_id, concept_id = _ints(
        s, f"SELECT id, document_id, concept_id FROM coding WHERE coder_id = {int(coder_id)}", 3
    )
    # Coding times place only documents without a done mark in the order (SPEC §5), so
    # only those are read: with every document judged, none of 200,000 strings is parsed
    # (the query is not even sent when no coded document lacks a mark).
    marked = "" if consensus else f" WHERE coder_id = {int(coder_id)}"
    coded = docs.code(doc_id)
    times: list[tuple[Any, ...]] = []
    if len(coded) and not bool(unmarked is not None and not unmarked[coded[coded >= 0]].any()):
        times = fetch_rows(
            s,
            f"SELECT id, created_at FROM coding WHERE coder_id = {int(coder_id)} AND document_id "
            f"NOT IN (SELECT document_id FROM done_mark{marked})",
        )
    names = fetch_rows(
        s,
        "SELECT k.id, k.name, cat.name FROM concept k LEFT JOIN category cat ON cat.id = k.category_id",
    )
    doc = coded
    keep = doc >= 0
    order, doc, concept_id = order[keep], doc[keep], concept_id[keep]
    at = np.full(len(order), NAT, dtype=np.int64)
    if times:
        ids, stamps = zip(*times, strict=True)
        ids_arr = np.asarray(ids, dtype=np.int64)
        sort = np.argsort(ids_arr)
        where = np.searchsorted(ids_arr[sort], order)
        where = np.minimum(where, len(ids_arr) - 1)
        hit = ids_arr[sort][where] == order
        at[hit] = _nanos(stamps)[sort][where[hit]]
    concepts = [str(n) for _, n, _ in names]
    categories: dict[str, int] = {}
    cat_of = [
        -1 if c is None else categories.setdefault(str(c), len(categories)) for *_, c in names
    ]
    known = np.asarray([int(i) for i, _, _ in names], dtype=np.int64)
    lookup = np.full(int(max(known.max(initial=0), concept_id.max(initial=0))) + 1, -1)
    lookup[known] = np.arange(len(known))
    concept = lookup[concept_id]
    kept = concept >= 0  # a coding joins its concept (always, by the foreign key)
    return CodingTable(
        documents=docs.numbers,
        holdout=docs.holdout,
        done=done,
        concepts=concepts,
        categories=list(categories),
        doc=doc[kept],
        concept=concept[kept],
        category=np.asarray(cat_of, dtype=np.int64)[concept[kept]]
        if len(known)
        else np.zeros(0, dtype=np.int64),
        at=at[kept],
        order=order[kept],
    )


def _humans(s: Session) -> list[int]:
    return [int(i) for (i,) in fetch_rows(s, "SELECT id FROM coder WHERE role != 'consensus'")]


def _judged(
    s: Session, basis_id: int, is_consensus: bool, holdout: Any, docs: Documents
) -> tuple[Any, Any, Any, Any]:
    """Done time per document position (NAT where not judged), which positions of the
    in-scope ``holdout`` are judged in the basis, the humans' done marks as a (coder,
    document position) matrix (consensus only, for the open disagreements), and which
    documents have no mark that keeps their codings' times from counting.

    One coder's basis: that coder's done marks. The consensus: a document's time
    is the last of the humans' marks; a holdout document is judged when every
    coder it was assigned to marked it (every coder with any done mark or coding,
    for a document nobody was assigned).
    """
    import numpy as np

    n = len(docs.ids)
    done = np.full(n, NAT, dtype=np.int64)
    if not is_consensus:
        rows = fetch_rows(
            s, f"SELECT document_id, marked_at FROM done_mark WHERE coder_id = {int(basis_id)}"
        )
        if rows:
            ids, stamps = zip(*rows, strict=True)
            at = docs.code(ids)
            keep = at >= 0
            done[at[keep]] = _nanos(stamps)[keep]
        return done, holdout[done[holdout] != NAT], None, done == NAT
    humans = _humans(s)
    rows = fetch_rows(s, "SELECT coder_id, document_id, marked_at FROM done_mark")
    top = max([*humans, 0]) + 1
    marked = np.zeros((top, n), dtype=bool)
    unmarked = np.ones(n, dtype=bool)  # a mark by anyone keeps the coding times unread
    if rows:
        coder_ids, ids, stamps = zip(*rows, strict=True)
        coder = np.asarray(coder_ids, dtype=np.int64)
        at = docs.code(ids)
        unmarked[at[at >= 0]] = False
        keep = (at >= 0) & np.isin(coder, humans)
        coder, at = coder[keep], at[keep]
        np.maximum.at(done, at, _nanos(stamps)[keep])
        marked[coder, at] = True
    active = {int(c) for c in np.nonzero(marked.any(axis=1))[0].tolist()} | {
        int(i)
        for (i,) in fetch_rows(
            s,
            "SELECT id FROM coder k WHERE role != 'consensus' AND "
            "EXISTS (SELECT 1 FROM coding c WHERE c.coder_id = k.id)",
        )
    }
    # Only included holdout documents can count (the result is within the holdout).
    a_coder, a_doc = _ints(
        s,
        "SELECT coder_id, document_id FROM assignment WHERE document_id IN "
        "(SELECT id FROM document WHERE status = 'included' AND split = 'holdout')",
        2,
    )
    a_at = docs.code(a_doc)
    keep = a_at >= 0
    a_coder, a_at = a_coder[keep], a_at[keep]
    keep = docs.holdout[a_at]
    a_coder, a_at = a_coder[keep], a_at[keep]
    # Documents assigned to someone: every coder assigned must have marked it.
    needed = np.bincount(a_at, minlength=n)
    by_marked = np.zeros(len(a_at), dtype=bool)
    human = a_coder < top
    by_marked[human] = marked[a_coder[human], a_at[human]]
    have = np.bincount(a_at[by_marked], minlength=n)
    judged = (needed > 0) & (have >= needed)
    # Documents nobody was assigned: every active coder must have marked it.
    if active:
        rows_of = sorted(c for c in active if c < top)
        count = marked[rows_of].sum(axis=0) if rows_of else np.zeros(n, dtype=np.int64)
        judged |= (needed == 0) & (count >= len(active))
    return done, holdout[judged[holdout]], marked, unmarked


def _created_after(s: Session, start: datetime) -> list[CreatedNode]:
    """Creations of category-level items after ``start``, with their later fate."""
    import pandas as pd

    actions = ", ".join(f"'{lv}.create'" for lv in NODE_LEVELS)
    rows = fetch_frame(
        s,
        f"SELECT id, at, action, entity_id, after FROM audit_log WHERE action IN ({actions}) "
        "ORDER BY id",
        ["id", "at", "action", "entity_id", "after"],
    )
    if rows.empty:
        return []
    rows["at"] = _times(rows["at"])
    rows = rows[rows["at"] > pd.Timestamp(start)]
    out: list[CreatedNode] = []
    for _id, at, action, entity_id, after in rows.itertuples(index=False):
        level = action.split(".")[0]
        name = json.loads(after or "{}").get("name", "?")
        now, fate, into = _fate(
            s, level, int(entity_id) if entity_id is not None else None, int(_id)
        )
        out.append(CreatedNode(level, name, at.to_pydatetime(), now, fate, into))
    return out


def _fate(
    s: Session, level: str, entity_id: int | None, after_id: int
) -> tuple[str | None, str | None, str | None]:
    """The item's current name, and if it is gone, how (deleted, or merged into what)."""
    if entity_id is None:
        return None, "deleted", None
    table = level
    current = fetch_frame(s, f"SELECT name FROM {table} WHERE id = ?", ["name"], (entity_id,))
    later = fetch_frame(
        s,
        "SELECT action, entity_id, before, after FROM audit_log "
        f"WHERE id > {int(after_id)} AND action IN (?, ?) ORDER BY id",
        ["action", "entity_id", "before", "after"],
        (f"{level}.delete", f"{level}.merge"),
    )
    for action, eid, before, after in later.itertuples(index=False):
        b = json.loads(before or "{}")
        a = json.loads(after or "{}")
        if action.endswith(".delete") and eid == entity_id:
            return None, "deleted", None
        if action.endswith(".merge") and b.get("id") == entity_id:
            return None, "merged", str(a.get("into"))
    if current.empty:
        return None, "deleted", None
    return str(current["name"].iloc[0]), None, None


def _history(s: Session, concept_ids: dict[str, int]) -> dict[str, list[Placement]]:
    """Each concept's placements in time order, from the audit rows that record its category."""
    if not concept_ids:
        return {}
    rows = fetch_frame(
        s,
        "SELECT at, action, entity_id, after FROM audit_log WHERE entity = 'concept' "
        f"AND entity_id IN {id_list(sorted(concept_ids.values()))} ORDER BY id",
        ["at", "action", "entity_id", "after"],
    )
    names = {v: k for k, v in concept_ids.items()}
    out: dict[str, list[Placement]] = {}
    if rows.empty:
        return out
    rows["at"] = _times(rows["at"])
    cats = fetch_frame(s, "SELECT id, name FROM category", ["id", "name"])
    cat_names = dict(zip(cats["id"], cats["name"], strict=True))
    for at, action, eid, after in rows.itertuples(index=False):
        info = json.loads(after or "{}")
        if "category" in info:
            where = info["category"]
        elif "category_id" in info:  # in-vivo creation while coding records the id
            cid = info["category_id"]
            where = None if cid is None else cat_names.get(int(cid), f"#{cid}")
        else:
            continue
        out.setdefault(names[int(eid)], []).append(
            Placement(at.to_pydatetime(), str(action), where)
        )
    return out


@dataclass(frozen=True)
class HoldoutCodings:
    """Every coder's codings on included holdout documents, read once for three answers.

    The codings made before the holdout start, the coverage per coder and (for
    the consensus) the open disagreements all look at these rows; one read of
    them replaces three (each visiting the same 100,000 rows at the reference
    size). ``early`` is the SQL's own comparison of the coding time with the
    start (text on SQLite, timestamps elsewhere).
    """

    coder: Any
    doc: Any  # document position
    passage: Any  # passage id, -1 for none
    concept: Any
    early: Any  # bool: made before the holdout start


def _holdout_codings(s: Session, docs: Documents, start: datetime | None) -> HoldoutCodings:
    from datetime import UTC

    bound: Any = None
    if start is not None:
        naive = start.astimezone(UTC).replace(tzinfo=None)
        # Times are stored as naive UTC: text on SQLite (compared as text), timestamps elsewhere.
        bound = naive.isoformat(sep=" ") if s.get_bind().dialect.name == "sqlite" else naive
    coder, doc_id, passage, concept, early = _ints(
        s,
        "SELECT c.coder_id, c.document_id, coalesce(c.passage_id, -1), c.concept_id, "
        "CASE WHEN c.created_at < ? THEN 1 ELSE 0 END "
        "FROM coding c JOIN document d ON d.id = c.document_id "
        "WHERE d.status = 'included' AND d.split = 'holdout'",
        5,
        (bound,),
    )
    return HoldoutCodings(coder, docs.code(doc_id), passage, concept, early.astype(bool))


def _coder_names(s: Session) -> dict[int, tuple[str, str]]:
    return {
        int(i): (str(n), str(r)) for i, n, r in fetch_rows(s, "SELECT id, name, role FROM coder")
    }


def _early(
    rows: HoldoutCodings, scope: Any, names: dict[int, tuple[str, str]], started: bool
) -> dict[str, dict[str, int]]:
    """Codings on in-scope holdout documents made before the start, per human coder."""
    import numpy as np

    if not started or not scope.any():
        return {}
    keep = rows.early & scope[rows.doc]
    out: dict[str, dict[str, int]] = {}
    for c in np.unique(rows.coder[keep]).tolist():
        name, role = names[int(c)]
        if role == "consensus":
            continue
        mine = keep & (rows.coder == c)
        out[name] = {"codings": int(mine.sum()), "documents": len(np.unique(rows.doc[mine]))}
    return dict(sorted(out.items()))


def holdout_coverage(
    rows: HoldoutCodings, names: dict[int, tuple[str, str]], visible: list[int] | None
) -> dict[str, dict[str, int]]:
    """Per coder (visible ones only), the holdout documents and passages they coded."""
    import numpy as np

    out: dict[str, dict[str, int]] = {}
    for c in np.unique(rows.coder).tolist():
        if visible is not None and int(c) not in visible:
            continue
        mine = rows.coder == c
        passages = rows.passage[mine]
        out[names[int(c)][0]] = {
            "documents": len(np.unique(rows.doc[mine])),
            "passages": len(np.unique(passages[passages >= 0])),
        }
    return dict(sorted(out.items()))


def _open_disagreements(
    s: Session,
    holdout: Any,
    docs: Documents,
    marked: Any,
    humans: list[int],
    rows: HoldoutCodings,
) -> int:
    """Holdout passages where the coders who judged the document differ, not yet decided.

    A coder judged a document by a done mark or a coding on it; documents judged
    by two or more are compared. A passage disagrees when some concept there was
    not applied by every coder who judged the document (a coder who applied
    nothing disagrees with one who applied anything): counted per (passage,
    concept) in numpy, over the humans' holdout codings.
    """
    import numpy as np

    if not len(holdout) or not humans:
        return 0
    n = len(docs.ids)
    scope = np.zeros(n, dtype=bool)
    scope[holdout] = True
    keep = np.isin(rows.coder, humans) & (rows.doc >= 0)
    keep[keep] = scope[rows.doc[keep]]
    coder, doc = rows.coder[keep], rows.doc[keep]
    passage_id, concept_id = rows.passage[keep], rows.concept[keep]
    judged = marked & scope[None, :]
    judged[coder, doc] = True
    judges = judged.sum(axis=0)
    shared = judges >= 2
    if not shared.any():
        return 0
    p_id, p_doc_id, p_idx = _ints(
        s,
        "SELECT p.id, p.document_id, p.idx FROM passage p JOIN document d ON d.id = p.document_id "
        "WHERE d.status = 'included' AND d.split = 'holdout'",
        3,
    )
    p_doc = docs.code(p_doc_id)
    keep = p_doc >= 0
    keep[keep] = shared[p_doc[keep]]
    p_id, p_doc, p_idx = p_id[keep], p_doc[keep], p_idx[keep]
    if not len(p_id):
        return 0
    # Codings on passages of shared documents, by a coder who judged the passage's document.
    sort = np.argsort(p_id)
    where = np.minimum(np.searchsorted(p_id[sort], passage_id), len(p_id) - 1)
    on = (passage_id >= 0) & (p_id[sort][where] == passage_id) & shared[doc]
    unit = sort[where[on]]  # passage row of each such coding
    c_coder = coder[on]
    by_judge = judged[c_coder, p_doc[unit]]
    unit, c_coder, c_concept = unit[by_judge], c_coder[by_judge], concept_id[on][by_judge]
    # (passage row, concept, coder) packed in one integer: each triple once, then the
    # coders per (passage row, concept).
    width_k = int(c_concept.max(initial=0)) + 1
    width_c = int(c_coder.max(initial=0)) + 1
    applied = np.unique((unit * width_k + c_concept) * width_c + c_coder)
    pairs, n_coders = np.unique(applied // width_c, return_counts=True)
    rows_of = pairs // width_k
    open_rows = np.unique(rows_of[n_coders < judges[p_doc[rows_of]]])
    if not len(open_rows):
        return 0
    decided: set[tuple[str, int]] = set()
    for (raw,) in fetch_rows(s, "SELECT after FROM audit_log WHERE action = 'reconcile.decide'"):
        info = json.loads(raw or "{}")
        if "document" in info and "passage" in info:
            decided.add((str(info["document"]), int(info["passage"])))
    numbers = docs.numbers[p_doc[open_rows]].tolist()
    return sum(
        (str(d), int(i)) not in decided
        for d, i in zip(numbers, p_idx[open_rows].tolist(), strict=True)
    )


def load_input(
    s: Session,
    *,
    basis: str,
    basis_id: int,
    visible: list[int] | None = None,
) -> SaturationInput:
    """Everything ``saturation.judge`` needs, in one read transaction.

    ``visible``: the coders whose holdout coverage the reader may see (None: all).
    """
    import numpy as np

    start = holdout_start(s)
    is_consensus = basis == CONSENSUS
    docs = included_documents(s)
    # The holdout in scope, in document id order: for one coder, the holdout documents
    # assigned to them when any are (of any status), else all included ones.
    holdout = np.nonzero(docs.holdout)[0]
    if not is_consensus:
        (mine,) = _ints(
            s, f"SELECT document_id FROM assignment WHERE coder_id = {int(basis_id)}", 1
        )
        mine = mine[np.isin(mine, docs.holdout_any)]
        if len(mine):
            holdout = holdout[np.isin(docs.ids[holdout], mine)]
    done_at, judged, marked, unmarked = _judged(s, basis_id, is_consensus, holdout, docs)
    table = basis_table(s, basis_id, docs, done_at, consensus=is_consensus, unmarked=unmarked)
    holdout_numbers = [str(n) for n in docs.numbers[holdout].tolist()]
    scope = np.zeros(len(docs.ids), dtype=bool)
    scope[holdout] = True
    rows = _holdout_codings(s, docs, start)
    names = _coder_names(s)
    created = _created_after(s, start) if start is not None else []
    placement: dict[Any, Any] = {
        k: c
        for _, k, c in fetch_rows(
            s,
            "SELECT k.id, k.name, cat.name FROM concept k "
            "LEFT JOIN category cat ON cat.id = k.category_id",
        )
    }
    history: dict[str, list[Placement]] = {}
    if start is not None and len(table.doc):
        # Every concept seen in the holdout may turn out new; their histories are few rows.
        codes = np.unique(table.concept[table.holdout[table.doc]])
        in_holdout = {table.concepts[c] for c in codes.tolist()}
        if in_holdout:
            by_name = {str(n): int(i) for i, n in fetch_rows(s, "SELECT id, name FROM concept")}
            history = _history(s, {c: by_name[c] for c in in_holdout if c in by_name})
    humans = [i for i, (_, role) in names.items() if role != "consensus"]
    return SaturationInput(
        basis=basis,
        start=start,
        codings=table,
        holdout_documents=holdout_numbers,
        holdout_done=frozenset(str(n) for n in docs.numbers[judged].tolist()),
        created=created,
        placement={str(k): (None if v is None else str(v)) for k, v in placement.items()},
        history=history,
        early=_early(rows, scope, names, start is not None),
        open_disagreements=_open_disagreements(s, holdout, docs, marked, humans, rows)
        if is_consensus
        else None,
        coverage=holdout_coverage(rows, names, visible),
    )
