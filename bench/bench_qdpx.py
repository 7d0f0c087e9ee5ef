"""The whole project to ``.qdpx`` and back, beside the limit of the same work.

    python -m bench.bench_qdpx --db bench/data/bench.db

``bench/run.py`` calls :func:`measure`. Each part runs in its own interpreter,
so its peak memory (VmHWM) is its own:

* export: ``InterchangeService.export_qdpx`` of the whole project (as the lead);
* import: that archive into a fresh project (one transaction, streamed);
* import limit: the minimal program doing the import's work on the same
  archive (:func:`import_limit`);
* limit: the minimal program doing the export's work on the same data: read
  the same texts, zip them, plus a ``project.qde`` of the same size written
  by a streaming XML writer (``xml.sax.saxutils.XMLGenerator``) straight into
  its zip entry.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import emit, run_child  # noqa: E402

GOAL = "≤ 3x limit, ≤ 1 GB"


def _lead(db: Path) -> str | None:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = con.execute("SELECT name FROM coder WHERE role = 'lead' ORDER BY id").fetchone()
    finally:
        con.close()
    return row[0] if row else None


def export(db: Path, out: Path) -> dict[str, Any]:
    from groundcode.project import Project

    with Project.open(db, user=_lead(db)) as p:
        t0, c0 = time.perf_counter(), time.process_time()
        p.interchange.export_qdpx(out, force=True)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    with zipfile.ZipFile(out) as zf:
        qde = zf.getinfo("project.qde").file_size
    return {"seconds": seconds, "cpu": cpu, "bytes": out.stat().st_size, "qde_bytes": qde}


def import_(archive: Path, target: Path) -> dict[str, Any]:
    from groundcode.project import Project

    with Project.create(target) as p:
        t0, c0 = time.perf_counter(), time.process_time()
        result = p.interchange.import_qdpx(archive)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {
        "seconds": seconds,
        "cpu": cpu,
        "documents": result.documents,
        "codings": result.codings,
    }


def limit(db: Path, qde_bytes: int, out: Path) -> dict[str, Any]:
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


def import_limit(archive: Path, target: Path) -> dict[str, Any]:
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

    from bench.limits import connect
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


def measure(db: Path) -> list[dict[str, Any]]:
    """Rows for ``bench/run.py``: export and import, each with its limit and peak memory."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-qdpx-"))
    try:
        archive = tmp / "project.qdpx"
        ex = run_child(["-m", "bench.bench_qdpx", "export", "--db", str(db), "--out", str(archive)])
        lim = run_child(
            [
                "-m",
                "bench.bench_qdpx",
                "limit",
                "--db",
                str(db),
                "--out",
                str(tmp / "limit.qdpx"),
                "--bytes",
                str(ex["qde_bytes"]),
            ]
        )
        im = run_child(
            [
                "-m",
                "bench.bench_qdpx",
                "import",
                "--db",
                str(tmp / "back.db"),
                "--out",
                str(archive),
            ]
        )
        im_lim = run_child(
            [
                "-m",
                "bench.bench_qdpx",
                "import-limit",
                "--db",
                str(tmp / "limit-back.db"),
                "--out",
                str(archive),
            ]
        )
        mb = ex["bytes"] / 1e6
        # CPU seconds beside wall seconds: the machine is shared, and the ratio of
        # CPU times is the fairer comparison when other work competes for the cores.
        return [
            {
                "name": f"whole project to .qdpx ({mb:.0f} MB, project.qde {ex['qde_bytes'] / 1e6:.0f} MB)",
                "value": ex["seconds"],
                "unit": "s",
                "goal": GOAL,
                "limit": lim["seconds"],
                "hwm_mb": ex["hwm_mb"],
                "cpu": ex["cpu"],
                "limit_cpu": lim["cpu"],
            },
            {
                "name": "limit: same texts zipped + same-size XML, streamed",
                "value": lim["seconds"],
                "unit": "s",
                "goal": "",
                "hwm_mb": lim["hwm_mb"],
                "cpu": lim["cpu"],
            },
            {
                "name": f".qdpx import into a new project ({im['documents']} documents, "
                f"{im['codings']} codings, one transaction)",
                "value": im["seconds"],
                "unit": "s",
                "goal": GOAL,
                "limit": im_lim["seconds"],
                "hwm_mb": im["hwm_mb"],
                "cpu": im["cpu"],
                "limit_cpu": im_lim["cpu"],
            },
            {
                "name": "limit: iterparse + the same rows into the same schema, one transaction",
                "value": im_lim["seconds"],
                "unit": "s",
                "goal": "",
                "hwm_mb": im_lim["hwm_mb"],
                "cpu": im_lim["cpu"],
            },
        ]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "part",
        nargs="?",
        choices=["export", "import", "limit", "import-limit", "all"],
        default="all",
    )
    ap.add_argument("--db", type=Path, default=ROOT / "bench" / "data" / "bench.db")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--bytes", type=int, default=0)
    args = ap.parse_args()
    if args.part == "export":
        emit(export(args.db, args.out))
    elif args.part == "import":
        emit(import_(args.out, args.db))
    elif args.part == "import-limit":
        emit(import_limit(args.out, args.db))
    elif args.part == "limit":
        emit(limit(args.db, args.bytes, args.out))
    else:
        for r in measure(args.db):
            ratio = f"  ({r['value'] / r['limit']:.2f}x limit)" if r.get("limit") else ""
            cpu = f", CPU {r['cpu']:.1f} s" if r.get("cpu") is not None else ""
            if r.get("limit_cpu"):
                cpu += f" ({r['cpu'] / r['limit_cpu']:.2f}x the limit's CPU)"
            print(f"{r['name']}: {r['value']:.2f} s{ratio}{cpu}, peak {r['hwm_mb']:.0f} MB")


if __name__ == "__main__":
    main()
