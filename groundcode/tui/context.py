"""How screens reach the app and the project, and run the core: one contract for all.

Screens take no constructor arguments (they are created by ``App.MODES``) and
must not import ``app.py`` (which imports them). They reach the app through
``AppContext``, the small Protocol of what a screen may ask of it (the project,
who is acting, the shared UI state, opening a document, reporting an error),
never by casting ``node.app`` to the concrete App.

Every call into the core from a screen goes through ``run_service``: the call
runs in a thread worker, its result is wrapped in the screen's typed message
(posted from the worker, which is thread-safe), and a failure takes the one
error path: ``Worker.StateChanged`` -> ``AppContext.report_error`` -> the typed
error worded in the interface language (``domain.wording.word``) -> a notification.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TypeGuard, TypeVar

from textual.message import Message
from textual.worker import Worker, WorkerState

from groundcode.domain.errors import GroundcodeError

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from groundcode.project import Project

T = TypeVar("T")


class AppContext(Protocol):
    """What a screen may ask of the app (``GroundcodeApp`` is the one implementation)."""

    blind: bool
    role: str | None
    recent_concepts: list[str]

    @property
    def project(self) -> Project: ...

    @property
    def has_project(self) -> bool: ...

    @property
    def started(self) -> bool: ...

    @property
    def is_lead(self) -> bool: ...

    def update_header(self) -> None: ...

    def switch_mode(self, mode: str) -> object: ...

    def open_document(self, number: str, passage: int | None = None) -> None: ...

    def take_pending_document(self) -> tuple[str, int | None] | None: ...

    def remember_concept(self, name: str) -> None: ...

    def report_error(self, error: BaseException | None) -> None: ...


_MEMBERS = (
    "project",
    "has_project",
    "started",
    "is_lead",
    "update_header",
    "switch_mode",
    "open_document",
    "take_pending_document",
    "remember_concept",
    "report_error",
)


def is_context(app: object) -> TypeGuard[AppContext]:
    """Whether ``app`` implements ``AppContext`` (looked up on its class: properties
    such as ``project`` are not evaluated, so an app with no project open passes)."""
    return all(hasattr(type(app), name) for name in _MEMBERS)


def app_of(node: DOMNode) -> AppContext:
    """The app of a mounted widget or screen, as the contract screens may use."""
    app = node.app
    if not is_context(app):
        raise TypeError(f"{type(app).__name__} does not implement AppContext")
    return app


def project_of(node: DOMNode) -> Project:
    """The project, acting as the user who runs the TUI."""
    return app_of(node).project


def run_service(
    node: DOMNode,
    call: Callable[[], T],
    done: Callable[[T], Message] | None,
    *,
    group: str,
    exclusive: bool = True,
    refused: Callable[[GroundcodeError], Message] | None = None,
) -> Worker[None]:
    """Run ``call`` (a service call, no widget work) in a thread; post ``done(result)`` to ``node``.

    ``exclusive`` cancels the group's previous worker (a newer request replaces
    an older one); ``done=None`` posts nothing (the change itself is the point).
    ``refused``: a typed refusal the screen expects (no codings yet, not a lead)
    becomes that message, shown where the result would be. Any other error is
    not caught: it reaches the node's ``on_worker_state_changed`` and so the
    app's one error path.
    """

    def job() -> None:
        try:
            result = call()
        except GroundcodeError as exc:
            if refused is None:
                raise
            node.post_message(refused(exc))
            return
        if done is not None:
            node.post_message(done(result))

    return node.run_worker(
        job, thread=True, exclusive=exclusive, group=group, exit_on_error=False, description=group
    )


def run_refusable(
    node: DOMNode, call: Callable[[], Message], *, group: str, exclusive: bool = True
) -> Worker[None]:
    """``run_service`` for a call that builds its own message and may be refused.

    A typed refusal (not a lead, no codings yet) arrives as ``Refused`` with its
    one line in the interface language, for the screen to stop its spinners and
    say so; any other error takes the one error path.
    """
    from groundcode.tui.i18n import one_line
    from groundcode.tui.messages import Refused

    return run_service(
        node,
        call,
        posted,
        group=group,
        exclusive=exclusive,
        refused=lambda exc: Refused(one_line(exc)),
    )


M = TypeVar("M", bound=Message)


def posted(message: M) -> M:
    """``done`` for a call that builds its own message (the call knows which kind happened)."""
    return message


class ReportsWorkerErrors:
    """Mixin for screens: forward worker state changes to the app's one error path.

    ``Worker.StateChanged`` does not bubble (it goes to the node that started
    the worker), so each screen hands a failed worker's error to
    ``AppContext.report_error``, which words it and shows one notification.
    """

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            app_of(self).report_error(event.worker.error)  # type: ignore[arg-type]
