"""A ``.qdpx`` import's memory does not grow with the corpus (issue: read incrementally).

The same generated project at 1,000 and 4,000 sources (texts of 1,100
characters, 2.2 KB each in memory, four codings each) is imported in a fresh
interpreter each, with ``tracemalloc`` counting the Python heap of the import
call alone. Streamed in chunks, each added source costs about 0.6 KB (the zip
directory's entry for its text file, which ``zipfile`` keeps: 6.2 MB and
8.0 MB); the former import, which held the whole read project, cost 10.5 KB
per source (18.6 MB and 50.0 MB). The bound, 1 KB per source, is under half a
text, so any import that keeps the texts fails it. A memory assertion, not a
timed one.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import json, sys, tracemalloc
from pathlib import Path
from groundcode.interchange import service
from groundcode.interchange.model import QdaCode, QdaCoding, QdaProject, QdaSource, QdaUser
from groundcode.interchange.refi_write import write_qdpx
from groundcode.project import Project

n, folder = int(sys.argv[1]), Path(sys.argv[2])
service.SOURCES_PER_CHUNK = 250  # small chunks, so both sizes span several
para = "村里的年轻人大多外出打工了，留下来的主要是老人和孩子。" * 40
codes = [QdaCode(f"concept:{i}", f"概念{i}") for i in range(3)]
sources, codings = [], []
for i in range(n):
    text = f"{i}：{para}"
    sources.append(QdaSource(f"document:{i}", f"来源 {i}", text))
    for j in range(4):
        codings.append(
            QdaCoding(f"coding:{i}:{j}", f"document:{i}", 10 + 50 * j, 30 + 50 * j,
                      f"concept:{j % 3}", "coder:1")
        )
project = QdaProject("memory", "test", [QdaUser("coder:1", "王五")], codes, sources, codings)
write_qdpx(project, folder / "p.qdpx")
del project, sources, codings
with Project.create(folder / "p.db") as p:
    tracemalloc.start()
    result = p.interchange.import_qdpx(folder / "p.qdpx")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
print(json.dumps({"peak": peak, "documents": result.documents, "codings": result.codings}))
"""


def _import_peak(n: int, folder: Path) -> dict[str, int]:
    folder.mkdir()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(n), str(folder)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "GROUNDCODE_LANG": "en"},
    )
    got: dict[str, int] = json.loads(out.stdout.strip().splitlines()[-1])
    return got


def test_import_peak_does_not_grow_with_the_corpus(tmp_path: Path) -> None:
    small = _import_peak(1000, tmp_path / "small")
    large = _import_peak(4000, tmp_path / "large")
    assert (small["documents"], small["codings"]) == (1000, 4000)
    assert (large["documents"], large["codings"]) == (4000, 16000)
    per_source = (large["peak"] - small["peak"]) / 3000
    assert per_source < 1024, (small, large, per_source)
