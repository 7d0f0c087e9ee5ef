"""Team-mode commands that need no PostgreSQL logins: SQLite's limits, serve's session command."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from groundcode.cli.team_cmds import session_command
from groundcode.project import Project
from tests.cli.conftest import RunCli


def test_a_new_sqlite_project_is_readable_by_its_owner_only(
    tmp_path: Path, run_cli: RunCli
) -> None:
    db = tmp_path / "study.db"
    res = run_cli("--db", str(db), "init")
    assert res.code == 0, res.err
    assert "single-user project" in res.out and "team init" in res.out
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    for side in (db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        if side.exists():
            assert stat.S_IMODE(side.stat().st_mode) & 0o077 == 0


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "::"])
def test_serve_keeps_an_sqlite_project_on_this_machine(
    tmp_path: Path, run_cli: RunCli, host: str
) -> None:
    db = tmp_path / "study.db"
    Project.create(db).close()
    res = run_cli("--db", str(db), "serve", "--host", host)
    assert res.code == 2
    assert len(res.err.strip().splitlines()) == 1
    assert host in res.err and "127.0.0.1" in res.err


def test_team_init_on_sqlite_is_refused_in_one_line(tmp_path: Path, run_cli: RunCli) -> None:
    db = tmp_path / "study.db"
    Project.create(db).close()
    res = run_cli("--db", str(db), "team", "init")
    assert res.code == 2
    assert len(res.err.strip().splitlines()) == 1 and "PostgreSQL" in res.err


def test_each_browser_session_signs_in_and_gets_no_secret() -> None:
    url = "postgresql://owner:s3cret@db.example.org:5433/study?sslmode=require"
    command, signs_in = session_command(url, "chen", "en")
    assert signs_in
    assert "s3cret" not in command and "owner" not in command and "chen" not in command
    assert "--sign-in" in command and "db.example.org:5433/study" in command
    command, signs_in = session_command("study.db", "lin", None)
    assert not signs_in and "--as lin" in command and os.path.abspath("study.db") in command
