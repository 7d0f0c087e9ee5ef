"""Bulk reads without per-row ORM processing, for analyses over hundreds of thousands of rows.

SQLAlchemy's result processing costs microseconds per row (more with
timezone-aware datetimes); agreement and saturation read every coding of a
large project, so they fetch plain tuples from the DBAPI cursor of the
session's own connection and let pandas do the typing. Only trusted SQL goes
through here: callers interpolate integers and fixed keywords, never user text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

if TYPE_CHECKING:
    import pandas as pd


def fetch_frame(
    session: Session, sql: str, columns: list[str], params: Sequence[Any] = ()
) -> pd.DataFrame:
    """Rows of ``sql`` as a DataFrame; ``?`` placeholders take ``params`` on every backend."""
    import pandas as pd

    conn = session.connection()
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    if conn.dialect.name != "sqlite":
        sql = sql.replace("%", "%%").replace("?", "%s")
    cur: Any = dbapi.cursor()
    try:
        cur.execute(sql, tuple(params))
        rows = cur.fetchall()
    finally:
        cur.close()
    return pd.DataFrame.from_records(rows, columns=columns)


def id_list(ids: list[int]) -> str:
    """A SQL list of integers (never user text)."""
    return "(" + ",".join(str(int(i)) for i in ids) + ")" if ids else "(NULL)"
