"""Engines, sessions and retries.

A project is addressed by a filesystem path (SQLite, the default) or any
SQLAlchemy URL (``postgresql+psycopg://user@host/db`` for team mode). The
password of a PostgreSQL URL is never stored by groundcode: it comes from the
environment (``PGPASSWORD``) or ``~/.pgpass``, which libpq reads itself.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlmodel import Session, create_engine

from groundcode.errors import UsageError

T = TypeVar("T")

BUSY_TIMEOUT_MS = 30_000


def to_url(path_or_url: str | Path | URL) -> URL:
    """Turn a path or URL into a SQLAlchemy URL; plain paths become SQLite files.

    A ``URL`` object passes through as it is, password included: that is how a
    password typed at sign-in reaches libpq without ever being written down.
    """
    if isinstance(path_or_url, URL):
        if path_or_url.drivername == "postgresql":
            return path_or_url.set(drivername="postgresql+psycopg")
        return path_or_url
    text = str(path_or_url)
    if "://" not in text:
        return make_url("sqlite:///" + str(Path(text).expanduser().absolute()))
    try:
        url = make_url(text)
    except ArgumentError as exc:
        raise UsageError(f"{redact_url(text)}: not a database URL ({exc})") from None
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url


def redact_url(url: str | URL) -> str:
    """The URL as it may appear in messages and logs: never with a password."""
    try:
        parsed = make_url(str(url)) if not isinstance(url, URL) else url
    except ArgumentError:
        return "<database URL>"
    return parsed.render_as_string(hide_password=True)


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    from groundcode.store.search_tokens import bigrams

    dbapi_conn.create_function("gc_bigrams", 1, bigrams, deterministic=True)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    # Writers take the lock up front (BEGIN IMMEDIATE), so concurrent writers wait
    # on busy_timeout instead of failing with SQLITE_BUSY on lock upgrade; readers
    # (the ``readonly`` execution option) never block anyone in WAL mode.
    if conn.get_execution_options().get("readonly"):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: URL) -> Engine:
    if is_sqlite(url):
        db = url.database
        if db and db != ":memory:":
            parent = Path(db).parent
            if not parent.is_dir():
                raise UsageError(f"{db}: folder {parent} does not exist")
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
        )
        event.listen(engine, "connect", _sqlite_on_connect)

        @event.listens_for(engine, "connect")
        def _no_pysqlite_begin(dbapi_conn: Any, _rec: Any) -> None:
            dbapi_conn.isolation_level = None

        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def is_retryable(exc: BaseException) -> bool:
    """Lock contention and serialization failures are worth another try."""
    if not isinstance(exc, OperationalError | DBAPIError):
        return False
    text = str(getattr(exc, "orig", exc)).lower()
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return (
        "database is locked" in text
        or "database is busy" in text
        or code in {"40001", "40P01"}
        or "could not serialize" in text
        or "deadlock detected" in text
    )


class Database:
    """An engine plus the one way services open a unit of work."""

    def __init__(self, url: URL) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.read_engine = self.engine.execution_options(readonly=True)

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.url)

    @property
    def display_url(self) -> str:
        if self.is_sqlite:
            return str(self.url.database)
        return redact_url(self.url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on any error."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work: never takes the SQLite write lock."""
        # Closing (not rolling back) ends the read transaction without expiring
        # the objects read, so plain values stay usable after the block.
        with Session(self.read_engine, expire_on_commit=False) as session:
            yield session

    def run(self, fn: Callable[[Session], T], *, attempts: int = 12) -> T:
        """Run ``fn`` in one transaction, retrying lock and serialization failures.

        A connection lost while ``fn`` runs (a server restart, a dropped
        network) is retried too: nothing was committed, so the work is done
        again on a fresh connection. A connection lost during the commit
        itself is reported, not retried: the server may or may not have
        committed, and the transaction is all or nothing either way.
        """
        delay = 0.02
        for attempt in range(attempts):
            committing = False
            try:
                with Session(self.engine, expire_on_commit=False) as session:
                    try:
                        result = fn(session)
                        committing = True
                        session.commit()
                        return result
                    except BaseException:
                        session.rollback()
                        raise
            except (OperationalError, DBAPIError) as exc:
                lost = bool(getattr(exc, "connection_invalidated", False)) and not committing
                if attempt == attempts - 1 or not (lost or is_retryable(exc)):
                    raise
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 1.0)
        raise AssertionError("unreachable")

    def dispose(self) -> None:
        self.engine.dispose()
