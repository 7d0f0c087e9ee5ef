"""groundcode: a terminal workbench for grounded-theory research.

``from groundcode import Project`` is the entry point for scripts and notebooks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from groundcode.project import Project

__all__ = ["Project", "__version__"]


def __getattr__(name: str) -> Any:
    # Deferred so that ``import groundcode`` stays cheap for the CLI and the TUI.
    if name == "Project":
        from groundcode.project import Project

        return Project
    raise AttributeError(name)
