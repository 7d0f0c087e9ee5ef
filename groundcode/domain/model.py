"""The selective-coding model's one edge type.

A node is addressed by kind and name (``NodeRef``), so the YAML codebook, the
database row, the codebook service, the renderers and the TUI all speak of the
same edge: ``Edge(source, target, label)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from groundcode.domain.vocab import NodeKind


@dataclass(frozen=True)
class NodeRef:
    """A model node: ``kind`` is one of ``levels.NODE_KINDS``."""

    kind: str
    name: str

    def __post_init__(self) -> None:
        # Kept a plain string, so files and JSON written from it never see an enum.
        object.__setattr__(self, "kind", str(self.kind))

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


@dataclass(frozen=True)
class Edge:
    """A directed, labelled edge between two model nodes."""

    source: NodeRef
    target: NodeRef
    label: str | None = None

    def describe(self) -> str:
        label = f" [{self.label}]" if self.label else ""
        return f"{self.source} -> {self.target}{label}"

    @property
    def ends(self) -> tuple[NodeRef, NodeRef]:
        return (self.source, self.target)


__all__ = ["Edge", "NodeKind", "NodeRef"]
