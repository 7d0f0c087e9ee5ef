"""The model screen: selective coding — core category, storyline, edges and the diagram.

The storyline is edited in place and saved with ``ctrl+s``; edges are added
by picking both ends from the category system (fuzzy list) and a label, and
removed with ``delete``. The diagram is the service's text rendering, so what
the screen draws is what the model report exports. Problems the service finds
(edges naming nodes that no longer exist, a missing core) are shown on top,
because export refuses until they are fixed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static, TextArea

from groundcode.tui.commands import Key, localised
from groundcode.tui.context import ReportsWorkerErrors, project_of, run_refusable
from groundcode.tui.i18n import tr
from groundcode.tui.messages import Refused
from groundcode.tui.safe import plain, shown
from groundcode.tui.screens.confirm import ConfirmScreen
from groundcode.tui.screens.prompt import PromptScreen
from groundcode.tui.screens.returning import RefreshesOnReturn
from groundcode.tui.widgets.table import SafeTable

if TYPE_CHECKING:
    from collections.abc import Callable

    from groundcode.coding.views import EdgeView, ModelView
    from groundcode.project import Project


def node_choices(model: ModelView) -> list[str]:
    """Every node an edge may name, prefixed with its kind only where a name is ambiguous."""
    nodes: list[tuple[str, str]] = []
    if model.core:
        nodes.append(("core", model.core))
    for rc in model.relation_classes:
        nodes.append(("relation_class", rc.name))
    for rc in model.relation_classes:
        for m in rc.main_categories:
            nodes.append(("main_category", m.name))
    for rc in model.relation_classes:
        for m in rc.main_categories:
            nodes.extend(("category", c.name) for c in m.categories)
    counts: dict[str, int] = {}
    for _, name in nodes:
        counts[name] = counts.get(name, 0) + 1
    return [name if counts[name] == 1 else f"{kind}:{name}" for kind, name in nodes]


@localised
class ModelScreen(RefreshesOnReturn, ReportsWorkerErrors, Screen[None]):
    """Core category, storyline, edges; the model drawn as text."""

    CSS_PATH = "model.tcss"
    KEYS: ClassVar[tuple[Key, ...]] = (
        Key("ctrl+s", "save_storyline", "保存故事线", "Save storyline", id="model.save"),
        Key("a", "add_edge", "添加关系", "Add edge", id="model.add_edge"),
        Key("delete", "remove_edge", "删除关系", "Remove edge", id="model.remove_edge"),
        Key("k", "set_core", "核心范畴", "Core category", id="model.core"),
        Key("ctrl+r", "reload", "刷新", "Reload", id="model.reload"),
    )
    BINDINGS: ClassVar[list[BindingType]] = []

    class Loaded(Message):
        def __init__(self, model: ModelView, diagram: str, note: str | None) -> None:
            super().__init__()
            self.model = model
            self.diagram = diagram
            self.note = note

    class Saved(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self) -> None:
        super().__init__()
        self.model: ModelView | None = None
        self.saved_storyline: str | None = None
        self._loaded_once = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="model-problems")
        with Horizontal(id="model-body"):
            with Vertical(id="model-left"):
                yield Static(id="model-core")
                yield TextArea(id="model-storyline", soft_wrap=True, show_line_numbers=False)
                yield SafeTable(id="model-edges", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="model-right"):
                yield Static(id="model-diagram")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#model-core").border_title = tr("核心范畴", "Core category")
        self.query_one("#model-right").border_title = tr("模型图", "Model")
        self._title_storyline(modified=False)
        edges = self.query_one("#model-edges", DataTable)
        edges.border_title = tr("关系（a 添加 · Del 删除）", "Edges (a add · Del remove)")
        # Long category names would push the target off screen: share the width.
        width = max(10, (self.size.width // 2 - 12) // 3)
        edges.add_column(tr("从", "From"), key="from", width=width)
        edges.add_column(tr("关系", "Label"), key="label", width=width)
        edges.add_column(tr("到", "To"), key="to", width=width)
        edges.focus()
        self.query_one("#model-problems").display = False
        for selector in ("#model-left", "#model-right"):
            self.query_one(selector).loading = True
        self.load()

    def shown_once(self) -> bool:
        return self._loaded_once

    def refresh_on_return(self) -> None:
        """Coming back from the codebook: nodes may have been renamed; unsaved text is kept."""
        self.load()

    def _title_storyline(self, *, modified: bool) -> None:
        mark = " ●" if modified else ""
        self.query_one("#model-storyline").border_title = (
            tr("故事线（ctrl+s 保存）", "Storyline (ctrl+s saves)") + mark
        )

    # -- workers ------------------------------------------------------------
    def _loaded(self, p: Project, note: str | None) -> Message:
        model = p.codebook.model(coder_ids=p.people.visible_coder_ids())
        return self.Loaded(model, p.analysis.render_model("text"), note)

    def load(self, note: str | None = None) -> None:
        run_refusable(self, lambda: self._loaded(project_of(self), note), group="model-load")

    def change(self, do: Callable[[Project], str]) -> None:
        """Run one model change, then reload everything the screen shows."""

        def call() -> Message:
            p = project_of(self)
            note = do(p)
            return self._loaded(p, note)

        run_refusable(self, call, group="model-change", exclusive=False)

    def save(self, text: str) -> None:
        def call() -> Message:
            project_of(self).codebook.set_storyline(text)
            return self.Saved(text)

        run_refusable(self, call, group="model-save")

    # -- results ------------------------------------------------------------
    @on(Loaded)
    def _show(self, message: Loaded) -> None:
        model = message.model
        self.model = model
        self._loaded_once = True
        for selector in ("#model-left", "#model-right"):
            self.query_one(selector).loading = False
        core = Text()
        core.append(
            model.core or tr("（尚未确定核心范畴，按 k 设置）", "(no core category yet: press k)"),
            style="bold",
        )
        if model.core_definition:
            core.append("\n" + shown(model.core_definition))
        self.query_one("#model-core", Static).update(core)
        area = self.query_one("#model-storyline", TextArea)
        if self.saved_storyline is None or area.text == self.saved_storyline:
            # Never overwrite the user's unsaved edits with a reload.
            self.saved_storyline = model.storyline or ""
            area.load_text(self.saved_storyline)
            self._title_storyline(modified=False)
        self._fill_edges(model.edges)
        self.query_one("#model-diagram", Static).update(plain(message.diagram))
        problems = self.query_one("#model-problems", Static)
        problems.display = bool(model.problems)
        if model.problems:
            text = Text(
                tr("模型有问题（修正前无法导出）：", "Problems (export refuses until fixed):"),
                style="bold",
            )
            for problem in model.problems:
                text.append(f"\n• {problem}")
            problems.update(text)
        if message.note:
            self.notify(message.note)

    def _fill_edges(self, edges: tuple[EdgeView, ...]) -> None:
        table = self.query_one("#model-edges", DataTable)
        row = table.cursor_row
        table.clear()
        for e in edges:
            style = "bold red" if e.dangling else ""
            table.add_row(
                Text(e.from_name, style=style),
                plain(e.label or "", style="italic"),
                Text(e.to_name, style=style),
                key=str(e.id),
            )
        if edges:
            table.move_cursor(row=max(0, min(row, len(edges) - 1)))

    @on(Saved)
    def _saved(self, message: Saved) -> None:
        self.saved_storyline = message.text
        area = self.query_one("#model-storyline", TextArea)
        self._title_storyline(modified=area.text != message.text)
        self.notify(tr("故事线已保存", "Storyline saved"))

    @on(Refused)
    def _failed(self, message: Refused) -> None:
        for selector in ("#model-left", "#model-right"):
            self.query_one(selector).loading = False
        self.notify(message.message, severity="error", title=tr("未完成", "Not done"), markup=False)

    @on(TextArea.Changed, "#model-storyline")
    def _edited(self, event: TextArea.Changed) -> None:
        self._title_storyline(modified=event.text_area.text != (self.saved_storyline or ""))

    # -- actions ------------------------------------------------------------
    def action_reload(self) -> None:
        self.load()

    def action_save_storyline(self) -> None:
        self.save(self.query_one("#model-storyline", TextArea).text)

    def selected_edge(self) -> EdgeView | None:
        table = self.query_one("#model-edges", DataTable)
        if self.model is None or not self.model.edges or table.row_count == 0:
            return None
        row = table.cursor_row
        return self.model.edges[row] if 0 <= row < len(self.model.edges) else None

    @work(group="model-dialog", exclusive=True)
    async def action_add_edge(self) -> None:
        if self.model is None:
            return
        choices = node_choices(self.model)
        if not choices:
            self.notify(
                tr("还没有范畴可以连接", "No categories to connect yet"), severity="warning"
            )
            return
        source = await self.app.push_screen_wait(
            PromptScreen(tr("关系从…", "Edge from…"), choices=choices, strict=True)
        )
        if not source:
            return
        target = await self.app.push_screen_wait(
            PromptScreen(
                tr(f"「{source}」指向…", f"'{source}' points to…"), choices=choices, strict=True
            )
        )
        if not target:
            return
        label = await self.app.push_screen_wait(
            PromptScreen(
                tr("关系标签（可留空）", "Label (may be empty)"),
                allow_empty=True,
            )
        )
        if label is None:
            return

        def add(p: Project) -> str:
            edge = p.codebook.add_edge(source, target, label or None)
            return tr(f"已添加关系：{edge.describe()}", f"Edge added: {edge.describe()}")

        self.change(add)

    @work(group="model-dialog", exclusive=True)
    async def action_remove_edge(self) -> None:
        edge = self.selected_edge()
        if edge is None:
            self.notify(tr("没有选中的关系", "No edge selected"), severity="warning")
            return
        label = f" [{edge.label}]" if edge.label else ""
        sure = await self.app.push_screen_wait(
            ConfirmScreen(
                tr(
                    f"删除关系 {edge.from_name} → {edge.to_name}{label}？",
                    f"Remove the edge {edge.from_name} → {edge.to_name}{label}?",
                ),
                title=tr("删除关系", "Remove edge"),
                danger=True,
            )
        )
        if not sure:
            return

        def remove(p: Project) -> str:
            p.codebook.remove_edge(edge.id)
            return tr("关系已删除", "Edge removed")

        self.change(remove)

    @work(group="model-dialog", exclusive=True)
    async def action_set_core(self) -> None:
        current = self.model.core if self.model is not None else None
        name = await self.app.push_screen_wait(
            PromptScreen(tr("核心范畴名称", "Core category"), current or "")
        )
        if not name:
            return
        definition = await self.app.push_screen_wait(
            PromptScreen(
                tr(
                    "核心范畴的定义（可留空，保留原定义）",
                    "Its definition (empty keeps the current one)",
                ),
                (self.model.core_definition or "") if self.model is not None else "",
                allow_empty=True,
            )
        )
        if definition is None:
            return

        def set_core(p: Project) -> str:
            p.codebook.set_core(name, definition or None)
            return tr(f"核心范畴：{name}", f"Core category: {name}")

        self.change(set_core)
