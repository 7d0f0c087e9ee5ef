"""Saturation at the reference size (SPEC §8: ``saturation`` <= 2 s), a step of ``bench/run.py``.

    python bench/bench_saturation.py [bench/data/bench.db]

Works on a scratch copy of the reference project (2 coders x 200,000 codings,
300 concepts, 102,000 documents): both coders mark every included document done
(one ``done`` call each, itself timed), the lead records the holdout start, and
then the test is timed on one coder's codings and on the consensus (whose open
holdout disagreements are computed over both coders' codings), and with 1,000
seeded permutations of the Guest rule. Beside each basis's figure is its limit
(``bench/limits.py saturation``: the same reads with plain ``sqlite3`` and the
same curve, order and disagreement arithmetic in numpy, no report objects),
run in its own interpreter on the same prepared copy.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import median_time, once, run_child, snapshot, vmhwm_mb  # noqa: E402


def _scratch(db: Path, folder: Path) -> Path:
    return snapshot(db, folder / "saturation.db")


def _limit(db: Path, basis: str) -> float | None:
    """The limit of the same work on the prepared copy, in its own interpreter."""
    try:
        out = run_child(["-m", "bench.limits", "saturation", "--db", str(db), "--arg", basis])
    except RuntimeError as exc:
        print(f"limit saturation {basis} failed: {exc}", file=sys.stderr)
        return None
    return float(out["t"])


def prepare(p: Any) -> dict[str, float]:
    """Done marks on every included document for both coders, then the holdout start."""
    numbers = p.corpus.documents(status="included")["number"].tolist()
    figures: dict[str, float] = {}
    for coder in ("coder_a", "coder_b"):
        p.as_user("lead").progress.assign([coder], split="all")

        def mark(c: str = coder) -> Any:
            return p.as_user(c).progress.done(numbers)

        t, _ = once(mark)
        figures[coder] = t
    if p.progress.holdout_start() is None:
        p.as_user("lead").progress.begin_holdout()
    figures["documents"] = float(len(numbers))
    return figures


def measure(db: Path) -> list[dict[str, Any]]:
    from groundcode.project import Project

    with tempfile.TemporaryDirectory(dir=Path(db).parent) as tmp:
        copy = _scratch(Path(db), Path(tmp))
        with Project.open(copy, user="lead") as p:
            prep = prepare(p)
            lead = p.as_user("lead")
            t_coder, report = median_time(lambda: lead.analysis.saturation(coder="coder_a"), 3)
            hwm_coder = vmhwm_mb()
            t_cons, cons = median_time(lambda: lead.analysis.saturation(), 3)
            hwm_cons = vmhwm_mb()
            t_perm, permuted = once(
                lambda: lead.analysis.saturation(coder="coder_a", permutations=1000)
            )
            hwm = vmhwm_mb()
        lim_coder = _limit(copy, "coder_a")
        lim_cons = _limit(copy, "consensus")
        n = int(prep["documents"])
        return [
            {
                "name": f"mark {n:,} documents done (one call, audited)",
                "value": prep["coder_a"],
                "goal": "",
            },
            {
                "name": f"saturation, one coder's basis ({len(report.curve):,} documents judged)",
                "value": t_coder,
                "goal": "≤ 2 s, ≤ 1 GB",
                "limit": lim_coder,
                "hwm_mb": hwm_coder,
            },
            {
                "name": "saturation, consensus basis (open holdout disagreements of 2 coders; "
                f"{cons.open_disagreements or 0:,} open)",
                "value": t_cons,
                "goal": "≤ 2 s, ≤ 1 GB",
                "limit": lim_cons,
                "hwm_mb": hwm_cons,
            },
            {
                "name": "saturation with 1,000 seeded permutations of the Guest rule",
                "value": t_perm,
                "goal": "≤ 1 GB",
                "hwm_mb": hwm,
            },
        ] + (
            []
            if permuted.guest.permutations is None
            else [
                {
                    "name": "  permutation band of the saturation point (median, 5%, 95%)",
                    "value": permuted.guest.permutations.median or 0.0,
                    "unit": "documents",
                    "goal": "-".join(
                        "none" if v is None else f"{v:g}"
                        for v in (permuted.guest.permutations.p5, permuted.guest.permutations.p95)
                    ),
                }
            ]
        )


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "bench" / "data" / "bench.db"
    for r in measure(target):
        value = r["value"]
        unit = r.get("unit", "s")
        shown = f"{value:.3f} s" if unit == "s" else f"{value:g} {unit}"
        limit = f" | limit {r['limit']:.3f} s, {value / r['limit']:.1f}x" if r.get("limit") else ""
        memory = f" | peak {r['hwm_mb']:.0f} MB" if r.get("hwm_mb") else ""
        goal = f" ({r['goal']})" if r.get("goal") else ""
        print(f"{r['name']}: {shown}{limit}{memory}{goal}")
