"""The coding screen, where coders spend their day.

The document is shown passage by passage (``PassageView``); the acting
coder's codings are coloured per concept; the side list shows the codings of
the current passage. Every change goes through the coding service in a
worker, and the screen shows "saved" only when the worker's result message
(posted after the commit) arrives. In blind mode the service returns only the
coder's own codings, so nothing here can leak another coder's work.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, OptionList, Static
from textual.widgets.option_list import Option

from groundcode.domain.notice import say
from groundcode.domain.wording import text as catalog_text
from groundcode.tui.commands import Key, localised
from groundcode.tui.context import ReportsWorkerErrors, app_of, posted, project_of, run_service
from groundcode.tui.i18n import language, tr
from groundcode.tui.messages import (
    Applied,
    Change,
    CodingsChanged,
    MemoAdded,
    OpenDocument,
    Removed,
    Stepped,
)
from groundcode.tui.safe import escaped, shown
from groundcode.tui.widgets.passage_view import PassageView, Span, concept_colour

if TYPE_CHECKING:
    from groundcode.analysis.suggest import Suggestion
    from groundcode.coding.progress import DoneResult
    from groundcode.coding.records import CodingView
    from groundcode.corpus.views import DocumentView
    from groundcode.project import Project

SPLIT = {"build": ("建模集", "build"), "holdout": ("检验集", "holdout")}


def _recent_keys() -> tuple[Key, ...]:
    return tuple(
        Key(
            f"alt+{n}",
            f"recent({n})",
            f"最近概念 {n}",
            f"Recent concept {n}",
            id=f"coding.recent.{n}",
            show=False,
        )
        for n in range(1, 10)
    )


@localised
class CodingScreen(ReportsWorkerErrors, Screen[None]):
    """Read a document, select a passage or a span, apply concepts."""

    CSS_PATH = "coding.tcss"
    KEYS: ClassVar[tuple[Key, ...]] = (
        Key("c", "pick", "应用概念", "Apply concept", id="coding.apply"),
        Key("i", "invivo", "原话概念", "In-vivo", id="coding.invivo"),
        Key("x", "remove", "删除编码", "Remove coding", id="coding.remove"),
        Key("m", "memo", "备忘录", "Memo", id="coding.memo"),
        Key("n", "next_uncoded", "下一个未编码", "Next uncoded", id="coding.next"),
        Key(
            "N,H",
            "next_holdout",
            "检验集下一个",
            "Next holdout",
            id="coding.next_holdout",
            key_display="N",
        ),
        Key("d", "done", "标记完成", "Done", id="coding.done"),
        Key("D", "not_done", "撤销完成标记", "Not done", id="coding.not_done", show=False),
        Key("t", "next_in_queue", "我的下一个", "Next in my queue", id="coding.queue"),
        Key("u", "undo", "撤销", "Undo", id="coding.undo"),
        Key("U,ctrl+r", "redo", "重做", "Redo", id="coding.redo", show=False),
        Key("s", "suggest", "建议概念", "Suggest", id="coding.suggest"),
        Key(
            "o", "toggle_others", "显示他人编码", "Others' codings", id="coding.others", show=False
        ),
        Key("g", "goto", "打开文本", "Open document", id="coding.goto", show=False),
        Key("tab", "focus_next", "切换焦点", "Focus", id="coding.focus", show=False),
        *_recent_keys(),
    )
    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self) -> None:
        super().__init__()
        self.number: str | None = None
        self.doc: DocumentView | None = None
        self.codings: list[CodingView] = []
        self.show_all = False
        self.concepts: list[str] = []
        self._token = 0
        self._write_lock = threading.Lock()  # keeps coding changes in the order they were made

    # -- layout ----------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(tr("正在打开…", "Opening…"), id="doc-title")
        with Horizontal(id="coding-body"):
            yield PassageView(id="passages")
            with Vertical(id="coding-side"):
                yield Label(tr("本片段的编码", "Codings here"), classes="panel-title")
                yield OptionList(id="codings")
                yield Label(tr("最近概念 (alt+数字)", "Recent (alt+digit)"), classes="panel-title")
                yield Static("", id="recent")
        with Horizontal(id="coding-status"):
            yield Static("", id="where")
            yield Static("", id="saved")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(PassageView).focus()
        self.load_concepts()
        self._show_recent()
        self._consume_pending(first=True)

    def on_screen_resume(self) -> None:
        self._consume_pending(first=False)
        self._show_recent()

    @on(OpenDocument)
    def _open_message(self, message: OpenDocument) -> None:
        message.stop()
        self._consume_pending(first=False)

    def _consume_pending(self, *, first: bool) -> None:
        pending = app_of(self).take_pending_document()
        if pending is not None:
            self.open(*pending)
        elif first and self.number is None:
            self.find_next(None, None)

    def current_location(self) -> tuple[str, int | None] | None:
        """Where the coder is (document, passage), to come back after a rebuild."""
        if self.number is None:
            return None
        p = self.query_one(PassageView).passage
        return self.number, p.idx if p else None

    def open(self, number: str, passage: int | None = None) -> None:
        """Fetch a document and its codings in one worker and render them once."""
        self._token += 1
        self.query_one("#doc-title", Static).update(tr(f"正在打开 {number}…", f"Opening {number}…"))
        self.load_document(number, passage, self._token)

    # -- one message per kind of result (posted by workers) ---------------
    @dataclass
    class DocumentLoaded(Message):
        """A document and its codings, read in one worker; ``token`` drops stale ones."""

        doc: DocumentView
        codings: list[CodingView]
        passage: int | None
        token: int

    @dataclass
    class ConceptsLoaded(Message):
        names: list[str]

    @dataclass
    class NextFound(Message):
        """The next uncoded passage (None: nothing left), in ``split`` or anywhere."""

        found: tuple[str, int] | None
        split: str | None

    @dataclass
    class DoneMarked(Message):
        result: DoneResult
        upcoming: str | None

    @dataclass
    class QueueNext(Message):
        number: str | None

    @dataclass
    class Suggested(Message):
        number: str
        passage: int
        found: list[Suggestion]

    # -- workers (no widget work in here) --------------------------------
    def load_document(self, number: str, passage: int | None, token: int) -> None:
        def call() -> CodingScreen.DocumentLoaded:
            p = project_of(self)
            doc = p.corpus.document(number)
            return self.DocumentLoaded(doc, p.codings.document_codings(doc.number), passage, token)

        run_service(self, call, posted, group="coding-open")

    def load_concepts(self) -> None:
        def call() -> list[str]:
            tree = project_of(self).codebook.tree()
            names = [k.name for cat in tree.categories() for k in cat.concepts]
            return names + [k.name for k in tree.uncategorised]

        run_service(self, call, self.ConceptsLoaded, group="coding-concepts")

    def write(self, number: str, change: Callable[[Project], Change]) -> None:
        """Run one coding change, in the order made; the screen updates from what it returns.

        Only an undo or a redo re-reads the document's codings: the room says
        what it stepped in words, not as a coding.
        """

        def call() -> CodingsChanged:
            with self._write_lock:
                p = project_of(self)
                done = change(p)
                if isinstance(done, Stepped):
                    return CodingsChanged(number, done, p.codings.document_codings(number))
                return CodingsChanged(number, done)

        run_service(self, call, posted, group="coding-write", exclusive=False)

    def find_next(self, after: str | None, split: str | None) -> None:
        def call() -> CodingScreen.NextFound:
            found = project_of(self).codings.next_uncoded(after=after, split=split)
            return self.NextFound(found, split)

        run_service(self, call, posted, group="coding-next")

    def mark_done(self, number: str, undo: bool) -> None:
        """The acting coder's done mark (SPEC §1): read, and coded all they will."""

        def call() -> CodingScreen.DoneMarked:
            p = project_of(self)
            result = p.progress.done([number], undo=undo)
            upcoming = None if undo else p.progress.next_in_queue(after=number)
            return self.DoneMarked(result, upcoming)

        run_service(self, call, posted, group="coding-done")

    def find_in_queue(self, after: str | None) -> None:
        run_service(
            self,
            lambda: project_of(self).progress.next_in_queue(after=after),
            self.QueueNext,
            group="coding-queue",
        )

    def load_suggestions(self, number: str, passage: int) -> None:
        def call() -> CodingScreen.Suggested:
            found = project_of(self).analysis.suggest(number, passage=passage)
            return self.Suggested(number, passage, found)

        run_service(self, call, posted, group="coding-suggest")

    # -- results ---------------------------------------------------------
    @on(DocumentLoaded)
    def _document_loaded(self, message: DocumentLoaded) -> None:
        message.stop()
        if message.token == self._token:
            self._show_document(message.doc, message.codings, message.passage)

    @on(ConceptsLoaded)
    def _concepts_loaded(self, message: ConceptsLoaded) -> None:
        message.stop()
        self.concepts = list(message.names)

    @on(DoneMarked)
    def _done_message(self, message: DoneMarked) -> None:
        message.stop()
        self._done_marked(message.result, message.upcoming)

    @on(QueueNext)
    def _queue_next(self, message: QueueNext) -> None:
        message.stop()
        if message.number is None:
            self.notify(catalog_text("progress.queue_empty", language()))
        else:
            self.open(str(message.number))

    @on(Suggested)
    def _suggested(self, message: Suggested) -> None:
        message.stop()
        self._offer_suggestions(message.number, message.passage, message.found)

    @on(NextFound)
    def _next_found(self, message: NextFound) -> None:
        message.stop()
        found, split = message.found, message.split
        if found is None:
            self.notify(
                tr("没有未编码的片段了", "No uncoded passage left")
                if split is None
                else tr("检验集中没有未编码的片段了", "No uncoded holdout passage left")
            )
            if self.number is None:
                self.query_one("#doc-title", Static).update(
                    tr(
                        "没有可编码的文本；在语料屏幕(2)中选择一个文本",
                        "Nothing to code; pick a document in the corpus screen (2)",
                    )
                )
            return
        number, passage = found
        if number == self.number:
            self.query_one(PassageView).go_to(passage)
        else:
            self.open(number, passage)

    def _show_document(
        self, doc: DocumentView, codings: list[CodingView], passage: int | None
    ) -> None:
        self.doc, self.number, self.codings = doc, doc.number, codings
        # The coding keys are enabled only with a document (check_action): show them now,
        # not at whatever event happens to refresh the footer next.
        self.refresh_bindings()
        split = tr(*SPLIT[doc.split]) if doc.split in SPLIT else tr("未划分", "unsplit")
        status = "" if doc.status == "included" else tr(" · 已排除", " · excluded")
        title = Text.assemble(
            (doc.number, "bold"),
            f" · {shown(doc.type_name)} · {split}{status} · ",
            shown(doc.title or "", newlines=False),
        )
        self.query_one("#doc-title", Static).update(title)
        self.query_one(PassageView).load(doc.text, doc.passages, self._spans(), current_idx=passage)  # type: ignore[arg-type]
        self._refresh_list()

    def _mine(self) -> list[CodingView]:
        me = project_of(self).user
        if self.show_all:
            return list(self.codings)
        return [c for c in self.codings if c.coder == me]

    def _spans(self) -> list[Span]:
        return [Span(c.start, c.end, c.concept) for c in self._mine()]

    @on(CodingsChanged)
    def _saved(self, message: CodingsChanged) -> None:
        message.stop()
        stamp = datetime.now().strftime("%H:%M:%S")
        self.query_one("#saved", Static).update(tr(f"✓ 已保存 {stamp}", f"✓ saved {stamp}"))
        change = message.change
        if isinstance(change, Applied):
            concept = change.coding.concept
            app_of(self).remember_concept(concept)
            if concept not in self.concepts:
                self.concepts.append(concept)
            self._show_recent()
            self.notify(tr(f"已编码：{concept}", f"Coded: {concept}"), timeout=2)
        elif isinstance(change, Stepped):
            if change.result is None:
                self.notify(tr("没有可撤销/重做的操作", "Nothing to undo/redo"), severity="warning")
            else:
                verb = tr("已撤销", "Undone") if change.undo else tr("已重做", "Redone")
                self.notify(f"{verb}: {say(change.result.description, language())}", timeout=3)
        elif isinstance(change, MemoAdded):
            self.notify(tr("备忘录已保存", "Memo saved"), timeout=2)
        if message.number != self.number:
            return
        codings = self._updated(message)
        if codings is not None:
            self.codings = codings
            view = self.query_one(PassageView)
            view.set_spans(self._spans())
            self._refresh_list()

    def _updated(self, message: CodingsChanged) -> list[CodingView] | None:
        """The document's codings after ``message``; None when they did not change.

        An applied coding takes its place in text order (replacing itself when
        the room found it already there); a removed one leaves by id.
        """
        change = message.change
        if message.codings is not None:
            return list(message.codings)
        if isinstance(change, Applied):
            new = change.coding
            kept = [c for c in self.codings if c.id != new.id]
            key = (new.start, new.end, new.id)
            at = next((i for i, c in enumerate(kept) if (c.start, c.end, c.id) > key), len(kept))
            return [*kept[:at], new, *kept[at:]]
        if isinstance(change, Removed):
            return [c for c in self.codings if c.id != change.coding.id]
        return None

    # -- the side list and status ----------------------------------------
    def _refresh_list(self) -> None:
        view = self.query_one(PassageView)
        p = view.passage
        options = self.query_one("#codings", OptionList)
        previous = options.highlighted
        options.clear_options()
        if p is None:
            return
        here = [c for c in self._mine() if c.start < p.end and c.end > p.start]
        for c in here:
            swatch = Text("  ", style=Style(bgcolor=concept_colour(c.concept)))
            whole = c.start == p.start and c.end == p.end
            snippet = shown(" ".join(c.snippet.split()), newlines=False)
            detail = tr("整段", "whole passage") if whole else f"「{snippet}」"
            label = Text.assemble(
                swatch, " ", (shown(c.concept), "bold"), no_wrap=True, overflow="ellipsis"
            )
            second = Text("   " + detail, style="dim", no_wrap=True, overflow="ellipsis")
            if c.coder != project_of(self).user:
                second = Text(
                    f"   {shown(c.coder)} · {detail}",
                    style="dim italic",
                    no_wrap=True,
                    overflow="ellipsis",
                )
            label.append("\n")
            label.append_text(second)
            options.add_option(Option(label, id=str(c.id)))
        if not here:
            options.add_option(
                Option(Text(tr("（尚未编码）", "(not coded yet)"), style="dim"), disabled=True)
            )
        elif previous is not None and previous < len(here):
            options.highlighted = previous
        else:
            options.highlighted = 0
        self._show_where()

    def _show_where(self) -> None:
        view = self.query_one(PassageView)
        p = view.passage
        if p is None:
            return
        sel = view.selection
        where = tr(f"片段 {p.idx}/{len(view.passages)}", f"passage {p.idx}/{len(view.passages)}")
        if sel:
            where += tr(
                f" · 已选 {sel[1] - sel[0]} 字 ({sel[0]}–{sel[1]})",
                f" · selected {sel[1] - sel[0]} chars ({sel[0]}–{sel[1]})",
            )
        else:
            where += tr(
                " · 未选中：编码整段 (v 开始选择)", " · no selection: codes the passage (v selects)"
            )
        if self.show_all:
            where += tr(" · 显示全部编码人员", " · all coders shown")
        self.query_one("#where", Static).update(where)

    def _show_recent(self) -> None:
        recent = app_of(self).recent_concepts
        lines = [f"[b]{i}[/b] {escaped(name)}" for i, name in enumerate(recent, start=1)]
        self.query_one("#recent", Static).update(
            "\n".join(lines) if lines else tr("[dim]（还没有）[/dim]", "[dim](none yet)[/dim]")
        )

    @on(PassageView.Moved)
    def _moved(self, message: PassageView.Moved) -> None:
        self.query_one("#codings", OptionList).highlighted = None
        self._refresh_list()

    @on(PassageView.Selected)
    def _selected(self, message: PassageView.Selected) -> None:
        self._show_where()

    # -- actions ---------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_others":
            return app_of(self).is_lead
        if action in ("pick", "invivo", "remove", "memo", "suggest") and self.doc is None:
            return None
        return True

    def _target(self) -> dict[str, Any] | None:
        view = self.query_one(PassageView)
        p = view.passage
        if self.number is None or p is None:
            return None
        sel = view.selection
        if sel:
            return {"start": sel[0], "end": sel[1]}
        return {"passage": p.idx}

    def apply_concept(self, name: str, *, assisted: bool = False) -> None:
        """Apply ``name`` to the selection (or the whole current passage)."""
        target = self._target()
        if target is None or self.number is None:
            return
        self.query_one("#saved", Static).update(tr("保存中…", "saving…"))
        number = self.number
        self.write(
            number,
            lambda p: Applied(p.codings.apply(number, concept=name, assisted=assisted, **target)),
        )

    def action_pick(self) -> None:
        from groundcode.tui.widgets.code_picker import CodePicker

        def done(name: str | None) -> None:
            if name:
                self.apply_concept(name)

        self.app.push_screen(CodePicker(self.concepts), done)

    def action_recent(self, n: int) -> None:
        recent = app_of(self).recent_concepts
        if 0 < n <= len(recent):
            self.apply_concept(recent[n - 1])
        else:
            self.notify(tr(f"没有第 {n} 个最近概念", f"No recent concept {n}"), severity="warning")

    def action_invivo(self) -> None:
        view = self.query_one(PassageView)
        sel = view.selection
        if self.number is None:
            return
        if not sel:
            self.notify(
                tr(
                    "先选中几个字（v 或 shift+方向键）",
                    "Select some words first (v or shift+arrows)",
                ),
                severity="warning",
            )
            return
        self.query_one("#saved", Static).update(tr("保存中…", "saving…"))
        number, (start, end) = self.number, sel
        self.write(number, lambda p: Applied(p.codings.invivo(number, start=start, end=end)))

    def _highlighted_coding(self) -> CodingView | None:
        options = self.query_one("#codings", OptionList)
        if options.highlighted is None or not options.option_count:
            return None
        option_id = options.get_option_at_index(options.highlighted).id
        return next((c for c in self.codings if str(c.id) == option_id), None)

    def action_remove(self) -> None:
        coding = self._highlighted_coding()
        if coding is None or self.number is None:
            self.notify(
                tr("本片段没有可删除的编码", "No coding here to remove"), severity="warning"
            )
            return
        self.query_one("#saved", Static).update(tr("保存中…", "saving…"))
        coding_id = coding.id

        def remove(p: Project) -> Removed:
            return Removed(p.codings.remove(coding_id))

        self.write(self.number, remove)

    def action_memo(self) -> None:
        from groundcode.tui.screens.prompt import PromptScreen

        if self.number is None:
            return
        coding = self._highlighted_coding()
        number = self.number
        if coding is not None:
            kind, target = "coding", coding.id
            title = tr(
                f"为编码「{coding.concept}」写备忘录", f"Memo on the coding “{coding.concept}”"
            )
        else:
            kind, target = "document", number  # type: ignore[assignment]
            title = tr(f"为文本 {number} 写备忘录", f"Memo on document {number}")

        def done(text: str | None) -> None:
            if text:
                self.write(number, lambda p: MemoAdded(p.memos.add_memo(kind, target, text)))

        self.app.push_screen(PromptScreen(title), done)

    def action_done(self) -> None:
        if self.number is not None:
            self.mark_done(self.number, False)

    def action_not_done(self) -> None:
        if self.number is not None:
            self.mark_done(self.number, True)

    def action_next_in_queue(self) -> None:
        self.find_in_queue(self.number)

    def _done_marked(self, result: DoneResult, upcoming: str | None) -> None:
        key = "progress.undone" if result.undo else "progress.done"
        lines = [
            catalog_text(
                key,
                language(),
                coder=result.coder,
                changed=len(result.changed),
                unchanged=len(result.unchanged),
            )
        ]
        if upcoming is not None:
            lines.append(catalog_text("progress.next", language(), document=upcoming) + " (t)")
        elif not result.undo:
            lines.append(catalog_text("progress.queue_empty", language()))
        self.notify("\n".join(lines), markup=False)

    def action_next_uncoded(self) -> None:
        self.find_next(self.number, None)

    def action_next_holdout(self) -> None:
        self.find_next(None, "holdout")

    def action_undo(self) -> None:
        if self.number is not None:
            self.write(self.number, lambda p: Stepped(True, p.codings.undo()))

    def action_redo(self) -> None:
        if self.number is not None:
            self.write(self.number, lambda p: Stepped(False, p.codings.redo()))

    def action_suggest(self) -> None:
        p = self.query_one(PassageView).passage
        if self.number is None or p is None:
            return
        self.notify(tr("正在计算建议…", "Computing suggestions…"), timeout=2)
        self.load_suggestions(self.number, p.idx)

    def _offer_suggestions(self, number: str, passage: int, found: list[Suggestion]) -> None:
        from groundcode.tui.widgets.code_picker import CodePicker

        if number != self.number or not found:
            if not found:
                self.notify(tr("没有建议", "No suggestions"), severity="warning")
            return
        names = [str(f["concept"]) for f in found]
        notes = {str(f["concept"]): f"{float(f['score']):.2f}" for f in found}

        def done(name: str | None) -> None:
            if name:
                self.apply_concept(name, assisted=True)

        self.app.push_screen(
            CodePicker(
                names,
                title=tr(f"片段 {passage} 的建议概念", f"Suggestions for passage {passage}"),
                notes=notes,
                allow_new=False,
            ),
            done,
        )

    def action_toggle_others(self) -> None:
        self.show_all = not self.show_all
        self.query_one(PassageView).set_spans(self._spans())
        self._refresh_list()

    def action_goto(self) -> None:
        from groundcode.tui.screens.prompt import PromptScreen

        def done(number: str | None) -> None:
            if number:
                self.open(number)

        self.app.push_screen(
            PromptScreen(tr("文本编号（如 2-5）", "Document number (e.g. 2-5)")), done
        )
