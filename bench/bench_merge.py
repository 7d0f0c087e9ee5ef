"""A long ``codebook merge``: 60 coded concepts folded into one, step by step.

    python bench/bench_merge.py [--per-concept 2000] [--out DIR]

Builds a fresh project (one comment per document, 60 concepts each coded on
``--per-concept`` documents by one coder, the target concept on half of the
same passages so every step also drops duplicates), then merges the 60 into
the target with a progress callback and prints, as JSON:

* ``merge_s``: the whole merge (what one transaction used to hold the write lock for)
* ``longest_step_s``: the longest gap between two progress reports, i.e. the
  longest time the write lock is held at once now
* ``steps``: progress reports received (one per source)

Standalone on purpose (``bench/run.py`` belongs to the large-project suite).
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
from pathlib import Path

from groundcode.project import Project

N_CONCEPTS = 60


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-concept", type=int, default=2000)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="gc-merge-"))
    out.mkdir(parents=True, exist_ok=True)
    n_docs = args.per_concept
    corpus = out / "comments.csv"
    with corpus.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["title", "text"])
        w.writerows([str(i), f"第{i}条评论：健康码数据共享与互认。"] for i in range(1, n_docs + 1))
    codings = out / "codings.csv"
    with codings.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["document", "passage", "code", "coder"])
        for k in range(N_CONCEPTS):
            for i in range(1, n_docs + 1):
                w.writerow([f"4-{i}", 1, f"概念{k}", "lin"])
        for i in range(1, n_docs + 1, 2):
            w.writerow([f"4-{i}", 1, "目标概念", "lin"])
    db = out / "merge.db"
    with Project.create(db) as p:
        p.coding.add_coder("chen", role="lead")
        lead = p.as_user("chen")
        lead.coding.add_coder("lin")
        lead.corpus.import_files([corpus], type=4)
        lead.coding.import_csv(codings)
        stamps: list[float] = []
        t0 = time.perf_counter()
        lead.codebook.merge(
            "concept",
            [f"概念{k}" for k in range(N_CONCEPTS)],
            "目标概念",
            progress=lambda _d, _t: stamps.append(time.perf_counter()),
        )
        total = time.perf_counter() - t0
    gaps = [b - a for a, b in zip([t0, *stamps], stamps, strict=False)]
    print(
        json.dumps(
            {
                "codings": N_CONCEPTS * n_docs + (n_docs + 1) // 2,
                "merge_s": round(total, 3),
                "longest_step_s": round(max(gaps), 3),
                "steps": len(stamps),
            }
        )
    )


if __name__ == "__main__":
    main()
