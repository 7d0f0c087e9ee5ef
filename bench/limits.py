"""The machine's limit for each benchmarked operation: the minimal program doing the same work.

    python -m bench.limits NAME --db PROJECT.db [--data bench/data] [--arg VALUE]

Each limit does the work an operation cannot avoid, on the same data, the same
schema (a copy of the same project file, so the same indexes and pragmas) and
the same machine, with nothing in between: the ``sqlite3`` module, the ``csv``
module, openpyxl's write-only mode, a bare Textual app. ``bench/run.py`` prints
each operation's figure beside its limit and the ratio of the two, so a slow
figure on a busy machine is read against a limit measured on the same busy
machine. Prints one JSON line: ``{"t": seconds, "hwm_mb": peak MB}``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import sqlite3
import statistics
import sys
import tempfile
import time
import unicodedata
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import emit, median_cpu, median_time, snapshot  # noqa: E402

LIMITS: dict[str, Callable[[argparse.Namespace], float]] = {}


def limit(name: str) -> Callable[[Callable[[argparse.Namespace], float]], Any]:
    def deco(fn: Callable[[argparse.Namespace], float]) -> Callable[[argparse.Namespace], float]:
        LIMITS[name] = fn
        return fn

    return deco


def connect(path: Path) -> sqlite3.Connection:
    """The project's pragmas (WAL, foreign keys, NORMAL sync), autocommit off by hand."""
    con = sqlite3.connect(str(path), isolation_level=None)
    con.execute("PRAGMA foreign_keys=ON")
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    return con


def scratch_copy(db: Path, tmp: Path) -> Path:
    return snapshot(db, tmp / "limit.db")


def now() -> str:
    return datetime.now(UTC).isoformat(sep=" ")


@limit("import_comments")
def import_comments(args: argparse.Namespace) -> float:
    """Parse the CSV, NFC + sha256 each comment, insert documents and passages in one transaction."""
    src = Path(args.data) / "comments.csv"
    with tempfile.TemporaryDirectory(dir=Path(args.db).parent) as tmp:
        db = scratch_copy(Path(args.db), Path(tmp))
        con = connect(db)
        t0 = time.perf_counter()
        raw = src.read_bytes()
        file_hash = hashlib.sha256(raw).hexdigest()
        reader = csv.reader(io.StringIO(raw.decode("utf-8"), newline=""))
        header = next(reader)
        ti = header.index("text")
        di, vi, ui, ai = (header.index(c) for c in ("date", "views", "url", "author"))
        extra = [i for i, h in enumerate(header) if i not in (ti, di, vi, ui, ai)]
        con.execute("BEGIN IMMEDIATE")
        type_id = 4
        first = con.execute("SELECT next_seq FROM source_type WHERE id=?", (type_id,)).fetchone()[0]
        next_id = (con.execute("SELECT max(id) FROM document").fetchone()[0] or 0) + 1
        stamp = now()
        cur = con.execute(
            "INSERT INTO import_batch (file_name, file_hash, source_type_id, imported_by, "
            "imported_at, n_documents) VALUES (?,?,?,?,?,0)",
            (src.name, file_hash, type_id, "lead", stamp),
        )
        batch = cur.lastrowid
        docs = []
        passages = []
        for rowno, row in enumerate(reader, start=2):
            text = unicodedata.normalize("NFC", row[ti]).strip()
            seq = first + rowno - 2
            did = next_id + rowno - 2
            meta = json.dumps({header[i]: row[i] for i in extra}, ensure_ascii=False)
            docs.append(
                (
                    did,
                    type_id,
                    seq,
                    f"{type_id}-{seq}",
                    None,
                    row[ai],
                    row[di] + ":00",
                    row[ui],
                    int(row[vi]),
                    text,
                    hashlib.sha256(text.encode()).hexdigest(),
                    src.name,
                    rowno,
                    meta,
                    batch,
                    "included",
                    None,
                    0,
                    stamp,
                )
            )
            passages.append((did, 1, 0, len(text), text))
        con.executemany(
            "INSERT INTO document (id, source_type_id, seq, number, title, author, date, url, "
            "views, text, content_hash, origin_file, origin_row, meta, batch_id, status, split, "
            "personal, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            docs,
        )
        con.executemany(
            'INSERT INTO passage (document_id, idx, start, "end", text) VALUES (?,?,?,?,?)',
            passages,
        )
        con.execute("UPDATE source_type SET next_seq=? WHERE id=?", (first + len(docs), type_id))
        con.execute(
            "INSERT INTO audit_log (at, actor, action, entity, entity_id, after, undone) "
            "VALUES (?,?,?,?,?,?,0)",
            (stamp, "lead", "corpus.import", "import_batch", batch, "{}"),
        )
        con.execute("COMMIT")
        t = time.perf_counter() - t0
        con.close()
    return t


@limit("import_codings")
def import_codings(args: argparse.Namespace) -> float:
    """Parse the codings CSV, map numbers to ids, insert the codings and one audit row."""
    src = Path(args.data) / "codings.csv"
    with tempfile.TemporaryDirectory(dir=Path(args.db).parent) as tmp:
        db = scratch_copy(Path(args.db), Path(tmp))
        con = connect(db)
        t0 = time.perf_counter()
        reader = csv.reader(io.StringIO(src.read_text(encoding="utf-8"), newline=""))
        next(reader)
        con.execute("BEGIN IMMEDIATE")
        docs = dict(con.execute("SELECT number, id FROM document"))
        passages = {
            (d, i): (p, a, b, t)
            for p, d, i, a, b, t in con.execute(
                'SELECT id, document_id, idx, start, "end", text FROM passage'
            )
        }
        coders = dict(con.execute("SELECT name, id FROM coder"))
        concepts = dict(con.execute("SELECT name, id FROM concept"))
        stamp = now()
        rows = []
        seen = set()
        for number, passage, code, coder in reader:
            did = docs[number]
            pid, a, b, snippet = passages[(did, int(passage))]
            key = (coders[coder], concepts[code], did, a, b)
            if key in seen:
                continue
            seen.add(key)
            rows.append((*key[:3], pid, a, b, snippet[:4000], 0, stamp))
        con.executemany(
            'INSERT INTO coding (coder_id, concept_id, document_id, passage_id, start, "end", '
            "snippet, assisted, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
            rows,
        )
        con.execute(
            "INSERT INTO audit_log (at, actor, action, entity, entity_id, after, undone) "
            "VALUES (?,?,?,?,?,?,0)",
            (stamp, "lead", "coding.import", "coding", None, json.dumps({"rows": len(rows)})),
        )
        con.execute("COMMIT")
        t = time.perf_counter() - t0
        con.close()
    return t


def _read_con(db: str) -> sqlite3.Connection:
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA query_only=ON")
    return con


@limit("page")
def page(args: argparse.Namespace) -> float:
    """One ``LIMIT 50`` over the table the page lists (the median of many)."""
    con = _read_con(args.db)
    sql = {
        "segments": (
            'SELECT c.id, c.start, c."end", c.snippet, d.number FROM coding c '
            "JOIN document d ON d.id = c.document_id WHERE c.concept_id = "
            "(SELECT id FROM concept WHERE name = ?) LIMIT 50",
            (args.arg or "概念010",),
        ),
        "documents": (
            "SELECT id, number, title, substr(text, 1, 80), status, split FROM document "
            "ORDER BY source_type_id, seq LIMIT 50",
            (),
        ),
        "codings": (
            'SELECT c.id, c.start, c."end", c.snippet, k.name FROM coding c '
            "JOIN concept k ON k.id = c.concept_id ORDER BY c.id LIMIT 50",
            (),
        ),
        "memos": ("SELECT id, target_kind, target_id, author, text FROM memo LIMIT 50", ()),
        "passages": ("SELECT id, document_id, idx, text FROM passage LIMIT 50", ()),
    }[args.what]

    def run() -> Any:
        return con.execute(*sql).fetchall()

    t, _ = median_cpu(run, repeat=51, warm=3)
    return t


@limit("search")
def search(args: argparse.Namespace) -> float:
    """The FTS count of the term's bigrams and its first 50 passages (the median of runs)."""
    con = _read_con(args.db)
    from groundcode.store.search_tokens import query_bigrams

    q = " AND ".join('"' + g + '"' for g in query_bigrams(args.arg))

    def run() -> Any:
        n = con.execute("SELECT count(*) FROM passage_fts WHERE passage_fts MATCH ?", (q,))
        n.fetchone()
        return con.execute(
            "SELECT p.idx, p.text, d.number FROM passage p JOIN document d ON d.id = p.document_id "
            "WHERE p.id IN (SELECT rowid FROM passage_fts WHERE passage_fts MATCH ? LIMIT 50)",
            (q,),
        ).fetchall()

    t, _ = median_cpu(run, repeat=15, warm=2)
    return t


@limit("coding")
def coding(args: argparse.Namespace) -> float:
    """p50 of one committed coding: look up the passage, insert the coding and its audit row."""
    with tempfile.TemporaryDirectory(dir=Path(args.db).parent) as tmp:
        db = scratch_copy(Path(args.db), Path(tmp))
        con = connect(db)
        coder = con.execute("SELECT id FROM coder WHERE name='coder_a'").fetchone()[0]
        concepts = [r[0] for r in con.execute("SELECT id FROM concept ORDER BY id LIMIT 60")]
        times = []
        for i, concept in enumerate(concepts):
            number = f"4-{50_000 + i}"
            t0 = time.process_time()
            con.execute("BEGIN IMMEDIATE")
            did, text = con.execute(
                "SELECT id, text FROM document WHERE number=?", (number,)
            ).fetchone()
            pid, a, b = con.execute(
                'SELECT id, start, "end" FROM passage WHERE document_id=? AND idx=1', (did,)
            ).fetchone()
            cur = con.execute(
                'INSERT INTO coding (coder_id, concept_id, document_id, passage_id, start, "end", '
                "snippet, assisted, created_at) VALUES (?,?,?,?,?,?,?,0,?)",
                (coder, concept, did, pid, a, b, text[a:b], now()),
            )
            con.execute(
                "INSERT INTO audit_log (at, actor, action, entity, entity_id, after, undone) "
                "VALUES (?,?,?,?,?,?,0)",
                (now(), "coder_a", "coding.apply", "coding", cur.lastrowid, "{}"),
            )
            con.execute("COMMIT")
            times.append(time.process_time() - t0)
        con.close()
    return statistics.median(times[5:])


@limit("open_document")
def open_document(args: argparse.Namespace) -> float:
    """A document's text and passages and its codings with their concept names."""
    con = _read_con(args.db)
    number = args.arg or "2-1500"

    def run() -> Any:
        did, _text = con.execute(
            "SELECT id, text FROM document WHERE number=?", (number,)
        ).fetchone()
        con.execute(
            'SELECT id, idx, start, "end" FROM passage WHERE document_id=?', (did,)
        ).fetchall()
        return con.execute(
            'SELECT c.id, c.start, c."end", k.name, co.name FROM coding c '
            "JOIN concept k ON k.id = c.concept_id JOIN coder co ON co.id = c.coder_id "
            "WHERE c.document_id = ?",
            (did,),
        ).fetchall()

    t, _ = median_cpu(run, repeat=21, warm=2)
    return t


@limit("segments_xlsx")
def segments_xlsx(args: argparse.Namespace) -> float:
    """The same rows fetched by one query and written by openpyxl's write-only mode."""
    from openpyxl import Workbook

    con = _read_con(args.db)
    t0 = time.perf_counter()
    rows = con.execute(
        'SELECT co.name, d.number, st.slug, d.split, p.idx, c.start, c."end", c.snippet, k.name, '
        "cat.number, cat.name, m.name, r.name, c.assisted, c.created_at, '' "
        "FROM coding c JOIN coder co ON co.id = c.coder_id JOIN document d ON d.id = c.document_id "
        "JOIN source_type st ON st.id = d.source_type_id JOIN concept k ON k.id = c.concept_id "
        "LEFT JOIN passage p ON p.id = c.passage_id LEFT JOIN category cat ON cat.id = k.category_id "
        "LEFT JOIN main_category m ON m.id = cat.main_category_id "
        "LEFT JOIN relation_class r ON r.id = m.relation_class_id "
        "WHERE co.name = ? AND d.personal = 0",
        (args.arg or "coder_a",),
    )
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("segments")
    ws.append(["coder", "document", "type", "split", "passage", "start", "end", "text"])
    for row in rows:
        ws.append(row)
    with tempfile.TemporaryDirectory() as tmp:
        wb.save(Path(tmp) / "s.xlsx")
    return time.perf_counter() - t0


def _int_rows(con: sqlite3.Connection, sql: str, width: int, params: tuple[Any, ...] = ()) -> Any:
    """An all-integer query's columns as one int64 array per column (no row objects kept)."""
    import itertools

    import numpy as np

    rows = con.execute(sql, params).fetchall()
    flat = np.fromiter(itertools.chain.from_iterable(rows), np.int64, len(rows) * width)
    return flat.reshape(len(rows), width).T


def _ns(stamps: Any) -> Any:
    """ISO times (naive UTC) as int64 ns, each distinct value parsed once."""
    import numpy as np

    parsed: dict[str, int] = {}
    for v in stamps:
        if v not in parsed:
            at = datetime.fromisoformat(v).replace(tzinfo=UTC)
            parsed[v] = int(at.timestamp()) * 10**9 + at.microsecond * 1000
    return np.fromiter((parsed[v] for v in stamps), np.int64, len(stamps))


def saturation_work(con: sqlite3.Connection, basis: str) -> dict[str, Any]:
    """The saturation test's unavoidable work for one basis, on plain sqlite3 and numpy.

    Reads the columns the test needs (documents' ids, numbers, status and split
    from their indexes; the basis's codings as integers; its done marks; the
    concepts' categories; every holdout coding with the start comparison done in
    SQL) and computes the judged order, the first-seen concepts and categories
    per document, the Guest runs, the new holdout concepts, the codings before
    the start and the coverage; for the consensus also the humans' done marks,
    the holdout assignments and passages and the open disagreements. Results
    stay arrays: no object per document or coding.
    """
    import numpy as np

    nat = np.iinfo(np.int64).min
    big = np.iinfo(np.int64).max
    start_text = con.execute("SELECT value FROM setting WHERE key = 'holdout_start'").fetchone()
    start = datetime.fromisoformat(start_text[0]) if start_text else None
    bound = start.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ") if start else None
    ids, numbers = zip(*con.execute("SELECT id, number FROM document").fetchall(), strict=True)
    sid, status, split = zip(
        *con.execute("SELECT id, status, split FROM document").fetchall(), strict=True
    )
    sid_arr = np.asarray(sid)
    included = np.asarray(status, dtype=object) == "included"
    kept = np.sort(sid_arr[included])
    lookup = np.full(int(sid_arr.max()) + 2, -1, dtype=np.int64)
    lookup[kept] = np.arange(len(kept))
    holdout = np.zeros(len(kept), dtype=bool)
    holdout[lookup[sid_arr[included & (np.asarray(split, dtype=object) == "holdout")]]] = True
    id_arr = np.asarray(ids)
    number = np.empty(len(kept), dtype=object)
    on = lookup[id_arr] >= 0
    number[lookup[id_arr[on]]] = np.asarray(numbers, dtype=object)[on]
    n = len(kept)
    coders = {name: (i, role) for i, name, role in con.execute("SELECT id, name, role FROM coder")}
    humans = [i for i, role in coders.values() if role != "consensus"]
    basis_id = coders[basis][0]
    # The basis's codings and done times.
    order, doc, concept = _int_rows(
        con, "SELECT id, document_id, concept_id FROM coding WHERE coder_id = ?", 3, (basis_id,)
    )
    doc = lookup[doc]
    done = np.full(n, nat, dtype=np.int64)
    marked = np.zeros((max(humans) + 1, n), dtype=bool)
    if basis == "consensus":
        rows = con.execute("SELECT coder_id, document_id, marked_at FROM done_mark").fetchall()
        coder_m, doc_m, at_m = zip(*rows, strict=True)
        cm, dm = np.asarray(coder_m), lookup[np.asarray(doc_m)]
        keep = (dm >= 0) & np.isin(cm, humans)
        np.maximum.at(done, dm[keep], _ns(at_m)[keep])
        marked[cm[keep], dm[keep]] = True
    else:
        rows = con.execute(
            "SELECT document_id, marked_at FROM done_mark WHERE coder_id = ?", (basis_id,)
        ).fetchall()
        doc_m, at_m = zip(*rows, strict=True)
        dm = lookup[np.asarray(doc_m)]
        done[dm[dm >= 0]] = _ns(at_m)[dm >= 0]
    # (Every document of the reference project is marked, so no coding time is needed.)
    cat_of = dict(con.execute("SELECT id, category_id FROM concept").fetchall())
    cat_lookup = np.full(max(cat_of) + 1, -1, dtype=np.int64)
    for k, c in cat_of.items():
        cat_lookup[k] = -1 if c is None else c
    # The judged order: done time, first coding id, number.
    first = np.full(n, 2**62, dtype=np.int64)
    np.minimum.at(first, doc, order)
    cand = np.nonzero((first < 2**62) | (done != nat))[0]
    rank = np.empty(len(cand), dtype=np.int64)
    rank[np.argsort(np.asarray(number[cand].tolist(), dtype=str), kind="stable")] = np.arange(
        len(cand)
    )
    when = np.where(done[cand] == nat, big, done[cand])
    seq = cand[np.lexsort((rank, first[cand], when))]
    pos = np.full(n, -1, dtype=np.int64)
    pos[seq] = np.arange(len(seq))
    cpos = pos[doc]
    concept_first = np.full(int(concept.max(initial=0)) + 1, big, dtype=np.int64)
    np.minimum.at(concept_first, concept, cpos)
    category = cat_lookup[concept]
    cat_first = np.full(int(cat_lookup.max(initial=0)) + 1, big, dtype=np.int64)
    np.minimum.at(cat_first, category[category >= 0], cpos[category >= 0])
    new_c = np.bincount(concept_first[concept_first < big], minlength=len(seq))
    new_k = np.bincount(cat_first[cat_first < big], minlength=len(seq))
    curve = (np.cumsum(new_c), np.cumsum(new_k))
    prefix = np.concatenate(([0], np.cumsum(new_c)))
    starts = np.arange(4, len(seq) - 2 + 1)
    news = prefix[starts + 2] - prefix[starts]
    ratios = news / int(prefix[4]) if prefix[4] else np.zeros(0)
    hit = np.nonzero(ratios <= 0.05)[0]
    seen = np.nonzero(concept_first < big)[0]
    begun = int(start.timestamp()) * 10**9 + start.microsecond * 1000 if start else big
    fresh = seen[holdout[seq[concept_first[seen]]] & (done[seq[concept_first[seen]]] > begun)]
    # Every coding on the holdout: codings before the start, coverage, disagreements.
    h_coder, h_doc, h_passage, h_concept, h_early = _int_rows(
        con,
        "SELECT c.coder_id, c.document_id, coalesce(c.passage_id, -1), c.concept_id, "
        "CASE WHEN c.created_at < ? THEN 1 ELSE 0 END FROM coding c "
        "JOIN document d ON d.id = c.document_id "
        "WHERE d.status = 'included' AND d.split = 'holdout'",
        5,
        (bound,),
    )
    h_doc = lookup[h_doc]
    per_coder = {
        int(c): (
            len(np.unique(h_doc[h_coder == c])),
            len(np.unique(h_passage[(h_coder == c) & (h_passage >= 0)])),
            int((h_early & (h_coder == c)).sum()),
        )
        for c in np.unique(h_coder).tolist()
    }
    open_passages = 0
    if basis == "consensus":
        a_coder, a_doc = _int_rows(
            con,
            "SELECT coder_id, document_id FROM assignment WHERE document_id IN "
            "(SELECT id FROM document WHERE status = 'included' AND split = 'holdout')",
            2,
        )
        a_doc = lookup[a_doc]
        needed = np.bincount(a_doc, minlength=n)
        have = np.bincount(a_doc[marked[a_coder, a_doc]], minlength=n)
        judged_holdout = holdout & (needed > 0) & (have >= needed)
        judged = marked & holdout[None, :]
        judged[h_coder, h_doc] = True
        judges = judged.sum(axis=0)
        p_id, p_doc, p_idx = _int_rows(
            con,
            "SELECT p.id, p.document_id, p.idx FROM passage p "
            "JOIN document d ON d.id = p.document_id "
            "WHERE d.status = 'included' AND d.split = 'holdout'",
            3,
        )
        p_doc = lookup[p_doc]
        sort = np.argsort(p_id)
        where = np.minimum(np.searchsorted(p_id[sort], h_passage), len(p_id) - 1)
        ok = (h_passage >= 0) & (p_id[sort][where] == h_passage) & (judges[h_doc] >= 2)
        unit = sort[where[ok]]
        wk, wc = int(h_concept.max()) + 1, int(h_coder.max()) + 1
        applied = np.unique((unit * wk + h_concept[ok]) * wc + h_coder[ok])
        pairs, k = np.unique(applied // wc, return_counts=True)
        rows_of = pairs // wk
        open_rows = np.unique(rows_of[k < judges[p_doc[rows_of]]])
        decided = set()
        for (raw,) in con.execute("SELECT after FROM audit_log WHERE action = 'reconcile.decide'"):
            info = json.loads(raw or "{}")
            decided.add((str(info.get("document")), int(info.get("passage", -1))))
        open_passages = sum(
            (d, i) not in decided
            for d, i in zip(
                number[p_doc[open_rows]].tolist(), p_idx[open_rows].tolist(), strict=True
            )
        )
        done_count = int(judged_holdout.sum())
    else:
        done_count = int((done[holdout] != nat).sum())
    return {
        "documents": len(seq),
        "concepts": int(curve[0][-1]) if len(seq) else 0,
        "confirmed": int(starts[hit[0]]) + 2 if len(hit) else None,
        "new": len(fresh),
        "coverage": per_coder,
        "done": done_count,
        "open": open_passages,
        "categories": int(curve[1][-1]) if len(seq) else 0,
    }


@limit("saturation")
def saturation(args: argparse.Namespace) -> float:
    """``saturation_work`` for one basis (``--arg``: a coder's name or ``consensus``), median of 3.

    The project must have its done marks and the holdout start (``bench_saturation``
    runs this on its prepared scratch copy).
    """
    import gc

    con = _read_con(args.db)
    gc.disable()  # the rows are acyclic: no collection pass over them is needed
    try:
        t, _ = median_time(lambda: saturation_work(con, args.arg or "coder_a"), repeat=3)
    finally:
        gc.enable()
    con.close()
    return t


TUI_MIN = r"""
import time, json, asyncio
t0 = time.perf_counter()
from textual.app import App
from textual.screen import Screen
from textual.widgets import Static
painted = {}
_refresh = Screen._compositor_refresh
def _hook(self):
    # The first paint, caught as bench_tui.py catches the dashboard's.
    _refresh(self)
    if "t" not in painted and self.is_current:
        painted["t"] = time.perf_counter() - t0
Screen._compositor_refresh = _hook
class Minimal(App):
    def compose(self):
        yield Static("groundcode")
async def main():
    app = Minimal()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        print(json.dumps({"t": painted.get("t", time.perf_counter() - t0)}))
asyncio.run(main())
"""


@limit("tui_start")
def tui_start(args: argparse.Namespace) -> float:
    """A one-widget Textual app from import to its first painted screen (median of 3 processes)."""
    import subprocess

    times = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", TUI_MIN], capture_output=True, text=True, check=True
        )
        times.append(json.loads(out.stdout.strip().splitlines()[-1])["t"])
    return statistics.median(times)


TUI_SEARCH = r"""
import asyncio, json, sqlite3, statistics, sys, time
from textual import work
from textual.app import App
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Label
db, query = sys.argv[1], sys.argv[2]
class Minimal(App):
    # A list on screen, a hidden hits box: the corpus screen's shape, with none of its work.
    def compose(self):
        yield DataTable(id="docs")
        with Vertical(id="box"):
            yield Label("", id="title")
            yield DataTable(id="hits")
        yield Footer()
    def on_mount(self):
        docs = self.query_one("#docs", DataTable)
        docs.add_columns("number", "text")
        for i in range(100):
            docs.add_row(f"4-{i}", "text " * 10)
        self.query_one("#hits", DataTable).add_columns("document", "passage", "snippet")
        self.query_one("#box").display = False
    @work(thread=True)
    def search(self):
        # The FTS count and 200 hits, as the search limit reads them.
        con = sqlite3.connect(db)
        n = con.execute("SELECT count(*) FROM passage_fts WHERE passage_fts MATCH ?", (query,)).fetchone()[0]
        rows = con.execute(
            "SELECT d.number, p.idx, substr(p.text, 1, 80) FROM passage p JOIN document d "
            "ON d.id = p.document_id WHERE p.id IN "
            "(SELECT rowid FROM passage_fts WHERE passage_fts MATCH ? LIMIT 200)", (query,)
        ).fetchall()
        con.close()
        self.call_from_thread(self.show, n, rows)
    def show(self, n, rows):
        hits = self.query_one("#hits", DataTable)
        hits.clear()
        for r in rows:
            hits.add_row(*r)
        self.query_one("#title", Label).update(f"{n} hits")
        self.query_one("#box").display = True
        hits.focus()
async def main():
    app = Minimal()
    times = []
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        for _ in range(3):
            await pilot.pause(0.3)
            t0 = time.perf_counter()
            app.search()
            await app.workers.wait_for_complete()
            await pilot.pause()
            times.append(time.perf_counter() - t0)
            app.query_one("#box").display = False
            app.query_one("#docs").focus()
    print(json.dumps({"t": statistics.median(times)}))
asyncio.run(main())
"""


@limit("tui_search")
def tui_search(args: argparse.Namespace) -> float:
    """A minimal Textual app's search: a worker reads the FTS count and 200 hits, a table
    shows them (median of 3, timed as ``bench_tui.py`` times the corpus screen's)."""
    import subprocess

    from groundcode.store.search_tokens import query_bigrams

    q = " AND ".join('"' + g + '"' for g in query_bigrams(args.arg))
    out = subprocess.run(
        [sys.executable, "-c", TUI_SEARCH, args.db, q], capture_output=True, text=True, check=True
    )
    return float(json.loads(out.stdout.strip().splitlines()[-1])["t"])


# -- limits run by their own bench modules (bench_qdpx.py, bench_agreement.py) --
# They take paths and report more than one figure, so they are plain functions
# rather than ``@limit`` entries; the modules call them in their own interpreters.


def agreement_scan(path: Path, coders: tuple[str, str]) -> float:
    """The scan of coder, passage and concept of every coding of the two coders."""
    import sqlite3

    import numpy as np

    con = sqlite3.connect(str(path))
    ids = [r[0] for r in con.execute("SELECT id FROM coder WHERE name IN (?, ?)", coders)]
    # One scan of the table (as agree reads it), one packed integer per coding.
    sql = (
        "SELECT group_concat((passage_id + 1) * 16777216 + concept_id, ',') FROM coding "
        f"WHERE +coder_id IN ({int(ids[0])}, {int(ids[1])}) AND passage_id IS NOT NULL"
    )

    def scan() -> int:
        raw = con.execute(sql).fetchone()[0] or ""
        return int(np.fromstring(raw, dtype=np.int64, sep=",").size)

    t, _ = median_time(scan, repeat=5)
    con.close()
    return t


def qdpx_export(db: Path, qde_bytes: int, out: Path) -> dict[str, Any]:
    """The same texts zipped, plus an XML of ``qde_bytes`` written by a streaming writer."""
    from xml.sax.saxutils import XMLGenerator

    t0, c0 = time.perf_counter(), time.process_time()
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        with zf.open("project.qde", "w", force_zip64=True) as stream:

            class Counting:
                written = 0

                def write(self, data: bytes) -> int:
                    self.written += len(data)
                    return stream.write(data)

                def flush(self) -> None:
                    pass

            sink = Counting()
            gen = XMLGenerator(sink, encoding="utf-8", short_empty_elements=True)  # type: ignore[arg-type]
            gen.startDocument()
            gen.startElement("Project", {"xmlns": "urn:QDA-XML:project:1.0", "name": "limit"})
            i = 0
            while sink.written < qde_bytes:
                i += 1
                gen.startElement(
                    "PlainTextSelection",
                    {
                        "guid": f"00000000-0000-0000-0000-{i:012d}",
                        "name": "选择的文本片段",
                        "startPosition": str(i),
                        "endPosition": str(i + 10),
                    },
                )
                gen.startElement("Coding", {"guid": f"10000000-0000-0000-0000-{i:012d}"})
                gen.startElement("CodeRef", {"targetGUID": "20000000-0000-0000-0000-000000000001"})
                gen.endElement("CodeRef")
                gen.endElement("Coding")
                gen.endElement("PlainTextSelection")
            gen.endElement("Project")
            gen.endDocument()
        for did, text in con.execute("SELECT id, text FROM document"):
            zf.writestr(f"sources/{did:08d}.txt", text.encode("utf-8"))
    con.close()
    return {"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0}


def qdpx_import(archive: Path, target: Path) -> dict[str, Any]:
    """The import's work with nothing in between, into a fresh project of the same schema.

    Hash the file; iterparse ``project.qde`` (C parser, each source cleared
    once read); read each source's text from the archive; insert coders,
    concepts, documents, passages, done marks and assignments as read, and the
    codings sorted by the rank the facts give, all in one transaction with the
    project's own indexes (plain ``sqlite3``, explicit ids, one audit row).
    """
    import hashlib
    import json
    import xml.etree.ElementTree as ET
    from bisect import bisect_right
    from datetime import UTC, datetime, timedelta

    from groundcode.project import Project

    with Project.create(target):
        pass  # the schema, its indexes and the seeded rows, outside the timing
    t0, c0 = time.perf_counter(), time.process_time()
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    stamp = datetime.now(UTC).isoformat(sep=" ")
    h = hashlib.sha256()
    with archive.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    con = connect(target)
    con.execute("BEGIN IMMEDIATE")
    con.execute(
        "INSERT INTO import_batch (file_name, file_hash, source_type_id, imported_by, "
        "imported_at, n_documents) VALUES (?, ?, 1, NULL, ?, 0)",
        (archive.name, h.hexdigest(), stamp),
    )
    batch = con.execute("SELECT max(id) FROM import_batch").fetchone()[0]
    types = {int(r[0]) for r in con.execute("SELECT id FROM source_type")}
    q = "{urn:QDA-XML:project:1.0}"
    zf = zipfile.ZipFile(archive)
    users: dict[str, int] = {}
    coders = dict(con.execute("SELECT name, id FROM coder"))
    concepts: dict[str, int] = {}
    variables: dict[str, str] = {}
    codings: list[tuple[Any, ...]] = []
    docs: list[tuple[Any, ...]] = []
    passages: list[tuple[Any, ...]] = []
    pairs: dict[str, list[tuple[Any, ...]]] = {"done": [], "assigned": []}
    doc_id = passage_id = position = 0

    def flush() -> None:
        con.executemany(
            "INSERT INTO document (id, source_type_id, seq, number, title, text, content_hash, "
            "origin_file, origin_row, batch_id, status, split, personal, created_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,0,?)",
            docs,
        )
        con.executemany(
            'INSERT INTO passage (id, document_id, idx, start, "end", text) VALUES (?,?,?,?,?,?)',
            passages,
        )
        con.executemany(
            "INSERT INTO done_mark (coder_id, document_id, marked_at) VALUES (?,?,?)",
            pairs["done"],
        )
        con.executemany(
            "INSERT INTO assignment (coder_id, document_id, assigned_by, assigned_at) "
            "VALUES (?,?,NULL,?)",
            pairs["assigned"],
        )
        docs.clear()
        passages.clear()
        pairs["done"].clear()
        pairs["assigned"].clear()

    with zf.open("project.qde") as stream:
        for _event, el in ET.iterparse(stream, events=("end",)):
            tag = el.tag
            if tag == q + "User":
                name = el.get("name") or el.get("guid") or ""
                if name not in coders:
                    cur = con.execute(
                        "INSERT INTO coder (name, role, created_at) VALUES (?, ?, ?)",
                        (name, "coder", stamp),
                    )
                    coders[name] = int(cur.lastrowid or 0)
                users[el.get("guid") or ""] = coders[name]
            elif tag == q + "Code":
                if el.get("isCodable") == "true" and el.find(q + "Code") is None:
                    cur = con.execute(
                        "INSERT INTO concept (name, position, created_at) VALUES (?, 0, ?)",
                        (el.get("name"), stamp),
                    )
                    concepts[el.get("guid") or ""] = int(cur.lastrowid or 0)
            elif tag == q + "Variable":
                variables[el.get("guid") or ""] = el.get("name") or ""
            elif tag == q + "TextSource":
                values = {}
                for vv in el.findall(q + "VariableValue"):
                    ref = vv.find(q + "VariableRef")
                    name = variables.get(ref.get("targetGUID") or "", "") if ref is not None else ""
                    values[name] = vv[-1].text or ""
                text = zf.read("sources/" + (el.get("plainTextPath") or "")[11:]).decode("utf-8")
                doc_id += 1
                number = values.get("groundcode: number") or f"1-{doc_id}"
                type_id = int(values.get("groundcode: type") or 1)
                if type_id not in types:
                    con.execute(
                        "INSERT INTO source_type (id, name_zh, name_en, slug, next_seq) "
                        "VALUES (?, ?, ?, ?, 1)",
                        (type_id, f"type {type_id}", f"type {type_id}", f"type{type_id}"),
                    )
                    types.add(type_id)
                docs.append(
                    (
                        doc_id,
                        type_id,
                        int(number.split("-")[1]),
                        number,
                        values.get("groundcode: title"),
                        text,
                        values.get("groundcode: content hash")
                        or hashlib.sha256(text.encode()).hexdigest(),
                        archive.name,
                        doc_id,
                        batch,
                        values.get("groundcode: status") or "included",
                        values.get("groundcode: split"),
                        stamp,
                    )
                )
                spans = []
                for idx, token in enumerate((values.get("groundcode: passages") or "").split(), 1):
                    a, b = (int(x) for x in token.split("-"))
                    passage_id += 1
                    passages.append((passage_id, doc_id, idx, a, b, text[a:b]))
                    spans.append((a, b, passage_id))
                ranks = (values.get("groundcode: codings") or "").split()
                i = 0
                for sel in el.iter(q + "PlainTextSelection"):
                    a, b = int(sel.get("startPosition") or 0), int(sel.get("endPosition") or 0)
                    k = bisect_right(spans, (a, float("inf"), 0)) - 1
                    pid = spans[k][2] if k >= 0 and spans[k][1] >= b else None
                    for c in sel.findall(q + "Coding"):
                        ref = c.find(q + "CodeRef")
                        rank, _, us = (ranks[i] if i < len(ranks) else f"{position}:0").partition(
                            ":"
                        )
                        at = epoch + timedelta(microseconds=int(us.split(":")[0] or 0))
                        codings.append(
                            (
                                int(rank),
                                position,
                                users.get(c.get("creatingUser") or "", 1),
                                concepts.get(
                                    ref.get("targetGUID") or "" if ref is not None else ""
                                ),
                                doc_id,
                                pid,
                                a,
                                b,
                                text[a:b][:4000],
                                str(at)[:26],
                            )
                        )
                        i += 1
                        position += 1
                for name, value in values.items():
                    for kind, prefix in (
                        ("done", "groundcode: done "),
                        ("assigned", "groundcode: assigned "),
                    ):
                        if name.startswith(prefix) and name[len(prefix) :] in coders:
                            pairs[kind].append((coders[name[len(prefix) :]], doc_id, value))
                el.clear()
                if len(docs) >= 1000:
                    flush()
    flush()
    codings.sort()
    con.executemany(
        "INSERT OR IGNORE INTO coding (coder_id, concept_id, document_id, passage_id, start, "
        '"end", snippet, assisted, created_at) VALUES (?,?,?,?,?,?,?,0,?)',
        [c[2:] for c in codings if c[3] is not None],
    )
    con.execute(
        "INSERT INTO audit_log (at, actor, action, entity, entity_id, after, undone) "
        "VALUES (?, NULL, 'qdpx.import', 'import_batch', ?, ?, 0)",
        (stamp, batch, json.dumps({"documents": doc_id, "codings": len(codings)})),
    )
    con.execute("COMMIT")
    con.close()
    zf.close()
    return {
        "seconds": time.perf_counter() - t0,
        "cpu": time.process_time() - c0,
        "documents": doc_id,
        "codings": len(codings),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("name", choices=sorted(LIMITS))
    ap.add_argument("--db", default=str(ROOT / "bench" / "data" / "bench.db"))
    ap.add_argument("--data", default=str(ROOT / "bench" / "data"))
    ap.add_argument("--what", default="segments")
    ap.add_argument("--arg", default=None)
    args = ap.parse_args()
    emit({"t": LIMITS[args.name](args)})


if __name__ == "__main__":
    main()
