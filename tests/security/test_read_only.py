"""A read-only project (a ``chmod 444`` file, a read-only folder) is read, and every change
says clearly that it is read-only: exit 2, one line, the file unchanged.

The commands run in a child process. When the tests run as root (CI containers),
the child drops the capabilities that let root write anyone's files
(``setpriv --bounding-set -dac_override,-dac_read_search``), so the file
permissions bind it the way they bind any user.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from groundcode.project import Project

ROOT = Path(__file__).resolve().parents[2]


def _prefix() -> list[str]:
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: permissions cannot bind")
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search"]


@pytest.fixture(params=["file", "folder", "both"])
def project(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "study"
    folder.mkdir()
    db = folder / "p.db"
    with Project.create(db) as p:
        p.coding.add_coder("chen", role="lead")
        lead = p.as_user("chen")
        lead.coding.add_coder("lin")
        lead.coding.add_coder("zhou")
        f = tmp_path / "c.csv"
        f.write_text("title,text\n一,健康码数据共享。\n二,行程码互认。\n", encoding="utf-8")
        lead.corpus.import_files([f], type=4)
        for coder in ("lin", "zhou"):
            p.as_user(coder).coding.apply("4-1", "数据共享", passage=1)
            p.as_user(coder).coding.apply("4-2", "互认", passage=1)
    if request.param in ("file", "both"):
        db.chmod(0o444)
    if request.param in ("folder", "both"):
        folder.chmod(0o555)
    yield db
    folder.chmod(0o755)
    db.chmod(0o644)


def _run(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_prefix(), sys.executable, "-m", "groundcode.cli", "--db", str(db), *args],
        env={**os.environ, "PYTHONPATH": str(ROOT), "GROUNDCODE_LANG": "en"},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_read_only_project_is_read(project: Path) -> None:
    before = _digest(project)
    for args in (
        ("corpus",),
        ("documents",),
        ("show", "4-1"),
        ("--as", "chen", "agree"),
        ("--as", "chen", "codebook", "show"),
        ("--as", "chen", "redact", "--dry-run"),
    ):
        done = _run(project, *args)
        assert done.returncode == 0, (args, done.stderr)
        assert "Traceback" not in done.stderr
    assert "健康码数据共享" in _run(project, "show", "4-1").stdout
    assert _digest(project) == before


@pytest.mark.parametrize(
    "args",
    [
        ("--as", "chen", "exclude", "4-1", "--reason", "irrelevant"),
        ("--as", "lin", "code", "4-2", "新概念", "--passage", "1"),
        ("--as", "chen", "coder", "add", "wang"),
        ("--as", "chen", "redact"),
    ],
    ids=["exclude", "code", "coder-add", "redact"],
)
def test_a_change_to_a_read_only_project_says_so(project: Path, args: tuple[str, ...]) -> None:
    before = _digest(project)
    done = _run(project, *args)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert "read-only" in done.stderr and str(project) in done.stderr
    assert _digest(project) == before


def test_an_older_read_only_project_is_refused_without_a_backup(project: Path) -> None:
    """Upgrading needs writing: refused in one line, and no ``.bak`` copy is attempted."""
    import sqlite3

    folder = project.parent
    folder.chmod(0o755)
    project.chmod(0o644)
    conn = sqlite3.connect(project)
    with conn:
        conn.execute("UPDATE alembic_version SET version_num = '0005'")
    conn.close()
    project.chmod(0o444)
    before = _digest(project)
    done = _run(project, "corpus")
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "read-only" in done.stderr and "Traceback" not in done.stderr
    assert _digest(project) == before
    assert not list(folder.glob("*.bak*"))


def test_export_all_into_a_read_only_folder(tmp_path: Path) -> None:
    """The target folder cannot be written: one line naming it, and nothing created."""
    db = tmp_path / "p.db"
    with Project.create(db) as p:
        p.coding.add_coder("chen", role="lead")
    target = tmp_path / "exports"
    target.mkdir()
    target.chmod(0o555)
    try:
        done = _run(db, "--as", "chen", "export", "all", "-o", str(target))
    finally:
        target.chmod(0o755)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert str(target) in done.stderr and "Traceback" not in done.stderr
    assert list(target.iterdir()) == []


# The TUI on a read-only project, driven by Pilot in a child process: the capabilities
# that let root write anyone's files can only be dropped for a whole process, so the
# app runs under the same ``setpriv`` as the CLI cases. The child prints what it saw.
TUI_CHILD = """
import asyncio, json, sys
from textual.widgets import DataTable
from groundcode.tui.app import make_app
from groundcode.tui.screens.codebook import CodebookScreen
from tests.tui.conftest import settle

async def main() -> dict:
    app = make_app(sys.argv[1], "chen", lang="en")
    seen = {}
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        seen["dashboard"] = app.current_mode
        await pilot.press("2")
        await settle(app, pilot)
        table = app.screen.query_one(DataTable)
        seen["corpus_rows"] = table.row_count
        await pilot.press("4")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, CodebookScreen)
        seen["concepts"] = sorted(c.name for c in screen.codebook.concepts())
        assert screen.select("concept", "数据共享")
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("ctrl+u", *"别的名字", "enter")
        await settle(app, pilot)
        seen["notes"] = [n.message for n in app._notifications]
        seen["still_open"] = app.return_code is None and app.screen is screen
        after = sorted(c.name for c in screen.codebook.concepts())
        seen["unchanged"] = after == seen["concepts"]
    app.project.close()
    return seen

print(json.dumps(asyncio.run(main()), ensure_ascii=False))
"""


def test_the_tui_reads_a_read_only_project_and_refuses_a_change_in_words(
    project: Path, tmp_path: Path
) -> None:
    """The app opens (dashboard, corpus, codebook); a rename there is refused with the
    typed read-only message as a notification, the app keeps running, the file is unchanged."""
    import json

    before = _digest(project)
    done = subprocess.run(
        [*_prefix(), sys.executable, "-c", TUI_CHILD, str(project)],
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "GROUNDCODE_LANG": "en",
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["dashboard"] == "dashboard"
    assert seen["corpus_rows"] == 2
    assert seen["concepts"] == ["互认", "数据共享"]
    assert seen["still_open"] and seen["unchanged"]
    refusals = [n for n in seen["notes"] if "read-only" in n]
    assert refusals and str(project) in refusals[0], seen["notes"]
    assert not any("Traceback" in n or "internal error" in n for n in seen["notes"])
    assert _digest(project) == before
