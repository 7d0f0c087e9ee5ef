"""The saturation curve as PNG or SVG, with Chinese labels that render.

Font choice: a CJK font installed on the machine (Noto Sans CJK, Source Han,
WenQuanYi, SimHei, Microsoft YaHei, PingFang), else the Noto Sans CJK file
shipped by the ``mplfonts`` package (a dependency). If neither is there the
labels fall back to English and the caller is told why, rather than drawing
boxes in place of characters. SVG keeps text as text (``svg.fonttype=none``)
so the reader's own fonts render it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from groundcode.domain.errors import BadOption, Refused
from groundcode.exports.safety import atomic_output

if TYPE_CHECKING:
    from groundcode.analysis.saturation import SaturationReport

CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Heiti SC",
    "Droid Sans Fallback",
)


def cjk_font() -> Any | None:
    """A matplotlib FontProperties able to draw Chinese, or None."""
    from matplotlib import font_manager

    names = {f.name: f.fname for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in names:
            return font_manager.FontProperties(fname=names[family])
    try:
        import mplfonts

        shipped = Path(mplfonts.__file__).parent / "fonts" / "NotoSansCJKsc-Regular.otf"
        if shipped.is_file():
            return font_manager.FontProperties(fname=str(shipped))
    except ImportError:
        pass
    return None


def saturation_curve(report: SaturationReport, path: Path, *, force: bool = False) -> Path:
    """Cumulative distinct concepts and categories over documents in the order judged, with
    the Guest saturation point (dotted), confirmation point (dashed) and, when the report
    has permutations, the 5-95% band of the saturation point over the random orders."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    suffix = path.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise BadOption(option="output", value=str(path), allowed=".png, .svg")
    if not report.curve:
        raise Refused("nothing_to_plot")
    font = cjk_font()
    zh = font is not None
    xs = [p.index for p in report.curve]
    fig, ax = plt.subplots(figsize=(7.5, 4.2), dpi=150)
    try:
        ax.plot(
            xs,
            [p.cumulative_concepts for p in report.curve],
            marker="o",
            ms=3,
            label="累计初始概念 concepts" if zh else "concepts (cumulative)",
        )
        ax.plot(
            xs,
            [p.cumulative_categories for p in report.curve],
            marker="s",
            ms=3,
            label="累计初步范畴 categories" if zh else "categories (cumulative)",
        )
        g = report.guest
        band = g.permutations
        if band is not None and band.p5 is not None and band.p95 is not None:
            # Where the saturation point falls over K random orders: the 5-95% band, the median.
            ax.axvspan(
                band.p5,
                max(band.p95, band.p5 + 0.5),
                color="tab:green",
                alpha=0.15,
                label=(
                    f"{band.k} 个随机顺序的饱和点 5-95% random orders"
                    if zh
                    else f"saturation point over {band.k} random orders (5-95%)"
                ),
            )
            if band.median is not None:
                ax.axvline(band.median, color="tab:green", ls=":", lw=1)
        if g.saturation_point:
            ax.axvline(g.saturation_point, color="grey", ls=":", lw=1)
        if g.confirmed_at:
            ax.axvline(g.confirmed_at, color="grey", ls="--", lw=1)
            ax.annotate(
                f"Guest et al. ({g.base}, {g.run}, {g.threshold:.0%}): "
                f"{g.saturation_point} / {g.confirmed_at}",
                (g.confirmed_at, 0),
                xytext=(4, 8),
                textcoords="offset points",
                fontsize=8,
                color="grey",
            )
        kw = {"fontproperties": font} if font is not None else {}
        ax.set_xlabel(
            "文本（按判定顺序）documents in the order judged"
            if zh
            else "documents in the order judged",
            **kw,
        )
        ax.set_ylabel("数量 count" if zh else "count", **kw)
        ax.set_title("理论饱和度曲线 saturation curve" if zh else "saturation curve", **kw)
        ax.legend(prop=font) if font is not None else ax.legend()
        ax.grid(alpha=0.3)
        fig.tight_layout()
        with (
            atomic_output(path, force=force) as tmp,
            matplotlib.rc_context({"svg.fonttype": "none"}),
        ):
            fig.savefig(tmp, format=suffix[1:])
    finally:
        plt.close(fig)
    return path
