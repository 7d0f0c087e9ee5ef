"""A PostgreSQL project in team mode, with a login per person, for the team tests.

Needs a server that checks passwords for every role but its superuser
(``.ci/run`` starts one: ``local all <superuser> trust`` and ``local all all
scram-sha-256``) named by ``GROUNDCODE_TEST_PG`` with ``GROUNDCODE_TEST_PG_LOGINS=1``.
Without both, the tests that use it skip. Logins are cluster-wide, so each
project's people get a random suffix, and every role made here is dropped after.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from groundcode.project import Project
from groundcode.store.identity import group_roles, init_team

PG_ENV = "GROUNDCODE_TEST_PG"
LOGINS_ENV = "GROUNDCODE_TEST_PG_LOGINS"


def logins_server() -> URL:
    base = os.environ.get(PG_ENV)
    if not base or not os.environ.get(LOGINS_ENV):
        pytest.skip(f"{PG_ENV} with {LOGINS_ENV}=1 (a server checking passwords) is not set")
    url = make_url(base)
    return url.set(drivername="postgresql+psycopg")


@dataclass
class Team:
    """One team-mode project: the owner's URL and each person's login and password."""

    admin: URL  # the superuser (trust over the socket), on the project's database
    database: str
    host: str
    passwords: dict[str, str] = field(default_factory=dict)
    opened: list[Project] = field(default_factory=list)

    def url(self, login: str, password: str | None = None) -> URL:
        return self.admin.set(username=login, password=password or self.passwords[login])

    def url_text(self, login: str) -> str:
        return self.url(login).render_as_string(hide_password=False)

    def open(self, login: str, user: str | None = None) -> Project:
        p = Project.open(self.url(login), user=user)
        self.opened.append(p)
        return p

    def owner(self, user: str | None = None) -> Project:
        p = Project.open(self.admin, user=user)
        self.opened.append(p)
        return p

    def add(self, lead: Project, name: str, role: str = "coder") -> str:
        """Add a person (through groundcode, as ``lead``); returns their login."""
        password = secrets.token_urlsafe(12)
        lead.coding.add_coder(name, role=role, password=password)
        self.passwords[name] = password
        return name

    def raw(self, login: str) -> psycopg.Connection:
        """A plain psycopg connection as ``login``, with its password (no groundcode)."""
        return psycopg.connect(
            host=self.host,
            dbname=self.database,
            user=login,
            password=self.passwords[login],
            autocommit=True,
        )

    def raw_admin(self) -> psycopg.Connection:
        """The superuser on the project's database (trust over the socket)."""
        return psycopg.connect(
            host=self.host, dbname=self.database, user=self.admin.username, autocommit=True
        )


def _terminate_and_drop(admin: URL, database: str, roles: list[str]) -> None:
    eng = create_engine(admin.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :d AND pid <> pg_backend_pid()"
            ),
            {"d": database},
        )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        for role in roles:
            conn.execute(text("SELECT 1"))
            quoted = '"' + role.replace('"', '""') + '"'
            conn.execute(text(f"DROP ROLE IF EXISTS {quoted}"))
    eng.dispose()


@pytest.fixture
def team() -> Iterator[Team]:
    """A fresh team project: lead ``chen_<x>``, coders ``lin_<x>`` and ``wang_<x>``."""
    server = logins_server()
    host = str(server.query.get("host", ""))
    database = f"gc_team_{secrets.token_hex(5)}"
    eng = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    eng.dispose()
    admin = server.set(database=database)
    t = Team(admin=admin, database=database, host=host)
    try:
        with Project.create(admin, name="team") as p:
            init_team(p.db)
        yield t
    finally:
        for p in t.opened:
            p.close()
        made = list(t.passwords)
        _terminate_and_drop(admin, database, [*made, *group_roles(database)])


@dataclass
class People:
    lead: str
    lin: str
    wang: str


def people(t: Team) -> People:
    """The owner adds the lead; the lead (signed in) adds two coders."""
    tag = t.database[-4:]
    owner = t.owner()
    lead = t.add(owner, f"chen_{tag}", role="lead")
    chen = t.open(lead)
    return People(lead=lead, lin=t.add(chen, f"lin_{tag}"), wang=t.add(chen, f"wang_{tag}"))
