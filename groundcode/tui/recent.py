"""The projects this user opened lately, most recent first.

Kept in ``recent.json`` beside the language preference (``~/.config/groundcode``),
so the start screen can offer them. Only locations are stored: SQLite paths
made absolute, PostgreSQL URLs without a password (it always comes from the
environment or ``~/.pgpass``).
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

MAX_RECENT = 10


def _path() -> Path:
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "groundcode" / "recent.json"


def _key(location: str) -> str:
    if "://" in location:
        return location
    return str(Path(location).expanduser().resolve())


def recent_projects() -> list[str]:
    """Remembered locations, most recent first (a missing or damaged file is an empty list)."""
    try:
        data = json.loads(_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(data, list):
        return []
    return [str(x) for x in data if isinstance(x, str)][:MAX_RECENT]


def remember_project(location: str) -> None:
    """Put ``location`` first in the list (a read-only home only loses the convenience)."""
    key = _key(location)
    items = [key, *(x for x in recent_projects() if x != key)][:MAX_RECENT]
    path = _path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(items, ensure_ascii=False, indent=1), encoding="utf-8")
    except OSError:
        pass


def forget_project(location: str) -> None:
    key = _key(location)
    items = [x for x in recent_projects() if x != key]
    with contextlib.suppress(OSError):
        _path().write_text(json.dumps(items, ensure_ascii=False, indent=1), encoding="utf-8")
