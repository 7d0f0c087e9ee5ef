"""Messages shared across screens.

Workers never touch widgets: they post one of these (``post_message`` is
thread-safe) and the screen that owns the widgets handles it on the UI thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message


@dataclass
class ServiceResult(Message):
    """A service call made by a worker finished; ``tag`` says which one."""

    tag: str
    value: Any
    token: int = 0


@dataclass
class OpenDocument(Message):
    """Ask the app to show a document (and a passage) in the coding screen."""

    number: str
    passage: int | None = None


@dataclass
class LanguageChanged(Message):
    """The interface language changed; screens rebuild their labels."""

    lang: str
