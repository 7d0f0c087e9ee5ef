"""Read-only queries over codings: frequencies, co-occurrence, retrieval, coverage.

They read through the codings room's ``codings()`` frame (so blind mode
applies exactly as it does there) and the corpus's document texts; they
write nothing. ``Project`` hands the codings room in.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlmodel import col, func, select

from groundcode.coding.records import CodingView
from groundcode.domain.errors import BadOption
from groundcode.domain.levels import parse_level
from groundcode.domain.paging import PAGE_SIZE, Page
from groundcode.store.access import readable_coder_ids
from groundcode.store.context import Context
from groundcode.store.tables import Document, Passage

if TYPE_CHECKING:
    import pandas as pd

    from groundcode.coding.service import CodingService


@dataclass(frozen=True)
class Segment:
    """One coded segment with the text around it (a row of ``retrieve``)."""

    coding: CodingView
    before: str
    text: str
    after: str


def _level_column(level: str) -> str:
    """The codings-frame column of a level the user named (``main``, ``主范畴``, ...)."""
    return str(parse_level(level))


class QueryService:
    def __init__(self, ctx: Context, codings: CodingService) -> None:
        self.ctx = ctx
        self.codings = codings

    def frequencies(
        self, *, by: str = "type", level: str = "concept", coders: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """Code frequencies (codings and distinct documents) by source type or split."""
        if by not in ("type", "split", "coder"):
            raise BadOption(option="by", value=by, allowed="type, split, coder")
        column = _level_column(level)
        frame = self.codings.codings(coders=coders)
        if frame.empty:
            import pandas as pd

            return pd.DataFrame(columns=[column, by, "codings", "documents"])
        grouped = frame.groupby([column, by], dropna=False).agg(
            codings=("id", "size"), documents=("document", "nunique")
        )
        return grouped.reset_index().sort_values([column, by]).reset_index(drop=True)

    def cooccurrence(
        self, *, level: str = "concept", coders: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """Passage-level co-occurrence: how many passages carry both codes (square frame)."""
        import pandas as pd

        column = _level_column(level)
        frame = self.codings.codings(coders=coders)
        frame = frame.dropna(subset=[column])
        if frame.empty:
            return pd.DataFrame()
        import numpy as np
        from scipy import sparse

        # A sparse passage x code incidence matrix; co-occurrence is its Gram matrix.
        unit_names = [f"{d}#{p}" for d, p in zip(frame["document"], frame["passage"], strict=True)]
        units = pd.factorize(pd.Series(unit_names, dtype=object))[0]
        codes, labels = pd.factorize(frame[column], sort=True)
        m = sparse.csr_matrix(
            (np.ones(len(units), dtype=np.int64), (units, codes)),
            shape=(int(units.max()) + 1, len(labels)),
        )
        m.data[:] = 1  # duplicates summed on construction: back to presence
        co = (m.T @ m).toarray()
        names = [str(x) for x in labels]
        return pd.DataFrame(
            co, index=pd.Index(names, name=column), columns=pd.Index(names, name=column)
        )

    def retrieve(
        self,
        code: str,
        *,
        level: str = "concept",
        context: int = 30,
        coders: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Every coded segment of a code with some text around it."""
        column = _level_column(level)
        frame = self.codings.codings(coders=coders)
        frame = frame[frame[column] == code].copy()
        if frame.empty:
            return frame.assign(before=[], after=[])
        texts = self._document_texts(frame["document"].unique().tolist())
        frame["before"] = [
            texts[d][max(0, a - context) : a]
            for d, a in zip(frame["document"], frame["start"], strict=True)
        ]
        frame["after"] = [
            texts[d][b : b + context] for d, b in zip(frame["document"], frame["end"], strict=True)
        ]
        return frame.reset_index(drop=True)

    def retrieve_page(
        self,
        code: str,
        *,
        level: str = "concept",
        context: int = 30,
        coders: Sequence[str] | None = None,
        offset: int = 0,
        limit: int = PAGE_SIZE,
    ) -> Page[Segment]:
        """Rows ``offset`` .. ``offset + limit`` of ``retrieve(...)``, in the same order.

        The page of codings comes from the paged segment read; the text around
        each is cut from its document, read for the page's documents only.
        """
        page = self.codings.segments_page(
            code, level=level, coders=coders, offset=offset, limit=limit
        )
        texts = self._document_texts({c.document for c in page.items})
        items = tuple(
            Segment(
                c,
                texts[c.document][max(0, c.start - context) : c.start],
                c.snippet,
                texts[c.document][c.end : c.end + context],
            )
            for c in page.items
        )
        return Page(items, page.offset, page.limit, page.has_more)

    def _document_texts(self, numbers: Collection[str]) -> dict[str, str]:
        """The full text of each numbered document, for cutting context around segments.

        ``retrieve`` and ``retrieve_page`` both read only the documents their
        segments are in; no numbers means no query.
        """
        if not numbers:
            return {}
        with self.ctx.db.read() as s:
            return dict(
                s.execute(
                    select(Document.number, Document.text).where(col(Document.number).in_(numbers))
                ).all()
            )

    def coverage(self, *, coders: Sequence[str] | None = None) -> pd.DataFrame:
        """Share of each document's passages coded, per coder."""
        import pandas as pd

        frame = self.codings.codings(coders=coders)
        with self.ctx.db.read() as s:
            totals: dict[str, int] = {
                number: int(n)
                for number, n in s.execute(
                    select(Document.number, func.count(col(Passage.id)))
                    .join(Passage, col(Passage.document_id) == Document.id)
                    .group_by(col(Document.number))
                ).all()
            }
        if frame.empty:
            return pd.DataFrame(columns=["document", "coder", "coded", "passages", "coverage"])
        got = (
            frame.dropna(subset=["passage"])
            .groupby(["document", "coder"])["passage"]
            .nunique()
            .reset_index(name="coded")
        )
        got["passages"] = got["document"].map(totals).astype(int)
        got["coverage"] = (got["coded"] / got["passages"]).round(4)
        return got

    def progress(self) -> pd.DataFrame:
        """Per coder: codings, documents and passages coded (blind mode applies)."""
        from groundcode.store.raw import fetch_frame, id_list

        with self.ctx.db.read() as s:
            visible = readable_coder_ids(s, self.ctx.actor)
            where = f"WHERE c.coder_id IN {id_list(visible)} " if visible is not None else ""
            return fetch_frame(
                s,
                "SELECT co.name, count(c.id), count(DISTINCT c.document_id), count(DISTINCT c.passage_id) "
                f"FROM coding c JOIN coder co ON co.id = c.coder_id {where}GROUP BY co.name ORDER BY co.name",
                ["coder", "codings", "documents", "passages"],
            )
