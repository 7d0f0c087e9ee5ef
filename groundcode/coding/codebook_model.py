"""The codebook room, selective coding: the core category, the storyline, the model's edges.

An edge names its nodes by kind and name (``domain.model.Edge``/``NodeRef``);
renames and merges repoint the edges (``_repoint_edges``), deletes leave them
dangling and ``model().problems`` names them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel import Session, func, select

from groundcode.coding.codebook_yaml import (
    Unresolved,
    clean_text,
    resolve_node,
)
from groundcode.coding.codes import clean_name
from groundcode.coding.views import (
    EdgeView,
    ModelView,
)
from groundcode.domain.errors import (
    BlindHidden,
    Forbidden,
    NotFound,
)
from groundcode.domain.levels import NODE_KINDS
from groundcode.domain.model import Edge, NodeRef
from groundcode.store.edges import edge_of, new_row, store_edge
from groundcode.store.settings import get_setting
from groundcode.store.tables import (
    ModelEdge,
)

if TYPE_CHECKING:
    pass

from groundcode.coding.codebook_base import WORDS, _Book
from groundcode.coding.codebook_tree import CodebookReads


class CodebookModel(CodebookReads):
    def set_core(self, name: str, definition: str | None = None) -> None:
        """Name the core category (edges naming the old core follow); None keeps the definition."""

        def work(session: Session) -> None:
            self._require_structure(session, "setting the core category")
            new = clean_name(name, "core")
            old = get_setting(session, "core_category")
            if new != old:
                self._set(session, "core_category", new)
                if old:
                    self._repoint_edges(session, "core", old, "core", new)
            text = clean_text(definition)
            if text is not None and text != get_setting(session, "core_definition"):
                self._set(session, "core_definition", text)

        self.ctx.db.run(work)

    def set_storyline(self, text: str | None) -> None:
        def work(session: Session) -> None:
            self._require_structure(session, "writing the storyline")
            value = clean_text(text) or ""
            if value != get_setting(session, "storyline"):
                self._set(session, "storyline", value)

        self.ctx.db.run(work)

    def add_edge(self, from_: str, to: str, label: str | None = None) -> EdgeView:
        """Add a model edge; endpoints are node names, prefixed (``category:X``) when ambiguous."""

        def work(session: Session) -> EdgeView:
            self._require_structure(session, "changing the model")
            names = _Book.load(session).node_names(get_setting(session, "core_category") or None)
            ends: list[NodeRef] = []
            for text in (from_, to):
                ref = resolve_node(text, names)
                if isinstance(ref, Unresolved):
                    raise ref.error()
                ends.append(ref)
            edge = Edge(ends[0], ends[1], clean_text(label))
            row = new_row(edge, position=self._next_edge_position(session))
            session.add(row)
            session.flush()
            self._audit(session, "edge.create", "model_edge", row.id, after=edge.to_json())
            return _edge_view(row)

        return self.ctx.db.run(work)

    def remove_edge(self, edge_id: int) -> None:
        def work(session: Session) -> None:
            self._require_structure(session, "changing the model")
            row = session.get(ModelEdge, edge_id)
            if row is None:
                raise NotFound(kind="edge", name=str(edge_id))
            self._audit(session, "edge.delete", "model_edge", row.id, before=edge_of(row).to_json())
            session.delete(row)

        self.ctx.db.run(work)

    def edges(self) -> list[EdgeView]:
        with self.ctx.db.read() as session:
            book = _Book.load(session)
            names = book.node_names(get_setting(session, "core_category") or None)
            return [_edge_view(e, names=names) for e in self._edge_rows(session)]

    def model(self, *, coder_ids: list[int] | None = None) -> ModelView:
        """Core, storyline, the axial tree and the edges, with problems named.

        The model is structure, so it is never refused: when the acting user may
        not read codings (blind mode, nobody acting) the counts in the tree are 0.
        """
        with self.ctx.db.read() as session:
            try:
                counts = self._counts(session, self._visible(session, coder_ids))
            except (BlindHidden, Forbidden):
                if coder_ids is not None:
                    raise
                counts = {}
            book = _Book.load(session)
            tree = self._tree(book, counts)
            core = get_setting(session, "core_category") or None
            names = book.node_names(core)
            edges = tuple(_edge_view(e, names=names) for e in self._edge_rows(session))
            return ModelView(
                core=core,
                core_definition=get_setting(session, "core_definition") or None,
                storyline=get_setting(session, "storyline") or None,
                relation_classes=tree.relation_classes,
                edges=edges,
                problems=tuple(self._problems(session, book)),
            )

    # -- edge helpers ---------------------------------------------------------
    @staticmethod
    def _edge_rows(session: Session) -> list[ModelEdge]:
        rows = session.exec(select(ModelEdge)).all()
        return sorted(rows, key=lambda e: (e.position, e.id or 0))

    @staticmethod
    def _next_edge_position(session: Session) -> int:
        return int(session.exec(select(func.coalesce(func.max(ModelEdge.position), 0))).one()) + 1

    def _problems(self, session: Session, book: _Book) -> list[str]:
        names = book.node_names(get_setting(session, "core_category") or None)
        out: list[str] = []
        for e in self._edge_rows(session):
            edge = edge_of(e)
            for ref in edge.ends:
                if ref.name not in names.get(ref.kind, set()):
                    out.append(
                        f"edge {e.id} ({edge.describe()}): "
                        f"{WORDS.get(ref.kind, ref.kind)} '{ref.name}' no longer exists"
                    )
        return out

    def _repoint_edges(
        self, session: Session, old_kind: str, old: str, new_kind: str, new: str
    ) -> list[int]:
        """Point every edge end naming (old_kind, old) at (new_kind, new); returns edge ids."""
        if old_kind not in NODE_KINDS:
            return []
        touched: list[int] = []
        was, now = NodeRef(old_kind, old), NodeRef(new_kind, new)
        for e in self._edge_rows(session):
            edge = edge_of(e)
            if was in edge.ends:
                store_edge(e, edge.repointed(was, now))
                session.add(e)
                assert e.id is not None
                touched.append(e.id)
        return touched


def _edge_view(e: ModelEdge, *, names: dict[str, set[str]] | None = None) -> EdgeView:
    """The view of a stored edge; ``names`` (kind -> names) decides whether it dangles."""
    assert e.id is not None
    edge = edge_of(e)
    return EdgeView(e.id, edge, e.position, names is not None and edge.dangling(names))
