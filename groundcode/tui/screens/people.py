"""People: coders and roles, blind mode, assignments and each coder's progress, the codebook files.

The table is ``ProgressService.progress()`` beside the project's people: per
coder the documents assigned, marked done, left in the queue and waiting
for the holdout start. A lead adds coders (``a``) and leads (``A``), turns
blind mode on or off (``b``), assigns documents (``g``: a split, or all
included, to the coders named), imports a codebook file (``c``: .yaml,
.xlsx, .qdc) and exports it (``x``). Each action is one service call in a
worker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.binding import BindingType
from textual.message import Message
from textual.widgets import Static

from groundcode.tui.commands import Key, localised
from groundcode.tui.context import app_of, posted, project_of, run_service
from groundcode.tui.i18n import tr
from groundcode.tui.safe import plain
from groundcode.tui.screens.listing import ListScreen
from groundcode.tui.screens.screening import ask

if TYPE_CHECKING:
    from groundcode.coding.progress import AssignResult, CoderProgress
    from groundcode.people.records import CoderView, ProjectStatus

ROLE = {
    "lead": ("负责人", "lead"),
    "coder": ("编码人员", "coder"),
    "consensus": ("共识", "consensus"),
}
SCOPES = ("build", "holdout", "all")


@localised
class PeopleScreen(ListScreen[str]):
    """Coders, roles, blind mode, assignments, progress and codebook files."""

    CSS_PATH = "people.tcss"
    KEYS: ClassVar[tuple[Key, ...]] = (
        Key("a", "add('coder')", "新增编码人员", "Add coder", id="people.add"),
        Key("A", "add('lead')", "新增负责人", "Add lead", id="people.add_lead"),
        Key("b", "toggle_blind", "盲编开关", "Blind mode", id="people.blind"),
        Key("g", "assign", "分配文本", "Assign", id="people.assign"),
        Key("c", "import_codebook", "导入编码本", "Import codebook", id="people.codebook_import"),
        Key("x", "export_codebook", "导出编码本", "Export codebook", id="people.codebook_export"),
        Key("r", "reload", "刷新", "Refresh", id="people.reload", show=False),
    )
    BINDINGS: ClassVar[list[BindingType]] = []
    TABLE_ID = "people-table"
    STATUS_ID = "people-status"
    HEADING = ("人员与进度", "People and progress")
    COLUMNS = (
        ("name", "姓名", "Name"),
        ("role", "角色", "Role"),
        ("assigned", "已分配", "Assigned"),
        ("done", "已完成", "Done"),
        ("queue", "待编码", "Queue"),
        ("waiting", "待检验开始", "Waiting"),
    )

    # -- one message per kind of result or change -------------------------
    @dataclass
    class Loaded(Message):
        coders: list[CoderView]
        progress: dict[str, CoderProgress]  # coder -> their row (blind mode applied in the room)
        status: ProjectStatus
        holdout_start: datetime | None

    @dataclass
    class CoderAdded(Message):
        name: str

    @dataclass
    class BlindSet(Message):
        on: bool

    @dataclass
    class Assigned(Message):
        result: AssignResult

    @dataclass
    class CodebookImported(Message):
        name: str

    @dataclass
    class CodebookExported(Message):
        path: Path

    def __init__(self) -> None:
        super().__init__()
        self.blind = False

    @property
    def names(self) -> list[str]:
        return self.records

    def reload(self) -> None:
        def call() -> PeopleScreen.Loaded:
            p = project_of(self)
            progress = {r.coder: r for r in p.progress.progress_rows()}
            return self.Loaded(
                p.people.coders(), progress, p.people.status(), p.progress.holdout_start()
            )

        run_service(self, call, posted, group="people-load")

    def _change(self, call: Callable[[], Message]) -> None:
        run_service(self, call, posted, group="people-act", exclusive=False)

    def _import_codebook(self, path: Path) -> PeopleScreen.CodebookImported:
        p = project_of(self)
        suffix = path.suffix.lower()
        if suffix == ".qdc":
            p.interchange.import_qdc(path)
        elif suffix == ".xlsx":
            p.interchange.import_codebook_xlsx(path)
        else:
            p.codebook.import_yaml(path)
        return self.CodebookImported(path.name)

    @on(Loaded)
    def _show(self, message: Loaded) -> None:
        message.stop()
        coders, progress, status, start = (
            message.coders,
            message.progress,
            message.status,
            message.holdout_start,
        )
        self.blind = bool(status.get("blind"))
        app = app_of(self)
        app.blind = self.blind
        app.update_header()
        self.records = [c.name for c in coders]
        table = self.table
        table.clear()
        for c in coders:
            r = progress.get(c.name)
            table.add_row(
                c.name,
                tr(*ROLE.get(c.role, (c.role, c.role))),
                *((r.assigned, r.done, r.queue, r.waiting) if r else (0, 0, 0, 0)),
                key=c.name,
            )
        blind = tr("盲编：开", "blind: ON") if self.blind else tr("盲编：关", "blind: off")
        held = (
            tr(f"检验开始：{start:%Y-%m-%d %H:%M}", f"holdout start: {start:%Y-%m-%d %H:%M}")
            if start
            else tr("检验尚未开始", "holdout not started")
        )
        self.query_one("#people-status", Static).update(
            plain(
                tr(
                    f"{len(coders)} 人 · {blind} · {held}",
                    f"{len(coders)} people · {blind} · {held}",
                )
            )
        )

    def _changed(self, message: Message, note: str) -> None:
        message.stop()
        self.notify(note)
        self.reload()

    @on(CoderAdded)
    def _coder_added(self, message: CoderAdded) -> None:
        self._changed(message, tr(f"已新增 {message.name}", f"Added {message.name}"))

    @on(BlindSet)
    def _blind_set(self, message: BlindSet) -> None:
        note = (
            tr("盲编已开启", "Blind mode on") if message.on else tr("盲编已关闭", "Blind mode off")
        )
        self._changed(message, note)

    @on(Assigned)
    def _assigned(self, message: Assigned) -> None:
        r = message.result
        self._changed(
            message,
            tr(
                f"已分配 {r.documents} 个文本给 {', '.join(r.coders)}（新增 {r.added}）",
                f"Assigned {r.documents} documents to {', '.join(r.coders)} ({r.added} new)",
            ),
        )

    @on(CodebookImported)
    def _imported(self, message: CodebookImported) -> None:
        self._changed(
            message, tr(f"已导入编码本 {message.name}", f"Imported the codebook {message.name}")
        )

    @on(CodebookExported)
    def _exported(self, message: CodebookExported) -> None:
        self._changed(message, tr(f"已导出到 {message.path}", f"Exported to {message.path}"))

    # -- actions ---------------------------------------------------------
    def action_add(self, role: str) -> None:
        def done(name: str | None) -> None:
            if name:
                self._change(
                    lambda: self.CoderAdded(project_of(self).people.add_coder(name, role=role).name)
                )

        title = (
            tr("新负责人的名字", "Name of the new lead")
            if role == "lead"
            else tr("新编码人员的名字", "Name of the new coder")
        )
        ask(self, title, "", done)

    def action_toggle_blind(self) -> None:
        on = not self.blind

        def call() -> PeopleScreen.BlindSet:
            project_of(self).people.set_blind_mode(on)
            return self.BlindSet(on)

        self._change(call)

    def action_assign(self) -> None:
        coders = [n for n in self.names if n != "consensus"]

        def scoped(coders_text: str | None) -> None:
            if not coders_text:
                return
            names = [n.strip() for n in coders_text.replace("，", ",").split(",") if n.strip()]

            def done(scope: str | None) -> None:
                if scope:
                    self._change(
                        lambda: self.Assigned(project_of(self).progress.assign(names, split=scope))
                    )

            ask(
                self,
                tr("分配哪些文本：build / holdout / all", "Which documents: build / holdout / all"),
                "build",
                done,
                choices=list(SCOPES),
                strict=True,
            )

        ask(self, tr("分配给（逗号分隔）", "Assign to (comma separated)"), ",".join(coders), scoped)

    def action_import_codebook(self) -> None:
        def done(path: str | None) -> None:
            if path:
                target = Path(path).expanduser()
                self._change(lambda: self._import_codebook(target))

        ask(
            self, tr("编码本文件（.yaml .xlsx .qdc）", "Codebook file (.yaml .xlsx .qdc)"), "", done
        )

    def action_export_codebook(self) -> None:
        def done(path: str | None) -> None:
            if path:
                target = Path(path).expanduser()
                force = target.exists()
                self._change(
                    lambda: self.CodebookExported(
                        project_of(self).codebook.export_yaml(target, force=force)
                    )
                )

        ask(
            self,
            tr("导出编码本到（.yaml）", "Export the codebook to (.yaml)"),
            str(Path.cwd() / "codebook.yaml"),
            done,
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("toggle_blind", "assign", "import_codebook"):
            return app_of(self).is_lead
        return True
