"""A modal progress bar that owns one long job (import, dedup, export, analysis).

The job is a plain callable run in a thread worker. It receives a
``ProgressReport``: calling it with ``(done, total)`` moves the bar (through
``call_from_thread``, at most ten times a second), and it raises
``JobCancelled`` once the user pressed Escape, so a job that reports between
steps stops at the next one; ``report.cancelled`` lets a job check without
reporting. Services that take a ``progress=callback(done, total)`` argument
accept the report as is. The screen dismisses with the job's result, or
``None`` when it was cancelled or failed (a failure's one line is notified).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from time import monotonic
from typing import ClassVar, Generic, TypeVar

from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, ProgressBar, Static
from textual.worker import Worker, WorkerState

from groundcode.domain.errors import GroundcodeError
from groundcode.tui.commands import Key, localised
from groundcode.tui.i18n import one_line, tr
from groundcode.tui.safe import plain

T = TypeVar("T")

_MIN_INTERVAL = 0.1  # seconds between bar updates; the last one always goes through


class JobCancelled(Exception):
    """Raised inside a job by its progress report once the user cancelled."""


class ProgressReport:
    """What a job calls to report progress; thread-safe, and it carries the cancel flag."""

    def __init__(self, screen: ProgressScreen[object]) -> None:
        self._screen = screen
        self._cancel = threading.Event()
        self._last = 0.0

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()

    def check(self) -> None:
        """Raise ``JobCancelled`` if the user cancelled (for jobs that do not report)."""
        if self._cancel.is_set():
            raise JobCancelled

    def __call__(self, done: int, total: int | None = None, label: str | None = None) -> None:
        self.check()
        now = monotonic()
        final = total is not None and done >= total
        if not final and now - self._last < _MIN_INTERVAL:
            return
        self._last = now
        self._screen.app.call_from_thread(self._screen.show_progress, done, total, label)


@localised
class ProgressScreen(ModalScreen[T | None], Generic[T]):
    """Run ``job`` in a worker behind a progress bar; Escape asks it to stop."""

    CSS_PATH = "progress.tcss"
    KEYS: ClassVar[tuple[Key, ...]] = (
        Key("escape", "cancel", "取消", "Cancel", id="progress.cancel"),
    )
    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(
        self,
        job: Callable[[ProgressReport], T],
        *,
        title: str,
        cancellable: bool = True,
    ) -> None:
        super().__init__()
        self._job = job
        self._title = title
        self._cancellable = cancellable
        self.report = ProgressReport(self)  # type: ignore[arg-type]
        self.failed: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="progress-dialog"):
            yield Label(plain(self._title), id="progress-title")
            yield ProgressBar(total=None, id="progress-bar", show_eta=False)
            yield Static(tr("处理中…", "Working…"), id="progress-status")
            if self._cancellable:
                yield Static(tr("Esc 取消", "Esc to cancel"), id="progress-hint")

    def on_mount(self) -> None:
        self.run_job()

    @work(thread=True, exclusive=True, exit_on_error=False, group="progress")
    def run_job(self) -> None:
        """The job itself; the result goes back to the UI thread, which dismisses."""
        try:
            result = self._job(self.report)
        except JobCancelled:
            self.app.call_from_thread(self._finish, None, tr("已取消", "Cancelled"))
            return
        except GroundcodeError as exc:
            self.app.call_from_thread(self._fail, one_line(exc))
            return
        self.app.call_from_thread(self._finish, result, None)

    def show_progress(self, done: int, total: int | None, label: str | None) -> None:
        bar = self.query_one("#progress-bar", ProgressBar)
        bar.update(total=total, progress=done)
        if label is not None:
            self.query_one("#progress-status", Static).update(plain(label))
        elif total:
            self.query_one("#progress-status", Static).update(f"{done} / {total}")

    def _finish(self, result: T | None, note: str | None) -> None:
        if note:
            self.notify(note, severity="warning")
        self.dismiss(result)

    def _fail(self, message: str) -> None:
        self.failed = message
        self.notify(message, severity="error", title=tr("未完成", "Not done"), markup=False)
        self.dismiss(None)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """An unexpected error: the app's handler reports it; the dialog must not hang."""
        if event.state == WorkerState.ERROR and self.is_attached:
            self.failed = str(event.worker.error)
            handler = getattr(self.app, "on_worker_state_changed", None)
            if callable(handler):
                handler(event)
            self.dismiss(None)

    def action_cancel(self) -> None:
        if not self._cancellable or self.report.cancelled:
            return
        self.report.cancel()
        self.query_one("#progress-status", Static).update(
            tr("正在取消…（在下一步停止）", "Cancelling… (stops at the next step)")
        )
