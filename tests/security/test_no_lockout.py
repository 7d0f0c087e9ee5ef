"""No lock-outs: a reader never waits on a writer, and a waiting writer says who holds the lock.

A separate process holds a real write transaction open for up to 60 seconds
(the shape of a long ``codebook merge``). With the busy timeout set to zero,
any read that had to wait for the lock would fail at once with "database is
locked", so these reads succeeding proves they never waited, whatever the
machine's speed. Opening the project is one of those reads: it used to begin
with ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from groundcode.project import Project
from groundcode.store import engine as engine_module

WRITER = textwrap.dedent(
    """
    import sys, time
    from sqlalchemy import text
    from groundcode.store.engine import Database, to_url
    db = Database(to_url(sys.argv[1]))
    with db.session() as s:
        s.execute(text("UPDATE setting SET value = value WHERE key = 'name'"))
        s.execute(text("INSERT INTO audit_log (at, actor, action, entity, undone) "
                       "VALUES (CURRENT_TIMESTAMP, 'chen', 'codebook.merge', 'concept', 0)"))
        print("holding", flush=True)
        time.sleep(60)
    """
)


@pytest.fixture
def project_file(tmp_path: Path) -> Path:
    path = tmp_path / "p.db"
    with Project.create(path, name="锁") as p:
        p.coding.add_coder("chen", role="lead")
        f = tmp_path / "c.csv"
        f.write_text("title,text\n一,健康码。\n二,行程码。\n", encoding="utf-8")
        p.as_user("chen").corpus.import_files([f], type=4)
    return path


@pytest.fixture
def writer(project_file: Path) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(project_file)],
        stdout=subprocess.PIPE,
        text=True,
        env={**__import__("os").environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "holding"
    yield proc
    proc.kill()
    proc.wait()


def test_readers_never_wait_on_a_long_write(
    project_file: Path, writer: subprocess.Popen[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "BUSY_TIMEOUT_MS", 0)
    with Project.open(project_file, user="chen") as p:
        assert p.corpus.funnel()["documents"] == 2
        assert len(p.corpus.documents()) == 2
        assert p.coding.status()["name"] == "锁"
        assert writer.poll() is None  # the write is still open


def test_the_corpus_command_answers_during_a_long_write(
    project_file: Path,
    writer: subprocess.Popen[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The case from the report: ``corpus`` failed after 33 s with "database is locked"
    while a merge ran. With no busy wait allowed it must answer at once."""
    from groundcode.cli import main

    monkeypatch.setattr(engine_module, "BUSY_TIMEOUT_MS", 0)
    capsys.readouterr()
    for args in (("corpus",), ("--as", "chen", "documents"), ("status",)):
        assert main(["--db", str(project_file), *args]) == 0, capsys.readouterr().err
    out = capsys.readouterr()
    assert out.err == "" and "锁" in out.out
    assert writer.poll() is None


def test_a_waiting_writer_says_who_holds_the_lock(
    project_file: Path, writer: subprocess.Popen[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    if not Path("/proc/locks").exists():
        pytest.skip("the lock holder is found through Linux /proc/locks")
    monkeypatch.setattr(engine_module, "BUSY_TIMEOUT_MS", 1500)
    monkeypatch.setattr(engine_module, "QUIET_WAIT_MS", 200)
    heard: list[str] = []
    with Project.open(project_file, user="chen") as p:
        p.db.on_wait = heard.append
        with pytest.raises(OperationalError), p.db.session() as s:
            s.execute(text("UPDATE setting SET value = 'x' WHERE key = 'name'"))
        # Nothing was written, and the wait was announced, naming the writer.
        assert p.corpus.funnel()["included"] == 2
    assert heard and all(f"pid {writer.pid}" in h for h in heard)
    assert "python" in heard[0]


def test_a_long_merge_lets_other_writers_in_between_its_steps(tmp_path: Path) -> None:
    """``codebook merge`` of 60 coded concepts commits one step per concept and reports
    each; between two steps another connection takes the write lock at busy-timeout 0,
    which would fail at once were the merge holding it."""
    import sqlite3

    db = tmp_path / "p.db"
    with Project.create(db) as p:
        p.coding.add_coder("chen", role="lead")
        lead = p.as_user("chen")
        lead.coding.add_coder("lin")
        f = tmp_path / "c.csv"
        f.write_text(
            "title,text\n" + "".join(f"{i},第{i}条评论。\n" for i in range(1, 61)),
            encoding="utf-8",
        )
        lead.corpus.import_files([f], type=4)
        lin = p.as_user("lin")
        for i in range(1, 61):
            lin.coding.apply(f"4-{i}", f"概念{i}", passage=1)
            lin.coding.apply(f"4-{i}", "目标概念", passage=1)  # one duplicate dropped per step
        seen: list[tuple[int, int]] = []

        def between(done: int, total: int) -> None:
            seen.append((done, total))
            other = sqlite3.connect(db, timeout=0, isolation_level=None)
            try:
                other.execute("BEGIN IMMEDIATE")
                other.execute(
                    "INSERT INTO audit_log (at, actor, action, entity, undone) "
                    "VALUES (CURRENT_TIMESTAMP, 'lin', 'probe', 'setting', 0)"
                )
                other.execute("COMMIT")
            finally:
                other.close()

        result = lead.codebook.merge(
            "concept", [f"概念{i}" for i in range(1, 61)], "目标概念", progress=between
        )
    assert seen == [(k, 60) for k in range(1, 61)]
    assert result.moved == 0 and result.dropped_duplicates == 60
    with Project.open(db, user="chen") as p:
        names = set(p.codebook.concepts_frame()["concept"])
        assert names == {"目标概念"}
        assert len(p.coding.codings()) == 60
        with p.db.read() as s:
            n_probe = s.execute(text("SELECT count(*) FROM audit_log WHERE action = 'probe'"))
            assert n_probe.scalar() == 60


def test_a_merge_stopped_part_way_names_what_it_merged(tmp_path: Path) -> None:
    """A source removed by another session mid-merge: the merge stops with one line that
    names the sources already folded in, which stay merged."""
    from groundcode.domain.errors import MergeStopped

    db = tmp_path / "p.db"
    with Project.create(db) as p:
        p.coding.add_coder("chen", role="lead")
        lead = p.as_user("chen")
        for name in ("甲", "乙", "丙", "目标"):
            lead.codebook.create_concept(name)
        other = Project.open(db, user="chen")

        def remove_third(done: int, _total: int) -> None:
            if done == 1:
                other.codebook.delete("concept", "丙")

        with pytest.raises(MergeStopped) as err:
            lead.codebook.merge("concept", ["甲", "乙", "丙"], "目标", progress=remove_third)
        other.close()
        assert err.value.merged == "甲, 乙" and err.value.into == "目标"
        assert "\n" not in str(err.value) and "丙" in str(err.value)
        names = set(lead.codebook.concepts_frame()["concept"])
        assert "甲" not in names and "目标" in names
