"""The selective-coding model's one edge type.

A node is addressed by kind and name (``NodeRef``), so the YAML codebook, the
database row, the codebook service, the renderers and the TUI all speak of the
same edge: ``Edge(source, target, label)``.
"""

from __future__ import annotations

from collections.abc import Sequence
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

    def flat(self) -> tuple[str, str, str, str, str | None]:
        """(from kind, from name, to kind, to name, label): the row's and the project facts' order."""
        return (self.source.kind, self.source.name, self.target.kind, self.target.name, self.label)

    @classmethod
    def from_flat(cls, values: Sequence[str | None]) -> Edge:
        """The edge ``flat()`` gave (a stored row, a list in a project-facts file)."""
        from_kind, from_name, to_kind, to_name, label = values
        return cls(
            NodeRef(str(from_kind), str(from_name)), NodeRef(str(to_kind), str(to_name)), label
        )

    def to_json(self) -> dict[str, str | None]:
        """The edge as the audit log keeps it (``{"from": "kind:name", "to": ..., "label": ...}``)."""
        return {"from": str(self.source), "to": str(self.target), "label": self.label}

    def repointed(self, old: NodeRef, new: NodeRef) -> Edge:
        """This edge with every end naming ``old`` naming ``new`` (a rename or a merge)."""
        source = new if self.source == old else self.source
        target = new if self.target == old else self.target
        return Edge(source, target, self.label)

    def dangling(self, names: dict[str, set[str]]) -> bool:
        """Whether an end names a node missing from ``names`` (kind -> names)."""
        return any(ref.name not in names.get(ref.kind, set()) for ref in self.ends)


__all__ = ["Edge", "NodeKind", "NodeRef"]
