"""Interface text in Chinese or English.

Every label is written once as ``tr("中文", "English")``; the language is the
app's (``--lang``, remembered per user in ``~/.config/groundcode/ui.json``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

_LANG = {"value": "zh"}


def set_language(lang: str) -> None:
    _LANG["value"] = "en" if lang == "en" else "zh"


def language() -> str:
    return _LANG["value"]


def tr(zh: str, en: str) -> str:
    return en if _LANG["value"] == "en" else zh


def _prefs_path() -> Path:
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "groundcode" / "ui.json"


def remembered_language(user: str | None) -> str | None:
    try:
        data = json.loads(_prefs_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = data.get(user or "", data.get("", None))
    return value if value in ("zh", "en") else None


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
        pass  # preferences are a convenience; a read-only home must not stop the TUI
