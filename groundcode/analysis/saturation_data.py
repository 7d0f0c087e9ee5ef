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

Bulk reads go through ``store.raw`` (plain tuples, pandas typing), so the test
stays within SPEC §8's budget at 400,000 codings.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from groundcode.analysis.saturation import CreatedNode, Placement, SaturationInput
from groundcode.coding.progress import holdout_start
from groundcode.store.raw import fetch_frame, fetch_ints, id_list
from groundcode.store.seed import CONSENSUS

if TYPE_CHECKING:
    import pandas as pd

NODE_LEVELS = ("category", "main_category", "relation_class")


def _times(series: Any) -> Any:
    import pandas as pd

    return pd.to_datetime(series, utc=True, format="ISO8601")


def _iso(at: datetime) -> str:
    """The audit/coding time format the backends compare as text (SQLite) or timestamps."""
    return at.isoformat()


def included_documents(s: Session) -> pd.DataFrame:
    """Included documents (id, number, split), read once per saturation input.

    Each read of these columns looks up every document row (their text makes
    the table large), so the codings, the done marks and the holdout share one.
    """
    return fetch_frame(
        s,
        "SELECT id, number, split FROM document WHERE status = 'included'",
        ["document_id", "document", "split"],
    ).astype({"document_id": "int64"})


def basis_codings(
    s: Session, coder_id: int, *, consensus: bool = False, docs: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The basis's codings on included documents: document, split, concept, category, at, order.

    Integers are fetched flat and joined in pandas (names and numbers are few:
    documents and concepts), which at 200,000 codings is several times faster
    than materialising text columns per coding row.
    """
    import pandas as pd

    ints = fetch_ints(
        s,
        f"SELECT id, document_id, concept_id FROM coding WHERE coder_id = {int(coder_id)}",
        ["order", "document_id", "concept_id"],
    )
    # Coding times place only documents without a done mark in the order (SPEC §5), so
    # only those are read: with every document judged, none of 200,000 strings is parsed.
    marked = "" if consensus else f" WHERE coder_id = {int(coder_id)}"
    times = fetch_frame(
        s,
        f"SELECT id, created_at FROM coding WHERE coder_id = {int(coder_id)} AND document_id "
        f"NOT IN (SELECT document_id FROM done_mark{marked})",
        ["order", "at"],
    )
    if docs is None:
        docs = included_documents(s)
    names = fetch_frame(
        s,
        "SELECT k.id, k.name, cat.name FROM concept k LEFT JOIN category cat ON cat.id = k.category_id",
        ["concept_id", "concept", "category"],
    )
    times = times.astype({"order": "int64"})
    frame = (
        ints.merge(times, on="order", how="left")
        .merge(docs, on="document_id")
        .merge(names.astype({"concept_id": "int64"}), on="concept_id")
    )
    frame["at"] = pd.to_datetime(frame["at"], utc=True, format="ISO8601")
    return frame[["document", "split", "concept", "category", "at", "order"]]


def _done_marks(
    s: Session, coder_id: int | None = None, docs: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Done marks on included documents: coder_id, document (number), marked_at."""
    only = "" if coder_id is None else f" WHERE coder_id = {int(coder_id)}"
    marks = fetch_frame(
        s,
        "SELECT coder_id, document_id, marked_at FROM done_mark" + only,
        ["coder_id", "document_id", "marked_at"],
    ).astype({"document_id": "int64"})
    if docs is None:
        docs = included_documents(s)
    # Numbers joined here from the one read of the documents (an inner join keeps
    # only included ones), in the done marks' own order as the SQL join gave them.
    marks = marks.merge(docs[["document_id", "document"]], on="document_id", how="inner")
    marks = marks[["coder_id", "document", "marked_at"]]
    marks["marked_at"] = _times(marks["marked_at"])
    return marks


def _judged(
    s: Session,
    basis_id: int,
    is_consensus: bool,
    holdout: Sequence[str],
    docs: pd.DataFrame | None = None,
) -> tuple[pd.Series, set[str]]:
    """Done time per document in the basis (a Series), and the holdout documents judged in it."""
    import pandas as pd

    marks = _done_marks(s, None if is_consensus else basis_id, docs)
    if not is_consensus:
        mine = marks[marks["coder_id"] == basis_id]
        judged = pd.Series(
            mine["marked_at"].dt.tz_localize(None).to_numpy(), index=mine["document"].to_numpy()
        )
        return judged, set(holdout) & set(mine["document"].tolist())
    humans = fetch_ints(s, "SELECT id FROM coder WHERE role != 'consensus'", ["id"])["id"].tolist()
    marks = marks[marks["coder_id"].isin(humans)]
    judged = marks.groupby("document")["marked_at"].max()
    active = set(marks["coder_id"].tolist()) | set(
        fetch_ints(
            s,
            f"SELECT DISTINCT coder_id FROM coding WHERE coder_id IN {id_list(humans)}",
            ["id"],
        )["id"].tolist()
    )
    assigned = fetch_frame(
        s,
        "SELECT a.coder_id, d.number FROM assignment a JOIN document d ON d.id = a.document_id "
        "WHERE d.split = 'holdout'",
        ["coder_id", "document"],
    )
    hold = pd.Series(list(holdout), dtype=object)
    with_assignment = set(assigned["document"].tolist())
    # Documents assigned to someone: every coder assigned must have marked it.
    needed = assigned.groupby("document").size()
    have = (
        assigned.merge(marks[["coder_id", "document"]], on=["coder_id", "document"])
        .groupby("document")
        .size()
    )
    done = set(needed.index[(have.reindex(needed.index).fillna(0) >= needed).to_numpy()])
    # Documents nobody was assigned: every active coder must have marked it.
    if active:
        free = marks[marks["coder_id"].isin(active)].groupby("document")["coder_id"].nunique()
        done |= {
            d
            for d in free.index[(free >= len(active)).to_numpy()].tolist()
            if d not in with_assignment
        }
    return judged, set(hold.tolist()) & done


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


def _open_disagreements(s: Session, holdout_ids: list[int]) -> int:
    """Holdout passages where the coders who judged the document differ, not yet decided."""
    if not holdout_ids:
        return 0
    where = id_list(holdout_ids)
    humans = fetch_ints(s, "SELECT id FROM coder WHERE role != 'consensus'", ["id"])["id"].tolist()
    who = id_list(humans)
    judged = fetch_ints(
        s,
        f"SELECT coder_id, document_id FROM done_mark WHERE document_id IN {where} "
        f"AND coder_id IN {who} UNION SELECT DISTINCT coder_id, document_id FROM coding "
        f"WHERE document_id IN {where} AND coder_id IN {who}",
        ["coder_id", "document_id"],
    ).drop_duplicates()
    per_doc = judged.groupby("document_id")["coder_id"].nunique()
    shared = per_doc[per_doc >= 2].index.tolist()
    if not shared:
        return 0
    codings = fetch_ints(
        s,
        "SELECT coder_id, document_id, coalesce(passage_id, -1), concept_id FROM coding "
        f"WHERE document_id IN {id_list(shared)} AND coder_id IN {who}",
        ["coder_id", "document_id", "passage_id", "concept_id"],
    )
    passages = fetch_ints(
        s,
        f"SELECT id, document_id, idx FROM passage WHERE document_id IN {id_list(shared)}",
        ["passage_id", "document_id", "idx"],
    )
    units = judged[judged["document_id"].isin(shared)].merge(
        passages, on="document_id", how="inner"
    )
    # A passage disagrees when some concept there was not applied by every coder who
    # judged the document (a coder who applied nothing disagrees with one who applied
    # anything): counted per (passage, concept), without building sets per passage.
    applied = (
        codings[codings["passage_id"] >= 0][["coder_id", "passage_id", "concept_id"]]
        .drop_duplicates()
        .merge(units[["coder_id", "passage_id"]], on=["coder_id", "passage_id"])
    )
    judges = units.groupby("passage_id")["coder_id"].nunique()
    per_code = (
        applied.groupby(["passage_id", "concept_id"])["coder_id"].nunique().reset_index(name="n")
    )
    per_code["need"] = per_code["passage_id"].map(judges)
    open_ids = set(per_code.loc[per_code["n"] < per_code["need"], "passage_id"].tolist())
    if not open_ids:
        return 0
    numbers = fetch_frame(
        s, f"SELECT id, number FROM document WHERE id IN {id_list(shared)}", ["id", "number"]
    )
    num = dict(zip(numbers["id"], numbers["number"], strict=True))
    decided: set[tuple[str, int]] = set()
    for (raw,) in fetch_frame(
        s, "SELECT after FROM audit_log WHERE action = 'reconcile.decide'", ["after"]
    ).itertuples(index=False):
        info = json.loads(raw or "{}")
        if "document" in info and "passage" in info:
            decided.add((str(info["document"]), int(info["passage"])))
    keyed = passages[passages["passage_id"].isin(open_ids)]
    return int(
        sum(
            (num[int(d)], int(i)) not in decided
            for d, i in zip(keyed["document_id"], keyed["idx"], strict=True)
        )
    )


def load_input(
    s: Session,
    *,
    basis: str,
    basis_id: int,
    coverage: dict[str, dict[str, int]] | None = None,
) -> SaturationInput:
    """Everything ``saturation.judge`` needs, in one read transaction."""
    start = holdout_start(s)
    is_consensus = basis == CONSENSUS
    docs = included_documents(s)
    codings = basis_codings(s, basis_id, consensus=is_consensus, docs=docs)
    holdout = (
        docs.loc[docs["split"] == "holdout", ["document_id", "document"]]
        .rename(columns={"document_id": "id", "document": "number"})
        .sort_values("id", kind="stable")
    )
    if not is_consensus:
        mine = fetch_ints(
            s,
            "SELECT a.document_id FROM assignment a JOIN document d ON d.id = a.document_id "
            f"WHERE a.coder_id = {int(basis_id)} AND d.split = 'holdout'",
            ["id"],
        )["id"].tolist()
        if mine:
            holdout = holdout[holdout["id"].isin(mine)]
    holdout_numbers = holdout["number"].tolist()
    holdout_ids = [int(i) for i in holdout["id"].tolist()]
    judged_at, done = _judged(s, basis_id, is_consensus, holdout_numbers, docs)
    created = _created_after(s, start) if start is not None else []
    placement: dict[Any, Any] = dict(
        fetch_frame(
            s,
            "SELECT k.name, cat.name FROM concept k LEFT JOIN category cat ON cat.id = k.category_id",
            ["concept", "category"],
        ).itertuples(index=False)
    )
    history: dict[str, list[Placement]] = {}
    if start is not None and len(codings):
        # Every concept seen in the holdout may turn out new; their histories are few rows.
        in_holdout = set(codings.loc[codings["split"] == "holdout", "concept"].tolist())
        if in_holdout:
            ids = fetch_frame(s, "SELECT id, name FROM concept", ["id", "name"])
            by_name = dict(zip(ids["name"], ids["id"], strict=True))
            history = _history(s, {c: int(by_name[c]) for c in in_holdout if c in by_name})
    return SaturationInput(
        basis=basis,
        start=start,
        codings=codings,
        holdout_documents=holdout_numbers,
        holdout_done=frozenset(done),
        judged_at=judged_at,
        created=created,
        placement={str(k): (None if v is None else str(v)) for k, v in placement.items()},
        history=history,
        early=_early(s, start, holdout_ids),
        open_disagreements=_open_disagreements(s, holdout_ids) if is_consensus else None,
        coverage=coverage or {},
    )
