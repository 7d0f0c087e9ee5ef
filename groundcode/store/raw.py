"""Bulk reads without per-row ORM processing, for analyses over hundreds of thousands of rows.

SQLAlchemy's result processing costs microseconds per row (more with
timezone-aware datetimes); agreement and saturation read every coding of a
large project, so they fetch plain tuples from the DBAPI cursor of the
session's own connection and let pandas do the typing. Only trusted SQL goes
through here: callers interpolate integers and fixed keywords, never user text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table
from sqlmodel import Session

if TYPE_CHECKING:
    import pandas as pd


def fetch_rows(session: Session, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` as plain tuples; ``?`` placeholders take ``params`` on every backend."""
    conn = session.connection()
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    if conn.dialect.name != "sqlite":
        sql = sql.replace("%", "%%").replace("?", "%s")
    cur: Any = dbapi.cursor()
    try:
        cur.execute(sql, tuple(params))
        rows: list[tuple[Any, ...]] = cur.fetchall()
    finally:
        cur.close()
    return rows


def fetch_frame(
    session: Session, sql: str, columns: list[str], params: Sequence[Any] = ()
) -> pd.DataFrame:
    """Rows of ``sql`` as a DataFrame; ``?`` placeholders take ``params`` on every backend."""
    import pandas as pd

    return pd.DataFrame.from_records(fetch_rows(session, sql, params), columns=columns)


def id_list(ids: list[int]) -> str:
    """A SQL list of integers (never user text)."""
    return "(" + ",".join(str(int(i)) for i in ids) + ")" if ids else "(NULL)"


def fetch_ints(
    session: Session, sql: str, columns: list[str], params: Sequence[Any] = ()
) -> pd.DataFrame:
    """Like ``fetch_frame`` for queries whose every column is an integer (NULLs mapped in SQL).

    Skips per-row object handling: the tuples are flattened straight into one
    int64 array, several times faster than building a frame from records.
    """
    import itertools

    import numpy as np
    import pandas as pd

    rows = fetch_rows(session, sql, params)
    flat = np.fromiter(
        itertools.chain.from_iterable(rows), dtype=np.int64, count=len(rows) * len(columns)
    )
    return pd.DataFrame(flat.reshape(len(rows), len(columns)), columns=columns)


def insert_many(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    constants: Mapping[str, Any] | None = None,
) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) through the driver's executemany.

    A bulk import writes hundreds of thousands of rows; SQLAlchemy's executemany
    compiles every row's parameters in Python (half of a codings import's time).
    Here the statement is built once, the ``constants`` (the same value on every
    row: a timestamp, a flag) pass through their column type once, and the rows
    go to the driver as they are, so their columns must be ones whose type needs
    no conversion (integers, text): that is checked, not assumed.
    """
    consts = dict(constants or {})
    conn = session.connection()
    dialect = conn.dialect

    def processor(name: str) -> Any:
        # The dialect's own implementation: a decorated type's conversion and the
        # backend's (SQLite keeps times as text) are both in it.
        return table.c[name].type.dialect_impl(dialect).bind_processor(dialect)

    for name in columns:
        if processor(name) is not None:
            raise TypeError(f"{table.name}.{name} needs conversion; pass it as a constant")
    fixed: list[Any] = []
    for name, value in consts.items():
        process = processor(name)
        fixed.append(process(value) if process is not None else value)
    names = [*columns, *consts]
    mark = "?" if dialect.name == "sqlite" else "%s"
    sql = (
        f"INSERT INTO {table.name} ({', '.join(chr(34) + n + chr(34) for n in names)}) "
        f"VALUES ({', '.join([mark] * len(names))})"
    )
    tail = tuple(fixed)
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    cur: Any = dbapi.cursor()
    try:
        cur.executemany(sql, [(*row, *tail) for row in rows])
    finally:
        cur.close()
