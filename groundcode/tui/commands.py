"""One definition per key: the binding, its help text and its palette entry.

A screen lists its actions once as ``KEYS`` (``Key`` records); ``bindings``
turns them into Textual ``Binding`` objects in the current language, and the
app's command palette lists every active binding, so keys, footer, help panel
and palette can never disagree. ``localised`` registers a class so that a
language switch rebuilds its bindings in the new language.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from textual.binding import Binding, BindingType

from groundcode.tui.i18n import tr

T = TypeVar("T")

_LOCALISED: list[Any] = []


@dataclass(frozen=True)
class Key:
    """A key, the action it runs and a bilingual description."""

    key: str
    action: str
    zh: str
    en: str
    id: str
    show: bool = True
    priority: bool = False
    key_display: str | None = None

    def binding(self) -> Binding:
        return Binding(
            self.key,
            self.action,
            tr(self.zh, self.en),
            show=self.show,
            priority=self.priority,
            key_display=self.key_display,
            # No tooltip: the help panel prints a tooltip after the description,
            # so repeating the description there doubled every label.
            id=self.id,
        )


def bindings(keys: Iterable[Key]) -> list[BindingType]:
    """Textual bindings for ``keys``, described in the current language."""
    return [k.binding() for k in keys]


def localised(cls: type[T]) -> type[T]:
    """Class decorator: build ``BINDINGS`` from ``KEYS`` now and on every language switch."""
    _LOCALISED.append(cls)
    _rebind(cls)
    localise_widgets()
    return cls


# Keys Textual binds on every App and Screen, worded here so that the footer, the
# help panel and the palette are in the interface language. A class's own key of
# the same name wins (the coding screen's tab, for example).
APP_SYSTEM_KEYS: tuple[Key, ...] = (
    Key("ctrl+q", "app.quit", "退出", "Quit", id="app.quit_now", show=False, priority=True),
    Key(
        "ctrl+p",
        "app.command_palette",
        "命令面板",
        "Command palette",
        id="app.palette",
        show=False,
        priority=True,
    ),
)
SCREEN_SYSTEM_KEYS: tuple[Key, ...] = (
    Key("tab", "app.focus_next", "下一个控件", "Focus next", id="screen.focus_next", show=False),
    Key(
        "shift+tab",
        "app.focus_previous",
        "上一个控件",
        "Focus previous",
        id="screen.focus_previous",
        show=False,
    ),
    Key(
        "ctrl+c,super+c",
        "screen.copy_text",
        "复制选中的文字",
        "Copy selected text",
        id="screen.copy_text",
        show=False,
    ),
)


def _system_keys(cls: Any) -> tuple[Key, ...]:
    from textual.app import App
    from textual.screen import Screen

    if issubclass(cls, App):
        return APP_SYSTEM_KEYS
    if issubclass(cls, Screen):
        return SCREEN_SYSTEM_KEYS
    return ()


def _rebind(cls: Any) -> None:
    own = {part for k in cls.KEYS for part in k.key.split(",")}
    extra = [k for k in _system_keys(cls) if not own & set(k.key.split(","))]
    cls.BINDINGS = bindings([*extra, *cls.KEYS])
    cls._merged_bindings = cls._merge_bindings()


def relocalise() -> None:
    """Rebuild the bindings of every registered class in the current language."""
    for cls in _LOCALISED:
        _rebind(cls)
    localise_widgets()


# Textual's own widget keys (and the passage view's), worded in Chinese. Keyed by
# the English description, lower-cased; a description not listed stays as it is.
WIDGET_WORDS: dict[str, str] = {
    "bottom": "到底部",
    "copy": "复制",
    "copy selected text": "复制选中的文字",
    "cursor down": "光标下移",
    "cursor down select": "向下选择",
    "cursor left": "光标左移",
    "cursor left select": "向左选择",
    "cursor left word select": "向左选择一个词",
    "cursor line end": "到行尾",
    "cursor line end select": "选择到行尾",
    "cursor line start": "到行首",
    "cursor line start select": "选择到行首",
    "cursor page down": "向下翻页",
    "cursor page up": "向上翻页",
    "cursor right": "光标右移",
    "cursor right select": "向右选择",
    "cursor right word select": "向右选择一个词",
    "cursor to next ancestor": "到下一个上级节点",
    "cursor to next sibling": "到下一个同级节点",
    "cursor to parent": "到上级节点",
    "cursor to previous sibling": "到上一个同级节点",
    "cursor up": "光标上移",
    "cursor up select": "向上选择",
    "cursor word left": "左移一个词",
    "cursor word right": "右移一个词",
    "cut": "剪切",
    "cut selected text": "剪切选中的文字",
    "delete all to the left": "删除左侧全部",
    "delete all to the right": "删除右侧全部",
    "delete character left": "删除左侧字符",
    "delete character right": "删除右侧字符",
    "delete left to start of word": "向左删除一个词",
    "delete line": "删除整行",
    "delete right to start of word": "向右删除一个词",
    "delete to line end": "删除到行尾",
    "delete to line start": "删除到行首",
    "dismiss menu": "关闭菜单",
    "down": "下移",
    "end": "到末尾",
    "exit the command palette": "关闭命令面板",
    "expand or collapse all": "全部展开或折叠",
    "first": "第一个",
    "focus next": "下一个控件",
    "focus previous": "上一个控件",
    "go to bottom": "到底部",
    "go to end": "到末尾",
    "go to start": "到开头",
    "go to top": "到顶部",
    "home": "到开头",
    "last": "最后一个",
    "move cursor left": "光标左移",
    "move cursor left a word": "左移一个词",
    "move cursor left a word and select": "向左选择一个词",
    "move cursor left and select": "向左选择",
    "move cursor right a word": "右移一个词",
    "move cursor right a word and select": "向右选择一个词",
    "move cursor right and select": "向右选择",
    "move cursor right or accept the completion suggestion": "光标右移或接受补全",
    "next command": "下一条命令",
    "next option": "下一个选项",
    "next page": "下一页",
    "next tab": "下一个标签页",
    "open link": "打开链接",
    "page down": "向下翻页",
    "page left": "向左翻页",
    "page right": "向右翻页",
    "page up": "向上翻页",
    "paste": "粘贴",
    "paste text from the clipboard": "从剪贴板粘贴",
    "press button": "按下按钮",
    "previous command": "上一条命令",
    "previous option": "上一个选项",
    "previous page": "上一页",
    "previous tab": "上一个标签页",
    "quit": "退出",
    "redo": "重做",
    "scroll down": "向下滚动",
    "scroll end": "滚动到底部",
    "scroll home": "滚动到顶部",
    "scroll left": "向左滚动",
    "scroll right": "向右滚动",
    "scroll up": "向上滚动",
    "select": "选择",
    "select all": "全选",
    "select line": "选择整行",
    "select line end": "选择到行尾",
    "select line start": "选择到行首",
    "show menu": "显示菜单",
    "submit": "提交",
    "toggle": "展开/折叠",
    "toggle collapsible": "展开/折叠",
    "toggle option": "切换选项",
    "top": "到顶部",
    "undo": "撤销",
    "up": "上移",
    # the passage view (widgets/passage_view.py)
    "previous passage": "上一段",
    "next passage": "下一段",
    "left": "左移",
    "right": "右移",
    "extend left": "向左扩展选择",
    "extend right": "向右扩展选择",
    "next clause": "下一分句",
    "previous clause": "上一分句",
    "extend to next clause": "扩展到下一分句",
    "extend to previous clause": "扩展到上一分句",
    "passage start": "段首",
    "passage end": "段尾",
    "up 5 passages": "上移 5 段",
    "down 5 passages": "下移 5 段",
    "clear selection": "取消选择",
}

_ORIGINAL_BINDINGS: dict[type, list[BindingType]] = {}


def _node_classes() -> list[type]:
    from textual.dom import DOMNode

    found: list[type] = []
    stack: list[type] = [DOMNode]
    while stack:
        subs: list[type] = stack.pop().__subclasses__()
        for sub in subs:
            if sub not in found:
                found.append(sub)
                stack.append(sub)
    return found


def _worded(binding: BindingType) -> Binding:
    b = binding if isinstance(binding, Binding) else Binding(*binding)
    zh = WIDGET_WORDS.get(b.description.lower()) if b.description else None
    if zh is None:
        return b
    return replace(b, description=tr(zh, b.description), tooltip="")


def localise_widgets() -> None:
    """Word the keys of Textual's widgets (and the passage view) in the interface language.

    The footer, help panel and palette print a binding's description; Textual's
    are English, so each widget class's ``BINDINGS`` is rebuilt from its original
    with the description from ``WIDGET_WORDS``, and every class re-merges its
    bindings. Called whenever a screen class is defined (its widgets are imported
    by then) and on every language switch.
    """
    classes = _node_classes()
    for cls in classes:
        if cls in _LOCALISED or "BINDINGS" not in cls.__dict__:
            continue
        original = _ORIGINAL_BINDINGS.setdefault(cls, list(cls.__dict__["BINDINGS"]))
        cls.BINDINGS = [_worded(b) for b in original]  # type: ignore[attr-defined]
    for cls in classes:
        cls._merged_bindings = cls._merge_bindings()  # type: ignore[attr-defined]
