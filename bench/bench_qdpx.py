"""The whole project to ``.qdpx`` and back, beside the limit of the same work.

    python -m bench.bench_qdpx --db bench/data/bench.db

``bench/run.py`` calls :func:`measure`. Each part runs in its own interpreter,
so its peak memory (VmHWM) is its own:

* export: ``InterchangeService.export_qdpx`` of the whole project (as the lead);
* import: that archive into a fresh project (one transaction, streamed);
* import limit: the minimal program doing the import's work on the same
  archive (``bench.limits.qdpx_import``);
* limit (``bench.limits.qdpx_export``): the minimal program doing the export's work on the same data: read
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
from bench.limits import qdpx_export as limit  # noqa: E402
from bench.limits import qdpx_import as import_limit  # noqa: E402

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
