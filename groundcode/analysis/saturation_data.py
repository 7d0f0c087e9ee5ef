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
    parsed = _times(pd.Series(values, dtype=object)).dt.tz_localize(None)
    return parsed.to_numpy().astype("datetime64[ns]").astype(np.int64)


def _iso(at: datetime) -> str:
    """The audit/coding time format the backends compare as text (SQLite) or timestamps."""
    return at.isoformat()


def _ints(s: Session, sql: str, width: int) -> list[Any]:
    """The columns of an all-integer query as int64 arrays (no frame, no row objects)."""
    frame = fetch_ints(s, sql, [f"c{i}" for i in range(width)])
    return [frame[f"c{i}"].to_numpy() for i in range(width)]


@dataclass(frozen=True)
class Documents:
    """Included documents, read once per saturation input: ids, numbers, holdout flags.

    Each read of these columns looks up every document row (their text makes the
    table large), so the codings, the done marks and the holdout share this one;
    ``code`` turns document ids into positions in it (-1: not included).
    """

    ids: Any
    numbers: Any  # object array
    holdout: Any  # bool array

    def code(self, ids: Any) -> Any:
        import numpy as np

        ids = np.asarray(ids, dtype=np.int64)
        top = int(self.ids.max()) if len(self.ids) else -1
        if len(ids):
            top = max(top, int(ids.max()))
        lookup = np.full(top + 2, -1, dtype=np.int64)
        lookup[self.ids] = np.arange(len(self.ids))
        return lookup[np.where(ids >= 0, ids, top + 1)]


def included_documents(s: Session) -> Documents:
    """Included documents (id, number, split) in one query."""
    import numpy as np

    rows = fetch_rows(s, "SELECT id, number, split FROM document WHERE status = 'included'")
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return Documents(empty, np.zeros(0, dtype=object), np.zeros(0, dtype=bool))
    ids, numbers, splits = zip(*rows, strict=True)
    return Documents(
        np.asarray(ids, dtype=np.int64),
        np.asarray(numbers, dtype=object),
        np.asarray(splits, dtype=object) == "holdout",
    )


def basis_table(
    s: Session, coder_id: int, docs: Documents, done: Any, *, consensus: bool = False
) -> CodingTable:
    """The basis's codings on included documents, as codes (``saturation.CodingTable``).

    Only integers are fetched per coding (id, document, concept), mapped to
    positions by array lookups; names come from the small concept and category
    tables. ``done`` is the done time per document position (``_judged``).
    """
    import numpy as np

    order, doc_id, concept_id = _ints(
        s, f"SELECT id, document_id, concept_id FROM coding WHERE coder_id = {int(coder_id)}", 3
    )
    # Coding times place only documents without a done mark in the order (SPEC §5), so
    # only those are read: with every document judged, none of 200,000 strings is parsed.
    marked = "" if consensus else f" WHERE coder_id = {int(coder_id)}"
    times = fetch_rows(
        s,
        f"SELECT id, created_at FROM coding WHERE coder_id = {int(coder_id)} AND document_id "
        f"NOT IN (SELECT document_id FROM done_mark{marked})",
    )
    names = fetch_rows(
        s,
        "SELECT k.id, k.name, cat.name FROM concept k LEFT JOIN category cat ON cat.id = k.category_id",
    )
    doc = docs.code(doc_id)
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
) -> tuple[Any, Any, Any]:
    """Done time per document position (NAT where not judged), which positions of the
    in-scope ``holdout`` are judged in the basis, and the humans' done marks as a
    (coder, document position) matrix (consensus only, for the open disagreements).

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
        return done, holdout[done[holdout] != NAT], None
    humans = _humans(s)
    rows = fetch_rows(s, "SELECT coder_id, document_id, marked_at FROM done_mark")
    top = max([*humans, 0]) + 1
    marked = np.zeros((top, n), dtype=bool)
    if rows:
        coder_ids, ids, stamps = zip(*rows, strict=True)
        coder = np.asarray(coder_ids, dtype=np.int64)
        at = docs.code(ids)
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
    a_coder, a_doc = _ints(s, "SELECT coder_id, document_id FROM assignment", 2)
    a_at = docs.code(a_doc)
    # Only included holdout documents can count (the result is within the holdout).
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
    return done, holdout[judged[holdout]], marked


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


def _early(s: Session, start: datetime | None, holdout_ids: list[int]) -> dict[str, dict[str, int]]:
    """Codings on holdout documents made before the holdout start, per coder (counted in SQL)."""
    if start is None or not holdout_ids:
        return {}
    from datetime import UTC

    naive = start.astimezone(UTC).replace(tzinfo=None)
    # Times are stored as naive UTC: text on SQLite (so compared as text), timestamps elsewhere.
    bound: Any = naive.isoformat(sep=" ") if s.get_bind().dialect.name == "sqlite" else naive
    rows = fetch_frame(
        s,
        "SELECT k.name, count(*), count(DISTINCT c.document_id) FROM coding c "
        "JOIN coder k ON k.id = c.coder_id "
        f"WHERE k.role != 'consensus' AND c.document_id IN {id_list(holdout_ids)} "
        "AND c.created_at < ? GROUP BY k.name",
        ["coder", "codings", "documents"],
        (bound,),
    )
    return {
        str(c): {"codings": int(n), "documents": int(d)} for c, n, d in rows.itertuples(index=False)
    }


def _open_disagreements(
    s: Session, holdout: Any, docs: Documents, marked: Any, humans: list[int]
) -> int:
    """Holdout passages where the coders who judged the document differ, not yet decided.

    A coder judged a document by a done mark or a coding on it; documents judged
    by two or more are compared. A passage disagrees when some concept there was
    not applied by every coder who judged the document (a coder who applied
    nothing disagrees with one who applied anything): counted per (passage,
    concept) in numpy, over one read of the humans' holdout codings.
    """
    import numpy as np

    if not len(holdout) or not humans:
        return 0
    n = len(docs.ids)
    scope = np.zeros(n, dtype=bool)
    scope[holdout] = True
    coder, doc_id, passage_id, concept_id = _ints(
        s,
        "SELECT c.coder_id, c.document_id, coalesce(c.passage_id, -1), c.concept_id "
        "FROM coding c JOIN document d ON d.id = c.document_id "
        f"WHERE d.status = 'included' AND d.split = 'holdout' AND c.coder_id IN {id_list(humans)}",
        4,
    )
    doc = docs.code(doc_id)
    keep = doc >= 0
    keep[keep] = scope[doc[keep]]
    coder, doc, passage_id, concept_id = coder[keep], doc[keep], passage_id[keep], concept_id[keep]
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
    applied = np.unique(np.stack([unit, c_concept, c_coder], axis=1), axis=0)
    pairs, n_coders = np.unique(applied[:, :2], axis=0, return_counts=True)
    need = judges[p_doc[pairs[:, 0]]] if len(pairs) else np.zeros(0, dtype=np.int64)
    open_rows = np.unique(pairs[n_coders < need, 0]) if len(pairs) else pairs
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
    coverage: dict[str, dict[str, int]] | None = None,
) -> SaturationInput:
    """Everything ``saturation.judge`` needs, in one read transaction."""
    import numpy as np

    start = holdout_start(s)
    is_consensus = basis == CONSENSUS
    docs = included_documents(s)
    # The holdout in scope, in document id order: for one coder, the holdout documents
    # assigned to them when any are (of any status), else all included ones.
    holdout = np.nonzero(docs.holdout)[0]
    holdout = holdout[np.argsort(docs.ids[holdout], kind="stable")]
    if not is_consensus:
        (mine,) = _ints(
            s,
            "SELECT a.document_id FROM assignment a JOIN document d ON d.id = a.document_id "
            f"WHERE a.coder_id = {int(basis_id)} AND d.split = 'holdout'",
            1,
        )
        if len(mine):
            holdout = holdout[np.isin(docs.ids[holdout], mine)]
    done_at, judged, marked = _judged(s, basis_id, is_consensus, holdout, docs)
    table = basis_table(s, basis_id, docs, done_at, consensus=is_consensus)
    holdout_numbers = [str(n) for n in docs.numbers[holdout].tolist()]
    holdout_ids = [int(i) for i in docs.ids[holdout].tolist()]
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
    return SaturationInput(
        basis=basis,
        start=start,
        codings=table,
        holdout_documents=holdout_numbers,
        holdout_done=frozenset(str(n) for n in docs.numbers[judged].tolist()),
        created=created,
        placement={str(k): (None if v is None else str(v)) for k, v in placement.items()},
        history=history,
        early=_early(s, start, holdout_ids),
        open_disagreements=_open_disagreements(s, holdout, docs, marked, _humans(s))
        if is_consensus
        else None,
        coverage=coverage or {},
    )
