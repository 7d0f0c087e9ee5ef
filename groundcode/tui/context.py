"""How screens and widgets reach the project without importing the App class.

Screens take no constructor arguments (they are created by ``App.MODES``);
they find the project, the acting user and the app's shared helpers here, so
no screen module has to import ``app.py`` (which imports the screens).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from groundcode.project import Project
    from groundcode.tui.app import GroundcodeApp


def app_of(node: DOMNode) -> GroundcodeApp:
    """The running ``GroundcodeApp`` of any mounted widget or screen."""
    return cast("GroundcodeApp", node.app)


def project_of(node: DOMNode) -> Project:
    """The project, acting as the user who runs the TUI."""
    return app_of(node).project
