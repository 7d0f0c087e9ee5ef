"""Bulk reads without per-row ORM processing, for analyses over hundreds of thousands of rows.

SQLAlchemy's result processing costs microseconds per row (more with
timezone-aware datetimes); agreement and saturation read every coding of a
large project, so they fetch plain tuples from the DBAPI cursor of the
session's own connection and let pandas do the typing. Only trusted SQL goes
through here: callers interpolate integers and fixed keywords, never user text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlmodel import Session

if TYPE_CHECKING:
    import pandas as pd


def fetch_frame(session: Session, sql: str, columns: list[str]) -> pd.DataFrame:
    import pandas as pd

    dbapi = session.connection().connection.dbapi_connection
    assert dbapi is not None
    cur: Any = dbapi.cursor()
    try:
        cur.execute(sql)
        rows = cur.fetchall()
    finally:
        cur.close()
    return pd.DataFrame.from_records(rows, columns=columns)


def id_list(ids: list[int]) -> str:
    """A SQL list of integers (never user text)."""
    return "(" + ",".join(str(int(i)) for i in ids) + ")" if ids else "(NULL)"
