"""A model edge between its row and the domain ``Edge``: the one conversion.

The ``model_edge`` table keeps an edge's two ends as four columns; every room
that reads or writes it (the codebook's model and files, the interchange)
converts through here, so an edge is never passed around as loose columns,
tuples or dicts.
"""

from __future__ import annotations

from groundcode.domain.model import Edge
from groundcode.store.tables import ModelEdge


def edge_of(row: ModelEdge) -> Edge:
    """The domain edge a row stores."""
    return Edge.from_flat((row.from_kind, row.from_name, row.to_kind, row.to_name, row.label))


def new_row(edge: Edge, *, position: int) -> ModelEdge:
    """A row for ``edge`` at ``position`` (not yet added to a session)."""
    from_kind, from_name, to_kind, to_name, label = edge.flat()
    return ModelEdge(
        from_kind=from_kind,
        from_name=from_name,
        to_kind=to_kind,
        to_name=to_name,
        label=label,
        position=position,
    )


def store_edge(row: ModelEdge, edge: Edge) -> None:
    """Write ``edge``'s ends and label into ``row`` (a repointed or relabelled edge)."""
    row.from_kind, row.from_name, row.to_kind, row.to_name, row.label = edge.flat()
