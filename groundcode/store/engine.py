"""Engines, sessions and retries.

A project is addressed by a filesystem path (SQLite, the default) or any
SQLAlchemy URL (``postgresql+psycopg://user@host/db`` for team mode). The
password of a PostgreSQL URL is never stored by groundcode: it comes from the
environment (``PGPASSWORD``) or ``~/.pgpass``, which libpq reads itself.

Readers never wait on a writer: read units of work (``Database.read``, and
opening a project, which only reads the schema version) begin a deferred
transaction, which WAL lets run beside a writer. Writers take the lock up
front (``BEGIN IMMEDIATE``); one that has to wait says so once through
``Database.on_wait``, naming the process that holds the lock where the
system tells (Linux ``/proc/locks``).
"""

from __future__ import annotations

import os
import random
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, unquote

from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlmodel import Session, create_engine

from groundcode.domain.errors import InvalidInput, NotFound, ReadOnlyProject

T = TypeVar("T")

BUSY_TIMEOUT_MS = 30_000
# How long a writer waits quietly before it says who it is waiting for.
QUIET_WAIT_MS = 1_000


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
        url = make_url(_quote_userinfo(text))
    except ArgumentError:
        raise InvalidInput(redact_url(text), 0, "not_a_url") from None
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url


_USERINFO = re.compile(r"^(?P<scheme>[A-Za-z][\w+.-]*://)(?P<user>[^/?#]*)@(?P<rest>[^@]*)$")
_QUERY_SECRET = re.compile(r"(?i)([?&](?:password|passwd|pwd|pass|sslpassword)=)[^&#]*")


def _quote_userinfo(text: str) -> str:
    """``user:p@ss@host`` as libpq means it: the host follows the last ``@``, so an
    ``@`` in the password is percent-encoded before SQLAlchemy parses the URL."""
    m = _USERINFO.match(text)
    if m is None or "@" not in m.group("user"):
        return text
    user, sep, password = m.group("user").partition(":")
    fixed = quote(unquote(user), safe="") + (sep + quote(unquote(password), safe="") if sep else "")
    return f"{m.group('scheme')}{fixed}@{m.group('rest')}"


def redact_url(url: str | URL) -> str:
    """The URL as it may appear in messages and logs: never with a password.

    Masks the password of ``user:password@host`` (also one holding ``@`` or
    ``:``) and every ``password=`` in the query string; text that is not a URL
    at all is shown as ``<database URL>`` rather than risk a secret.
    """
    text = url.render_as_string(hide_password=False) if isinstance(url, URL) else str(url)
    if "://" not in text:
        return text
    m = _USERINFO.match(text)
    if m is not None:
        user, sep, _secret = m.group("user").partition(":")
        text = f"{m.group('scheme')}{user}{':***' if sep else ''}@{m.group('rest')}"
    elif "@" in text.split("://", 1)[1].split("/", 1)[0]:
        return "<database URL>"
    return _QUERY_SECRET.sub(r"\1***", text)


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    from groundcode.store.search_tokens import bigrams

    dbapi_conn.create_function("gc_bigrams", 1, bigrams, deterministic=True)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    if not cur.execute("PRAGMA query_only").fetchone()[0]:
        cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def lock_holder(db_path: str | Path) -> str | None:
    """Which other process holds the WAL write lock of ``db_path`` ("pid 123: cmd").

    SQLite keeps the lock as a POSIX lock on byte 120 of the ``-shm`` file;
    Linux lists such locks in ``/proc/locks``. None when unknown (another
    system, nobody holding it, or the holder is this process).
    """
    shm = Path(f"{db_path}-shm")
    try:
        st = shm.stat()
        table = Path("/proc/locks").read_text()
    except OSError:
        return None
    dev = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    for line in table.splitlines():
        parts = line.split()
        if "->" in parts:  # a waiter, not a holder
            continue
        if len(parts) < 8 or parts[1] != "POSIX" or parts[3] != "WRITE" or parts[5] != dev:
            continue
        start, end = parts[6], parts[7]
        if not (start.isdigit() and int(start) <= 120 and (end == "EOF" or int(end) >= 120)):
            continue
        pid = int(parts[4])
        if pid == os.getpid():
            return None
        try:
            raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return f"pid {pid}"
        argv = [a.decode("utf-8", "replace") for a in raw.split(b"\0") if a]
        words = [Path(argv[0]).name, *argv[1:]] if argv else []
        # The command, never its secrets: a database URL is shown with its password masked.
        shown = [redact_url(w) if "://" in w else w for w in words]
        return f"pid {pid}: {' '.join(shown)[:120]}" if shown else f"pid {pid}"
    return None


def _begin_immediate(conn: Any, db: Database | None) -> None:
    """BEGIN IMMEDIATE; after a quiet second of waiting, tell ``db.on_wait`` who holds the lock."""
    if db is None or db.on_wait is None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        return
    raw = conn.connection.dbapi_connection
    raw.execute(f"PRAGMA busy_timeout={QUIET_WAIT_MS}")
    try:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        return
    except OperationalError as exc:
        if not is_retryable(exc):
            raise
    finally:
        raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    db.on_wait(lock_holder(db.url.database or "") or "")
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def read_only_uri(file: str) -> str | None:
    """The SQLite URI to open ``file`` read-only, or None when it may be written.

    A project is read-only when its file, or its folder, cannot be written (a
    shared study copied to a read-only share, ``chmod 444``). WAL needs the
    ``-shm`` file beside the database: if it exists, or the folder is writable,
    SQLite reads with ``mode=ro``; in a read-only folder without one, nothing
    can be writing the file, so it is opened ``immutable``.
    """
    path = Path(file)
    if not path.exists():
        return None
    folder_ok = os.access(path.parent, os.W_OK)
    if os.access(path, os.W_OK) and folder_ok:
        return None
    uri = "file:" + quote(str(path.absolute())) + "?mode=ro"
    if not folder_ok and not Path(f"{file}-shm").exists():
        uri += "&immutable=1"
    return uri


def make_engine(url: URL, db: Database | None = None) -> Engine:
    if is_sqlite(url):
        file = url.database
        read_only = None
        if file and file != ":memory:":
            parent = Path(file).parent
            if not parent.is_dir():
                raise NotFound(kind="folder", name=str(parent))
            read_only = read_only_uri(file)
        connect_args: dict[str, Any] = {
            "check_same_thread": False,
            "timeout": BUSY_TIMEOUT_MS / 1000,
        }
        if read_only is not None:
            import sqlite3

            uri = read_only

            def _connect_read_only() -> sqlite3.Connection:
                conn = sqlite3.connect(
                    uri, uri=True, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
                )
                conn.execute("PRAGMA query_only=ON")
                return conn

            engine = create_engine(url, creator=_connect_read_only)
        else:
            engine = create_engine(url, connect_args=connect_args)
        event.listen(engine, "connect", _sqlite_on_connect)

        @event.listens_for(engine, "connect")
        def _no_pysqlite_begin(dbapi_conn: Any, _rec: Any) -> None:
            dbapi_conn.isolation_level = None

        def _sqlite_begin(conn: Any) -> None:
            # Writers take the lock up front (BEGIN IMMEDIATE), so concurrent writers
            # wait on busy_timeout instead of failing with SQLITE_BUSY on lock upgrade;
            # readers (the ``readonly`` option) begin deferred and never wait in WAL mode.
            if conn.get_execution_options().get("readonly"):
                conn.exec_driver_sql("BEGIN")
            elif read_only is not None:
                # Every change to a read-only project is refused here, in one place.
                raise ReadOnlyProject(str(file))
            else:
                _begin_immediate(conn, db)

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
        # Called with the lock holder ("" when unknown) when a write has to wait.
        self.on_wait: Callable[[str], None] | None = None
        self.engine = make_engine(url, self)
        # A SQLite file (or folder) that cannot be written: opened read-only (``read_only_uri``).
        self.read_only = bool(
            is_sqlite(url)
            and url.database
            and url.database != ":memory:"
            and read_only_uri(url.database) is not None
        )
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
