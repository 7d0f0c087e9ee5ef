"""The import screen: choose files and folders, their source type, columns and segmentation.

The left pane is a file browser showing only what the importer reads; ``a``
adds the highlighted file (or every readable file under a folder) to the
list on the right, where each file has its source type (``t``; ``F`` gives
the whole folder that type) and, for spreadsheets, a column mapping (``m``)
checked against a live preview. ``i`` imports: one service call per file in
a worker, a progress bar per file, Escape cancels (the file being imported
leaves nothing); then each file's result, and the search index builds in the
background.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, DirectoryTree, Footer, Header, Label, Static

from groundcode.tui.commands import Key, localised
from groundcode.tui.context import ReportsWorkerErrors, project_of, run_service
from groundcode.tui.i18n import tr
from groundcode.tui.safe import plain
from groundcode.tui.widgets.table import SafeTable

if TYPE_CHECKING:
    from groundcode.corpus.views import SourceTypeView

READABLE = (".txt", ".md", ".html", ".htm", ".docx", ".pdf", ".csv", ".xlsx", ".jsonl")
ROWS = (".csv", ".xlsx", ".jsonl")
SEGMENTS: tuple[str | None, ...] = (None, "paragraph", "sentence", "whole")
SEGMENT_LABELS = {
    None: ("自动（文件按段落，表格每行一段）", "auto (files by paragraph, one passage per row)"),
    "paragraph": ("按段落", "paragraphs"),
    "sentence": ("按句子", "sentences"),
    "whole": ("整篇一段", "whole document"),
}


class ReadableTree(DirectoryTree):
    """A directory tree that lists folders and the formats the importer reads, nothing hidden."""

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        out = []
        for p in paths:
            if p.name.startswith("."):
                continue
            try:
                if p.is_dir() or p.suffix.lower() in READABLE:
                    out.append(p)
            except OSError:
                continue
        return out


@dataclass
class ImportItem:
    """One file to import, with the choices made for it."""

    path: Path
    type_id: int
    folder: Path
    mapping: dict[str, str | None] | None = None
    result: str = ""
    failed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rows(self) -> bool:
        return self.path.suffix.lower() in ROWS


def files_under(path: Path) -> list[Path]:
    """``path`` itself, or every readable file below a folder (sorted, hidden ones skipped)."""
    if path.is_file():
        return [path] if path.suffix.lower() in READABLE else []
    found = []
    for p in sorted(path.rglob("*")):
        if any(part.startswith(".") for part in p.relative_to(path).parts):
            continue
        if p.is_file() and p.suffix.lower() in READABLE:
            found.append(p)
    return found


def type_from_folder(folder: Path, known: list[int]) -> int | None:
    """A folder named like ``4-selfmedia`` says its source type (4)."""
    m = re.match(r"^(\d+)\D", folder.name + " ")
    if m and int(m.group(1)) in known:
        return int(m.group(1))
    return None


@localised
class ImportScreen(ReportsWorkerErrors, Screen[None]):
    """Files and folders in, with types, column mappings, progress and a result per file."""

    CSS_PATH = "importer.tcss"
    KEYS: ClassVar[tuple[Key, ...]] = (
        Key("a", "add", "加入/移出", "Add/remove", id="import.add"),
        Key("t", "cycle_type", "文本来源", "Source type", id="import.type"),
        Key("F", "folder_type", "整个文件夹同类型", "Type for folder", id="import.folder_type"),
        Key("m", "map", "列映射", "Map columns", id="import.map"),
        Key("g", "cycle_segment", "分段方式", "Segmentation", id="import.segment"),
        Key("x", "remove", "移出列表", "Remove", id="import.remove", show=False),
        Key("i", "run", "开始导入", "Import", id="import.run"),
        Key("tab", "app.focus_next", "切换窗格", "Next pane", id="import.next_pane", show=False),
    )
    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self, root: Path | None = None) -> None:
        super().__init__()
        self.root = root or Path.cwd()
        self.items: list[ImportItem] = []
        self.types: list[SourceTypeView] = []
        self.segment: str | None = None
        self.running = False
        self.indexing = ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="import-status")
        with Horizontal(id="import-body"):
            with Vertical(id="import-left"):
                yield Label(
                    tr("文件与文件夹（a 加入）", "Files and folders (a adds)"),
                    classes="panel-title",
                )
                yield ReadableTree(self.root, id="import-tree")
            with Vertical(id="import-right"):
                yield Label(tr("待导入", "To import"), classes="panel-title")
                yield SafeTable(id="import-files", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#import-files", DataTable)
        for key, zh, en in (
            ("file", "文件", "File"),
            ("type", "来源", "Type"),
            ("columns", "列", "Columns"),
            ("result", "结果", "Result"),
        ):
            table.add_column(tr(zh, en), key=key)
        self.query_one("#import-tree", ReadableTree).focus()
        self.load_types()
        self._show_status()

    @dataclass
    class TypesLoaded(Message):
        types: list[SourceTypeView]

    @dataclass
    class Indexing(Message):
        """Progress of the search index after an import (coalesced: only the latest counts)."""

        done: int
        total: int

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, ImportScreen.Indexing)

    @dataclass
    class Indexed(Message):
        passages: int

    def load_types(self) -> None:
        run_service(
            self,
            lambda: project_of(self).corpus.source_types(),
            self.TypesLoaded,
            group="import-types",
        )

    # -- the list --------------------------------------------------------
    def _type_label(self, type_id: int) -> str:
        for t in self.types:
            if t.id == type_id:
                return f"{t.id} {tr(t.name_zh, t.slug)}"
        return str(type_id)

    def _columns_label(self, item: ImportItem) -> str:
        if not item.rows:
            return "—"
        if item.mapping is None:
            return tr("自动识别", "guessed")
        text = item.mapping.get("text") or "?"
        return tr(f"正文={text}", f"text={text}")

    def refill(self) -> None:
        table = self.query_one("#import-files", DataTable)
        keep = table.cursor_row
        table.clear()
        for i, item in enumerate(self.items):
            table.add_row(
                self._relative(item.path),
                self._type_label(item.type_id),
                self._columns_label(item),
                item.result,
                key=str(i),
            )
        if self.items:
            table.move_cursor(row=min(max(keep, 0), len(self.items) - 1))
        self._show_status()

    def _relative(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def _show_status(self) -> None:
        seg = tr(*SEGMENT_LABELS[self.segment])
        text = tr(
            f"{len(self.items)} 个文件 · 分段(g)：{seg}",
            f"{len(self.items)} files · segmentation (g): {seg}",
        )
        if self.indexing:
            text += f" · {self.indexing}"
        self.query_one("#import-status", Static).update(plain(text))

    def _current(self) -> ImportItem | None:
        table = self.query_one("#import-files", DataTable)
        if not self.items or table.cursor_row < 0 or table.cursor_row >= len(self.items):
            return None
        return self.items[table.cursor_row]

    def _default_type(self, folder: Path) -> int:
        known = [t.id for t in self.types]
        guessed = type_from_folder(folder, known)
        return guessed or (known[0] if known else 1)

    def add_paths(self, paths: list[Path], folder: Path) -> None:
        have = {i.path for i in self.items}
        type_id = self._default_type(folder)
        for p in paths:
            if p not in have:
                self.items.append(ImportItem(p, self._default_type(p.parent) or type_id, folder))
        self.refill()

    # -- actions ---------------------------------------------------------
    def action_add(self) -> None:
        tree = self.query_one("#import-tree", ReadableTree)
        node = tree.cursor_node
        if node is None or node.data is None:
            return
        path = Path(node.data.path)
        files = files_under(path)
        chosen = {i.path for i in self.items}
        if files and all(f in chosen for f in files):
            self.items = [i for i in self.items if i.path not in set(files)]
            self.refill()
            return
        if not files:
            self.notify(tr("这里没有可导入的文件", "Nothing importable here"), severity="warning")
            return
        self.add_paths(files, path if path.is_dir() else path.parent)

    def action_remove(self) -> None:
        item = self._current()
        if item is not None:
            self.items.remove(item)
            self.refill()

    def action_cycle_type(self) -> None:
        item = self._current()
        if item is None or not self.types:
            return
        ids = [t.id for t in self.types]
        item.type_id = (
            ids[(ids.index(item.type_id) + 1) % len(ids)] if item.type_id in ids else ids[0]
        )
        self.refill()

    def action_folder_type(self) -> None:
        item = self._current()
        if item is None:
            return
        for other in self.items:
            if other.path.parent == item.path.parent:
                other.type_id = item.type_id
        self.refill()

    def action_cycle_segment(self) -> None:
        self.segment = SEGMENTS[(SEGMENTS.index(self.segment) + 1) % len(SEGMENTS)]
        self._show_status()

    def action_map(self) -> None:
        from groundcode.tui.screens.mapping import MappingScreen

        item = self._current()
        if item is None:
            return
        if not item.rows:
            self.notify(
                tr(
                    "只有表格（csv/xlsx/jsonl）需要列映射",
                    "Only spreadsheets (csv/xlsx/jsonl) have columns",
                ),
                severity="warning",
            )
            return

        def done(mapping: dict[str, str | None] | None) -> None:
            if mapping is not None:
                item.mapping = mapping
                self.refill()

        self.app.push_screen(MappingScreen(item.path, item.mapping), done)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (
            self.running and action in ("add", "remove", "cycle_type", "folder_type", "map", "run")
        )

    def action_run(self) -> None:
        from groundcode.tui.screens.import_run import ImportRunScreen

        todo = [i for i in self.items if not i.result or i.failed]
        if not todo:
            self.notify(tr("先用 a 加入文件", "Add files with a first"), severity="warning")
            return
        self.running = True
        self.refresh_bindings()

        def done(results: list[tuple[str, bool]] | None) -> None:
            self.running = False
            self.refresh_bindings()
            for item, (line, failed) in zip(todo, results or [], strict=False):
                item.result, item.failed = line, failed
            self.refill()
            if results and any(not failed for _, failed in results):
                self.build_index()

        self.app.push_screen(ImportRunScreen([replace(i) for i in todo], self.segment), done)

    # -- the search index, after an import --------------------------------
    def build_index(self) -> None:
        def call() -> int:
            def progress(done: int, total: int) -> None:
                self.post_message(self.Indexing(done, total))

            return project_of(self).corpus.build_search_index(progress=progress)

        run_service(self, call, self.Indexed, group="import-index")

    @on(TypesLoaded)
    def _types_loaded(self, message: TypesLoaded) -> None:
        message.stop()
        self.types = message.types
        known = [t.id for t in self.types]
        for item in self.items:
            if item.type_id not in known and known:
                item.type_id = known[0]
        self.refill()

    @on(Indexing)
    def _indexing(self, message: Indexing) -> None:
        message.stop()
        done, total = message.done, message.total
        self.indexing = tr(f"建立搜索索引 {done}/{total}", f"indexing {done}/{total}")
        self._show_status()

    @on(Indexed)
    def _indexed(self, message: Indexed) -> None:
        message.stop()
        self.indexing = tr("搜索索引已更新", "search index up to date")
        self._show_status()
