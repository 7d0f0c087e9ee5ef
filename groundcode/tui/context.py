"""How screens and widgets reach the project without importing the App class.

Screens take no constructor arguments (they are created by ``App.MODES``);
they find the project, the acting user and the app's shared helpers here, so
no screen module has to import ``app.py`` (which imports the screens).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from textual.dom import DOMNode
    from textual.worker import Worker

    from groundcode.project import Project
    from groundcode.tui.app import GroundcodeApp


def app_of(node: DOMNode) -> GroundcodeApp:
    """The running ``GroundcodeApp`` of any mounted widget or screen."""
    return cast("GroundcodeApp", node.app)


def project_of(node: DOMNode) -> Project:
    """The project, acting as the user who runs the TUI."""
    return app_of(node).project


class ReportsWorkerErrors:
    """Mixin for screens: forward worker state changes to the app's one error handler.

    ``Worker.StateChanged`` does not bubble (it goes to the node that started
    the worker), so each screen hands it to ``GroundcodeApp.on_worker_state_changed``,
    which turns an ERROR into a one-line notification.
    """

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        app_of(self).on_worker_state_changed(event)  # type: ignore[arg-type]
