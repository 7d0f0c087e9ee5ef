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
