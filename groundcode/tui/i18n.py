"""Interface text in Chinese or English.

Every label is written once as ``tr("中文", "English")``; the language is the
app's (``--lang``, remembered per user in ``~/.config/groundcode/ui.json``).
"""

from __future__ import annotations

from groundcode.domain.language import remember_language, remembered_language

__all__ = ["language", "one_line", "remember_language", "remembered_language", "set_language", "tr"]

_LANG = {"value": "zh"}


def set_language(lang: str) -> None:
    _LANG["value"] = "en" if lang == "en" else "zh"


def language() -> str:
    return _LANG["value"]


def tr(zh: str, en: str) -> str:
    return en if _LANG["value"] == "en" else zh


def one_line(error: BaseException | None) -> str:
    """An exception as the one line a user reads, in the interface language.

    Typed errors are worded from the catalog; anything else shows its type.
    """
    from groundcode.domain.errors import GroundcodeError
    from groundcode.domain.wording import word

    if error is None:
        return tr("未知错误", "unknown error")
    if isinstance(error, GroundcodeError):
        return word(error, language(), option_names=TUI_OPTIONS)
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


class _TuiOptions(dict[str, str]):
    """How the TUI names what the CLI calls an option, in the current language."""

    WORDS: dict[str, tuple[str, str]] = {
        "as": ("切换用户（ctrl+o）", "switch user (ctrl+o)"),
        "force": ("开关「覆盖已有文件」", "the switch 'Overwrite existing files'"),
        "coder": ("编码员", "coder"),
        "coders": ("编码员", "coders"),
        "level": ("层级", "level"),
    }

    def get(self, key: str, default: str | None = None) -> str:  # type: ignore[override]
        return self[key]

    def __missing__(self, key: str) -> str:
        zh, en = self.WORDS.get(key, (key, key))
        return tr(zh, en)


TUI_OPTIONS: dict[str, str] = _TuiOptions()
