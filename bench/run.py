"""Measure SPEC §8's budgets on the reference large project and print a table.

    python bench/run.py [--data bench/data] [--skip-build] [--only NAME,...]

Builds the data with ``bench/make_corpus.py`` when missing, then a project
``bench/data/bench.db`` from it, and times each operation through the same
service calls the CLI and the TUI make. Memory figures are peak resident set
sizes of child processes. Numbers are informational: tests never assert on
time (DEVELOPERS.md rule 4).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RESULTS: list[tuple[str, str, str, str]] = []


def record(name: str, value: float, unit: str, budget: str) -> None:
    shown = (
        f"{value:.3f}"
        if unit == "s"
        else (f"{value:.1f}" if isinstance(value, float) else str(value))
    )
    RESULTS.append((name, shown, unit, budget))
    print(f"  {name}: {shown} {unit} (budget {budget})", flush=True)


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    best = float("inf")
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def child(code: str) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter; it prints one JSON object; peak RSS is added."""
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return data


def build(data: Path, db: Path) -> None:
    from groundcode.project import Project

    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    with Project.create(db, name="bench") as p:
        p.coding.add_coder("lead", role="lead")
        lead = p.as_user("lead")
        lead.coding.add_coder("coder_a")
        lead.coding.add_coder("coder_b")
        lead.codebook.import_yaml(data / "codebook.yaml")
        t, _ = timed(
            lambda: lead.corpus.import_files(
                [data / "documents.jsonl"], type=2, segment="paragraph"
            )
        )
        record("import 2,000 long documents (jsonl)", t, "s", "-")
    code = (
        "import json,time,resource\n"
        "from groundcode.project import Project\n"
        f"p=Project.open({str(db)!r}, user='lead')\n"
        "t=time.perf_counter()\n"
        f"p.corpus.import_files([{str(data / 'comments.csv')!r}], type=4)\n"
        "t=time.perf_counter()-t\n"
        "print(json.dumps({'t':t,'rss':__import__('bench.bench_tui', fromlist=['x']).peak_rss_mb()}))\n"
    )
    r = child(code)
    record("import 100k comments from CSV", r["t"], "s", "<= 15 s")
    with Project.open(db, user="lead") as p:
        t, n = timed(lambda: p.corpus.build_search_index())
        record(f"build the search index after import ({n:,} passages)", t, "s", "- (background)")
        t, res = timed(lambda: p.coding.import_csv(data / "codings.csv"))
        record(f"import {res.codings:,} codings from CSV (one transaction)", t, "s", "-")
        p.corpus.split()


def run(db: Path, only: set[str] | None) -> None:
    from groundcode.project import Project

    def want(name: str) -> bool:
        return only is None or name in only

    if want("dedup"):
        code = (
            "import json,time,resource\n"
            "from groundcode.project import Project\n"
            f"p=Project.open({str(db)!r}, user='lead')\n"
            "t=time.perf_counter()\n"
            "r=p.corpus.dedup(dry_run=True)\n"
            "t=time.perf_counter()-t\n"
            "print(json.dumps({'t':t,'groups':len(r.groups),'rss':__import__('bench.bench_tui', fromlist=['x']).peak_rss_mb()}))\n"
        )
        r = child(code)
        record(
            f"near-duplicate pass over all documents ({r['groups']} groups)", r["t"], "s", "<= 60 s"
        )
        record("near-duplicate pass, peak memory", r["rss"], "MB", "<= 2048 MB")
    with Project.open(db, user="lead") as p:
        if want("search"):
            for term in ("红码", "健康码互认", "数据共享平台"):
                t, res = timed(lambda term=term: p.corpus.search(term, limit=50), repeat=3)
                record(f"corpus search '{term}' ({res.total:,} hits)", t, "s", "<= 0.2 s")
        if want("agree"):
            t, res = timed(lambda: p.analysis.agreement(coders=["coder_a", "coder_b"]), repeat=2)
            record(f"agree, 2 coders, passage unit ({res.n_units:,} units)", t, "s", "<= 2 s")
            # The same per-code kappas by a plain loop of scikit-learn over dense 0/1 columns.
            import numpy as np
            from sklearn.metrics import cohen_kappa_score

            data = res.to_json()
            rows = data["per_code"]
            t0 = time.perf_counter()
            for r in rows:
                n = r["both"] + r["a_only"] + r["b_only"] + r["neither"]
                a = np.zeros(n, dtype=np.int8)
                b = np.zeros(n, dtype=np.int8)
                a[: r["both"] + r["a_only"]] = 1
                b[: r["both"]] = 1
                b[r["both"] + r["a_only"] : r["both"] + r["a_only"] + r["b_only"]] = 1
                cohen_kappa_score(a, b)
            loop = time.perf_counter() - t0
            from groundcode.analysis.agreement_core import compute_agreement

            with (
                p.db.read() as s
            ):  # the service's own data preparation, to time the statistics alone
                picked = p.analysis._pick_coders(s, ["coder_a", "coder_b"])  # noqa: SLF001
                frame = p.analysis._coded_frame(s, [c.id for c in picked], "all")  # noqa: SLF001
                long_rows = p.analysis._passage_units(s, frame, picked, "concept")  # noqa: SLF001
            t0 = time.perf_counter()
            compute_agreement(long_rows, coders=["coder_a", "coder_b"])
            stats_only = time.perf_counter() - t0
            record("  of which the statistics (all codes at once)", stats_only, "s", "-")
            record("  the same per-code kappas by a scikit-learn loop", loop, "s", "-")
            record("  vectorised statistics vs. the loop, speed-up", loop / stats_only, "x", "-")
        if want("saturation"):
            t, _ = timed(lambda: p.analysis.saturation(coder="coder_a"), repeat=2)
            record("saturation (holdout test + curve)", t, "s", "<= 2 s")
        if want("export"):
            import tempfile

            with tempfile.TemporaryDirectory() as tmp:
                t, _ = timed(
                    lambda: p.exports.tables(fmt="xlsx", out_dir=Path(tmp) / "t", coder="coder_a")
                )
                record("all tables to xlsx", t, "s", "<= 5 s")
                t, _ = timed(lambda: p.interchange.export_qdpx(Path(tmp) / "p.qdpx"))
                record("whole project to .qdpx", t, "s", "-")
        if want("coding"):
            a = p.as_user("coder_a")
            t, _ = timed(lambda: a.coding.apply("4-99999", "概念001", passage=1), repeat=1)
            t2, _ = timed(lambda: a.coding.apply("2-1999", "概念002", passage=3), repeat=1)
            record("apply one coding (service call, committed)", max(t, t2), "s", "<= 0.05 s")
            t, _ = timed(lambda: a.coding.document_codings("2-1999"), repeat=3)
            record("read a long document's codings", t, "s", "-")
            t, _ = timed(lambda: p.coding.cooccurrence(coders=["coder_a"]))
            record("co-occurrence matrix (coder_a, 300 concepts)", t, "s", "-")
            t, _ = timed(lambda: p.coding.frequencies(by="type", coders=["coder_a"]))
            record("code frequencies by source type", t, "s", "-")
    if want("tui"):
        try:
            from bench.bench_tui import measure

            for name, value, unit, budget in measure(db):
                record(name, value, unit, budget)
        except ImportError as exc:
            print(f"  (TUI benchmark unavailable: {exc})")
    if want("words"):
        try:
            from bench.bench_words import measure as measure_words

            for name, value, unit, budget in measure_words(db):
                record(name, value, unit, budget)
        except ImportError as exc:
            print(f"  (words benchmark unavailable: {exc})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT / "bench" / "data")
    ap.add_argument("--skip-build", action="store_true")
    ap.add_argument(
        "--only",
        default=None,
        help="comma-separated: dedup,search,agree,saturation,export,coding,tui,words",
    )
    args = ap.parse_args()
    data: Path = args.data
    if not (data / "comments.csv").exists():
        from bench.make_corpus import make

        print("generating the reference data ...", flush=True)
        make(data)
    db = data / "bench.db"
    if not args.skip_build or not db.exists():
        print("building the project ...", flush=True)
        build(data, db)
    only = set(args.only.split(",")) if args.only else None
    run(db, only)
    print()
    print("| operation | measured | unit | budget |\n|---|---|---|---|")
    for name, value, unit, budget in RESULTS:
        print(f"| {name} | {value} | {unit} | {budget} |")
    print(
        f"\n(peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; "
        f"{os.cpu_count()} cores)"
    )


if __name__ == "__main__":
    main()
