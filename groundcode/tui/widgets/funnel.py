"""The corpus funnel as a table: imported -> excluded by reason -> included -> split.

It is the first thing a lead checks and the numbers a methods section
reports, so every number comes straight from ``CorpusService.funnel()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from groundcode.tui.i18n import tr
from groundcode.tui.widgets.table import SafeTable

if TYPE_CHECKING:
    from groundcode.corpus.views import Funnel

EXCLUSION_LABELS: dict[str, tuple[str, str]] = {
    "duplicate": ("重复", "dup"),
    "irrelevant": ("无关", "irrel"),
    "no_substance": ("无实质", "empty"),
    "out_of_range": ("超出时间", "dates"),
    "not_sampled": ("未抽中", "unsampled"),
    "manual": ("人工排除", "manual"),
}


class FunnelTable(SafeTable):
    """One row per source type plus a total row."""

    DEFAULT_CSS = """
    FunnelTable {
        height: auto;
        max-height: 12;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.kinds: list[str] = []

    def load_funnel(self, funnel: Funnel) -> None:
        """Show ``funnel`` (the dict of ``CorpusService.funnel()``)."""
        self.clear(columns=True)
        excluded: dict[str, int] = funnel.get("excluded", {})
        self.kinds = [k for k, n in excluded.items() if n]
        self.add_column(tr("文本来源", "Source type"), key="type")
        self.add_column(tr("导入", "Imported"), key="documents")
        for kind in self.kinds:
            zh, en = EXCLUSION_LABELS.get(kind, (kind, kind))
            self.add_column(tr(f"−{zh}", f"−{en}"), key=f"x:{kind}")
        self.add_column(tr("纳入", "Incl."), key="included")
        self.add_column(tr("建模集", "Build"), key="build")
        self.add_column(tr("检验集", "Holdout"), key="holdout")
        for slug, entry in funnel.get("by_type", {}).items():
            name = entry.get("name") if self.app_language() == "zh" else slug
            row = [f"{entry.get('id', '')} {name}", entry.get("documents", 0)]
            row += [entry.get("excluded", {}).get(k, 0) for k in self.kinds]
            row += [entry.get("included", 0), entry.get("build", 0), entry.get("holdout", 0)]
            self.add_row(*row, key=slug)
        total = [tr("合计", "Total"), funnel.get("documents", 0)]
        total += [excluded.get(k, 0) for k in self.kinds]
        split = funnel.get("by_split", {})
        total += [funnel.get("included", 0), split.get("build", 0), split.get("holdout", 0)]
        self.add_row(*total, key="__total__")

    @staticmethod
    def app_language() -> str:
        from groundcode.tui.i18n import language

        return language()
