"""Shared fixtures: a real project database per test, on SQLite and (in CI) PostgreSQL.

* ``db_url``: where the test's project lives. Parametrised over ``sqlite`` (a
  file in ``tmp_path``) and ``postgresql`` (a fresh ``gc_test_<random>``
  database on the server named by ``GROUNDCODE_TEST_PG``, dropped afterwards;
  skipped when that variable is unset).
* ``make_project(user=...)``: the project at ``db_url`` acting as ``user``.
  The first call creates it; later calls open the same database, so a test can
  act as several people on one project.
* ``project``: ``make_project(user=None)``, a fresh project acting as nobody.

No mocks: every service test talks to a real database.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from groundcode.project import Project

PG_ENV = "GROUNDCODE_TEST_PG"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]

MakeProject = Callable[..., Project]


def _pg_admin_url(base: str) -> str:
    url = make_url(base)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url.set(database="postgres").render_as_string(hide_password=False)


@pytest.fixture(autouse=True)
def _english_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests read the CLI's messages in English (its language rule would pick zh on
    a machine whose LANG is not English); tests of the rule itself set it again."""
    monkeypatch.setenv("GROUNDCODE_LANG", "en")


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A place for one fresh project; PostgreSQL databases are created and dropped here."""
    if request.param == "sqlite":
        yield str(tmp_path / "project.db")
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set")
    name = f"gc_test_{secrets.token_hex(6)}"
    admin = create_engine(_pg_admin_url(base), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(base)
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def make_project(db_url: str) -> Iterator[MakeProject]:
    """Open the test's project as ``user``; created on first use, closed at teardown."""
    opened: list[Project] = []

    def _make(user: str | None = None, name: str | None = None) -> Project:
        project = (
            Project.create(db_url, name=name, user=user)
            if not opened
            else Project.open(db_url, user=user)
        )
        opened.append(project)
        return project

    yield _make
    for project in opened:
        project.close()


@pytest.fixture
def project(make_project: MakeProject) -> Project:
    """A fresh, empty project acting as nobody."""
    return make_project(user=None)
