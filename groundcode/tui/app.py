"""The groundcode TUI: the App, its modes, global keys and ``make_app``.

Screens live in ``screens/`` (one per file) and are imported only when their
mode is first shown, so start-up stays light: nothing here imports pandas.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import BindingType
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from groundcode.domain.errors import BadOption, Missing
from groundcode.tui.commands import Key, localised, relocalise
from groundcode.tui.context import posted, run_service
from groundcode.tui.i18n import (
    language,
    one_line,
    remember_language,
    remembered_language,
    set_language,
    tr,
)
from groundcode.tui.messages import (
    CoderPicked,
    IdentityLoaded,
    OpenDocument,
    ProjectFailed,
    ProjectOpened,
    ProjectReady,
    ProjectSwitched,
)
from groundcode.tui.safe import shown

if TYPE_CHECKING:
    # Imported when the project opens, in a worker after the first paint: SQLAlchemy
    # and the tables cost about as much as Textual itself.
    from groundcode.people.records import ProjectStatus
    from groundcode.project import Project

# mode -> (module in groundcode.tui.screens, class); keys 1-7 follow this order.
MODE_SCREENS: dict[str, tuple[str, str]] = {
    "dashboard": ("dashboard", "DashboardScreen"),
    "corpus": ("corpus", "CorpusScreen"),
    "coding": ("coding", "CodingScreen"),
    "codebook": ("codebook", "CodebookScreen"),
    "agreement": ("agreement", "AgreementScreen"),
    "saturation": ("saturation", "SaturationScreen"),
    "model": ("model", "ModelScreen"),
}

MODE_LABELS: dict[str, tuple[str, str]] = {
    "dashboard": ("总览", "Dashboard"),
    "corpus": ("语料", "Corpus"),
    "coding": ("编码", "Coding"),
    "codebook": ("编码本", "Codebook"),
    "agreement": ("信度", "Agreement"),
    "saturation": ("饱和度", "Saturation"),
    "model": ("模型", "Model"),
}

# The study screens (SPEC §7): mode -> (module, class), its key and its label.
STUDY_SCREENS: dict[str, tuple[str, str]] = {
    "import": ("importer", "ImportScreen"),
    "screening": ("screening", "ScreeningScreen"),
    "reposts": ("reposts", "RepostScreen"),
    "sampling": ("sampling", "SamplingScreen"),
    "people": ("people", "PeopleScreen"),
    "retrieval": ("retrieval", "RetrievalScreen"),
    "memos": ("memos", "MemosScreen"),
}
STUDY_KEYS: dict[str, tuple[str, str, str]] = {
    "import": ("I", "导入", "Import"),
    "screening": ("S", "筛选", "Screening"),
    "reposts": ("D", "转发审核", "Reposts"),
    "sampling": ("P", "抽样与划分", "Sample & split"),
    "people": ("C", "人员", "People"),
    "retrieval": ("G", "检索", "Retrieval"),
    "memos": ("M", "备忘录", "Memos"),
}

ROLE_LABELS: dict[str, tuple[str, str]] = {
    "lead": ("负责人", "lead"),
    "coder": ("编码人员", "coder"),
}


def _lazy_screen(module: str, name: str) -> Callable[[], Screen[Any]]:
    """A factory that imports a screen's module the first time its mode opens."""

    def make() -> Screen[Any]:
        mod = importlib.import_module(f"groundcode.tui.screens.{module}")
        screen: Screen[Any] = getattr(mod, name)()
        return screen

    make.__name__ = f"make_{name}"
    return make


def _global_keys() -> tuple[Key, ...]:
    modes = tuple(
        Key(str(i), f"app.switch_mode('{mode}')", zh, en, id=f"app.mode.{mode}", show=i <= 3)
        for i, (mode, (zh, en)) in enumerate(MODE_LABELS.items(), start=1)
    )
    study = tuple(
        Key(key, f"app.switch_mode('{mode}')", zh, en, id=f"app.mode.{mode}", show=False)
        for mode, (key, zh, en) in STUDY_KEYS.items()
    )
    return (
        *modes,
        *study,
        Key("e", "app.export", "导出", "Export", id="app.export"),
        # ctrl+o, not a letter: the passage view takes most letters (``w`` is its
        # next clause) and a focused text field takes every printable key, so only
        # a control key no widget binds reaches the switch from every screen.
        Key(
            "ctrl+o", "app.switch_user", "切换用户", "Switch user", id="app.switch_user", show=False
        ),
        Key("question_mark", "app.toggle_help", "按键帮助", "Keys", id="app.help", key_display="?"),
        Key("l", "app.switch_language", "English", "中文", id="app.language"),
        Key("q", "app.quit", "退出", "Quit", id="app.quit"),
    )


@localised
class GroundcodeApp(App[None]):
    """The workbench: seven modes (dashboard .. model) over one project."""

    CSS_PATH = "app.tcss"
    TITLE = "groundcode"
    MODES: ClassVar[dict[str, str | Callable[[], Screen[Any]]]] = {
        mode: _lazy_screen(*spec) for mode, spec in {**MODE_SCREENS, **STUDY_SCREENS}.items()
    }
    KEYS: ClassVar[tuple[Key, ...]] = _global_keys()
    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(
        self,
        project: Project | None,
        *,
        start_location: str | None = None,
        start_problem: str | None = None,
        start_user: str | None = None,
        sign_in: str | None = None,
        open_location: str | None = None,
    ) -> None:
        super().__init__()
        # A project to open in a worker once the dashboard is painted (``make_app``).
        self.open_location = open_location
        # serve on PostgreSQL: the project at ``sign_in`` opens as whoever signs in.
        self.sign_in_location = sign_in
        # No project (a bare `groundcode` in an empty folder): the start screen opens one.
        self._project = project
        self.start_location = start_location
        self.start_problem = start_problem
        self.start_user = start_user
        self.role: str | None = None
        self.blind: bool = False
        self.project_name: str = ""
        self.pending_document: tuple[str, int | None] | None = None
        self.recent_concepts: list[str] = []
        self._started = False

    @property
    def project(self) -> Project:
        if self._project is None:
            raise Missing(what="no_open_project")
        return self._project

    @project.setter
    def project(self, value: Project) -> None:
        self._project = value

    @property
    def has_project(self) -> bool:
        return self._project is not None

    @property
    def started(self) -> bool:
        """Whether the project is open and the acting coder known (screens may query)."""
        return self._started

    # -- start-up --------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield from ()

    async def on_mount(self) -> None:
        if self._project is None and self.sign_in_location:
            from groundcode.tui.screens.sign_in import SignInScreen

            shown = self.start_location or self.sign_in_location
            self.push_screen(
                SignInScreen(self.sign_in_location, shown), callback=self._project_opened
            )
            return
        if self._project is None and self.open_location:
            # Paint the dashboard's frame at once; it fills in when the project is open.
            await self.switch_mode("dashboard")
            # Only once the dashboard itself has been painted (the screen runs callbacks
            # after its repaint): the worker's imports of SQLAlchemy and pandas hold the
            # GIL and, started earlier, doubled the time to the first paint.
            self.screen.call_after_refresh(self.open_project, self.open_location, self.start_user)
            return
        if self._project is None:
            self.show_start()
            return
        self._remember(self._project)
        self.load_identity()

    def open_project(self, location: str, user: str | None) -> None:
        """Open the project and read who is acting, off the UI thread; a refusal (no
        project there, not a project) brings the start screen with that one line."""

        def call() -> ProjectOpened:
            from groundcode.project import Project

            project = Project.open(location, user=user)
            return ProjectOpened(project, project.people.status(), project.people.role())

        run_service(
            self,
            call,
            posted,
            group="identity",
            refused=lambda exc: ProjectFailed(one_line(exc)),
        )

    def show_start(self) -> None:
        """The start screen: new project, recent projects, demo."""
        from groundcode.tui.screens.start import StartScreen

        self.push_screen(
            StartScreen(self.start_location, self.start_problem), callback=self._project_opened
        )

    def _project_opened(self, opened: tuple[Project, str | None] | None) -> None:
        if opened is None:
            self.exit()
            return
        project, user = opened
        self._project = project if user is None else project.as_user(user)
        self._remember(self._project)
        self.load_identity()

    @staticmethod
    def _remember(project: Project) -> None:
        from groundcode.tui.recent import remember_project

        if "***" not in project.location:
            remember_project(project.location)

    def load_identity(self) -> None:
        """Who is acting, in which role, on which project, and is it blind."""
        p = self.project
        run_service(
            self,
            lambda: IdentityLoaded(p.people.status(), p.people.role()),
            posted,
            group="identity",
        )

    def on_project_opened(self, message: ProjectOpened) -> None:
        self._project = message.project
        self._remember(message.project)
        self._apply_identity(message.status, message.role)

    def on_project_failed(self, message: ProjectFailed) -> None:
        self.start_problem = message.problem
        self.start_location = self.open_location
        self.show_start()

    def on_identity_loaded(self, message: IdentityLoaded) -> None:
        self._apply_identity(message.status, message.role)

    def on_coder_picked(self, message: CoderPicked) -> None:
        self.project = self.project.as_user(message.name)
        self.load_identity()

    def on_project_switched(self, message: ProjectSwitched) -> None:
        self.run_worker(
            self._switched(message.project, message.status, message.role), group="switch-user"
        )

    def _apply_identity(self, status: ProjectStatus, role: str | None) -> None:
        self.project_name = status.get("name") or Path(self.project.location).stem
        self.blind = bool(status.get("blind"))
        self.role = role
        self.update_header()
        if self._started:
            return
        if role is None:
            from groundcode.tui.screens.who import WhoScreen

            if self.project.user:
                self.notify(
                    tr(
                        f"项目中没有编码人员 {self.project.user}",
                        f"{self.project.user} is not a coder of this project",
                    ),
                    severity="warning",
                )
            self.push_screen(WhoScreen(), callback=self._coder_picked)
            return
        self._started = True
        if self.current_mode == "dashboard":
            # Shown before the project was open: fill it in now.
            self.get_screen_stack("dashboard")[0].post_message(ProjectReady())
        else:
            self.switch_mode("dashboard")

    def _coder_picked(self, name: str | None) -> None:
        if not name:
            self.exit()
            return
        self.post_message(CoderPicked(name))

    # -- the person switch -----------------------------------------------
    def action_switch_user(self) -> None:
        """Act as someone else: pick a person (single-user) or sign in as another login (team).

        On SQLite the file is the trust boundary, so everyone is listed and a
        lead can always come back, blind mode or not. A project opened through
        the sign-in screen (team mode) switches by signing in again: the
        database, not a name picked here, decides who acts.
        """
        if not self._started or len(self.screen_stack) > 1:
            # A dialog (or the switch itself) is open: it is finished first, since
            # switching rebuilds every screen under it. ctrl+o reaches the app from
            # a dialog's text field too, where the old ``w`` was typed.
            return
        if self.sign_in_location:
            from groundcode.tui.screens.sign_in import SignInScreen

            shown = self.start_location or self.sign_in_location
            self.push_screen(SignInScreen(self.sign_in_location, shown), callback=self._signed_in)
            return
        from groundcode.tui.screens.who import SwitchUserScreen

        self.push_screen(SwitchUserScreen(self.project.user), callback=self._switch_to)

    def _switch_to(self, name: str | None) -> None:
        if name and name != self.project.user:
            self.switch_identity(self.project, name)

    def _signed_in(self, opened: tuple[Project, str | None] | None) -> None:
        if opened is not None:
            self.switch_identity(opened[0], None)

    def switch_identity(self, project: Project, name: str | None) -> None:
        """The project as ``name`` (or as the new login), its role and blind mode, off the UI thread."""

        def call() -> ProjectSwitched:
            switched = project if name is None else project.as_user(name)
            return ProjectSwitched(switched, switched.people.status(), switched.people.role())

        run_service(self, call, posted, group="identity")

    async def _switched(self, project: Project, status: ProjectStatus, role: str | None) -> None:
        """Act as the new person and rebuild every screen: none may keep the last one's view."""
        old, self._project = self._project, project
        if old is not None and old.db is not project.db:
            old.close()
        self._remember(project)
        self.project_name = status.get("name") or Path(project.location).stem
        self.blind = bool(status.get("blind"))
        self.role = role
        self.update_header()
        current = self.current_mode
        for mode in list(self.MODES):
            if mode not in (current, "dashboard") and mode in self._screen_stacks:
                await self.remove_mode(mode)
                self.add_mode(mode, self.MODES[mode])
        if current != "dashboard":
            if "dashboard" in self._screen_stacks:
                await self.remove_mode("dashboard")
                self.add_mode("dashboard", self.MODES["dashboard"])
            await self.switch_mode("dashboard")
            if current in self.MODES:
                await self.remove_mode(current)
                self.add_mode(current, self.MODES[current])
        else:
            self.get_screen_stack("dashboard")[0].post_message(ProjectReady())
        self.notify(
            tr(f"现在以 {project.user} 的身份工作", f"Now acting as {project.user}"), markup=False
        )

    def update_header(self) -> None:
        """Project name as the title; acting user, role and BLIND as the subtitle."""
        self.title = shown(self.project_name, newlines=False) or "groundcode"
        if self._project is None:
            self.sub_title = tr("没有打开的项目", "no project open")
            return
        parts = [shown(self._project.user, newlines=False) or tr("未选择编码人员", "no coder")]
        if self.role in ROLE_LABELS:
            parts.append(tr(*ROLE_LABELS[self.role]))
        if self.blind:
            parts.append(tr("盲编 BLIND", "BLIND"))
        self.sub_title = " · ".join(parts)

    @property
    def is_lead(self) -> bool:
        return self.role == "lead"

    # -- notifications and errors ----------------------------------------
    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification is plain text: it so often quotes a name, a title or an error.

        Screens' ``notify`` calls all land here, so ``[/x]`` in a concept name is
        shown as written and an escape sequence in a comment shows as ``\\u001b``.
        """
        super().notify(
            shown(message), title=shown(title), severity=severity, timeout=timeout, markup=False
        )

    def report_error(self, error: BaseException | None) -> None:
        """The one error path: a typed error worded in the interface language, one line."""
        self.notify(one_line(error), title=tr("出错了", "Error"), severity="error", timeout=8)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failed worker of the app itself (screens forward theirs to ``report_error``)."""
        if event.state == WorkerState.ERROR:
            self.report_error(event.worker.error)

    # -- documents -------------------------------------------------------
    def open_document(self, number: str, passage: int | None = None) -> None:
        """Show ``number`` (at ``passage``) in the coding mode."""
        self.pending_document = (number, passage)
        if self.current_mode == "coding":
            self.get_screen_stack("coding")[0].post_message(OpenDocument(number, passage))
        else:
            self.switch_mode("coding")

    def take_pending_document(self) -> tuple[str, int | None] | None:
        pending, self.pending_document = self.pending_document, None
        return pending

    def remember_concept(self, name: str) -> None:
        """Keep the nine most recently used concepts for the alt+1..9 hot keys."""
        if name in self.recent_concepts:
            self.recent_concepts.remove(name)
        self.recent_concepts.insert(0, name)
        del self.recent_concepts[9:]

    # -- global actions --------------------------------------------------
    def action_toggle_help(self) -> None:
        # By name: importing HelpPanel loads Markdown and Pygments, before the first paint.
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def action_export(self) -> None:
        from groundcode.tui.screens.export_dialog import ExportScreen

        def done(paths: list[Path] | None) -> None:
            if paths:
                self.notify(tr(f"已导出 {len(paths)} 个文件", f"Exported {len(paths)} files"))

        self.push_screen(ExportScreen(), callback=done)

    async def action_switch_language(self) -> None:
        """Switch zh <-> en, remember it for this user, and rebuild the screens."""
        new = "en" if language() == "zh" else "zh"
        set_language(new)
        remember_language(self._project.user if self._project else None, new)
        relocalise()
        self._bindings = self._merged_bindings.copy() if self._merged_bindings else self._bindings
        self.update_header()
        if not self._started:
            return
        current = self.current_mode
        for mode in list(self.MODES):
            if mode != current and mode in self._screen_stacks:
                await self.remove_mode(mode)
                self.add_mode(mode, self.MODES[mode])
        if current in self.MODES:
            if current == "coding" and self.pending_document is None:
                doc = getattr(self.get_screen_stack("coding")[0], "current_location", None)
                self.pending_document = doc() if callable(doc) else None
            other = "corpus" if current == "dashboard" else "dashboard"
            await self.switch_mode(other)
            await self.remove_mode(current)
            self.add_mode(current, self.MODES[current])
            await self.switch_mode(current)
        self.notify(tr("界面语言：中文", "Interface language: English"))

    def action_command_palette(self) -> None:
        """Textual's palette, with its prompt in the interface language."""
        from textual.command import CommandPalette

        if self.use_command_palette and not CommandPalette.is_open(self):  # type: ignore[arg-type]
            self.push_screen(
                CommandPalette(
                    placeholder=tr("搜索命令…", "Search for commands…"), id="--command-palette"
                )
            )

    def textual_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's own palette entries (theme, quit, keys, maximise, screenshot), worded here."""
        yield SystemCommand(
            tr("主题", "Theme"),
            tr("更换配色主题", "Change the current theme"),
            self.action_change_theme,
        )
        yield SystemCommand(
            tr("退出", "Quit"), tr("立即退出程序", "Quit the application"), self.action_quit
        )
        if screen.query("HelpPanel"):
            yield SystemCommand(
                tr("按键帮助", "Keys"),
                tr("隐藏按键帮助", "Hide the keys panel"),
                self.action_hide_help_panel,
            )
        else:
            yield SystemCommand(
                tr("按键帮助", "Keys"),
                tr("显示当前屏幕的按键", "Show the keys of this screen"),
                self.action_show_help_panel,
            )
        if screen.maximized is not None:
            yield SystemCommand(
                tr("还原", "Minimize"),
                tr("恢复正常大小", "Restore to normal size"),
                screen.action_minimize,
            )
        elif screen.focused is not None and screen.focused.allow_maximize:
            yield SystemCommand(
                tr("最大化", "Maximize"),
                tr("最大化当前控件", "Maximize the focused widget"),
                screen.action_maximize,
            )
        yield SystemCommand(
            tr("截图", "Screenshot"),
            tr("把当前屏幕保存为 SVG 截图", "Save an SVG screenshot of the current screen"),
            lambda: self.set_timer(0.1, self.deliver_screenshot),
        )

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The palette lists every key of the current screen, so it finds every action."""
        yield from self.textual_commands(screen)
        seen: set[str] = set()
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if not binding.description or binding.action in seen:
                continue
            seen.add(binding.action)
            shown = binding.key_display or self.get_key_display(binding)
            yield SystemCommand(
                binding.description,
                tr(f"按键 {shown}", f"key {shown}") if key else "",
                partial(self.run_action, binding.action, active.node),
            )


def make_app(
    db: str, coder: str | None, *, lang: str | None = None, sign_in: bool = False
) -> GroundcodeApp:
    """Open the project at ``db`` acting as ``coder`` and build the App (CLI and tests).

    When ``db`` cannot be opened (no file there, not a project, no server) the
    app starts on the start screen with that one line, never with a traceback.
    """
    chosen = lang or remembered_language(coder) or "zh"
    if chosen not in ("zh", "en"):
        raise BadOption(option="lang", value=str(lang), allowed="zh, en")
    set_language(chosen)
    relocalise()
    if lang:
        remember_language(coder, chosen)
    if sign_in:
        # The location as shown: never with a login or a password in it.
        shown = db.split("://", 1)[0] + "://" + db.rsplit("@", 1)[-1] if "@" in db else db
        return GroundcodeApp(None, start_location=shown, sign_in=db)
    missing = "://" not in db and not Path(db).expanduser().exists()
    if missing:
        return GroundcodeApp(
            None, start_location=str(Path(db).expanduser().absolute()), start_user=coder
        )
    # Opened by the app itself after its first paint; a failure shows the start screen.
    return GroundcodeApp(None, open_location=db, start_user=coder)
