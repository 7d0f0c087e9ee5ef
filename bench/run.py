"""Measure SPEC §8's budgets on the reference large project, each beside the machine's limit.

    python bench/run.py [--data bench/data] [--skip-build] [--only STEP,...]

Builds the data with ``bench/make_corpus.py`` when missing, then the project
``bench/data/bench.db`` from it through the same service calls the CLI and
the TUI make. Every step runs in a fresh interpreter (``--step NAME``), so the
peak memory printed beside it (VmHWM) is that step's own; every limit
(``bench/limits.py``: the minimal program doing the same work on the same data)
runs in another. Small operations are medians of repeated runs: the machine is
shared. Numbers are informational: tests never assert on time.

Steps: build, import_comments, import_codings, search, pages, coding,
open_document, segments_xlsx, tables, qdpx, agreement, saturation, tui,
growth (and, on request, dedup and words). Steps of other benchmark modules
(``bench/bench_qdpx.py``, ``bench_agreement.py``, ``bench_saturation.py``)
run when the module exists; each offers ``measure(db) -> rows``, a row being
``(operation, value, unit, goal)`` or a dict with those keys and optionally
``limit`` (seconds) and ``hwm_mb``.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import emit, median_cpu, once, run_child, snapshot, vmhwm_mb  # noqa: E402

Row = dict[str, Any]
STEPS: dict[str, Callable[[argparse.Namespace], list[Row]]] = {}
DEFAULT = [
    "build",
    "import_comments",
    "import_codings",
    "search",
    "pages",
    "coding",
    "open_document",
    "segments_xlsx",
    "tables",
    "qdpx",
    "agreement",
    "saturation",
    "tui",
    "growth",
]
OPTIONAL = ["dedup", "words"]
EXTERNAL = {
    "qdpx": "bench.bench_qdpx",
    "agreement": "bench.bench_agreement",
    "saturation": "bench.bench_saturation",
    "words": "bench.bench_words",
    "tui": "bench.bench_tui",
}
GB = "≤ 1 GB"


def step(name: str) -> Callable[[Callable[[argparse.Namespace], list[Row]]], Any]:
    def deco(fn: Callable[[argparse.Namespace], list[Row]]) -> Any:
        STEPS[name] = fn
        return fn

    return deco


def row(
    name: str,
    value: float,
    unit: str = "s",
    goal: str = "",
    limit: dict[str, Any] | None = None,
    hwm: float | None = None,
) -> Row:
    """One table row; ``limit`` names a ``bench/limits.py`` run whose time is the limit."""
    return {
        "name": name,
        "value": value,
        "unit": unit,
        "goal": goal,
        "limit_of": limit,
        "hwm_mb": hwm,
    }


def data_dir(args: argparse.Namespace) -> Path:
    return Path(args.data)


# -- building the reference project ---------------------------------------
@step("build")
def build_base(args: argparse.Namespace) -> list[Row]:
    """Project, coders, codebook and the 2,000 long documents: ``base.db``."""
    from groundcode.project import Project

    data = data_dir(args)
    db = data / "base.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    with Project.create(db, name="bench") as p:
        p.coding.add_coder("lead", role="lead")
        lead = p.as_user("lead")
        lead.coding.add_coder("coder_a")
        lead.coding.add_coder("coder_b")
        lead.codebook.import_yaml(data / "codebook.yaml")
        t, _ = once(
            lambda: lead.corpus.import_files(
                [data / "documents.jsonl"], type=2, segment="paragraph"
            )
        )
    return [row("import 2,000 long documents (jsonl)", t, hwm=vmhwm_mb())]


@step("import_comments")
def import_comments(args: argparse.Namespace) -> list[Row]:
    from groundcode.project import Project

    data = data_dir(args)
    db = data / "comments.db"
    snapshot(data / "base.db", db)
    with Project.open(db, user="lead") as p:
        t, rep = once(lambda: p.corpus.import_files([data / "comments.csv"], type=4))
    n = sum(f.documents for f in rep.files)
    return [
        row(
            f"import {n:,} comments from CSV (one file, all-or-nothing)",
            t,
            goal="≤ 3x limit, " + GB,
            limit={"name": "import_comments", "db": str(data / "base.db")},
            hwm=vmhwm_mb(),
        )
    ]


@step("import_codings")
def import_codings(args: argparse.Namespace) -> list[Row]:
    """Codings into a copy of ``comments.db``; then the search index and split: ``bench.db``."""
    from groundcode.project import Project

    data = data_dir(args)
    work = data / "work.db"
    snapshot(data / "comments.db", work)
    with Project.open(work, user="lead") as p:
        t, res = once(lambda: p.coding.import_csv(data / "codings.csv"))
        hwm = vmhwm_mb()
        t_index, n = once(lambda: p.corpus.build_search_index())
        p.corpus.split()
    p.close()
    snapshot(work, data / "bench.db")
    for suffix in ("", "-wal", "-shm"):
        Path(str(work) + suffix).unlink(missing_ok=True)
    return [
        row(
            f"import {res.codings:,} codings from CSV (one transaction)",
            t,
            goal="≤ 3x limit, " + GB,
            limit={"name": "import_codings", "db": str(data / "comments.db")},
            hwm=hwm,
        ),
        row(f"build the search index ({n:,} passages, background in the TUI)", t_index),
    ]


# -- reading ---------------------------------------------------------------
def bench_db(args: argparse.Namespace) -> Path:
    return Path(args.db) if args.db else data_dir(args) / "bench.db"


@step("search")
def search(args: argparse.Namespace) -> list[Row]:
    from groundcode.project import Project

    db = bench_db(args)
    out = []
    with Project.open(db, user="lead") as p:
        for term, goal in (("红码", "≤ 0.05 s"), ("健康码互认", "≤ 0.05 s"), ("数据共享平台", "")):
            t, res = median_cpu(lambda term=term: p.corpus.search(term, limit=50), repeat=7)
            out.append(
                row(
                    f"search '{term}': count and first page ({res.total:,} hits)",
                    t,
                    goal=goal,
                    limit={"name": "search", "db": str(db), "arg": term},
                )
            )
    out[-1]["hwm_mb"] = vmhwm_mb()
    return out


def page_figures(p: Any, concept: str = "概念010") -> dict[str, tuple[float, int]]:
    """Median time of each paged list's first page, and the size of the list it pages."""
    out: dict[str, tuple[float, int]] = {}
    coding = p.coding
    if hasattr(coding, "segments_page"):
        t, _ = median_cpu(lambda: coding.segments_page(concept, limit=50), repeat=21)
        out["segments"] = (t, coding.segments_count(concept))
    else:
        t, df = median_cpu(lambda: coding.codings(concept=concept).head(50), repeat=3)
        out["segments"] = (t, len(df))
    if hasattr(p.corpus, "documents_page"):
        t, _ = median_cpu(lambda: p.corpus.documents_page(limit=50), repeat=21)
        out["documents"] = (t, p.corpus.documents_count())
    else:
        t, df = median_cpu(lambda: p.corpus.documents().head(50), repeat=3)
        out["documents"] = (t, len(df))
    if hasattr(coding, "codings_page"):
        t, _ = median_cpu(lambda: coding.codings_page(limit=50), repeat=21)
        out["codings"] = (t, coding.codings_count())
    else:
        t, df = median_cpu(lambda: coding.codings().head(50), repeat=3)
        out["codings"] = (t, len(df))
    if hasattr(coding, "memos_page"):
        t, _ = median_cpu(lambda: coding.memos_page(limit=50), repeat=21)
        out["memos"] = (t, len(coding.memos()))
    else:
        t, df = median_cpu(lambda: coding.memos().head(50), repeat=3)
        out["memos"] = (t, len(df))
    return out


def count_figures(p: Any, concept: str = "概念010") -> list[Row]:
    """The separate counts a screen shows beside its first page."""
    out = []
    if hasattr(p.coding, "segments_count"):
        t, n = median_cpu(lambda: p.coding.segments_count(concept), repeat=21)
        out.append(row(f"count of a code's segments ({n:,})", t, goal="≤ 0.02 s"))
    if hasattr(p.corpus, "documents_count"):
        t, n = median_cpu(lambda: p.corpus.documents_count(), repeat=21)
        out.append(row(f"count of documents ({n:,})", t, goal="≤ 0.02 s"))
    if hasattr(p.coding, "codings_count"):
        t, n = median_cpu(lambda: p.coding.codings_count(), repeat=11)
        out.append(row(f"count of codings ({n:,}, an index count: grows)", t))
    return out


def disagreement_figure(p: Any) -> tuple[float, int] | None:
    analysis = p.analysis
    if not hasattr(analysis, "disagreements_page"):
        return None
    result = analysis.agreement(coders=["coder_a", "coder_b"])
    t, _ = median_cpu(lambda: analysis.disagreements_page(result=result, limit=50), repeat=21)
    return t, len(result.disagreements)


def ensure_memos(p: Any, n: int = 300) -> None:
    """Give the project some coding memos so the memo page has rows (idempotent)."""
    if len(p.coding.memos()) >= n:
        return
    a = p.as_user("coder_a")
    for i in range(n):
        a.coding.add_memo("document", f"4-{i + 1}", f"备忘{i}：健康码互认的讨论")


@step("pages")
def pages(args: argparse.Namespace) -> list[Row]:
    from groundcode.project import Project

    db = bench_db(args)
    with Project.open(db, user="lead") as p:
        ensure_memos(p)
        figs = page_figures(p)
        counts = count_figures(p)
        dis = disagreement_figure(p)
    labels = {
        "segments": ("a code's first page of segments (概念010, 50 of {n:,})", "segments"),
        "documents": ("documents list, first page (50 of {n:,})", "documents"),
        "codings": ("codings list, first page (50 of {n:,})", "codings"),
        "memos": ("memos list, first page (50 of {n:,})", "memos"),
    }
    out = [
        row(
            label.format(n=figs[key][1]),
            figs[key][0],
            goal="≤ 0.02 s",
            limit={"name": "page", "db": str(db), "what": what},
        )
        for key, (label, what) in labels.items()
    ]
    if dis is not None:
        out.append(
            row(
                f"disagreements list, first page (50 of {dis[1]:,})",
                dis[0],
                goal="≤ 0.02 s",
                limit={"name": "page", "db": str(db), "what": "passages"},
            )
        )
    out.extend(counts)
    out[-1]["hwm_mb"] = vmhwm_mb()
    return out


def coding_p50(p: Any, n: int = 60, base: int = 60_000) -> float:
    """p50 of one committed coding through the service (passage form, distinct comments)."""
    a = p.as_user("coder_a")
    times = []
    for i in range(n):
        t0 = time.process_time()
        a.coding.apply(f"4-{base + i}", f"概念{1 + i % 300:03d}", passage=1)
        times.append(time.process_time() - t0)
    return statistics.median(times[5:])


def open_document_time(p: Any, number: str = "2-1500") -> float:
    """A document and its codings, as the coding screen reads them."""
    a = p.as_user("coder_a")

    def run() -> Any:
        a.corpus.document(number)
        return a.coding.document_codings(number)

    t, _ = median_cpu(run, repeat=21)
    return t


def scratch(db: Path) -> tuple[tempfile.TemporaryDirectory[str], Path]:
    tmp = tempfile.TemporaryDirectory(dir=db.parent)
    out = Path(tmp.name) / "scratch.db"
    snapshot(db, out)
    return tmp, out


@step("coding")
def coding(args: argparse.Namespace) -> list[Row]:
    from groundcode.project import Project

    db = bench_db(args)
    tmp, work = scratch(db)
    with tmp, Project.open(work, user="lead") as p:
        t = coding_p50(p)
    return [
        row(
            "one committed coding, service call (p50 of 55)",
            t,
            goal="≤ 0.001 s",
            limit={"name": "coding", "db": str(db)},
            hwm=vmhwm_mb(),
        )
    ]


@step("open_document")
def open_document(args: argparse.Namespace) -> list[Row]:
    from groundcode.project import Project

    db = bench_db(args)
    with Project.open(db, user="lead") as p:
        t = open_document_time(p)
    return [
        row(
            "open a long document with its codings (service)",
            t,
            goal="≤ 0.05 s",
            limit={"name": "open_document", "db": str(db), "arg": "2-1500"},
            hwm=vmhwm_mb(),
        )
    ]


@step("segments_xlsx")
def segments_xlsx(args: argparse.Namespace) -> list[Row]:
    from groundcode.project import Project

    db = bench_db(args)
    with Project.open(db, user="lead") as p, tempfile.TemporaryDirectory() as tmp:
        t, _ = once(lambda: p.exports.segments(Path(tmp) / "s.xlsx", coders=["coder_a"]))
    return [
        row(
            "export segments to xlsx (coder_a, ~200k rows)",
            t,
            goal="≤ 3x limit, " + GB,
            limit={"name": "segments_xlsx", "db": str(db), "arg": "coder_a"},
            hwm=vmhwm_mb(),
        )
    ]


@step("tables")
def tables(args: argparse.Namespace) -> list[Row]:
    from groundcode.project import Project

    db = bench_db(args)
    with Project.open(db, user="lead") as p, tempfile.TemporaryDirectory() as tmp:
        t, _ = once(lambda: p.exports.tables(fmt="xlsx", out_dir=Path(tmp) / "t", coder="coder_a"))
    return [row("all paper tables to xlsx", t, goal="≤ 5 s", hwm=vmhwm_mb())]


@step("dedup")
def dedup(args: argparse.Namespace) -> list[Row]:
    from groundcode.project import Project

    with Project.open(bench_db(args), user="lead") as p:
        t, r = once(lambda: p.corpus.dedup(dry_run=True))
    return [
        row(
            f"near-duplicate pass over all documents ({len(r.groups)} groups)",
            t,
            goal="≤ 60 s",
            hwm=vmhwm_mb(),
        )
    ]


def external(module: str) -> Callable[[argparse.Namespace], list[Row]]:
    def run(args: argparse.Namespace) -> list[Row]:
        mod = importlib.import_module(module)
        out = []
        for r in mod.measure(bench_db(args)):
            if isinstance(r, dict):
                out.append(
                    row(
                        r["name"],
                        r["value"],
                        r.get("unit", "s"),
                        r.get("goal", ""),
                        hwm=r.get("hwm_mb"),
                    )
                    | {"limit_value": r.get("limit")}
                )
            else:
                name, value, unit, goal = r
                out.append(row(name, value, unit, goal))
        if out and out[-1]["hwm_mb"] is None:
            out[-1]["hwm_mb"] = vmhwm_mb()
        return out

    return run


for _name, _module in EXTERNAL.items():
    if _name not in STEPS:
        STEPS[_name] = external(_module)


@step("tui")
def tui(args: argparse.Namespace) -> list[Row]:
    from bench.bench_tui import measure

    out = []
    for name, value, unit, goal in measure(bench_db(args)):
        r = row(name, value, unit, goal)
        if name.startswith("TUI start to first screen"):
            r["limit_of"] = {"name": "tui_start", "db": str(bench_db(args))}
            r["goal"] = "≤ 0.8 s"
        if name.startswith("TUI corpus search"):
            term = name.split("'")[1]
            r["limit_of"] = {"name": "tui_search", "db": str(bench_db(args)), "arg": term}
            r["goal"] = "≤ 3x limit"
        if unit == "MB":
            r = row(name, value, unit, goal, hwm=value)
        out.append(r)
    return out


# -- growth: the same small operations at 1k, 10k and 100k comments ---------
@step("growth")
def growth(args: argparse.Namespace) -> list[Row]:
    """Paged lists, one coding and opening one planted document at three project sizes.

    Each size is measured in its own interpreter on a copy of its project; a figure more
    than 1.5x its smallest size's counts as growth.
    """
    data = data_dir(args)
    sizes: list[tuple[str, Path]] = []
    for scale, label in ((0.01, "1k"), (0.1, "10k")):
        folder = data / f"growth-{label}"
        db = folder / "bench.db"
        if not db.exists():
            run_child(
                [
                    "bench/run.py",
                    "--step",
                    "growth_build",
                    "--data",
                    str(folder),
                    "--scale",
                    str(scale),
                ]
            )
        sizes.append((label, db))
    sizes.append(("100k", bench_db(args)))
    figures: dict[str, dict[str, float]] = {}
    for label, db in sizes:
        figures[label] = run_child(["bench/run.py", "--step", "growth_measure", "--db", str(db)])
    out = []
    keys = [k for k in figures["100k"] if k != "hwm_mb"]
    for key in keys:
        vals = [figures[label][key] for label, _ in sizes]
        ratio = max(vals) / max(min(vals), 1e-9)
        shown = " / ".join(f"{v * 1000:.2f}" for v in vals)
        verdict = "flat" if ratio <= 1.5 else "grows"
        print(f"  growth {key}: {shown} ms at 1k / 10k / 100k -> {ratio:.2f}x ({verdict})")
        out.append(
            row(
                f"growth of {key}, 1k / 10k / 100k comments: {shown} ms ({verdict})",
                ratio,
                "x",
                "≤ 1.5x",
            )
        )
    return out


@step("growth_build")
def growth_build(args: argparse.Namespace) -> list[Row]:
    from bench.make_corpus import make

    folder = data_dir(args)
    make(folder, scale=args.scale)
    for name in ("build", "import_comments", "import_codings"):
        STEPS[name](args)
    return []


PROBE_PARAGRAPHS = 30
PROBE_CODINGS = 30


def plant_probe(p: Any, db: Path) -> str:
    """Import one fixed document and code it the same way, so every size opens the same work.

    The numbered documents differ between the sizes (``2-5`` at 1k is not ``2-5`` at
    100k: other length, other codings), so opening one of them measures the document,
    not the project's size. The probe is the same seeded text of 30 paragraphs with the
    same 60 codings (two coders, 30 passages) in every project; returns its number.
    """
    from bench.make_corpus import WORDS

    rng = random.Random(16)
    paragraphs = ["".join(rng.choice(WORDS) for _ in range(120)) for _ in range(PROBE_PARAGRAPHS)]
    src = db.parent / "growth-probe.jsonl"
    src.write_text(
        json.dumps({"title": "增长探针", "text": "\n".join(paragraphs)}, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    p.corpus.import_files([src], type=2, segment="paragraph")
    con = sqlite3.connect(str(db))
    try:
        (number,) = con.execute(
            "SELECT number FROM document WHERE title = ? ORDER BY id DESC", ("增长探针",)
        ).fetchone()
    finally:
        con.close()
    for coder in ("coder_a", "coder_b"):
        c = p.as_user(coder)
        for i in range(PROBE_CODINGS):
            c.coding.apply(number, f"概念{1 + i:03d}", passage=1 + i)
    return str(number)


def steady_cpu(fn: Callable[[], Any], blocks: int = 5, per: int = 40, warm: int = 10) -> float:
    """The smallest of ``blocks`` medians of ``per`` timed runs (CPU time), after ``warm``.

    A sub-millisecond figure on a shared machine moves with the other jobs' load
    (caches, frequency); the median of a block absorbs single spikes and the
    minimum over blocks keeps the least disturbed stretch, which is the work's own.
    """
    for _ in range(warm):
        fn()
    medians = []
    for _ in range(blocks):
        times = []
        for _ in range(per):
            t0 = time.process_time()
            fn()
            times.append(time.process_time() - t0)
        medians.append(statistics.median(times))
    return min(medians)


@step("growth_measure")
def growth_measure(args: argparse.Namespace) -> list[Row]:
    """Each operation of the growth step on one size, timed by ``steady_cpu`` (200 runs)."""
    from groundcode.project import Project

    db = bench_db(args)
    tmp, work = scratch(db)
    res: dict[str, float] = {}
    with tmp, Project.open(work, user="lead") as p:
        ensure_memos(p, 60)
        probe = plant_probe(p, work)
        coding, corpus = p.coding, p.corpus
        res["segments page"] = steady_cpu(lambda: coding.segments_page("概念010", limit=50))
        res["documents page"] = steady_cpu(lambda: corpus.documents_page(limit=50))
        res["codings page"] = steady_cpu(lambda: coding.codings_page(limit=50))
        res["memos page"] = steady_cpu(lambda: coding.memos_page(limit=50))
        result = p.analysis.agreement(coders=["coder_a", "coder_b"])
        res["disagreements page"] = steady_cpu(
            lambda: p.analysis.disagreements_page(result=result, limit=50)
        )
        a = p.as_user("coder_a")
        # Distinct comments from a quarter into the corpus, so each call is a new coding.
        base = max(1, corpus.count() // 4)
        counter = iter(range(10_000))

        def one_coding() -> Any:
            i = next(counter)
            return a.coding.apply(f"4-{base + i}", f"概念{1 + i % 300:03d}", passage=1)

        res["one coding"] = steady_cpu(one_coding)

        def open_probe() -> Any:
            a.corpus.document(probe)
            return a.coding.document_codings(probe)

        res["open document (fixed probe)"] = steady_cpu(open_probe)
    print(json.dumps(res))
    return [{"raw": res}]


# -- the driver ------------------------------------------------------------
def run_limit(spec: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    cmd = ["-m", "bench.limits", spec["name"], "--db", spec["db"], "--data", str(args.data)]
    if spec.get("what"):
        cmd += ["--what", spec["what"]]
    if spec.get("arg"):
        cmd += ["--arg", spec["arg"]]
    return run_child(cmd)


def fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"
    if unit == "x":
        return f"{value:.2f}x"
    return f"{value:.0f} {unit}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT / "bench" / "data")
    ap.add_argument("--db", default=None)
    ap.add_argument("--skip-build", action="store_true")
    ap.add_argument("--only", default=None, help="comma-separated step names")
    ap.add_argument("--step", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--scale", type=float, default=1.0, help=argparse.SUPPRESS)
    ap.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = ap.parse_args()

    if args.step:  # a child: run one step, print its rows
        if args.step == "growth_measure":
            growth_measure(args)
            return
        emit({"rows": STEPS[args.step](args)})
        return

    data: Path = args.data
    if not (data / "comments.csv").exists():
        from bench.make_corpus import make

        print("generating the reference data ...", flush=True)
        make(data)
    names = args.only.split(",") if args.only else list(DEFAULT)
    if args.skip_build and not args.only:
        names = [n for n in names if n not in ("build", "import_comments", "import_codings")]
    rows: list[Row] = []
    limit_cache: dict[str, dict[str, Any]] = {}
    for name in names:
        module = EXTERNAL.get(name)
        if module and name != "tui" and importlib.util.find_spec(module) is None:
            print(f"[{name}] skipped: {module} does not exist yet", flush=True)
            continue
        print(f"[{name}] ...", flush=True)
        t0 = time.perf_counter()
        try:
            result = run_child(
                ["bench/run.py", "--step", name, "--data", str(data)]
                + (["--db", args.db] if args.db else [])
            )
        except RuntimeError as exc:
            print(f"[{name}] failed: {exc}", flush=True)
            continue
        step_hwm = result["hwm_mb"]
        for r in result["rows"]:
            if r.get("hwm_mb") is None and r is result["rows"][-1]:
                r["hwm_mb"] = step_hwm
            spec = r.get("limit_of")
            if spec:
                key = json.dumps(spec, sort_keys=True)
                if key not in limit_cache:
                    try:
                        limit_cache[key] = run_limit(spec, args)
                    except RuntimeError as exc:
                        print(f"  limit {spec['name']} failed: {exc}", flush=True)
                        limit_cache[key] = {}
                r["limit_value"] = limit_cache[key].get("t")
            lim = r.get("limit_value")
            ratio = f"{r['value'] / lim:.1f}x" if lim else "-"
            hwm = f"{r['hwm_mb']:.0f} MB" if r.get("hwm_mb") else ""
            print(
                f"  {r['name']}: {fmt(r['value'], r['unit'])}"
                f" | limit {fmt(lim, 's') if lim else '-'} | {ratio} | {hwm} | goal {r['goal'] or '-'}",
                flush=True,
            )
            rows.append(r)
        print(f"[{name}] done in {time.perf_counter() - t0:.0f} s", flush=True)

    print()
    print("| operation | figure | limit | ratio | peak memory | goal |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        lim = r.get("limit_value")
        limit_text = fmt(lim, "s") if lim else ""
        ratio_text = f"{r['value'] / lim:.1f}x" if lim else ""
        hwm_text = f"{r['hwm_mb']:.0f} MB" if r.get("hwm_mb") else ""
        print(
            f"| {r['name']} | {fmt(r['value'], r['unit'])} | {limit_text} | {ratio_text} | "
            f"{hwm_text} | {r['goal']} |"
        )
    print(f"\n({os.cpu_count()} cores; medians of repeated runs for the small operations)")
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
