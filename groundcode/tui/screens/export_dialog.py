"""The export dialog: what to export, in which format and language, to which folder.

It gathers the choices, runs the export behind a ``ProgressScreen`` (a thread
worker: files are never written on the UI thread) and dismisses with the
paths written, so the caller can say where they went. Existing files are
refused unless "overwrite" is on; the refusal is the service's one line, and
the dialog stays open so the user can switch overwrite on or pick a folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Select, Static, Switch

from groundcode.domain.notice import say
from groundcode.tui.commands import Key, localised
from groundcode.tui.context import project_of
from groundcode.tui.i18n import language, tr
from groundcode.tui.safe import plain
from groundcode.tui.screens.progress import ProgressReport, ProgressScreen

if TYPE_CHECKING:
    from groundcode.project import Project

# kind -> formats offered (first is the default); an empty tuple: the export decides.
FORMATS: dict[str, tuple[str, ...]] = {
    "tables": ("xlsx", "csv", "md", "tex", "docx"),
    "segments": ("xlsx", "csv"),
    "codebook": ("yaml", "xlsx", "qdc"),
    "qdpx": ("qdpx",),
    "saturation": (),
    "model": (),
    "all": (),
}
USES_LANGUAGE = {"tables", "all"}
USES_OVERWRITE = {"tables", "segments", "codebook", "qdpx", "saturation", "model"}


def kind_label(kind: str) -> str:
    return {
        "tables": tr("论文表格（表 1、表 2）", "Paper tables (Table 1, Table 2)"),
        "segments": tr("编码片段", "Coded segments"),
        "codebook": tr("编码本", "Codebook"),
        "qdpx": tr("REFI-QDA 项目（QDPX）", "REFI-QDA project (QDPX)"),
        "saturation": tr("饱和度报告", "Saturation report"),
        "model": tr("模型报告", "Model report"),
        "all": tr("全部（新建带时间的文件夹）", "Everything (a new dated folder)"),
    }[kind]


@dataclass(frozen=True)
class ExportRequest:
    """The dialog's choices, as the export job needs them."""

    kind: str
    fmt: str | None
    lang: str
    folder: Path
    overwrite: bool

    def targets(self) -> list[Path]:
        """The files (or folder) this request writes, for the preview line."""
        folder = self.folder
        if self.kind == "tables":
            names = {
                "xlsx": ["tables.xlsx"],
                "csv": ["table1.csv", "table2.csv"],
                "md": ["tables.md"],
                "tex": ["tables.tex", "tables-body.tex"],
                "docx": ["tables.docx"],
            }[self.fmt or "xlsx"]
            return [folder / n for n in names]
        if self.kind in ("segments", "codebook"):
            return [folder / f"{self.kind}.{self.fmt}"]
        if self.kind == "qdpx":
            return [folder / "project.qdpx"]
        if self.kind == "saturation":
            return [folder / "saturation"]
        if self.kind == "model":
            return [folder / "model"]
        return [folder / "YYYY-MM-DD-HHMMSS"]


def run_export(
    p: Project, request: ExportRequest, report: ProgressReport
) -> tuple[list[Path], list[str]]:
    """Write the export (in a worker thread); returns the paths and any warnings.

    A file in the way comes back as ``AlreadyExists``; the progress screen words
    it with this dialog's own switch ("Overwrite existing files").
    """
    return _export(p, request, report)


def _export(
    p: Project, request: ExportRequest, report: ProgressReport
) -> tuple[list[Path], list[str]]:
    report(0, 1, tr("正在导出…", "Exporting…"))
    force = request.overwrite
    folder = request.folder
    warnings: list[str] = []
    if request.kind == "tables":
        paths = p.exports.tables(
            fmt=request.fmt or "xlsx", lang=request.lang, out_dir=folder, force=force
        )
    elif request.kind == "segments":
        paths = [p.exports.segments(folder / f"segments.{request.fmt}", force=force)]
    elif request.kind == "codebook":
        paths = [p.exports.codebook(folder / f"codebook.{request.fmt}", force=force)]
    elif request.kind == "qdpx":
        path, warnings = p.interchange.export_qdpx(folder / "project.qdpx", force=force)
        paths = [path]
    elif request.kind == "saturation":
        paths = p.exports.saturation(folder / "saturation", force=force)
    elif request.kind == "model":
        paths = p.exports.model_report(folder / "model", force=force)
    else:
        _folder, paths = p.exports.all(folder, lang=request.lang)
    report(1, 1, tr("完成", "Done"))
    return [Path(x) for x in paths], list(warnings)


@localised
class ExportScreen(ModalScreen[list[Path] | None]):
    """Choose what, format, language, folder and overwrite; export; return the paths."""

    CSS_PATH = "export_dialog.tcss"
    # Below 34 rows the dialog is laid out compactly (``-short``), so that at 24
    # rows the overwrite switch, the preview and the buttons stay in view.
    VERTICAL_BREAKPOINTS = [(0, "-short"), (34, "-tall")]
    KEYS: ClassVar[tuple[Key, ...]] = (
        Key("escape", "cancel", "取消", "Cancel", id="export.cancel"),
        Key("ctrl+s", "export", "导出", "Export", id="export.run"),
        Key("e", "export", "导出", "Export", id="export.run_e", show=False),
    )
    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self, *, folder: Path | str = "exports", kind: str = "tables") -> None:
        super().__init__()
        self._folder = str(folder)
        self._kind = kind if kind in FORMATS else "tables"
        self.warnings: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="export-dialog"):
            yield Label(tr("导出", "Export"), id="export-title")
            with Horizontal(id="export-columns"):
                with Vertical(id="export-left"):
                    yield Label(tr("导出内容", "What"), classes="export-label")
                    with RadioSet(id="export-what"):
                        for kind in FORMATS:
                            yield RadioButton(kind_label(kind), value=kind == self._kind, name=kind)
                with Vertical(id="export-right"):
                    yield Label(tr("格式", "Format"), classes="export-label")
                    yield Select[str]([], id="export-format", allow_blank=True, prompt="—")
                    yield Label(tr("表头语言", "Language"), classes="export-label")
                    with RadioSet(id="export-lang"):
                        yield RadioButton("中文", value=language() == "zh", name="zh")
                        yield RadioButton("English", value=language() == "en", name="en")
                    yield Label(tr("文件夹", "Folder"), classes="export-label")
                    yield Input(self._folder, id="export-folder")
                    with Horizontal(id="export-overwrite-row"):
                        yield Switch(value=False, id="export-overwrite")
                        yield Label(tr("覆盖已有文件", "Overwrite existing files"))
            yield Static(id="export-preview")
            with Horizontal(id="export-buttons"):
                yield Button(
                    tr("导出 (ctrl+s)", "Export (ctrl+s)"), id="export-run", variant="primary"
                )
                yield Button(tr("取消 (Esc)", "Cancel (Esc)"), id="export-cancel")

    def on_mount(self) -> None:
        self._update_formats()
        self.query_one("#export-what", RadioSet).focus()

    # -- the form -------------------------------------------------------------
    def _selected(self, radio_id: str, default: str) -> str:
        pressed = self.query_one(radio_id, RadioSet).pressed_button
        return pressed.name if pressed is not None and pressed.name else default

    @property
    def kind(self) -> str:
        return self._selected("#export-what", "tables")

    def _update_formats(self) -> None:
        formats = FORMATS[self.kind]
        select = self.query_one("#export-format", Select)
        select.set_options([(f, f) for f in formats])
        select.disabled = len(formats) <= 1
        if formats:
            select.value = formats[0]  # each kind starts at its usual format
        self.query_one("#export-lang", RadioSet).disabled = self.kind not in USES_LANGUAGE
        self.query_one("#export-overwrite", Switch).disabled = self.kind not in USES_OVERWRITE
        self._update_preview()

    def _update_preview(self) -> None:
        request = self.request()
        shown = ", ".join(str(t) for t in request.targets())
        self.query_one("#export-preview", Static).update(
            plain(tr(f"将写入：{shown}", f"Writes: {shown}"))
        )

    def request(self) -> ExportRequest:
        """The current choices."""
        select = self.query_one("#export-format", Select)
        fmt = select.value if isinstance(select.value, str) else None
        folder = self.query_one("#export-folder", Input).value.strip() or "exports"
        return ExportRequest(
            kind=self.kind,
            fmt=fmt,
            lang=self._selected("#export-lang", language()),
            folder=Path(folder).expanduser(),
            overwrite=self.query_one("#export-overwrite", Switch).value,
        )

    def select_kind(self, kind: str) -> None:
        """Press the radio button for ``kind`` (tests and callers that preselect)."""
        for button in self.query_one("#export-what", RadioSet).query(RadioButton):
            if button.name == kind:
                button.value = True

    @on(RadioSet.Changed, "#export-what")
    def _kind_changed(self, event: RadioSet.Changed) -> None:
        self._update_formats()

    @on(Select.Changed, "#export-format")
    @on(Input.Changed, "#export-folder")
    @on(RadioSet.Changed, "#export-lang")
    @on(Switch.Changed, "#export-overwrite")
    def _changed(self) -> None:
        self._update_preview()

    @on(Input.Submitted, "#export-folder")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_export()

    @on(Button.Pressed, "#export-run")
    def _run_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_export()

    @on(Button.Pressed, "#export-cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    # -- actions ------------------------------------------------------------
    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_export(self) -> None:
        self.export(self.request())

    @work(group="export-dialog", exclusive=True)
    async def export(self, request: ExportRequest) -> None:
        """Run the export behind a progress dialog; stay open if nothing was written."""
        project = project_of(self)
        result = await self.app.push_screen_wait(
            ProgressScreen(
                lambda report: run_export(project, request, report),
                title=tr(
                    f"导出{kind_label(request.kind)}", f"Exporting: {kind_label(request.kind)}"
                ),
            )
        )
        if result is None:
            return  # cancelled or refused (the reason was notified): the user may change a choice
        paths, warnings = result
        self.warnings = warnings
        for warning in warnings:
            self.notify(say(warning, language()), severity="warning", markup=False)
        self.dismiss(paths)
