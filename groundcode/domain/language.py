"""Which language (zh or en) a front end words its messages in, and where that is remembered.

The rule for the CLI (README "Languages"): ``GROUNDCODE_LANG`` if set to zh or
en; else the language the TUI last used for this user (remembered in
``~/.config/groundcode/ui.json``, or under ``$XDG_CONFIG_HOME``); else ``LANG``
when it names English; else Chinese. The TUI starts from ``--lang`` or the
remembered language and words everything in its current one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

LANGUAGES = ("zh", "en")


def _prefs_path() -> Path:
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "groundcode" / "ui.json"


def remembered_language(user: str | None) -> str | None:
    try:
        data = json.loads(_prefs_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    value = data.get(user or "", data.get("", None))
    return value if value in LANGUAGES else None


def remember_language(user: str | None, lang: str) -> None:
    path = _prefs_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except (OSError, ValueError):
        data = {}
    data[user or ""] = lang
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    except OSError:
        pass  # preferences are a convenience; a read-only home must not stop anyone


def cli_language(user: str | None) -> str:
    """The language the CLI words its messages in (the rule above)."""
    forced = os.environ.get("GROUNDCODE_LANG", "").strip().lower()
    if forced in LANGUAGES:
        return forced
    remembered = remembered_language(user)
    if remembered:
        return remembered
    system = os.environ.get("LC_ALL") or os.environ.get("LC_MESSAGES") or os.environ.get("LANG")
    return "en" if (system or "").lower().startswith("en") else "zh"
