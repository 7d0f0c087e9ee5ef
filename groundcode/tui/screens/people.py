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

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label, Static

from groundcode.tui.commands import Key, localised
from groundcode.tui.context import ReportsWorkerErrors, app_of, project_of
from groundcode.tui.i18n import tr
from groundcode.tui.messages import ServiceResult
from groundcode.tui.screens.screening import ask

if TYPE_CHECKING:
    from groundcode.people.records import ProjectStatus

ROLE = {
    "lead": ("负责人", "lead"),
    "coder": ("编码人员", "coder"),
    "consensus": ("共识", "consensus"),
}
SCOPES = ("build", "holdout", "all")


@localised
class PeopleScreen(ReportsWorkerErrors, Screen[None]):
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

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []
        self.blind = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="people-status")
        yield Label(tr("人员与进度", "People and progress"), classes="panel-title")
        yield DataTable(id="people-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#people-table", DataTable)
        for key, zh, en in (
            ("name", "姓名", "Name"),
            ("role", "角色", "Role"),
            ("assigned", "已分配", "Assigned"),
            ("done", "已完成", "Done"),
            ("queue", "待编码", "Queue"),
            ("waiting", "待检验开始", "Waiting"),
        ):
            table.add_column(tr(zh, en), key=key)
        table.focus()
        self.reload()

    def on_screen_resume(self) -> None:
        self.reload()

    def action_reload(self) -> None:
        self.reload()

    @work(thread=True, exclusive=True, exit_on_error=False, group="people-load")
    def reload(self) -> None:
        p = project_of(self)
        coders = p.coding.coders()
        status = p.coding.status()
        frame = p.progress.progress()
        progress = {str(r["coder"]): r for r in frame.to_dict("records")} if len(frame) else {}
        self.post_message(
            ServiceResult("people", (coders, progress, status, p.progress.holdout_start()))
        )

    @work(thread=True, exclusive=False, exit_on_error=False, group="people-act")
    def act(self, what: str, *args: Any) -> None:
        p = project_of(self)
        if what == "add":
            name, role = args
            value: Any = p.coding.add_coder(name, role=role).name
        elif what == "blind":
            p.coding.set_blind_mode(args[0])
            value = args[0]
        elif what == "assign":
            coders, scope = args
            value = p.progress.assign(coders, split=scope).to_json()
        elif what == "import":
            value = self._import_codebook(Path(args[0]))
        else:
            value = str(p.codebook.export_yaml(Path(args[0]), force=args[1]))
        self.post_message(ServiceResult(f"did-{what}", value))

    def _import_codebook(self, path: Path) -> str:
        p = project_of(self)
        suffix = path.suffix.lower()
        if suffix == ".qdc":
            p.interchange.import_qdc(path)
        elif suffix == ".xlsx":
            p.interchange.import_codebook_xlsx(path)
        else:
            p.codebook.import_yaml(path)
        return path.name

    @on(ServiceResult)
    def _result(self, message: ServiceResult) -> None:
        message.stop()
        tag, value = message.tag, message.value
        if tag == "people":
            self._show(*value)
            return
        notes = {
            "did-add": tr(f"已新增 {value}", f"Added {value}"),
            "did-blind": tr("盲编已开启", "Blind mode on")
            if value is True
            else tr("盲编已关闭", "Blind mode off"),
            "did-import": tr(f"已导入编码本 {value}", f"Imported the codebook {value}"),
            "did-export": tr(f"已导出到 {value}", f"Exported to {value}"),
        }
        if tag == "did-assign":
            notes[tag] = tr(
                f"已分配 {value['documents']} 个文本给 {', '.join(value['coders'])}（新增 {value['added']}）",
                f"Assigned {value['documents']} documents to {', '.join(value['coders'])} ({value['added']} new)",
            )
        self.notify(notes.get(tag, tag))
        self.reload()

    def _show(
        self, coders: list[Any], progress: dict[str, Any], status: ProjectStatus, start: Any
    ) -> None:
        self.blind = bool(status.get("blind"))
        app = app_of(self)
        app.blind = self.blind
        app.update_header()
        self.names = [c.name for c in coders]
        table = self.query_one("#people-table", DataTable)
        table.clear()
        for c in coders:
            r = progress.get(c.name, {})
            table.add_row(
                c.name,
                tr(*ROLE.get(c.role, (c.role, c.role))),
                *(int(r.get(k, 0) or 0) for k in ("assigned", "done", "queue", "waiting")),
                key=c.name,
            )
        blind = tr("盲编：开", "blind: ON") if self.blind else tr("盲编：关", "blind: off")
        held = (
            tr(f"检验开始：{start:%Y-%m-%d %H:%M}", f"holdout start: {start:%Y-%m-%d %H:%M}")
            if start
            else tr("检验尚未开始", "holdout not started")
        )
        self.query_one("#people-status", Static).update(
            tr(f"{len(coders)} 人 · {blind} · {held}", f"{len(coders)} people · {blind} · {held}")
        )

    # -- actions ---------------------------------------------------------
    def action_add(self, role: str) -> None:
        def done(name: str | None) -> None:
            if name:
                self.act("add", name, role)

        title = (
            tr("新负责人的名字", "Name of the new lead")
            if role == "lead"
            else tr("新编码人员的名字", "Name of the new coder")
        )
        ask(self, title, "", done)

    def action_toggle_blind(self) -> None:
        self.act("blind", not self.blind)

    def action_assign(self) -> None:
        coders = [n for n in self.names if n != "consensus"]

        def scoped(coders_text: str | None) -> None:
            if not coders_text:
                return
            names = [n.strip() for n in coders_text.replace("，", ",").split(",") if n.strip()]

            def done(scope: str | None) -> None:
                if scope:
                    self.act("assign", names, scope)

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
                self.act("import", str(Path(path).expanduser()))

        ask(
            self, tr("编码本文件（.yaml .xlsx .qdc）", "Codebook file (.yaml .xlsx .qdc)"), "", done
        )

    def action_export_codebook(self) -> None:
        def done(path: str | None) -> None:
            if path:
                target = Path(path).expanduser()
                self.act("export", str(target), target.exists())

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
