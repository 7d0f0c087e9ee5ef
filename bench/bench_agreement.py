"""Agreement at the reference size (SPEC §8: ``agree`` without the bootstrap <= 0.6 s), a step of ``bench/run.py``.

    python bench/bench_agreement.py [bench/data/bench.db]

Works on a scratch copy of the reference project (2 coders x 200,000
codings, 300 concepts, 102,000 documents) in which both coders have marked
every included document done. Times, each a median of repeated runs:

* ``agree`` with every statistic (kappa of the right kind, AC1, Scott's pi,
  PABAK, Fleiss, Conger, alpha, per-code tables with p_pos/p_neg/PI/BI and
  alpha, diagnostics with the span-boundary check, the methods sentence)
  and no bootstrap: the SPEC budget;
* the same with the default 1,000-draw bootstrap over units, whose cost is
  reported on its own line;
* its parts: reading and encoding the judgements, and the statistics alone;
* the bootstrap alone: the statistics on the same encoded data with and
  without the 1,000 resamples (no I/O in either, so the difference is stable);
* the limit: the database's own scan of the coding columns the analysis
  needs (aggregated to one string, no Python row objects), i.e. what no
  implementation reading the codings from the project can go below.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import median_time, snapshot, vmhwm_mb  # noqa: E402
from bench.limits import agreement_scan  # noqa: E402

CODERS = ["coder_a", "coder_b"]


def _scratch(db: Path, folder: Path) -> Path:
    return snapshot(db, folder / "agreement.db")


def mark_everything_done(path: Path) -> int:
    """Both coders' done marks on every included document (set up, not measured)."""
    import sqlite3

    con = sqlite3.connect(str(path))
    con.execute(
        "DELETE FROM done_mark WHERE coder_id IN (SELECT id FROM coder WHERE name IN (?, ?))",
        CODERS,
    )
    con.execute(
        "INSERT INTO done_mark (coder_id, document_id, marked_at) SELECT c.id, d.id, "
        "'2026-01-01T00:00:00+00:00' FROM document d, coder c "
        "WHERE d.status = 'included' AND c.name IN (?, ?)",
        CODERS,
    )
    n = int(con.execute("SELECT count(*) FROM done_mark").fetchone()[0])
    con.commit()
    con.close()
    return n


def measure(db: Path) -> list[dict[str, Any]]:
    from groundcode.analysis import agreement_data
    from groundcode.analysis.agreement_core import compute_encoded
    from groundcode.project import Project

    with tempfile.TemporaryDirectory(dir=Path(db).parent) as tmp:
        copy = _scratch(Path(db), Path(tmp))
        marks = mark_everything_done(copy)
        limit = agreement_scan(copy, CODERS)
        with Project.open(copy, user="lead") as p:
            analysis = p.analysis
            t_all, res = median_time(
                lambda: analysis.agreement(coders=CODERS, bootstrap=0), repeat=5
            )
            t_boot, boot = median_time(
                lambda: analysis.agreement(coders=CODERS, bootstrap=1000), repeat=3
            )
            ids = [int(c) for c in _coder_ids(p)]

            def read_and_encode() -> Any:
                with p.ctx.db.read() as s:
                    data = agreement_data.read(s, ids, "all", assisted=True, rule="done")
                return agreement_data.encode(data, ids, CODERS, "concept", "done")

            t_read, encoded = median_time(read_and_encode, repeat=5)
            t_stats, _ = median_time(
                lambda: compute_encoded(encoded[0], judged="done", bootstrap=0), repeat=5
            )
            t_stats_boot, _ = median_time(
                lambda: compute_encoded(encoded[0], judged="done", bootstrap=1000), repeat=5
            )
    return [
        {
            "name": f"agree, all statistics but the bootstrap ({res.n_units:,} passages of "
            f"{res.n_documents:,} documents judged done by both; {marks:,} done marks; "
            f"kappa {res.kappa_kind} {res.kappa:.3f})",
            "value": t_all,
            "goal": "≤ 0.6 s",
            "limit": limit,
            "hwm_mb": vmhwm_mb(),
        },
        {"name": "  of which: reading and encoding the judgements", "value": t_read, "goal": ""},
        {"name": "  of which: the statistics", "value": t_stats, "goal": ""},
        {
            "name": "agree with the default bootstrap (1,000 resamples over units; CIs of "
            f"kappa, AC1, alpha: {len(boot.ci)})",
            "value": t_boot,
            "goal": "",
        },
        {
            "name": "  the bootstrap alone (statistics with 1,000 resamples minus without)",
            "value": max(t_stats_boot - t_stats, 0.0),
            "goal": "reported",
        },
    ]


def _coder_ids(p: Any) -> list[int]:
    from sqlmodel import select

    from groundcode.store.tables import Coder

    with p.ctx.db.read() as s:
        rows = s.execute(select(Coder.id, Coder.name).where(Coder.name.in_(CODERS))).all()  # type: ignore[attr-defined]
    by_name = {name: cid for cid, name in rows}
    return [by_name[c] for c in CODERS]


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "bench" / "data" / "bench.db"
    for r in measure(target):
        value = r["value"]
        unit = r.get("unit", "s")
        shown = f"{value:.3f} s" if unit == "s" else f"{value:g} {unit}"
        extra = f" (limit {r['limit']:.3f} s)" if r.get("limit") else ""
        print(f"{r['name']}: {shown}{extra} {('(' + r['goal'] + ')') if r.get('goal') else ''}")
