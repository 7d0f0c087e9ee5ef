"""Redaction on a project of N coded comments, each holding a phone number and an e-mail.

Builds its own project in a temporary folder (import, search index, one coding
per comment whose span covers the phone number), then times ``redact``: the
masking of every copy, the index triggers, the audit scan and the file's
rewrite (checkpoint and VACUUM).

    PYTHONPATH=. .venv/bin/python bench/bench_redact.py [N]

Measured on the 2-core development machine under load: 20,000 comments in
9.4 s, 100,000 in 37.3 s (about a third of it the search index's triggers).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path


def main(n: int = 20_000) -> None:
    from groundcode.project import Project

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        corpus = folder / "c.csv"
        with corpus.open("w", encoding="utf-8") as fh:
            fh.write("text,title\n")
            for i in range(n):
                fh.write(
                    f"第{i}条评论：健康码互认太慢，我的电话138{10_000_000 + i:08d}，"
                    f"邮箱u{i}@example.org。,标题{i}\n"
                )
        codings = folder / "k.csv"
        codings.write_text(
            "document,start,end,code\n" + "".join(f"4-{i},10,40,互认\n" for i in range(1, n + 1)),
            encoding="utf-8",
        )
        with Project.create(folder / "p.db") as p:
            p.coding.add_coder("chen", role="lead")
            lead = p.as_user("chen")
            lead.corpus.import_files([corpus], type=4)
            lead.corpus.build_search_index()
            lead.coding.import_csv(codings, coder="chen")
            t0 = time.perf_counter()
            report = lead.corpus.redact()
            dt = time.perf_counter() - t0
        print(f"redact, {n:,} coded comments: {dt:.2f} s  {report.to_json()}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
