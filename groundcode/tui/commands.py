"""One definition per key: the binding, its help text and its palette entry.

A screen lists its actions once as ``KEYS`` (``Key`` records); ``bindings``
turns them into Textual ``Binding`` objects in the current language, and the
app's command palette lists every active binding, so keys, footer, help panel
and palette can never disagree. ``localised`` registers a class so that a
language switch rebuilds its bindings in the new language.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
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
            tooltip=tr(self.zh, self.en),
            id=self.id,
        )


def bindings(keys: Iterable[Key]) -> list[BindingType]:
    """Textual bindings for ``keys``, described in the current language."""
    return [k.binding() for k in keys]


def localised(cls: type[T]) -> type[T]:
    """Class decorator: build ``BINDINGS`` from ``KEYS`` now and on every language switch."""
    _LOCALISED.append(cls)
    _rebind(cls)
    return cls


def _rebind(cls: Any) -> None:
    cls.BINDINGS = bindings(cls.KEYS)
    cls._merged_bindings = cls._merge_bindings()


def relocalise() -> None:
    """Rebuild the bindings of every registered class in the current language."""
    for cls in _LOCALISED:
        _rebind(cls)
