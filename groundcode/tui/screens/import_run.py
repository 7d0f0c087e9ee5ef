"""Importing the chosen files: a progress bar per file, Escape to cancel, a result per file.

Each file is one call of ``CorpusService.import_files`` in a thread worker;
the service reports every phase (reading, preparing, writing) through the
progress callback and its single transaction is aborted when the callback
raises, so a cancelled file leaves nothing and the files after it are not
started.

The worker never waits for the screen: its callback only records how far
the file is (and raises once Escape was pressed). A timer on the UI thread
draws that state ten times a second with the time the file has taken, so
the bar keeps moving through phases that report nothing, above all the
commit of the file's single transaction ("committing · 3.2 s"), and the
import does no UI work of its own. Results are plain lines: "N documents added as T-a..T-b",
"already imported", the error with its row, or "cancelled".
"""

from __future__ import annotations

import threading
from time import monotonic
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, ProgressBar, Static

from groundcode.tui.commands import Key, localised
from groundcode.tui.context import ReportsWorkerErrors, project_of
from groundcode.tui.i18n import tr
from groundcode.tui.safe import plain

if TYPE_CHECKING:
    from groundcode.tui.screens.importer import ImportItem

_TICK = 0.1  # seconds between redraws of the running file's bar and line


class ImportCancelled(Exception):
    """Raised from the progress callback once the user pressed Escape."""


@localised
class ImportRunScreen(ReportsWorkerErrors, ModalScreen[list[tuple[str, bool]] | None]):
    """Runs the imports; dismisses with one (result line, failed) per file."""

    CSS_PATH = "import_run.tcss"
    KEYS: ClassVar[tuple[Key, ...]] = (
        Key("escape", "cancel", "取消导入", "Cancel import", id="import_run.cancel"),
        Key("enter", "close", "关闭", "Close", id="import_run.close"),
    )
    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self, items: list[ImportItem], segment: str | None) -> None:
        super().__init__()
        self.items = items
        self.segment = segment
        self.cancel_event = threading.Event()
        self.results: list[tuple[str, bool]] = []
        self.finished = False
        self.updates = 0  # progress updates shown (the benchmark reads it)
        # The running file and how far it is, written by the worker, drawn by the timer.
        self._running_file: int | None = None
        self._state: tuple[int, int] = (0, 0)
        self._started_at = 0.0
        self._drawn: tuple[int, int, int] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="run-dialog"):
            yield Label(tr("导入中", "Importing"), id="run-title")
            with VerticalScroll(id="run-files"):
                for i, item in enumerate(self.items):
                    yield Label(plain(item.path.name), classes="run-name")
                    yield ProgressBar(total=None, id=f"run-bar-{i}", show_eta=False)
                    yield Static("", id=f"run-line-{i}", classes="run-line")
            yield Static(
                tr(
                    "Esc 取消（当前文件不留下任何内容）",
                    "Esc cancels (the current file leaves nothing)",
                ),
                id="run-hint",
            )

    def on_mount(self) -> None:
        self.set_interval(_TICK, self._tick)
        self.run_imports()

    def _report(self, i: int, done: int, total: int) -> None:
        """The worker's progress callback: record the state, or raise once cancelled."""
        if self.cancel_event.is_set():
            raise ImportCancelled
        self._state = (done, total)

    # -- the job ---------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="import-run")
    def run_imports(self) -> None:
        from groundcode.corpus.mapping import options_for
        from groundcode.tui.i18n import one_line

        corpus = project_of(self).corpus
        for i, item in enumerate(self.items):
            if self.cancel_event.is_set():
                self._line(i, tr("已取消，未开始", "cancelled, not started"), True)
                continue
            self._state = (0, 0)
            self.app.call_from_thread(self._start, i)

            def progress(done: int, total: int, i: int = i) -> None:
                self._report(i, done, total)

            options = options_for(item.mapping) if item.mapping else {}
            try:
                report = corpus.import_files(
                    [item.path],
                    type=item.type_id,
                    segment=self.segment,
                    progress=progress,
                    **options,
                )
            except ImportCancelled:
                self._line(
                    i,
                    tr("已取消：此文件没有导入任何内容", "cancelled: nothing of this file kept"),
                    True,
                )
                continue
            except Exception as exc:
                self._line(i, one_line(exc), True)
                continue
            f = report.files[0]
            if f.status == "already imported":
                self._line(i, tr("此前已导入", "already imported"), False)
            else:
                self._line(
                    i,
                    tr(
                        f"新增 {f.documents} 个文本：{f.first}..{f.last}",
                        f"{f.documents} documents added as {f.first}..{f.last}",
                    ),
                    False,
                )
        self.app.call_from_thread(self._done)

    def _line(self, i: int, text: str, failed: bool) -> None:
        self.results.append((text, failed))
        self.app.call_from_thread(self._show_line, i, text, failed)
        self._running_file = None

    # -- UI thread ---------------------------------------------------------
    def _start(self, i: int) -> None:
        self.query_one(f"#run-bar-{i}", ProgressBar).update(total=100, progress=0)
        self.query_one(f"#run-line-{i}", Static).update(tr("读取中…", "reading…"))
        self.query_one(f"#run-bar-{i}").scroll_visible()
        self._drawn = None
        self._started_at = monotonic()
        self._running_file = i

    def _tick(self) -> None:
        """Draw the running file's state (the timer: the worker never calls into the UI)."""
        i = self._running_file
        if i is not None and not self.finished:
            done, total = self._state
            self._progress(i, done, total)

    def _progress(self, i: int, done: int, total: int) -> None:
        """One progress update shown: the bar when it moved, the phase and the time taken."""
        self.updates += 1
        elapsed = monotonic() - self._started_at
        if total <= 0:
            self.query_one(f"#run-line-{i}", Static).update(
                tr(f"读取中… {elapsed:.1f} 秒", f"reading… {elapsed:.1f} s")
            )
            return
        if self._drawn is None or self._drawn[:2] != (i, done):
            self.query_one(f"#run-bar-{i}", ProgressBar).update(total=total, progress=done)
        self._drawn = (i, done, total)
        phase = done / max(1, total)
        label = (
            tr("读取中", "reading")
            if phase < 0.25
            else tr("准备中", "preparing")
            if phase < 0.5
            else tr("写入中", "writing")
            if phase < 1
            else tr("提交中", "committing")
        )
        self.query_one(f"#run-line-{i}", Static).update(
            f"{label} {int(phase * 100)}% · {elapsed:.1f} {tr('秒', 's')}"
        )

    def _show_line(self, i: int, text: str, failed: bool) -> None:
        bar = self.query_one(f"#run-bar-{i}", ProgressBar)
        if not failed:
            bar.update(total=100, progress=100)
        line = self.query_one(f"#run-line-{i}", Static)
        line.update(plain(text))
        line.set_class(failed, "failed")

    def _done(self) -> None:
        self.finished = True
        self.query_one("#run-title", Label).update(tr("导入完成", "Import finished"))
        self.query_one("#run-hint", Static).update(tr("Enter 关闭", "Enter closes"))
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "close":
            return self.finished
        return True

    def action_cancel(self) -> None:
        if self.finished:
            self.dismiss(self.results)
            return
        self.cancel_event.set()
        self.query_one("#run-hint", Static).update(tr("正在取消…", "Cancelling…"))

    def action_close(self) -> None:
        if self.finished:
            self.dismiss(self.results)
