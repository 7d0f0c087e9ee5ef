"""The codebook screen: the category system as a tree, and the axial-coding actions on it.

The tree reads relation class > main category > initial category > concept,
with what is not placed yet in three groups at the end. Counts cover the
codings the acting user may see (blind mode: a coder sees only their own).
Every change goes through the codebook service in a thread worker, which also
reloads the tree, so the screen never shows a state the database does not
hold; the service's refusals (a coder reshaping the codebook, deleting a coded
concept) arrive as one-line notifications.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Static, Tree
from textual.widgets.tree import TreeNode

from groundcode.domain.errors import StillCoded
from groundcode.domain.levels import CHILD, PARENT, SPECS, TOP_DOWN, spec
from groundcode.tui.commands import Key, localised
from groundcode.tui.context import ReportsWorkerErrors, project_of, run_refusable
from groundcode.tui.i18n import language, tr
from groundcode.tui.messages import Refused
from groundcode.tui.safe import plain, shown
from groundcode.tui.screens.confirm import ConfirmScreen
from groundcode.tui.screens.prompt import PromptScreen
from groundcode.tui.screens.returning import RefreshesOnReturn

if TYPE_CHECKING:
    from groundcode.coding.views import (
        CategoryView,
        CodebookTree,
        ConceptView,
        MainCategoryView,
        RelationClassView,
    )
    from groundcode.project import Project

# Levels of the codebook, top to bottom, and the parent of each (``domain.levels``).
LEVELS: tuple[str, ...] = tuple(s.level for s in TOP_DOWN)
PARENT_OF: dict[str, str] = {str(k): str(v) for k, v in PARENT.items()}
CHILD_OF: dict[str, str] = {str(k): str(v) for k, v in CHILD.items()}
GROUP = "group"
ROOT = "root"


def level_word(level: str) -> str:
    """The user's word for a level, in the interface language."""
    if level in SPECS:
        return spec(level).word(language())
    words = {GROUP: tr("分组", "group"), ROOT: tr("编码本", "codebook")}
    return words.get(level, level)


@dataclass(frozen=True)
class CodeNode:
    """What a tree node stands for: a codebook item, a group of unplaced items, or the root.

    ``holds`` is the level a group node collects (its children's level).
    """

    level: str
    name: str
    definition: str | None = None
    number: str | None = None
    n_codings: int = 0
    parent: str | None = None
    holds: str | None = None
    created_by: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.level, self.name)

    @property
    def is_item(self) -> bool:
        return self.level in LEVELS


def _label(node: CodeNode) -> Text:
    """A tree label: number, name, count. Rich ``Text`` so names are never read as markup."""
    text = Text()
    if node.number:
        text.append(f"{node.number} ", style="bold")
    style = "italic" if node.level == GROUP else ("bold" if node.level == "relation_class" else "")
    text.append(shown(node.name), style=style)
    if node.level != ROOT:
        text.append(f"  {node.n_codings}", style="dim")
    return text


def _concept(k: ConceptView, parent: str | None) -> CodeNode:
    return CodeNode("concept", k.name, k.definition, None, k.n_codings, parent, None, k.created_by)


def _category(c: CategoryView) -> CodeNode:
    return CodeNode("category", c.name, c.definition, c.number, c.n_codings, c.main_category)


def _main(m: MainCategoryView) -> CodeNode:
    return CodeNode("main_category", m.name, m.definition, m.number, m.n_codings, m.relation_class)


def _relation(rc: RelationClassView) -> CodeNode:
    return CodeNode("relation_class", rc.name, rc.definition, None, rc.n_codings)


def names_at(tree: CodebookTree, level: str) -> list[str]:
    """Every item name at one level, in tree order."""
    if level == "concept":
        return [k.name for k in tree.concepts()]
    if level == "category":
        return [c.name for c in tree.categories()]
    if level == "main_category":
        return [m.name for m in tree.main_categories()]
    return [rc.name for rc in tree.relation_classes]


@localised
class CodebookScreen(RefreshesOnReturn, ReportsWorkerErrors, Screen[None]):
    """Open and axial coding: browse, rename, define, merge, move, renumber, create, delete."""

    CSS_PATH = "codebook.tcss"
    KEYS: ClassVar[tuple[Key, ...]] = (
        Key("r", "rename", "重命名", "Rename", id="codebook.rename"),
        Key("d", "define", "定义", "Define", id="codebook.define"),
        Key("m", "merge", "合并到…", "Merge into…", id="codebook.merge"),
        Key("v", "move", "移动到…", "Move to…", id="codebook.move"),
        Key(
            "number_sign",
            "renumber",
            "重新编号",
            "Renumber",
            id="codebook.renumber",
            key_display="#",
        ),
        Key("n", "new", "新建", "New", id="codebook.new"),
        Key("delete", "delete", "删除", "Delete", id="codebook.delete"),
        Key("ctrl+r", "reload", "刷新", "Reload", id="codebook.reload"),
    )
    BINDINGS: ClassVar[list[BindingType]] = []

    class Loaded(Message):
        """A fresh tree from the service, with the item to put the cursor on."""

        def __init__(
            self, tree: CodebookTree, select: tuple[str, str] | None, note: str | None
        ) -> None:
            super().__init__()
            self.tree = tree
            self.select = select
            self.note = note

    class DeleteRefused(Message):
        """Deleting a coded item was refused (``StillCoded``); the screen offers to force it."""

        def __init__(self, node: CodeNode, error: StillCoded) -> None:
            super().__init__()
            self.node = node
            self.error = error

        @property
        def message(self) -> str:
            n = self.error.n_codings
            return tr(
                f"「{self.error.name}」仍有 {n} 条编码，未删除。",
                f"'{self.error.name}' still has {n} coding(s); not deleted.",
            )

    def __init__(self) -> None:
        super().__init__()
        self.codebook: CodebookTree | None = None
        self._loaded_once = False

    # -- layout -----------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="codebook-body"):
            tree: Tree[CodeNode] = Tree(
                tr("编码本", "Codebook"), data=CodeNode(ROOT, ""), id="codebook-tree"
            )
            tree.show_root = False
            tree.guide_depth = 3
            yield tree
            with VerticalScroll(id="codebook-detail"):
                yield Static(id="codebook-detail-title")
                yield Static(id="codebook-detail-meta")
                yield Static(id="codebook-detail-definition")
        yield Footer()

    def on_mount(self) -> None:
        tree = self.query_one("#codebook-tree", Tree)
        tree.border_title = tr(
            "编码本：关系类别 > 主范畴 > 初步范畴 > 初始概念",
            "Codebook: relation class > main > category > concept",
        )
        self.query_one("#codebook-detail").border_title = tr("详情", "Details")
        tree.loading = True
        tree.focus()
        self.load()

    def shown_once(self) -> bool:
        return self._loaded_once

    def refresh_on_return(self) -> None:
        """Coming back from coding: counts may have changed, so read the tree again."""
        self.load()

    # -- service access ---------------------------------------------------------
    @property
    def project(self) -> Project:
        return project_of(self)

    @staticmethod
    def fetch(p: Project) -> CodebookTree:
        """The tree with counts over the codings the acting user may see."""
        return p.codebook.tree(coder_ids=p.people.visible_coder_ids())

    def load(self, select: tuple[str, str] | None = None) -> None:
        """Read the tree (worker: no widget work, the result arrives as ``Loaded``)."""
        run_refusable(
            self,
            lambda: self.Loaded(self.fetch(self.project), select, None),
            group="codebook-load",
        )

    def change(
        self,
        do: Callable[[Project], str | None],
        select: tuple[str, str] | None = None,
    ) -> None:
        """Run one codebook change, then reload; ``do`` returns a note to show, or None."""

        def call() -> Message:
            p = self.project
            note = do(p)
            return self.Loaded(self.fetch(p), select, note)

        run_refusable(self, call, group="codebook-change", exclusive=False)

    def delete_item(self, node: CodeNode, force: bool) -> None:
        """Delete an item; a refusal because it is coded comes back as ``DeleteRefused``."""

        def call() -> Message:
            p = self.project
            try:
                result = p.codebook.delete(node.level, node.name, force=force)
            except StillCoded as exc:
                return self.DeleteRefused(node, exc)
            note = tr(f"已删除「{node.name}」", f"Deleted '{node.name}'")
            if result.moved_codings:
                note += tr(
                    f"，{result.moved_codings} 条编码移到「未分类」",
                    f"; {result.moved_codings} codings moved to 未分类",
                )
            if result.released:
                note += tr(
                    f"，{result.released} 个下级项目未归类",
                    f"; {result.released} children unplaced",
                )
            parent = (
                (PARENT_OF[node.level], node.parent)
                if node.parent and node.level in PARENT_OF
                else None
            )
            return self.Loaded(self.fetch(p), parent, note)

        run_refusable(self, call, group="codebook-change", exclusive=False)

    # -- messages from workers -------------------------------------------------
    @on(Loaded)
    def _show_tree(self, message: Loaded) -> None:
        self.codebook = message.tree
        self._loaded_once = True
        tree = self.query_one("#codebook-tree", Tree)
        tree.loading = False
        expanded = self._expanded_keys(tree)
        current = tree.cursor_node.data.key if tree.cursor_node and tree.cursor_node.data else None
        self._build(tree, message.tree, expanded)
        target = message.select or current
        node = self._find(tree.root, target) if target is not None else None
        if node is None and tree.root.children:
            node = tree.root.children[0]
        if node is not None:
            self._reveal(node)
            self.call_after_refresh(self._put_cursor, node)
        if message.note:
            self.notify(message.note)

    @on(Refused)
    def _show_failure(self, message: Refused) -> None:
        self.query_one("#codebook-tree", Tree).loading = False
        self.notify(message.message, severity="error", title=tr("未完成", "Not done"))

    @on(DeleteRefused)
    def _offer_force(self, message: DeleteRefused) -> None:
        node = message.node

        def answered(force: bool | None) -> None:
            if force:
                self.delete_item(node, True)

        question = (
            message.message
            + "\n\n"
            + tr(
                "仍要删除吗？其编码将移到「未分类」，下级项目变为未归类。",
                "Delete anyway? Its codings move to 未分类 and its children become unplaced.",
            )
        )
        self.notify(message.message, severity="warning")
        self.app.push_screen(
            ConfirmScreen(question, title=tr("仍要删除？", "Delete anyway?"), danger=True),
            answered,
        )

    # -- the tree -------------------------------------------------------------
    def _build(
        self, tree: Tree[CodeNode], book: CodebookTree, expanded: set[tuple[str, str]]
    ) -> None:
        tree.clear()
        root = tree.root
        first_load = not expanded

        def add(
            parent: TreeNode[CodeNode], data: CodeNode, leaf: bool = False
        ) -> TreeNode[CodeNode]:
            open_ = data.key in expanded or (first_load and data.level in ("relation_class", GROUP))
            if leaf:
                return parent.add_leaf(_label(data), data=data)
            return parent.add(_label(data), data=data, expand=open_)

        def add_main(parent: TreeNode[CodeNode], m: MainCategoryView) -> None:
            main_node = add(parent, _main(m))
            for c in m.categories:
                add_category(main_node, c)

        def add_category(parent: TreeNode[CodeNode], c: CategoryView) -> None:
            cat_node = add(parent, _category(c))
            for k in c.concepts:
                add(cat_node, _concept(k, c.name), leaf=True)

        for rc in book.relation_classes:
            rc_node = add(root, _relation(rc))
            for m in rc.main_categories:
                add_main(rc_node, m)
        groups: list[tuple[str, str, tuple[Any, ...]]] = [
            (
                "main_category",
                tr("未归入关系类别的主范畴", "Main categories without a relation class"),
                book.unassigned_main_categories,
            ),
            (
                "category",
                tr("未归入主范畴的初步范畴", "Categories without a main category"),
                book.unassigned_categories,
            ),
            ("concept", tr("未分类的初始概念", "Uncategorised concepts"), book.uncategorised),
        ]
        for holds, title, items in groups:
            count = sum(item.n_codings for item in items)
            group = add(root, CodeNode(GROUP, title, n_codings=count, holds=holds))
            group.allow_expand = bool(items)
            for item in items:
                if holds == "main_category":
                    add_main(group, item)
                elif holds == "category":
                    add_category(group, item)
                else:
                    add(group, _concept(item, None), leaf=True)
        root.expand()

    @staticmethod
    def _walk(node: TreeNode[CodeNode]) -> Iterator[TreeNode[CodeNode]]:
        yield node
        for child in node.children:
            yield from CodebookScreen._walk(child)

    def _expanded_keys(self, tree: Tree[CodeNode]) -> set[tuple[str, str]]:
        return {
            n.data.key
            for n in self._walk(tree.root)
            if n.data is not None and n.is_expanded and n is not tree.root
        }

    def _find(self, root: TreeNode[CodeNode], key: tuple[str, str]) -> TreeNode[CodeNode] | None:
        for node in self._walk(root):
            if node.data is not None and node.data.key == key:
                return node
        return None

    @staticmethod
    def _reveal(node: TreeNode[CodeNode]) -> None:
        parent = node.parent
        while parent is not None:
            parent.expand()
            parent = parent.parent

    def _put_cursor(self, node: TreeNode[CodeNode]) -> None:
        tree = self.query_one("#codebook-tree", Tree)
        _ = tree.last_line  # lay the lines out again after expanding, so node lines are current
        tree.move_cursor(node)
        self._show_detail(node)

    def select(self, level: str, name: str) -> bool:
        """Put the cursor on an item (used by other screens and by tests); False if absent."""
        tree = self.query_one("#codebook-tree", Tree)
        node = self._find(tree.root, (level, name))
        if node is None:
            return False
        self._reveal(node)
        self._put_cursor(node)
        return True

    @on(Tree.NodeHighlighted, "#codebook-tree")
    def _highlighted(self, event: Tree.NodeHighlighted[CodeNode]) -> None:
        self._show_detail(event.node)

    def _show_detail(self, node: TreeNode[CodeNode] | None) -> None:
        title = self.query_one("#codebook-detail-title", Static)
        meta = self.query_one("#codebook-detail-meta", Static)
        definition = self.query_one("#codebook-detail-definition", Static)
        data = node.data if node is not None else None
        if data is None or data.level == ROOT:
            title.update("")
            meta.update("")
            definition.update("")
            return
        heading = Text()
        if data.number:
            heading.append(f"{data.number} ")
        heading.append(shown(data.name))
        title.update(heading)
        lines = [
            f"{level_word(data.level)}" if data.level != GROUP else level_word(data.holds or "")
        ]
        lines.append(tr(f"编码 {data.n_codings} 条", f"{data.n_codings} codings"))
        if data.parent:
            lines.append(tr(f"上级：{data.parent}", f"Parent: {data.parent}"))
        if data.created_by:
            lines.append(tr(f"创建者：{data.created_by}", f"Created by {data.created_by}"))
        meta.update(plain("\n".join(lines)))
        if data.is_item:
            definition.update(
                plain(
                    data.definition or tr("（尚无定义，按 d 添加）", "(no definition yet: press d)")
                )
            )
        else:
            definition.update("")

    def current(self) -> CodeNode | None:
        """The highlighted tree node's data."""
        node = self.query_one("#codebook-tree", Tree).cursor_node
        return node.data if node is not None else None

    def _current_item(self) -> CodeNode | None:
        data = self.current()
        if data is None or not data.is_item:
            self.notify(
                tr("请先选中一个概念或范畴", "Highlight a concept or category first"),
                severity="warning",
            )
            return None
        return data

    # -- actions ------------------------------------------------------------
    def action_reload(self) -> None:
        self.load()

    @work(group="codebook-dialog", exclusive=True)
    async def action_rename(self) -> None:
        node = self._current_item()
        if node is None:
            return
        new = await self.app.push_screen_wait(
            PromptScreen(
                tr(f"重命名{level_word(node.level)}", f"Rename {level_word(node.level)}"), node.name
            )
        )
        if not new or new == node.name:
            return

        def rename(p: Project) -> str:
            p.codebook.rename(node.level, node.name, new)
            return tr(f"已重命名为「{new}」", f"Renamed to '{new}'")

        self.change(rename, (node.level, new))

    @work(group="codebook-dialog", exclusive=True)
    async def action_define(self) -> None:
        node = self._current_item()
        if node is None:
            return
        text = await self.app.push_screen_wait(
            PromptScreen(
                tr(f"「{node.name}」的定义", f"Definition of '{node.name}'"),
                node.definition or "",
                allow_empty=True,
                hint=tr("留空即清除定义 · Enter 确定 · Esc 取消", "Empty clears it · Enter · Esc"),
            )
        )
        if text is None:
            return

        def define(p: Project) -> str:
            p.codebook.define(node.level, node.name, text or None)
            return tr("定义已保存", "Definition saved")

        self.change(define, node.key)

    @work(group="codebook-dialog", exclusive=True)
    async def action_merge(self) -> None:
        node = self._current_item()
        if node is None or self.codebook is None:
            return
        choices = [n for n in names_at(self.codebook, node.level) if n != node.name]
        if not choices:
            self.notify(tr("没有可合并的目标", "Nothing to merge into"), severity="warning")
            return
        target = await self.app.push_screen_wait(
            PromptScreen(
                tr(f"将「{node.name}」合并到…", f"Merge '{node.name}' into…"),
                choices=choices,
                strict=True,
            )
        )
        if not target:
            return
        what = (
            tr(f"{node.n_codings} 条编码", f"{node.n_codings} codings")
            if node.level == "concept"
            else tr("其下级项目", "its children")
        )
        sure = await self.app.push_screen_wait(
            ConfirmScreen(
                tr(
                    f"将「{node.name}」合并到「{target}」？{what}将移到「{target}」，「{node.name}」随后删除。",
                    f"Merge '{node.name}' into '{target}'? {what} move to '{target}' "
                    f"and '{node.name}' is removed.",
                ),
                title=tr("合并", "Merge"),
            )
        )
        if not sure:
            return
        self.change(
            lambda p: (
                tr("已合并：", "Merged: ")
                + p.codebook.merge(node.level, [node.name], target).word(language())
            ),
            (node.level, target),
        )

    @work(group="codebook-dialog", exclusive=True)
    async def action_move(self) -> None:
        node = self._current_item()
        if node is None or self.codebook is None:
            return
        parent_level = PARENT_OF.get(node.level)
        if parent_level is None:
            self.notify(
                tr("关系类别没有上级", "A relation class has no parent"), severity="warning"
            )
            return
        nowhere = tr("（无：取消归类）", "(none: unplace it)")
        choices = [nowhere, *[n for n in names_at(self.codebook, parent_level) if n != node.parent]]
        target = await self.app.push_screen_wait(
            PromptScreen(
                tr(
                    f"将「{node.name}」移到哪个{level_word(parent_level)}？",
                    f"Move '{node.name}' to which {level_word(parent_level)}?",
                ),
                choices=choices,
                strict=True,
            )
        )
        if not target:
            return
        parent = None if target == nowhere else target

        def move(p: Project) -> str:
            p.codebook.move(node.level, node.name, parent)
            return tr(f"已移到「{target}」", f"Moved to '{target}'")

        self.change(move, node.key)

    @work(group="codebook-dialog", exclusive=True)
    async def action_renumber(self) -> None:
        node = self.current()
        level = (
            "main_category"
            if node is not None and node.level in ("main_category", "relation_class")
            else "category"
        )
        sure = await self.app.push_screen_wait(
            ConfirmScreen(
                tr(
                    f"按树中顺序将所有{level_word(level)}重新编号为 1..n？",
                    f"Number every {level_word(level)} 1..n in tree order?",
                ),
                title=tr("重新编号", "Renumber"),
            )
        )
        if not sure:
            return
        self.change(
            lambda p: tr("已重新编号 ", "Renumbered ") + str(len(p.codebook.renumber(level))),
            node.key if node is not None and node.is_item else None,
        )

    def _new_target(self, node: CodeNode | None) -> tuple[str, str | None]:
        """What ``n`` creates here: a child of the highlighted item (a sibling for a concept)."""
        if node is None or node.level == ROOT:
            return "relation_class", None
        if node.level == GROUP:
            return node.holds or "concept", None
        if node.level == "concept":
            return "concept", node.parent
        return CHILD_OF[node.level], node.name

    @work(group="codebook-dialog", exclusive=True)
    async def action_new(self) -> None:
        level, parent = self._new_target(self.current())
        where = tr(f"（在「{parent}」下）", f" (under '{parent}')") if parent else ""
        name = await self.app.push_screen_wait(
            PromptScreen(tr(f"新建{level_word(level)}{where}", f"New {level_word(level)}{where}"))
        )
        if not name:
            return

        def create(p: Project) -> str:
            p.codebook.create(level, name, parent=parent)
            return tr(f"已新建「{name}」", f"Created '{name}'")

        self.change(create, (level, name))

    @work(group="codebook-dialog", exclusive=True)
    async def action_delete(self) -> None:
        node = self._current_item()
        if node is None:
            return
        sure = await self.app.push_screen_wait(
            ConfirmScreen(
                tr(
                    f"删除{level_word(node.level)}「{node.name}」？",
                    f"Delete the {level_word(node.level)} '{node.name}'?",
                ),
                title=tr("删除", "Delete"),
                danger=True,
            )
        )
        if sure:
            self.delete_item(node, False)
