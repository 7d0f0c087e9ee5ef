"""kill -9 at random moments: no partial import, and every coding reported as saved survives."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from groundcode.project import Project
from groundcode.store.tables import Coding, Document, ImportBatch, Passage

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
KILLS = 20


def _project(tmp_path: Path) -> str:
    db = str(tmp_path / "crash.db")
    with Project.create(db) as p:
        p.coding.add_coder("chen", role="lead")
        p.as_user("chen").coding.add_coder("lin")
    return db


def _counts(db: str) -> tuple[int, int, int]:
    with Project.open(db) as p, p.db.read() as s:
        docs = s.execute(select(func.count()).select_from(Document)).scalar() or 0
        batches = (
            s.execute(select(func.coalesce(func.sum(ImportBatch.n_documents), 0))).scalar() or 0
        )
        orphans = (
            s.execute(
                select(func.count())
                .select_from(Document)
                .where(~Document.id.in_(select(Passage.document_id)))
            ).scalar()
            or 0
        )  # type: ignore[union-attr]
    return int(docs), int(batches), int(orphans)


def test_killed_imports_leave_no_partial_document(tmp_path: Path) -> None:
    rows = ["text,date"] + [
        f"第{i}条评论：健康码在外地变成黄码，申诉很久才恢复。,2022-03-{1 + i % 28:02d}"
        for i in range(12_000)
    ]
    big = tmp_path / "big.csv"
    big.write_text("\n".join(rows) + "\n", encoding="utf-8")
    rng = random.Random(20)
    # How long one uninterrupted import takes here (interpreter start included), on a scratch project.
    (tmp_path / "scratch").mkdir()
    scratch = _project(tmp_path / "scratch")
    t0 = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "tests.reliability.worker", "import", scratch, str(big)],
        capture_output=True,
        cwd=ROOT,
        env=ENV,
        check=True,
    )
    duration = time.monotonic() - t0
    killed = 0
    for k in range(KILLS):
        # A fresh project each time, so every run really imports (a finished import makes reruns no-ops).
        (tmp_path / f"run{k}").mkdir()
        db = _project(tmp_path / f"run{k}")
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.worker", "import", db, str(big)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            env=ENV,
        )
        time.sleep(rng.uniform(0.05, 0.9) * duration)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.wait()
        docs, batches, orphans = _counts(db)
        assert docs in (0, 12_000), f"partial import: {docs} documents"
        assert docs == batches and orphans == 0
        with Project.open(db, user="chen") as p:
            p.corpus.import_files([big], type=4)
            p.corpus.import_files([big], type=4)
        assert _counts(db) == (12_000, 12_000, 0)
    assert killed >= KILLS * 3 // 4


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_coding_reported_saved_survives_kill_9(tmp_path: Path, seed: int) -> None:
    db = _project(tmp_path)
    (tmp_path / "doc.txt").write_text(
        "\n".join(f"第{i}段：出行与扫码。" for i in range(1, 200)), encoding="utf-8"
    )
    with Project.open(db, user="chen") as p:
        p.corpus.import_files([tmp_path / "doc.txt"], type=1)
    rng = random.Random(seed)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.worker", "apply", db, "lin", "100000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=ENV,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + rng.uniform(1.5, 4.0)
    reported: list[int] = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        reported.append(int(line.split()[1]))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert reported, "the child saved nothing before the kill"
    with Project.open(db) as p, p.db.read() as s:
        present = set(s.execute(select(Coding.id)).scalars())
    missing = set(reported) - present
    assert not missing, f"{len(missing)} codings reported saved were lost"
