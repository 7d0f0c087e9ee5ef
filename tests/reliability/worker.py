"""Child processes for the reliability tests (run with ``python -m tests.reliability.worker``).

apply DB CODER N          apply N codings as CODER, print "saved <id>" after each commit
import DB FILE            import FILE (type 4) and print "done"
"""

from __future__ import annotations

import sys

from groundcode.project import Project


def apply(db: str, coder: str, n: int) -> None:
    with Project.open(db, user=coder) as p:
        doc = p.corpus.document("1-1")
        passages = doc.passages
        for i in range(n):
            pas = passages[i % len(passages)]
            c = p.coding.apply(
                "1-1", f"并发概念{i % 17}", start=pas.start, end=pas.end - (i // len(passages)) % 2
            )
            sys.stdout.write(f"saved {c.id}\n")
            sys.stdout.flush()


def import_file(db: str, path: str) -> None:
    with Project.open(db, user="chen") as p:
        p.corpus.import_files([path], type=4)
    sys.stdout.write("done\n")
    sys.stdout.flush()


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "apply":
        apply(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif cmd == "import":
        import_file(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(f"unknown command {cmd}")
