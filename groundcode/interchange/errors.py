"""The typed error of REFI-QDA reading and writing (its words are in ``interchange.po``)."""

from __future__ import annotations

from dataclasses import dataclass

from groundcode.domain.errors import FileProblem


@dataclass(eq=False)
class ArchiveRefused(FileProblem):
    """A ``.qdpx``/``.qdc`` file refused, read or written: ``reason`` is a catalog id
    (``reason.<id>``) whose words use ``detail`` and, where they need them, ``name``
    (a member, code or key), ``ref`` (what it refers to), ``cause`` (the underlying
    library's message, verbatim) and ``limit`` (a size or depth)."""
